package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestResidualNormMatchesUnfused runs LayerNorm.ResidualFwd and the two
// kernels it fuses (Builder.Residual, then Fwd) at the paper preset's size
// (batch 32, 500 steps, d 128, float32, dropout 0.1) and requires the same
// bits: the output and the gradients of x, y, the weight and the bias;
// over every step and over right-padded rows (Builder.Rows), and with x a
// constant, where only y takes a gradient.
func TestResidualNormMatchesUnfused(t *testing.T) {
	const B, L, d = 32, 500, 128
	mask := make([]float64, B*L)
	for b := 0; b < B; b++ {
		for s := 0; s < 1+(b*37)%L; s++ {
			mask[b*L+s] = 1
		}
	}
	for _, padded := range []bool{false, true} {
		for _, xGrad := range []bool{true, false} {
			t.Run(fmt.Sprintf("padded=%v,xgrad=%v", padded, xGrad), func(t *testing.T) {
				var got [2][][]float64
				for i, fused := range []bool{false, true} {
					b := NewBuilder(tensor.Float32, 3, true)
					rng := rand.New(rand.NewPCG(8, 9))
					var x *G.Node
					if xGrad {
						x = randParam(b, "x", 1, B, L, d)
					} else {
						x = b.Input("x", B, L, d)
						setInput32(t, x, randVals(rng, B*L*d))
					}
					if padded {
						m := b.Input("m", B, L)
						setInput32(t, m, mask)
						x = b.Rows(x, m)
					}
					y := randParam(b, "y", 1, B, L, d)
					n := NewLayerNorm(b, "n", d, 1e-5)
					var out *G.Node
					if fused {
						out = n.ResidualFwd(b, x, y, 0.1)
					} else {
						out = n.Fwd(b, b.Residual(x, y, 0.1))
					}
					if err := b.FillDropouts(rand.New(rand.NewPCG(10, 11)), true); err != nil {
						t.Fatal(err)
					}
					got[i] = runWithGrads(t, b, out, b.Trainable()...)
				}
				for j := range got[0] {
					assertClose(t, fmt.Sprintf("output or gradient %d", j), got[1][j], got[0][j], 0)
				}
			})
		}
	}
}
