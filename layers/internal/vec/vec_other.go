//go:build !amd64

package vec

// AVX2 is false: there are no assembly loops on this architecture, and the
// functions below must not be called.
var AVX2 = false

func MaxCopy(x, p *float32, n int) float32 { panic("vec: no AVX2") }

func Touch(p *float32, n int) { panic("vec: no AVX2") }

func MaxMasked(x, mask, p *float32, n int) float32 { panic("vec: no AVX2") }

func ExpSum(p *float32, n int, mx float32) float64 { panic("vec: no AVX2") }

func SoftmaxLanes(t *float32, n int) { panic("vec: no AVX2") }

func Sigmoid(p *float32, n int) { panic("vec: no AVX2") }

func Tanh(p *float32, n int) { panic("vec: no AVX2") }

func Cell(gates *float32, stride int, cprev, c, h *float32, n int) { panic("vec: no AVX2") }

func RowStats8(x *float32, d int, rms bool, mu, ss *[8]float64) { panic("vec: no AVX2") }

func CellGrad(gh, dhNext, gates *float32, stride int, tc, dcNext, cprev, d *float32, dStride, n int) {
	panic("vec: no AVX2")
}

func PiecewiseGrad(x, m, gy, gx *float32, n int, relu bool) { panic("vec: no AVX2") }

func Scale(p *float32, n int, s float32) { panic("vec: no AVX2") }

func Dot(a, b *float32, n int) float64 { panic("vec: no AVX2") }

func SoftmaxGrad(p, gp, gx *float32, n int, dot float32) { panic("vec: no AVX2") }

func SwiGLU(gt, v, s, y *float32, n int) { panic("vec: no AVX2") }

func SwiGLUGrad(gt, v, s, dy, dg, dv *float32, n int) { panic("vec: no AVX2") }

// PCG8 is false: PCGMask8 must not be called.
var PCG8 = false

func PCGMask8(st *[16]uint64, rows *[8]*float32, n int, drop uint32, scale float32) {
	panic("vec: no AVX-512")
}

func Add(x, y, z *float32, n int) { panic("vec: no AVX2") }

func AddMul(x, y, m, z *float32, n int) { panic("vec: no AVX2") }

func Mul(x, y, z *float32, n int) { panic("vec: no AVX2") }

func Norm(x, w, b, y *float32, n int, mu, rstd float64) { panic("vec: no AVX2") }

func NormGrad(gy, w *float32, h *float64, gx *float32, n int, sd, m, mx float64) {
	panic("vec: no AVX2")
}

func Piecewise(x, m, y *float32, n int, relu bool) { panic("vec: no AVX2") }

func NormParts4(x, gy, w *float32, d int, hat, pw, pb *float64, n int, st *[16]float64) {
	panic("vec: no AVX2")
}
