// Package datasets reads and prepares the data FD-CMDIE trains on (SPEC §9):
// MMSA pickles (CMU-MOSI, CMU-MOSEI; aligned and unaligned), the embedded
// synthetic MOSI-like corpus, tokenization and fixed-shape batching.
//
// Preparing data for training is two steps. Reading is the subpackage's
// call, mmsa.ReadReport for an MMSA pickle or synth.Generate for the
// embedded corpus (they import this package, so it cannot call them).
// Prepare then takes the read Dataset: it tokenizes the raw text when given
// a tokenizer.json (SyntheticTokenizer makes one for the embedded corpus),
// standardizes audio and vision with the train split's statistics, and
// returns a Prepared dataset with its text length limit and the checkpoint
// metadata (MetaTokenizer, MetaStandardizer) a model trained on it keeps.
// Settings holds the training protocol of each data set (paper table 2).
// Text features of a frozen pretrained encoder are the encoder's business
// (package graph/textenc), added to a Prepared dataset after Prepare.
package datasets
