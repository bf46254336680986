package layers

import (
	"math"
	"math/rand/v2"
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

// TestRowStats8MatchesRowStats4 checks that the eight-row statistics
// (vec.RowStats8) are bitwise those of rowStats4 row by row: LayerNorm and
// RMSNorm, widths with and without AVX2's multiple of four (the latter
// through the Go fallback), rows of large and tiny values, infinities and
// NaN.
func TestRowStats8MatchesRowStats4(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU: rowStats8 is two rowStats4, nothing to compare")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, d := range []int{4, 13, 128, 132, 768} {
		x := make([]float32, 8*d)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()*3))
		}
		x[d+3], x[5*d+1] = float32(math.Inf(1)), float32(math.NaN())
		for _, rms := range []bool{false, true} {
			k := normK{eps: 1e-5, rms: rms}
			mu, rstd := rowStats8(k, x, d)
			for half := range 2 {
				m4, r4 := rowStats4(k, x[half*4*d:(half+1)*4*d], d)
				for i := range 4 {
					for _, v := range [][2]float64{{mu[half*4+i], m4[i]}, {rstd[half*4+i], r4[i]}} {
						if math.Float64bits(v[0]) != math.Float64bits(v[1]) && !(v[0] != v[0] && v[1] != v[1]) {
							t.Fatalf("d %d, rms %v, row %d: %v from rowStats8, %v from rowStats4", d, rms, half*4+i, v[0], v[1])
						}
					}
				}
			}
		}
	}
}
