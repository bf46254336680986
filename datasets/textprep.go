package datasets

import (
	"errors"
	"fmt"

	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
)

// Tokenize fills s.TextIDs and s.TextLen from s.RawText with tok: every row
// is exactly maxLen ids, [CLS] first, [SEP] at TextLen−1, [PAD] after; a
// longer sentence is cut so that [SEP] is still its last token. It is how the
// synthetic corpus gets its ids, and how a user retokenizes an MMSA split.
// Precomputed text features were computed from the old ids and no longer
// match TextLen, so s.TextFeats is emptied. maxLen must be at least 2.
func Tokenize(s *Split, tok *tokenize.Tokenizer, maxLen int) error {
	if s == nil {
		return errors.New("datasets: tokenize: nil split")
	}
	if tok == nil {
		return fmt.Errorf("datasets: %s/raw_text: nil tokenizer", s.Name)
	}
	if maxLen < 2 {
		return fmt.Errorf("datasets: %s/raw_text: maxLen %d: must be at least 2 ([CLS] and [SEP])", s.Name, maxLen)
	}
	if len(s.RawText) != s.Len() {
		return fmt.Errorf("datasets: %s/raw_text: %d sentences for %d labels", s.Name, len(s.RawText), s.Len())
	}
	ids, lens, err := tok.EncodeBatch(s.RawText, maxLen)
	if err != nil {
		return fmt.Errorf("datasets: %s/raw_text: %w", s.Name, err)
	}
	s.TextIDs, s.TextLen = ids, lens
	s.TextFeats = Seq{}
	return nil
}

// SyntheticTokenizer makes the tokenizer of a corpus that comes without one
// (the synthetic corpus): a WordPiece vocabulary of every word of the train
// split's RawText plus every character seen, on its own and as a "##" piece
// (tokenize.BuildVocab with minCount 1). It returns the tokenizer and its
// Hugging Face tokenizer.json (tokenize.WordPieceJSON), parsed with
// tokenize.Parse, the same path a real NeoBERT tokenizer takes. Valid and
// test words unseen in train are spelled with character pieces, so they
// never become [UNK] when all their characters occur in train.
func SyntheticTokenizer(ds *Dataset) (*tokenize.Tokenizer, []byte, error) {
	if ds == nil || ds.Train == nil {
		return nil, nil, errors.New("datasets: synthetic tokenizer: no train split")
	}
	if len(ds.Train.RawText) == 0 {
		return nil, nil, fmt.Errorf("datasets: %s: %s/raw_text: no sentences to build a vocabulary from", ds.Name, ds.Train.Name)
	}
	raw, err := tokenize.WordPieceJSON(tokenize.BuildVocab(ds.Train.RawText, 1), true)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %s: synthetic tokenizer: %w", ds.Name, err)
	}
	tok, err := tokenize.Parse(ds.Name+" synthetic tokenizer.json", raw)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %s: synthetic tokenizer: %w", ds.Name, err)
	}
	return tok, raw, nil
}
