package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sameBits reports the first element where a and b differ in any bit, or −1.
func sameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestKBlockParts computes C = Aᵀ·B (a sum over k = 3·KBlock + 40 rows
// with runs of zero rows) whole, and cut into products over parts of k
// (beta 0, then 1), each large enough for the blocked kernel: cut where
// the k blocks begin, with or without the zero rows, the numbers are bit
// for bit the whole product's; cut elsewhere, they are not (the control).
func TestKBlockParts(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		const m, n, k = 7, 19, 3*KBlock + 40
		rng := rand.New(rand.NewPCG(8, 9))
		a, b := make([]float32, k*m), make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		zero := func(p int) bool { return p%KBlock >= 40 && p%KBlock < 90 }
		for p := 0; p < k; p++ {
			if zero(p) {
				clear(a[p*m : (p+1)*m])
			}
		}
		whole := make([]float32, m*n)
		Sgemm(true, false, m, n, k, 1, a, m, b, n, 0, whole, n)
		cut := func(bounds []int, skipZero bool) []float32 {
			c := make([]float32, m*n)
			var beta float32
			for i := 0; i+1 < len(bounds); i++ {
				var pa, pb []float32
				for p := bounds[i]; p < bounds[i+1]; p++ {
					if !skipZero || !zero(p) {
						pa, pb = append(pa, a[p*m:(p+1)*m]...), append(pb, b[p*n:(p+1)*n]...)
					}
				}
				Sgemm(true, false, m, n, len(pa)/m, 1, pa, m, pb, n, beta, c, n)
				beta = 1
			}
			return c
		}
		atBlocks := []int{0, KBlock, 2 * KBlock, 3 * KBlock, k}
		for _, skip := range []bool{false, true} {
			if i := sameBits(cut(atBlocks, skip), whole); i >= 0 {
				t.Errorf("cut at the k blocks (zero rows left out: %v): element %d differs", skip, i)
			}
		}
		if sameBits(cut([]int{0, KBlock / 2, k}, false), whole) < 0 {
			t.Error("control: a cut inside a k block gives the same bits")
		}
	})
}

// TestDirectPath checks Direct against the results: a product it calls
// direct runs the plain loop, which differs here from the blocked FMA
// kernel that SerialPacked runs (the pure-Go kernel rounds as the plain
// loop); the next larger one gives the blocked kernel's bits.
func TestDirectPath(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(10, 11))
		for _, k := range []int{smallWork/16 - 1, smallWork / 16} {
			const m, n = 1, 16
			a, b := make([]float32, m*k), make([]float32, k*n)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			c, packed := make([]float32, m*n), make([]float32, m*n)
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			SerialPacked(false, m, 1, a, k, PackB(nil, false, k, n, b, n), 0, packed, n)
			differs := sameBits(c, packed) >= 0
			switch {
			case !Direct(m, n, k) && differs:
				t.Errorf("k %d: not direct, but Sgemm and SerialPacked differ", k)
			case Direct(m, n, k) && useAsm && !differs: // the FMA kernel rounds once per multiply-add
				t.Errorf("control: k %d: direct, but the plain loop gives the blocked kernel's bits", k)
			}
		}
	})
}
