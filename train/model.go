package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
)

// ModelOptions configure a Model beyond its graph.Config.
type ModelOptions struct {
	Seed       uint64      // initialization and dropout
	FreezeText bool        // no gradient and no optimizer state for the text encoder
	AdamW      AdamWConfig // zero value: DefaultAdamWConfig()
	ClipNorm   float64     // global gradient-norm clipping; 0 turns it off
	// Init, when set, runs once on the training graph after it is built,
	// e.g. to load released text-encoder weights (layers.NeoBERT.Load).
	Init func(*graph.Model) error
	// FullLength runs every batch at the model's full shape instead of
	// cutting it to its real lengths: slower on padded data, and the same
	// numbers up to float32 rounding. For comparisons.
	FullLength bool
}

// Model is one FD-CMDIE configuration ready to train and predict on
// batches of a fixed shape, with an AdamW optimizer.
//
// A batch is cut to its real lengths before it runs: per modality, to the
// steps that hold a real step of some sample (datasets.Batch.RealLengths),
// rounded up to a length bucket (bucketLength: at most eight per
// modality). Each bucket's shape has its own training graph (dropout,
// gradients, the contrastive loss when on) and evaluation graph, compiled
// when a batch first needs it and reused for the rest of the run. They all
// hold one set of weights, the training graph of the full shape's (graph
// Options.Share), and one arena of working memory (layers.Arena), so the
// graphs together take the memory of the largest. Padded steps contribute
// exactly nothing to a sample's outputs or to the gradients, and dropout
// masks are drawn per (sample, step), so a cut batch gives the numbers of
// the uncut one (graph's TestCutBatchMatchesPadded) and a run does not
// depend on its buckets.
type Model struct {
	Cfg   graph.Config
	Shape graph.Shape

	o          ModelOptions
	train      *graph.Model // the full shape's training graph: it owns the weights
	arena      *layers.Arena
	runners    map[runnerKey]*graph.Runner
	cut        datasets.Batch // the last batch cut to a bucket
	opt        *AdamW
	clip       float64
	rng        *rand.Rand
	dropoutSrc *rand.PCG // rng's source, kept to save and restore its state on resume
}

// runnerKey names a compiled graph: its batch shape and whether it trains.
type runnerKey struct {
	shape graph.Shape
	train bool
}

// NewModel builds the training graph of the full shape, which holds the
// weights; the graphs that run batches are compiled when first needed.
func NewModel(cfg graph.Config, shape graph.Shape, o ModelOptions) (*Model, error) {
	if o.AdamW == (AdamWConfig{}) {
		o.AdamW = DefaultAdamWConfig()
	}
	opt, err := NewAdamW(o.AdamW)
	if err != nil {
		return nil, err
	}
	arena := layers.NewArena()
	tm, err := graph.Build(cfg, shape, graph.Options{Train: true, WithCL: cfg.UsesCL(), FreezeText: o.FreezeText, Seed: o.Seed, Arena: arena})
	if err != nil {
		return nil, err
	}
	if o.Init != nil {
		if err := o.Init(tm); err != nil {
			return nil, err
		}
	}
	src := rand.NewPCG(o.Seed, 0xd20f)
	return &Model{Cfg: cfg, Shape: shape, o: o, train: tm, arena: arena, runners: map[runnerKey]*graph.Runner{},
		opt: opt, clip: o.ClipNorm, rng: rand.New(src), dropoutSrc: src}, nil
}

// Close releases every compiled graph's machine.
func (m *Model) Close() {
	for _, r := range m.runners {
		r.Close()
	}
	clear(m.runners)
}

// Graph returns the training graph of the full shape, whose parameters are
// the model's.
func (m *Model) Graph() *graph.Model { return m.train }

// bucketLength rounds a batch's real length n (1 ≤ n ≤ full) up to a
// length bucket: a multiple of step = ⌈full/8⌉, itself rounded up to a
// multiple of 8 when it is at least 8 (vector-friendly lengths), or full.
// A modality thus has at most eight buckets, and a batch runs at most
// about full/8 padded steps past its longest sample: the paper's lengths
// 50/375/500 have the buckets 7, 14, …, 49, 50; 48, 96, …, 336, 375; and
// 64, 128, …, 448, 500.
func bucketLength(n, full int) int {
	step := (full + 7) / 8
	if step >= 8 {
		step = (step + 7) / 8 * 8
	}
	return min(full, (n+step-1)/step*step)
}

// runnerFor returns the compiled graph that runs b, training or not, and b
// cut to that graph's shape.
func (m *Model) runnerFor(b *datasets.Batch, train bool) (*graph.Runner, *datasets.Batch, error) {
	s := m.Shape
	if b.B != s.B || b.Lt != s.Lt || b.La != s.La || b.Lv != s.Lv {
		return nil, nil, fmt.Errorf("train: batch shape B=%d Lt=%d La=%d Lv=%d, model built for %+v", b.B, b.Lt, b.La, b.Lv, s)
	}
	if !m.o.FullLength {
		lt, la, lv := b.RealLengths()
		s.Lt, s.La, s.Lv = bucketLength(lt, s.Lt), bucketLength(la, s.La), bucketLength(lv, s.Lv)
	}
	if s != m.Shape {
		if err := b.Cut(&m.cut, s.Lt, s.La, s.Lv); err != nil {
			return nil, nil, fmt.Errorf("train: %w", err)
		}
		b = &m.cut
	}
	key := runnerKey{s, train}
	if r := m.runners[key]; r != nil {
		return r, b, nil
	}
	g := m.train
	if s != m.Shape || !train {
		var err error
		g, err = graph.Build(m.Cfg, s, graph.Options{Train: train, WithCL: train && m.Cfg.UsesCL(), FreezeText: m.o.FreezeText,
			Seed: m.o.Seed, Share: m.train, Arena: m.arena})
		if err != nil {
			return nil, nil, fmt.Errorf("train: graph for batches of %+v: %w", s, err)
		}
	}
	r, err := graph.NewRunner(g, train)
	if err != nil {
		return nil, nil, err
	}
	m.runners[key] = r
	return r, b, nil
}

// TrainStep runs forward and backward on one batch in training mode and
// updates the weights with AdamW. partners must be set when the
// contrastive loss is on. A NaN or infinite loss is an error, and the
// weights are left as they were.
func (m *Model) TrainStep(b *datasets.Batch, partners *contrastive.PartnerBatch) (graph.Outputs, error) {
	if !m.train.WithCL {
		partners = nil
	}
	r, b, err := m.runnerFor(b, true)
	if err != nil {
		return graph.Outputs{}, err
	}
	if err := r.SetBatch(b, partners); err != nil {
		return graph.Outputs{}, err
	}
	if err := r.M.B.FillDropouts(m.rng, true); err != nil {
		return graph.Outputs{}, err
	}
	if err := r.Run(); err != nil {
		return graph.Outputs{}, err
	}
	out := r.Outputs()
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) {
		return out, fmt.Errorf("train: loss is %v (MAE %v, L_cl %v)", out.Loss, out.MAE, out.LCL)
	}
	var params []AdamWParam
	var grads [][]float32
	for _, p := range r.M.B.Params() {
		if p.Frozen {
			continue
		}
		g, err := r.Grad(p)
		if err != nil {
			return out, err
		}
		w, _ := p.Node.Value().Data().([]float32) // the full graph's tensor (Options.Share)
		params = append(params, AdamWParam{Name: p.Name, W: w, G: g, Decay: p.Decay()})
		grads = append(grads, g)
	}
	if m.clip > 0 {
		if _, err := ClipGlobalNorm(grads, m.clip); err != nil {
			return out, err
		}
	}
	if err := m.opt.Step(params); err != nil {
		return out, err
	}
	return out, nil
}

// Predict runs an evaluation graph (dropout off, no contrastive loss) on
// one batch.
func (m *Model) Predict(b *datasets.Batch) (graph.Outputs, error) {
	r, b, err := m.runnerFor(b, false)
	if err != nil {
		return graph.Outputs{}, err
	}
	if err := r.SetBatch(b, nil); err != nil {
		return graph.Outputs{}, err
	}
	if err := r.Run(); err != nil {
		return graph.Outputs{}, err
	}
	return r.Outputs(), nil
}

// Save writes the weights and config atomically (graph.Save) with extra
// metadata.
func (m *Model) Save(path string, extra map[string]string) error {
	return graph.Save(path, m.train, extra)
}

// Load reads weights saved by Save into the model; the checkpoint's config
// must equal the model's.
func (m *Model) Load(path string) error {
	return graph.Load(path, m.train)
}

// OptimizerState returns a copy of the AdamW state, for resuming.
func (m *Model) OptimizerState() AdamWState { return m.opt.State() }

// SetOptimizerState restores a state returned by OptimizerState.
func (m *Model) SetOptimizerState(s AdamWState) error { return m.opt.LoadState(s) }
