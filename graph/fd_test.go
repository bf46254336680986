package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLossGradientPaperWidth checks ∂L/∂θ of the whole joint loss at the
// paper's width (d_model 128, 4 heads, 3 CMDIE layers) against float64
// finite differences, independently of PyTorch, on a few elements of
// every part: the text encoder's embedding, the projections and LSTMs, the
// decoupling encoders, both attentions and the FFN of each DIPU branch of
// every layer, each GAP and the head. At this width Gorgonia's Concat once
// handed the audio path the text path's gradient (offsets 384 and 640 of
// the head input agree mod 256), and with --no-cmdie the six blocks of
// width d collided.
func TestLossGradientPaperWidth(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-model gradient check at d_model 128 is slow; run without -short")
	}
	for _, c := range []struct {
		name  string
		apply func(*Config)
	}{
		{"full_neobert", useTinyEncoder("neobert")},
		{"no_cmdie", func(c *Config) { c.NoCMDIE = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.DModel, cfg.Heads, cfg.Layers, cfg.VisionDim = 128, 4, 3, 20
			c.apply(&cfg)
			m, err := Build(cfg, tinyShape, Options{Dtype: tensor.Float64, Train: true, WithCL: cfg.UsesCL(), Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			fillRandom(t, m, 11)
			wrt := paperWidthParams(t, m)
			bad, err := gradcheck.Check(m.B.G, m.Cost, wrt, gradcheck.Options{Seed: 5, MaxPerParam: 3, RTol: 1e-5, ATol: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bad {
				t.Errorf("%v", b)
			}
			t.Logf("%d parameter tensors checked", len(wrt))
		})
	}
}

// paperWidthParams picks the parameters of every part of m that exists.
func paperWidthParams(t *testing.T, m *Model) G.Nodes {
	t.Helper()
	want := []string{"text_encoder.encoder.weight", "text_proj.weight", "audio_lstm.weight_ih_l0", "vision_lstm.weight_hh_l1",
		"shared_enc.linear.weight", "private_enc.t.linear.bias", "private_enc.v.linear.bias", "private_enc.a.linear.bias",
		"head.fc1.weight", "head.fc2.bias"}
	for l := 0; l < m.Cfg.Layers && !m.Cfg.NoCMDIE; l++ {
		for _, mod := range modalities {
			p := fmt.Sprintf("cmdie.%d.", l)
			want = append(want, p+"dipu."+mod+".cross.v.weight", p+"dipu."+mod+".self.q.weight",
				p+"dipu."+mod+".ffn.fc2.bias", p+"gap.gate."+mod+".fc1.weight")
		}
		want = append(want, fmt.Sprintf("cmdie.%d.gap.score.fc1.weight", l))
	}
	byName := map[string]*G.Node{}
	for _, p := range m.B.Params() {
		byName[p.Name] = p.Node
	}
	var ns G.Nodes
	for _, n := range want {
		if p, ok := byName[n]; ok {
			ns = append(ns, p)
		} else if !strings.HasPrefix(n, "text_encoder.") || !m.Cfg.TextFeats {
			t.Fatalf("no parameter %s", n)
		}
	}
	return ns
}
