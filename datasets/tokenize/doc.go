// Package tokenize turns text into BERT WordPiece ids the way the Hugging Face
// Rust tokenizer does, for the text_ids of SPEC §1 ([CLS] ... [SEP], [PAD]=0).
//
// A tokenizer is loaded from a Hugging Face tokenizer.json through
// github.com/sugarme/tokenizer, but the BertNormalizer and the special-token
// split are done here: sugarme v0.3.0's BertNormalizer differs from Hugging
// Face's (accents, Unicode whitespace, the strip_accents: null default) and
// panics on some Unicode input. Text is split on the special tokens, each
// piece is normalized in Go exactly as huggingface/tokenizers'
// normalizers/bert.rs does, and only the normalized pieces reach sugarme, which
// runs the BertPreTokenizer and the WordPiece model with no normalizer and no
// added vocabulary of its own.
//
// BuildVocab and WriteWordPiece make a WordPiece tokenizer.json for a corpus
// (the project's synthetic English corpus) that Load reads back.
//
// Character classes follow Go's unicode tables (Unicode 15.0) where Hugging
// Face uses the tables of its Rust crates; the two agree except on code points
// assigned in recent Unicode versions.
package tokenize
