package train

import (
	"math/rand/v2"
	"testing"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
)

// benchPreset is a model and batch shape of the speed comparison with
// PyTorch (tools/bench_torch.py).
type benchPreset struct {
	name  string
	cfg   graph.Config
	shape graph.Shape
	vocab int
}

func benchPresets() []benchPreset {
	small := graph.DefaultConfig() // the embedded default run (cmd/fdcmdie "small")
	small.DModel, small.Heads, small.Layers = 32, 4, 2
	small.TextFeats = false
	small.NeoBERT = layers.NeoBERTConfig{HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 2,
		IntermediateSize: 128, VocabSize: 280, NormEps: 1e-5, MaxLength: 512}
	paper := graph.DefaultConfig() // d 128, 4 heads, k 3, 768-d text features, k_cl 10
	return []benchPreset{
		{"small", small, graph.Shape{B: 32, Lt: 34, La: 50, Lv: 50}, 280},
		{"paper", paper, graph.Shape{B: 32, Lt: 50, La: 375, Lv: 500}, 0},
	}
}

// benchBatch is a full batch of random inputs with every partner slot filled.
func benchBatch(p benchPreset) (*datasets.Batch, *contrastive.PartnerBatch) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, c := p.shape, p.cfg
	normal := func(n int) []float32 { return normals(rng, n) }
	b := &datasets.Batch{B: s.B, Lt: s.Lt, La: s.La, Lv: s.Lv, Da: c.AudioDim, Dv: c.VisionDim,
		TextMask: ones(s.B * s.Lt), Audio: normal(s.B * s.La * c.AudioDim), AudioMask: ones(s.B * s.La),
		Vision: normal(s.B * s.Lv * c.VisionDim), VisionMask: ones(s.B * s.Lv), Label: normal(s.B), Weight: ones(s.B)}
	if c.TextFeats {
		b.Ht, b.TextFeats = c.TextDim, normal(s.B*s.Lt*c.TextDim)
	} else {
		b.TextIDs = make([]float32, s.B*s.Lt)
		for i := range b.TextIDs {
			b.TextIDs[i] = float32(1 + rng.IntN(p.vocab-1))
		}
	}
	n := s.B * c.KCL * c.DModel
	pb := &contrastive.PartnerBatch{B: s.B, K: c.KCL, D: c.DModel, SimT: normal(n), SimV: normal(n), SimA: normal(n),
		DiffT: normal(n), DiffV: normal(n), DiffA: normal(n), SimMask: ones(s.B * c.KCL), DiffMask: ones(s.B * c.KCL)}
	return b, pb
}

// BenchmarkTrainStep times forward + backward + AdamW on one batch of 32,
// with the garbage collector set as the command line sets it (TuneGC).
func BenchmarkTrainStep(bm *testing.B) {
	TuneGC()
	for _, p := range benchPresets() {
		bm.Run(p.name, func(bm *testing.B) {
			m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
			if err != nil {
				bm.Fatal(err)
			}
			defer m.Close()
			b, pb := benchBatch(p)
			if _, err := m.TrainStep(b, pb); err != nil { // warm up
				bm.Fatal(err)
			}
			bm.ReportAllocs()
			bm.ResetTimer()
			for i := 0; i < bm.N; i++ {
				if _, err := m.TrainStep(b, pb); err != nil {
					bm.Fatal(err)
				}
			}
			bm.ReportMetric(float64(p.shape.B*bm.N)/bm.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkPredict times inference (evaluation graph) on one batch of 32.
func BenchmarkPredict(bm *testing.B) {
	TuneGC()
	for _, p := range benchPresets() {
		bm.Run(p.name, func(bm *testing.B) {
			m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
			if err != nil {
				bm.Fatal(err)
			}
			defer m.Close()
			b, _ := benchBatch(p)
			if _, err := m.Predict(b); err != nil {
				bm.Fatal(err)
			}
			bm.ReportAllocs()
			bm.ResetTimer()
			for i := 0; i < bm.N; i++ {
				if _, err := m.Predict(b); err != nil {
					bm.Fatal(err)
				}
			}
			bm.ReportMetric(float64(p.shape.B*bm.N)/bm.Elapsed().Seconds(), "samples/s")
		})
	}
}
