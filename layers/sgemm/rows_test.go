package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// paddedRows draws the real rows of a right-padded batch: samples of
// steps rows each, sample s's first lens[s] real. Lengths of 0, 1, runs
// shorter than a micro-tile and whole samples (which merge with the next
// sample's run) all occur.
func paddedRows(rng *rand.Rand, samples, steps int) []int {
	var rows []int
	for s := 0; s < samples; s++ {
		n := rng.IntN(steps + 1)
		switch rng.IntN(4) {
		case 0:
			n = steps
		case 1:
			n = rng.IntN(min(steps, 7) + 1)
		}
		for t := 0; t < n; t++ {
			rows = append(rows, s*steps+t)
		}
	}
	return rows
}

// randomMatrix is rows×cols with row stride ld, filled from rng.
func randomMatrix(rng *rand.Rand, rows, ld int) []float32 {
	s := make([]float32, rows*ld)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

func checkBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if i := sameBits(got, want); i >= 0 {
		t.Fatalf("%s: element %d: %v, want %v", what, i, got[i], want[i])
	}
}

// TestOnRowsMatchesGathered checks OnRows and SerialOnRows against Sgemm on
// the chosen rows copied out, bit for bit, and that the other rows of C are
// not touched: shapes across the tile, block and parallel limits (n past
// nc, k past kc, tiny products on the plain loop), both layouts of B, beta
// zero and not.
func TestOnRowsMatchesGathered(t *testing.T) {
	type shape struct{ samples, steps, n, k int }
	shapes := []shape{
		{16, 50, 128, 128}, {16, 50, 512, 128}, {16, 50, 128, 512}, {8, 40, 33, 7},
		{4, 13, 1100, 300}, {3, 5, 2, 3}, {5, 9, 16, 1}, {32, 20, 128, 768},
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, sh := range shapes {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float32{0, 1.5} {
					rows := paddedRows(rng, sh.samples, sh.steps)
					total := sh.samples * sh.steps
					lda, ldc := sh.k+3, sh.n+2
					a, c0 := randomMatrix(rng, total, lda), randomMatrix(rng, total, ldc)
					br, bc := sh.k, sh.n
					if tB {
						br, bc = sh.n, sh.k
					}
					ldb := bc + 1
					b := randomMatrix(rng, br, ldb)
					name := fmt.Sprintf("%+v tB=%v beta=%v rows=%d", sh, tB, beta, len(rows))
					m := len(rows)
					as, cs := gather(rows, a, lda, sh.k), gather(rows, c0, ldc, sh.n)
					Sgemm(false, tB, m, sh.n, sh.k, 0.75, as, max(1, sh.k), b, ldb, beta, cs, max(1, sh.n))
					want := append([]float32(nil), c0...)
					for i, r := range rows {
						copy(want[r*ldc:r*ldc+sh.n], cs[i*sh.n:(i+1)*sh.n])
					}
					for _, f := range []func(bool, []int, int, int, float32, []float32, int, []float32, int, float32, []float32, int){OnRows, SerialOnRows} {
						got := append([]float32(nil), c0...)
						f(tB, rows, sh.n, sh.k, 0.75, a, lda, b, ldb, beta, got, ldc)
						checkBits(t, name, got, want)
					}
				}
			}
		}
	})
}

// TestOverRowsMatchesGathered checks OverRows and SerialOverRows against
// Sgemm(true, false, …) on the chosen rows copied out, bit for bit: k (the
// row count) past several k blocks, m and n past and below the tiles, so
// both ways of splitting C and the packing of partial panels run.
func TestOverRowsMatchesGathered(t *testing.T) {
	type shape struct{ samples, steps, m, n int }
	shapes := []shape{
		{16, 50, 128, 128}, {16, 50, 512, 128}, {16, 50, 128, 512}, {8, 100, 35, 128},
		{8, 100, 128, 74}, {3, 7, 5, 3}, {12, 60, 7, 1100}, {2, 300, 13, 17},
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, sh := range shapes {
			for _, beta := range []float32{0, -1} {
				rows := paddedRows(rng, sh.samples, sh.steps)
				total := sh.samples * sh.steps
				lda, ldb, ldc := sh.m+1, sh.n+5, sh.n+3
				a, b, c0 := randomMatrix(rng, total, lda), randomMatrix(rng, total, ldb), randomMatrix(rng, sh.m, ldc)
				name := fmt.Sprintf("%+v beta=%v rows=%d", sh, beta, len(rows))
				as, bs := gather(rows, a, lda, sh.m), gather(rows, b, ldb, sh.n)
				want := append([]float32(nil), c0...)
				Sgemm(true, false, sh.m, sh.n, len(rows), -1.25, as, sh.m, bs, sh.n, beta, want, ldc)
				for _, f := range []func([]int, int, int, float32, []float32, int, []float32, int, float32, []float32, int){OverRows, SerialOverRows} {
					got := append([]float32(nil), c0...)
					f(rows, sh.m, sh.n, -1.25, a, lda, b, ldb, beta, got, ldc)
					checkBits(t, name, got, want)
				}
			}
		}
	})
}

func TestRowsPanicOnBadRows(t *testing.T) {
	a, c := make([]float32, 40), make([]float32, 40)
	for name, f := range map[string]func(){
		"unordered": func() { OnRows(false, []int{3, 2}, 4, 4, 1, a, 4, a, 4, 0, c, 4) },
		"repeated":  func() { OverRows([]int{1, 1}, 4, 4, 1, a, 4, a, 4, 0, c, 4) },
		"negative":  func() { OnRows(false, []int{-1, 2}, 4, 4, 1, a, 4, a, 4, 0, c, 4) },
		"past a":    func() { OnRows(false, []int{1, 10}, 4, 4, 1, a, 4, a, 4, 0, c, 4) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s rows: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestLinearMatchesProductThenBias checks Linear against the product
// (Sgemm, or OnRows on chosen rows; alpha 1, beta 0) followed by adding
// the bias to each row in float32, bit for bit: all rows and chosen
// rows, on one goroutine and split, both layouts of B, shapes with partial
// tiles, n past nc (the bias of later column blocks), k past kc (the bias
// goes with the last k block), m below n (the split takes columns) and
// tiny products on the plain loop. The rows not chosen stay untouched.
// Without a bias it is the product alone.
func TestLinearMatchesProductThenBias(t *testing.T) {
	type shape struct{ samples, steps, n, k int }
	shapes := []shape{
		{16, 50, 128, 128}, {16, 50, 512, 128}, {16, 50, 128, 512}, {8, 40, 33, 7},
		{4, 13, 1100, 300}, {3, 5, 2, 3}, {1, 3, 700, 64}, {32, 20, 128, 768},
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, sh := range shapes {
			for _, tB := range []bool{false, true} {
				m, n, k := sh.samples*sh.steps, sh.n, sh.k
				a := randomMatrix(rng, m, k+2)
				br, bc := k, n
				if tB {
					br, bc = n, k
				}
				b := randomMatrix(rng, br, bc+1)
				bias := randomMatrix(rng, 1, n)
				for _, chosen := range [][]int{nil, paddedRows(rng, sh.samples, sh.steps)} {
					c0 := randomMatrix(rng, m, n+3)
					want := append([]float32(nil), c0...)
					rows := len(chosen)
					if chosen == nil {
						rows = m
						Sgemm(false, tB, m, n, k, 1, a, k+2, b, bc+1, 0, want, n+3)
					} else {
						OnRows(tB, chosen, n, k, 1, a, k+2, b, bc+1, 0, want, n+3)
					}
					plain := append([]float32(nil), want...)
					got := append([]float32(nil), c0...)
					Linear(false, tB, chosen, m, n, k, a, k+2, b, bc+1, nil, got, n+3)
					checkBits(t, fmt.Sprintf("%v tB=%v rows=%v no bias", sh, tB, chosen != nil), got, plain)
					for i := 0; i < rows; i++ {
						r := i
						if chosen != nil {
							r = chosen[i]
						}
						for j := 0; j < n; j++ {
							want[r*(n+3)+j] += bias[j]
						}
					}
					for _, serial := range []bool{false, true} {
						got := append([]float32(nil), c0...)
						Linear(serial, tB, chosen, m, n, k, a, k+2, b, bc+1, bias, got, n+3)
						checkBits(t, fmt.Sprintf("%v tB=%v rows=%v serial=%v", sh, tB, chosen != nil, serial), got, want)
					}
				}
			}
		}
	})
}
