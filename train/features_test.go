package train

import (
	"slices"
	"strings"
	"testing"
)

// TestFeaturesMatchPredict checks Model.Features against Predict on
// padded batches of several length buckets, before and after a training
// step: F and S of every real row are bit for bit Predict's. After
// ReleaseFeatures no features graph is left, and Features compiles them
// again.
func TestFeaturesMatchPredict(t *testing.T) {
	cfg := tinyConfig()
	m, err := NewModel(cfg, cutShape, ModelOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	check := func(step int) {
		for seed := uint64(1); seed <= 4; seed++ {
			b := paddedTrainBatch(seed, cutShape, cfg)
			want, err := m.Predict(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Features(b)
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.DModel
			for i := range 3 {
				for row, idx := range b.Index {
					rows := func(v []float32) []float32 { return v[row*d : (row+1)*d] }
					if idx >= 0 && (!slices.Equal(rows(got.F[i]), rows(want.F[i])) || !slices.Equal(rows(got.S[i]), rows(want.S[i]))) {
						t.Errorf("after %d steps, batch %d, row %d, modality %d: Features differs from Predict", step, seed, row, i)
					}
				}
			}
		}
	}
	check(0)
	if _, err := m.TrainStep(paddedTrainBatch(9, cutShape, cfg), emptyPartners(cutShape, cfg)); err != nil {
		t.Fatal(err)
	}
	check(1)
	m.ReleaseFeatures()
	for k := range m.runners {
		if k.mode == featuring {
			t.Fatalf("graph %+v is left after ReleaseFeatures", k)
		}
	}
	check(1)
}

// TestFeaturesRefusedForTextOnly checks that the text-only baseline, which
// has no memory bank, gets an error from Features rather than a graph.
func TestFeaturesRefusedForTextOnly(t *testing.T) {
	cfg := tinyConfig()
	cfg.TextOnly = true
	m, err := NewModel(cfg, tinyShape, ModelOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := randomBatch(1, tinyShape, cfg)
	if _, err := m.Predict(b); err != nil {
		t.Fatalf("control: Predict: %v", err)
	}
	if _, err := m.Features(b); err == nil || !strings.Contains(err.Error(), "features graph") {
		t.Errorf("Features on the text-only baseline: error %v, want one naming the features graph", err)
	}
}
