package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"
)

// maxInputCharsPerWord is the WordPiece limit WriteWordPiece writes (the
// value of bert-base-uncased): a longer word is the unknown token as a whole.
const maxInputCharsPerWord = 100

// specialTokens are the first entries of a vocabulary, ids 0..4.
var specialTokens = [...]string{PadToken, UnkToken, CLSToken, SEPToken, MaskToken}

// BuildVocab makes a WordPiece vocabulary for texts: the special tokens
// [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4; then every word seen at least
// minCount times (normalized like bert-base-uncased: accents stripped,
// lowercased; split like the BertPreTokenizer on whitespace and punctuation;
// at most 100 characters), most frequent first, ties in byte order; then each
// character seen in any word on its own and as a "##" continuation piece,
// in code point order, where not already present. With a tokenizer written
// from it, no word of up to 100 characters made of seen characters becomes
// [UNK]. minCount below 1 counts as 1.
func BuildVocab(texts []string, minCount int) []string {
	n := Normalizer{CleanText: true, HandleChineseChars: true, StripAccents: true, Lowercase: true}
	counts := map[string]int{}
	chars := map[rune]bool{}
	for _, text := range texts {
		for _, w := range preTokenize(n.Normalize(text)) {
			counts[w]++
			for _, r := range w {
				chars[r] = true
			}
		}
	}
	var words []string
	for w, c := range counts {
		if c >= minCount && utf8.RuneCountInString(w) <= maxInputCharsPerWord {
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool {
		if ci, cj := counts[words[i]], counts[words[j]]; ci != cj {
			return ci > cj
		}
		return words[i] < words[j]
	})
	runes := make([]rune, 0, len(chars))
	for r := range chars {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })

	vocab := append([]string{}, specialTokens[:]...)
	have := map[string]bool{}
	for _, s := range vocab {
		have[s] = true
	}
	add := func(s string) {
		if !have[s] {
			have[s] = true
			vocab = append(vocab, s)
		}
	}
	for _, w := range words {
		add(w)
	}
	for _, r := range runes {
		add(string(r))
	}
	for _, r := range runes {
		add("##" + string(r))
	}
	return vocab
}

// WriteWordPiece writes a BERT WordPiece tokenizer.json with the structure of
// bert-base-uncased's (BertNormalizer with strip_accents null, so accents are
// stripped exactly when lowercasing; BertPreTokenizer; WordPiece model with
// "##" pieces and at most 100 characters a word; [CLS] $A [SEP] template;
// WordPiece decoder). vocab[i] gets id i and must start with [PAD], [UNK],
// [CLS], [SEP], [MASK], as BuildVocab's does. The file is written to a
// temporary file in the same folder and renamed over path.
func WriteWordPiece(path string, vocab []string, lowercase bool) error {
	data, err := WordPieceJSON(vocab, lowercase)
	if err != nil {
		return fmt.Errorf("tokenize: %s: %w", path, err)
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("tokenize: %s: %w", path, err)
	}
	return nil
}

// WordPieceJSON returns the tokenizer.json WriteWordPiece writes, for Parse
// or a checkpoint's metadata.
func WordPieceJSON(vocab []string, lowercase bool) ([]byte, error) {
	if err := checkVocab(vocab); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	data, err := json.MarshalIndent(wordPieceFile(vocab, lowercase), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func checkVocab(vocab []string) error {
	if len(vocab) < len(specialTokens) {
		return fmt.Errorf("%d entries, need at least the %d special tokens", len(vocab), len(specialTokens))
	}
	for i, s := range specialTokens {
		if vocab[i] != s {
			return fmt.Errorf("entry %d is %q, want %q", i, vocab[i], s)
		}
	}
	seen := make(map[string]int, len(vocab))
	for i, s := range vocab {
		if s == "" || !utf8.ValidString(s) {
			return fmt.Errorf("entry %d (%q) is empty or not valid UTF-8", i, s)
		}
		if j, dup := seen[s]; dup {
			return fmt.Errorf("entries %d and %d are both %q", j, i, s)
		}
		seen[s] = i
	}
	return nil
}

// The types below mirror tokenizer.json's layout, field order included.

type fileJSON struct {
	Version       string       `json:"version"`
	Truncation    *struct{}    `json:"truncation"`
	Padding       *struct{}    `json:"padding"`
	AddedTokens   []addedToken `json:"added_tokens"`
	Normalizer    normJSON     `json:"normalizer"`
	PreTokenizer  typeJSON     `json:"pre_tokenizer"`
	PostProcessor postJSON     `json:"post_processor"`
	Decoder       decoderJSON  `json:"decoder"`
	Model         modelJSON    `json:"model"`
}

type normJSON struct {
	Type               string `json:"type"`
	CleanText          bool   `json:"clean_text"`
	HandleChineseChars bool   `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          bool   `json:"lowercase"`
}

type typeJSON struct {
	Type string `json:"type"`
}

type pieceJSON struct {
	ID     string `json:"id"`
	TypeID int    `json:"type_id"`
}

// templateJSON is one {"SpecialToken": ...} or {"Sequence": ...} item.
type templateJSON struct {
	SpecialToken *pieceJSON `json:"SpecialToken,omitempty"`
	Sequence     *pieceJSON `json:"Sequence,omitempty"`
}

type specialJSON struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

type postJSON struct {
	Type          string                 `json:"type"`
	Single        []templateJSON         `json:"single"`
	Pair          []templateJSON         `json:"pair"`
	SpecialTokens map[string]specialJSON `json:"special_tokens"`
}

type decoderJSON struct {
	Type    string `json:"type"`
	Prefix  string `json:"prefix"`
	Cleanup bool   `json:"cleanup"`
}

type modelJSON struct {
	Type                    string       `json:"type"`
	UnkToken                string       `json:"unk_token"`
	ContinuingSubwordPrefix string       `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int          `json:"max_input_chars_per_word"`
	Vocab                   orderedVocab `json:"vocab"`
}

// orderedVocab marshals as a JSON object whose keys are in id order, as
// Hugging Face writes it.
type orderedVocab []string

// MarshalJSON writes {"token": id, ...} in id order.
func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, tok := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(tok)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		fmt.Fprintf(&b, ":%d", i)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func wordPieceFile(vocab []string, lowercase bool) fileJSON {
	special := func(tok string, typeID int) templateJSON {
		return templateJSON{SpecialToken: &pieceJSON{ID: tok, TypeID: typeID}}
	}
	seq := func(id string, typeID int) templateJSON {
		return templateJSON{Sequence: &pieceJSON{ID: id, TypeID: typeID}}
	}
	f := fileJSON{
		Version:      "1.0",
		Normalizer:   normJSON{Type: "BertNormalizer", CleanText: true, HandleChineseChars: true, Lowercase: lowercase},
		PreTokenizer: typeJSON{Type: "BertPreTokenizer"},
		PostProcessor: postJSON{
			Type:   "TemplateProcessing",
			Single: []templateJSON{special(CLSToken, 0), seq("A", 0), special(SEPToken, 0)},
			Pair: []templateJSON{special(CLSToken, 0), seq("A", 0), special(SEPToken, 0),
				seq("B", 1), special(SEPToken, 1)},
			SpecialTokens: map[string]specialJSON{
				CLSToken: {ID: CLSToken, IDs: []int{2}, Tokens: []string{CLSToken}},
				SEPToken: {ID: SEPToken, IDs: []int{3}, Tokens: []string{SEPToken}},
			},
		},
		Decoder: decoderJSON{Type: "WordPiece", Prefix: "##", Cleanup: true},
		Model: modelJSON{
			Type:                    "WordPiece",
			UnkToken:                UnkToken,
			ContinuingSubwordPrefix: "##",
			MaxInputCharsPerWord:    maxInputCharsPerWord,
			Vocab:                   orderedVocab(vocab),
		},
	}
	for id, tok := range specialTokens {
		f.AddedTokens = append(f.AddedTokens, addedToken{ID: id, Content: tok, Special: true})
	}
	return f
}

// writeAtomic writes data to a temporary file next to path, syncs it and
// renames it over path, so a reader never sees a partial file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}
