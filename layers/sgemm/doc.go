// Package sgemm is a pure-Go single-precision matrix product, a drop-in
// replacement for the row-major gonum BLAS Sgemm on the shapes that dominate
// FD-CMDIE training (Linear forward and backward, attention per head, the
// LSTM recurrence).
//
// It follows the usual Goto/BLIS scheme: op(A) and op(B) are packed into
// contiguous panels (the four transpose cases are handled while packing, so a
// single micro-kernel suffices), a 6×16 register-blocked micro-kernel
// accumulates in vector registers, and the loops are blocked over k, m and n
// to stay in cache. On amd64 CPUs with AVX2 and FMA the micro-kernel and the
// packing of full panels are Go assembly; elsewhere pure-Go loops of the
// same shape are used, with bitwise the same packed panels. Where the CPU
// also has AVX-512F, runs of two or more tiles take a 12×16 AVX-512 kernel
// that gives every element the same FMA chain as the AVX2 one, so the
// results are bitwise the same (GODEBUG=cpu.avx512f=off turns it off).
//
// Results are deterministic: every element of C is accumulated by one
// goroutine over fixed k blocks in increasing k order, and the micro-kernel
// performs the same operations on an element whatever tile or goroutine it
// falls in, so the output does not depend on GOMAXPROCS.
package sgemm
