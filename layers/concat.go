package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Concat joins xs along axis; their shapes agree on every other axis. It
// replaces Gorgonia's Concat, whose backward pass cuts the output gradient
// with Slice ops that Gorgonia merges when their bounds agree modulo 256
// (GORGONIA.md: at d_model 128 one input received another's gradient).
// Here the backward pass copies each input's block of the output gradient
// straight into that input's gradient.
func Concat(b *Builder, axis int, xs ...*G.Node) *G.Node {
	return b.apply(concatK{axis: axis}, xs...)
}

type concatK struct{ axis int }

func (k concatK) String() string { return fmt.Sprintf("concat(axis=%d)", k.axis) }

func (k concatK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	first := in[0]
	if k.axis < 0 || k.axis >= first.Dims() {
		return nil, fmt.Errorf("axis %d of a %d-D input", k.axis, first.Dims())
	}
	out := first.Clone()
	out[k.axis] = 0
	for _, s := range in {
		if s.Dims() != first.Dims() {
			return nil, fmt.Errorf("inputs %v and %v differ in rank", first, s)
		}
		for i := range s {
			if i != k.axis && s[i] != first[i] {
				return nil, fmt.Errorf("inputs %v and %v differ on axis %d", first, s, i)
			}
		}
		out[k.axis] += s[k.axis]
	}
	return out, nil
}

func (k concatK) forward(a *kargs)  { byType(a.dt, concatDo[float32], concatDo[float64])(k, a, false) }
func (k concatK) backward(a *kargs) { byType(a.dt, concatDo[float32], concatDo[float64])(k, a, true) }

// concatDo copies each input's rows into its block of every output row
// (the output viewed as [outer, Σ inner_i], input i as [outer, inner_i]),
// or with back copies those blocks of the output gradient into the inputs'
// gradients.
func concatDo[T float](k concatK, a *kargs, back bool) {
	outer := 1
	for _, n := range a.shape[0][:k.axis] {
		outer *= n
	}
	row := 0
	for _, s := range a.shape {
		row += s.TotalSize() / outer
	}
	y := data[T](a.out)
	if back {
		y = data[T](a.gout)
	}
	off := 0
	for i, s := range a.shape {
		inner := s.TotalSize() / outer
		x := data[T](a.in[i])
		if back {
			x = data[T](a.grads[i])
		}
		if x != nil {
			for o := 0; o < outer; o++ {
				blk, xs := y[o*row+off:o*row+off+inner], x[o*inner:(o+1)*inner]
				if back {
					copy(xs, blk)
				} else {
					copy(blk, xs)
				}
			}
		}
		off += inner
	}
}
