package layers

import (
	"fmt"
	"math"

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

// rowStats returns the mean (0 for RMSNorm) and 1/sqrt(var + eps) of a row.
func (k normK) rowStats(row []float64) (mu, rstd float64) {
	d := float64(len(row))
	if !k.rms {
		for _, v := range row {
			mu += v
		}
		mu /= d
	}
	var ss float64
	for _, v := range row {
		ss += (v - mu) * (v - mu)
	}
	return mu, 1 / math.Sqrt(ss/d+k.eps)
}

func normFwd[T float](k normK, a *kargs) {
	x, w, y := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out)
	var bias []T
	if !k.rms {
		bias = data[T](a.in[2])
	}
	d := len(w)
	clearPadding(a.rows, y)
	parallelRows(a.rows, len(x)/d, func(lo, hi int) {
		row := make([]float64, d)
		for r := lo; r < hi; r++ {
			xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			for j, v := range xr {
				row[j] = float64(v)
			}
			mu, rstd := k.rowStats(row)
			for j := range yr {
				v := (row[j] - mu) * rstd * float64(w[j])
				if bias != nil {
					v += float64(bias[j])
				}
				yr[j] = T(v)
			}
		}
	})
}

// normBlock is the number of rows whose parameter gradients are summed
// together before the blocks are summed in order: a fixed split, so the
// result does not depend on the number of cores. Padded rows (kargs.rows)
// are skipped inside their blocks: they would add exact zeros, so the sums
// are the same.
const normBlock = 64

func normBwd[T float](k normK, a *kargs) {
	x, w, gy := data[T](a.in[0]), data[T](a.in[1]), data[T](a.gout)
	gx, gw := data[T](a.grads[0]), data[T](a.grads[1])
	var gb []T
	if !k.rms {
		gb = data[T](a.grads[2])
	}
	d := len(w)
	rows := len(x) / d
	blocks := (rows + normBlock - 1) / normBlock
	clearPadding(a.rows, gx)
	// Per block: Σ gy·x̂ (first d) and Σ gy (next d), in float64.
	part := scratchOf[float64](a, 0, blocks*2*d)
	parallelFor(blocks, func(lo, hi int) {
		row := make([]float64, d)
		hat := make([]float64, d)
		for blk := lo; blk < hi; blk++ {
			pw, pb := part[blk*2*d:blk*2*d+d], part[blk*2*d+d:(blk+1)*2*d]
			clear(pw)
			clear(pb)
			for r := blk * normBlock; r < min((blk+1)*normBlock, rows); r++ {
				if !a.rows.real(r) {
					continue
				}
				xr, gr := x[r*d:(r+1)*d], gy[r*d:(r+1)*d]
				for j, v := range xr {
					row[j] = float64(v)
				}
				mu, rstd := k.rowStats(row)
				var mg, mgx float64
				for j := range hat {
					hat[j] = (row[j] - mu) * rstd
					g := float64(gr[j])
					pw[j] += g * hat[j]
					pb[j] += g
					g *= float64(w[j])
					mg += g
					mgx += g * hat[j]
				}
				if gx == nil {
					continue
				}
				mg /= float64(d)
				mgx /= float64(d)
				if k.rms {
					mg = 0
				}
				for j := range hat {
					g := float64(gr[j]) * float64(w[j])
					gx[r*d+j] = T(rstd * (g - mg - hat[j]*mgx))
				}
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
