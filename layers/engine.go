package layers

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// engine is Gorgonia's CPU engine with a faster Add. NewTapeMachine's
// machines run on it and give it to every value they hold, so that when
// Gorgonia sums the gradients of a node used more than once (its backward
// pass adds them with tensor.Add, on the first operand's engine) the sum
// runs on all cores, eight float32 at a time, rather than on one core
// element by element. Every other operation is the embedded engine's.
type engine struct{ G.StandardEngine }

// Add computes a + b element by element, as StdEng.Add does, when both are
// dense float32 or float64 tensors of one shape and the result goes to a
// preallocated tensor (WithReuse) or to a (UseUnsafe); every other case is
// StdEng.Add's. The sums are those of StdEng.Add (one rounded addition per
// element).
func (e engine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	if dst := addInto(a, b, tensor.ParseFuncOpts(opts...)); dst != nil {
		n := dst.Shape().TotalSize()
		if a.Dtype() == tensor.Float32 {
			addAll(a.Data().([]float32)[:n], b.Data().([]float32)[:n], dst.Data().([]float32)[:n])
		} else {
			addAll(a.Data().([]float64)[:n], b.Data().([]float64)[:n], dst.Data().([]float64)[:n])
		}
		return dst, nil
	}
	return e.StandardEngine.Add(a, b, opts...)
}

// addInto returns the tensor engine.Add writes a + b into, or nil when it
// leaves the sum to StdEng.Add.
func addInto(a, b tensor.Tensor, fo *tensor.OpOpt) *tensor.Dense {
	ad, aok := a.(*tensor.Dense)
	bd, bok := b.(*tensor.Dense)
	if !aok || !bok || fo.Incr() != nil || !plain(ad) || !plain(bd) || ad.Dtype() != bd.Dtype() || !ad.Shape().Eq(bd.Shape()) {
		return nil
	}
	if ad.IsScalar() || ad.Shape().TotalSize() == 0 {
		return nil
	}
	if dt := ad.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil
	}
	if reuse := fo.Reuse(); reuse != nil {
		r, ok := reuse.(*tensor.Dense)
		if !ok || !plain(r) || r.Dtype() != ad.Dtype() || !r.Shape().Eq(ad.Shape()) {
			return nil
		}
		return r
	}
	if fo.Safe() {
		return nil
	}
	return ad
}

// plain reports whether t's elements are its data slice in order.
func plain(t *tensor.Dense) bool {
	return !t.IsView() && !t.RequiresIterator() && t.IsNativelyAccessible()
}

// addAll sets z = x + y, split over the cores when large.
func addAll[T float](x, y, z []T) {
	elementwise(len(z), func(lo, hi int) { addTo(x[lo:hi], y[lo:hi], z[lo:hi]) })
}
