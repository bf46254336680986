package textenc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/graph/textenc"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
)

// fixtures is the shared fixtures folder, next to the repository.
var fixtures = filepath.Join("..", "..", "..", "shared", "fixtures")

// releaseDir lays out the tiny NeoBERT fixture as a released model folder
// (config.json and tokenizer.json copied, so that a test may change them;
// model.safetensors linked) in a temporary folder.
func releaseDir(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Skipf("fixtures folder %s absent (a user's checkout): the NeoBERT release is not tested", abs)
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"neobert_tiny.config.json":         "config.json",
		"bert-base-uncased-tokenizer.json": "tokenizer.json",
	} {
		raw, err := os.ReadFile(filepath.Join(abs, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(abs, "neobert_tiny.safetensors"), filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editConfig replaces old by new in the release's config.json.
func editConfig(t *testing.T, dir, old, new string) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(raw), old, new, 1)
	if edited == string(raw) {
		t.Fatalf("config.json has no %s", old)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPretrained(t *testing.T) {
	dir := releaseDir(t)
	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.TokenizerJSON(), raw) {
		t.Error("TokenizerJSON differs from tokenizer.json")
	}
	cfg := p.Config()
	if cfg.HiddenSize != 32 || cfg.NumHiddenLayers != 2 || cfg.VocabSize != 30522 || p.Tokenizer().VocabSize() != 30522 || p.Dir() != dir {
		t.Errorf("config %+v, tokenizer of %d tokens, dir %s", cfg, p.Tokenizer().VocabSize(), p.Dir())
	}
}

func TestLoadPretrainedErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(dir string)
		want  string
	}{
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, "config.json")) }, "config.json"},
		{"no weights", func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, "model.safetensors"},
		{"no tokenizer", func(dir string) { os.Remove(filepath.Join(dir, "tokenizer.json")) }, "tokenizer.json"},
		{"small vocabulary", func(dir string) { editConfig(t, dir, `"vocab_size": 30522`, `"vocab_size": 30000`) },
			"tokenizer has 30522 tokens, config.json vocab_size is 30000"},
	} {
		dir := releaseDir(t)
		c.spoil(dir)
		if _, err := textenc.LoadPretrained(dir); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error %v, want one naming %s and %q", c.name, err, dir, c.want)
		}
	}
}

// buildFor builds a tiny model whose text encoder is the release's.
func buildFor(t *testing.T, p *textenc.Pretrained) (*graph.Model, error) {
	t.Helper()
	cfg := graph.DefaultConfig()
	cfg.DModel, cfg.Heads, cfg.Layers = 8, 2, 1
	cfg.TextFeats, cfg.NeoBERT = false, p.Config()
	return graph.Build(cfg, graph.Shape{B: 2, Lt: 8, La: 4, Lv: 4}, graph.Options{Seed: 1})
}

// TestLoadInto checks that every text encoder weight is the release's
// model.<name> tensor.
func TestLoadInto(t *testing.T) {
	dir := releaseDir(t)
	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := buildFor(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.LoadInto(m); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for _, prm := range m.B.Params() {
		name, ok := strings.CutPrefix(prm.Name, "text_encoder.")
		if !ok {
			continue
		}
		got := prm.Node.Value().Data().([]float32)
		want := make([]float32, len(got))
		if err := f.ReadFloat32("model."+name, want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s is not the release's model.%s", prm.Name, name)
		}
		n++
	}
	if n == 0 {
		t.Fatal("the model has no text_encoder parameters")
	}
}

// TestLoadIntoMismatch gives the release a config its weights do not fit:
// loading must fail naming the missing tensor, which shows the released
// weights are really loaded into the encoder.
func TestLoadIntoMismatch(t *testing.T) {
	dir := releaseDir(t)
	editConfig(t, dir, `"num_hidden_layers": 2`, `"num_hidden_layers": 3`)
	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := buildFor(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.LoadInto(m); err == nil || !strings.Contains(err.Error(), "transformer_encoder.2.") {
		t.Fatalf("err = %v, want a missing transformer_encoder.2 tensor", err)
	}
}
