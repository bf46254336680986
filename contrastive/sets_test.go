package contrastive

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

// handBank is a bank with d = 1 (r is 3 wide) whose cosines are easy to
// work out by hand:
//
//	i  label  class  r           direction
//	0   0.4     0    (1,0,0)     x
//	1  −0.5     0    (1,0,0)     x        (half to even: −0.5 → 0)
//	2   0.5     0    (0,1,0)     y        (0.5 → 0)
//	3   0.0     0    (2,0,0)     x
//	4   1.5     2    (1,1,0)     (x+y)/√2 (1.5 → 2)
//	5   2.5     2    (−1,0,0)    −x       (2.5 → 2)
//	6  −3.7    −3    (0,0,1)     z        (clipped, only member)
//	7   1.0     1    (1,0,1)     (x+z)/√2 (only member)
func handBank(t *testing.T) *Bank {
	t.Helper()
	labels := []float32{0.4, -0.5, 0.5, 0, 1.5, 2.5, -3.7, 1}
	rs := [][]float32{{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {2, 0, 0}, {1, 1, 0}, {-1, 0, 0}, {0, 0, 1}, {1, 0, 1}}
	b, err := NewBank(len(labels), 1, labels)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if err := b.Set(i, r, []float32{0}, []float32{0}, []float32{0}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestSetsHand(t *testing.T) {
	b := handBank(t)
	cases := []struct {
		k         int
		sim, diff [][]int
	}{
		{
			// similar, class 0 = {0,1,2,3}:
			//   0: cos 1 with 1 and 3 (tie → 1 first), 0 with 2          → [1 3]
			//   1: cos 1 with 0 and 3, 0 with 2                          → [0 3]
			//   2: cos 0 with 0, 1, 3 (three-way tie → lowest indices)   → [0 1]
			//   3: cos 1 with 0 and 1                                    → [0 1]
			// class 2 = {4,5}: one candidate each; classes −3 and 1: none.
			// different (lowest cos among other classes):
			//   0: 4 → 1/√2, 5 → −1, 6 → 0, 7 → 1/√2                     → [5 6]
			//   1, 3: same directions as 0                               → [5 6]
			//   2 = y: 4 → 1/√2, 5 → 0, 6 → 0, 7 → 0 (tie → 5, 6)        → [5 6]
			//   4: 0,1,2,3 → 1/√2 (up to rounding), 6 → 0, 7 → 1/2       → [6 7]
			//   5 = −x: 0,1,3 → −1, 7 → −1/√2, 2, 6 → 0                  → [0 1]
			//   6 = z: 0..5 → 0, 7 → 1/√2                                → [0 1]
			//   7: 5 → −1/√2, 2 → 0, 4 → 1/2, 0,1,3,6 → 1/√2             → [5 2]
			k:    2,
			sim:  [][]int{{1, 3}, {0, 3}, {0, 1}, {0, 1}, {5}, {4}, {}, {}},
			diff: [][]int{{5, 6}, {5, 6}, {5, 6}, {5, 6}, {6, 7}, {0, 1}, {0, 1}, {5, 2}},
		},
		{
			k:    1,
			sim:  [][]int{{1}, {0}, {0}, {0}, {5}, {4}, {}, {}},
			diff: [][]int{{5}, {5}, {5}, {5}, {6}, {0}, {0}, {5}},
		},
		{
			// k larger than every candidate list: all candidates, ranked.
			//   diff(0): 5 (−1), 6 (0), then 4 and 7 tied at 1/√2.
			//   diff(5): 0, 1, 3 (−1), 7 (−1/√2), 2, 6 (0).
			//   diff(6): 0..5 tied at 0, then 7.
			//   diff(2): 5, 6, 7 tied at 0, then 4.
			k:   10,
			sim: [][]int{{1, 3, 2}, {0, 3, 2}, {0, 1, 3}, {0, 1, 2}, {5}, {4}, {}, {}},
			diff: [][]int{
				{5, 6, 4, 7}, {5, 6, 4, 7}, {5, 6, 7, 4}, {5, 6, 4, 7},
				nil, {0, 1, 3, 7, 2, 6}, {0, 1, 2, 3, 4, 5, 7}, nil,
			},
		},
	}
	for _, c := range cases {
		sim, diff, err := b.Sets(c.k)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.sim {
			if !sameInts(sim[i], c.sim[i]) {
				t.Errorf("k=%d: similar(%d) = %v, want %v", c.k, i, sim[i], c.sim[i])
			}
			// nil marks rows whose full ranking has near-ties that depend on
			// rounding (cosines 1/√2 computed from different vectors).
			if c.diff[i] != nil && !sameInts(diff[i], c.diff[i]) {
				t.Errorf("k=%d: different(%d) = %v, want %v", c.k, i, diff[i], c.diff[i])
			}
		}
	}
}

// sameInts compares two index lists, treating nil and empty as equal.
func sameInts(a, b []int) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func TestSetsErrors(t *testing.T) {
	b, err := NewBank(3, 2, []float32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Sets(2); err == nil {
		t.Error("Sets on an unfilled bank returned no error")
	}
	for i := range 3 {
		if err := b.Set(i, make([]float32, 6), make([]float32, 2), make([]float32, 2), make([]float32, 2)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := b.Sets(0); err == nil {
		t.Error("Sets(0) returned no error")
	}
}

// TestSetsZeroVectors checks the 1e-8 floor on the norms: zero vectors have
// cosine 0 with everything, so every set is decided by index.
func TestSetsZeroVectors(t *testing.T) {
	b, err := NewBank(4, 1, []float32{0, 0, 0, 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := b.Set(i, make([]float32, 3), []float32{0}, []float32{0}, []float32{0}); err != nil {
			t.Fatal(err)
		}
	}
	sim, diff, err := b.Sets(5)
	if err != nil {
		t.Fatal(err)
	}
	wantSim := [][]int{{1, 2}, {0, 2}, {0, 1}, {}}
	wantDiff := [][]int{{3}, {3}, {3}, {0, 1, 2}}
	for i := range 4 {
		if !sameInts(sim[i], wantSim[i]) || !sameInts(diff[i], wantDiff[i]) {
			t.Errorf("row %d: similar %v different %v, want %v %v", i, sim[i], diff[i], wantSim[i], wantDiff[i])
		}
	}
}

// bruteCos is cos(a, b) of SPEC §4 written out directly: products rounded to
// float64 one at a time and summed in feature order.
func bruteCos(a, b []float32) float64 {
	var ab, aa, bb float64
	for c := range a {
		x, y := float64(a[c]), float64(b[c])
		ab += float64(x * y)
		aa += float64(x * x)
		bb += float64(y * y)
	}
	return ab / (max(math.Sqrt(aa), 1e-8) * max(math.Sqrt(bb), 1e-8))
}

// bruteSets ranks every candidate with a full stable sort.
func bruteSets(rs [][]float32, classes []int, k int) (sim, diff [][]int) {
	n := len(rs)
	sim, diff = make([][]int, n), make([][]int, n)
	for i := range n {
		type cand struct {
			cos float64
			j   int
		}
		var same, other []cand
		for j := range n {
			if j == i {
				continue
			}
			c := cand{bruteCos(rs[i], rs[j]), j}
			if classes[i] == classes[j] {
				same = append(same, c)
			} else {
				other = append(other, c)
			}
		}
		// Candidates are in index order, so a stable sort on the cosine
		// alone breaks ties by lower index.
		sort.SliceStable(same, func(a, b int) bool { return same[a].cos > same[b].cos })
		sort.SliceStable(other, func(a, b int) bool { return other[a].cos < other[b].cos })
		for q := 0; q < len(same) && q < k; q++ {
			sim[i] = append(sim[i], same[q].j)
		}
		for q := 0; q < len(other) && q < k; q++ {
			diff[i] = append(diff[i], other[q].j)
		}
	}
	return sim, diff
}

// randomBank fills a bank of n samples with width d from a seeded source:
// labels uniform in [−3.5, 3.5] (each class covers a width of 1),
// retrieval vectors normal, and every 7th row a copy of an earlier row scaled
// by 2 (exactly the same cosines, so exact ties occur).
func randomBank(tb testing.TB, n, d int, seed int64) (*Bank, [][]float32) {
	tb.Helper()
	rng := rand.New(rand.NewSource(seed))
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.Float64()*7 - 3.5)
	}
	b, err := NewBank(n, d, labels)
	if err != nil {
		tb.Fatal(err)
	}
	rs := make([][]float32, n)
	s := make([]float32, d)
	for i := range rs {
		rs[i] = make([]float32, 3*d)
		for c := range rs[i] {
			if i%7 == 6 {
				rs[i][c] = 2 * rs[i/2][c]
			} else {
				rs[i][c] = float32(rng.NormFloat64())
			}
		}
		if err := b.Set(i, rs[i], s, s, s); err != nil {
			tb.Fatal(err)
		}
	}
	return b, rs
}

func TestSetsBruteForce(t *testing.T) {
	// 301 rows: not a multiple of the 4-anchor kernel or of the 64-row blocks.
	const n, d = 301, 5
	b, rs := randomBank(t, n, d, 7)
	classes := make([]int, n)
	for i := range classes {
		row, err := b.Row(i)
		if err != nil {
			t.Fatal(err)
		}
		classes[i] = row.Class
	}
	// k = 60 exceeds the size of every class (≈ 301/7 ≈ 43 members).
	for _, k := range []int{1, 3, 10, 60} {
		sim, diff, err := b.Sets(k)
		if err != nil {
			t.Fatal(err)
		}
		wantSim, wantDiff := bruteSets(rs, classes, k)
		for i := range n {
			if !sameInts(sim[i], wantSim[i]) {
				t.Fatalf("k=%d: similar(%d) = %v, want %v", k, i, sim[i], wantSim[i])
			}
			if !sameInts(diff[i], wantDiff[i]) {
				t.Fatalf("k=%d: different(%d) = %v, want %v", k, i, diff[i], wantDiff[i])
			}
		}
	}
}

// BenchmarkSets times one epoch's set refresh at the MOSI and MOSEI training
// sizes with d = 128 (3d = 384) and their k_cl.
func BenchmarkSets(b *testing.B) {
	for _, c := range []struct {
		name string
		n, k int
	}{{"MOSI", 1284, 10}, {"MOSEI", 16326, 50}} {
		b.Run(fmt.Sprintf("%s/N=%d", c.name, c.n), func(b *testing.B) {
			bank, _ := randomBank(b, c.n, 128, 1)
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := bank.Sets(c.k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleBank_Sets() {
	// Three class-0 samples and one class-2 sample, d = 1.
	bank, _ := NewBank(4, 1, []float32{0.2, -0.3, 0, 2.2})
	zero := []float32{0}
	_ = bank.Set(0, []float32{1, 0, 0}, zero, zero, zero)
	_ = bank.Set(1, []float32{1, 1, 0}, zero, zero, zero)
	_ = bank.Set(2, []float32{0, 1, 0}, zero, zero, zero)
	_ = bank.Set(3, []float32{-1, 0, 0}, zero, zero, zero)
	similar, different, _ := bank.Sets(1)
	fmt.Println(similar)
	fmt.Println(different)
	// Output:
	// [[1] [0] [1] []]
	// [[3] [3] [3] [0]]
}
