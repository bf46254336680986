package layers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// bertGolden is testdata/bert_golden.json, written by bert_golden.py with
// a plain-torch HF BertModel forward in float64.
type bertGolden struct {
	IDs, Mask     []float64
	Batch, Length int
	Hidden        [][]float64
}

func loadBertGolden(t *testing.T) bertGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "bert_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g bertGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestBertGolden loads bert_tiny.safetensors (bert-base-uncased naming:
// "bert." prefix, LayerNorm gamma/beta, pooler, cls.* and position_ids to
// skip) and compares every layer's output with PyTorch's, at every real
// position (padded positions are zeros: Builder.Rows), in float64 and
// float32.
func TestBertGolden(t *testing.T) {
	g := loadBertGolden(t)
	cfg, err := LoadBertConfig(filepath.Join("testdata", "bert_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-10}, {tensor.Float32, 2e-5}} {
		t.Run(c.dt.String(), func(t *testing.T) {
			b := NewBuilder(c.dt, 1, false)
			enc := NewBert(b, "text_encoder.", cfg)
			ids, mask := b.Input("text_ids", g.Batch, g.Length), b.Input("text_mask", g.Batch, g.Length)
			last, hidden := enc.Fwd(b, ids, mask)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			if last != hidden[len(hidden)-1] || len(hidden) != len(g.Hidden) {
				t.Fatalf("%d hidden states, want %d ending with last", len(hidden), len(g.Hidden))
			}
			if err := enc.Load(b, filepath.Join("testdata", "bert_tiny.safetensors")); err != nil {
				t.Fatal(err)
			}
			set := setInput
			if c.dt == tensor.Float32 {
				set = setInput32
			}
			set(t, ids, g.IDs)
			set(t, mask, g.Mask)
			got := run(t, b, hidden...)
			h, L := cfg.HiddenSize, g.Length
			for i := range hidden {
				name := "hidden[" + string(rune('0'+i)) + "]"
				for s := 0; s < g.Batch; s++ {
					n := lastReal(g.Mask[s*L : (s+1)*L]) // tokens past it are padding: zeros, never read
					lo, mid, hi := s*L*h, (s*L+n)*h, (s+1)*L*h
					assertClose(t, name, got[i][lo:mid], g.Hidden[i][lo:mid], c.tol)
					assertClose(t, name+" at padding", got[i][mid:hi], make([]float64, hi-mid), 0)
				}
			}
		})
	}
}

func TestLoadBertConfig(t *testing.T) {
	cfg, err := LoadBertConfig(filepath.Join("testdata", "bert_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := BertConfig{VocabSize: 23, HiddenSize: 12, NumHiddenLayers: 2, NumAttentionHeads: 3, IntermediateSize: 20,
		HiddenAct: "gelu", MaxPositionEmbeddings: 10, TypeVocabSize: 2, LayerNormEps: 1e-12, InitializerRange: 0.02}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, body, want string }{
		{"act.json", `{"vocab_size": 5, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "hidden_act": "gelu_new"}`, "gelu_new"},
		{"pos.json", `{"vocab_size": 5, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "position_embedding_type": "relative_key"}`, "relative_key"},
		{"heads.json", `{"vocab_size": 5, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 3, "intermediate_size": 8}`, "3 heads"},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadBertConfig(p); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: err = %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
}

// TestBertNamesAndInit checks the HF BertModel parameter names and shapes
// and the zeroed padding row of the word embeddings.
func TestBertNamesAndInit(t *testing.T) {
	b := newTestBuilder(1)
	enc := NewBert(b, "text_encoder.", BertConfig{VocabSize: 7, HiddenSize: 4, NumHiddenLayers: 1, NumAttentionHeads: 2,
		IntermediateSize: 8, PadTokenID: 3})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"embeddings.word_embeddings.weight": {7, 4}, "embeddings.position_embeddings.weight": {512, 4},
		"embeddings.token_type_embeddings.weight": {2, 4}, "embeddings.LayerNorm.weight": {4}, "embeddings.LayerNorm.bias": {4},
	}
	for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
		want["encoder.layer.0."+n+".weight"], want["encoder.layer.0."+n+".bias"] = []int{4, 4}, []int{4}
	}
	for _, n := range []string{"attention.output.LayerNorm", "output.LayerNorm"} {
		want["encoder.layer.0."+n+".weight"], want["encoder.layer.0."+n+".bias"] = []int{4}, []int{4}
	}
	want["encoder.layer.0.intermediate.dense.weight"], want["encoder.layer.0.intermediate.dense.bias"] = []int{8, 4}, []int{8}
	want["encoder.layer.0.output.dense.weight"], want["encoder.layer.0.output.dense.bias"] = []int{4, 8}, []int{4}
	if len(b.Params()) != len(want) || len(enc.Params()) != len(want) {
		t.Fatalf("%d parameters (Params: %d), want %d", len(b.Params()), len(enc.Params()), len(want))
	}
	for _, p := range b.Params() {
		s, ok := want[strings.TrimPrefix(p.Name, "text_encoder.")]
		if !ok || !tensor.Shape(s).Eq(tensor.Shape(p.Shape)) {
			t.Errorf("parameter %s %v, want %v", p.Name, p.Shape, s)
		}
	}
	word := enc.Word.Value().Data().([]float64)
	for j, v := range word {
		if (j/4 == 3) != (v == 0) {
			t.Fatalf("word embedding [%d, %d] = %v: want zero exactly on the pad row 3", j/4, j%4, v)
		}
	}
}

// TestBertLoadRejectsMismatch checks that the BERT loader reports a
// checkpoint of another size, naming the tensor.
func TestBertLoadRejectsMismatch(t *testing.T) {
	cfg, err := LoadBertConfig(filepath.Join("testdata", "bert_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxPositionEmbeddings = 12
	b := NewBuilder(tensor.Float32, 1, false)
	enc := NewBert(b, "text_encoder.", cfg)
	err = enc.Load(b, filepath.Join("testdata", "bert_tiny.safetensors"))
	if err == nil || !strings.Contains(err.Error(), `"bert.embeddings.position_embeddings.weight"`) || !strings.Contains(err.Error(), "bert_tiny.safetensors") {
		t.Fatalf("err = %v, want a shape error naming the position table and the file", err)
	}
}

// TestBertRejectsLongInputs: more tokens than position rows is a build
// error.
func TestBertRejectsLongInputs(t *testing.T) {
	b := newTestBuilder(1)
	enc := NewBert(b, "enc.", BertConfig{VocabSize: 5, HiddenSize: 4, NumHiddenLayers: 1, NumAttentionHeads: 2,
		IntermediateSize: 8, MaxPositionEmbeddings: 3})
	enc.Fwd(b, b.Input("ids", 1, 4), nil)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "position table") {
		t.Fatalf("err = %v, want a position table error", err)
	}
}
