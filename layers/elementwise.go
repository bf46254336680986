package layers

import (
	"fmt"
	"math"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is an elementwise function of Act.
type Activation int

// The activations of the model. float32 graphs compute them in float32
// (tanh32, sigmoid32), float64 graphs with package math.
const (
	Identity Activation = iota
	ReLU
	Tanh
	Sigmoid
)

// activationNames are the names of the activations, by value.
var activationNames = [...]string{Identity: "identity", ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid"}

func (f Activation) String() string {
	if f < 0 || int(f) >= len(activationNames) {
		return fmt.Sprintf("activation(%d)", int(f))
	}
	return activationNames[f]
}

// apply is f(x).
func (f Activation) apply(x float64) float64 {
	switch f {
	case ReLU:
		return max(x, 0)
	case Tanh:
		return math.Tanh(x)
	case Sigmoid:
		return sigmoid(x)
	}
	return x
}

// slope is f'(x) given x and y = f(x).
func (f Activation) slope(x, y float64) float64 {
	switch f {
	case ReLU:
		if x > 0 {
			return 1
		}
		return 0
	case Tanh:
		return 1 - y*y
	case Sigmoid:
		return y * (1 - y)
	}
	return 1
}

// Act returns f(x) elementwise.
func (b *Builder) Act(f Activation, x *G.Node) *G.Node {
	return b.ActDropout(f, x, 0)
}

// ActDropout returns f(x) ⊙ m, m a new dropout mask (see Dropout); without
// dropout (p 0, or an evaluation graph) it is f(x).
func (b *Builder) ActDropout(f Activation, x *G.Node, p float64) *G.Node {
	m := b.dropoutMask(x, p)
	switch {
	case m != nil:
		return b.apply(actK{f: f, masked: true}, x, m)
	case f == Identity:
		if p != 0 { // an evaluation graph: pass over the training graph's block (dropoutMask)
			b.kernels++
		}
		return x
	}
	return b.apply(actK{f: f}, x)
}

// Dropout multiplies x by a new dropout mask input (identity when p is 0
// or the graph is for evaluation).
func (b *Builder) Dropout(x *G.Node, p float64) *G.Node {
	return b.ActDropout(Identity, x, p)
}

// Residual returns x + y ⊙ m, m a new dropout mask; without dropout it is
// x + y. The sum is a data node when neither side carries a gradient.
func (b *Builder) Residual(x, y *G.Node, p float64) *G.Node {
	if m := b.dropoutMask(y, p); m != nil {
		return b.apply(addK{masked: true}, x, y, m)
	}
	return b.apply(addK{}, x, y)
}

// Add returns x + y, a data node when neither side carries a gradient.
func (b *Builder) Add(x, y *G.Node) *G.Node { return b.Residual(x, y, 0) }

// actK is y = f(x) ⊙ m (m only when masked). Dropout masks hold 0 or a
// nonzero scale, so the backward pass reads f(x) back as y/m where m ≠ 0
// instead of keeping a second tensor.
type actK struct {
	f      Activation
	masked bool
}

func (k actK) String() string { return fmt.Sprintf("act(%v,masked=%v)", k.f, k.masked) }

func (k actK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if k.masked && !in[1].Eq(in[0]) {
		return nil, fmt.Errorf("mask %v for input %v", in[1], in[0])
	}
	return in[0].Clone(), nil
}

func (k actK) forward(a *kargs)  { byType(a.dt, actDo[float32], actDo[float64])(k, a, false) }
func (k actK) backward(a *kargs) { byType(a.dt, actDo[float32], actDo[float64])(k, a, true) }

// writesGrad: actDo stores gx at every step.
func (actK) writesGrad(i int) bool { return i == 0 }

func actDo[T float](k actK, a *kargs, bwd bool) {
	x, y := data[T](a.in[0]), data[T](a.out)
	var m []T
	if k.masked {
		m = data[T](a.in[1])
	}
	var gx []T
	if bwd {
		if gx = data[T](a.grads[0]); gx == nil {
			return
		}
	}
	g := data[T](a.gout)
	if bwd {
		clearPadding(a.rows, gx)
	} else {
		clearPadding(a.rows, y)
	}
	overRows(a.rows, len(x), func(lo, hi int) {
		part := func(s []T) []T { // s[lo:hi], nil for nil
			if s == nil {
				return nil
			}
			return s[lo:hi]
		}
		switch {
		case k.f != ReLU && k.f != Identity:
			smoothDo(k.f, x[lo:hi], y[lo:hi], part(m), part(g), part(gx), bwd)
		case bwd:
			piecewiseBwd(k.f == ReLU, x[lo:hi], part(m), g[lo:hi], gx[lo:hi])
		default:
			piecewiseFwd(k.f == ReLU, x[lo:hi], part(m), y[lo:hi])
		}
	})
}

// piecewiseFwd is y = f(x) ⊙ m for ReLU (relu) or the identity, m nil
// for all ones: the loops of actDo without a call per element. float32
// rows run eight at a time with AVX2 (vec.Piecewise).
func piecewiseFwd[T float](relu bool, x, m, y []T) {
	y = y[:len(x)]
	if x32, ok := any(x).([]float32); ok && useAVX2 && len(x) >= 8 && (relu || m != nil) {
		n8 := len(x) &^ 7
		var mp *float32
		if m != nil {
			mp = &any(m).([]float32)[0]
			m = m[n8:]
		}
		vec.Piecewise(&x32[0], mp, &any(y).([]float32)[0], n8, relu)
		x, y = x[n8:], y[n8:]
	}
	switch {
	case relu && m == nil:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	case relu:
		m = m[:len(x)]
		for i, v := range x {
			y[i] = max(v, 0) * m[i]
		}
	case m == nil:
		copy(y, x)
	default:
		m = m[:len(x)]
		for i, v := range x {
			y[i] = v * m[i]
		}
	}
}

// piecewiseBwd is gx = g ⊙ m ⊙ f'(x) for ReLU (slope 1 where x > 0, else
// 0) or the identity, and 0 where m is: the same products, in the same
// order, as smoothDo's. float32 rows run eight at a time with AVX2
// (vec.PiecewiseGrad).
func piecewiseBwd[T float](relu bool, x, m, g, gx []T) {
	g, gx = g[:len(x)], gx[:len(x)]
	if x32, ok := any(x).([]float32); ok && useAVX2 && len(x) >= 8 {
		n8 := len(x) &^ 7
		var mp *float32
		if m != nil {
			mp = &any(m).([]float32)[0]
		}
		vec.PiecewiseGrad(&x32[0], mp, &any(g).([]float32)[0], &any(gx).([]float32)[0], n8, relu)
		if m != nil {
			m = m[n8:]
		}
		x, g, gx = x[n8:], g[n8:], gx[n8:]
	}
	for i, v := range x {
		mi := T(1)
		if m != nil {
			if mi = m[i]; mi == 0 {
				gx[i] = 0
				continue
			}
		}
		s := T(1)
		if relu && !(v > 0) {
			s = 0
		}
		gx[i] = g[i] * mi * s
	}
}

// smoothDo is actDo's loop for f tanh or sigmoid, whose slope it reads
// from y = f(x) ⊙ m as y/m where m ≠ 0 (m nil for all ones). A float32
// forward pass runs f over the row at once (sigmoidRow32, tanhRow32).
func smoothDo[T float](f Activation, x, y, m, g, gx []T, bwd bool) {
	if y32, ok := any(y).([]float32); ok && !bwd {
		copy(y, x)
		if f == Tanh {
			tanhRow32(y32)
		} else {
			sigmoidRow32(y32)
		}
		for i, mi := range m {
			y[i] *= mi
		}
		return
	}
	apply := func(v T) T { return T(f.apply(float64(v))) }
	for i := range x {
		mi := T(1)
		if m != nil {
			mi = m[i]
		}
		if !bwd {
			y[i] = apply(x[i]) * mi
			continue
		}
		if mi == 0 {
			gx[i] = 0
			continue
		}
		fx := float64(y[i] / mi)
		gx[i] = g[i] * mi * T(f.slope(float64(x[i]), fx))
	}
}

// addK is x + y ⊙ m (m only when masked).
type addK struct{ masked bool }

func (k addK) String() string { return fmt.Sprintf("add(masked=%v)", k.masked) }

func (k addK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	for _, s := range in[1:] {
		if !s.Eq(in[0]) {
			return nil, fmt.Errorf("shapes %v and %v", in[0], s)
		}
	}
	return in[0].Clone(), nil
}

func (k addK) forward(a *kargs)  { byType(a.dt, addDo[float32], addDo[float64])(k, a, false) }
func (k addK) backward(a *kargs) { byType(a.dt, addDo[float32], addDo[float64])(k, a, true) }

// writesGrad: addDo stores the gradients of x and y at every step.
func (addK) writesGrad(i int) bool { return i < 2 }

func addDo[T float](k addK, a *kargs, bwd bool) {
	x, y, out, g := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out), data[T](a.gout)
	var m []T
	if k.masked {
		m = data[T](a.in[2])
	}
	var gx, gy []T
	if bwd {
		gx, gy = data[T](a.grads[0]), data[T](a.grads[1])
		clearPadding(a.rows, gx)
		clearPadding(a.rows, gy)
	} else {
		clearPadding(a.rows, out)
	}
	overRows(a.rows, len(x), func(lo, hi int) {
		switch {
		case !bwd && m == nil:
			addTo(x[lo:hi], y[lo:hi], out[lo:hi])
		case !bwd:
			addMulTo(x[lo:hi], y[lo:hi], m[lo:hi], out[lo:hi])
		default:
			if gx != nil {
				copy(gx[lo:hi], g[lo:hi])
			}
			if gy == nil {
				return
			}
			if m == nil {
				copy(gy[lo:hi], g[lo:hi])
				return
			}
			mulTo(g[lo:hi], m[lo:hi], gy[lo:hi])
		}
	})
}

// elementwise runs f over [0, n), split over the cores when n is large
// enough to pay for it.
func elementwise(n int, f func(lo, hi int)) {
	if n < 1<<15 {
		f(0, n)
		return
	}
	parallelFor(n, f)
}

// rowwise runs f over the rows [0, m) of width elements each, split over
// the cores when there are as many elements as elementwise splits.
func rowwise(m, width int, f func(lo, hi int)) {
	if m*width < 1<<15 {
		f(0, m)
		return
	}
	parallelFor(m, f)
}

// serially runs f over [0, n) on the calling goroutine: rowwise's
// signature, for work already placed on a core.
func serially(n, _ int, f func(lo, hi int)) { f(0, n) }

// addRowAt adds row (width elements) to each of the rows idx[lo:hi] of x,
// or with idx nil to the rows [lo, hi).
func addRowAt[T float](x, row []T, idx []int, lo, hi int) {
	width := len(row)
	for r := lo; r < hi; r++ {
		at := r
		if idx != nil {
			at = idx[r]
		}
		xr := x[at*width : (at+1)*width]
		addTo(xr, row, xr)
	}
}

// addColumnSums adds to g (width elements) the sums of m rows of x [.., width]
// (rows idx[0:m], or with idx nil rows 0..m-1), each column summed over the
// rows in order: the cores, as split splits them (rowwise or serially),
// take groups of eight columns, so the sums are the same however they are
// split.
func addColumnSums[T float](g, x []T, idx []int, m int, split func(int, int, func(lo, hi int))) {
	width := len(g)
	split((width+7)/8, 8*m, func(lo, hi int) {
		gc := g[lo*8 : min(hi*8, width)]
		for r := 0; r < m; r++ {
			at := r
			if idx != nil {
				at = idx[r]
			}
			addTo(gc, x[at*width+lo*8:], gc)
		}
	})
}

// addMulTo sets z = x + y ⊙ m element by element, for len(z) elements,
// each product rounded on its own. float32 runs eight at a time with AVX2
// (vec.AddMul): the same numbers.
func addMulTo[T float](x, y, m, z []T) {
	n := len(z)
	x, y, m = x[:n], y[:n], m[:n]
	j := 0
	if z32, ok := any(z).([]float32); ok && useAVX2 && n >= 8 {
		j = n &^ 7
		vec.AddMul(&any(x).([]float32)[0], &any(y).([]float32)[0], &any(m).([]float32)[0], &z32[0], j)
	}
	for ; j < n; j++ {
		z[j] = x[j] + T(y[j]*m[j])
	}
}

// mulTo sets z = x ⊙ y element by element, for len(z) elements. float32
// runs eight at a time with AVX2 (vec.Mul): the same products.
func mulTo[T float](x, y, z []T) {
	n := len(z)
	x, y = x[:n], y[:n]
	j := 0
	if z32, ok := any(z).([]float32); ok && useAVX2 && n >= 8 {
		j = n &^ 7
		vec.Mul(&any(x).([]float32)[0], &any(y).([]float32)[0], &z32[0], j)
	}
	for ; j < n; j++ {
		z[j] = x[j] * y[j]
	}
}

// addTo sets z = x + y element by element, for len(z) elements. float32
// runs eight at a time with AVX2 (vec.Add): the same sums.
func addTo[T float](x, y, z []T) {
	n := len(z)
	x, y = x[:n], y[:n]
	j := 0
	if z32, ok := any(z).([]float32); ok && useAVX2 && n >= 8 {
		j = n &^ 7
		vec.Add(&any(x).([]float32)[0], &any(y).([]float32)[0], &z32[0], j)
	}
	for ; j < n; j++ {
		z[j] = x[j] + y[j]
	}
}
