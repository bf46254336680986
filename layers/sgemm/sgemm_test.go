package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmCase is one product to check; the extra* fields pad the leading
// dimensions beyond their minimum.
type gemmCase struct {
	tA, tB                 bool
	m, n, k                int
	extraA, extraB, extraC int
	alpha, beta            float32
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,%dx%dx%d,pad=%d/%d/%d,alpha=%g,beta=%g",
		tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.extraA, tc.extraB, tc.extraC, tc.alpha, tc.beta)
}

// operands builds random A, B and C for tc with their leading dimensions.
func (tc gemmCase) operands(rng *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.tA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = max(1, ac)+tc.extraA, max(1, bc)+tc.extraB, max(1, tc.n)+tc.extraC
	fill := func(rows, ld int) []float32 {
		s := make([]float32, rows*ld)
		for i := range s {
			s[i] = float32(rng.Float64()*2 - 1)
		}
		return s
	}
	return fill(ar, lda), lda, fill(br, ldb), ldb, fill(tc.m, ldc), ldc
}

// reference computes alpha·op(A)·op(B) + beta·C in float64, independently
// of the package code, and returns it as an m×n dense matrix.
func reference(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) []float64 {
	out := make([]float64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s float64
			for p := 0; p < tc.k; p++ {
				ia, ib := i*lda+p, p*ldb+j
				if tc.tA {
					ia = p*lda + i
				}
				if tc.tB {
					ib = j*ldb + p
				}
				av, bv := a[ia], b[ib]
				s += float64(av) * float64(bv)
			}
			v := float64(tc.alpha) * s
			if tc.beta != 0 {
				v += float64(tc.beta) * float64(c[i*ldc+j])
			}
			out[i*tc.n+j] = v
		}
	}
	return out
}

// checkCase runs Sgemm on tc and compares every element of C with the
// float64 reference, and checks that the padding of C is untouched.
func checkCase(t *testing.T, tc gemmCase, rng *rand.Rand) {
	t.Helper()
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	want := reference(tc, a, lda, b, ldb, c, ldc)
	orig := append([]float32(nil), c...)
	if tc.beta == 0 {
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	// Each product and partial sum rounds with relative error 2^-24; the
	// operands lie in [-1, 1], so the error of an element is bounded by
	// about sqrt(k)·1e-6·(|alpha|·k + |beta|) for random-sign sums, and we
	// allow 1e-5·sqrt(k) relative to that scale.
	scaleRef := math.Abs(float64(tc.alpha))*math.Sqrt(float64(tc.k)) + math.Abs(float64(tc.beta)) + 1e-30
	tol := 1e-5 * math.Sqrt(float64(max(tc.k, 1))) * scaleRef
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			got := float64(c[i*ldc+j])
			if w := want[i*tc.n+j]; !(math.Abs(got-w) <= tol) {
				t.Fatalf("%v: C[%d,%d] = %v, want %v (tol %.3g)", tc, i, j, got, w, tol)
			}
		}
		for j := tc.n; j < ldc; j++ {
			if c[i*ldc+j] != orig[i*ldc+j] {
				t.Fatalf("%v: padding C[%d,%d] changed", tc, i, j)
			}
		}
	}
}

// randomCases draws a table of shapes covering odd sizes, all transpose
// cases, padded leading dimensions and alpha/beta variants.
func randomCases(rng *rand.Rand, count, maxDim int) []gemmCase {
	alphas := []float32{1, -0.5, 2.25}
	betas := []float32{0, 1, -1.5}
	cases := make([]gemmCase, count)
	for i := range cases {
		cases[i] = gemmCase{
			tA: i&1 != 0, tB: i&2 != 0,
			m: 1 + rng.IntN(maxDim), n: 1 + rng.IntN(maxDim), k: 1 + rng.IntN(maxDim),
			extraA: rng.IntN(3) * rng.IntN(5), extraB: rng.IntN(3) * rng.IntN(5), extraC: rng.IntN(3) * rng.IntN(5),
			alpha: alphas[rng.IntN(len(alphas))], beta: betas[rng.IntN(len(betas))],
		}
	}
	return cases
}

// fixedCases are shapes that cross the blocking boundaries (kc, mc, nc and
// the micro-tile) and the parallel and small-size thresholds.
func fixedCases() []gemmCase {
	var cases []gemmCase
	shapes := [][3]int{
		{0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {1, 1, 1}, {6, 16, 1}, {7, 17, 3},
		{3, 500, 32}, {32, 70, 130}, {150, 33, 257}, {13, 1030, 20},
		{145, 40, 600}, {64, 64, 64}, {200, 17, 40},
	}
	for _, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			cases = append(cases, gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: s[0], n: s[1], k: s[2], extraA: 3, extraC: 1, alpha: 1, beta: 0})
			cases = append(cases, gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: s[0], n: s[1], k: s[2], extraB: 2, alpha: -0.75, beta: 1})
		}
	}
	// LSTM recurrent step: rows of A strided far beyond k, beta = 1.
	cases = append(cases, gemmCase{m: 32, n: 512, k: 128, tB: true, extraA: 384, alpha: 1, beta: 1})
	// alpha = 0 only scales C.
	cases = append(cases, gemmCase{m: 9, n: 20, k: 30, alpha: 0, beta: 0.5})
	return cases
}

// withKernel runs f with each micro-kernel this machine has: the AVX-512
// one, the AVX2 one, and the pure-Go one.
func withKernel(t *testing.T, f func(t *testing.T)) {
	savedAsm, saved512 := useAsm, useAVX512
	defer func() { useAsm, useAVX512 = savedAsm, saved512 }()
	for _, k := range []struct {
		name        string
		asm, avx512 bool
	}{{"avx512", true, true}, {"avx2", true, false}, {"go", false, false}} {
		if k.asm && !savedAsm || k.avx512 && !saved512 {
			continue
		}
		useAsm, useAVX512 = k.asm, k.avx512
		t.Run(k.name, f)
	}
}

func TestSgemmRandom(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tc := range randomCases(rng, 400, 37) {
			checkCase(t, tc, rng)
		}
	})
}

func TestSgemmFixed(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, tc := range fixedCases() {
			checkCase(t, tc, rng)
		}
	})
}

// TestSgemmHandValues checks a 2×2·2×2 product worked out by hand:
// [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50], with alpha = 2, beta = -1 on
// C = [1 1; 1 1], giving [37 43; 85 99]; and the same through B stored
// transposed.
func TestSgemmHandValues(t *testing.T) {
	a := []float32{1, 2, 3, 4}
	b := []float32{5, 6, 7, 8}
	bT := []float32{5, 7, 6, 8}
	want := []float32{37, 43, 85, 99}
	for _, tc := range []struct {
		tB bool
		b  []float32
	}{{false, b}, {true, bT}} {
		c := []float32{1, 1, 1, 1}
		Sgemm(false, tc.tB, 2, 2, 2, 2, a, 2, tc.b, 2, -1, c, 2)
		for i := range want {
			if c[i] != want[i] {
				t.Errorf("tB=%v: C = %v, want %v", tc.tB, c, want)
				break
			}
		}
	}
}

// TestSgemmDeterministic checks that the result is bitwise the same with
// one and with two goroutines, on shapes split along m and along n.
func TestSgemmDeterministic(t *testing.T) {
	shapes := []gemmCase{
		{m: 301, n: 70, k: 300, alpha: 1, beta: 0.5},
		{m: 70, n: 301, k: 300, tA: true, tB: true, alpha: 1, beta: 0},
		{m: 128, n: 128, k: 1000, tA: true, alpha: 1, beta: 0},
	}
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, tc := range shapes {
			a, lda, b, ldb, c0, ldc := tc.operands(rng)
			var results [][]float32
			for _, procs := range []int{1, 2, 3} {
				runtime.GOMAXPROCS(procs)
				c := append([]float32(nil), c0...)
				Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
				results = append(results, c)
			}
			for r := 1; r < len(results); r++ {
				for i := range results[0] {
					if math.Float32bits(results[r][i]) != math.Float32bits(results[0][i]) {
						t.Fatalf("%v: element %d differs between GOMAXPROCS 1 and %d: %v vs %v", tc, i, r+1, results[0][i], results[r][i])
					}
				}
			}
		}
	})
}

// TestInPlaceMatchesPacked checks that reading op(A), and an untransposed
// B, where they lie gives bitwise the packed panels' results, for A plain
// and transposed, with a partial last panel or tile or none, across the
// mc and kc blocks, with beta zero and not; the head-sized products of
// attention among them, and those of its three global tokens. And that
// Serial reads in place the products that narrow.
func TestInPlaceMatchesPacked(t *testing.T) {
	var shapes []gemmCase
	for _, s := range [][3]int{{6, 16, 1}, {7, 32, 5}, {150, 32, 600}, {500, 32, 500}, {13, 20, 257}, {298, 100, 40}, {128, 128, 700}, {3, 32, 500}, {3, 40, 300}} {
		for tr := 0; tr < 4; tr++ {
			shapes = append(shapes, gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: s[0], n: s[1], k: s[2], extraA: 3, extraC: 1, alpha: 1})
			shapes = append(shapes, gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: s[0], n: s[1], k: s[2], extraB: 2, alpha: -0.75, beta: 1})
		}
	}
	saved, savedT, savedR := inPlaceTiles, inPlaceTransposed, inPlaceRows
	defer func() { inPlaceTiles, inPlaceTransposed, inPlaceRows = saved, savedT, savedR }()
	if saved < 2 || savedT < 8 || savedR < 128 {
		t.Fatalf("inPlaceTiles = %d, inPlaceTransposed = %d, inPlaceRows = %d: the attention's products (two tiles wide) or the weight gradients of width 128 are packed", saved, savedT, savedR)
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(10, 11))
		for _, tc := range shapes {
			a, lda, b, ldb, c0, ldc := tc.operands(rng)
			var results [][]float32
			for _, tiles := range []int{0, 1 << 20} {
				inPlaceTiles, inPlaceTransposed, inPlaceRows = tiles, tiles, tiles
				c := append([]float32(nil), c0...)
				Serial(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
				results = append(results, c)
			}
			for i := range results[0] {
				if math.Float32bits(results[1][i]) != math.Float32bits(results[0][i]) {
					t.Fatalf("%v: element %d: in place %v, packed %v", tc, i, results[1][i], results[0][i])
				}
			}
		}
	})
}

// TestSerialPackedMatchesSerial packs B once and multiplies it with two
// different A: each result must be bitwise Serial's, on shapes that cross
// the kc and nc blocks (the LSTM's recurrent products among them; a block
// of attention's queries over a head's keys and values), and the second
// packing reuses the first one's memory.
func TestSerialPackedMatchesSerial(t *testing.T) {
	shapes := []gemmCase{
		{m: 32, n: 512, k: 128, tB: true, extraA: 384, alpha: 1, beta: 1},
		{m: 32, n: 128, k: 512, extraA: 1536, alpha: 1, beta: 0},
		{m: 13, n: 1100, k: 300, tA: true, extraB: 3, extraC: 2, alpha: -0.5, beta: 0},
		{m: 150, n: 40, k: 600, tA: true, tB: true, alpha: 2, beta: -1.5},
		{m: 64, n: 32, k: 500, extraA: 7, alpha: 1, beta: 0},
		{m: 64, n: 500, k: 32, tB: true, extraA: 96, extraB: 96, alpha: 0.25, beta: 0},
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(8, 9))
		var pb *PackedB
		for _, tc := range shapes {
			_, _, b, ldb, _, _ := tc.operands(rng)
			pb = PackB(pb, tc.tB, tc.k, tc.n, b, ldb)
			for rep := 0; rep < 2; rep++ {
				a, lda, _, _, c0, ldc := tc.operands(rng)
				want := append([]float32(nil), c0...)
				Serial(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
				got := append([]float32(nil), c0...)
				SerialPacked(tc.tA, tc.m, tc.alpha, a, lda, pb, tc.beta, got, ldc)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v: element %d: packed %v, Serial %v", tc, i, got[i], want[i])
					}
				}
			}
		}
		small := PackB(nil, false, 2, 3, make([]float32, 6), 3)
		first := &small.data[0]
		again := PackB(small, true, 2, 3, make([]float32, 6), 2)
		if again != small || &again.data[0] != first {
			t.Fatal("PackB did not reuse its memory")
		}
	})
}

func TestSgemmPanicsOnBadArgs(t *testing.T) {
	a := make([]float32, 6)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) }},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }},
		{"short c", func() { Sgemm(false, false, 3, 3, 1, 1, a, 1, a, 3, 0, a, 3) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestPackAsmMatchesGo packs blocks of op(A) (packA) and op(B) (packB)
// with the pure-Go copies and with the assembly (when available) and
// requires the same bits in all of dst, which starts out filled with a NaN
// and spare floats after the panels, so that a missing write, or one past
// the panels, shows; the Go result is checked against the panels' layout
// as well. The blocks cover full and partial panels (one and many), k
// lengths that are and are not multiples of 8, offsets into the source and
// padded rows; the source ends at the last element read, before an
// unreadable page on Linux (guarded), so that reading past it faults.
func TestPackAsmMatchesGo(t *testing.T) {
	kernels := []bool{false}
	if useAsm {
		kernels = append(kernels, true)
	}
	defer func(saved bool) { useAsm = saved }(useAsm)
	rng := rand.New(rand.NewPCG(12, 13))
	fill := math.Float32frombits(0x7fc0dead)
	// A panel holds width rows of op(A) (or columns of op(B)), x, over kb
	// steps p of k; untransposed, the rows of B's source run along k.
	sides := []struct {
		name       string
		width      int
		sizes      []int
		rowsAlongK bool
		pack       func(dst []float32, trans bool, src []float32, ld, x0, xb, p0, kb int)
	}{
		{"A", mr, []int{1, 5, 6, 7, 12, 17, mc}, false, func(dst []float32, trans bool, src []float32, ld, x0, xb, p0, kb int) {
			packA(dst, trans, src, ld, x0, xb, p0, kb)
		}},
		{"B", nr, []int{1, 15, 16, 17, 32, 100, nc}, true, func(dst []float32, trans bool, src []float32, ld, x0, xb, p0, kb int) {
			packB(dst, trans, src, ld, p0, kb, x0, xb)
		}},
	}
	for _, s := range sides {
		w := s.width
		for _, trans := range []bool{false, true} {
			alongK := s.rowsAlongK != trans // the source's rows run along k
			for _, kb := range []int{1, 7, 8, 9, 63, kc} {
				for _, xb := range s.sizes {
					for _, o := range []struct{ x0, p0, pad int }{{0, 0, 0}, {5, 3, 0}, {2, 9, 7}} {
						rows, cols := o.x0+xb, o.p0+kb
						if alongK {
							rows, cols = cols, rows
						}
						ld := cols + o.pad
						src := guarded(t, (rows-1)*ld+cols)
						for i := range src {
							src[i] = float32(rng.NormFloat64())
						}
						name := fmt.Sprintf("pack%s trans=%v kb=%d size=%d x0=%d p0=%d ld=%d", s.name, trans, kb, xb, o.x0, o.p0, ld)
						size := (xb + w - 1) / w * w * kb
						packed := make([][]float32, len(kernels)) // Go, assembly
						for i, asm := range kernels {
							useAsm = asm
							packed[i] = make([]float32, size+2*w)
							for j := range packed[i] {
								packed[i][j] = fill
							}
							s.pack(packed[i], trans, src, ld, o.x0, xb, o.p0, kb)
						}
						if len(packed) == 2 {
							if j := sameBits(packed[1], packed[0]); j >= 0 {
								t.Fatalf("%s: element %d: assembly %v, Go %v", name, j, packed[1][j], packed[0][j])
							}
						}
						for j, v := range packed[0] {
							want := fill
							if j < size {
								// Panel q, k step p, place r in the panel.
								q, p, r := j/(w*kb), j%(w*kb)/w, j%w
								want = 0
								if x := q*w + r; x < xb {
									at := (o.x0+x)*ld + o.p0 + p
									if alongK {
										at = (o.p0+p)*ld + o.x0 + x
									}
									want = src[at]
								}
							}
							if math.Float32bits(v) != math.Float32bits(want) {
								t.Fatalf("%s: element %d: Go %v, want %v", name, j, v, want)
							}
						}
					}
				}
			}
		}
	}
}
