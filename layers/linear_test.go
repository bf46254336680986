package layers

import "testing"

func TestLinearForwardByHand(t *testing.T) {
	b := newTestBuilder(1)
	l := NewLinear(b, "fc", 2, 3, true)
	setInput(t, l.W, []float64{1, 2, 3, 4, 5, 6})
	setInput(t, l.B, []float64{0.5, -1, 2})
	x := b.Input("x", 2, 2)
	setInput(t, x, []float64{1, -1, 2, 0.5})
	y := l.Fwd(b, x)
	got := run(t, b, y)[0]
	// row 0: [1−2, 3−4, 5−6] + b = [−0.5, −2, 1]; row 1: [2+1, 6+2, 10+3] + b = [3.5, 7, 15]
	assertClose(t, "y", got, []float64{-0.5, -2, 1, 3.5, 7, 15}, 1e-12)
}
