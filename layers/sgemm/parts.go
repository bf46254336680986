package sgemm

// KBlock is the length of the k blocks of every product on the blocked
// kernel: each element of C sums its products over k in the blocks
// [0, KBlock), [KBlock, 2·KBlock), … in increasing order, each block
// accumulated from zero and then added to C. A product whose sum over k is
// cut at multiples of KBlock into several products (beta 1 after the
// first) therefore gives the same numbers, as long as each of them runs the
// blocked kernel (see Direct); products that only leave out terms which are
// zero give them too.
const KBlock = kc

// Direct reports whether Sgemm computes an m×n×k product with its plain
// loop (each element one running sum of separately rounded products),
// which can round differently from the blocked kernel that larger products
// run (the assembly kernel fuses each multiply-add).
// SerialPacked runs the blocked kernel at every size.
func Direct(m, n, k int) bool { return m*n*k < smallWork }
