package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"

	G "gorgonia.org/gorgonia"
)

// gradCases build a small float64 graph around one block; every data input
// gets a value and every trainable parameter is checked.
var gradCases = []struct {
	name  string
	build func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node
	// opts overrides the check's defaults: a fully masked row adds −1e9 to
	// its scores, which leaves float64 about 1e-7 of absolute precision,
	// so its finite differences need a larger step.
	opts gradcheck.Options
}{
	{"linear", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return NewLinear(b, "fc", 4, 3, true).Fwd(b, randParam(b, "x", 1, 2, 3, 4))
	}, gradcheck.Options{}},
	{"linear_nobias", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return NewLinear(b, "fc", 4, 3, false).Fwd(b, randParam(b, "x", 1, 2, 3, 4))
	}, gradcheck.Options{}},
	{"layernorm", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		n := NewLayerNorm(b, "n", 5, 1e-5)
		setInput(t, n.W, randVals(rng, 5))
		setInput(t, n.B, randVals(rng, 5))
		return n.Fwd(b, randParam(b, "x", 2, 3, 2, 5))
	}, gradcheck.Options{}},
	{"rmsnorm", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		n := NewRMSNorm(b, "n", 5, 1e-5)
		setInput(t, n.W, randVals(rng, 5))
		return n.Fwd(b, randParam(b, "x", 2, 3, 2, 5))
	}, gradcheck.Options{}},
	{"softmax_masked", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		m := b.Input("m", 2, 4)
		setInput(t, m, []float64{1, 0, 1, 1, 0, 1, 1, 0})
		return Softmax(b, randParam(b, "x", 2, 2, 3, 4), m)
	}, gradcheck.Options{}},
	{"softmax_fully_masked", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		m := b.Input("m", 2, 4)
		setInput(t, m, []float64{1, 0, 1, 1, 0, 0, 0, 0})
		return Softmax(b, randParam(b, "x", 2, 2, 3, 4), m)
	}, gradcheck.Options{Step: 1e-3, RTol: 1e-3}},
	{"attention_3x5", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		m := b.Input("m", 2, 5)
		setInput(t, m, []float64{1, 1, 1, 0, 0, 1, 1, 1, 1, 1})
		q, k, v := randParam(b, "q", 1, 2, 3, 6), randParam(b, "k", 1, 2, 5, 6), randParam(b, "v", 1, 2, 5, 6)
		return Attention(b, q, k, v, m, 2)
	}, gradcheck.Options{}},
	{"mha_self_unmasked", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		x := randParam(b, "x", 1, 2, 4, 6)
		return NewMultiHeadAttention(b, "att", 6, 3).Fwd(b, x, x, nil)
	}, gradcheck.Options{}},
	{"lstm_2layer_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		l := NewLSTM(b, "lstm", 3, 4, 2, 0.3)
		y := l.Fwd(b, randParam(b, "x", 1, 2, 5, 3))
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
	{"lstm_two_sample_groups", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return NewLSTM(b, "lstm", 2, 3, 1, 0).Fwd(b, randParam(b, "x", 1, lstmGroup+3, 4, 2))
	}, gradcheck.Options{MaxPerParam: 24}},
	{"positional", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return AddPositional(b, randParam(b, "x", 1, 2, 3, 4))
	}, gradcheck.Options{}},
	{"pool", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		m := b.Input("m", 3, 4)
		setInput(t, m, []float64{1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0})
		return Pool(b, randParam(b, "x", 1, 3, 4, 5), m)
	}, gradcheck.Options{}},
	{"mix3", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		alpha := randParam(b, "alpha", 1, 2, 3)
		return Mix(b, alpha, randParam(b, "x0", 1, 2, 3, 4), randParam(b, "x1", 1, 2, 3, 4), randParam(b, "x2", 1, 2, 3, 4))
	}, gradcheck.Options{}},
	{"concat_axis1_3d", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return Concat(b, 1, randParam(b, "x0", 1, 2, 1, 4), randParam(b, "x1", 1, 2, 3, 4), randParam(b, "x2", 1, 2, 2, 4))
	}, gradcheck.Options{}},
	{"concat_last_axis", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return Concat(b, 2, randParam(b, "x0", 1, 2, 3, 1), randParam(b, "x1", 1, 2, 3, 5))
	}, gradcheck.Options{}},
	// The head input z of the paper preset: blocks at offsets 384 and
	// 640 agree mod 256, which Gorgonia's Concat gradient confused.
	{"concat_head_d128", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return Concat(b, 1, randParam(b, "g", 1, 2, 384), randParam(b, "pt", 1, 2, 128),
			randParam(b, "pv", 1, 2, 128), randParam(b, "pa", 1, 2, 128))
	}, gradcheck.Options{MaxPerParam: 32}},
	{"mix1_scale", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return Mix(b, randParam(b, "s", 1, 3, 1), randParam(b, "x", 1, 3, 5))
	}, gradcheck.Options{}},
	{"act_relu_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		y := b.ActDropout(ReLU, randParam(b, "x", 1, 3, 5), 0.4)
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
	{"act_tanh_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		y := b.ActDropout(Tanh, randParam(b, "x", 1, 3, 5), 0.4)
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
	{"act_sigmoid", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return b.Act(Sigmoid, randParam(b, "x", 2, 3, 5))
	}, gradcheck.Options{}},
	{"act_tanh", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return b.Act(Tanh, randParam(b, "x", 2, 3, 5))
	}, gradcheck.Options{}},
	{"residual_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		y := b.Residual(randParam(b, "x", 1, 2, 3, 4), randParam(b, "y", 1, 2, 3, 4), 0.5)
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
	{"residual_norm_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		n := NewLayerNorm(b, "n", 5, 1e-5)
		setInput(t, n.W, randVals(rng, 5))
		setInput(t, n.B, randVals(rng, 5))
		y := n.ResidualFwd(b, randParam(b, "x", 1, 2, 3, 5), randParam(b, "y", 1, 2, 3, 5), 0.5)
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
	{"residual_norm_y_only", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		n := NewLayerNorm(b, "n", 5, 1e-5)
		x := b.Input("xc", 2, 3, 5)
		setInput(t, x, randVals(rng, 30))
		return n.ResidualFwd(b, x, randParam(b, "y", 1, 2, 3, 5), 0)
	}, gradcheck.Options{}},
	{"add", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return b.Add(randParam(b, "x", 1, 2, 3), randParam(b, "y", 1, 2, 3))
	}, gradcheck.Options{}},
	{"ffn_dropout", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		f := NewFFN(b, "ffn", 4, 8, 0.5)
		y := f.Fwd(b, randParam(b, "x", 1, 2, 3, 4))
		if err := b.FillDropouts(rng, true); err != nil {
			t.Fatal(err)
		}
		return y
	}, gradcheck.Options{}},
}

func TestGradients(t *testing.T) {
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			out := c.build(t, b, rand.New(rand.NewPCG(6, 7)))
			for _, m := range checkWith(t, b, out, c.opts) {
				t.Errorf("gradient mismatch %v", m)
			}
		})
	}
}

// TestGradientsCatchPerturbedBackward runs every case again with each
// kernel's backward pass off by 1e-4 in one element per input: the check
// must report it, so the tests above can fail.
func TestGradientsCatchPerturbedBackward(t *testing.T) {
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			b.wrap = func(k kernel) kernel { return perturbed{k} }
			out := c.build(t, b, rand.New(rand.NewPCG(6, 7)))
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			if bad := checkWith(t, b, out, c.opts); len(bad) == 0 {
				t.Fatal("a perturbed backward pass went unnoticed")
			}
		})
	}
}
