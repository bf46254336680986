package textenc

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
)

// modelPrefix is the parameter prefix of a graph.Model's text encoder.
const modelPrefix = "text_encoder."

// Pretrained is a released NeoBERT folder (chandar-lab/NeoBERT layout):
// config.json, model.safetensors and tokenizer.json.
type Pretrained struct {
	dir     string
	cfg     layers.NeoBERTConfig
	weights string // dir/model.safetensors
	tok     *tokenize.Tokenizer
	tokJSON []byte // tokenizer.json as read
}

// LoadPretrained reads the config and tokenizer of the release in dir and
// checks that its weights file exists and that the tokenizer's ids fit
// the encoder's vocabulary. Errors name the file or folder at fault.
func LoadPretrained(dir string) (*Pretrained, error) {
	p := &Pretrained{dir: dir, weights: filepath.Join(dir, "model.safetensors")}
	var err error
	if p.cfg, err = layers.LoadNeoBERTConfig(filepath.Join(dir, "config.json")); err != nil {
		return nil, err
	}
	if _, err := os.Stat(p.weights); err != nil {
		return nil, err
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	if p.tokJSON, err = os.ReadFile(tokPath); err != nil {
		return nil, err
	}
	if p.tok, err = tokenize.Parse(tokPath, p.tokJSON); err != nil {
		return nil, err
	}
	if p.tok.VocabSize() > p.cfg.VocabSize {
		return nil, fmt.Errorf("%s: tokenizer has %d tokens, config.json vocab_size is %d", dir, p.tok.VocabSize(), p.cfg.VocabSize)
	}
	return p, nil
}

// Dir is the release folder, as given to LoadPretrained.
func (p *Pretrained) Dir() string { return p.dir }

// Config is the encoder's config.json.
func (p *Pretrained) Config() layers.NeoBERTConfig { return p.cfg }

// Tokenizer is the release's tokenizer.
func (p *Pretrained) Tokenizer() *tokenize.Tokenizer { return p.tok }

// TokenizerJSON is the release's tokenizer.json, byte for byte (for
// datasets.PrepareOptions.TokenizerJSON and a checkpoint's metadata).
func (p *Pretrained) TokenizerJSON() []byte { return p.tokJSON }

// LoadInto copies the released weights into m's text encoder, which must
// be a NeoBERT of the release's config (text_encoder.<name> is the
// release's model.<name>; the MLM decoder is skipped). It is a
// train.ModelOptions.Init for fine-tuning the release.
func (p *Pretrained) LoadInto(m *graph.Model) error {
	enc := layers.NeoBERT{Cfg: p.cfg, Prefix: modelPrefix}
	return enc.Load(m.B, p.weights)
}
