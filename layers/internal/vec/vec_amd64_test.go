package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpSum512MatchesAVX2 checks that the AVX-512 exponentials and their
// float64 sum are bitwise the AVX2 loop's, over lengths with and without
// a last eight, scores far below the cutoff, zero, −inf and NaN.
func TestExpSum512MatchesAVX2(t *testing.T) {
	if !AVX2 || !useAVX512 {
		t.Skip("no AVX-512F on this CPU: nothing to compare")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	special := []float32{0, -1e-30, -87.33654, -87.34, -100, -1e9, float32(math.Inf(-1)), float32(math.NaN())}
	for _, n := range []int{8, 16, 24, 40, 128, 496, 504} {
		for _, withNaN := range []bool{false, true} {
			x := make([]float32, n)
			for j := range x {
				x[j] = -float32(rng.ExpFloat64() * 15)
			}
			for j, v := range special[:len(special)-1] {
				x[(j*37)%n] = v
			}
			if withNaN {
				x[n-1] = special[len(special)-1]
			}
			mx := float32(0.25)
			a, b := append([]float32(nil), x...), append([]float32(nil), x...)
			s256, s512 := expSum256(&a[0], n, mx), expSum512(&b[0], n, mx)
			if math.Float64bits(s256) != math.Float64bits(s512) {
				t.Fatalf("n %d: sum %v with AVX-512, %v with AVX2", n, s512, s256)
			}
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
					t.Fatalf("n %d: exp(%v − %v) = %v with AVX-512, %v with AVX2", n, x[j], mx, b[j], a[j])
				}
			}
		}
	}
}

// TestExpSum512StopsAtN checks that the last eight of an odd number of
// eights are written under the mask: the floats after n stay as they are.
func TestExpSum512StopsAtN(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512F on this CPU")
	}
	p := make([]float32, 32)
	for j := range p {
		p[j] = -1
	}
	expSum512(&p[0], 24, 0)
	for j := 24; j < 32; j++ {
		if p[j] != -1 {
			t.Fatalf("p[%d] = %v after ExpSum of 24 floats, want -1 untouched", j, p[j])
		}
	}
}

// BenchmarkExpSum times ExpSum on a row of 496 scores (a 500-key
// attention row's vector part) with each loop this CPU has.
func BenchmarkExpSum(b *testing.B) {
	p := make([]float32, 496)
	for j := range p {
		p[j] = -float32(j%97) / 10
	}
	loops := map[string]func(p *float32, n int, mx float32) float64{"avx2": expSum256}
	if useAVX512 {
		loops["avx512"] = expSum512
	}
	for name, f := range loops {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f(&p[0], len(p), 0.01)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(p)), "ns/elem")
		})
	}
}
