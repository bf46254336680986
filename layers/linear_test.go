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

func TestMixByHand(t *testing.T) {
	b := newTestBuilder(1)
	alpha := b.Input("alpha", 2, 2)
	setInput(t, alpha, []float64{0.25, 0.75, 1, -2})
	x0, x1 := b.Input("x0", 2, 2), b.Input("x1", 2, 2)
	setInput(t, x0, []float64{4, 8, 1, 2})
	setInput(t, x1, []float64{4, 0, 3, 5})
	// sample 0: 0.25·[4, 8] + 0.75·[4, 0] = [4, 2]; sample 1: [1, 2] − 2·[3, 5] = [−5, −8].
	assertClose(t, "mix", run(t, b, Mix(b, alpha, x0, x1))[0], []float64{4, 2, -5, -8}, 0)
}
