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

// TestGates512MatchAVX2 checks that the AVX-512 Sigmoid and Tanh are
// bitwise the AVX2 loops, over lengths with and without a last eight and
// at the values where their branches meet, and that they write nothing
// past n.
func TestGates512MatchAVX2(t *testing.T) {
	if !AVX2 || !useAVX512 {
		t.Skip("no AVX-512F on this CPU: nothing to compare")
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	special := []float32{0, float32(math.Copysign(0, -1)), 0.625, -0.625, 0.62500006, -0.62500006,
		43.7, -43.7, 87.34, -87.34, 1e9, -1e9, inf, -inf, nan}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, f := range []struct {
		name       string
		avx2, a512 func(p *float32, n int)
	}{{"sigmoid", sigmoid256, sigmoid512}, {"tanh", tanh256, tanh512}} {
		for _, n := range []int{8, 16, 24, 40, 136, 512} {
			x := make([]float32, n+8)
			for j := range x {
				x[j] = float32(rng.NormFloat64() * 4)
			}
			for j, v := range special {
				x[(j*7)%n] = v
			}
			a, b := append([]float32(nil), x...), append([]float32(nil), x...)
			f.avx2(&a[0], n)
			f.a512(&b[0], n)
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) && !(a[j] != a[j] && b[j] != b[j]) {
					t.Fatalf("%s, n %d: [%d] %v → %v with AVX-512, %v with AVX2", f.name, n, j, x[j], b[j], a[j])
				}
				if j >= n && math.Float32bits(b[j]) != math.Float32bits(x[j]) {
					t.Fatalf("%s, n %d: [%d] written past n", f.name, n, j)
				}
			}
		}
	}
}

// TestCell512MatchesAVX2 checks that the AVX-512 LSTM cell update is
// bitwise the AVX2 one, over lengths with and without a last eight, and
// that it writes nothing past n.
func TestCell512MatchesAVX2(t *testing.T) {
	if !AVX2 || !useAVX512 {
		t.Skip("no AVX-512F on this CPU: nothing to compare")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{8, 16, 24, 40, 128, 136} {
		stride := n + 8
		g := make([]float32, 4*stride)
		for j := range g {
			g[j] = float32(rng.Float64()) // activated gates: i, f, o in (0, 1)
		}
		for j := 2 * stride; j < 3*stride; j++ {
			g[j] = 2*g[j] - 1 // g in (−1, 1)
		}
		cprev := make([]float32, n)
		for j := range cprev {
			cprev[j] = float32(rng.NormFloat64() * 3)
		}
		cprev[0], g[1] = float32(math.NaN()), float32(math.Inf(1))
		var out [2][2][]float32 // [loop][c, h]
		for l, f := range []func(g *float32, stride int, cprev, c, h *float32, n int){cell256, cell512} {
			c, h := make([]float32, n+8), make([]float32, n+8)
			for j := n; j < n+8; j++ {
				c[j], h[j] = -7, -7
			}
			f(&g[0], stride, &cprev[0], &c[0], &h[0], n)
			out[l] = [2][]float32{c, h}
		}
		for k, name := range []string{"c", "h"} {
			a, b := out[0][k], out[1][k]
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) && !(a[j] != a[j] && b[j] != b[j]) {
					t.Fatalf("n %d: %s[%d] = %v with AVX-512, %v with AVX2", n, name, j, b[j], a[j])
				}
				if j >= n && b[j] != -7 {
					t.Fatalf("n %d: %s[%d] written past n", n, name, j)
				}
			}
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

// BenchmarkGates times Sigmoid and Tanh on a row of 512 gate values (an
// LSTM step's four gates at hidden size 128).
func BenchmarkGates(b *testing.B) {
	x := make([]float32, 512)
	for j := range x {
		x[j] = float32(j%61)/6 - 5
	}
	p := make([]float32, len(x))
	for name, f := range map[string]func(p *float32, n int){"sigmoid": Sigmoid, "tanh": Tanh} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				copy(p, x)
				f(&p[0], len(p))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(p)), "ns/elem")
		})
	}
}
