package datasets

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
)

// Checkpoint metadata keys: what a model trained on a Prepared dataset
// needs to read new samples the same way.
const (
	MetaTokenizer    = "tokenizer"     // the tokenizer.json the text was tokenized with
	MetaStandardizer = "standardizer"  // the Standardizer as JSON
	MetaTextFeatures = "text_features" // where precomputed text features came from
)

// PrepareOptions say how Prepare readies a dataset.
type PrepareOptions struct {
	// Source names the data in errors: the file it was read from, or a
	// description such as "the synthetic corpus".
	Source string
	// TokenizerJSON, when set, is a Hugging Face tokenizer.json: every
	// split's RawText is tokenized with it into MaxLen ids a row (Tokenize),
	// and it becomes the metadata MetaTokenizer, byte for byte. Nil keeps
	// the ids the data came with.
	TokenizerJSON []byte
	MaxLen        int
	// Vocab is the text encoder's vocabulary size; 0 takes the tokenizer's.
	Vocab int
	// TextFeats: the model reads the splits' precomputed TextFeats instead
	// of token ids, so there is no text length limit (Lt stays 0).
	TextFeats bool
}

// Prepared is a dataset ready for training: tokenized, standardized with
// its train statistics, with the text length limit and the checkpoint
// metadata that go with it.
type Prepared struct {
	Dataset
	Source    string            // names the data in errors (PrepareOptions.Source)
	TextFeats bool              // the model reads TextFeats, not token ids
	Vocab     int               // text encoder vocabulary (token-id input)
	Lt        int               // text length: the longest TextLen of any split; 0 with TextFeats
	Meta      map[string]string // checkpoint metadata: MetaTokenizer, MetaStandardizer, MetaTextFeatures
}

// Splits returns the train, valid and test splits, in that order.
func (p *Prepared) Splits() []*Split { return []*Split{p.Train, p.Valid, p.Test} }

// Prepare readies ds, changing its splits in place: it tokenizes them when
// o.TokenizerJSON is set, standardizes audio and vision of all three
// splits with the train split's statistics (FitStandardizer), and takes
// the text length limit Lt over all three splits.
func Prepare(ds *Dataset, o PrepareOptions) (*Prepared, error) {
	if ds == nil || ds.Train == nil || ds.Valid == nil || ds.Test == nil {
		return nil, fmt.Errorf("datasets: %s: prepare: want train, valid and test splits", o.Source)
	}
	p := &Prepared{Dataset: *ds, Source: o.Source, TextFeats: o.TextFeats, Vocab: o.Vocab, Meta: map[string]string{}}
	if o.TokenizerJSON != nil {
		if err := p.tokenize(o); err != nil {
			return nil, err
		}
	}
	st, err := FitStandardizer(ds.Train)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Source, err)
	}
	for _, s := range p.Splits() {
		if err := st.Apply(s); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Source, err)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	p.Meta[MetaStandardizer] = string(raw)
	if !p.TextFeats {
		for _, s := range p.Splits() {
			for _, n := range s.TextLen {
				p.Lt = max(p.Lt, n)
			}
		}
	}
	return p, nil
}

// tokenize tokenizes every split with o.TokenizerJSON and keeps it as
// metadata.
func (p *Prepared) tokenize(o PrepareOptions) error {
	if p.TextFeats {
		return errors.New("datasets: prepare: a tokenizer with TextFeats: the model reads no token ids")
	}
	tok, err := tokenize.Parse(p.Name+" tokenizer.json", o.TokenizerJSON)
	if err != nil {
		return err
	}
	for _, s := range p.Splits() {
		if err := Tokenize(s, tok, o.MaxLen); err != nil {
			return err
		}
	}
	p.Meta[MetaTokenizer] = string(o.TokenizerJSON)
	if p.Vocab == 0 {
		p.Vocab = tok.VocabSize()
	}
	return nil
}
