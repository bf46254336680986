package graph

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Runner compiles a Model once onto a Gorgonia TapeMachine and runs it on
// batches. A training runner also computes ∂Cost/∂θ for every trainable
// parameter.
type Runner struct {
	M     *Model
	train bool
	vm    G.VM

	// The values read out of the machine at every run (reader).
	pred, loss, mae, lcl *G.Value
	s, d, f              [3]*G.Value
	alpha                []*G.Value
}

// reader makes the Read nodes of a runner. Gorgonia hashes a Read by the
// address it writes to ("print %p"), so an unlucky address can give it
// the hash of another node of a large graph, which CheckHashes refuses
// (two nodes with one hash share a register: GORGONIA.md). The reader
// predicts each Read's hash as Gorgonia computes it (the node's type and
// shape, nil for a Read, the op's hash words, then the child's hash) and
// takes another address until the hash is free.
type reader struct {
	taken map[uint32]bool
	alloc func() *G.Value // a new destination
}

func newReader(g *G.ExprGraph) *reader {
	taken := map[uint32]bool{}
	for _, n := range g.AllNodes() {
		taken[n.Hashcode()] = true
	}
	return &reader{taken, func() *G.Value { return new(G.Value) }}
}

// predict is the hash Gorgonia gives Read(n, into).
func predict(n *G.Node, into *G.Value) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "<nil>()print %p", into)
	h.Write([]byte{1})
	binary.Write(h, binary.LittleEndian, n.Hashcode())
	return h.Sum32()
}

// read returns where the value of n is copied at every run; nil for a nil
// node (an output the graph does not have).
func (rd *reader) read(n *G.Node) *G.Value {
	if n == nil {
		return nil
	}
	for {
		into := rd.alloc()
		if rd.taken[predict(n, into)] {
			continue
		}
		rd.taken[G.Read(n, into).Hashcode()] = true
		return into
	}
}

// Outputs are the values of one run, copied out of the machine.
type Outputs struct {
	Pred           []float32    // ŷ [B]
	Loss, MAE, LCL float64      // LCL is 0 without CL
	S, D, F        [3][]float32 // pooled features [B·d] of t, v, a
	Alpha          [][]float32  // per CMDIE layer, [B·3]
}

// NewRunner compiles m. With train, the gradient graph is added first.
func NewRunner(m *Model, train bool) (*Runner, error) {
	r := &Runner{M: m, train: train}
	if train {
		if _, err := G.Grad(m.Cost, m.B.Trainable()...); err != nil {
			return nil, fmt.Errorf("graph: gradients: %w", err)
		}
	}
	rd := newReader(m.B.G)
	r.pred, r.loss, r.mae, r.lcl = rd.read(m.Pred), rd.read(m.Loss), rd.read(m.MAE), rd.read(m.LCL)
	for i := range modalities {
		r.s[i], r.d[i], r.f[i] = rd.read(m.S[i]), rd.read(m.D[i]), rd.read(m.F[i])
	}
	r.alpha = make([]*G.Value, len(m.Alpha))
	for i, a := range m.Alpha {
		r.alpha[i] = rd.read(a)
	}
	if err := m.B.CheckHashes(); err != nil {
		return nil, err
	}
	if train {
		r.vm = layers.NewTapeMachine(m.B.G, G.BindDualValues(m.B.Trainable()...))
	} else {
		r.vm = layers.NewTapeMachine(m.B.G)
	}
	return r, nil
}

// Close releases the machine.
func (r *Runner) Close() error { return r.vm.Close() }

// let sets a data input from float32 values, converting for a float64 graph.
func (r *Runner) let(n *G.Node, v []float32, what string) error {
	if n == nil {
		return nil
	}
	if len(v) != n.Shape().TotalSize() {
		return fmt.Errorf("graph: %s has %d values, the graph wants %v", what, len(v), n.Shape())
	}
	var t *tensor.Dense
	if r.M.B.Dtype == tensor.Float64 {
		t = tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(layers.Convert[float64](v)))
	} else {
		t = tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(v))
	}
	return G.Let(n, t)
}

// input is one data input with its value for SetBatch.
type input struct {
	n    *G.Node
	v    []float32
	name string
}

// SetBatch gives the graph its inputs. p holds the contrastive partners and
// must be set exactly when the model has the contrastive loss.
func (r *Runner) SetBatch(b *datasets.Batch, p *contrastive.PartnerBatch) error {
	m := r.M
	s := m.Shape
	if b.B != s.B || b.Lt != s.Lt || b.La != s.La || b.Lv != s.Lv {
		return fmt.Errorf("graph: batch shape B=%d Lt=%d La=%d Lv=%d, graph built for %+v", b.B, b.Lt, b.La, b.Lv, s)
	}
	text, textName := b.TextFeats, "text_feats"
	if m.TextIDs != nil {
		text, textName = b.TextIDs, "text_ids"
	}
	lets := []input{
		{m.TextFeats, text, textName}, {m.TextIDs, text, textName}, {m.TextMask, b.TextMask, "text_mask"},
		{m.Audio, b.Audio, "audio"}, {m.AudioMask, b.AudioMask, "audio_mask"},
		{m.Vision, b.Vision, "vision"}, {m.VisionMask, b.VisionMask, "vision_mask"},
		{m.Label, b.Label, "label"}, {m.Weight, b.Weight, "weight"},
	}
	if m.WithCL {
		if p == nil {
			return fmt.Errorf("graph: the contrastive loss needs partners")
		}
		sims := [3][]float32{p.SimT, p.SimV, p.SimA}
		diffs := [3][]float32{p.DiffT, p.DiffV, p.DiffA}
		for i, mod := range modalities {
			lets = append(lets, input{m.Sim[i], sims[i], "sim_" + mod}, input{m.Diff[i], diffs[i], "diff_" + mod})
		}
		lets = append(lets, input{m.SimMask, p.SimMask, "sim_mask"}, input{m.DiffMask, p.DiffMask, "diff_mask"})
	}
	for _, l := range lets {
		if err := r.let(l.n, l.v, l.name); err != nil {
			return err
		}
	}
	return nil
}

// Run executes the graph once on the inputs set last. A training run
// starts from zero gradients: Gorgonia adds each run's gradients to the
// parameters' dual values and Reset does not clear them.
func (r *Runner) Run() error {
	if r.train {
		if err := r.zeroGrads(); err != nil {
			return err
		}
	}
	r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		return fmt.Errorf("graph: run: %w", err)
	}
	return nil
}

// Eval runs an evaluation graph on one batch (SetBatch without partners,
// then Run) and returns its outputs.
func (r *Runner) Eval(b *datasets.Batch) (Outputs, error) {
	if err := r.SetBatch(b, nil); err != nil {
		return Outputs{}, err
	}
	if err := r.Run(); err != nil {
		return Outputs{}, err
	}
	return r.Outputs(), nil
}

func (r *Runner) zeroGrads() error {
	for _, n := range r.M.B.Trainable() {
		g, err := n.Grad()
		if err != nil || g == nil {
			continue // before the first run there is nothing to clear
		}
		t, ok := g.(tensor.Tensor)
		if !ok {
			return fmt.Errorf("graph: %s: gradient is %T", n.Name(), g)
		}
		t.Zero()
	}
	return nil
}

func floats32(v *G.Value) []float32 {
	if v == nil || *v == nil {
		return nil
	}
	switch d := (*v).Data().(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []float64:
		return layers.Convert[float32](d)
	}
	return nil
}

func scalar(v *G.Value) float64 {
	if v == nil || *v == nil {
		return 0
	}
	switch d := (*v).Data().(type) {
	case []float32:
		return float64(d[0])
	case []float64:
		return d[0]
	}
	return 0
}

// Outputs copies the values of the last run.
func (r *Runner) Outputs() Outputs {
	o := Outputs{Pred: floats32(r.pred), Loss: scalar(r.loss), MAE: scalar(r.mae), LCL: scalar(r.lcl)}
	for i := range modalities {
		o.S[i], o.D[i], o.F[i] = floats32(r.s[i]), floats32(r.d[i]), floats32(r.f[i])
	}
	for _, a := range r.alpha {
		o.Alpha = append(o.Alpha, floats32(a))
	}
	return o
}

// Grad returns the gradient of the last training run for p, a view into the
// machine's memory valid until the next run.
func (r *Runner) Grad(p *layers.Param) ([]float32, error) {
	if !r.train {
		return nil, fmt.Errorf("graph: %s: an evaluation runner has no gradients", p.Name)
	}
	g, err := p.Node.Grad()
	if err != nil {
		return nil, fmt.Errorf("graph: %s: %w", p.Name, err)
	}
	d, ok := g.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("graph: %s: gradient is %T, want float32", p.Name, g.Data())
	}
	return d, nil
}
