package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// needAVX512 skips a test on a CPU without AVX-512F, where the AVX-512
// kernel cannot run (every other test then covers the AVX2 kernel alone).
func needAVX512(t *testing.T) {
	t.Helper()
	if !useAsm || !useAVX512 {
		t.Skip("this CPU has no AVX-512F (or GODEBUG=cpu.avx512f=off): the AVX-512 kernel is not run here")
	}
}

// TestAVX512KernelMatchesAVX2 runs microKernel on runs of 1 to 5 tiles
// with the AVX-512 kernel and with the AVX2 one and requires the same bits
// in all of C: A packed, read in place untransposed (rows lda apart) and
// transposed (steps lda apart), B packed and read in place (steps 37
// floats apart), odd and even k (the unrolled loop's tail), adding to C or
// storing, with and without a bias. With B in place, both must also give
// the bits of the packed copy of that B. A and B end at the last element
// the kernel may read, before an unreadable page on Linux, and C has a NaN
// in its padding and, when stored, in every element, so a read past A or
// B, a stray write or an element left unwritten shows.
func TestAVX512KernelMatchesAVX2(t *testing.T) {
	needAVX512(t)
	defer func() { useAVX512 = true }()
	rng := rand.New(rand.NewPCG(14, 15))
	for _, layout := range []string{"packed", "rows", "transposed"} {
		for _, bs := range []int{nr, 37} {
			kernelCase(t, rng, layout, bs)
		}
	}
}

// kernelCase is TestAVX512KernelMatchesAVX2 on one layout of A, with B's
// k steps bs floats apart.
func kernelCase(t *testing.T, rng *rand.Rand, layout string, bs int) {
	nan := float32(math.NaN())
	for panels := 1; panels <= 5; panels++ {
		for _, kb := range []int{1, 2, 3, 8, 37, kc} {
			for _, store := range []bool{false, true} {
				for _, withBias := range []bool{false, true} {
					const lda, ldc = 300, nr + 3
					var rs, ps, aStep, size int
					switch layout {
					case "packed":
						rs, ps, aStep, size = 1, mr, mr*kb, panels*mr*kb
					case "rows":
						rs, ps, aStep, size = lda, 1, mr*lda, (panels*mr-1)*lda+kb
					default:
						rs, ps, aStep, size = 1, lda, mr, (kb-1)*lda+panels*mr
					}
					a := guarded(t, size)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
					}
					bp := guarded(t, (kb-1)*bs+nr)
					packed := make([]float32, kb*nr) // bp's panel, packed
					for i := range bp {
						bp[i] = float32(rng.NormFloat64())
						if p, j := i/bs, i%bs; j < nr {
							packed[p*nr+j] = bp[i]
						}
					}
					var bias []float32
					if withBias {
						bias = make([]float32, nr)
						for i := range bias {
							bias[i] = float32(rng.NormFloat64())
						}
					}
					c0 := make([]float32, panels*mr*ldc)
					for i := range c0 {
						c0[i] = float32(rng.NormFloat64())
						if store || i%ldc >= nr {
							c0[i] = nan
						}
					}
					var got [3][]float32 // AVX2, AVX-512, AVX2 on the packed B
					for i, on := range []bool{false, true, false} {
						useAVX512 = on
						got[i] = append([]float32(nil), c0...)
						b, s := bp, bs
						if i == 2 {
							b, s = packed, nr
						}
						microKernel(panels, kb, a, rs, ps, aStep, b, s, got[i], ldc, -1.25, store, bias)
					}
					name := fmt.Sprintf("%s bs=%d panels=%d kb=%d store=%v bias=%v", layout, bs, panels, kb, store, withBias)
					for i, v := range got[1] {
						if math.Float32bits(v) != math.Float32bits(got[0][i]) {
							t.Fatalf("%s: C[%d]: AVX-512 %v, AVX2 %v", name, i, v, got[0][i])
						}
						if math.Float32bits(v) != math.Float32bits(got[2][i]) {
							t.Fatalf("%s: C[%d]: %v, %v with B packed", name, i, v, got[2][i])
						}
						if padding := i%ldc >= nr; padding != math.IsNaN(float64(v)) {
							t.Fatalf("%s: C[%d] = %v (padding %v)", name, i, v, padding)
						}
					}
				}
			}
		}
	}
}

// TestAVX512ProductsMatchAVX2 runs the products of a paper-sized training
// step (benchShapes: d_model 128, 16,000 rows, the dw sums over k 16,000,
// attention's heads) and the blocking boundaries' shapes (fixedCases)
// with Sgemm on both kernels: the same bits.
func TestAVX512ProductsMatchAVX2(t *testing.T) {
	needAVX512(t)
	defer func() { useAVX512 = true }()
	cases := fixedCases()
	for _, s := range benchShapes {
		cases = append(cases, s.tc)
	}
	rng := rand.New(rand.NewPCG(16, 17))
	for _, tc := range cases {
		a, lda, b, ldb, c0, ldc := tc.operands(rng)
		var got [2][]float32
		for i, on := range []bool{false, true} {
			useAVX512 = on
			got[i] = append([]float32(nil), c0...)
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got[i], ldc)
		}
		if i := sameBits(got[1], got[0]); i >= 0 {
			t.Fatalf("%v: C[%d]: AVX-512 %v, AVX2 %v", tc, i, got[1][i], got[0][i])
		}
	}
}
