package train

import (
	"slices"
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
