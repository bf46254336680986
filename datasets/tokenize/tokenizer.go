package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"

	sugar "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// Names of the special tokens a BERT vocabulary must hold.
const (
	PadToken  = "[PAD]"
	UnkToken  = "[UNK]"
	CLSToken  = "[CLS]"
	SEPToken  = "[SEP]"
	MaskToken = "[MASK]"
)

// Tokenizer encodes text into BERT WordPiece ids exactly as the Hugging Face
// Rust tokenizer does for the tokenizer.json it was loaded from.
type Tokenizer struct {
	path       string
	normalizer Normalizer
	// sugarme runs only the BertPreTokenizer and the WordPiece model: no
	// normalizer, no added vocabulary, no post-processor.
	sg *sugar.Tokenizer
	// specials are the added tokens, matched on the raw text before
	// normalization, longest first.
	specials  []addedToken
	vocabSize int
	padID     int32
	clsID     int32
	sepID     int32
}

// addedToken is one entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// config is the part of tokenizer.json this package reads itself.
type config struct {
	AddedTokens  []addedToken `json:"added_tokens"`
	Normalizer   *bertConfig  `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	Model struct {
		Type                    string         `json:"type"`
		UnkToken                string         `json:"unk_token"`
		ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
		Vocab                   map[string]int `json:"vocab"`
	} `json:"model"`
}

// bertConfig is a BertNormalizer entry; nil fields take Hugging Face's
// defaults (true, with strip_accents following lowercase).
type bertConfig struct {
	Type               string `json:"type"`
	CleanText          *bool  `json:"clean_text"`
	HandleChineseChars *bool  `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          *bool  `json:"lowercase"`
}

// Load reads a Hugging Face tokenizer.json holding a BERT WordPiece tokenizer:
// a BertNormalizer (or none), a BertPreTokenizer, a WordPiece model with "##"
// continuation pieces and a vocabulary that holds [PAD], [CLS], [SEP] and the
// unknown token, and added tokens that are matched on the raw text
// (normalized, lstrip, rstrip and single_word all false) with the same ids as
// in the vocabulary. Anything else is reported as an error.
func Load(path string) (*Tokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	return Parse(path, raw)
}

// Parse is Load on the contents of a tokenizer.json held in memory (a
// checkpoint's metadata); path names it in errors.
func Parse(path string, raw []byte) (*Tokenizer, error) {
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	t := &Tokenizer{path: path, vocabSize: len(cfg.Model.Vocab)}
	var err error
	if t.normalizer, err = normalizerFrom(cfg.Normalizer); err != nil {
		return nil, fmt.Errorf("tokenize: %s: normalizer: %w", path, err)
	}
	if err := checkModel(&cfg); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	if t.specials, err = specialsFrom(cfg.AddedTokens, cfg.Model.Vocab); err != nil {
		return nil, fmt.Errorf("tokenize: %s: added_tokens: %w", path, err)
	}
	for _, s := range []struct {
		name string
		id   *int32
	}{{PadToken, &t.padID}, {CLSToken, &t.clsID}, {SEPToken, &t.sepID}} {
		id, ok := cfg.Model.Vocab[s.name]
		if !ok {
			return nil, fmt.Errorf("tokenize: %s: model/vocab: no %s token", path, s.name)
		}
		*s.id = int32(id)
	}

	loaded, err := loadSugarme(path, raw)
	if err != nil {
		return nil, err
	}
	if n := loaded.GetModel().GetVocabSize(); n != t.vocabSize {
		return nil, fmt.Errorf("tokenize: %s: sugarme read %d vocabulary entries, the file has %d", path, n, t.vocabSize)
	}
	t.sg = sugar.NewTokenizer(loaded.GetModel())
	t.sg.WithPreTokenizer(loaded.GetPreTokenizer())
	return t, nil
}

// loadSugarme loads raw, the contents of path, with sugarme, whose JSON
// readers panic on some malformed input.
func loadSugarme(path string, raw []byte) (tk *sugar.Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tokenize: %s: sugarme panicked while loading: %v", path, r)
		}
	}()
	tk, err = pretrained.FromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("tokenize: %s: sugarme: %w", path, err)
	}
	return tk, nil
}

func normalizerFrom(c *bertConfig) (Normalizer, error) {
	if c == nil {
		return Normalizer{}, nil
	}
	if c.Type != "BertNormalizer" {
		return Normalizer{}, fmt.Errorf("type %q is not supported, only BertNormalizer or null", c.Type)
	}
	orTrue := func(b *bool) bool { return b == nil || *b }
	n := Normalizer{
		CleanText:          orTrue(c.CleanText),
		HandleChineseChars: orTrue(c.HandleChineseChars),
		Lowercase:          orTrue(c.Lowercase),
	}
	// strip_accents: null means "strip when lowercasing" in Hugging Face.
	n.StripAccents = n.Lowercase
	if c.StripAccents != nil {
		n.StripAccents = *c.StripAccents
	}
	return n, nil
}

func checkModel(cfg *config) error {
	if cfg.PreTokenizer == nil || cfg.PreTokenizer.Type != "BertPreTokenizer" {
		return fmt.Errorf("pre_tokenizer: only BertPreTokenizer is supported")
	}
	m := &cfg.Model
	if m.Type != "WordPiece" {
		return fmt.Errorf("model/type: %q is not supported, only WordPiece", m.Type)
	}
	// sugarme v0.3.0 ignores continuing_subword_prefix and always uses "##".
	if p := m.ContinuingSubwordPrefix; p != nil && *p != "##" {
		return fmt.Errorf("model/continuing_subword_prefix: %q is not supported, only \"##\"", *p)
	}
	if _, ok := m.Vocab[m.UnkToken]; !ok {
		return fmt.Errorf("model/unk_token: %q is not in the vocabulary", m.UnkToken)
	}
	seen := make([]bool, len(m.Vocab))
	for tok, id := range m.Vocab {
		if id < 0 || id >= len(m.Vocab) || seen[id] {
			return fmt.Errorf("model/vocab: ids must be 0..%d, each once; %q has %d", len(m.Vocab)-1, tok, id)
		}
		seen[id] = true
	}
	return nil
}

func specialsFrom(added []addedToken, vocab map[string]int) ([]addedToken, error) {
	var out []addedToken
	for _, a := range added {
		if a.Content == "" {
			return nil, fmt.Errorf("id %d: empty content", a.ID)
		}
		if a.Normalized || a.LStrip || a.RStrip || a.SingleWord {
			return nil, fmt.Errorf("%q: only tokens with normalized, lstrip, rstrip and single_word false are supported", a.Content)
		}
		if id, ok := vocab[a.Content]; !ok || id != a.ID {
			return nil, fmt.Errorf("%q: id %d does not match the vocabulary", a.Content, a.ID)
		}
		out = append(out, a)
	}
	// Longest first, so the first match at a position is the longest one.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j].Content) > len(out[j-1].Content); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// VocabSize is the number of ids the tokenizer can produce (0..VocabSize-1).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// PadID is the id of [PAD], used to right-pad batches.
func (t *Tokenizer) PadID() int32 { return t.padID }

// CLSID is the id of [CLS], the first token of every encoding.
func (t *Tokenizer) CLSID() int32 { return t.clsID }

// SEPID is the id of [SEP], the last token of every encoding.
func (t *Tokenizer) SEPID() int32 { return t.sepID }

// Normalizer returns the BertNormalizer settings read from the file.
func (t *Tokenizer) Normalizer() Normalizer { return t.normalizer }

// Encode tokenizes text as Hugging Face's tokenizer.encode(text) does for a
// BERT tokenizer: [CLS], the WordPiece tokens, [SEP]. A word the vocabulary
// cannot spell becomes the unknown token as a whole. An added token written
// in the text ("[MASK]", but not "[mask]") stays one token, as in Hugging
// Face. With maxLen > 0 the
// WordPiece tokens are cut so that the result, [SEP] included, has at most
// maxLen tokens (maxLen must then be at least 2); maxLen == 0 keeps them all.
func (t *Tokenizer) Encode(text string, maxLen int) (ids []int32, tokens []string, err error) {
	if maxLen < 0 || maxLen == 1 {
		return nil, nil, fmt.Errorf("tokenize: %s: maxLen %d: must be 0 (no truncation) or at least 2", t.path, maxLen)
	}
	ids = []int32{t.clsID}
	tokens = []string{CLSToken}
	for _, seg := range t.splitSpecials(text) {
		if seg.special != nil {
			ids = append(ids, int32(seg.special.ID))
			tokens = append(tokens, seg.special.Content)
			continue
		}
		segIDs, segTokens, err := t.wordPieces(seg.text)
		if err != nil {
			return nil, nil, fmt.Errorf("tokenize: %s: text %s: %w", t.path, clip(text), err)
		}
		ids = append(ids, segIDs...)
		tokens = append(tokens, segTokens...)
	}
	if maxLen > 0 && len(ids) > maxLen-1 {
		ids, tokens = ids[:maxLen-1], tokens[:maxLen-1]
	}
	return append(ids, t.sepID), append(tokens, SEPToken), nil
}

// EncodeBatch encodes each text with Encode(text, maxLen) and right-pads the
// ids with PadID. With maxLen > 0 every row has exactly maxLen ids (the
// fixed shape a batch of the model wants); with maxLen == 0 the rows are
// padded to the longest one. lengths[i] is the number of ids of texts[i]
// before padding, [CLS] and [SEP] included.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) (ids [][]int32, lengths []int, err error) {
	ids = make([][]int32, len(texts))
	lengths = make([]int, len(texts))
	width := maxLen
	for i, text := range texts {
		if ids[i], _, err = t.Encode(text, maxLen); err != nil {
			return nil, nil, fmt.Errorf("batch item %d: %w", i, err)
		}
		lengths[i] = len(ids[i])
		width = max(width, lengths[i])
	}
	for i, row := range ids {
		for len(row) < width {
			row = append(row, t.padID)
		}
		ids[i] = row
	}
	return ids, lengths, nil
}

// segment is a piece of raw text: either an added token or text between them.
type segment struct {
	text    string
	special *addedToken
}

// splitSpecials cuts text at the added tokens, leftmost-longest as Hugging
// Face's AddedVocabulary does for tokens matched before normalization.
func (t *Tokenizer) splitSpecials(text string) []segment {
	var segs []segment
	start := 0
	for i := 0; i < len(text); {
		var hit *addedToken
		for k := range t.specials {
			if strings.HasPrefix(text[i:], t.specials[k].Content) {
				hit = &t.specials[k]
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		if start < i {
			segs = append(segs, segment{text: text[start:i]})
		}
		segs = append(segs, segment{special: hit})
		i += len(hit.Content)
		start = i
	}
	if start < len(text) {
		segs = append(segs, segment{text: text[start:]})
	}
	return segs
}

// wordPieces normalizes raw text in Go and hands the result to sugarme for
// the BertPreTokenizer and the WordPiece model.
func (t *Tokenizer) wordPieces(raw string) (ids []int32, tokens []string, err error) {
	// Whitespace the normalizer kept (clean_text false) still separates
	// words in Hugging Face; sugarme splits only on ASCII whitespace.
	text := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, t.normalizer.Normalize(raw))
	if strings.TrimLeft(text, " ") == "" {
		return nil, nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			ids, tokens = nil, nil
			err = fmt.Errorf("sugarme panicked on normalized text %s: %v", clip(text), r)
		}
	}()
	enc, err := t.sg.EncodeSingle(text, false)
	if err != nil {
		return nil, nil, fmt.Errorf("sugarme on normalized text %s: %w", clip(text), err)
	}
	ids = make([]int32, len(enc.Ids))
	for i, id := range enc.Ids {
		if id < 0 || id >= t.vocabSize {
			return nil, nil, fmt.Errorf("sugarme gave id %d outside the vocabulary for normalized text %s", id, clip(text))
		}
		ids[i] = int32(id)
	}
	return ids, enc.Tokens, nil
}

// clip quotes s for an error message, cut to its first 80 runes.
func clip(s string) string {
	const maxRunes = 80
	if r := []rune(s); len(r) > maxRunes {
		return fmt.Sprintf("%q…", string(r[:maxRunes]))
	}
	return fmt.Sprintf("%q", s)
}
