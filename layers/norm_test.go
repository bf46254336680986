package layers

import (
	"math"
	"testing"
)

func TestNormForwardByHand(t *testing.T) {
	// x = [1, 2, 3, 6]: mean 3, biased var (4+1+0+9)/4 = 3.5; mean square (1+4+9+36)/4 = 12.5.
	x := []float64{1, 2, 3, 6}
	w := []float64{1, 2, 0.5, -1}
	bias := []float64{0, 1, 0, 0.5}
	var wantLN, wantRMS []float64
	for j, v := range x {
		wantLN = append(wantLN, (v-3)/math.Sqrt(3.5+1e-5)*w[j]+bias[j])
		wantRMS = append(wantRMS, v/math.Sqrt(12.5+1e-5)*w[j])
	}
	b := newTestBuilder(1)
	ln := NewLayerNorm(b, "ln", 4, 1e-5)
	rms := NewRMSNorm(b, "rms", 4, 1e-5)
	setInput(t, ln.W, w)
	setInput(t, ln.B, bias)
	setInput(t, rms.W, w)
	xn := b.Input("x", 1, 4)
	setInput(t, xn, x)
	got := run(t, b, ln.Fwd(b, xn), rms.Fwd(b, xn))
	assertClose(t, "layernorm", got[0], wantLN, 1e-12)
	assertClose(t, "rmsnorm", got[1], wantRMS, 1e-12)
}
