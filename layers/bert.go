package layers

import (
	"fmt"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"
)

// BertConfig holds the sizes of a classic BERT encoder (HF BertModel),
// with the field names of its config.json.
type BertConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	IntermediateSize      int     `json:"intermediate_size"`
	HiddenAct             string  `json:"hidden_act"`              // only "gelu" (exact erf); default "gelu"
	MaxPositionEmbeddings int     `json:"max_position_embeddings"` // rows of the position table; default 512
	TypeVocabSize         int     `json:"type_vocab_size"`         // rows of the token type table; default 2
	LayerNormEps          float64 `json:"layer_norm_eps"`          // default 1e-12
	PadTokenID            int     `json:"pad_token_id"`            // its word embedding row gets no gradient
	InitializerRange      float64 `json:"initializer_range"`       // std of the N(0, σ²) init; default 0.02
}

// withDefaults fills the fields a config.json may leave out with HF
// BertConfig's defaults.
func (c BertConfig) withDefaults() BertConfig {
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
	}
	if c.MaxPositionEmbeddings == 0 {
		c.MaxPositionEmbeddings = 512
	}
	if c.TypeVocabSize == 0 {
		c.TypeVocabSize = 2
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.InitializerRange == 0 {
		c.InitializerRange = 0.02
	}
	return c
}

// Validate reports a config that cannot build an encoder.
func (c BertConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.VocabSize <= 0 || c.HiddenSize <= 0 || c.NumHiddenLayers <= 0 || c.NumAttentionHeads <= 0 || c.IntermediateSize <= 0:
		return fmt.Errorf("sizes must be positive: vocab_size %d, hidden_size %d, num_hidden_layers %d, num_attention_heads %d, intermediate_size %d",
			c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("hidden_size %d is not a multiple of %d heads", c.HiddenSize, c.NumAttentionHeads)
	case c.HiddenAct != "gelu":
		return fmt.Errorf("hidden_act %q is not supported (want gelu)", c.HiddenAct)
	case c.MaxPositionEmbeddings < 1 || c.TypeVocabSize < 1 || c.LayerNormEps < 0 || c.InitializerRange < 0:
		return fmt.Errorf("max_position_embeddings %d, type_vocab_size %d, layer_norm_eps %g, initializer_range %g out of range",
			c.MaxPositionEmbeddings, c.TypeVocabSize, c.LayerNormEps, c.InitializerRange)
	}
	return checkPadID(c.PadTokenID, c.VocabSize)
}

// LoadBertConfig reads a BERT config.json (bert-base-uncased style),
// fills HF's defaults and refuses what this package does not implement
// (an activation other than gelu, position embeddings other than
// absolute).
func LoadBertConfig(path string) (BertConfig, error) {
	var variant struct {
		PositionEmbeddingType *string `json:"position_embedding_type"`
	}
	return loadConfig[BertConfig]("bert", path, &variant, func() error {
		if p := variant.PositionEmbeddingType; p != nil && *p != "absolute" {
			return fmt.Errorf("position_embedding_type %q is not supported (want absolute)", *p)
		}
		return nil
	})
}

// Bert is HF's BertModel without the pooler (SPEC §2, "w/o NeoBERT"):
// word + token type (all 0) + learned position embeddings, LayerNorm,
// then post-LN layers x = LN(x + Attn(x)); x = LN(x + W2·GELU(W1·x)).
// There is no dropout (SPEC §1 lists none inside the text encoder).
type Bert struct {
	Cfg             BertConfig
	Prefix          string
	Word, Pos, Type *G.Node // embeddings.{word,position,token_type}_embeddings.weight
	EmbNorm         *LayerNorm
	Layers          []*BertLayer
}

// BertLayer is one encoder.layer.{i}.
type BertLayer struct {
	Q, K, V  *Linear    // attention.self.{query,key,value}
	AttnOut  *Linear    // attention.output.dense
	AttnNorm *LayerNorm // attention.output.LayerNorm
	Inter    *Linear    // intermediate.dense
	Out      *Linear    // output.dense
	OutNorm  *LayerNorm // output.LayerNorm
}

// normalInit draws from N(0, std²) (HF BERT's init); the row pad of a
// [rows, width] table, if pad ≥ 0, is zero as nn.Embedding(padding_idx).
func normalInit(std float64, pad, width int) Init {
	return func(rng *rand.Rand, d []float64) {
		for i := range d {
			d[i] = rng.NormFloat64() * std
		}
		if pad >= 0 {
			clear(d[pad*width : (pad+1)*width])
		}
	}
}

// NewBert creates the encoder's parameters under prefix with HF BertModel
// names (embeddings.…, encoder.layer.{i}.…) and HF's init: weights
// N(0, initializer_range²), biases 0, LayerNorm 1 and 0. Call
// b.Freeze(prefix) first for a frozen encoder.
func NewBert(b *Builder, prefix string, cfg BertConfig) *Bert {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fail(fmt.Errorf("layers: bert %s: %w", prefix, err))
		// A minimal valid encoder lets building go on until the caller
		// checks b.Err.
		cfg = BertConfig{VocabSize: 1, HiddenSize: 1, NumHiddenLayers: 1, NumAttentionHeads: 1, IntermediateSize: 1}.withDefaults()
	}
	h, std := cfg.HiddenSize, cfg.InitializerRange
	e := prefix + "embeddings."
	m := &Bert{
		Cfg:    cfg,
		Prefix: prefix,
		Word:   b.Param(e+"word_embeddings.weight", normalInit(std, cfg.PadTokenID, h), cfg.VocabSize, h),
		Pos:    b.Param(e+"position_embeddings.weight", normalInit(std, -1, h), cfg.MaxPositionEmbeddings, h),
		Type:   b.Param(e+"token_type_embeddings.weight", normalInit(std, -1, h), cfg.TypeVocabSize, h),
	}
	m.EmbNorm = NewLayerNorm(b, e+"LayerNorm", h, cfg.LayerNormEps)
	w := normalInit(std, -1, h)
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		p := fmt.Sprintf("%sencoder.layer.%d.", prefix, i)
		m.Layers = append(m.Layers, &BertLayer{
			Q:        NewLinearInit(b, p+"attention.self.query", h, h, true, w),
			K:        NewLinearInit(b, p+"attention.self.key", h, h, true, w),
			V:        NewLinearInit(b, p+"attention.self.value", h, h, true, w),
			AttnOut:  NewLinearInit(b, p+"attention.output.dense", h, h, true, w),
			AttnNorm: NewLayerNorm(b, p+"attention.output.LayerNorm", h, cfg.LayerNormEps),
			Inter:    NewLinearInit(b, p+"intermediate.dense", h, cfg.IntermediateSize, true, w),
			Out:      NewLinearInit(b, p+"output.dense", cfg.IntermediateSize, h, true, w),
			OutNorm:  NewLayerNorm(b, p+"output.LayerNorm", h, cfg.LayerNormEps),
		})
	}
	return m
}

// Width is the feature width H.
func (m *Bert) Width() int { return m.Cfg.HiddenSize }

// Params returns the encoder's parameters in checkpoint order.
func (m *Bert) Params() []*G.Node {
	ps := []*G.Node{m.Word, m.Pos, m.Type, m.EmbNorm.W, m.EmbNorm.B}
	for _, l := range m.Layers {
		for _, lin := range []*Linear{l.Q, l.K, l.V, l.AttnOut} {
			ps = append(ps, lin.W, lin.B)
		}
		ps = append(ps, l.AttnNorm.W, l.AttnNorm.B)
		for _, lin := range []*Linear{l.Inter, l.Out} {
			ps = append(ps, lin.W, lin.B)
		}
		ps = append(ps, l.OutNorm.W, l.OutNorm.B)
	}
	return ps
}

// Fwd encodes ids [B, L] with key mask [B, L] (nil: no padding). last is
// HF's last_hidden_state [B, L, H]; hidden[i] is the output of layer i
// (HF's hidden_states[i+1]), so hidden[len−1] is last.
//
// A padded key adds MaskNeg (−1e9) to its scores where HF adds
// finfo(dtype).min (older versions: −10000): after the row-max shift
// both underflow to an exact 0 probability in float32 and float64, so
// the outputs agree whenever a row has a real key (always, with [CLS]).
// With a mask, positions after each sentence's last real token are zeros.
func (m *Bert) Fwd(b *Builder, ids, mask *G.Node) (last *G.Node, hidden []*G.Node) {
	x := embed(b, ids, m.Cfg.PadTokenID, m.Word, m.Pos, m.Type) // [B, L, H]
	// Every layer runs at each sentence's real tokens only (Builder.Rows).
	if mask != nil {
		x = b.Rows(x, mask)
	}
	x = m.EmbNorm.Fwd(b, x)
	heads := m.Cfg.NumAttentionHeads
	for _, l := range m.Layers {
		a := Attention(b, l.Q.Fwd(b, x), l.K.Fwd(b, x), l.V.Fwd(b, x), mask, heads)
		x = l.AttnNorm.Fwd(b, b.Add(l.AttnOut.Fwd(b, a), x))
		x = l.OutNorm.Fwd(b, b.Add(l.Out.Fwd(b, GELU(b, l.Inter.Fwd(b, x))), x))
		hidden = append(hidden, x)
	}
	return x, hidden
}

// Load reads a BERT safetensors checkpoint (bert-base-uncased style) into
// the encoder: names may carry a "bert." prefix; the pooler, the
// pre-training heads (cls.*) and the position_ids buffer are skipped; old
// LayerNorm names gamma and beta are read as weight and bias.
func (m *Bert) Load(b *Builder, path string) error {
	return LoadParams(b, path, m.Prefix, func(name string) (string, bool) {
		n := strings.TrimPrefix(name, "bert.")
		if strings.HasPrefix(n, "pooler.") || strings.HasPrefix(n, "cls.") || n == "embeddings.position_ids" {
			return "", false
		}
		if strings.Contains(n, "LayerNorm.") {
			if s, ok := strings.CutSuffix(n, ".gamma"); ok {
				n = s + ".weight"
			} else if s, ok := strings.CutSuffix(n, ".beta"); ok {
				n = s + ".bias"
			}
		}
		return m.Prefix + n, true
	})
}
