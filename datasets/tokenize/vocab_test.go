package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuildVocab(t *testing.T) {
	specials := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	chars := []string{"a", "c", "d", "e", "g", "h", "o", "s", "t",
		"##!", "##.", "##a", "##c", "##d", "##e", "##g", "##h", "##o", "##s", "##t"}
	tests := []struct {
		name     string
		texts    []string
		minCount int
		want     []string
	}{
		{"counts then bytes", []string{"The cat sat.", "the dog sat!"}, 1,
			append(append(specials[:5:5], "sat", "the", "!", ".", "cat", "dog"), chars...)},
		// Rarer words go, their characters stay.
		{"minCount", []string{"The cat sat.", "the dog sat!"}, 2,
			append(append(specials[:5:5], "sat", "the", "!", "."), chars...)},
		{"normalized like uncased BERT", []string{"Café CAFÉ naïve"}, 0,
			append(specials[:5:5], "cafe", "naive", "a", "c", "e", "f", "i", "n", "v",
				"##a", "##c", "##e", "##f", "##i", "##n", "##v")},
		{"no text", nil, 1, specials},
	}
	for _, tt := range tests {
		if got := BuildVocab(tt.texts, tt.minCount); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// A word longer than WordPiece's 100-character limit is never matched.
	long := strings.Repeat("x", 101)
	for _, w := range BuildVocab([]string{long}, 1) {
		if w == long {
			t.Error("BuildVocab kept a 101-character word")
		}
	}
}

func TestWriteWordPieceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	vocab := BuildVocab([]string{"The cat sat.", "the dog sat!"}, 1)
	// ids: sat 5, the 6, ! 7, . 8, cat 9, dog 10, a 11 ... t 19, ##! 20 ... ##s 29, ##t 30.
	tests := []struct {
		lowercase bool
		text      string
		ids       []int32
		tokens    []string
	}{
		{true, "The cats, sat!", []int32{2, 6, 9, 29, 1, 5, 7, 3},
			[]string{"[CLS]", "the", "cat", "##s", "[UNK]", "sat", "!", "[SEP]"}},
		{true, "SAD Dogs", []int32{2, 18, 22, 24, 10, 29, 3},
			[]string{"[CLS]", "s", "##a", "##d", "dog", "##s", "[SEP]"}},
		{false, "The cat", []int32{2, 1, 9, 3}, []string{"[CLS]", "[UNK]", "cat", "[SEP]"}},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, "tokenizer.json")
		if err := WriteWordPiece(path, vocab, tt.lowercase); err != nil {
			t.Fatal(err)
		}
		tk, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := Normalizer{CleanText: true, HandleChineseChars: true, StripAccents: tt.lowercase, Lowercase: tt.lowercase}
		if tk.Normalizer() != want {
			t.Errorf("lowercase %v: Normalizer() = %+v, want %+v", tt.lowercase, tk.Normalizer(), want)
		}
		if tk.VocabSize() != 31 || tk.PadID() != 0 || tk.CLSID() != 2 || tk.SEPID() != 3 {
			t.Errorf("VocabSize, PadID, CLSID, SEPID = %d, %d, %d, %d; want 31, 0, 2, 3",
				tk.VocabSize(), tk.PadID(), tk.CLSID(), tk.SEPID())
		}
		ids, tokens, err := tk.Encode(tt.text, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids, tt.ids) || !reflect.DeepEqual(tokens, tt.tokens) {
			t.Errorf("lowercase %v: Encode(%q) = %v %q, want %v %q", tt.lowercase, tt.text, ids, tokens, tt.ids, tt.tokens)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after writing, want only tokenizer.json", len(entries))
	}
}

// TestWriteWordPieceLayout compares the written file with bert-base-uncased's
// tokenizer.json: same sections, same component settings, specials renumbered.
func TestWriteWordPieceLayout(t *testing.T) {
	ref := filepath.Join(fixtures, "bert-base-uncased-tokenizer.json")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("fixtures folder %s not found (%v): skipping layout check", fixtures, err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := WriteWordPiece(path, BuildVocab([]string{"hello"}, 1), true); err != nil {
		t.Fatal(err)
	}
	read := func(p string) map[string]any {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	got, want := read(path), read(ref)
	for _, key := range []string{"version", "truncation", "padding", "normalizer", "pre_tokenizer", "decoder"} {
		if !reflect.DeepEqual(got[key], want[key]) {
			t.Errorf("%s: got %v, want %v", key, got[key], want[key])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d top-level keys, bert-base-uncased has %d", len(got), len(want))
	}
	// bert-base-uncased numbers [PAD] [UNK] [CLS] [SEP] [MASK] 0, 100, 101, 102, 103.
	renumber := map[float64]float64{0: 0, 100: 1, 101: 2, 102: 3, 103: 4}
	wantAdded := want["added_tokens"].([]any)
	for _, a := range wantAdded {
		a.(map[string]any)["id"] = renumber[a.(map[string]any)["id"].(float64)]
	}
	if !reflect.DeepEqual(got["added_tokens"], wantAdded) {
		t.Errorf("added_tokens: got %v, want %v", got["added_tokens"], wantAdded)
	}
	wantPost := want["post_processor"].(map[string]any)
	specials := wantPost["special_tokens"].(map[string]any)
	specials["[CLS]"].(map[string]any)["ids"] = []any{2.0}
	specials["[SEP]"].(map[string]any)["ids"] = []any{3.0}
	if !reflect.DeepEqual(got["post_processor"], wantPost) {
		t.Errorf("post_processor: got %v, want %v", got["post_processor"], wantPost)
	}
	gotModel, wantModel := got["model"].(map[string]any), want["model"].(map[string]any)
	for _, key := range []string{"type", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word"} {
		if gotModel[key] != wantModel[key] {
			t.Errorf("model/%s: got %v, want %v", key, gotModel[key], wantModel[key])
		}
	}
	// The vocabulary is written in id order.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"[PAD]": 0,`+"\n"+`      "[UNK]": 1,`) {
		t.Errorf("vocab not written in id order:\n%s", data)
	}
}

func TestWriteWordPieceErrors(t *testing.T) {
	dir := t.TempDir()
	specials := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	tests := []struct {
		name  string
		path  string
		vocab []string
	}{
		{"too short", "a.json", specials[:4]},
		{"specials out of order", "b.json", []string{"[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"}},
		{"duplicate", "c.json", append(specials[:5:5], "a", "b", "a")},
		{"empty entry", "d.json", append(specials[:5:5], "")},
		{"bad UTF-8", "e.json", append(specials[:5:5], "\xff")},
		{"missing folder", filepath.Join("no", "such", "f.json"), specials},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.path)
		err := WriteWordPiece(path, tt.vocab, true)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, path)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %d files behind", len(entries))
	}
}
