package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
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
}

// Model is one FD-CMDIE configuration ready to train and predict on
// batches of a fixed shape: a training graph (dropout, gradients, the
// contrastive loss when on) and an evaluation graph that shares its
// weights, with an AdamW optimizer.
type Model struct {
	Cfg   graph.Config
	Shape graph.Shape

	train, eval   *graph.Model
	trainR, evalR *graph.Runner
	opt           *AdamW
	clip          float64
	rng           *rand.Rand
	dropoutSrc    *rand.PCG // rng's source, kept to save and restore its state on resume
	stale         bool      // the evaluation graph's weights lag the training graph's
}

// NewModel builds and compiles both graphs.
func NewModel(cfg graph.Config, shape graph.Shape, o ModelOptions) (*Model, error) {
	if o.AdamW == (AdamWConfig{}) {
		o.AdamW = DefaultAdamWConfig()
	}
	opt, err := NewAdamW(o.AdamW)
	if err != nil {
		return nil, err
	}
	tm, err := graph.Build(cfg, shape, graph.Options{Train: true, WithCL: cfg.UsesCL(), FreezeText: o.FreezeText, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	if o.Init != nil {
		if err := o.Init(tm); err != nil {
			return nil, err
		}
	}
	em, err := graph.Build(cfg, shape, graph.Options{FreezeText: o.FreezeText, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	src := rand.NewPCG(o.Seed, 0xd20f)
	m := &Model{Cfg: cfg, Shape: shape, train: tm, eval: em, opt: opt, clip: o.ClipNorm,
		rng: rand.New(src), dropoutSrc: src, stale: true}
	if m.trainR, err = graph.NewRunner(tm, true); err != nil {
		return nil, err
	}
	if m.evalR, err = graph.NewRunner(em, false); err != nil {
		return nil, err
	}
	return m, nil
}

// Close releases both machines.
func (m *Model) Close() {
	m.trainR.Close()
	m.evalR.Close()
}

// Graph returns the training graph, whose parameters are the model's.
func (m *Model) Graph() *graph.Model { return m.train }

// TrainStep runs forward and backward on one batch in training mode and
// updates the weights with AdamW. partners must be set when the
// contrastive loss is on. A NaN or infinite loss is an error, and the
// weights are left as they were.
func (m *Model) TrainStep(b *datasets.Batch, partners *contrastive.PartnerBatch) (graph.Outputs, error) {
	if !m.train.WithCL {
		partners = nil
	}
	if err := m.trainR.SetBatch(b, partners); err != nil {
		return graph.Outputs{}, err
	}
	if err := m.train.B.FillDropouts(m.rng, true); err != nil {
		return graph.Outputs{}, err
	}
	if err := m.trainR.Run(); err != nil {
		return graph.Outputs{}, err
	}
	out := m.trainR.Outputs()
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) {
		return out, fmt.Errorf("train: loss is %v (MAE %v, L_cl %v)", out.Loss, out.MAE, out.LCL)
	}
	var params []AdamWParam
	var grads [][]float32
	for _, p := range m.train.B.Params() {
		if p.Frozen {
			continue
		}
		g, err := m.trainR.Grad(p)
		if err != nil {
			return out, err
		}
		w, _ := p.Node.Value().Data().([]float32)
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
	m.stale = true
	return out, nil
}

// Predict runs the evaluation graph (dropout off, no contrastive loss) on
// one batch.
func (m *Model) Predict(b *datasets.Batch) (graph.Outputs, error) {
	if m.stale {
		if err := m.syncEval(); err != nil {
			return graph.Outputs{}, err
		}
	}
	if err := m.evalR.SetBatch(b, nil); err != nil {
		return graph.Outputs{}, err
	}
	if err := m.evalR.Run(); err != nil {
		return graph.Outputs{}, err
	}
	return m.evalR.Outputs(), nil
}

// syncEval copies the training graph's weights into the evaluation graph.
func (m *Model) syncEval() error {
	src := m.train.B.Params()
	dst := m.eval.B.Params()
	if len(src) != len(dst) {
		return fmt.Errorf("train: evaluation graph has %d parameters, training graph %d", len(dst), len(src))
	}
	for i, p := range src {
		if dst[i].Name != p.Name {
			return fmt.Errorf("train: parameter %d is %s in training and %s in evaluation", i, p.Name, dst[i].Name)
		}
		s, _ := p.Node.Value().Data().([]float32)
		d, _ := dst[i].Node.Value().Data().([]float32)
		copy(d, s)
	}
	m.stale = false
	return nil
}

// Save writes the weights and config atomically (graph.Save) with extra
// metadata.
func (m *Model) Save(path string, extra map[string]string) error {
	return graph.Save(path, m.train, extra)
}

// Load reads weights saved by Save into the model; the checkpoint's config
// must equal the model's.
func (m *Model) Load(path string) error {
	if err := graph.Load(path, m.train); err != nil {
		return err
	}
	m.stale = true
	return nil
}

// OptimizerState returns a copy of the AdamW state, for resuming.
func (m *Model) OptimizerState() AdamWState { return m.opt.State() }

// SetOptimizerState restores a state returned by OptimizerState.
func (m *Model) SetOptimizerState(s AdamWState) error { return m.opt.LoadState(s) }
