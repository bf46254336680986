package train

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
)

func tinyConfig() graph.Config {
	c := graph.DefaultConfig()
	c.DModel, c.Heads, c.Layers = 8, 2, 1
	c.AudioDim, c.VisionDim, c.TextDim = 3, 2, 6
	c.KCL = 2
	return c
}

var tinyShape = graph.Shape{B: 4, Lt: 5, La: 6, Lv: 4}

// normals returns n draws of N(0, 1).
func normals(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// randomBatch is a batch whose label depends on the text features, so a
// model can learn it; row 3 is padding.
func randomBatch(seed uint64, s graph.Shape, cfg graph.Config) *datasets.Batch {
	rng := rand.New(rand.NewPCG(seed, 9))
	b := &datasets.Batch{B: s.B, Lt: s.Lt, La: s.La, Lv: s.Lv, Ht: cfg.TextDim, Da: cfg.AudioDim, Dv: cfg.VisionDim}
	fill := func(n int) []float32 { return normals(rng, n) }
	b.TextFeats = fill(s.B * s.Lt * cfg.TextDim)
	b.Audio, b.Vision = fill(s.B*s.La*cfg.AudioDim), fill(s.B*s.Lv*cfg.VisionDim)
	b.TextMask, b.AudioMask, b.VisionMask = ones(s.B*s.Lt), ones(s.B*s.La), ones(s.B*s.Lv)
	b.Label, b.Weight, b.Index = make([]float32, s.B), ones(s.B), make([]int, s.B)
	for i := 0; i < s.B; i++ {
		b.Label[i] = max(-3, min(3, 2*b.TextFeats[i*s.Lt*cfg.TextDim]))
		b.Index[i] = i
	}
	b.Weight[3], b.Index[3] = 0, -1
	return b
}

func emptyPartners(s graph.Shape, cfg graph.Config) *contrastive.PartnerBatch {
	n := s.B * cfg.KCL * cfg.DModel
	return &contrastive.PartnerBatch{B: s.B, K: cfg.KCL, D: cfg.DModel,
		SimT: make([]float32, n), SimV: make([]float32, n), SimA: make([]float32, n),
		DiffT: make([]float32, n), DiffV: make([]float32, n), DiffA: make([]float32, n),
		SimMask: make([]float32, s.B*cfg.KCL), DiffMask: make([]float32, s.B*cfg.KCL)}
}

func trainLosses(t *testing.T, steps int) []float64 {
	cfg := tinyConfig()
	cfg.DModel = 16
	m, err := NewModel(cfg, tinyShape, ModelOptions{Seed: 3, AdamW: AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, p := randomBatch(1, tinyShape, cfg), emptyPartners(tinyShape, cfg)
	var losses []float64
	for i := 0; i < steps; i++ {
		out, err := m.TrainStep(b, p)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, out.Loss)
	}
	return losses
}

func TestTrainStepLearnsAndIsDeterministic(t *testing.T) {
	a := trainLosses(t, 50)
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	if first, last := mean(a[:5]), mean(a[45:]); !(last < 0.8*first) {
		t.Fatalf("mean loss of steps 1–5 %v, of steps 46–50 %v: not learning", first, last)
	}
	b := trainLosses(t, 50)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: loss %v then %v with one seed", i, a[i], b[i])
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := tinyConfig()
	m, err := NewModel(cfg, tinyShape, ModelOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b := randomBatch(2, tinyShape, cfg)
	if _, err := m.TrainStep(b, emptyPartners(tinyShape, cfg)); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path, map[string]string{"note": "x"}); err != nil {
		t.Fatal(err)
	}
	m2, err := NewModel(cfg, tinyShape, ModelOptions{Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if err := m2.Load(path); err != nil {
		t.Fatal(err)
	}
	got, err := m2.Predict(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Pred {
		if got.Pred[i] != want.Pred[i] {
			t.Fatalf("pred[%d] = %v after reload, want %v", i, got.Pred[i], want.Pred[i])
		}
	}
	other := cfg
	other.NoGAP = true
	m3, err := NewModel(other, tinyShape, ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close()
	if err := m3.Load(path); err == nil {
		t.Fatal("a checkpoint of another config loaded")
	}
}

// TestPredictMemoryLinear measures the bytes the first evaluation pass of a
// fixed batch allocates (its kept outputs and its scratch) at two sequence
// lengths: doubling the length must not much more than double them. A pass
// holding the attention probabilities of all heads [B·h·T·T] would
// allocate about four times as much.
func TestPredictMemoryLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("builds models with sequences of 1024 steps")
	}
	cfg := tinyConfig()
	alloc := func(l int) uint64 {
		shape := graph.Shape{B: 4, Lt: l, La: l, Lv: l}
		m, err := NewModel(cfg, shape, ModelOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		b := randomBatch(1, shape, cfg)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := m.Predict(b); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	short, long := alloc(512), alloc(1024)
	t.Logf("evaluation pass: %d bytes at 512 steps, %d at 1024", short, long)
	if ratio := float64(long) / float64(short); ratio > 2.5 {
		t.Errorf("evaluation pass: %d bytes at 512 steps, %d at 1024: ×%.2f, want linear growth (≤ ×2.5)", short, long, ratio)
	}
}
