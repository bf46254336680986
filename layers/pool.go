package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pool is the masked mean over time, Σ_t M_t X_t / max(Σ_t M_t, 1):
// x [B, T, d], mask [B, T] (1 = real step) → [B, d].
func Pool(b *Builder, x, mask *G.Node) *G.Node {
	return b.apply(poolK{}, x, mask)
}

type poolK struct{}

func (poolK) String() string { return "masked_mean" }

func (poolK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, m := in[0], in[1]
	if x.Dims() != 3 || !m.Eq(tensor.Shape{x[0], x[1]}) {
		return nil, fmt.Errorf("x %v and mask %v: want [B,T,d] and [B,T]", x, m)
	}
	return tensor.Shape{x[0], x[2]}, nil
}

func (k poolK) forward(a *kargs)  { byType(a.dt, poolDo[float32], poolDo[float64])(a, false) }
func (k poolK) backward(a *kargs) { byType(a.dt, poolDo[float32], poolDo[float64])(a, true) }

// writesGrad: poolDo stores gx at every step (masked ones get weight 0).
func (poolK) writesGrad(i int) bool { return i == 0 }

// poolDo runs the forward pass, or with back the backward pass
// gx[b, t] = M[b, t]/max(ΣM, 1)·gy[b].
func poolDo[T float](a *kargs, back bool) {
	B, Tn, d := a.shape[0][0], a.shape[0][1], a.shape[0][2]
	x, m := data[T](a.in[0]), data[T](a.in[1])
	var gx, gy []T
	if back {
		if gx, gy = data[T](a.grads[0]), data[T](a.gout); gx == nil {
			return
		}
	}
	rowwise(B, Tn*d, func(lo, hi int) { // samples are independent
		for b := lo; b < hi; b++ {
			var n float64
			for t := 0; t < Tn; t++ {
				n += float64(m[b*Tn+t])
			}
			w := T(1 / max(n, 1))
			if back {
				for t := 0; t < Tn; t++ {
					wt := m[b*Tn+t] * w
					for j := 0; j < d; j++ {
						gx[(b*Tn+t)*d+j] = wt * gy[b*d+j]
					}
				}
				continue
			}
			y := data[T](a.out)[b*d : (b+1)*d]
			clear(y)
			for t := 0; t < Tn; t++ {
				if mt := m[b*Tn+t]; mt != 0 {
					for j := 0; j < d; j++ {
						y[j] += mt * x[(b*Tn+t)*d+j]
					}
				}
			}
			for j := range y {
				y[j] *= w
			}
		}
	})
}
