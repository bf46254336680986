package tokenize

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixtures is the shared fixtures folder seen from this package's folder.
const fixtures = "../../../shared/fixtures"

// goldenCase is one line of a golden JSONL file.
type goldenCase struct {
	Text       string   `json:"text"`
	Normalized *string  `json:"normalized"`
	IDs        []int32  `json:"ids"`
	Tokens     []string `json:"tokens"`
}

// bertBaseUncased loads the fixture tokenizer, skipping the test without it.
func bertBaseUncased(t testing.TB) *Tokenizer {
	t.Helper()
	path := filepath.Join(fixtures, "bert-base-uncased-tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("fixtures folder %s not found (%v): skipping bert-base-uncased checks", fixtures, err)
	}
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func readGolden(t *testing.T, path string) []goldenCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c goldenCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

func checkEncode(t *testing.T, tk *Tokenizer, c goldenCase) {
	t.Helper()
	ids, tokens, err := tk.Encode(c.Text, 0)
	if err != nil {
		t.Fatalf("Encode(%q): %v", c.Text, err)
	}
	if !reflect.DeepEqual(ids, c.IDs) || !reflect.DeepEqual(tokens, c.Tokens) {
		t.Errorf("Encode(%q)\n got %v %q\nwant %v %q", c.Text, ids, tokens, c.IDs, c.Tokens)
	}
}

// TestHFGolden checks every line of tokenizer_golden.jsonl, made by the
// Hugging Face Rust tokenizer.
func TestHFGolden(t *testing.T) {
	tk := bertBaseUncased(t)
	for _, c := range readGolden(t, filepath.Join(fixtures, "tokenizer_golden.jsonl")) {
		checkEncode(t, tk, c)
	}
}

// TestExtraGolden checks testdata/extra_golden.jsonl (see extra_cases.py):
// hand-written normalizations and a separate Python implementation of the
// Hugging Face pipeline on the bert-base-uncased vocabulary.
func TestExtraGolden(t *testing.T) {
	tk := bertBaseUncased(t)
	for _, c := range readGolden(t, filepath.Join("testdata", "extra_golden.jsonl")) {
		if c.Normalized != nil {
			if got := tk.Normalizer().Normalize(c.Text); got != *c.Normalized {
				t.Errorf("Normalize(%q) = %q, want %q", c.Text, got, *c.Normalized)
			}
		}
		checkEncode(t, tk, c)
	}
}

func TestLoadSettings(t *testing.T) {
	tk := bertBaseUncased(t)
	want := Normalizer{CleanText: true, HandleChineseChars: true, StripAccents: true, Lowercase: true}
	if got := tk.Normalizer(); got != want {
		t.Errorf("Normalizer() = %+v, want %+v (strip_accents null follows lowercase)", got, want)
	}
	if tk.VocabSize() != 30522 || tk.PadID() != 0 || tk.CLSID() != 101 || tk.SEPID() != 102 {
		t.Errorf("VocabSize, PadID, CLSID, SEPID = %d, %d, %d, %d; want 30522, 0, 101, 102",
			tk.VocabSize(), tk.PadID(), tk.CLSID(), tk.SEPID())
	}
}

func TestTruncation(t *testing.T) {
	tk := bertBaseUncased(t)
	// Untruncated (tokenizer_golden.jsonl): [CLS] it ' s 3 : 30 ##pm ... [SEP].
	text := "It's 3:30pm -- the $5.99 deal (50% off!) isn't bad..."
	tests := []struct {
		maxLen int
		ids    []int32
		tokens []string
	}{
		{2, []int32{101, 102}, []string{"[CLS]", "[SEP]"}},
		{3, []int32{101, 2009, 102}, []string{"[CLS]", "it", "[SEP]"}},
		// Cuts between "30" and "##pm": truncation works on tokens.
		{7, []int32{101, 2009, 1005, 1055, 1017, 1024, 102}, []string{"[CLS]", "it", "'", "s", "3", ":", "[SEP]"}},
		{8, []int32{101, 2009, 1005, 1055, 1017, 1024, 2382, 102}, []string{"[CLS]", "it", "'", "s", "3", ":", "30", "[SEP]"}},
	}
	for _, tt := range tests {
		ids, tokens, err := tk.Encode(text, tt.maxLen)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(tokens, tt.tokens) {
			t.Errorf("maxLen %d: got %v %q, want %v %q", tt.maxLen, ids, tokens, tt.ids, tt.tokens)
		}
	}
	// A short text is not padded or changed by a large maxLen.
	ids, _, err := tk.Encode("hello world", 512)
	if err != nil || !reflect.DeepEqual(ids, []int32{101, 7592, 2088, 102}) {
		t.Errorf("Encode(hello world, 512) = %v, %v", ids, err)
	}
	for _, bad := range []int{-1, 1} {
		if _, _, err := tk.Encode("hello", bad); err == nil {
			t.Errorf("Encode with maxLen %d: no error", bad)
		}
	}
}

func TestEncodeBatch(t *testing.T) {
	tk := bertBaseUncased(t)
	texts := []string{"hello world", "", "Just the great great movie"}
	tests := []struct {
		maxLen  int
		ids     [][]int32
		lengths []int
	}{
		{0, [][]int32{
			{101, 7592, 2088, 102, 0, 0, 0},
			{101, 102, 0, 0, 0, 0, 0},
			{101, 2074, 1996, 2307, 2307, 3185, 102},
		}, []int{4, 2, 7}},
		{6, [][]int32{
			{101, 7592, 2088, 102, 0, 0},
			{101, 102, 0, 0, 0, 0},
			{101, 2074, 1996, 2307, 2307, 102},
		}, []int{4, 2, 6}},
		{9, [][]int32{
			{101, 7592, 2088, 102, 0, 0, 0, 0, 0},
			{101, 102, 0, 0, 0, 0, 0, 0, 0},
			{101, 2074, 1996, 2307, 2307, 3185, 102, 0, 0},
		}, []int{4, 2, 7}},
	}
	for _, tt := range tests {
		ids, lengths, err := tk.EncodeBatch(texts, tt.maxLen)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(lengths, tt.lengths) {
			t.Errorf("maxLen %d:\n got %v %v\nwant %v %v", tt.maxLen, ids, lengths, tt.ids, tt.lengths)
		}
	}
	if _, _, err := tk.EncodeBatch(texts, 1); err == nil || !strings.Contains(err.Error(), "batch item 0") {
		t.Errorf("EncodeBatch with maxLen 1: error %v, want one naming batch item 0", err)
	}
}

// TestLoadErrors checks that unsupported or broken files are refused with an
// error naming the file and the field.
func TestLoadErrors(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"version":       "1.0",
			"added_tokens":  []any{map[string]any{"id": 0, "content": "[PAD]", "special": true}},
			"normalizer":    map[string]any{"type": "BertNormalizer", "lowercase": true},
			"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
			"decoder":       map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
			"model": map[string]any{
				"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
				"max_input_chars_per_word": 100,
				"vocab":                    map[string]any{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "a": 4},
			},
		}
	}
	model := func(m map[string]any) map[string]any { return m["model"].(map[string]any) }
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		substr string
	}{
		{"valid", func(map[string]any) {}, ""},
		{"normalizer type", func(m map[string]any) { m["normalizer"] = map[string]any{"type": "NFC"} }, "normalizer"},
		{"pre_tokenizer", func(m map[string]any) { m["pre_tokenizer"] = nil }, "pre_tokenizer"},
		{"model type", func(m map[string]any) { model(m)["type"] = "BPE" }, "model/type"},
		{"prefix", func(m map[string]any) { model(m)["continuing_subword_prefix"] = "@@" }, "continuing_subword_prefix"},
		{"unk", func(m map[string]any) { model(m)["unk_token"] = "<unk>" }, "unk_token"},
		{"no cls", func(m map[string]any) {
			model(m)["vocab"] = map[string]any{"[PAD]": 0, "[UNK]": 1, "x": 2, "[SEP]": 3}
		}, "[CLS]"},
		{"id gap", func(m map[string]any) {
			model(m)["vocab"] = map[string]any{"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 7}
		}, "model/vocab"},
		{"added id", func(m map[string]any) {
			m["added_tokens"] = []any{map[string]any{"id": 5, "content": "[PAD]", "special": true}}
		}, "added_tokens"},
		{"added normalized", func(m map[string]any) {
			m["added_tokens"] = []any{map[string]any{"id": 4, "content": "a", "normalized": true}}
		}, "added_tokens"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		m := base()
		tt.edit(m)
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tk, err := Load(path)
		switch {
		case tt.substr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.substr == "":
			// lowercase given, the other settings missing: Hugging Face defaults.
			want := Normalizer{CleanText: true, HandleChineseChars: true, StripAccents: true, Lowercase: true}
			if tk.Normalizer() != want {
				t.Errorf("%s: Normalizer() = %+v, want %+v", tt.name, tk.Normalizer(), want)
			}
		case err == nil:
			t.Errorf("%s: no error", tt.name)
		case !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.substr):
			t.Errorf("%s: error %q should name %s and %q", tt.name, err, path, tt.substr)
		}
	}
}

// TestLoadMalformed checks that a file that is not a tokenizer.json object,
// or no file at all, is refused.
func TestLoadMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"", "{", `{"model": 3}`, "[]"} {
		path := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil {
			t.Errorf("Load(%q content): no error", bad)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("Load(missing file): no error")
	}
}

// TestParseMatchesLoad: a tokenizer.json parsed from memory (a checkpoint's
// metadata) encodes as the same file loaded from disk, and its errors name
// the path it was given.
func TestParseMatchesLoad(t *testing.T) {
	fromFile := bertBaseUncased(t)
	raw, err := os.ReadFile(filepath.Join(fixtures, "bert-base-uncased-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := Parse("model.safetensors: __metadata__ tokenizer", raw)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"It was NOT a good movie... [SEP] naïve café", "unbelievably boring"}
	want, wantMask, err := fromFile.EncodeBatch(texts, 16)
	if err != nil {
		t.Fatal(err)
	}
	got, gotMask, err := fromBytes.EncodeBatch(texts, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotMask, wantMask) {
		t.Fatalf("parsed %v %v, loaded %v %v", got, gotMask, want, wantMask)
	}
	if _, err := Parse("model.safetensors: __metadata__ tokenizer", raw[:len(raw)/2]); err == nil ||
		!strings.Contains(err.Error(), "model.safetensors: __metadata__ tokenizer") {
		t.Fatalf("truncated tokenizer: error %v, want one naming its origin", err)
	}
}
