package datasets_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
)

// Ids of the special tokens in a BuildVocab vocabulary.
const (
	padID = 0
	unkID = 1
	clsID = 2
	sepID = 3
)

// tinyTextDataset has a two-sentence train split whose vocabulary is, by
// tokenize.BuildVocab's rules (specials; words by count, ties in byte
// order; characters; "##" characters, both in code point order):
//
//	0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK]
//	5 good (2×) 6 movie 7 plot
//	8 d 9 e 10 g 11 i 12 l 13 m 14 o 15 p 16 t 17 v
//	18 ##d 19 ##e 20 ##g 21 ##i 22 ##l 23 ##m 24 ##o 25 ##p 26 ##t 27 ##v
func tinyTextDataset() *datasets.Dataset {
	split := func(name string, texts ...string) *datasets.Split {
		return &datasets.Split{Name: name, RawText: texts, Labels: make([]float32, len(texts))}
	}
	return &datasets.Dataset{
		Name:  "tiny",
		Train: split("train", "good movie", "good plot"),
		Valid: split("valid", "mood", "Good PLOT"),
		Test:  split("test", "good movie good plot"),
	}
}

func TestTokenizeByHand(t *testing.T) {
	ds := tinyTextDataset()
	tok, _, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 28 {
		t.Errorf("vocabulary size %d, want 28", tok.VocabSize())
	}
	// Precomputed features no longer match retokenized ids.
	ds.Valid.TextFeats = datasets.Seq{N: 2, T: 1, D: 1, Data: []float32{1, 2}}
	cases := []struct {
		split   *datasets.Split
		maxLen  int
		wantIDs [][]int32
		wantLen []int
	}{
		{ds.Train, 6, [][]int32{{2, 5, 6, 3, 0, 0}, {2, 5, 7, 3, 0, 0}}, []int{4, 4}},
		// "mood" is not a train word: m ##o ##o ##d (greedy longest
		// match); "Good PLOT" is lowercased.
		{ds.Valid, 6, [][]int32{{2, 13, 24, 24, 18, 3}, {2, 5, 7, 3, 0, 0}}, []int{6, 4}},
		// Truncated to 4: [CLS] good movie [SEP].
		{ds.Test, 4, [][]int32{{2, 5, 6, 3}}, []int{4}},
	}
	for _, c := range cases {
		if err := datasets.Tokenize(c.split, tok, c.maxLen); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.split.TextIDs, c.wantIDs) || !reflect.DeepEqual(c.split.TextLen, c.wantLen) {
			t.Errorf("%s: ids %v lengths %v, want %v %v", c.split.Name, c.split.TextIDs, c.split.TextLen, c.wantIDs, c.wantLen)
		}
	}
	if ds.Valid.TextFeats.Data != nil {
		t.Error("Tokenize kept the precomputed text features")
	}
}

func TestTokenizeErrors(t *testing.T) {
	ds := tinyTextDataset()
	tok, _, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		split  *datasets.Split
		tok    *tokenize.Tokenizer
		maxLen int
		want   string
	}{
		{"maxLen 1", ds.Train, tok, 1, "train/raw_text: maxLen 1"},
		{"nil tokenizer", ds.Train, nil, 8, "train/raw_text: nil tokenizer"},
		{"text count", &datasets.Split{Name: "valid", RawText: []string{"a"}, Labels: []float32{0, 1}}, tok, 8,
			"valid/raw_text: 1 sentences for 2 labels"},
		{"nil split", nil, tok, 8, "nil split"},
	} {
		err := datasets.Tokenize(c.split, c.tok, c.maxLen)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if ds.Train.TextIDs != nil {
		t.Error("a failed Tokenize changed the split")
	}
	for _, ds := range []*datasets.Dataset{nil, {Name: "empty", Train: &datasets.Split{Name: "train"}}} {
		if _, _, err := datasets.SyntheticTokenizer(ds); err == nil {
			t.Errorf("SyntheticTokenizer(%v): no error", ds)
		}
	}
}

// words is the BERT pre-tokenization of a synthetic sentence (lower case;
// the only punctuation is the apostrophe, a word of its own).
func words(sentence string) []string {
	return strings.Fields(strings.ReplaceAll(sentence, "'", " ' "))
}

// glue joins WordPiece tokens back into words.
func glue(tokens []string) []string {
	var out []string
	for _, tk := range tokens {
		if rest, ok := strings.CutPrefix(tk, "##"); ok && len(out) > 0 {
			out[len(out)-1] += rest
			continue
		}
		out = append(out, tk)
	}
	return out
}

func TestSyntheticTokenizer(t *testing.T) {
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("round trip", func(t *testing.T) { checkRoundTrip(t, ds, tok) })
	t.Run("no UNK", func(t *testing.T) { checkNoUNK(t, ds, tok) })
}

// checkRoundTrip encodes sentences of every split and wants [CLS], the
// words (train words whole, unseen ones in pieces), [SEP]: a few sentences
// per split, plus every one with a word unseen in train.
func checkRoundTrip(t *testing.T, ds *datasets.Dataset, tok *tokenize.Tokenizer) {
	trainWords := map[string]bool{}
	for _, s := range ds.Train.RawText {
		for _, w := range words(s) {
			trainWords[w] = true
		}
	}
	unseen := 0
	for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
		for i, text := range s.RawText {
			want := words(text)
			known := true
			for _, w := range want {
				known = known && trainWords[w]
			}
			if i >= 5 && known {
				continue
			}
			if !known {
				unseen++
			}
			_, tokens, err := tok.Encode(text, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tokens[0] != tokenize.CLSToken || tokens[len(tokens)-1] != tokenize.SEPToken {
				t.Fatalf("%s row %d %q: tokens %q do not start with [CLS] and end with [SEP]", s.Name, i, text, tokens)
			}
			inner := tokens[1 : len(tokens)-1]
			if got := glue(inner); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s row %d %q: tokens %q glue to %q", s.Name, i, text, inner, got)
			}
			if known && len(inner) != len(want) {
				t.Errorf("%s row %d %q: train words split into pieces: %q", s.Name, i, text, inner)
			}
		}
	}
	t.Logf("%d valid/test sentences with words unseen in train", unseen)
}

// checkNoUNK tokenizes every split to 64 ids and wants no [UNK], no
// truncation, [CLS] and [SEP] around the sentence and padding after it.
func checkNoUNK(t *testing.T, ds *datasets.Dataset, tok *tokenize.Tokenizer) {
	const maxLen = 64
	for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
		if err := datasets.Tokenize(s, tok, maxLen); err != nil {
			t.Fatal(err)
		}
		if len(s.TextIDs) != s.Len() || len(s.TextLen) != s.Len() {
			t.Fatalf("%s: %d id rows, %d lengths for %d samples", s.Name, len(s.TextIDs), len(s.TextLen), s.Len())
		}
		for i, row := range s.TextIDs {
			n := s.TextLen[i]
			if len(row) != maxLen || n < 3 || n >= maxLen {
				t.Fatalf("%s row %d: %d ids, length %d; want %d ids, 3 ≤ length < %d (no truncation)", s.Name, i, len(row), n, maxLen, maxLen)
			}
			if row[0] != clsID || row[n-1] != sepID {
				t.Fatalf("%s row %d: ids %v: no [CLS] first or [SEP] at %d", s.Name, i, row, n-1)
			}
			for k, id := range row {
				switch {
				case k >= n && id != padID:
					t.Fatalf("%s row %d: id %d at padded position %d", s.Name, i, id, k)
				case id == unkID:
					t.Fatalf("%s row %d %q: [UNK] at position %d", s.Name, i, s.RawText[i], k)
				case k > 0 && k < n-1 && (id == padID || id == clsID || id == sepID):
					t.Fatalf("%s row %d: special id %d inside the sentence at %d", s.Name, i, id, k)
				}
			}
		}
	}
}
