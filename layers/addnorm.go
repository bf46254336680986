package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ResidualFwd returns LN(x + y ⊙ m), m a new dropout mask (see Dropout),
// or without dropout LN(x + y): Builder.Residual followed by Fwd in one
// kernel, with their numbers bitwise. The sum is never stored: each row
// of it is formed in the core's cache, normalized there, and formed again
// in the backward pass, which also writes the gradients of x and y
// directly instead of passing the sum's through a copy.
func (l *LayerNorm) ResidualFwd(b *Builder, x, y *G.Node, p float64) *G.Node {
	k := addNormK{norm: normK{eps: l.Eps}}
	if m := b.dropoutMask(y, p); m != nil {
		k.masked = true
		return b.apply(k, x, y, m, l.W, l.B)
	}
	return b.apply(k, x, y, l.W, l.B)
}

// addNormK is LayerNorm of x + y ⊙ m: inputs x, y, m (only when masked),
// weight and bias.
type addNormK struct {
	norm   normK
	masked bool
}

func (addNormK) rowWise() {}

// weight is the index of the weight among the inputs.
func (k addNormK) weight() int {
	if k.masked {
		return 3
	}
	return 2
}

func (k addNormK) String() string {
	return fmt.Sprintf("addnorm(eps=%g,masked=%v)", k.norm.eps, k.masked)
}

func (k addNormK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	w := k.weight()
	if len(in) != w+2 {
		return nil, fmt.Errorf("%d inputs, want %d", len(in), w+2)
	}
	if _, err := (addK{masked: k.masked}).outShape(in[:w]); err != nil {
		return nil, err
	}
	return k.norm.outShape(append([]tensor.Shape{in[0]}, in[w:]...))
}

func (k addNormK) forward(a *kargs) {
	byType(a.dt, addNormFwd[float32], addNormFwd[float64])(k, a)
}

func (k addNormK) backward(a *kargs) {
	byType(a.dt, addNormBwd[float32], addNormBwd[float64])(k, a)
}

// writesGrad: addNormBwd stores the gradients of x and y at every step;
// those of the weight and bias are sums into zeros.
func (addNormK) writesGrad(i int) bool { return i < 2 }

// residualRows sets s to the n rows of x + y ⊙ m (m nil: x + y) from row r,
// d elements each: addK's numbers.
func residualRows[T float](x, y, m, s []T, r, n, d int) {
	lo, hi := r*d, (r+n)*d
	if m == nil {
		addTo(x[lo:hi], y[lo:hi], s[:hi-lo])
		return
	}
	addMulTo(x[lo:hi], y[lo:hi], m[lo:hi], s[:hi-lo])
}

func addNormFwd[T float](k addNormK, a *kargs) {
	wi := k.weight()
	x, y, w, bias, out := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[wi]), data[T](a.in[wi+1]), data[T](a.out)
	var m []T
	if k.masked {
		m = data[T](a.in[2])
	}
	d := len(w)
	normRows(k.norm, a, len(x)/d, w, bias, out, 8*d, func(r, n int, s []T) []T {
		residualRows(x, y, m, s, r, n, d)
		return s[:n*d]
	})
}

func addNormBwd[T float](k addNormK, a *kargs) {
	wi := k.weight()
	x, y, w, gout := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[wi]), data[T](a.gout)
	gx, gy := data[T](a.grads[0]), data[T](a.grads[1])
	var m []T
	if k.masked {
		m = data[T](a.in[2])
	}
	d := len(w)
	clearPadding(a.rows, gx)
	clearPadding(a.rows, gy)
	normGrads(a, len(x)/d, d, data[T](a.grads[wi]), data[T](a.grads[wi+1]), 8*d, func(r, n int, hat, pw, pb []float64, work []T) {
		s, gs := work[:4*d], work[4*d:]
		residualRows(x, y, m, s, r, n, d)
		switch {
		case gx != nil: // the sum's gradient is x's
			gs = gx[r*d:]
		case gy == nil:
			gs = nil
		}
		normGradRows(k.norm, s, w, gout[r*d:], gs, hat, pw, pb, 0, n)
		if gy == nil {
			return
		}
		if m == nil {
			copy(gy[r*d:(r+n)*d], gs[:n*d])
			return
		}
		mulTo(gs[:n*d], m[r*d:(r+n)*d], gy[r*d:(r+n)*d])
	})
}
