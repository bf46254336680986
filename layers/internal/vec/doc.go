// Package vec holds the AVX2 assembly loops of layers' float32 softmax
// rows. They live in their own package because package layers uses cgo in
// its OpenBLAS build, and a cgo package cannot hold Go assembly.
package vec
