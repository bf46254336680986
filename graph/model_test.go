package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyConfig is a small model on precomputed text features.
func tinyConfig() Config {
	c := DefaultConfig()
	c.DModel, c.Heads, c.Layers = 4, 2, 2
	c.AudioDim, c.VisionDim, c.TextDim = 3, 2, 5
	c.KCL = 2
	return c
}

var tinyShape = Shape{B: 3, Lt: 4, La: 5, Lv: 3}

// fillRandom gives every data input of m a random value: features N(0,1),
// masks with varied lengths, labels in [−3, 3], weights with one padding
// row, partner slots partly filled.
func fillRandom(t *testing.T, m *Model, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	set := func(n *G.Node, f func(i int) float64) {
		if n == nil {
			return
		}
		v := make([]float64, n.Shape().TotalSize())
		for i := range v {
			v[i] = f(i)
		}
		var val *tensor.Dense
		if m.B.Dtype == tensor.Float64 {
			val = tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(v))
		} else {
			f32 := make([]float32, len(v))
			for i, x := range v {
				f32[i] = float32(x)
			}
			val = tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(f32))
		}
		if err := G.Let(n, val); err != nil {
			t.Fatal(err)
		}
	}
	normal := func(int) float64 { return rng.NormFloat64() }
	prefix := func(L int, lens []int) func(int) float64 {
		return func(i int) float64 {
			if i%L < lens[i/L] {
				return 1
			}
			return 0
		}
	}
	s := m.Shape
	set(m.TextFeats, normal)
	set(m.TextIDs, func(int) float64 { return float64(1 + rng.IntN(10)) })
	set(m.Audio, normal)
	set(m.Vision, normal)
	set(m.TextMask, prefix(s.Lt, []int{s.Lt, 2, 1}))
	set(m.AudioMask, prefix(s.La, []int{s.La, 3, 1}))
	set(m.VisionMask, prefix(s.Lv, []int{1, s.Lv, 2}))
	set(m.Label, func(int) float64 { return rng.Float64()*6 - 3 })
	set(m.Weight, func(i int) float64 { return []float64{1, 1, 0}[i] })
	for i := range m.Sim {
		set(m.Sim[i], normal)
		set(m.Diff[i], normal)
	}
	set(m.SimMask, func(i int) float64 { return []float64{1, 1, 1, 0, 0, 0}[i] })
	set(m.DiffMask, func(i int) float64 { return []float64{1, 0, 1, 1, 0, 0}[i] })
	if err := m.B.FillDropouts(rand.New(rand.NewPCG(seed, 4)), true); err != nil {
		t.Fatal(err)
	}
}

var ablations = []struct {
	name  string
	apply func(*Config)
}{
	{"full", func(*Config) {}},
	{"no_gap", func(c *Config) { c.NoGAP = true }},
	{"no_crossatt2", func(c *Config) { c.NoCrossAtt2 = true }},
	{"no_cl", func(c *Config) { c.NoCL = true }},
	{"no_cmdie", func(c *Config) { c.NoCMDIE = true }},
	{"text_only", func(c *Config) { c.TextOnly = true }},
	{"neobert", useTinyEncoder("neobert")},
	{"bert", useTinyEncoder("bert")},
}

// useTinyEncoder switches a config from text features to a tiny text
// encoder trained with the model.
func useTinyEncoder(kind string) func(*Config) {
	return func(c *Config) {
		c.TextFeats, c.TextEncoder = false, kind
		c.NeoBERT = layers.NeoBERTConfig{HiddenSize: 4, NumHiddenLayers: 1, NumAttentionHeads: 2,
			IntermediateSize: 6, VocabSize: 11, NormEps: 1e-5, MaxLength: 16}
	}
}

// TestLossGradient checks ∂L/∂θ of the whole joint loss against finite
// differences, for the full model and each ablation, in training mode
// (fixed dropout masks).
func TestLossGradient(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-model gradient check is slow; run without -short")
	}
	for _, a := range ablations {
		t.Run(a.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Dropout = 0.2
			a.apply(&cfg)
			m, err := Build(cfg, tinyShape, Options{Dtype: tensor.Float64, Train: true, WithCL: cfg.UsesCL(), Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			fillRandom(t, m, 11)
			bad, err := gradcheck.Check(m.B.G, m.Cost, m.B.Trainable(), gradcheck.Options{Seed: 5, MaxPerParam: 8, RTol: 1e-4, ATol: 1e-8})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				// SPEC §8: attention k.bias and gap.score.fc2.bias have exactly
				// zero gradient; finite differences see only rounding there.
				if (strings.HasSuffix(b.Param, ".k.bias") || strings.HasSuffix(b.Param, "score.fc2.bias")) && abs(b.Analytic) < 1e-9 && abs(b.Numeric) < 1e-6 {
					continue
				}
				t.Errorf("%v", b)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestAblationParameters checks SPEC §7: switched-off parts have no
// parameters.
func TestAblationParameters(t *testing.T) {
	count := func(cfg Config, prefix string) int {
		m, err := Build(cfg, tinyShape, Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range m.B.Params() {
			if strings.HasPrefix(p.Name, prefix) || strings.Contains(p.Name, prefix) {
				n++
			}
		}
		return n
	}
	full := tinyConfig()
	for _, c := range []struct {
		name, prefix string
		apply        func(*Config)
		full         int
	}{
		{"no_cmdie", "cmdie.", func(c *Config) { c.NoCMDIE = true }, 1},
		{"no_gap", ".gap.", func(c *Config) { c.NoGAP = true }, 1},
		{"no_crossatt2", "norm_g3", func(c *Config) { c.NoCrossAtt2 = true }, 1},
	} {
		cfg := tinyConfig()
		c.apply(&cfg)
		if n := count(cfg, c.prefix); n != 0 {
			t.Errorf("%s: %d parameters matching %q", c.name, n, c.prefix)
		}
		if n := count(full, c.prefix); n < c.full {
			t.Errorf("full model: no parameters matching %q", c.prefix)
		}
	}
}
