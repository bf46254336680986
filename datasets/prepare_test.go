package datasets_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
)

// TestPrepareSynthetic checks Prepare against the steps done by hand:
// tokenize every split, standardize all three with train statistics, take
// the longest text.
func TestPrepareSynthetic(t *testing.T) {
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tok, raw, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		t.Fatal(err)
	}
	p, err := datasets.Prepare(ds, datasets.PrepareOptions{Source: "the synthetic corpus", TokenizerJSON: raw, MaxLen: synth.SeqLen})
	if err != nil {
		t.Fatal(err)
	}

	want, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	splits := []*datasets.Split{want.Train, want.Valid, want.Test}
	lt := 0
	for _, s := range splits {
		if err := datasets.Tokenize(s, tok, synth.SeqLen); err != nil {
			t.Fatal(err)
		}
		for _, n := range s.TextLen {
			lt = max(lt, n)
		}
	}
	st, err := datasets.FitStandardizer(want.Train)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range splits {
		if err := st.Apply(s); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(p.Dataset, *want) {
		t.Error("prepared splits differ from tokenizing and standardizing by hand")
	}
	if !reflect.DeepEqual(p.Splits(), []*datasets.Split{ds.Train, ds.Valid, ds.Test}) {
		t.Error("Prepare did not prepare ds's splits in place")
	}
	stJSON, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{datasets.MetaTokenizer: string(raw), datasets.MetaStandardizer: string(stJSON)}
	if !reflect.DeepEqual(p.Meta, wantMeta) {
		t.Errorf("meta keys %v, want the tokenizer.json bytes and the standardizer", keys(p.Meta))
	}
	if p.Lt != lt || p.Vocab != tok.VocabSize() || p.TextFeats || p.Name != "synthetic" || p.Source != "the synthetic corpus" {
		t.Errorf("Lt %d Vocab %d TextFeats %v Name %q Source %q; want %d %d false synthetic, the synthetic corpus",
			p.Lt, p.Vocab, p.TextFeats, p.Name, p.Source, lt, tok.VocabSize())
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestPrepareKeepsIDs prepares data that comes with ids (as an MMSA file
// does): no tokenizer metadata, the given vocabulary, and no length limit
// when the model reads text features.
func TestPrepareKeepsIDs(t *testing.T) {
	for _, feats := range []bool{false, true} {
		ds, err := synth.Generate(synth.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		_, raw, err := datasets.SyntheticTokenizer(ds)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := datasets.Prepare(ds, datasets.PrepareOptions{TokenizerJSON: raw, MaxLen: synth.SeqLen}); err != nil {
			t.Fatal(err)
		}
		ids := ds.Train.TextIDs
		p, err := datasets.Prepare(ds, datasets.PrepareOptions{Source: "data.pkl", Vocab: 30522, TextFeats: feats})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Meta[datasets.MetaTokenizer]; ok || len(p.Meta) != 1 {
			t.Errorf("TextFeats %v: meta keys %v, want only the standardizer", feats, keys(p.Meta))
		}
		if !reflect.DeepEqual(p.Train.TextIDs, ids) || p.Vocab != 30522 {
			t.Errorf("TextFeats %v: ids changed or vocabulary %d, want 30522", feats, p.Vocab)
		}
		if (p.Lt == 0) != feats {
			t.Errorf("TextFeats %v: Lt %d", feats, p.Lt)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	gen := func() *datasets.Dataset {
		ds, err := synth.Generate(synth.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	_, raw, err := datasets.SyntheticTokenizer(gen())
	if err != nil {
		t.Fatal(err)
	}
	noValid := gen()
	noValid.Valid = nil
	nan := gen()
	nan.Valid.Audio.Data[0] = float32(math.NaN())
	for _, c := range []struct {
		name string
		ds   *datasets.Dataset
		o    datasets.PrepareOptions
		want string
	}{
		{"nil", nil, datasets.PrepareOptions{Source: "x.pkl"}, "x.pkl: prepare: want train, valid and test"},
		{"no valid", noValid, datasets.PrepareOptions{Source: "x.pkl"}, "x.pkl: prepare: want train, valid and test"},
		{"tokenizer with features", gen(), datasets.PrepareOptions{TokenizerJSON: raw, MaxLen: 8, TextFeats: true}, "reads no token ids"},
		{"bad tokenizer", gen(), datasets.PrepareOptions{TokenizerJSON: []byte("{"), MaxLen: 8}, "synthetic tokenizer.json"},
		{"short maxLen", gen(), datasets.PrepareOptions{TokenizerJSON: raw, MaxLen: 1}, "train/raw_text: maxLen 1"},
		{"NaN", nan, datasets.PrepareOptions{Source: "x.pkl"}, "x.pkl: datasets: valid/audio: value NaN"},
	} {
		if _, err := datasets.Prepare(c.ds, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
