package graph

import (
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// TestFeaturesGraphMatchesEvaluation checks the memory bank's graph
// (Options.Features) at the paper's sizes with CMU-MOSEI's features (d 128,
// 768-d text, 74-d audio, 35-d vision, lengths 50/375/500, padded rows):
// its F and S are bit for bit those of
// the evaluation graph on the same weights and batch, and it has no other
// outputs. The control changes one vision step, which must change f_v and
// s_v.
func TestFeaturesGraphMatchesEvaluation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AudioDim, cfg.VisionDim = 74, 35
	s := Shape{B: 4, Lt: 50, La: 375, Lv: 500}
	b, _ := paddedBatchOf(cfg, s, 4, [3][]int{{31, 50, 7, 0}, {120, 17, 375, 0}, {499, 260, 33, 0}})
	full, err := Build(cfg, s, Options{Train: true, WithCL: true, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	run := func(features bool, vision []float32) Outputs {
		m, err := Build(cfg, s, Options{Seed: 5, Share: full, Features: features})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(m, false)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		batch := *b
		batch.Vision = vision
		out, err := r.Eval(&batch)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := run(false, b.Vision), run(true, b.Vision)
	if got.Pred != nil || got.D[0] != nil || got.D[1] != nil || got.D[2] != nil || got.Alpha != nil || got.Loss != 0 {
		t.Errorf("features graph has outputs beyond F and S: pred %v, d %v, alpha %v, loss %v", got.Pred, got.D, got.Alpha, got.Loss)
	}
	for i, mod := range modalities {
		if !slices.Equal(got.F[i], want.F[i]) || len(got.F[i]) != 4*cfg.DModel {
			t.Errorf("f_%s differs from the evaluation graph's", mod)
		}
		if !slices.Equal(got.S[i], want.S[i]) || len(got.S[i]) != 4*cfg.DModel {
			t.Errorf("s_%s differs from the evaluation graph's", mod)
		}
	}
	vision := slices.Clone(b.Vision)
	vision[(500+20)*cfg.VisionDim] += 1 // row 1, step 20 (of 120 real)
	ctl := run(true, vision)
	if slices.Equal(ctl.F[1], got.F[1]) || slices.Equal(ctl.S[1], got.S[1]) || !slices.Equal(ctl.F[2], got.F[2]) {
		t.Error("control: a changed vision step must change f_v and s_v and leave f_a")
	}
}

// TestFeaturesGraphRefusesTraining checks that a features graph is an
// evaluation graph only.
func TestFeaturesGraphRefusesTraining(t *testing.T) {
	cfg := tinyConfig()
	s := Shape{B: 2, Lt: 4, La: 3, Lv: 5}
	for _, o := range []Options{{Features: true, Train: true}, {Features: true, Train: true, WithCL: true}} {
		if _, err := Build(cfg, s, o); err == nil {
			t.Errorf("Build(%+v) gives a features graph that trains", o)
		}
	}
	cfg.TextOnly = true
	if _, err := Build(cfg, s, Options{Features: true, Dtype: tensor.Float32}); err == nil {
		t.Error("the text-only baseline builds a features graph")
	}
}
