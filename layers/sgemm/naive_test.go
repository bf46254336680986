package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNaiveIsPlainLoop checks the tiny-product path, which sums four
// elements of a row side by side, against the plain triple loop, bit for
// bit: every transpose case, rows with and without a tail of fewer than
// four, strides larger than the rows, beta 0 (C not read: NaN stays
// out), 1 and 0.5.
func TestNaiveIsPlainLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, d := range [][3]int{{1, 1, 1}, {3, 5, 7}, {2, 8, 16}, {5, 13, 9}, {7, 4, 30}} {
				m, n, k := d[0], d[1], d[2]
				lda, ldb, ldc := k+2, n+3, n+1
				if tA {
					lda = m + 2
				}
				if tB {
					ldb = k + 3
				}
				a, b := vals((max(m, k)+1)*lda), vals((max(n, k)+1)*ldb)
				for _, beta := range []float32{0, 1, 0.5} {
					c := vals(m * ldc)
					if beta == 0 {
						for i := range c {
							c[i] = float32(math.NaN())
						}
					}
					want := append([]float32(nil), c...)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							var s float32
							for p := 0; p < k; p++ {
								av, bv := a[i*lda+p], b[p*ldb+j]
								if tA {
									av = a[p*lda+i]
								}
								if tB {
									bv = b[j*ldb+p]
								}
								s += av * bv
							}
							if beta == 0 {
								want[i*ldc+j] = 1.5 * s
							} else {
								want[i*ldc+j] = 1.5*s + beta*want[i*ldc+j]
							}
						}
					}
					naive(tA, tB, m, n, k, 1.5, a, lda, b, ldb, beta, c, ldc)
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
							t.Fatalf("tA %v tB %v %v beta %v: c[%d] = %v, want %v", tA, tB, d, beta, i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}
