package layers

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SinusoidalPE returns the [n, d] table PE[p, 2i] = sin(p/10000^(2i/d)),
// PE[p, 2i+1] = cos(p/10000^(2i/d)), computed in float64 (SPEC §5).
func SinusoidalPE(n, d int) []float64 {
	pe := make([]float64, n*d)
	for p := 0; p < n; p++ {
		for j := 0; j < d; j++ {
			angle := float64(p) / math.Pow(10000, float64(j-j%2)/float64(d))
			if j%2 == 0 {
				pe[p*d+j] = math.Sin(angle)
			} else {
				pe[p*d+j] = math.Cos(angle)
			}
		}
	}
	return pe
}

// AddPositional returns x [B, T, d] + PE[0:T], the table rounded to the
// graph's element type.
func AddPositional(b *Builder, x *G.Node) *G.Node {
	return b.apply(posK{}, x)
}

type posK struct{}

func (posK) String() string { return "sinusoidal_pe" }

func (posK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 3 {
		return nil, fmt.Errorf("x %v is not [B, T, d]", in[0])
	}
	return in[0].Clone(), nil
}

func (k posK) forward(a *kargs) {
	byType(a.dt, posFwd[float32], posFwd[float64])(a)
}

func posFwd[T float](a *kargs) {
	s := a.shape[0]
	pe := SinusoidalPE(s[1], s[2])
	x, y := data[T](a.in[0]), data[T](a.out)
	n := s[1] * s[2]
	clearPadding(a.rows, y)
	overRows(a.rows, len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = x[i] + T(pe[i%n])
		}
	})
}

func (k posK) backward(a *kargs) {
	byType(a.dt, posBwd[float32], posBwd[float64])(a)
}

func posBwd[T float](a *kargs) {
	g, gx := data[T](a.gout), data[T](a.grads[0])
	overRows(a.rows, len(g), func(lo, hi int) { copy(gx[lo:hi], g[lo:hi]) })
}
