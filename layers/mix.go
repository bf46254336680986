package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mix returns Σ_k alpha[:, k]·xs[k]: alpha [B, K], each xs[k] [B, ...] of
// one shape. With K = 1 it scales each sample of x by its own factor.
func Mix(b *Builder, alpha *G.Node, xs ...*G.Node) *G.Node {
	return b.apply(mixK{}, append([]*G.Node{alpha}, xs...)...)
}

type mixK struct{}

func (mixK) String() string { return "mix" }

func (mixK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	a := in[0]
	if a.Dims() != 2 || a[1] != len(in)-1 {
		return nil, fmt.Errorf("weights %v for %d inputs", a, len(in)-1)
	}
	for _, x := range in[1:] {
		if !x.Eq(in[1]) || x[0] != a[0] {
			return nil, fmt.Errorf("inputs %v and %v with weights %v", in[1], x, a)
		}
	}
	return in[1].Clone(), nil
}

func (k mixK) forward(a *kargs)  { byType(a.dt, mixDo[float32], mixDo[float64])(a, false) }
func (k mixK) backward(a *kargs) { byType(a.dt, mixDo[float32], mixDo[float64])(a, true) }

func mixDo[T float](a *kargs, back bool) {
	alpha := data[T](a.in[0])
	K := len(a.in) - 1
	B := a.shape[0][0]
	n := a.shape[1].TotalSize() / B
	if !back {
		clear(data[T](a.out))
	}
	for k := 0; k < K; k++ {
		x := data[T](a.in[k+1])
		for b := 0; b < B; b++ {
			w := alpha[b*K+k]
			xs := x[b*n : (b+1)*n]
			if !back {
				y := data[T](a.out)[b*n : (b+1)*n]
				for j, v := range xs {
					y[j] += w * v
				}
				continue
			}
			g := data[T](a.gout)[b*n : (b+1)*n]
			if gx := data[T](a.grads[k+1]); gx != nil {
				for j, v := range g {
					gx[b*n+j] = w * v
				}
			}
			if ga := data[T](a.grads[0]); ga != nil {
				var dot T
				for j, v := range g {
					dot += v * xs[j]
				}
				ga[b*K+k] = dot
			}
		}
	}
}
