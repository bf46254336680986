package layers

import (
	"fmt"
	"math"
	"strings"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NeoBERTConfig holds the sizes of a NeoBERT encoder, with the field names
// of the Hugging Face config.json of chandar-lab/NeoBERT.
type NeoBERTConfig struct {
	HiddenSize        int     `json:"hidden_size"`          // H, the feature width
	NumHiddenLayers   int     `json:"num_hidden_layers"`    // number of blocks
	NumAttentionHeads int     `json:"num_attention_heads"`  // heads; H/heads must be even (RoPE pairs)
	IntermediateSize  int     `json:"intermediate_size"`    // gives the SwiGLU width, see FFNSize
	VocabSize         int     `json:"vocab_size"`           // rows of encoder.weight
	NormEps           float64 `json:"norm_eps"`             // RMSNorm epsilon (default 1e-5)
	MaxLength         int     `json:"max_length"`           // longest input; 0 means no limit
	PadTokenID        int     `json:"pad_token_id"`         // its embedding row gets no gradient
	RopeTheta         float64 `json:"rope_theta,omitempty"` // RoPE base (default 10000)
}

// NeoBERTBase returns the configuration of the released chandar-lab/NeoBERT
// checkpoint (SPEC §2).
func NeoBERTBase() NeoBERTConfig {
	return NeoBERTConfig{HiddenSize: 768, NumHiddenLayers: 28, NumAttentionHeads: 12, IntermediateSize: 3072,
		VocabSize: 30522, NormEps: 1e-5, MaxLength: 4096, RopeTheta: 10000}
}

// withDefaults fills the fields a config.json may leave out.
func (c NeoBERTConfig) withDefaults() NeoBERTConfig {
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	return c
}

// FFNSize is the SwiGLU width F = 8·ceil(int(2·intermediate/3)/8) of the
// official code (2048 for intermediate 3072).
func (c NeoBERTConfig) FFNSize() int { return 8 * ((2*c.IntermediateSize/3 + 7) / 8) }

// Validate reports a config that cannot build an encoder.
func (c NeoBERTConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.HiddenSize <= 0 || c.NumHiddenLayers <= 0 || c.NumAttentionHeads <= 0 || c.IntermediateSize <= 0 || c.VocabSize <= 0:
		return fmt.Errorf("sizes must be positive: hidden_size %d, num_hidden_layers %d, num_attention_heads %d, intermediate_size %d, vocab_size %d",
			c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize)
	case c.HiddenSize%c.NumAttentionHeads != 0 || (c.HiddenSize/c.NumAttentionHeads)%2 != 0:
		return fmt.Errorf("hidden_size %d must split into %d heads of even width", c.HiddenSize, c.NumAttentionHeads)
	case c.FFNSize() <= 0:
		return fmt.Errorf("intermediate_size %d gives no SwiGLU width", c.IntermediateSize)
	case c.NormEps < 0 || c.RopeTheta <= 0 || c.MaxLength < 0:
		return fmt.Errorf("norm_eps %g, rope_theta %g, max_length %d out of range", c.NormEps, c.RopeTheta, c.MaxLength)
	}
	return checkPadID(c.PadTokenID, c.VocabSize)
}

// LoadNeoBERTConfig reads a NeoBERT config.json, fills the defaults
// (norm_eps 1e-5, rope_theta 10000) and refuses the variants this
// package does not implement (rope false, rms_norm false, a hidden_act
// other than SwiGLU).
func LoadNeoBERTConfig(path string) (NeoBERTConfig, error) {
	var variant struct {
		Rope      *bool   `json:"rope"`
		RMSNorm   *bool   `json:"rms_norm"`
		HiddenAct *string `json:"hidden_act"`
	}
	return loadConfig[NeoBERTConfig]("neobert", path, &variant, func() error {
		switch {
		case variant.Rope != nil && !*variant.Rope:
			return fmt.Errorf("rope: false is not supported")
		case variant.RMSNorm != nil && !*variant.RMSNorm:
			return fmt.Errorf("rms_norm: false is not supported")
		case variant.HiddenAct != nil && !strings.EqualFold(*variant.HiddenAct, "swiglu"):
			return fmt.Errorf("hidden_act %q is not supported (want SwiGLU)", *variant.HiddenAct)
		}
		return nil
	})
}

// NeoBERT is the pre-norm NeoBERT encoder of SPEC §2: token embeddings,
// blocks x = x + Attn(RMSNorm(x)); x = x + SwiGLU(RMSNorm(x)), and a final
// RMSNorm. No biases, no dropout, no position or type embeddings.
//
// A padded key adds MaskNeg (−1e9) to its scores (SPEC §2) where the
// official code adds −inf: both give it an exact 0 probability, so real
// tokens match the official outputs (the fixture test checks this at
// 1e-4, with right padding in the batch).
type NeoBERT struct {
	Cfg    NeoBERTConfig
	Prefix string
	Embed  *G.Node // encoder.weight [V, H]
	Blocks []*NeoBERTBlock
	Norm   *RMSNorm // layer_norm
}

// NeoBERTBlock is one transformer_encoder.{i} block.
type NeoBERTBlock struct {
	AttnNorm, FFNNorm *RMSNorm // attention_norm, ffn_norm
	QKV               *Linear  // qkv [3H, H], per head [q | k | v] (not [Q | K | V])
	WO                *Linear  // wo [H, H]
	W12               *Linear  // ffn.w12 [2F, H]: the gate rows, then the value rows
	W3                *Linear  // ffn.w3 [H, F]
}

// NewNeoBERT creates the encoder's parameters under prefix with the
// released names (encoder.weight, transformer_encoder.{i}.…,
// layer_norm.weight) and the official init: weights U(±0.02), RMSNorm
// weights 1. Call b.Freeze(prefix) first for a frozen encoder.
func NewNeoBERT(b *Builder, prefix string, cfg NeoBERTConfig) *NeoBERT {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fail(fmt.Errorf("layers: neobert %s: %w", prefix, err))
		// A minimal valid encoder lets building go on until the caller
		// checks b.Err.
		cfg = NeoBERTConfig{HiddenSize: 2, NumHiddenLayers: 1, NumAttentionHeads: 1, IntermediateSize: 12, VocabSize: 1}.withDefaults()
	}
	h, f := cfg.HiddenSize, cfg.FFNSize()
	init := Uniform(0.02)
	m := &NeoBERT{Cfg: cfg, Prefix: prefix, Embed: b.Param(prefix+"encoder.weight", init, cfg.VocabSize, h)}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		p := fmt.Sprintf("%stransformer_encoder.%d.", prefix, i)
		m.Blocks = append(m.Blocks, &NeoBERTBlock{
			AttnNorm: NewRMSNorm(b, p+"attention_norm", h, cfg.NormEps),
			QKV:      NewLinearInit(b, p+"qkv", h, 3*h, false, init),
			WO:       NewLinearInit(b, p+"wo", h, h, false, init),
			FFNNorm:  NewRMSNorm(b, p+"ffn_norm", h, cfg.NormEps),
			W12:      NewLinearInit(b, p+"ffn.w12", h, 2*f, false, init),
			W3:       NewLinearInit(b, p+"ffn.w3", f, h, false, init),
		})
	}
	m.Norm = NewRMSNorm(b, prefix+"layer_norm", h, cfg.NormEps)
	return m
}

// Width is the feature width H.
func (m *NeoBERT) Width() int { return m.Cfg.HiddenSize }

// Params returns the encoder's parameters in checkpoint order.
func (m *NeoBERT) Params() []*G.Node {
	ps := []*G.Node{m.Embed}
	for _, blk := range m.Blocks {
		ps = append(ps, blk.AttnNorm.W, blk.QKV.W, blk.WO.W, blk.FFNNorm.W, blk.W12.W, blk.W3.W)
	}
	return append(ps, m.Norm.W)
}

// Fwd encodes ids [B, L] with key mask [B, L] (nil: no padding). last is
// the final RMSNorm's output [B, L, H]; hidden[i] is the output of block i
// before it (the official code's hidden_states). With a mask, positions
// after each sentence's last real token are zeros.
func (m *NeoBERT) Fwd(b *Builder, ids, mask *G.Node) (last *G.Node, hidden []*G.Node) {
	if ids.Dims() == 2 && m.Cfg.MaxLength > 0 && ids.Shape()[1] > m.Cfg.MaxLength {
		b.Fail(fmt.Errorf("layers: neobert %s: %d tokens exceed max_length %d", m.Prefix, ids.Shape()[1], m.Cfg.MaxLength))
	}
	x := embed(b, ids, m.Cfg.PadTokenID, m.Embed) // [B, L, H]
	// Every block runs at each sentence's real tokens only (Builder.Rows).
	if mask != nil {
		x = b.Rows(x, mask)
	}
	for _, blk := range m.Blocks {
		x = blk.Fwd(b, x, mask, m.Cfg)
		hidden = append(hidden, x)
	}
	return m.Norm.Fwd(b, x), hidden
}

// Fwd applies the block to x [B, L, H].
func (blk *NeoBERTBlock) Fwd(b *Builder, x, mask *G.Node, cfg NeoBERTConfig) *G.Node {
	heads := cfg.NumAttentionHeads
	qkv := blk.QKV.Fwd(b, blk.AttnNorm.Fwd(b, x)) // [B, L, 3H]
	qkv = RoPEQKV(b, qkv, heads, cfg.RopeTheta)
	x = b.Add(x, blk.WO.Fwd(b, AttentionQKV(b, qkv, mask, heads)))
	u := blk.W12.Fwd(b, blk.FFNNorm.Fwd(b, x)) // [B, L, 2F]
	return b.Add(x, blk.W3.Fwd(b, SwiGLU(b, u)))
}

// Load reads a NeoBERT safetensors checkpoint into the encoder: tensor
// "model.<name>" (or "<name>") fills parameter prefix+"<name>"; the MLM
// head (decoder.*) is skipped.
func (m *NeoBERT) Load(b *Builder, path string) error {
	return LoadParams(b, path, m.Prefix, func(name string) (string, bool) {
		if strings.HasPrefix(name, "decoder.") {
			return "", false
		}
		return m.Prefix + strings.TrimPrefix(name, "model."), true
	})
}

// RoPE rotates the interleaved pairs (x[2i], x[2i+1]) of every head of x
// [B, L, heads·dh] by the angle a = p·theta^(−2i/dh) at position p
// (0..L−1): (x0·cos a − x1·sin a, x0·sin a + x1·cos a). Angles, cosines
// and sines are computed in float64 and rounded to the graph's type.
func RoPE(b *Builder, x *G.Node, heads int, theta float64) *G.Node {
	return b.apply(ropeK{heads: heads, theta: theta}, x)
}

// RoPEQKV applies RoPE to the queries and keys of NeoBERT's fused
// projection qkv [B, L, 3H], laid out as AttentionQKV reads it (head h's
// q, k, v at features h·3dh + [0, dh), [dh, 2dh), [2dh, 3dh)), and copies
// the values: the result is AttentionQKV's input.
func RoPEQKV(b *Builder, qkv *G.Node, heads int, theta float64) *G.Node {
	return b.apply(ropeK{heads: heads, theta: theta, qkv: true}, qkv)
}

// ropeK is RoPE, or with qkv RoPEQKV.
type ropeK struct {
	heads int
	theta float64
	qkv   bool
}

func (k ropeK) String() string {
	if k.qkv {
		return fmt.Sprintf("rope_qkv(heads=%d,theta=%g)", k.heads, k.theta)
	}
	return fmt.Sprintf("rope(heads=%d,theta=%g)", k.heads, k.theta)
}

// parts is the number of dh-wide parts of a head in the input: q, k, v
// with qkv, else one.
func (k ropeK) parts() int {
	if k.qkv {
		return 3
	}
	return 1
}

func (k ropeK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if x.Dims() != 3 || x[2]%(2*k.parts()*k.heads) != 0 {
		return nil, fmt.Errorf("x %v is not [B, L, %d·heads·dh] with even dh for %d heads", x, k.parts(), k.heads)
	}
	return x.Clone(), nil
}

func (k ropeK) forward(a *kargs)  { byType(a.dt, ropeDo[float32], ropeDo[float64])(k, a, false) }
func (k ropeK) backward(a *kargs) { byType(a.dt, ropeDo[float32], ropeDo[float64])(k, a, true) }

// writesGrad: ropeDo stores gx at every step (zeros at padding).
func (ropeK) writesGrad(i int) bool { return i == 0 }

// ropeTable returns cos and sin [L, dh/2] of the angles p·theta^(−2i/dh).
func ropeTable[T float](L, dh int, theta float64) (cos, sin []T) {
	half := dh / 2
	cos, sin = make([]T, L*half), make([]T, L*half)
	for p := 0; p < L; p++ {
		for i := 0; i < half; i++ {
			a := float64(p) * math.Pow(theta, -float64(2*i)/float64(dh))
			cos[p*half+i], sin[p*half+i] = T(math.Cos(a)), T(math.Sin(a))
		}
	}
	return cos, sin
}

// ropeDo rotates x forward, or rotates the gradient back (the transpose
// of a rotation is the rotation by −a); a head's third part (v, with qkv)
// is copied either way.
func ropeDo[T float](k ropeK, a *kargs, bwd bool) {
	s := a.shape[0]
	L, w := s[1], s[2]
	dh := w / (k.parts() * k.heads)
	half := dh / 2
	cos, sin := ropeTable[T](L, dh, k.theta)
	src, dst := data[T](a.in[0]), data[T](a.out)
	if bwd {
		src, dst = data[T](a.gout), data[T](a.grads[0])
	}
	clearPadding(a.rows, dst)
	parallelRows(a.rows, len(src)/w, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			p := r % L
			c, sn := cos[p*half:(p+1)*half], sin[p*half:(p+1)*half]
			for h := 0; h < k.heads; h++ {
				at := r*w + h*k.parts()*dh
				for part := 0; part < min(k.parts(), 2); part++ {
					x, y := src[at+part*dh:][:dh], dst[at+part*dh:][:dh]
					for i, ci := range c {
						si := sn[i]
						if bwd {
							si = -si
						}
						x0, x1 := x[2*i], x[2*i+1]
						y[2*i] = x0*ci - x1*si
						y[2*i+1] = x0*si + x1*ci
					}
				}
				if k.qkv {
					copy(dst[at+2*dh:][:dh], src[at+2*dh:][:dh])
				}
			}
		}
	})
}

// SwiGLU is silu(u[..., :F]) ⊙ u[..., F:] for u [..., 2F], silu(z) =
// z·sigmoid(z), as NeoBERT's packed w12 projection.
func SwiGLU(b *Builder, u *G.Node) *G.Node { return b.apply(swigluK{}, u) }

type swigluK struct{}

func (swigluK) String() string { return "swiglu" }

func (swigluK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	u := in[0]
	if u.Dims() < 1 || u[u.Dims()-1]%2 != 0 {
		return nil, fmt.Errorf("u %v has no even last axis", u)
	}
	out := u.Clone()
	out[out.Dims()-1] /= 2
	return out, nil
}

func (k swigluK) forward(a *kargs)  { byType(a.dt, swigluDo[float32], swigluDo[float64])(a, false) }
func (k swigluK) backward(a *kargs) { byType(a.dt, swigluDo[float32], swigluDo[float64])(a, true) }

// swigluDo computes y = silu(g)·v, or the gradients
// dg = dy·v·σ(g)·(1 + g·(1 − σ(g))) and dv = dy·silu(g).
func swigluDo[T float](a *kargs, bwd bool) {
	u := data[T](a.in[0])
	f := a.shape[0][a.shape[0].Dims()-1] / 2
	y, gy := data[T](a.out), data[T](a.gout)
	var gu []T
	if bwd {
		gu = data[T](a.grads[0])
	} else {
		clearPadding(a.rows, y)
	}
	sigRow := func(dst, g []T) { // dst = σ(g): float32 rows at once (sigmoidRow32)
		copy(dst, g)
		if d32, ok := any(dst).([]float32); ok {
			sigmoidRow32(d32)
			return
		}
		for j, v := range dst {
			dst[j] = T(1 / (1 + math.Exp(-float64(v))))
		}
	}
	parallelRows(a.rows, len(u)/(2*f), func(lo, hi int) {
		sigs := make([]T, f)
		for r := lo; r < hi; r++ {
			g, v := u[r*2*f:r*2*f+f], u[r*2*f+f:(r+1)*2*f]
			sigRow(sigs, g)
			if bwd {
				swigluGradRow(g, v, sigs, gy[r*f:(r+1)*f], gu[r*2*f:r*2*f+f], gu[r*2*f+f:(r+1)*2*f])
			} else {
				swigluRow(g, v, sigs, y[r*f:(r+1)*f])
			}
		}
	})
}

// swigluRow sets y = g·s·v in float64 (s = σ(g)); float32 rows run four
// at a time with AVX2 (vec.SwiGLU): the same operations, the same numbers.
func swigluRow[T float](g, v, s, y []T) {
	j := 0
	if y32, ok := any(y).([]float32); ok && useAVX2 && len(y) >= 4 {
		j = len(y) &^ 3
		vec.SwiGLU(&any(g).([]float32)[0], &any(v).([]float32)[0], &any(s).([]float32)[0], &y32[0], j)
	}
	for ; j < len(y); j++ {
		y[j] = T(float64(g[j]) * float64(s[j]) * float64(v[j]))
	}
}

// swigluGradRow sets dg = dy·v·s·(1 + g·(1 − s)) and dv = dy·g·s in
// float64; float32 rows run four at a time with AVX2 (vec.SwiGLUGrad).
func swigluGradRow[T float](g, v, s, dy, dg, dv []T) {
	j := 0
	if dy32, ok := any(dy).([]float32); ok && useAVX2 && len(dy) >= 4 {
		j = len(dy) &^ 3
		vec.SwiGLUGrad(&any(g).([]float32)[0], &any(v).([]float32)[0], &any(s).([]float32)[0], &dy32[0],
			&any(dg).([]float32)[0], &any(dv).([]float32)[0], j)
	}
	for ; j < len(dy); j++ {
		d, gj, sj := float64(dy[j]), float64(g[j]), float64(s[j])
		dg[j] = T(d * float64(v[j]) * sj * (1 + gj*(1-sj)))
		dv[j] = T(d * gj * sj)
	}
}
