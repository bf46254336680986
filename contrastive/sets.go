package contrastive

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/fdcmdie/fdcmdie/layers"
)

// Tiling of the all-pairs cosine pass in Sets: each worker takes rowBlock
// anchors at a time and sweeps the candidates in tiles of colBlock rows, so
// that both the anchors and the current tile (rowBlock·3d and colBlock·3d
// float64 values, 192 KiB each for 3d = 384) stay in cache while every
// candidate is read once per four anchors.
const (
	rowBlock = 64
	colBlock = 64
)

// normEps is the lower bound on a vector norm in cos (SPEC §4).
const normEps = 1e-8

// Sets builds the sample sets of SPEC §4 from the bank's retrieval vectors:
// similar[i] holds the k samples j ≠ i of i's class with the highest
// cos(r_i, r_j), in decreasing order of cosine, and different[i] the k
// samples of any other class with the lowest cos(r_i, r_j), in increasing
// order of cosine. Equal cosines go to the lower sample index (which also
// comes first in the set). A set with fewer than k candidates takes them all;
// a class with a single member has an empty similar set.
//
// The cosines are cos(a, b) = a·b / (max(|a|, 1e-8)·max(|b|, 1e-8)) in float64
// (the float32 features are widened exactly; every dot product and squared
// norm is summed in feature order, so cos(r_i, r_j) = cos(r_j, r_i) bit for
// bit). The pass costs O(N²·3d); it runs on GOMAXPROCS goroutines over blocks
// of anchors and keeps each set in a k-bounded heap. Every row must have been
// written (Filled).
func (b *Bank) Sets(k int) (similar, different [][]int, err error) {
	if k < 1 {
		return nil, nil, fmt.Errorf("contrastive: bank: Sets: k = %d, want ≥ 1", k)
	}
	if !b.Filled() {
		return nil, nil, fmt.Errorf("contrastive: bank: Sets: only %d of %d rows written", b.filled, b.n)
	}
	n, w := b.n, 3*b.d
	x := layers.Convert[float64](b.r)
	norms := make([]float64, n)
	for i := range norms {
		xi := x[i*w : (i+1)*w]
		norms[i] = max(math.Sqrt(dot(xi, xi)), normEps)
	}

	similar = make([][]int, n)
	different = make([][]int, n)
	simBuf := make([]int, n*k)
	diffBuf := make([]int, n*k)
	for i := range similar {
		similar[i] = simBuf[i*k : i*k : (i+1)*k]
		different[i] = diffBuf[i*k : i*k : (i+1)*k]
	}

	p := &pass{x: x, norms: norms, classes: b.classes, n: n, w: w}
	workers := min(runtime.GOMAXPROCS(0), (n+rowBlock-1)/rowBlock)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sim := make([]topK, rowBlock)
			diff := make([]topK, rowBlock)
			for h := range sim {
				sim[h].items = make([]scored, 0, k)
				diff[h].items = make([]scored, 0, k)
			}
			for {
				i0 := int(next.Add(rowBlock)) - rowBlock
				if i0 >= n {
					return
				}
				i1 := min(i0+rowBlock, n)
				p.block(i0, i1, sim, diff)
				for i := i0; i < i1; i++ {
					similar[i] = sim[i-i0].drain(similar[i])
					different[i] = diff[i-i0].drain(different[i])
				}
			}
		}()
	}
	wg.Wait()
	return similar, different, nil
}

// pass is the shared, read-only state of one Sets call.
type pass struct {
	x       []float64 // [N, w] retrieval vectors, widened to float64
	norms   []float64 // max(|r_i|, 1e-8)
	classes []int
	n, w    int
}

// block offers every candidate j to the heaps of the anchors i0 ≤ i < i1:
// sim[i−i0] when j has i's class, diff[i−i0] otherwise.
func (p *pass) block(i0, i1 int, sim, diff []topK) {
	for h := range i1 - i0 {
		sim[h].items = sim[h].items[:0]
		diff[h].items = diff[h].items[:0]
	}
	w := p.w
	row := func(i int) []float64 { return p.x[i*w : (i+1)*w : (i+1)*w] }
	offer := func(i, j int, dot float64) {
		if i == j {
			return
		}
		c := dot / (p.norms[i] * p.norms[j])
		if p.classes[i] == p.classes[j] {
			sim[i-i0].offer(scored{key: c, idx: j})
		} else {
			diff[i-i0].offer(scored{key: -c, idx: j})
		}
	}
	for j0 := 0; j0 < p.n; j0 += colBlock {
		j1 := min(j0+colBlock, p.n)
		i := i0
		for ; i+4 <= i1; i += 4 {
			x0, x1, x2, x3 := row(i), row(i+1), row(i+2), row(i+3)
			for j := j0; j < j1; j++ {
				c0, c1, c2, c3 := dot4(x0, x1, x2, x3, row(j))
				offer(i, j, c0)
				offer(i+1, j, c1)
				offer(i+2, j, c2)
				offer(i+3, j, c3)
			}
		}
		for ; i < i1; i++ {
			xi := row(i)
			for j := j0; j < j1; j++ {
				offer(i, j, dot(xi, row(j)))
			}
		}
	}
}

// dot returns Σ_c a[c]·b[c] summed in index order. The explicit float64
// conversion rounds each product, so no fused multiply-add changes the result
// from one platform to another.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for c, v := range a {
		s += float64(v * b[c])
	}
	return s
}

// dot4 returns the dot products of x0..x3 with y, each summed exactly as dot
// sums it; reading y once for four anchors is what makes Sets fast.
func dot4(x0, x1, x2, x3, y []float64) (c0, c1, c2, c3 float64) {
	n := len(y)
	x0, x1, x2, x3 = x0[:n], x1[:n], x2[:n], x3[:n]
	for c, v := range y {
		c0 += float64(x0[c] * v)
		c1 += float64(x1[c] * v)
		c2 += float64(x2[c] * v)
		c3 += float64(x3[c] * v)
	}
	return c0, c1, c2, c3
}

// scored is a candidate sample with its ranking key: cos for similar sets,
// −cos for different sets, so that a larger key is always better.
type scored struct {
	key float64
	idx int
}

// better reports whether a ranks before b: larger key, then lower index.
func (a scored) better(b scored) bool {
	return a.key > b.key || (a.key == b.key && a.idx < b.idx)
}

// topK keeps the cap(items) best candidates offered to it in a binary heap
// whose root is the worst one kept.
type topK struct {
	items []scored
}

// offer adds s if fewer than cap(items) candidates are kept or if s is better
// than the worst one kept, which it then replaces.
func (t *topK) offer(s scored) {
	h := t.items
	if len(h) < cap(h) {
		h = append(h, s)
		for c := len(h) - 1; c > 0; {
			p := (c - 1) / 2
			if !h[p].better(h[c]) {
				break
			}
			h[p], h[c] = h[c], h[p]
			c = p
		}
		t.items = h
		return
	}
	if !s.better(h[0]) {
		return
	}
	h[0] = s
	t.down(0)
}

// down restores the heap order below position p.
func (t *topK) down(p int) {
	h := t.items
	for {
		worst := p
		if c := 2*p + 1; c < len(h) && h[worst].better(h[c]) {
			worst = c
		}
		if c := 2*p + 2; c < len(h) && h[worst].better(h[c]) {
			worst = c
		}
		if worst == p {
			return
		}
		h[p], h[worst] = h[worst], h[p]
		p = worst
	}
}

// drain empties the heap and appends its sample indices to dst, best first.
func (t *topK) drain(dst []int) []int {
	m := len(t.items)
	dst = dst[:len(dst)+m]
	for r := m - 1; r >= 0; r-- {
		dst[len(dst)-m+r] = t.items[0].idx
		last := len(t.items) - 1
		t.items[0] = t.items[last]
		t.items = t.items[:last]
		t.down(0)
	}
	return dst
}
