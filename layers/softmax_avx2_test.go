package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
)

// TestExpSumAVX2MatchesExpNeg checks that the assembly exponentials are
// bitwise expNeg's, cutoff, zero and NaN included, and that their float64
// sum agrees with a sequential one.
func TestExpSumAVX2MatchesExpNeg(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	vals := []float32{0, -1e-30, -0.5, -1, -10, -87.3, -87.34, -87.4, -100, -1e9, float32(math.Inf(-1)), float32(math.NaN())}
	for len(vals)%8 != 0 || len(vals) < 4096 {
		vals = append(vals, -float32(rng.ExpFloat64()*20))
	}
	p := append([]float32(nil), vals...)
	if sum := vec.ExpSum(&p[0], len(p), 0); sum == sum {
		t.Fatal("the sum of a row holding NaN is not NaN")
	}
	for j, v := range vals {
		e := expNeg(v)
		if math.Float32bits(p[j]) != math.Float32bits(e) && !(e != e && p[j] != p[j]) {
			t.Fatalf("exp(%v): AVX2 %v, expNeg %v", v, p[j], e)
		}
	}
	clean := append(append([]float32(nil), vals[:11]...), vals[12:]...) // no NaN
	clean = clean[:len(clean)&^7]
	var want float64
	for _, v := range clean {
		want += float64(expNeg(v))
	}
	got := vec.ExpSum(&clean[0], len(clean), 0)
	if math.Abs(got-want) > 1e-13*want {
		t.Fatalf("sum %v, sequential %v", got, want)
	}
}

// TestSoftmaxRowAVX2MatchesGo runs float32 rows through the AVX2 path and
// the Go loops: lengths with and without a tail, masks, a fully masked
// row and large scores.
func TestSoftmaxRowAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{8, 13, 64, 375, 500} {
		for _, masking := range []string{"none", "some", "all"} {
			x := make([]float32, n)
			for j := range x {
				x[j] = float32(rng.NormFloat64() * 30)
			}
			var mask []float32
			if masking != "none" {
				mask = make([]float32, n)
				for j := range mask {
					if masking == "some" && rng.IntN(3) > 0 {
						mask[j] = 1
					}
				}
			}
			fast := make([]float32, n)
			softmaxRow(x, mask, fast)
			useAVX2 = false
			slow := make([]float32, n)
			softmaxRow(x, mask, slow)
			useAVX2 = true
			var total float64
			for j := range fast {
				total += float64(fast[j])
				if d := math.Abs(float64(fast[j] - slow[j])); d > 2e-7*math.Max(float64(slow[j]), 1e-30) && d > 1e-37 {
					t.Fatalf("n=%d mask=%s: p[%d] AVX2 %v, Go %v", n, masking, j, fast[j], slow[j])
				}
			}
			if math.Abs(total-1) > 1e-5 {
				t.Fatalf("n=%d mask=%s: row sums to %v", n, masking, total)
			}
		}
	}
}

// TestSoftmaxShort8MatchesRows runs eight rows of every length below
// eight through softmaxShort8 and one by one through softmaxRow (the Go
// loop for short rows): bitwise equal, with and without a mask, with
// large and equal scores, a fully masked row set and a row holding NaN
// (all NaN either way).
func TestSoftmaxShort8MatchesRows(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	const ld = 11
	for n := 1; n < 8; n++ {
		for _, masking := range []string{"none", "some", "all"} {
			p := make([]float32, 8*ld)
			for j := range p {
				p[j] = float32(rng.NormFloat64() * 30)
			}
			p[2*ld] = p[2*ld+n-1] // equal scores
			p[5*ld+n-1] = float32(math.NaN())
			var mask []float32
			if masking != "none" {
				mask = make([]float32, n)
				for j := range mask {
					if masking == "some" && (j == 0 || rng.IntN(3) > 0) {
						mask[j] = 1
					}
				}
			}
			want := append([]float32(nil), p...)
			for r := 0; r < 8; r++ {
				row := want[r*ld : r*ld+n]
				useAVX2 = false
				softmaxRow(row, mask, row)
				useAVX2 = true
			}
			softmaxShort8(p, ld, n, mask)
			for j := range p {
				if p[j] != want[j] && !(p[j] != p[j] && want[j] != want[j]) {
					t.Fatalf("n=%d mask=%s: p[%d] lanes %v, rows %v", n, masking, j, p[j], want[j])
				}
			}
		}
	}
}

// TestSoftmaxRowBwdAVX2MatchesGo compares the backward rows of the AVX2
// path and the Go loops, with and without a tail.
func TestSoftmaxRowBwdAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{8, 13, 500} {
		p, gp := make([]float32, n), make([]float32, n)
		for j := range p {
			p[j] = float32(rng.Float64())
			gp[j] = float32(rng.NormFloat64())
		}
		fast, slow := make([]float32, n), make([]float32, n)
		softmaxRowBwd(p, gp, fast)
		useAVX2 = false
		softmaxRowBwd(p, gp, slow)
		useAVX2 = true
		for j := range fast {
			if d := math.Abs(float64(fast[j] - slow[j])); d > 1e-6*math.Max(math.Abs(float64(slow[j])), 1e-3) {
				t.Fatalf("n=%d: gx[%d] AVX2 %v, Go %v", n, j, fast[j], slow[j])
			}
		}
	}
}

// TestGateRowsAVX2MatchScalar checks that sigmoidRow32 and tanhRow32 are
// bitwise sigmoid32 and tanh32 on the AVX2 path and its Go tail: both
// signs, both zeros, the polynomial's boundary, the exponential's cutoff,
// infinities and NaN, on a row whose length is not a multiple of 8.
func TestGateRowsAVX2MatchScalar(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	inf := float32(math.Inf(1))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 0.625, -0.625, 0.62500006, -0.62500006,
		0.5, 1, -1, 10, -10, 43.67, -43.67, 43.7, -43.7, 87.3, -87.34, 88, -88, 1e9, -1e9, inf, -inf, float32(math.NaN())}
	rng := rand.New(rand.NewPCG(7, 8))
	for len(vals) < 4099 {
		vals = append(vals, float32(rng.NormFloat64()*math.Exp(rng.NormFloat64()*2)))
	}
	for _, f := range []struct {
		name   string
		row    func([]float32)
		scalar func(float32) float32
	}{{"sigmoid", sigmoidRow32, sigmoid32}, {"tanh", tanhRow32, tanh32}} {
		p := append([]float32(nil), vals...)
		f.row(p)
		for j, v := range vals {
			want := f.scalar(v)
			if math.Float32bits(p[j]) != math.Float32bits(want) && !(want != want && p[j] != p[j]) {
				t.Fatalf("%s(%v) [%d]: row %v (%#x), scalar %v (%#x)", f.name, v, j, p[j], math.Float32bits(p[j]), want, math.Float32bits(want))
			}
		}
	}
}

// TestPiecewiseAVX2MatchesGo runs ReLU's and the identity's forward and
// backward loops with and without AVX2, masked and not, on rows with a
// tail: signed zeros, infinities and NaN in x and g, zeros and scales in
// the mask. The outputs and gradients must be bitwise equal.
func TestPiecewiseAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	pick := func() float32 {
		if rng.IntN(8) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64())
	}
	const n = 1003
	x, g, m := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = pick(), pick()
		if rng.IntN(3) > 0 {
			m[i] = 1 / 0.7
		}
	}
	for _, relu := range []bool{true, false} {
		for _, mask := range [][]float32{nil, m} {
			var got, fwd [2][]float32
			for k, avx := range []bool{true, false} {
				useAVX2 = avx
				got[k], fwd[k] = make([]float32, n), make([]float32, n)
				piecewiseBwd(relu, x, mask, g, got[k])
				piecewiseFwd(relu, x, mask, fwd[k])
			}
			useAVX2 = true
			for i := range got[0] {
				if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
					t.Fatalf("relu %v, masked %v: gx[%d] (x %v, g %v): AVX2 %v, Go %v", relu, mask != nil, i, x[i], g[i], got[0][i], got[1][i])
				}
				if math.Float32bits(fwd[0][i]) != math.Float32bits(fwd[1][i]) {
					t.Fatalf("relu %v, masked %v: y[%d] (x %v): AVX2 %v, Go %v", relu, mask != nil, i, x[i], fwd[0][i], fwd[1][i])
				}
			}
		}
	}
}

// TestAddAndNormAVX2MatchGo checks that the assembly sums (addTo),
// masked sums and products (addMulTo, mulTo), norm rows (normRow, with
// and without a bias) and norm gradient rows (normGradRow) are bitwise the
// Go loops', on
// rows with signed zeros, infinities and NaN and a tail past the last
// group of eight.
func TestAddAndNormAVX2MatchGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, 3e38}
	row := func(n int) []float32 {
		r := make([]float32, n)
		for i := range r {
			if rng.IntN(8) == 0 {
				r[i] = special[rng.IntN(len(special))]
			} else {
				r[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()))
			}
		}
		return r
	}
	same := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s[%d]: AVX2 %v, Go %v", what, i, a[i], b[i])
			}
		}
	}
	for _, n := range []int{8, 13, 128, 1003} {
		x, y, w, b := row(n), row(n), row(n), row(n)
		mu, rstd := rng.NormFloat64(), math.Exp(rng.NormFloat64()*3)
		h := make([]float64, n)
		for i, v := range row(n) {
			h[i] = float64(v) * (1 + rng.Float64()/3)
		}
		m, mx := rng.NormFloat64(), rng.NormFloat64()
		var got [2][6][]float32
		for k, avx := range []bool{true, false} {
			useAVX2 = avx
			for i := range got[k] {
				got[k][i] = make([]float32, n)
			}
			addTo(x, y, got[k][0])
			normRow(x, w, b, got[k][1], mu, rstd)
			normRow(x, w, nil, got[k][2], mu, rstd)
			normGradRow(y, w, h, got[k][3], rstd, m, mx)
			addMulTo(x, y, w, got[k][4])
			mulTo(y, w, got[k][5])
		}
		useAVX2 = true
		same("x+y", got[0][0], got[1][0])
		same("layer norm", got[0][1], got[1][1])
		same("rms norm", got[0][2], got[1][2])
		same("norm gradient", got[0][3], got[1][3])
		same("x+y·w", got[0][4], got[1][4])
		same("y·w", got[0][5], got[1][5])
	}
}

// TestNormGradRowsAVX2MatchesGo checks that a norm's backward pass over
// four rows (normGradRows: the normalized rows, the parameter sums and the
// input gradients) is bitwise the same with the assembly steps
// (vec.NormParts4) as with the Go loop, for layer and RMS norms, widths
// with and without a tail past the last group of four, and rows with
// signed zeros, infinities, NaN (any NaN matches any), subnormals and
// large values, starting from nonzero parameter sums.
func TestNormGradRowsAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.NaN()), 1e-40, 3e38}
	row := func(n int, specials bool) []float32 {
		r := make([]float32, n)
		for i := range r {
			if specials && rng.IntN(40) == 0 {
				r[i] = special[rng.IntN(len(special))]
			} else {
				r[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()))
			}
		}
		return r
	}
	for _, d := range []int{4, 5, 8, 13, 128, 131} {
		for _, rms := range []bool{false, true} {
			for _, specials := range []bool{false, true} {
				k := normK{eps: 1e-5, rms: rms}
				const rows = 6 // the four rows start at row 1
				x, gy, w := row(rows*d, specials), row(rows*d, specials), row(d, specials)
				start := make([]float64, 2*d)
				for i := range start {
					start[i] = rng.NormFloat64()
				}
				var gx [2][]float32
				var parts, hat [2][]float64
				for i, avx := range []bool{true, false} {
					useAVX2 = avx
					gx[i], hat[i] = make([]float32, rows*d), make([]float64, 4*d)
					parts[i] = append([]float64(nil), start...)
					normGradRows(k, x, w, gy, gx[i], hat[i], parts[i][:d], parts[i][d:], 1, 4)
				}
				useAVX2 = true
				what := fmt.Sprintf("d %d, rms %v, specials %v", d, rms, specials)
				for i := range gx[0] {
					if a, b := gx[0][i], gx[1][i]; math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
						t.Fatalf("%s: gx[%d]: AVX2 %v, Go %v", what, i, a, b)
					}
				}
				for name, pair := range map[string][2][]float64{"hat": hat, "parameter sums": parts} {
					for i := range pair[0] {
						if a, b := pair[0][i], pair[1][i]; math.Float64bits(a) != math.Float64bits(b) && !(a != a && b != b) {
							t.Fatalf("%s: %s[%d]: AVX2 %v, Go %v", what, name, i, a, b)
						}
					}
				}
			}
		}
	}
}

// TestPETableIsSinusoidalPE checks the cached rounded tables against
// SinusoidalPE for both element types of one shape.
func TestPETableIsSinusoidalPE(t *testing.T) {
	want := SinusoidalPE(7, 6)
	t32, t64 := peTable[float32](7, 6), peTable[float64](7, 6)
	for i, v := range want {
		if t32[i] != float32(v) || t64[i] != v {
			t.Fatalf("PE[%d]: float32 %v, float64 %v, want %v", i, t32[i], t64[i], v)
		}
	}
	if &peTable[float32](7, 6)[0] != &t32[0] {
		t.Fatal("the table was computed again")
	}
}
