package graph

import (
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
)

// modalities in the order every list of the model uses: text, vision, audio.
var modalities = [3]string{"t", "v", "a"}

// encoder is a decoupling encoder, Enc(x) = Dropout(Tanh(Linear(LN(x)))),
// d → d at every time step (SPEC §3).
type encoder struct {
	name   string
	norm   *layers.LayerNorm
	linear *layers.Linear
	p      float64
}

func newEncoder(b *layers.Builder, name string, d int, p float64) *encoder {
	return &encoder{name: name, norm: layers.NewLayerNorm(b, name+".norm", d, 1e-5),
		linear: layers.NewLinear(b, name+".linear", d, d, true), p: p}
}

// fwd encodes x [B, L, d].
func (e *encoder) fwd(b *layers.Builder, x *G.Node) *G.Node {
	return b.ActDropout(layers.Tanh, e.linear.Fwd(b, e.norm.Fwd(b, x)), e.p)
}

// dipu is one deep interaction processing unit (SPEC §5, eq. 16–24): the
// global feature G [B, 3, d] and one modality's private stream X [B, L, d]
// attend to each other (cross), to themselves (self), and to each other
// again (cross, second time), each step a residual + LayerNorm.
type dipu struct {
	name string
	// The LayerNorms: g0/x0 of the positional inputs Ĝ, X̂, then one per
	// residual step (g1/x1 cross, g2/x2 self, g3/x3 second cross; the last
	// two are nil under --no-crossatt2).
	normG0, normX0, normG1, normX1, normG2, normX2, normG3, normX3 *layers.LayerNorm
	cross, self                                                    *layers.MultiHeadAttention
	ffn                                                            *layers.FFN
	p                                                              float64
}

func newDIPU(b *layers.Builder, name string, cfg Config) *dipu {
	u := &dipu{name: name, p: cfg.Dropout}
	norm := func(n string) *layers.LayerNorm { return layers.NewLayerNorm(b, name+".norm_"+n, cfg.DModel, 1e-5) }
	u.normG0, u.normX0, u.normG1, u.normX1, u.normG2, u.normX2 = norm("g0"), norm("x0"), norm("g1"), norm("x1"), norm("g2"), norm("x2")
	if !cfg.NoCrossAtt2 {
		u.normG3, u.normX3 = norm("g3"), norm("x3")
	}
	u.cross = layers.NewMultiHeadAttention(b, name+".cross", cfg.DModel, cfg.Heads)
	u.self = layers.NewMultiHeadAttention(b, name+".self", cfg.DModel, cfg.Heads)
	u.ffn = layers.NewFFN(b, name+".ffn", cfg.DModel, 4*cfg.DModel, cfg.Dropout)
	return u
}

// addNorm is LN(x + Dropout(branch)), in one kernel.
func (u *dipu) addNorm(b *layers.Builder, norm *layers.LayerNorm, x, branch *G.Node) *G.Node {
	return norm.ResidualFwd(b, x, branch, u.p)
}

// fwd returns (G_out, X_out) from g [B, 3, d], x [B, L, d] and the
// modality's mask [B, L].
func (u *dipu) fwd(b *layers.Builder, g, x, mask *G.Node) (*G.Node, *G.Node) {
	gh := u.normG0.Fwd(b, layers.AddPositional(b, g)) // Ĝ
	xh := u.normX0.Fwd(b, layers.AddPositional(b, x)) // X̂
	g1 := u.addNorm(b, u.normG1, gh, u.cross.Fwd(b, gh, xh, mask))
	x1 := u.addNorm(b, u.normX1, xh, u.cross.Fwd(b, xh, gh, nil))
	g2 := u.addNorm(b, u.normG2, g1, u.self.Fwd(b, g1, g1, nil))
	x2 := u.addNorm(b, u.normX2, x1, u.self.Fwd(b, x1, x1, mask))
	g3, x3 := g2, x2
	if u.normG3 != nil { // eq. 21–22: keys and values are the PE'd inputs
		g3 = u.addNorm(b, u.normG3, g2, u.cross.Fwd(b, g2, xh, mask))
		x3 = u.addNorm(b, u.normX3, x2, u.cross.Fwd(b, x2, gh, nil))
	}
	gOut := b.Add(g3, u.ffn.Fwd(b, g3))
	xOut := b.Add(x3, u.ffn.Fwd(b, x3))
	return gOut, xOut
}

// gap is the gated attention pooling of one CMDIE layer (SPEC §5, eq. 25–28).
type gap struct {
	norm         [3]*layers.LayerNorm
	gate1, gate2 [3]*layers.Linear
	score1       *layers.Linear
	score2       *layers.Linear
}

func newGAP(b *layers.Builder, name string, d int) *gap {
	p := &gap{}
	for i, m := range modalities {
		p.norm[i] = layers.NewLayerNorm(b, name+".norm."+m, d, 1e-5)
		p.gate1[i] = layers.NewLinear(b, name+".gate."+m+".fc1", 3*d, d, true)
		p.gate2[i] = layers.NewLinear(b, name+".gate."+m+".fc2", d, 1, true)
	}
	p.score1 = layers.NewLinear(b, name+".score.fc1", 3*d, d, true)
	p.score2 = layers.NewLinear(b, name+".score.fc2", d, 1, true)
	return p
}

// fwd merges the three modality-specific global features [B, 3, d] into
// G^{l+1} and returns the modality weights α [B, 3].
func (p *gap) fwd(b *layers.Builder, gs [3]*G.Node) (*G.Node, *G.Node) {
	var gated [3]*G.Node
	var scores [3]*G.Node
	for i := range modalities {
		n := p.norm[i].Fwd(b, gs[i])                                   // N_M = LN_M(G_M)
		h := b.Act(layers.ReLU, p.gate1[i].Fwd(b, flatten(b, n)))      // ReLU(fc1)
		gate := b.Act(layers.Sigmoid, p.gate2[i].Fwd(b, h))            // g_M [B, 1]
		gated[i] = layers.Mix(b, gate, n)                              // G'_M = g_M·N_M (eq. 26)
		s := b.Act(layers.Tanh, p.score1.Fwd(b, flatten(b, gated[i]))) // Score's hidden layer
		scores[i] = p.score2.Fwd(b, s)                                 // S_M [B, 1]
	}
	alpha := layers.Softmax(b, layers.Concat(b, 1, scores[0], scores[1], scores[2]), nil) // α [B, 3]
	return layers.Mix(b, alpha, gated[0], gated[1], gated[2]), alpha
}

// head is ŷ = Linear(d→1)(Dropout(ReLU(Linear(6d→d)(z)))) (SPEC §6).
type head struct {
	fc1, fc2 *layers.Linear
	p        float64
}

func newHead(b *layers.Builder, in, d int, p float64) *head {
	return &head{fc1: layers.NewLinear(b, "head.fc1", in, d, true), fc2: layers.NewLinear(b, "head.fc2", d, 1, true), p: p}
}

func (h *head) fwd(b *layers.Builder, z *G.Node) *G.Node {
	return h.fc2.Fwd(b, b.ActDropout(layers.ReLU, h.fc1.Fwd(b, z), h.p))
}

// flatten reshapes [B, n, d] to [B, n·d].
func flatten(b *layers.Builder, x *G.Node) *G.Node {
	s := x.Shape()
	return b.Must(G.Reshape(x, []int{s[0], s.TotalSize() / s[0]}))
}
