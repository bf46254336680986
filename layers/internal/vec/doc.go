// Package vec holds the AVX2 assembly loops of layers' float32 softmax
// rows (ExpSum's also with AVX-512F, where the CPU has it). They live in
// their own package because package layers uses cgo in its OpenBLAS
// build, and a cgo package cannot hold Go assembly.
package vec
