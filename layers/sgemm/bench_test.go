package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the products of an FD-CMDIE training step.
var benchShapes = []struct {
	name string
	tc   gemmCase
}{
	{"fwd_FT_16000x128x128", gemmCase{m: 16000, n: 128, k: 128, tB: true, alpha: 1}},
	{"fwd_FT_16000x512x128", gemmCase{m: 16000, n: 512, k: 128, tB: true, alpha: 1}},
	{"fwd_FT_16000x128x512", gemmCase{m: 16000, n: 128, k: 512, tB: true, alpha: 1}},
	{"fwd_FT_1600x128x768", gemmCase{m: 1600, n: 128, k: 768, tB: true, alpha: 1}},
	{"dx_FF_16000x128x128", gemmCase{m: 16000, n: 128, k: 128, alpha: 1}},
	{"dx_FF_16000x128x512", gemmCase{m: 16000, n: 128, k: 512, alpha: 1}},
	{"dw_TF_128x128x16000", gemmCase{m: 128, n: 128, k: 16000, tA: true, alpha: 1, beta: 1}},
	{"dw_TF_512x128x16000", gemmCase{m: 512, n: 128, k: 16000, tA: true, alpha: 1, beta: 1}},
	{"dw_TF_128x512x16000", gemmCase{m: 128, n: 512, k: 16000, tA: true, alpha: 1, beta: 1}},
	{"dw_TF_128x768x1600", gemmCase{m: 128, n: 768, k: 1600, tA: true, alpha: 1, beta: 1}},
	{"att_FT_500x500x32", gemmCase{m: 500, n: 500, k: 32, tB: true, alpha: 1}},
	{"att_FF_500x32x500", gemmCase{m: 500, n: 32, k: 500, alpha: 1}},
	{"att_TF_500x32x500", gemmCase{m: 500, n: 32, k: 500, tA: true, alpha: 1}},
	{"att_FT_3x500x32", gemmCase{m: 3, n: 500, k: 32, tB: true, alpha: 1}},
	{"att_TF_3x32x500", gemmCase{m: 3, n: 32, k: 500, tA: true, alpha: 1}},
	{"att_FF_3x32x500", gemmCase{m: 3, n: 32, k: 500, alpha: 1}},
	{"lstm_FT_32x512x128", gemmCase{m: 32, n: 512, k: 128, tB: true, extraA: 384, alpha: 1, beta: 1}},
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// BenchmarkSgemm compares this package ("sgemm") with gonum's pure-Go BLAS
// ("gonum") on each shape and reports GFLOP/s.
func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		f    func(tc gemmCase, a []float32, lda int, bm []float32, ldb int, c []float32, ldc int)
	}{
		{"sgemm", func(tc gemmCase, a []float32, lda int, bm []float32, ldb int, c []float32, ldc int) {
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bm, ldb, tc.beta, c, ldc)
		}},
		{"gonum", func(tc gemmCase, a []float32, lda int, bm []float32, ldb int, c []float32, ldc int) {
			gonum.Implementation{}.Sgemm(trans(tc.tA), trans(tc.tB), tc.m, tc.n, tc.k, tc.alpha, a, lda, bm, ldb, tc.beta, c, ldc)
		}},
	}
	for _, s := range benchShapes {
		a, lda, bm, ldb, c, ldc := s.tc.operands(rand.New(rand.NewPCG(7, 8)))
		flops := 2 * float64(s.tc.m) * float64(s.tc.n) * float64(s.tc.k)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/%s", s.name, impl.name), func(b *testing.B) {
				for b.Loop() {
					impl.f(s.tc, a, lda, bm, ldb, c, ldc)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkPackA times packA on one mc×kc block of op(A) whose rows (or
// with tA, columns) are 512 floats apart, like the A of the dx and dw
// products, with the assembly (when available) and with the pure-Go
// copies.
func BenchmarkPackA(b *testing.B) {
	const lda = 512
	rng := rand.New(rand.NewPCG(9, 10))
	a := make([]float32, max(mc, kc)*lda)
	for i := range a {
		a[i] = float32(rng.Float64()*2 - 1)
	}
	var dst [mc * kc]float32
	saved := useAsm
	defer func() { useAsm = saved }()
	for _, tA := range []bool{false, true} {
		for _, asm := range []bool{true, false} {
			if asm && !saved {
				continue
			}
			b.Run(fmt.Sprintf("tA=%v/asm=%v", tA, asm), func(b *testing.B) {
				useAsm = asm
				b.SetBytes(4 * mc * kc)
				for b.Loop() {
					packA(dst[:], tA, a, lda, 0, mc, 0, kc)
				}
			})
		}
	}
}

// BenchmarkPackB times packB on one kc×512 block of op(B) whose rows (or
// with tB, columns) are 512 floats apart, like the B of the dw product
// with 512 input features, with the assembly (when available) and with the
// pure-Go copies.
func BenchmarkPackB(b *testing.B) {
	const ldb, nb = 512, 512
	rng := rand.New(rand.NewPCG(11, 12))
	bm := make([]float32, max(kc, nb)*ldb)
	for i := range bm {
		bm[i] = float32(rng.Float64()*2 - 1)
	}
	var dst [kc * nc]float32
	saved := useAsm
	defer func() { useAsm = saved }()
	for _, tB := range []bool{false, true} {
		for _, asm := range []bool{true, false} {
			if asm && !saved {
				continue
			}
			b.Run(fmt.Sprintf("tB=%v/asm=%v", tB, asm), func(b *testing.B) {
				useAsm = asm
				b.SetBytes(4 * kc * nb)
				for b.Loop() {
					packB(dst[:], tB, bm, ldb, 0, kc, 0, nb)
				}
			})
		}
	}
}

// BenchmarkSerial times Serial, one goroutine, on the per-head products of
// attention (head width 32, 500 queries and keys; the P·V, dS·K and
// transposed products multiply a large operand by a narrow one) and
// reports GFLOP/s.
func BenchmarkSerial(b *testing.B) {
	for _, s := range benchShapes {
		if s.name[:4] != "att_" {
			continue
		}
		a, lda, bm, ldb, c, ldc := s.tc.operands(rand.New(rand.NewPCG(7, 8)))
		flops := 2 * float64(s.tc.m) * float64(s.tc.n) * float64(s.tc.k)
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				Serial(s.tc.tA, s.tc.tB, s.tc.m, s.tc.n, s.tc.k, s.tc.alpha, a, lda, bm, ldb, s.tc.beta, c, ldc)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkKernels times Sgemm on each shape of benchShapes with each
// assembly micro-kernel this machine has (AVX-512, AVX2) and reports
// GFLOP/s; run it with -cpu 1 for one core's rate.
func BenchmarkKernels(b *testing.B) {
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	for _, s := range benchShapes {
		a, lda, bm, ldb, c, ldc := s.tc.operands(rand.New(rand.NewPCG(7, 8)))
		flops := 2 * float64(s.tc.m) * float64(s.tc.n) * float64(s.tc.k)
		for _, on := range []bool{true, false} {
			if on && !saved || !useAsm {
				continue
			}
			name := map[bool]string{true: "avx512", false: "avx2"}[on]
			b.Run(s.name+"/"+name, func(b *testing.B) {
				useAVX512 = on
				for b.Loop() {
					Sgemm(s.tc.tA, s.tc.tB, s.tc.m, s.tc.n, s.tc.k, s.tc.alpha, a, lda, bm, ldb, s.tc.beta, c, ldc)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkInPlace times Serial, one goroutine, on the products of
// benchShapes with a transposed A narrow enough to be read in place (the
// weight gradients of width 128, attention's Pᵀ·dO) or an untransposed B
// over few enough rows (those weight gradients, the products of
// attention's three global tokens), with both operands packed and read in
// place where they may be, and reports GFLOP/s.
func BenchmarkInPlace(b *testing.B) {
	saved, savedT, savedR := inPlaceTiles, inPlaceTransposed, inPlaceRows
	defer func() { inPlaceTiles, inPlaceTransposed, inPlaceRows = saved, savedT, savedR }()
	for _, s := range benchShapes {
		if !(s.tc.tA && (s.tc.n+nr-1)/nr <= savedT) && (s.tc.tB || s.tc.m > savedR) {
			continue
		}
		a, lda, bm, ldb, c, ldc := s.tc.operands(rand.New(rand.NewPCG(7, 8)))
		for _, tiles := range []int{0, 1 << 20} {
			inPlaceTiles, inPlaceTransposed, inPlaceRows = tiles, tiles, tiles
			name := map[bool]string{true: "packed", false: "inplace"}[tiles == 0]
			rateBench(b, s.name+"/"+name, s.tc, func(int) {
				Serial(s.tc.tA, s.tc.tB, s.tc.m, s.tc.n, s.tc.k, s.tc.alpha, a, lda, bm, ldb, s.tc.beta, c, ldc)
			})
		}
	}
}

// BenchmarkCold times attention's products, one goroutine, with the
// operand that a training step finds in memory rather than in cache,
// each call taking the next of a pool of them larger than the caches,
// and reports GFLOP/s:
//   - att_*: a head's 500×500 probabilities (kept in the forward pass,
//     read back in the backward) times a narrow operand, 96 MB of them;
//   - scores: a block of 72 queries times a head's packed keys, stored
//     into the kept probabilities, 256 blocks of 144 KB.
func BenchmarkCold(b *testing.B) {
	for _, s := range benchShapes {
		if s.tc.m != 500 || s.tc.k != 500 {
			continue
		}
		rng := rand.New(rand.NewPCG(7, 8))
		as := make([][]float32, 96)
		var lda, ldb, ldc int
		var bm, c []float32
		for i := range as {
			as[i], lda, bm, ldb, c, ldc = s.tc.operands(rng)
		}
		rateBench(b, s.name, s.tc, func(i int) {
			Serial(s.tc.tA, s.tc.tB, s.tc.m, s.tc.n, s.tc.k, s.tc.alpha, as[i%len(as)], lda, bm, ldb, s.tc.beta, c, ldc)
		})
	}
	tc := gemmCase{m: 72, n: 500, k: 32, tB: true, alpha: 0.17}
	a, lda, bm, ldb, _, ldc := tc.operands(rand.New(rand.NewPCG(7, 8)))
	pb := PackB(nil, true, tc.k, tc.n, bm, ldb)
	cs := make([][]float32, 256)
	for i := range cs {
		cs[i] = make([]float32, tc.m*ldc)
	}
	rateBench(b, "scores_72x500x32", tc, func(i int) {
		SerialPacked(false, tc.m, tc.alpha, a, lda, pb, 0, cs[i%len(cs)], ldc)
	})
}

// rateBench runs call(i) for i = 0, 1, ... as sub-benchmark name (on the
// calling goroutine, so the caller's settings hold for it) and reports the
// GFLOP/s of tc's product.
func rateBench(b *testing.B, name string, tc gemmCase, call func(i int)) {
	flops := 2 * float64(tc.m) * float64(tc.n) * float64(tc.k)
	b.Run(name, func(b *testing.B) {
		i := 0
		for b.Loop() {
			call(i)
			i++
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
