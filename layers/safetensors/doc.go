// Package safetensors reads and writes the safetensors checkpoint format
// (huggingface/safetensors) without loading whole files into memory.
//
// A file is an 8-byte little-endian header length n, n bytes of JSON, then
// the data section. The JSON maps each tensor name to its dtype, shape and
// data_offsets (begin and end byte, relative to the start of the data
// section); the optional "__metadata__" entry maps strings to strings. The
// data is little-endian and row-major.
//
// Open validates the header as strictly as the reference Rust
// implementation: known dtypes, byte sizes that match shape and dtype, and
// tensors that tile the data section exactly, with no gap, overlap or
// trailing bytes. The File keeps the file open; ReadFloat32, ReadFloat64 and
// ReadInt64 read one tensor at a time with ReadAt in fixed-size chunks and
// convert it into a caller-provided slice, so loading a 1 GB checkpoint never
// holds more than the destination slices plus one chunk.
//
// Write stores float32 tensors (dtype F32) with a space-padded header in the
// layout the reference implementation produces, atomically: the file appears
// complete under its final name or not at all.
package safetensors
