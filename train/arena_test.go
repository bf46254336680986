package train

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/graph"
)

// TestEvaluationSharesTrainingMemory runs the paper preset (d 128, 768-d
// text features, lengths 50/375/500) with CMU-MOSEI's 74-d audio and 35-d
// vision features, batch 4, on padded batches of several length buckets: evaluation after training runs in the training graphs'
// arena and grows it by less than 2% (attention's evaluation rows: 6.6 MB
// of 647 MB, 1.0%, since the residual norms stopped storing their sums; a
// kernel off by one block grew it by a sixth), and its predictions are bit
// for bit those of a model that loaded the same weights and evaluates in an
// arena of its own. Training goes on after it as it does without it.
func TestEvaluationSharesTrainingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("paper-size graphs: run without -short")
	}
	p := benchPresets()[1]
	p.cfg.AudioDim, p.cfg.VisionDim, p.shape.B = 74, 35, 4 // CMU-MOSEI's features
	batches, partners := padBatches(p, 3, func(rng *rand.Rand) func(steps int) int {
		return func(steps int) int { return 1 + rng.IntN(steps) }
	})
	var twins [2]*Model // twins[1] does not evaluate
	for i := range twins {
		m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for _, b := range batches {
			if _, err := m.TrainStep(b, partners); err != nil {
				t.Fatal(err)
			}
		}
		twins[i] = m
	}
	m := twins[0]
	trained := m.arenas[training].Bytes()
	predict := func(m *Model) [][]float32 {
		var out [][]float32
		for _, b := range batches {
			o, err := m.Predict(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, o.Pred)
		}
		return out
	}
	got := predict(m)
	if own := m.arenas[evaluating].Bytes(); own != 0 {
		t.Errorf("evaluation after training holds %d bytes of its own", own)
	}
	if grown := m.arenas[training].Bytes() - trained; grown*50 > trained {
		t.Errorf("evaluation grew the training arena of %d bytes by %d", trained, grown)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	var next [2]graph.Outputs
	var err error
	for i, tw := range twins {
		if next[i], err = tw.TrainStep(batches[0], partners); err != nil {
			t.Fatal(err)
		}
	}
	if next[0].Loss != next[1].Loss || !slices.Equal(next[0].Pred, next[1].Pred) {
		t.Errorf("the step after evaluation: loss %v, predictions %v; without evaluation %v, %v", next[0].Loss, next[0].Pred, next[1].Loss, next[1].Pred)
	}

	fresh, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Load(path); err != nil {
		t.Fatal(err)
	}
	want := predict(fresh)
	if fresh.arenas[evaluating].Bytes() == 0 {
		t.Fatal("control: a model that has not trained evaluates in the training arena")
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("batch %d: predictions %v in the shared arena, %v in an arena of their own", i, got[i], want[i])
		}
	}
}
