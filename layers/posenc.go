package layers

import (
	"fmt"
	"math"
	"sync"

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

// peTables holds the tables posFwd has rounded, by peKey: they are the
// same at every step.
var peTables sync.Map

// peKey names a rounded table: its n×d shape and a zero of its element
// type.
type peKey struct {
	n, d int
	zero any
}

// peTable returns SinusoidalPE(n, d) rounded to T, computed once.
func peTable[T float](n, d int) []T {
	key := peKey{n, d, T(0)}
	if t, ok := peTables.Load(key); ok {
		return t.([]T)
	}
	pe := SinusoidalPE(n, d)
	t := make([]T, len(pe))
	for i, v := range pe {
		t[i] = T(v)
	}
	got, _ := peTables.LoadOrStore(key, t)
	return got.([]T)
}

func posFwd[T float](a *kargs) {
	s := a.shape[0]
	pe := peTable[T](s[1], s[2])
	x, y := data[T](a.in[0]), data[T](a.out)
	n := s[1] * s[2]
	clearPadding(a.rows, y)
	overRows(a.rows, len(x), func(lo, hi int) {
		for lo < hi { // one sample's run of steps at a time
			at := lo % n
			end := min(hi, lo+n-at)
			addTo(x[lo:end], pe[at:], y[lo:end])
			lo = end
		}
	})
}

func (k posK) backward(a *kargs) {
	byType(a.dt, posBwd[float32], posBwd[float64])(a)
}

// writesGrad: posBwd stores gx at every step.
func (posK) writesGrad(i int) bool { return i == 0 }

func posBwd[T float](a *kargs) {
	g, gx := data[T](a.gout), data[T](a.grads[0])
	overRows(a.rows, len(g), func(lo, hi int) { copy(gx[lo:hi], g[lo:hi]) })
	clearPadding(a.rows, gx)
}
