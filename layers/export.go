package layers

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is a fused op with a hand-written backward pass, for packages
// that build their own (the contrastive loss, the joint loss). Every tensor
// it sees is dense, contiguous and of the graph's element type.
type Kernel interface {
	// String names the kernel and its configuration; kernels with equal
	// strings must compute the same function (Gorgonia hashes it).
	String() string
	// OutShape gives the output shape for the input shapes, or an error.
	OutShape(in []tensor.Shape) (tensor.Shape, error)
	// Forward computes out from in. out holds the previous run's values:
	// Forward must write every element.
	Forward(in []*tensor.Dense, out *tensor.Dense)
	// Backward writes into grads[i] (zeroed; nil where input i gets no
	// gradient) the gradient of the cost with respect to input i, given
	// gout, the gradient with respect to the output out.
	Backward(in []*tensor.Dense, out, gout *tensor.Dense, grads []*tensor.Dense)
}

// ApplyKernel adds k to the graph; inputs that are data or frozen get no
// gradient.
func (b *Builder) ApplyKernel(k Kernel, inputs ...*G.Node) *G.Node {
	return b.apply(exported{k}, inputs...)
}

// exported adapts a Kernel to the package's kernel interface.
type exported struct{ k Kernel }

func (e exported) String() string { return e.k.String() }

func (e exported) outShape(in []tensor.Shape) (tensor.Shape, error) { return e.k.OutShape(in) }

func (e exported) forward(a *kargs) { e.k.Forward(a.in, a.out) }

func (e exported) backward(a *kargs) { e.k.Backward(a.in, a.out, a.gout, a.grads) }

// Float64s returns a tensor's float32 or float64 data as float64 (a copy
// for float32; the backing slice itself for float64).
func Float64s(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		return Convert[float64](d)
	case []float64:
		return d
	}
	return nil
}
