package contrastive

import (
	"fmt"
	"math"
	"sync"

	"github.com/fdcmdie/fdcmdie/internal/par"
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossConfig holds the constants of the contrastive loss (SPEC §4).
type LossConfig struct {
	Tau       float64 // NT-Xent temperature τ (0.5)
	Margin    float64 // triplet margin (0.5)
	LambdaTri float64 // weight of the triplet term λ_tri (0.1)
}

// Inputs are the graph nodes the contrastive loss reads. S and D are the
// pooled similarity and dissimilarity features [B, d] of t, v, a (in that
// order); Sim and Diff the bank partners' similarity features [B, k, d] of
// t, v, a; SimMask and DiffMask [B, k] say which partner slots are filled;
// Weight [B] is 1 for a real sample and 0 for a padding row.
type Inputs struct {
	S, D              [3]*G.Node
	Sim, Diff         [3]*G.Node
	SimMask, DiffMask *G.Node
	Weight            *G.Node
}

// Loss adds L_cl = mean_i ℓ_nt(i) + λ_tri·mean_i ℓ_tri(i) to the graph as one
// fused op with a hand-written backward pass; the means run over the real
// samples (Weight 1). The output has shape [1]. ℓ_nt and ℓ_tri are eq. 9
// and eq. 10–11 as the package doc reads them.
func Loss(b *layers.Builder, cfg LossConfig, in Inputs) *G.Node {
	nodes := make([]*G.Node, numInputs)
	for m := 0; m < 3; m++ {
		nodes[inS+m], nodes[inD+m] = in.S[m], in.D[m]
		nodes[inSim+m], nodes[inDiff+m] = in.Sim[m], in.Diff[m]
	}
	nodes[inSimMask], nodes[inDiffMask], nodes[inWeight] = in.SimMask, in.DiffMask, in.Weight
	return b.ApplyKernel(lossK{cfg}, nodes...)
}

// The fused op's inputs, in this order; each feature group is t, v, a.
const (
	inS        = 0  // s_t, s_v, s_a [B, d]
	inD        = 3  // d_t, d_v, d_a [B, d]
	inSim      = 6  // similar partners' similarity features [B, k, d]
	inDiff     = 9  // different partners' similarity features [B, k, d]
	inSimMask  = 12 // [B, k]: 1 where a similar partner slot is filled
	inDiffMask = 13 // [B, k]: 1 where a different partner slot is filled
	inWeight   = 14 // [B]: 1 for a real sample, 0 for a padding row
	numInputs  = 15
)

type lossK struct{ cfg LossConfig }

func (k lossK) String() string {
	return fmt.Sprintf("contrastive(tau=%g,margin=%g,lambda_tri=%g)", k.cfg.Tau, k.cfg.Margin, k.cfg.LambdaTri)
}

func (k lossK) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != numInputs {
		return nil, fmt.Errorf("%d inputs, want %d", len(in), numInputs)
	}
	v := in[inS]
	if v.Dims() != 2 {
		return nil, fmt.Errorf("s_t %v is not [B, d]", v)
	}
	for i := inS + 1; i < inSim; i++ {
		if !in[i].Eq(v) {
			return nil, fmt.Errorf("input %d is %v, s_t is %v", i, in[i], v)
		}
	}
	p := in[inSim]
	if p.Dims() != 3 || p[0] != v[0] || p[2] != v[1] {
		return nil, fmt.Errorf("partners %v do not match features %v", p, v)
	}
	for i := inSim + 1; i < inSimMask; i++ {
		if !in[i].Eq(p) {
			return nil, fmt.Errorf("input %d is %v, sim_t is %v", i, in[i], p)
		}
	}
	if !in[inSimMask].Eq(tensor.Shape{p[0], p[1]}) || !in[inDiffMask].Eq(tensor.Shape{p[0], p[1]}) || !in[inWeight].Eq(tensor.Shape{v[0]}) {
		return nil, fmt.Errorf("masks %v, %v or weights %v do not match batch %d, k %d", in[inSimMask], in[inDiffMask], in[inWeight], p[0], p[1])
	}
	return tensor.Shape{1}, nil
}

func (k lossK) Forward(in []*tensor.Dense, out *tensor.Dense) {
	l := k.eval(in, nil, 0)
	switch o := out.Data().(type) {
	case []float32:
		o[0] = float32(l)
	case []float64:
		o[0] = l
	}
}

func (k lossK) Backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) {
	var g float64
	switch d := gout.Data().(type) {
	case []float32:
		g = float64(d[0])
	case []float64:
		g = d[0]
	}
	k.eval(in, grads, g)
}

// addGrad adds g into t's data at offset off.
func addGrad(t *tensor.Dense, off int, g []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range g {
			d[off+i] += float32(v)
		}
	case []float64:
		for i, v := range g {
			d[off+i] += v
		}
	}
}

// batch is the fused op's inputs in float64, with the weight w_b/Σw of
// each sample in the means (0 for padding rows).
type batch struct {
	B, d, K           int
	feats             [inSimMask][]float64
	simMask, diffMask []float64
	w                 []float64
}

// float64Bufs holds the float64 copies of a float32 graph's inputs
// (newBatch) between runs: a step at CMU-MOSEI's k_cl 50 would otherwise
// allocate 10 MB of them.
var float64Bufs = sync.Pool{New: func() any { return new([numInputs][]float64) }}

// newBatch reads the op's inputs, converting float32 data into bufs, and
// reports whether any sample has weight.
func newBatch(in []*tensor.Dense, bufs *[numInputs][]float64) (*batch, bool) {
	var v [numInputs][]float64
	for i, t := range in {
		switch d := t.Data().(type) {
		case []float32:
			if cap(bufs[i]) < len(d) {
				bufs[i] = make([]float64, len(d))
			}
			v[i] = bufs[i][:len(d)]
			for j, x := range d {
				v[i][j] = float64(x)
			}
		case []float64:
			v[i] = d
		}
	}
	f := &batch{B: in[inS].Shape()[0], d: in[inS].Shape()[1], K: in[inSim].Shape()[1]}
	copy(f.feats[:], v[:inSimMask])
	f.simMask, f.diffMask = v[inSimMask], v[inDiffMask]
	var wsum float64
	for _, x := range v[inWeight] {
		wsum += x
	}
	if wsum == 0 {
		return f, false
	}
	f.w = make([]float64, f.B)
	for b, x := range v[inWeight] {
		f.w[b] = x / wsum
	}
	return f, true
}

// vec is sample b's row of input i.
func (f *batch) vec(i, b int) []float64 { return f.feats[i][b*f.d : (b+1)*f.d] }

// partner is partner slot j of sample b in input i.
func (f *batch) partner(i, b, j int) []float64 {
	return f.feats[i][(b*f.K+j)*f.d : (b*f.K+j+1)*f.d]
}

// pair is one (anchor, other) pair of an anchor group: the other vector, and
// where its gradient goes (input index, or −1 for a bank constant).
type pair struct {
	v        []float64
	input    int
	off      int
	positive bool
}

// eval returns L_cl and, when grads is not nil, adds scale·∂L_cl/∂input to
// the gradients of the six feature inputs.
func (k lossK) eval(in []*tensor.Dense, grads []*tensor.Dense, scale float64) float64 {
	bufs := float64Bufs.Get().(*[numInputs][]float64)
	defer float64Bufs.Put(bufs)
	f, ok := newBatch(in, bufs)
	if !ok {
		return 0
	}
	return k.ntXent(f, grads, scale) + k.cfg.LambdaTri*k.triplet(f, grads, scale)
}

// group lists the pairs of anchor s_m of sample b (package doc): for s_t
// the pairs with s_v, s_a (positive) and d_t, d_v, d_a (negative); for
// every anchor its similar (positive) and different (negative) partners.
func (f *batch) group(m, b int) []pair {
	var g []pair
	if m == 0 {
		off := b * f.d
		g = append(g, pair{f.vec(inS+1, b), inS + 1, off, true}, pair{f.vec(inS+2, b), inS + 2, off, true},
			pair{f.vec(inD, b), inD, off, false}, pair{f.vec(inD+1, b), inD + 1, off, false}, pair{f.vec(inD+2, b), inD + 2, off, false})
	}
	for j := 0; j < f.K; j++ {
		if f.simMask[b*f.K+j] != 0 {
			g = append(g, pair{f.partner(inSim+m, b, j), -1, 0, true})
		}
	}
	for j := 0; j < f.K; j++ {
		if f.diffMask[b*f.K+j] != 0 {
			g = append(g, pair{f.partner(inDiff+m, b, j), -1, 0, false})
		}
	}
	return g
}

// ntXent returns mean_i ℓ_nt(i) (eq. 9) and, when grads is not nil, adds
// scale times its gradient: each positive (α, β) of an anchor group adds
// −cos(α,β)/τ + log Σ_{γ≠β in the group} exp(cos(α,γ)/τ). The samples run
// on all cores (perSample); their terms are summed afterwards in sample
// order, so the loss does not depend on the number of cores.
func (k lossK) ntXent(f *batch, grads []*tensor.Dense, scale float64) float64 {
	terms := make([][]float64, f.B)
	f.perSample(func(b int, buf []float64) {
		for m := 0; m < 3; m++ {
			terms[b] = k.anchorGroup(f, m, b, terms[b], grads, scale, buf)
		}
	})
	var nt float64
	for _, t := range terms {
		for _, v := range t {
			nt += v
		}
	}
	return nt
}

// anchorGroup appends the ℓ_nt terms of anchor s_m of sample b, weighted,
// to terms and, when grads is not nil, adds scale times their gradient to
// sample b's rows. buf is scratch of d elements.
func (k lossK) anchorGroup(f *batch, m, b int, terms []float64, grads []*tensor.Dense, scale float64, buf []float64) []float64 {
	tau := k.cfg.Tau
	group := f.group(m, b)
	anchor := f.vec(inS+m, b)
	c := make([]float64, len(group))
	for i, p := range group {
		c[i] = cosine(anchor, p.v)
	}
	dc := make([]float64, len(group)) // ∂ℓ_nt/∂c[i] for this group
	e := make([]float64, len(group))  // exp(c[i]/τ − max) of one positive's denominator
	for pi, p := range group {
		if !p.positive || len(group) < 2 {
			continue
		}
		mx := math.Inf(-1)
		for i := range group {
			if i != pi {
				mx = max(mx, c[i]/tau)
			}
		}
		var sum float64
		for i := range group {
			if i != pi {
				e[i] = math.Exp(c[i]/tau - mx)
				sum += e[i]
			}
		}
		terms = append(terms, f.w[b]*(-c[pi]/tau+mx+math.Log(sum)))
		dc[pi] -= 1 / tau
		for i := range group {
			if i != pi {
				dc[i] += e[i] / sum / tau
			}
		}
	}
	if grads != nil {
		for i, p := range group {
			if dc[i] != 0 {
				cosGrad(anchor, p.v, scale*f.w[b]*dc[i], grads, inS+m, b*f.d, p.input, p.off, buf)
			}
		}
	}
	return terms
}

// perSample runs fn for every sample of nonzero weight, the cores taking
// the samples in turn, each core with its own scratch buf of d elements.
// fn(b) may write only sample b's gradient rows: every pair of an anchor
// group is of sample b or a bank constant.
func (f *batch) perSample(fn func(b int, buf []float64)) {
	bufs := make([][]float64, par.Workers(f.B))
	par.Pull(f.B, func(w, b int) {
		if f.w[b] == 0 {
			return
		}
		if bufs[w] == nil {
			bufs[w] = make([]float64, f.d)
		}
		fn(b, bufs[w])
	})
}

// triplet returns mean_i ℓ_tri(i) (eq. 10–11): anchor s_t, positives s_v
// and s_a, negatives d_t, d_v, d_a, each (positive, negative) adding
// max(0, (1−cos(s_t,p)) − (1−cos(s_t,n)) + margin). With grads it adds
// scale·λ_tri times its gradient.
func (k lossK) triplet(f *batch, grads []*tensor.Dense, scale float64) float64 {
	var tri float64
	buf := make([]float64, f.d)
	for b := 0; b < f.B; b++ {
		if f.w == nil || f.w[b] == 0 {
			continue
		}
		st, off := f.vec(inS, b), b*f.d
		for p := inS + 1; p <= inS+2; p++ {
			cp := cosine(st, f.vec(p, b))
			for n := inD; n <= inD+2; n++ {
				cn := cosine(st, f.vec(n, b))
				h := cn - cp + k.cfg.Margin // (1−cp) − (1−cn) + margin
				if h <= 0 {
					continue
				}
				tri += f.w[b] * h
				if grads != nil {
					g := scale * f.w[b] * k.cfg.LambdaTri
					cosGrad(st, f.vec(n, b), g, grads, inS, off, n, off, buf)
					cosGrad(st, f.vec(p, b), -g, grads, inS, off, p, off, buf)
				}
			}
		}
	}
	return tri
}

// cosGrad adds g·∂cos(a, v)/∂a to input ia at offset offA, and g·∂cos/∂v to
// input iv (when iv ≥ 0) at offset offV. buf is scratch of a's length.
func cosGrad(a, v []float64, g float64, grads []*tensor.Dense, ia, offA, iv, offV int, buf []float64) {
	if grads[ia] != nil {
		cosDeriv(a, v, g, buf)
		addGrad(grads[ia], offA, buf)
	}
	if iv >= 0 && grads[iv] != nil {
		cosDeriv(v, a, g, buf)
		addGrad(grads[iv], offV, buf)
	}
}

const cosEps = 1e-8

func norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// cosine is a·b / (max(|a|, 1e-8)·max(|b|, 1e-8)) in float64.
func cosine(a, b []float64) float64 {
	var dot float64
	for i := range a {
		dot += a[i] * b[i]
	}
	return dot / (max(norm(a), cosEps) * max(norm(b), cosEps))
}

// cosDeriv writes g·∂cos(a, b)/∂a into out. Where |a| is clipped at 1e-8
// the denominator is constant in a.
func cosDeriv(a, b []float64, g float64, out []float64) {
	na, nb := norm(a), norm(b)
	da, db := max(na, cosEps), max(nb, cosEps)
	var dot float64
	for i := range a {
		dot += a[i] * b[i]
	}
	for i := range a {
		v := b[i] / (da * db)
		if na > cosEps {
			v -= dot / (da * db) * a[i] / (na * na)
		}
		out[i] = g * v
	}
}
