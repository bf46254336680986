package graph

import (
	"fmt"
	"math"

	"github.com/fdcmdie/fdcmdie/layers"
	"gorgonia.org/tensor"
)

// maeK is the weighted mean absolute error Σ_b w_b|y_b − ŷ_b| / Σ_b w_b over
// inputs ŷ [B], y [B], w [B] (w = 0 for padding rows); output [1]. The
// gradient at y = ŷ is 0, as PyTorch's.
type maeK struct{}

func (maeK) String() string { return "mae" }

func (maeK) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 1 || !in[1].Eq(in[0]) || !in[2].Eq(in[0]) {
		return nil, fmt.Errorf("pred %v, label %v, weight %v: want three [B]", in[0], in[1], in[2])
	}
	return tensor.Shape{1}, nil
}

func setAt(t *tensor.Dense, i int, v float64) {
	switch d := t.Data().(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	}
}

func (maeK) Forward(in []*tensor.Dense, out *tensor.Dense) {
	p, y, w := layers.Float64s(in[0]), layers.Float64s(in[1]), layers.Float64s(in[2])
	var s, ws float64
	for i := range p {
		s += w[i] * math.Abs(y[i]-p[i])
		ws += w[i]
	}
	if ws > 0 {
		s /= ws
	}
	setAt(out, 0, s)
}

func (maeK) Backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) {
	if grads[0] == nil {
		return
	}
	p, y, w := layers.Float64s(in[0]), layers.Float64s(in[1]), layers.Float64s(in[2])
	g := layers.Float64s(gout)[0]
	var ws float64
	for _, v := range w {
		ws += v
	}
	if ws == 0 {
		return
	}
	for i := range p {
		var sign float64
		switch {
		case p[i] > y[i]:
			sign = 1
		case p[i] < y[i]:
			sign = -1
		}
		setAt(grads[0], i, g*w[i]*sign/ws)
	}
}
