// Package textenc loads a released NeoBERT (the chandar-lab/NeoBERT folder
// layout: config.json, model.safetensors, tokenizer.json) for FD-CMDIE's
// text encoder (SPEC §2): fine-tuned, by copying its weights into a
// graph.Model's text encoder, or frozen, by encoding every split once into
// precomputed text features.
//
// Frozen features are cached in a folder that any number of processes may
// share (the shards of an experiment grid on one file system). An entry is
// named after a hash of everything the features depend on (the weights,
// the encoder config, the text length and every split's token ids). It is
// written to a temporary file in the cache folder and renamed into place,
// so its final name holds a complete file or nothing; two processes that
// compute the same entry at once write the same bytes, and the second
// rename replaces the first with an identical file. A reader uses an entry
// only when its header, key, shapes and SHA-256 of the features all check
// out; any other entry under the name (damaged, or written by another
// version) is reported on the log and computed again.
package textenc
