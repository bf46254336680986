package contrastive

import (
	"fmt"
	"math"

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
// samples (Weight 1). The output has shape [1]. ℓ_nt follows RefNTXent's
// reading of eq. 9 and ℓ_tri RefTriplet's of eq. 10–11.
func Loss(b *layers.Builder, cfg LossConfig, in Inputs) *G.Node {
	nodes := []*G.Node{in.S[0], in.S[1], in.S[2], in.D[0], in.D[1], in.D[2],
		in.Sim[0], in.Sim[1], in.Sim[2], in.Diff[0], in.Diff[1], in.Diff[2], in.SimMask, in.DiffMask, in.Weight}
	return b.ApplyKernel(lossK{cfg}, nodes...)
}

type lossK struct{ cfg LossConfig }

func (k lossK) String() string {
	return fmt.Sprintf("contrastive(tau=%g,margin=%g,lambda_tri=%g)", k.cfg.Tau, k.cfg.Margin, k.cfg.LambdaTri)
}

func (k lossK) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 15 {
		return nil, fmt.Errorf("%d inputs, want 15", len(in))
	}
	v := in[0]
	if v.Dims() != 2 {
		return nil, fmt.Errorf("s_t %v is not [B, d]", v)
	}
	for i := 1; i < 6; i++ {
		if !in[i].Eq(v) {
			return nil, fmt.Errorf("input %d is %v, s_t is %v", i, in[i], v)
		}
	}
	p := in[6]
	if p.Dims() != 3 || p[0] != v[0] || p[2] != v[1] {
		return nil, fmt.Errorf("partners %v do not match features %v", p, v)
	}
	for i := 7; i < 12; i++ {
		if !in[i].Eq(p) {
			return nil, fmt.Errorf("input %d is %v, sim_t is %v", i, in[i], p)
		}
	}
	if !in[12].Eq(tensor.Shape{p[0], p[1]}) || !in[13].Eq(tensor.Shape{p[0], p[1]}) || !in[14].Eq(tensor.Shape{v[0]}) {
		return nil, fmt.Errorf("masks %v, %v or weights %v do not match batch %d, k %d", in[12], in[13], in[14], p[0], p[1])
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
	B, d := in[0].Shape()[0], in[0].Shape()[1]
	K := in[6].Shape()[1]
	var feats [12][]float64
	for i := range feats {
		feats[i] = layers.Float64s(in[i])
	}
	simMask, diffMask, w := layers.Float64s(in[12]), layers.Float64s(in[13]), layers.Float64s(in[14])
	var wsum float64
	for _, v := range w {
		wsum += v
	}
	if wsum == 0 {
		return 0
	}
	vec := func(i, b int) []float64 { return feats[i][b*d : (b+1)*d] }
	partner := func(i, b, j int) []float64 { return feats[i][(b*K+j)*d : (b*K+j+1)*d] }
	var nt, tri float64
	grad := make([]float64, d)
	for b := 0; b < B; b++ {
		if w[b] == 0 {
			continue
		}
		wb := w[b] / wsum
		// One group per anchor s_m (SPEC §4, RefNTXent's reading).
		for m := 0; m < 3; m++ {
			var group []pair
			if m == 0 {
				group = append(group,
					pair{vec(1, b), 1, b * d, true}, pair{vec(2, b), 2, b * d, true},
					pair{vec(3, b), 3, b * d, false}, pair{vec(4, b), 4, b * d, false}, pair{vec(5, b), 5, b * d, false})
			}
			for j := 0; j < K; j++ {
				if simMask[b*K+j] != 0 {
					group = append(group, pair{partner(6+m, b, j), -1, 0, true})
				}
			}
			for j := 0; j < K; j++ {
				if diffMask[b*K+j] != 0 {
					group = append(group, pair{partner(9+m, b, j), -1, 0, false})
				}
			}
			anchor := vec(m, b)
			c := make([]float64, len(group))
			for i, p := range group {
				c[i] = cosine(anchor, p.v)
			}
			// dc[i] = ∂ℓ_nt/∂c[i] for this group.
			dc := make([]float64, len(group))
			for pi, p := range group {
				if !p.positive || len(group) < 2 {
					continue
				}
				mx := math.Inf(-1)
				for i := range group {
					if i != pi {
						mx = max(mx, c[i]/k.cfg.Tau)
					}
				}
				var sum float64
				for i := range group {
					if i != pi {
						sum += math.Exp(c[i]/k.cfg.Tau - mx)
					}
				}
				nt += wb * (-c[pi]/k.cfg.Tau + mx + math.Log(sum))
				dc[pi] -= 1 / k.cfg.Tau
				for i := range group {
					if i != pi {
						dc[i] += math.Exp(c[i]/k.cfg.Tau-mx) / sum / k.cfg.Tau
					}
				}
			}
			if grads == nil {
				continue
			}
			for i, p := range group {
				if dc[i] == 0 {
					continue
				}
				g := scale * wb * dc[i]
				k.cosGrad(anchor, p.v, g, grads, m, b*d, p.input, p.off, grad)
			}
		}
		// Triplet: anchor s_t, positives s_v, s_a, negatives d_t, d_v, d_a.
		st := vec(0, b)
		for p := 1; p <= 2; p++ {
			cp := cosine(st, vec(p, b))
			for n := 3; n <= 5; n++ {
				cn := cosine(st, vec(n, b))
				h := cn - cp + k.cfg.Margin // (1−cp) − (1−cn) + margin
				if h <= 0 {
					continue
				}
				tri += wb * h
				if grads != nil {
					g := scale * wb * k.cfg.LambdaTri
					k.cosGrad(st, vec(n, b), g, grads, 0, b*d, n, b*d, grad)
					k.cosGrad(st, vec(p, b), -g, grads, 0, b*d, p, b*d, grad)
				}
			}
		}
	}
	return nt + k.cfg.LambdaTri*tri
}

// cosGrad adds g·∂cos(a, v)/∂a to input ia at offset offA, and g·∂cos/∂v to
// input iv (when iv ≥ 0) at offset offV. buf is scratch of a's length.
func (k lossK) cosGrad(a, v []float64, g float64, grads []*tensor.Dense, ia, offA, iv, offV int, buf []float64) {
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
