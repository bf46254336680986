package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// paddedBatch is a right-padded batch of 4 rows for cfg at shape s: rows
// 0–2 are samples with real lengths well below s's, row 3 is a padding row
// (weight 0, no real step), with partners for the contrastive loss.
func paddedBatch(cfg Config, s Shape, seed uint64) (*datasets.Batch, *contrastive.PartnerBatch) {
	return paddedBatchOf(cfg, s, seed, [3][]int{{3, 5, 2, 0}, {4, 2, 6, 0}, {1, 5, 3, 0}})
}

// paddedBatchOf is paddedBatch with the real lengths of the four rows
// given: text, audio, vision.
func paddedBatchOf(cfg Config, s Shape, seed uint64, lengths [3][]int) (*datasets.Batch, *contrastive.PartnerBatch) {
	rng := rand.New(rand.NewPCG(seed, 5))
	b := &datasets.Batch{B: 4, Lt: s.Lt, La: s.La, Lv: s.Lv, Da: cfg.AudioDim, Dv: cfg.VisionDim,
		Index: []int{0, 1, 2, -1}, Label: []float32{1.5, -0.5, 2.25, 0}, Weight: []float32{1, 1, 1, 0}}
	steps := func(l, d int, lengths []int, f func() float32) (x, mask []float32) {
		for _, n := range lengths {
			for t := 0; t < l; t++ {
				real := t < n
				mask = append(mask, map[bool]float32{true: 1}[real])
				for j := 0; j < d; j++ {
					v := float32(0)
					if real {
						v = f()
					}
					x = append(x, v)
				}
			}
		}
		return x, mask
	}
	normal := func() float32 { return float32(rng.NormFloat64()) }
	if cfg.TextFeats {
		b.Ht = cfg.TextDim
		b.TextFeats, b.TextMask = steps(s.Lt, cfg.TextDim, lengths[0], normal)
	} else {
		b.TextIDs, b.TextMask = steps(s.Lt, 1, lengths[0], func() float32 { return float32(1 + rng.IntN(cfg.NeoBERT.VocabSize-1)) })
	}
	b.Audio, b.AudioMask = steps(s.La, cfg.AudioDim, lengths[1], normal)
	b.Vision, b.VisionMask = steps(s.Lv, cfg.VisionDim, lengths[2], normal)
	k, d := cfg.KCL, cfg.DModel
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = normal()
		}
		return v
	}
	p := &contrastive.PartnerBatch{B: 4, K: k, D: d, SimT: vec(4 * k * d), SimV: vec(4 * k * d), SimA: vec(4 * k * d),
		DiffT: vec(4 * k * d), DiffV: vec(4 * k * d), DiffA: vec(4 * k * d),
		SimMask: []float32{1, 1, 1, 0, 0, 1, 0, 0}, DiffMask: []float32{1, 0, 1, 1, 0, 1, 0, 0}}
	return b, p
}

// runValues are the float64 outputs and gradients of one training run,
// copied out of the machine (graphs sharing an arena overwrite them).
type runValues map[string][]float64

func copyOf(v G.Value) []float64 {
	if v == nil {
		return nil
	}
	return slices.Clone(asFloat64(v.Data()))
}

// read is the value a runner read into p; nil when it reads none.
func read(p *G.Value) G.Value {
	if p == nil {
		return nil
	}
	return *p
}

// trainRun runs m's training graph once on b with dropout masks drawn from
// seed; mutate, when set, changes the masks before the run.
func trainRun(t *testing.T, m *Model, b *datasets.Batch, p *contrastive.PartnerBatch, seed uint64, mutate func(*Model)) runValues {
	t.Helper()
	r, err := NewRunner(m, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.SetBatch(b, p); err != nil {
		t.Fatal(err)
	}
	if err := m.B.FillDropouts(rand.New(rand.NewPCG(seed, 1)), true); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(m)
	}
	if err := r.Run(); err != nil {
		t.Fatal(err)
	}
	const rows = 3 // the weighted rows; the padding row's outputs may change
	v := runValues{"loss": copyOf(read(r.loss)), "mae": copyOf(read(r.mae)), "l_cl": copyOf(read(r.lcl))}
	v["pred"] = copyOf(read(r.pred))[:rows]
	for i, mod := range modalities {
		for name, val := range map[string]*G.Value{"s_": r.s[i], "d_": r.d[i], "f_": r.f[i]} {
			if x := copyOf(read(val)); x != nil {
				v[name+mod] = x[:rows*m.Cfg.DModel]
			}
		}
	}
	for l, a := range r.alpha {
		v[fmt.Sprintf("alpha_%d", l)] = copyOf(read(a))[:rows*3]
	}
	for _, prm := range m.B.Params() {
		g, err := prm.Node.Grad()
		if err != nil {
			t.Fatal(err)
		}
		v["grad "+prm.Name] = copyOf(g)
	}
	return v
}

// worst returns the largest difference between a and b of any value,
// relative to the largest magnitude of its output or gradient, and its name.
func worst(t *testing.T, a, b runValues) (float64, string) {
	t.Helper()
	return worstAbove(t, a, b, 1e-300)
}

// worstAbove is worst with each tensor's scale at least floor: a tensor that
// is zero in exact arithmetic (the gradient of an attention key bias, which
// shifts every score of a query alike) holds only rounding noise, which no
// relative comparison can bound.
func worstAbove(t *testing.T, a, b runValues, floor float64) (float64, string) {
	t.Helper()
	var rel float64
	var at string
	for name, want := range b {
		got := a[name]
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		var diff, scale float64
		for i := range want {
			diff = math.Max(diff, math.Abs(got[i]-want[i]))
			scale = math.Max(scale, math.Abs(want[i]))
		}
		if r := diff / math.Max(scale, floor); r > rel || math.IsNaN(r) {
			rel, at = r, name
		}
	}
	return rel, at
}

// TestCutBatchMatchesPadded runs a right-padded batch through the float64
// training graph of its full shape, and the same batch cut to its real
// lengths (datasets.Batch.RealLengths) through a graph of the cut shape that
// shares the weights and the arena, with the same dropout seed: the loss,
// the outputs of every sample and every parameter's gradient must agree to
// 1e-12 of each tensor's largest value, for the full model, each ablation
// and both text encoders. Padded steps contribute exactly nothing: masked
// keys and pooling, unidirectional LSTMs, per-step layers, and dropout masks
// drawn per (sample, step). Two controls show the check can fail: a cut
// that drops a real text step, and dropout masks drawn as one flat stream
// at the cut shape (the masks then depend on the length).
func TestCutBatchMatchesPadded(t *testing.T) {
	full := Shape{B: 4, Lt: 9, La: 11, Lv: 8}
	for _, ab := range ablations {
		t.Run(ab.name, func(t *testing.T) {
			cfg := tinyConfig()
			ab.apply(&cfg)
			b, p := paddedBatch(cfg, full, 2)
			lt, la, lv := b.RealLengths()
			if lt != 5 || la != 6 || lv != 5 {
				t.Fatalf("real lengths %d, %d, %d; want 5, 6, 5", lt, la, lv)
			}
			arena := layers.NewArena()
			o := Options{Dtype: tensor.Float64, Train: true, WithCL: cfg.UsesCL(), Seed: 7, Arena: arena}
			fm, err := Build(cfg, full, o)
			if err != nil {
				t.Fatal(err)
			}
			want := trainRun(t, fm, b, p, 3, nil)
			var fullMasks [][]float64 // copied before a cut graph overwrites the shared arena
			for _, d := range fm.B.Dropouts() {
				fullMasks = append(fullMasks, slices.Clone(d.Node.Value().Data().([]float64)))
			}
			cutRun := func(lt, la, lv int, mutate func(*Model)) runValues {
				t.Helper()
				o.Share = fm
				cm, err := Build(cfg, Shape{B: 4, Lt: lt, La: la, Lv: lv}, o)
				if err != nil {
					t.Fatal(err)
				}
				var cb datasets.Batch
				if err := b.Cut(&cb, lt, la, lv); err != nil {
					t.Fatal(err)
				}
				return trainRun(t, cm, &cb, p, 3, mutate)
			}
			rel, at := worst(t, cutRun(lt, la, lv, nil), want)
			t.Logf("cut to %d/%d/%d steps: largest relative difference %.3g", lt, la, lv, rel)
			if rel > 1e-12 {
				t.Errorf("cut to %d/%d/%d steps: %s differs by %.3g of its largest value", lt, la, lv, at, rel)
			}
			if rel, _ := worst(t, cutRun(lt-1, la, lv, nil), want); rel < 1e-6 {
				t.Errorf("control: a cut dropping a real text step changes nothing (%.3g)", rel)
			}
			if !slices.ContainsFunc(fm.B.Dropouts(), func(d *layers.Dropout) bool { return d.Node.Shape().Dims() == 3 }) {
				return // no mask has a time axis (text_only: the head's alone)
			}
			flat := func(cm *Model) { // each mask: the leading elements of the full graph's mask
				for i, d := range cm.B.Dropouts() {
					copy(d.Node.Value().Data().([]float64), fullMasks[i])
				}
			}
			if rel, _ := worst(t, cutRun(lt, la, lv, flat), want); rel < 1e-6 {
				t.Errorf("control: dropout masks that depend on the length change nothing (%.3g)", rel)
			}
		})
	}
}

// TestRowSkippingMatchesDense runs a right-padded batch through the float64
// training graph twice, with the same weights and dropout seed: computing
// only each sample's real steps (the default, layers.Builder.Rows) and every
// step (Options.DenseRows). The loss, every sample's outputs and every
// parameter's gradient agree to 1e-12 of each tensor's largest value (or
// of 1e-4 for tensors that are zero in exact arithmetic, see
// TestRowSkippingMatchesDensePaperSize), for the full model, each ablation
// and both text encoders: bit for bit in the default build; to rounding
// with -tags openblas, whose float64 products block other row counts
// differently. The control: a batch whose audio mask is one step shorter
// for one sample changes them.
func TestRowSkippingMatchesDense(t *testing.T) {
	full := Shape{B: 4, Lt: 9, La: 11, Lv: 8}
	for _, ab := range ablations {
		t.Run(ab.name, func(t *testing.T) {
			cfg := tinyConfig()
			ab.apply(&cfg)
			b, p := paddedBatch(cfg, full, 2)
			run := func(dense bool, b *datasets.Batch) runValues {
				m, err := Build(cfg, full, Options{Dtype: tensor.Float64, Train: true, WithCL: cfg.UsesCL(), Seed: 7, DenseRows: dense})
				if err != nil {
					t.Fatal(err)
				}
				return trainRun(t, m, b, p, 3, nil)
			}
			want := run(true, b)
			rel, at := worstAbove(t, run(false, b), want, 1e-4)
			t.Logf("largest relative difference %.3g", rel)
			if rel > 1e-12 {
				t.Errorf("%s differs by %.3g of its largest value", at, rel)
			}
			if cfg.TextOnly {
				return
			}
			short := *b
			short.AudioMask = slices.Clone(b.AudioMask)
			short.AudioMask[3] = 0 // sample 0: 4 real audio steps → 3
			if rel, _ := worstAbove(t, run(false, &short), want, 1e-4); rel < 1e-6 {
				t.Errorf("control: a shorter audio mask changes nothing (%.3g)", rel)
			}
		})
	}
}

// TestRowSkippingMatchesDensePaperSize is TestRowSkippingMatchesDense at
// the paper preset's sizes (d_model 128, 768-d text features, 50/375/500
// steps), where offsets of 128-wide blocks agree modulo 256 (GORGONIA.md):
// three rows with real lengths spread over the padded ones, and a padding
// row, in float64. At these sizes the float64 products take other block
// orders for other row counts, so the two agree to rounding (1e-12 of each
// tensor's largest value, or of 1e-4 for tensors that are zero in exact
// arithmetic: the key biases' and the GAP score bias's gradients, which
// shift every score of a softmax alike; the gradients are of order 1e-3),
// not bit for bit as at the tiny sizes.
func TestRowSkippingMatchesDensePaperSize(t *testing.T) {
	if testing.Short() {
		t.Skip("paper-size float64 graphs: seconds; run without -short")
	}
	cfg := DefaultConfig()
	cfg.KCL = 2 // paddedBatchOf's partner slots
	full := Shape{B: 4, Lt: 50, La: 375, Lv: 500}
	b, p := paddedBatchOf(cfg, full, 9, [3][]int{{31, 50, 7, 0}, {120, 17, 375, 0}, {499, 260, 33, 0}})
	run := func(dense bool) runValues {
		m, err := Build(cfg, full, Options{Dtype: tensor.Float64, Train: true, WithCL: true, Seed: 7, DenseRows: dense})
		if err != nil {
			t.Fatal(err)
		}
		return trainRun(t, m, b, p, 3, nil)
	}
	want := run(true)
	rel, at := worstAbove(t, run(false), want, 1e-4)
	t.Logf("largest relative difference %.3g", rel)
	if rel > 1e-12 {
		t.Errorf("%s differs by %.3g of its largest value", at, rel)
	}
	short := *b // the control: one real text step fewer in row 0
	short.TextMask = slices.Clone(b.TextMask)
	short.TextMask[30] = 0
	m, err := Build(cfg, full, Options{Dtype: tensor.Float64, Train: true, WithCL: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rel, _ := worstAbove(t, trainRun(t, m, &short, p, 3, nil), want, 1e-4); rel < 1e-6 {
		t.Errorf("control: a shorter text mask changes nothing (%.3g)", rel)
	}
}
