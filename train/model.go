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
// rounded up to one of eight length buckets (bucketShape). Each bucket's
// shape has its own training graph (dropout,
// gradients, the contrastive loss when on) and evaluation graph, compiled
// when a batch first needs it and reused for the rest of the run. They all
// hold one set of weights, the training graph of the full shape's (graph
// Options.Share). The memory bank's features graphs (Features) are
// compiled the same way, until ReleaseFeatures drops them. The training
// graphs share one arena of working memory (layers.Arena), and so do the
// evaluation graphs compiled after training began (arena); the evaluation
// graphs of a model that has not trained have another, and the features
// graphs a third. Each is sized by one run of its full-shape graph before
// the first cut batch, so the graphs of all buckets together take the
// memory of the full shape's graphs, as a model that never cuts does,
// plus each graph's own few megabytes (its gradients of the weights, the
// values of Gorgonia's own ops). Padded
// steps contribute exactly nothing to a sample's outputs or to the
// gradients, and dropout masks are drawn per (sample, step), so a cut
// batch gives the numbers of the uncut one (graph's
// TestCutBatchMatchesPadded) and a run does not depend on its buckets.
// Padding rows (weight 0) are no samples: their outputs may change.
type Model struct {
	Cfg   graph.Config
	Shape graph.Shape

	o          ModelOptions
	train      *graph.Model           // the full shape's training graph: it owns the weights
	arenas     map[mode]*layers.Arena // working memory of the graphs of each mode
	runners    map[runnerKey]*graph.Runner
	cut        datasets.Batch // the last batch cut to a bucket
	opt        *AdamW
	clip       float64
	rng        *rand.Rand
	dropoutSrc *rand.PCG // rng's source, kept to save and restore its state on resume
}

// mode is what a compiled graph computes.
type mode int

const (
	evaluating mode = iota // predictions, dropout off
	training               // forward and backward, with dropout and the contrastive loss
	featuring              // the memory bank's values only, dropout off (graph Options.Features)
)

// runnerKey names a compiled graph: its batch shape and mode.
type runnerKey struct {
	shape graph.Shape
	mode  mode
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
	arenas := map[mode]*layers.Arena{training: layers.NewArena(), evaluating: layers.NewArena(), featuring: layers.NewArena()}
	tm, err := graph.Build(cfg, shape, graph.Options{Train: true, WithCL: cfg.UsesCL(), FreezeText: o.FreezeText, Seed: o.Seed, Arena: arenas[training]})
	if err != nil {
		return nil, err
	}
	if o.Init != nil {
		if err := o.Init(tm); err != nil {
			return nil, err
		}
	}
	src := rand.NewPCG(o.Seed, 0xd20f)
	return &Model{Cfg: cfg, Shape: shape, o: o, train: tm, arenas: arenas, runners: map[runnerKey]*graph.Runner{},
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

// bucketStep is the length step of a modality's buckets: ⌈full/8⌉,
// rounded up to a multiple of 8 when it is at least 8 (vector-friendly
// lengths).
func bucketStep(full int) int {
	step := (full + 7) / 8
	if step >= 8 {
		step = (step + 7) / 8 * 8
	}
	return step
}

// bucketShape is the shape a batch of real lengths lt, la, lv runs at: the
// smallest k (1 ≤ k ≤ 8) such that k steps of every modality hold its real
// length, and each modality cut to k of its steps (or its full length).
// One k for all three modalities bounds the compiled graphs to eight per
// mode: each graph keeps a few hundred megabytes of Gorgonia's own values
// at the paper's lengths, so independent buckets per modality (up to 8³
// shapes) would not fit in memory. The modalities of a sample record one
// utterance, so their real lengths rise and fall together. The paper's
// lengths 50/375/500 run at k·(7, 48, 64) steps, capped at the full
// lengths: a batch runs at most about an eighth of the padded length past
// its longest sample in the modality that sets k.
func bucketShape(lt, la, lv int, full graph.Shape) graph.Shape {
	k := 1
	for _, m := range [][2]int{{lt, full.Lt}, {la, full.La}, {lv, full.Lv}} {
		step := bucketStep(m[1])
		k = max(k, (m[0]+step-1)/step)
	}
	cut := func(full int) int { return min(full, k*bucketStep(full)) }
	return graph.Shape{B: full.B, Lt: cut(full.Lt), La: cut(full.La), Lv: cut(full.Lv)}
}

// runnerFor returns the compiled graph of mode md that runs b, and b cut
// to that graph's shape.
func (m *Model) runnerFor(b *datasets.Batch, md mode) (*graph.Runner, *datasets.Batch, error) {
	s := m.Shape
	if b.B != s.B || b.Lt != s.Lt || b.La != s.La || b.Lv != s.Lv {
		return nil, nil, fmt.Errorf("train: batch shape B=%d Lt=%d La=%d Lv=%d, model built for %+v", b.B, b.Lt, b.La, b.Lv, s)
	}
	if !m.o.FullLength {
		lt, la, lv := b.RealLengths()
		s = bucketShape(lt, la, lv, s)
	}
	if s != m.Shape {
		if err := b.Cut(&m.cut, s.Lt, s.La, s.Lv); err != nil {
			return nil, nil, fmt.Errorf("train: %w", err)
		}
		b = &m.cut
	}
	if r := m.runners[runnerKey{s, md}]; r != nil {
		return r, b, nil
	}
	if s != m.Shape && !m.sized(md) {
		if err := m.sizeArena(md); err != nil {
			return nil, nil, err
		}
	}
	r, err := m.compile(s, md)
	return r, b, err
}

// compile builds and compiles the graph of shape s and mode md (the full
// shape's training graph exists already: it holds the weights).
func (m *Model) compile(s graph.Shape, md mode) (*graph.Runner, error) {
	g, train := m.train, md == training
	if s != m.Shape || !train {
		var err error
		g, err = graph.Build(m.Cfg, s, graph.Options{Train: train, WithCL: train && m.Cfg.UsesCL(), Features: md == featuring,
			FreezeText: m.o.FreezeText, Seed: m.o.Seed, Share: m.train, Arena: m.arena(md)})
		if err != nil {
			return nil, fmt.Errorf("train: graph for batches of %+v: %w", s, err)
		}
	}
	r, err := graph.NewRunner(g, train)
	if err != nil {
		return nil, err
	}
	m.runners[runnerKey{s, md}] = r
	return r, nil
}

// arena is the working memory of a graph of mode md compiled now.
// Evaluation graphs compiled once the full shape's training graph has run
// use the training graphs' arena: training and evaluation never run at
// once, the arena is then sized for the full shape, and an evaluation
// graph's k-th kernel is the training graph's k-th (layers.Builder), which
// needs no more memory there. Evaluation then adds no working memory to
// training (TestEvaluationSharesTrainingMemory). Before that, as in a
// model that only predicts, they have an arena of their own, which holds
// only what evaluation needs.
func (m *Model) arena(md mode) *layers.Arena {
	if md == evaluating && m.runners[runnerKey{m.Shape, training}] != nil {
		return m.arenas[training]
	}
	return m.arenas[md]
}

// sized reports whether the arena of mode md's graphs has its full size:
// the full shape's graph of md has run, or, for evaluation graphs that
// share the training graphs' arena, the training graph's.
func (m *Model) sized(md mode) bool {
	return m.runners[runnerKey{m.Shape, md}] != nil || md == evaluating && m.arena(md) == m.arenas[training]
}

// sizeArena runs the full shape's graph of mode md once on a
// batch with every step real, without dropout and without touching the
// weights, the optimizer or the random generators: the arena's buffers
// then have the sizes of the full shape, the largest any bucket needs, and
// never grow. Growing them later would leave the graphs that ran before
// holding the smaller buffers they last used, until they ran again.
func (m *Model) sizeArena(md mode) error {
	r, err := m.compile(m.Shape, md)
	if err != nil {
		return err
	}
	s, c := m.Shape, m.Cfg
	b := &datasets.Batch{B: s.B, Lt: s.Lt, La: s.La, Lv: s.Lv, Da: c.AudioDim, Dv: c.VisionDim,
		TextMask: ones(s.B * s.Lt), Audio: make([]float32, s.B*s.La*c.AudioDim), AudioMask: ones(s.B * s.La),
		Vision: make([]float32, s.B*s.Lv*c.VisionDim), VisionMask: ones(s.B * s.Lv),
		Label: make([]float32, s.B), Weight: ones(s.B)}
	if c.TextFeats {
		b.Ht, b.TextFeats = c.TextDim, make([]float32, s.B*s.Lt*c.TextDim)
	} else {
		b.TextIDs = make([]float32, s.B*s.Lt)
	}
	var p *contrastive.PartnerBatch
	if md == training && c.UsesCL() {
		n := s.B * c.KCL * c.DModel
		p = &contrastive.PartnerBatch{B: s.B, K: c.KCL, D: c.DModel, SimT: make([]float32, n), SimV: make([]float32, n),
			SimA: make([]float32, n), DiffT: make([]float32, n), DiffV: make([]float32, n), DiffA: make([]float32, n),
			SimMask: ones(s.B * c.KCL), DiffMask: ones(s.B * c.KCL)}
	}
	if err := r.SetBatch(b, p); err != nil {
		return fmt.Errorf("train: sizing the working memory: %w", err)
	}
	if err := r.M.B.FillDropouts(nil, false); err != nil {
		return err
	}
	if err := r.Run(); err != nil {
		return fmt.Errorf("train: sizing the working memory: %w", err)
	}
	return nil
}

// ones returns n ones (a mask with every step real).
func ones(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// TrainStep runs forward and backward on one batch in training mode and
// updates the weights with AdamW. partners must be set when the
// contrastive loss is on. A NaN or infinite loss is an error, and the
// weights are left as they were.
func (m *Model) TrainStep(b *datasets.Batch, partners *contrastive.PartnerBatch) (graph.Outputs, error) {
	if !m.train.WithCL {
		partners = nil
	}
	r, b, err := m.runnerFor(b, training)
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
func (m *Model) Predict(b *datasets.Batch) (graph.Outputs, error) { return m.eval(b, evaluating) }

// Features computes the memory bank's values of one batch, dropout off:
// the pooled sequence features F and similarity features S, the numbers
// Predict gives them, at a fraction of Predict's cost (graph
// Options.Features). The other fields of its Outputs are empty. Its graphs
// stay compiled, with their working memory, until ReleaseFeatures. The
// text-only baseline has no such features: Features returns an error.
func (m *Model) Features(b *datasets.Batch) (graph.Outputs, error) { return m.eval(b, featuring) }

// eval runs the graph of mode md (evaluating or featuring) on one batch.
func (m *Model) eval(b *datasets.Batch, md mode) (graph.Outputs, error) {
	r, b, err := m.runnerFor(b, md)
	if err != nil {
		return graph.Outputs{}, err
	}
	return r.Eval(b)
}

// ReleaseFeatures drops the graphs Features compiled and their working
// memory (a later call compiles them again).
func (m *Model) ReleaseFeatures() {
	for k, r := range m.runners {
		if k.mode == featuring {
			r.Close()
			delete(m.runners, k)
		}
	}
	m.arenas[featuring] = layers.NewArena()
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
