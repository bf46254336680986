package vec

import "golang.org/x/sys/cpu"

// AVX2 reports whether the CPU runs this package's loops.
var AVX2 = cpu.X86.HasAVX2

// The functions below take n, a positive multiple of 8, elements
// (vec_amd64.s).

// MaxCopy sets p[j] = x[j] and returns the largest.
//
//go:noescape
func MaxCopy(x, p *float32, n int) float32

// MaxMasked sets p[j] = x[j] + (mask[j] == 0 ? −1e9 : 0) and returns the
// largest.
//
//go:noescape
func MaxMasked(x, mask, p *float32, n int) float32

// Touch reads one float of every 64 bytes of p[0:n], in order, for any
// positive n: the cache lines of a span come into the core's caches as
// one sequential stream, which the hardware prefetchers follow.
//
//go:noescape
func Touch(p *float32, n int)

// useAVX512 selects the sixteen-lane ExpSum, Sigmoid and Tanh (AVX-512F),
// bitwise the AVX2 loops; GODEBUG=cpu.avx512f=off turns it off. The tests
// call both loops directly to compare them.
var useAVX512 = cpu.X86.HasAVX512F

// PCG8 reports whether PCGMask8 runs on this CPU (AVX-512F and DQ).
var PCG8 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// PCGMask8 fills eight dropout-mask rows, each from its own math/rand/v2
// PCG generator: generator i's state is hi st[i], lo st[8+i] (as
// PCG.Seed(hi, lo) sets it), and row i gets, for each of n Uint64 draws u
// (n a positive multiple of 8), two elements: the low 32 bits of u, then
// the high, each 0 where below drop and scale where not. The states are
// left after the n draws. Needs PCG8.
//
//go:noescape
func PCGMask8(st *[16]uint64, rows *[8]*float32, n int, drop uint32, scale float32)

// ExpSum replaces p[j] by e^(p[j]−mx), bitwise as layers.expNeg computes
// it, and returns their sum in float64 (eight lanes, added in a fixed
// order).
func ExpSum(p *float32, n int, mx float32) float64 {
	if useAVX512 {
		return expSum512(p, n, mx)
	}
	return expSum256(p, n, mx)
}

// expSum256 is ExpSum with AVX2.
//
//go:noescape
func expSum256(p *float32, n int, mx float32) float64

// expSum512 is ExpSum with AVX-512F.
//
//go:noescape
func expSum512(p *float32, n int, mx float32) float64

// SoftmaxLanes runs eight softmax rows of n > 0 scores side by side:
// score j of row r is t[8·j+r], replaced by its probability. Each row is
// shifted by its maximum, its exponentials are bitwise layers.expNeg's,
// summed in float64 in order of j, and scaled by float32(1/sum): the
// numbers of the scalar loop over one row.
//
//go:noescape
func SoftmaxLanes(t *float32, n int)

// Sigmoid replaces p[j] by 1/(1 + e^−p[j]), bitwise as layers.sigmoid32
// computes it.
func Sigmoid(p *float32, n int) {
	if useAVX512 {
		sigmoid512(p, n)
		return
	}
	sigmoid256(p, n)
}

// Tanh replaces p[j] by tanh(p[j]), bitwise as layers.tanh32 computes it.
func Tanh(p *float32, n int) {
	if useAVX512 {
		tanh512(p, n)
		return
	}
	tanh256(p, n)
}

// Cell is an LSTM cell's update over n elements (a positive multiple of
// 8) from its activated gates i, f, g, o at gates[j], gates[stride+j],
// gates[2·stride+j], gates[3·stride+j]: c[j] = f·cprev[j] + i·g summed in float64
// (the products exact) and rounded to float32, h[j] = o·tanh(c[j]) with
// tanh bitwise layers.tanh32.
func Cell(gates *float32, stride int, cprev, c, h *float32, n int) {
	if useAVX512 {
		cell512(gates, stride, cprev, c, h, n)
		return
	}
	cell256(gates, stride, cprev, c, h, n)
}

// CellGrad is an LSTM cell's backward step over n elements (a positive
// multiple of 4) in float64, as the Go loop computes it (layers'
// backwardGroup): from the output gradient gh and the gradients dhNext and
// dcNext reaching h and c from the next step, the activated gates i, f,
// g, o at gates[j], gates[stride+j], gates[2·stride+j], gates[3·stride+j],
// tc = tanh(c) and the previous cell cprev, it writes the gate
// pre-activations' gradients to d[j], d[dStride+j], d[2·dStride+j],
// d[3·dStride+j] and replaces dcNext by the gradient reaching the
// previous cell. It prefetches the rows dStride floats before gh, the
// gates and cprev: the previous step's, which the backward pass reads
// next (it halves the loop's time in a paper-size backward pass).
//
//go:noescape
func CellGrad(gh, dhNext, gates *float32, stride int, tc, dcNext, cprev, d *float32, dStride, n int)

// RowStats8 sets, for the eight rows of x (d floats each, one after
// another; d a positive multiple of 4), mu[r] to the row's float64 sum in
// order of j over d (0 with rms) and ss[r] to the float64 sum of the
// squares (x[r][j] − mu[r])², each rounded before it is added, in order of
// j: a norm's row statistics, bitwise layers.rowStats4's sums.
//
//go:noescape
func RowStats8(x *float32, d int, rms bool, mu, ss *[8]float64)

// cell256 is Cell with AVX2, cell512 with AVX-512F: bitwise the same.
//
//go:noescape
func cell256(gates *float32, stride int, cprev, c, h *float32, n int)

//go:noescape
func cell512(gates *float32, stride int, cprev, c, h *float32, n int)

// sigmoid256 and tanh256 are Sigmoid and Tanh with AVX2; sigmoid512 and
// tanh512 with AVX-512F, bitwise the same.
//
//go:noescape
func sigmoid256(p *float32, n int)

//go:noescape
func tanh256(p *float32, n int)

//go:noescape
func sigmoid512(p *float32, n int)

//go:noescape
func tanh512(p *float32, n int)

// PiecewiseGrad sets gx[j] = gy[j]·m[j]·s[j], s[j] the slope of ReLU at
// x[j] (1 where x[j] > 0, else 0) with relu, else 1; gx[j] = 0 where
// m[j] = 0. m nil stands for all ones. These are layers.piecewiseBwd's
// products, bitwise.
//
//go:noescape
func PiecewiseGrad(x, m, gy, gx *float32, n int, relu bool)

// Scale multiplies p[j] by s.
//
//go:noescape
func Scale(p *float32, n int, s float32)

// Dot returns Σ a[j]·b[j] in float64 (eight lanes, added in a fixed order).
//
//go:noescape
func Dot(a, b *float32, n int) float64

// SoftmaxGrad sets gx[j] = p[j]·(gp[j] − dot).
//
//go:noescape
func SoftmaxGrad(p, gp, gx *float32, n int, dot float32)

// SwiGLU sets y[j] = float32(float64(gt[j])·float64(s[j])·float64(v[j])),
// the products in that order in float64, as Go computes them: silu(gt)·v
// with s = σ(gt). n is a positive multiple of 4.
//
//go:noescape
func SwiGLU(gt, v, s, y *float32, n int)

// SwiGLUGrad sets, in float64 in Go's order of operations (no fused
// multiply-add), dg[j] = float32(d·v·s·(1 + g·(1 − s))) and dv[j] =
// float32(d·g·s) for d = dy[j], g = gt[j], v = v[j], s = s[j]: SwiGLU's
// gradients. n is a positive multiple of 4.
//
//go:noescape
func SwiGLUGrad(gt, v, s, dy, dg, dv *float32, n int)

// Add sets z[j] = x[j] + y[j].
//
//go:noescape
func Add(x, y, z *float32, n int)

// AddMul sets z[j] = x[j] + y[j]·m[j], the product rounded on its own.
//
//go:noescape
func AddMul(x, y, m, z *float32, n int)

// Mul sets z[j] = x[j]·y[j].
//
//go:noescape
func Mul(x, y, z *float32, n int)

// Norm sets y[j] = float32(((float64(x[j]) − mu)·rstd)·float64(w[j]) +
// float64(b[j])), each operation rounded on its own as Go rounds it; b nil
// adds nothing. It is a layer norm's (or RMS norm's) output row.
//
//go:noescape
func Norm(x, w, b, y *float32, n int, mu, rstd float64)

// NormGrad sets gx[j] = float32(sd·((float64(gy[j])·float64(w[j]) − m) −
// h[j]·mx)), each operation rounded on its own as Go rounds it: a norm's
// input gradient row.
//
//go:noescape
func NormGrad(gy, w *float32, h *float64, gx *float32, n int, sd, m, mx float64)

// Piecewise sets y[j] = max(x[j], 0)·m[j] with relu (Go's max: NaN stays
// NaN, −0 gives +0), else x[j]·m[j]; m nil stands for all ones, and then
// relu must be set. These are layers.piecewiseFwd's values, bitwise.
//
//go:noescape
func Piecewise(x, m, y *float32, n int, relu bool)

// NormParts4 runs the k steps j < n (n a positive multiple of 4) of a
// norm's backward pass over four rows (x and gy rows d floats apart, hat
// rows d float64s apart), operation by operation as layers.normGradRows
// does (see vec_amd64.s): the normalized rows into hat, their terms added
// to the parameter sums pw and pb, and to the rows' sums st[8:12] (Σ g·w)
// and st[12:16] (Σ g·w·x̂), from mu st[0:4] and rstd st[4:8].
//
//go:noescape
func NormParts4(x, gy, w *float32, d int, hat, pw, pb *float64, n int, st *[16]float64)
