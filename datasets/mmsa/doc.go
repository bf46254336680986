// Package mmsa reads the MMSA pickles of CMU-MOSI and CMU-MOSEI
// (aligned_50.pkl, unaligned_50.pkl; SPEC §9) into datasets.Dataset.
//
// It carries its own small pickle machine rather than a dependency: it
// runs the opcodes of pickle protocols 2 to 5 that numpy arrays and plain
// containers use, and constructs only whitelisted numpy globals
// (ndarray reconstruction, dtypes, scalars, protocol 5's _frombuffer);
// any other global is an error naming it. Large array payloads are decoded
// straight into the final []float32, and with Options.DropTextFeats the
// 768-d BERT features are skipped unread, so MOSEI's ~5 GB of features is
// held once.
//
// Cleaning follows MMSA's loader: features become float32, audio −inf
// becomes 0; NaN becomes 0 as well and is counted in the Report, which
// also flags sequences whose padding is not at the end. Structural
// problems are errors naming the file, split and key, e.g.
//
//	mmsa: /data/unaligned_50.pkl: train/audio_lengths: length 400 > 375 at row 7
package mmsa
