package layers

import (
	"fmt"
	"math"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalizes the last axis: (x − mean)/sqrt(var + eps)·weight + bias,
// with the biased variance, as torch.nn.LayerNorm.
type LayerNorm struct {
	W, B *G.Node
	Eps  float64
}

// NewLayerNorm creates name.weight (ones) and name.bias (zeros) of size d.
func NewLayerNorm(b *Builder, name string, d int, eps float64) *LayerNorm {
	return &LayerNorm{W: b.Param(name+".weight", Const(1), d), B: b.Param(name+".bias", Const(0), d), Eps: eps}
}

// Fwd normalizes x [..., d].
func (l *LayerNorm) Fwd(b *Builder, x *G.Node) *G.Node {
	return b.apply(normK{eps: l.Eps}, x, l.W, l.B)
}

// RMSNorm is x/sqrt(mean(x²) + eps)·weight over the last axis (NeoBERT).
type RMSNorm struct {
	W   *G.Node
	Eps float64
}

// NewRMSNorm creates name.weight (ones) of size d.
func NewRMSNorm(b *Builder, name string, d int, eps float64) *RMSNorm {
	return &RMSNorm{W: b.Param(name+".weight", Const(1), d), Eps: eps}
}

// Fwd normalizes x [..., d].
func (l *RMSNorm) Fwd(b *Builder, x *G.Node) *G.Node {
	return b.apply(normK{eps: l.Eps, rms: true}, x, l.W)
}

// normK is LayerNorm (inputs x, weight, bias) or RMSNorm (x, weight) over
// the last axis. Row statistics are accumulated in float64.
type normK struct {
	eps float64
	rms bool
}

func (k normK) String() string {
	if k.rms {
		return fmt.Sprintf("rmsnorm(eps=%g)", k.eps)
	}
	return fmt.Sprintf("layernorm(eps=%g)", k.eps)
}

func (k normK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	d := x[x.Dims()-1]
	for _, p := range in[1:] {
		if p.Dims() != 1 || p[0] != d {
			return nil, fmt.Errorf("parameter %v does not match x %v", p, x)
		}
	}
	return x.Clone(), nil
}

func (k normK) forward(a *kargs) {
	byType(a.dt, normFwd[float32], normFwd[float64])(k, a)
}

func (k normK) backward(a *kargs) {
	byType(a.dt, normBwd[float32], normBwd[float64])(k, a)
}

// writesGrad: normBwd stores the gradient of x at every step; those of
// the weight and bias are sums into zeros.
func (normK) writesGrad(i int) bool { return i == 0 }

// rowStats returns the mean (0 for RMSNorm) and 1/sqrt(var + eps) of a
// row, summed in float64 in order.
func rowStats[T float](k normK, row []T) (mu, rstd float64) {
	d := float64(len(row))
	if !k.rms {
		for _, v := range row {
			mu += float64(v)
		}
		mu /= d
	}
	var ss float64
	for _, v := range row {
		c := float64(v) - mu
		ss += c * c
	}
	return mu, 1 / math.Sqrt(ss/d+k.eps)
}

// rowStats4 is rowStats of the four rows of x, d elements each, walked
// together: four independent chains of sums that the CPU overlaps, each
// the same numbers as rowStats.
func rowStats4[T float](k normK, x []T, d int) (mu, rstd [4]float64) {
	x0, x1, x2, x3 := x[:d], x[d:2*d], x[2*d:3*d], x[3*d:4*d]
	var m0, m1, m2, m3 float64
	if !k.rms {
		for j, v := range x0 {
			m0 += float64(v)
			m1 += float64(x1[j])
			m2 += float64(x2[j])
			m3 += float64(x3[j])
		}
		fd := float64(d)
		m0, m1, m2, m3 = m0/fd, m1/fd, m2/fd, m3/fd
	}
	var s0, s1, s2, s3 float64
	for j, v := range x0 {
		c0, c1, c2, c3 := float64(v)-m0, float64(x1[j])-m1, float64(x2[j])-m2, float64(x3[j])-m3
		s0 += c0 * c0
		s1 += c1 * c1
		s2 += c2 * c2
		s3 += c3 * c3
	}
	mu = [4]float64{m0, m1, m2, m3}
	for i, ss := range [4]float64{s0, s1, s2, s3} {
		rstd[i] = 1 / math.Sqrt(ss/float64(d)+k.eps)
	}
	return mu, rstd
}

// rowStats8 is rowStats of the eight rows of x, d elements each: float32
// rows whose d is a multiple of 4 run in the lanes of two AVX2 chains
// (vec.RowStats8, bitwise the same sums), other rows as two rowStats4.
func rowStats8[T float](k normK, x []T, d int) (mu, rstd [8]float64) {
	if x32, ok := any(x).([]float32); ok && useAVX2 && d%4 == 0 {
		_ = x32[8*d-1] // the bound the assembly relies on
		var ss [8]float64
		vec.RowStats8(&x32[0], d, k.rms, &mu, &ss)
		for i, s := range ss {
			rstd[i] = 1 / math.Sqrt(s/float64(d)+k.eps)
		}
		return mu, rstd
	}
	m0, r0 := rowStats4(k, x[:4*d], d)
	m1, r1 := rowStats4(k, x[4*d:8*d], d)
	copy(mu[:4], m0[:])
	copy(mu[4:], m1[:])
	copy(rstd[:4], r0[:])
	copy(rstd[4:], r1[:])
	return mu, rstd
}

func normFwd[T float](k normK, a *kargs) {
	x, w, y := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out)
	var bias []T
	if !k.rms {
		bias = data[T](a.in[2])
	}
	d := len(w)
	normRows(k, a, len(x)/d, w, bias, y, 0, func(r, n int, _ []T) []T { return x[r*d : (r+n)*d] })
}

// normRows runs a norm's forward pass over rows rows of d = len(w)
// elements into y: rowsOf(r, n, work) returns the input's real rows
// r..r+n−1 (n 1, 4 or 8), where they lie or formed in work (work elements
// per goroutine); eight or four rows at a time share rowStats8's or
// rowStats4's chains.
func normRows[T float](k normK, a *kargs, rows int, w, bias, y []T, work int, rowsOf func(r, n int, work []T) []T) {
	d := len(w)
	clearPadding(a.rows, y)
	parallelRows(a.rows, rows, func(lo, hi int) {
		buf := make([]T, work)
		r := lo
		for ; r+8 <= hi; r += 8 {
			x := rowsOf(r, 8, buf)
			mu, rstd := rowStats8(k, x, d)
			for i := range 8 {
				normRow(x[i*d:(i+1)*d], w, bias, y[(r+i)*d:(r+i+1)*d], mu[i], rstd[i])
			}
		}
		for ; r+4 <= hi; r += 4 {
			x := rowsOf(r, 4, buf)
			mu, rstd := rowStats4(k, x, d)
			for i := range 4 {
				normRow(x[i*d:(i+1)*d], w, bias, y[(r+i)*d:(r+i+1)*d], mu[i], rstd[i])
			}
		}
		for ; r < hi; r++ {
			x := rowsOf(r, 1, buf)
			mu, rstd := rowStats(k, x[:d])
			normRow(x[:d], w, bias, y[r*d:(r+1)*d], mu, rstd)
		}
	})
}

// normRow sets y = (x − mu)·rstd·w + b (b nil: no bias), each element in
// float64 and rounded to T. float32 rows run eight at a time with AVX2
// (vec.Norm), operation by operation the same.
func normRow[T float](x, w, b, y []T, mu, rstd float64) {
	d := len(w)
	x, y = x[:d], y[:d]
	j := 0
	if x32, ok := any(x).([]float32); ok && useAVX2 && d >= 8 {
		j = d &^ 7
		var bp *float32
		if b != nil {
			bp = &any(b).([]float32)[0]
		}
		vec.Norm(&x32[0], &any(w).([]float32)[0], bp, &any(y).([]float32)[0], j, mu, rstd)
	}
	for ; j < d; j++ {
		v := (float64(x[j]) - mu) * rstd * float64(w[j])
		if b != nil {
			v += float64(b[j])
		}
		y[j] = T(v)
	}
}

// normBlock is the number of rows whose parameter gradients are summed
// together before the blocks are summed in order: a fixed split, so the
// result does not depend on the number of cores. Padded rows (kargs.rows)
// are skipped inside their blocks: they would add exact zeros, so the sums
// are the same.
const normBlock = 64

func normBwd[T float](k normK, a *kargs) {
	x, w, gy, gx := data[T](a.in[0]), data[T](a.in[1]), data[T](a.gout), data[T](a.grads[0])
	var gb []T
	if !k.rms {
		gb = data[T](a.grads[2])
	}
	d := len(w)
	clearPadding(a.rows, gx)
	normGrads(a, len(x)/d, d, data[T](a.grads[1]), gb, 0, func(r, n int, hat, pw, pb []float64, _ []T) {
		normGradRows(k, x, w, gy, gx, hat, pw, pb, r, n)
	})
}

// normGrads runs a norm's backward pass over rows rows of d elements in
// blocks of normBlock rows: rowGrads(r, n, hat, pw, pb, work) adds the
// terms of real rows r..r+n−1 (n 1 or 4) to their block's parameter sums
// pw and pb and stores their input gradients, with hat (4·d) and work
// (work elements) as working rows; then the blocks' sums are added in
// order into gw and gb (nil: not wanted).
func normGrads[T float](a *kargs, rows, d int, gw, gb []T, work int, rowGrads func(r, n int, hat, pw, pb []float64, work []T)) {
	blocks := (rows + normBlock - 1) / normBlock
	// Per block: Σ gy·x̂ (first d) and Σ gy (next d), in float64.
	part := scratchOf[float64](a, 0, blocks*2*d)
	parallelFor(blocks, func(lo, hi int) {
		hat := make([]float64, 4*d)
		rowsWork := make([]T, work)
		for blk := lo; blk < hi; blk++ {
			pw, pb := part[blk*2*d:blk*2*d+d], part[blk*2*d+d:(blk+1)*2*d]
			clear(pw)
			clear(pb)
			end := min((blk+1)*normBlock, rows)
			for r := blk * normBlock; r < end; {
				if !a.rows.real(r) {
					r++
					continue
				}
				n := 1
				if r+4 <= end && a.rows.real(r+1) && a.rows.real(r+2) && a.rows.real(r+3) {
					n = 4
				}
				rowGrads(r, n, hat, pw, pb, rowsWork)
				r += n
			}
		}
	})
	for j := 0; j < d; j++ {
		var sw, sb float64
		for blk := 0; blk < blocks; blk++ {
			sw += part[blk*2*d+j]
			sb += part[blk*2*d+d+j]
		}
		if gw != nil {
			gw[j] += T(sw)
		}
		if gb != nil {
			gb[j] += T(sb)
		}
	}
}

// normGradRows adds rows r..r+n−1's terms (n 1 or 4) to a block's
// parameter sums pw and pb, element by element in row order, and stores
// their input gradients in gx (when wanted), with hat (4·d) as working
// rows. Four rows are walked together: their own sums (mg, mgx) are
// independent chains, which the CPU overlaps.
func normGradRows[T float](k normK, x, w, gy, gx []T, hat, pw, pb []float64, r, n int) {
	d := len(w)
	var mg, mgx [4]float64
	var mu, rstd [4]float64
	if n == 1 {
		mu[0], rstd[0] = rowStats(k, x[r*d:(r+1)*d])
		xr, gr, h := x[r*d:(r+1)*d], gy[r*d:(r+1)*d], hat[:d]
		var sg, sgx float64
		for j, xv := range xr {
			hj := (float64(xv) - mu[0]) * rstd[0]
			h[j] = hj
			g := float64(gr[j])
			pw[j] += g * hj
			pb[j] += g
			g *= float64(w[j])
			sg += g
			sgx += g * hj
		}
		mg[0], mgx[0] = sg, sgx
	} else {
		mu, rstd = rowStats4(k, x[r*d:(r+4)*d], d)
		x0, x1, x2, x3 := x[r*d:(r+1)*d], x[(r+1)*d:(r+2)*d], x[(r+2)*d:(r+3)*d], x[(r+3)*d:(r+4)*d]
		g0, g1, g2, g3 := gy[r*d:(r+1)*d], gy[(r+1)*d:(r+2)*d], gy[(r+2)*d:(r+3)*d], gy[(r+3)*d:(r+4)*d]
		h0, h1, h2, h3 := hat[:d], hat[d:2*d], hat[2*d:3*d], hat[3*d:4*d]
		var sg0, sg1, sg2, sg3, sgx0, sgx1, sgx2, sgx3 float64
		j0 := 0
		if x32, ok := any(x0).([]float32); ok && useAVX2 && d >= 4 {
			// Four steps at a time with AVX2 (vec.NormParts4), operation
			// by operation the loop below.
			j0 = d &^ 3
			st := [16]float64{mu[0], mu[1], mu[2], mu[3], rstd[0], rstd[1], rstd[2], rstd[3]}
			// It reads rows 0–3 from x0, g0 and h0 on: x3, g3 and h3 above
			// are in bounds, and pw and pb hold d elements.
			g32 := any(g0).([]float32)
			vec.NormParts4(&x32[0], &g32[0], &any(w).([]float32)[0], d, &hat[0], &pw[0], &pb[0], j0, &st)
			sg0, sg1, sg2, sg3 = st[8], st[9], st[10], st[11]
			sgx0, sgx1, sgx2, sgx3 = st[12], st[13], st[14], st[15]
		}
		// The explicit float64 conversions round each product on its own:
		// no fused multiply-add, as in the assembly.
		for j := j0; j < d; j++ {
			a0 := (float64(x0[j]) - mu[0]) * rstd[0]
			a1 := (float64(x1[j]) - mu[1]) * rstd[1]
			a2 := (float64(x2[j]) - mu[2]) * rstd[2]
			a3 := (float64(x3[j]) - mu[3]) * rstd[3]
			h0[j], h1[j], h2[j], h3[j] = a0, a1, a2, a3
			q0, q1, q2, q3 := float64(g0[j]), float64(g1[j]), float64(g2[j]), float64(g3[j])
			pwj := pw[j] + float64(q0*a0)
			pwj += float64(q1 * a1)
			pwj += float64(q2 * a2)
			pw[j] = pwj + float64(q3*a3)
			pb[j] = pb[j] + q0 + q1 + q2 + q3
			wj := float64(w[j])
			q0, q1, q2, q3 = float64(q0*wj), float64(q1*wj), float64(q2*wj), float64(q3*wj)
			sg0, sg1, sg2, sg3 = sg0+q0, sg1+q1, sg2+q2, sg3+q3
			sgx0, sgx1, sgx2, sgx3 = sgx0+float64(q0*a0), sgx1+float64(q1*a1), sgx2+float64(q2*a2), sgx3+float64(q3*a3)
		}
		mg, mgx = [4]float64{sg0, sg1, sg2, sg3}, [4]float64{sgx0, sgx1, sgx2, sgx3}
	}
	if gx == nil {
		return
	}
	for i := range n {
		m, mx := mg[i]/float64(d), mgx[i]/float64(d)
		if k.rms {
			m = 0
		}
		normGradRow(gy[(r+i)*d:(r+i+1)*d], w, hat[i*d:(i+1)*d], gx[(r+i)*d:(r+i+1)*d], rstd[i], m, mx)
	}
}

// normGradRow sets a norm's input gradient row, gx = sd·(g·w − m − h·mx),
// in float64 and rounded to T. float32 rows run eight at a time with AVX2
// (vec.NormGrad), operation by operation the same.
func normGradRow[T float](g, w []T, h []float64, gx []T, sd, m, mx float64) {
	d := len(w)
	g, h, gx = g[:d], h[:d], gx[:d]
	j := 0
	if g32, ok := any(g).([]float32); ok && useAVX2 && d >= 8 {
		j = d &^ 7
		vec.NormGrad(&g32[0], &any(w).([]float32)[0], &h[0], &any(gx).([]float32)[0], j, sd, m, mx)
	}
	for ; j < d; j++ {
		v := float64(g[j]) * float64(w[j])
		gx[j] = T(sd * (v - m - h[j]*mx))
	}
}
