package layers

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestActAndResidualValues checks the elementwise kernels on hand-computed
// values, in float64 and float32, with a dropout mask of 0 and 2.
func TestActAndResidualValues(t *testing.T) {
	x := []float64{-1, 0.5, 2}
	y := []float64{10, 20, 30}
	mask := []float64{2, 0, 2}
	// tanh(0.5) = 0.46211715726000974, tanh(2) = 0.9640275800758169,
	// sigmoid(-1) = 0.2689414213699951, sigmoid(2) = 0.8807970779778823.
	want := map[string][]float64{
		"relu":        {0, 0.5, 2},
		"relu_mask":   {0, 0, 4},
		"tanh_mask":   {-2 * 0.7615941559557649, 0, 2 * 0.9640275800758169},
		"sigmoid":     {0.2689414213699951, 0.6224593312018546, 0.8807970779778823},
		"add":         {9, 20.5, 32},
		"residual":    {19, 0.5, 62},
		"dropout_raw": {-2, 0, 4},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b := NewBuilder(dt, 1, true)
		set := setInput
		if dt == tensor.Float32 {
			set = setInput32
		}
		xn, yn := b.Input("x", 3), b.Input("y", 3)
		set(t, xn, x)
		set(t, yn, y)
		got := map[string]*G.Node{
			"relu":        b.Act(ReLU, xn),
			"relu_mask":   b.ActDropout(ReLU, xn, 0.5),
			"tanh_mask":   b.ActDropout(Tanh, xn, 0.5),
			"sigmoid":     b.Act(Sigmoid, xn),
			"add":         b.Add(xn, yn),
			"residual":    b.Residual(xn, yn, 0.5),
			"dropout_raw": b.Dropout(xn, 0.5),
		}
		for _, d := range b.Dropouts() {
			set(t, d.Node, mask)
		}
		names := []string{"relu", "relu_mask", "tanh_mask", "sigmoid", "add", "residual", "dropout_raw"}
		nodes := make([]*G.Node, len(names))
		for i, n := range names {
			nodes[i] = got[n]
		}
		vals := run(t, b, nodes...)
		tol := 1e-15
		if dt == tensor.Float32 {
			tol = 1e-7
		}
		for i, n := range names {
			assertClose(t, dt.String()+" "+n, vals[i], want[n], tol)
		}
	}
}
