package graph

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fdcmdie/fdcmdie/layers"
)

// Config is the model's configuration. The JSON field names are SPEC §7's,
// so a checkpoint's __metadata__["config"] is this struct.
type Config struct {
	DModel  int     `json:"d_model"` // width d of every modality after projection (128)
	Heads   int     `json:"heads"`   // attention heads in CMDIE (4)
	Layers  int     `json:"layers"`  // CMDIE depth k (3)
	Dropout float64 `json:"dropout"` // one dropout rate for the whole model (0.1)

	AudioDim  int `json:"audio_dim"`  // D_a: 5 for MOSI, 74 for MOSEI
	VisionDim int `json:"vision_dim"` // D_v: 20 for MOSI, 35 for MOSEI

	TextFeats   bool                 `json:"text_feats"`   // precomputed text features instead of a text encoder
	TextDim     int                  `json:"text_dim"`     // H_t of the precomputed features (768 in MMSA files)
	TextEncoder string               `json:"text_encoder"` // "neobert" or "bert" (the --no-neobert ablation)
	NeoBERT     layers.NeoBERTConfig `json:"neobert"`      // the text encoder sizes (BERT takes the same)

	NoGAP       bool `json:"no_gap"`       // G^{l+1} = mean of G_t, G_v, G_a
	NoCrossAtt2 bool `json:"no_crossatt2"` // G3 = G2, X3 = X2
	NoCMDIE     bool `json:"no_cmdie"`     // head on [s; d] directly
	NoCL        bool `json:"no_cl"`        // λ_cl = 0 and no memory bank
	// TextOnly is fdcmdie's text-only baseline, not a paper ablation: the
	// head reads pool(F_t) alone; no audio, vision, decoupling or CMDIE.
	TextOnly bool `json:"text_only,omitempty"`

	Tau       float64 `json:"tau"`        // NT-Xent temperature (0.5)
	Margin    float64 `json:"margin"`     // triplet margin (0.5)
	LambdaTri float64 `json:"lambda_tri"` // triplet weight inside L_cl (0.1)
	LambdaCL  float64 `json:"lambda_cl"`  // weight of L_cl in the joint loss (0.1)
	KCL       int     `json:"k_cl"`       // partners per sample (MOSI 10, MOSEI 50)
}

// DefaultConfig is the paper's MOSI setting (table 2) on precomputed
// 768-d text features.
func DefaultConfig() Config {
	return Config{
		DModel: 128, Heads: 4, Layers: 3, Dropout: 0.1,
		AudioDim: 5, VisionDim: 20,
		TextFeats: true, TextDim: 768, TextEncoder: "neobert",
		NeoBERT: layers.NeoBERTBase(),
		Tau:     0.5, Margin: 0.5, LambdaTri: 0.1, LambdaCL: 0.1, KCL: 10,
	}
}

// TextWidth is the width of F_t_raw, the input of text_proj.
func (c Config) TextWidth() int {
	if c.TextFeats {
		return c.TextDim
	}
	return c.NeoBERT.HiddenSize
}

// UsesCL reports whether the contrastive loss and the memory bank are on.
func (c Config) UsesCL() bool { return !c.NoCL && !c.TextOnly && c.LambdaCL != 0 }

// Validate returns an error naming the first field that is out of range.
func (c Config) Validate() error {
	switch {
	case c.DModel <= 0:
		return fmt.Errorf("config: d_model %d must be positive", c.DModel)
	case c.Heads <= 0 || c.DModel%c.Heads != 0:
		return fmt.Errorf("config: heads %d must divide d_model %d", c.Heads, c.DModel)
	case c.Layers < 0 || (!c.NoCMDIE && c.Layers == 0):
		return fmt.Errorf("config: layers %d must be positive (or set no_cmdie)", c.Layers)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("config: dropout %g must be in [0, 1)", c.Dropout)
	case c.AudioDim <= 0 || c.VisionDim <= 0:
		return fmt.Errorf("config: audio_dim %d and vision_dim %d must be positive", c.AudioDim, c.VisionDim)
	case c.TextFeats && c.TextDim <= 0:
		return fmt.Errorf("config: text_dim %d must be positive with text_feats", c.TextDim)
	case !c.TextFeats && c.TextEncoder != "neobert" && c.TextEncoder != "bert":
		return fmt.Errorf("config: text_encoder %q must be \"neobert\" or \"bert\"", c.TextEncoder)
	case c.Tau <= 0:
		return fmt.Errorf("config: tau %g must be positive", c.Tau)
	case c.UsesCL() && c.KCL <= 0:
		return fmt.Errorf("config: k_cl %d must be positive", c.KCL)
	}
	if !c.TextFeats {
		if err := c.NeoBERT.Validate(); err != nil {
			return fmt.Errorf("config: neobert: %w", err)
		}
	}
	return nil
}

// BertConfig is the classic BERT encoder of the --no-neobert ablation with
// the text encoder's sizes; max_length is its number of learned positions
// (512 for bert-base-uncased). HF BertModel defaults otherwise.
func (c Config) BertConfig() layers.BertConfig {
	n := c.NeoBERT
	return layers.BertConfig{VocabSize: n.VocabSize, HiddenSize: n.HiddenSize, NumHiddenLayers: n.NumHiddenLayers,
		NumAttentionHeads: n.NumAttentionHeads, IntermediateSize: n.IntermediateSize, PadTokenID: n.PadTokenID,
		MaxPositionEmbeddings: n.MaxLength}
}

// MarshalConfig returns the config as the JSON stored in checkpoints.
func MarshalConfig(c Config) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// UnmarshalConfig parses a checkpoint's config JSON; unknown fields are an
// error, so a config written by a newer version is not silently misread.
func UnmarshalConfig(s string) (Config, error) {
	var c Config
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}
