package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzTokenizer is bert-base-uncased when the fixtures are there, else a
// small tokenizer written by WriteWordPiece; with its vocabulary.
func fuzzTokenizer(f *testing.F) (*Tokenizer, map[string]int) {
	path := filepath.Join(fixtures, "bert-base-uncased-tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(f.TempDir(), "tokenizer.json")
		vocab := BuildVocab([]string{"The movie was great, really great!", "Café naïve 北京"}, 1)
		if err := WriteWordPiece(path, vocab, true); err != nil {
			f.Fatal(err)
		}
	}
	tk, err := Load(path)
	if err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		f.Fatal(err)
	}
	return tk, file.Model.Vocab
}

// refWordPieces is the BertPreTokenizer and WordPiece steps written out
// plainly (greedy longest match, "##" pieces, words over 100 characters
// unknown), to check what sugarme does with the normalized text.
func refWordPieces(tk *Tokenizer, vocab map[string]int, text string) []int32 {
	ids := []int32{tk.CLSID()}
	for _, seg := range tk.splitSpecials(text) {
		if seg.special != nil {
			ids = append(ids, int32(seg.special.ID))
			continue
		}
		for _, word := range preTokenize(tk.Normalizer().Normalize(seg.text)) {
			chars := []rune(word)
			var pieces []int32
			for start := 0; start < len(chars) && len(chars) <= maxInputCharsPerWord; {
				end := len(chars)
				for ; end > start; end-- {
					sub := string(chars[start:end])
					if start > 0 {
						sub = "##" + sub
					}
					if id, ok := vocab[sub]; ok {
						pieces = append(pieces, int32(id))
						break
					}
				}
				if end == start {
					pieces = nil
					break
				}
				start = end
			}
			if pieces == nil {
				pieces = []int32{int32(vocab[UnkToken])}
			}
			ids = append(ids, pieces...)
		}
	}
	return append(ids, tk.SEPID())
}

// FuzzEncode checks that no input makes Encode fail or panic, that the ids are
// in the vocabulary, framed by [CLS] and [SEP] and the same as refWordPieces',
// and that truncation gives a prefix of the full encoding.
func FuzzEncode(f *testing.F) {
	tk, vocab := fuzzTokenizer(f)
	seeds := []string{
		"", " ", "hello world", "Café  naïve ÉCOLE résumé", "北京欢迎你 and 東京",
		"emoji 😀👍 are unknown?", "control\u0007chars\u200bzero width", "İstanbul straße Ωmega",
		"\xff\xfe\x00", "a\u0301\u0301\u0301", strings.Repeat("\u0301", 40) + "e" + strings.Repeat("\u0308", 40),
		"[MASK]", "[[MASK]]", "[MAS", "x[CLS][SEP]y", "\u3000\u00a0\u2028\x85\x0b", "\U0010FFFF\U000E0001",
		"ﬀﬁ ＡＢＣ 한국어 ですが", strings.Repeat("b", 120), "\ufeff\ufffd\ue000",
	}
	for _, s := range seeds {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen = 2 + (maxLen%64+64)%64
		ids, tokens, err := tk.Encode(text, 0)
		if err != nil {
			t.Fatalf("Encode(%q): %v", text, err)
		}
		if len(ids) < 2 || len(tokens) != len(ids) {
			t.Fatalf("Encode(%q): %d ids, %d tokens", text, len(ids), len(tokens))
		}
		if ids[0] != tk.CLSID() || ids[len(ids)-1] != tk.SEPID() {
			t.Fatalf("Encode(%q) = %v: not [CLS] ... [SEP]", text, ids)
		}
		for _, id := range ids {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("Encode(%q): id %d outside 0..%d", text, id, tk.VocabSize()-1)
			}
		}
		if ref := refWordPieces(tk, vocab, text); !reflect.DeepEqual(ids, ref) {
			t.Fatalf("Encode(%q) = %v, plain BertPreTokenizer+WordPiece gives %v", text, ids, ref)
		}
		cut, _, err := tk.Encode(text, maxLen)
		if err != nil {
			t.Fatalf("Encode(%q, %d): %v", text, maxLen, err)
		}
		n := min(len(ids), maxLen)
		want := append(append([]int32{}, ids[:n-1]...), tk.SEPID())
		if !reflect.DeepEqual(cut, want) {
			t.Fatalf("Encode(%q, %d) = %v, want %v", text, maxLen, cut, want)
		}
	})
}
