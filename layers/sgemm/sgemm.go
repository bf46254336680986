package sgemm

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/fdcmdie/fdcmdie/internal/par"
)

// Blocking parameters. A micro-tile of C is mr×nr; a packed block of op(A)
// is at most mc×kc (kept in L2), a packed block of op(B) at most kc×nc.
// The k blocks start at multiples of kc whatever the split between
// goroutines, which keeps the summation order of every element fixed.
const (
	mr = 6
	nr = 16
	kc = 256
	mc = 144 // multiple of mr
	nc = 1024
)

// smallWork is the m·n·k below which the packed path costs more than it
// saves and a plain triple loop is used.
const smallWork = 4096

// parallelWork is the m·n·k below which the product runs on one goroutine.
const parallelWork = 1 << 18

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k (A is m×k with row stride lda, or k×m if tA), op(B) is
// k×n (B is k×n with row stride ldb, or n×k if tB) and C is m×n with row
// stride ldc. It has the semantics of the row-major BLAS Sgemm (gonum's
// Implementation.Sgemm with blas.NoTrans/blas.Trans): when beta is zero, C
// is not read, so NaNs in it are overwritten.
//
// Like gonum's BLAS, it panics when a dimension is negative, a leading
// dimension is too small, or a slice is too short: these are programming
// errors of the caller, not data errors.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	product(runtime.GOMAXPROCS(0), tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// Serial is Sgemm on the calling goroutine alone, for callers that already
// run several products side by side. Its results are bitwise those of
// Sgemm.
func Serial(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	product(1, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// Linear is a linear layer's forward product: C = A·op(B) + bias, bias
// (n floats; nil: none) added to every row, where A is m×k (row stride lda), op(B)
// k×n as in Sgemm, and C m×n (row stride ldc); or with rows not nil, on
// those rows of A and C as OnRows (m is then len(rows)). serial runs it
// on the calling goroutine. The bias is added in the micro-kernel as each
// tile is stored: bitwise Sgemm (or OnRows) with alpha 1 and beta 0
// followed by a float32 addition of bias to each row, without a second
// pass over C.
func Linear(serial, tB bool, rows []int, m, n, k int, a []float32, lda int, b []float32, ldb int, bias, c []float32, ldc int) {
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("sgemm: len(bias)=%d < n=%d", len(bias), n))
	}
	workers := runtime.GOMAXPROCS(0)
	if serial {
		workers = 1
	}
	if rows != nil {
		onRows(workers, tB, rows, n, k, 1, a, lda, b, ldb, 0, c, ldc, bias)
		return
	}
	product(workers, false, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, bias)
}

// addBias adds bias to each of the m rows of C (m×n, row stride ldc): the
// bias of a product that does not reach the micro-kernel.
func addBias(m, n int, bias, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			row[j] += bias[j]
		}
	}
}

// product is Sgemm on at most workers goroutines, with bias (nil: none)
// added to each row of C as Linear does.
func product(workers int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	checkDims(m, n, k)
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	checkMatrix("b", b, br, bc, ldb)
	if trivial(tA, m, n, k, alpha, a, lda, beta, c, ldc) {
		if bias != nil {
			addBias(m, n, bias, c, ldc)
		}
		return
	}
	if m*n*k < smallWork {
		naive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		if bias != nil {
			addBias(m, n, bias, c, ldc)
		}
		return
	}
	// Split the larger of m and n into whole micro-tiles, one chunk per
	// goroutine; each goroutine packs the part of A or B it needs.
	splitM, dim, tile := larger(m, n)
	workers, chunk := parts(workers, m, n, k, dim, tile)
	if workers <= 1 {
		serial(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
		return
	}
	par.Fork(workers, func(w int) {
		lo, hi := chunk(w)
		if splitM {
			aOff := lo * lda
			if tA {
				aOff = lo
			}
			serial(tA, tB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc, bias)
			return
		}
		bOff := lo
		if tB {
			bOff = lo * ldb
		}
		var bs []float32
		if bias != nil {
			bs = bias[lo:]
		}
		serial(tA, tB, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc, bs)
	})
}

// larger returns whether a product splits its m×n result along m (the
// larger of the two, or either) rather than n, and that dimension with its
// micro-tile size.
func larger(m, n int) (splitM bool, dim, tile int) {
	if m >= n {
		return true, m, mr
	}
	return false, n, nr
}

// parts returns how many goroutines an m×n×k product runs on (at most
// workers, one below parallelWork, none without a tile each) when dim, m
// or n, is cut into whole tiles, and the range [lo, hi) of dim that
// goroutine w takes (never empty).
func parts(workers, m, n, k, dim, tile int) (int, func(w int) (lo, hi int)) {
	if m*n*k < parallelWork {
		workers = 1
	}
	tiles := (dim + tile - 1) / tile
	workers = min(workers, tiles)
	return workers, func(w int) (int, int) {
		return tiles * w / workers * tile, min(tiles*(w+1)/workers*tile, dim)
	}
}

// checkDims panics on a negative dimension.
func checkDims(m, n, k int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
}

// trivial checks op(A) and C, and carries out the products that need no
// multiplication (an empty C, k = 0 or alpha = 0); it reports whether the
// product is done.
func trivial(tA bool, m, n, k int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) bool {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	checkMatrix("a", a, ar, ac, lda)
	checkMatrix("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return true
	}
	return false
}

// checkMatrix panics unless s holds a rows×cols row-major matrix with row
// stride ld.
func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("sgemm: ld%s=%d < max(1, %d)", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("sgemm: len(%s)=%d too short for %d×%d with stride %d", name, len(s), rows, cols, ld))
	}
}

// scale sets C = beta·C; beta = 0 writes zeros without reading C.
func scale(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// naive is the direct triple loop used for tiny products. Each element of
// C is one float32 sum over p in order, as a plain loop computes it; four
// elements of a row are summed side by side, independent chains the CPU
// overlaps.
func naive(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sa, sk := lda, 1 // strides of op(A) along i and p
	if tA {
		sa, sk = 1, lda
	}
	sbk, sbj := ldb, 1 // strides of op(B) along p and j
	if tB {
		sbk, sbj = 1, ldb
	}
	put := func(idx int, s float32) {
		if beta == 0 {
			c[idx] = alpha * s
		} else {
			c[idx] = alpha*s + beta*c[idx]
		}
	}
	for i := 0; i < m; i++ {
		j := 0
		for ; j+4 <= n; j += 4 {
			var s0, s1, s2, s3 float32
			for p := 0; p < k; p++ {
				av := a[i*sa+p*sk]
				q := p*sbk + j*sbj
				s0 += av * b[q]
				s1 += av * b[q+sbj]
				s2 += av * b[q+2*sbj]
				s3 += av * b[q+3*sbj]
			}
			put(i*ldc+j, s0)
			put(i*ldc+j+1, s1)
			put(i*ldc+j+2, s2)
			put(i*ldc+j+3, s3)
		}
		for ; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*sa+p*sk] * b[p*sbk+j*sbj]
			}
			put(i*ldc+j, s)
		}
	}
}

// buffers holds one goroutine's packing space.
type buffers struct {
	a [mc * kc]float32
	b [kc * nc]float32
}

var bufPool = sync.Pool{New: func() any { return new(buffers) }}

// serial runs the blocked product on the calling goroutine.
func serial(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	buf := bufPool.Get().(*buffers)
	defer bufPool.Put(buf)
	inPlaceB := !tB && m <= inPlaceRows
	blocked(m, n, k, alpha, beta, cMatrix{c, ldc, nil}, &buf.a, inPlaceFor(n, a, lda, tA), bias, func(dst []float32, ic, mb, pc, kb int) {
		packA(dst, tA, a, lda, ic, mb, pc, kb)
	}, func(pc, kb, jc, nb int) bBlock {
		if !inPlaceB {
			packB(buf.b[:], tB, b, ldb, pc, kb, jc, nb)
			return bBlock{packed: buf.b[:], kb: kb}
		}
		full := nb / nr * nr
		if full < nb {
			packB(buf.b[full*kb:], false, b, ldb, pc, kb, jc+full, nb-full)
		}
		return bBlock{packed: buf.b[:], kb: kb, at: b[pc*ldb+jc:], ld: ldb, full: full}
	})
}

// inPlaceRows is the most rows of C for which the micro-kernel reads an
// untransposed B's full column tiles where they lie instead of from
// packed panels: packing B pays for itself only over many rows, each
// packed float taking part in two flops per row (BenchmarkInPlace: a
// weight gradient of width 128 over 16000 rows, attention's products of
// three global tokens).
var inPlaceRows = 144

// bBlock is a k block of op(B), kb steps, as the micro-kernel reads it:
// its column tile from column jr of the block on is read in place, at
// at[jr:] with k steps ld floats apart, for jr below full (whole tiles
// of an untransposed B), else packed, at packed[jr·kb:] as packB lays it
// out.
type bBlock struct {
	packed   []float32
	kb       int
	at       []float32
	ld, full int
}

// panel returns the column tile of b from column jr on and its k step
// stride, as microKernel takes them.
func (b bBlock) panel(jr int) ([]float32, int) {
	if jr < b.full {
		return b.at[jr:], b.ld
	}
	return b.packed[jr*b.kb:], nr
}

// inPlaceTiles is the most column tiles of C for which the micro-kernel
// reads op(A) where it lies instead of from packed panels: packing pays
// for itself only over several tiles. A transposed A (Xᵀ in a weight
// gradient Xᵀ·dY) is read in place up to inPlaceTransposed tiles: its
// packing copies runs of six floats, each k step on new cache lines, and
// the kernel prefetches those lines itself (a layer of width 128's weight
// gradient over 16000 rows, one core: 55–62 GFLOP/s packed, 64–67 with A
// alone read in place).
var inPlaceTiles, inPlaceTransposed = 2, 8

// inPlace is op(A) (A with row stride lda, transposed if tA) for the
// micro-kernel to read where it lies, or, with a nil, none: op(A) is
// packed.
type inPlace struct {
	a   []float32
	lda int
	tA  bool
}

// inPlaceFor is op(A) to read in place in a product n columns wide, or
// none.
func inPlaceFor(n int, a []float32, lda int, tA bool) inPlace {
	if tiles := (n + nr - 1) / nr; tiles <= inPlaceTiles || tA && tiles <= inPlaceTransposed {
		return inPlace{a, lda, tA}
	}
	return inPlace{}
}

// panel returns op(A) from row i and column p on, with the strides of its
// rows and columns, as microKernel takes them.
func (d inPlace) panel(i, p int) (ap []float32, rs, ps int) {
	if d.tA {
		return d.a[p*d.lda+i:], 1, d.lda
	}
	return d.a[i*d.lda+p:], d.lda, 1
}

// cMatrix is C, of row stride ld in s: its row i is row i of s,
// or row at[i] of s when at is set.
type cMatrix struct {
	s  []float32
	ld int
	at []int
}

// row returns the offset in s of row i.
func (r cMatrix) row(i int) int {
	if r.at != nil {
		return r.at[i] * r.ld
	}
	return i * r.ld
}

// together reports whether rows i..i+n-1 are n consecutive rows of s.
func (r cMatrix) together(i, n int) bool {
	return r.at == nil || r.at[i+n-1]-r.at[i] == n-1
}

// run returns how many of the next tiles (at most tiles) from row i lie
// one under the other in C, whole: all of them when C's rows are its own.
func (r cMatrix) run(i, tiles int) int {
	if r.at == nil {
		return tiles
	}
	n := 1
	for n < tiles && r.together(i+n*mr, mr) && r.row(i+n*mr) == r.row(i)+n*mr*r.ld {
		n++
	}
	return n
}

// blocked is the blocked product given the packing of op(A) and op(B):
// packA(dst, ic, mb, pc, kb) packs op(A)[ic:ic+mb, pc:pc+kb] into dst as
// packA lays it out, and packedB(pc, kb, jc, nb) returns op(B)[pc:pc+kb,
// jc:jc+nb] as the kernel reads it. Where at holds op(A), the full mr-row
// panels are read in place and only a last partial one is packed. bias,
// unless nil, is added to each row of C as the last k block stores it. With
// beta zero the first k block stores its products instead of adding them
// to C: the same numbers (alpha·acc + 0 rounds like alpha·acc) without a
// pass that clears C.
func blocked(m, n, k int, alpha, beta float32, c cMatrix, abuf *[mc * kc]float32, at inPlace, bias []float32, packA func(dst []float32, ic, mb, pc, kb int), packedB func(pc, kb, jc, nb int) bBlock) {
	if beta != 0 {
		for i := 0; i < m; i++ {
			scale(1, n, beta, c.s[c.row(i):], c.ld)
		}
	}
	var edge [mr * nr]float32
	var edgeBias [nr]float32
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			store := beta == 0 && pc == 0
			withBias := bias != nil && pc+kb == k
			blk := packedB(pc, kb, jc, nb)
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				inPlace := 0 // rows of the block read in place
				if at.a != nil {
					inPlace = mb / mr * mr
				}
				if inPlace < mb {
					packA(abuf[:], ic+inPlace, mb-inPlace, pc, kb)
				}
				for jr := 0; jr < nb; jr += nr {
					bp, bs := blk.panel(jr)
					cols := min(nr, nb-jr)
					var tb []float32 // the tile's bias
					if withBias && cols == nr {
						tb = bias[jc+jr : jc+jr+nr]
					} else if withBias {
						edgeBias = [nr]float32{}
						copy(edgeBias[:], bias[jc+jr:jc+jr+cols])
						tb = edgeBias[:]
					}
					for ir := 0; ir < mb; {
						var ap []float32
						rs, ps, step := 1, mr, mr*kb // the next tile's A: step floats on
						if ir < inPlace {
							ap, rs, ps = at.panel(ic+ir, pc)
							step = mr * rs
						} else {
							ap = abuf[(ir-inPlace)*kb:]
						}
						rows := min(mr, mb-ir)
						i := ic + ir
						if rows == mr && cols == nr && c.together(i, mr) {
							// A run of full tiles whose rows follow one
							// another in C, in one call.
							n := c.run(i, (mb-ir)/mr)
							microKernel(n, kb, ap, rs, ps, step, bp, bs, c.s[c.row(i)+jc+jr:], c.ld, alpha, store, tb)
							ir += n * mr
							continue
						}
						// Partial tile, or rows apart: run the same kernel
						// on a copy so the arithmetic matches a full tile
						// exactly.
						if !store {
							for r := 0; r < rows; r++ {
								off := c.row(i+r) + jc + jr
								copy(edge[r*nr:r*nr+cols], c.s[off:off+cols])
							}
						}
						microKernel(1, kb, ap, rs, ps, 0, bp, bs, edge[:], nr, alpha, store, tb)
						for r := 0; r < rows; r++ {
							off := c.row(i+r) + jc + jr
							copy(c.s[off:off+cols], edge[r*nr:r*nr+cols])
						}
						ir += mr
					}
				}
			}
		}
	}
}

// PackedB is a k×n right-hand operand op(B) packed once for many products
// with it (a recurrent weight multiplied at every time step).
type PackedB struct {
	k, n int
	data []float32
	off  map[[2]int]int // (pc, jc) → start of that block in data
}

// PackB packs op(B) (B is k×n with row stride ldb, or n×k if tB) into p,
// reusing p's memory when it is large enough, and returns p (a new
// PackedB when p is nil).
func PackB(p *PackedB, tB bool, k, n int, b []float32, ldb int) *PackedB {
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	checkMatrix("b", b, br, bc, ldb)
	if p == nil {
		p = &PackedB{}
	}
	p.k, p.n = k, n
	if p.off == nil {
		p.off = map[[2]int]int{}
	}
	clear(p.off)
	size := 0
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			p.off[[2]int{pc, jc}] = size
			size += (nb + nr - 1) / nr * nr * min(kc, k-pc)
		}
	}
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			packB(p.data[p.off[[2]int{pc, jc}]:], tB, b, ldb, pc, min(kc, k-pc), jc, nb)
		}
	}
	return p
}

// SerialPacked is Serial with op(B) given packed: C = alpha·op(A)·B +
// beta·C with op(A) m×k and B = pb (k×n). Its results are bitwise those of
// Serial with the unpacked B, except for products under smallWork, which
// Serial computes with a plain loop.
func SerialPacked(tA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	k, n := pb.k, pb.n
	checkDims(m, n, k)
	if trivial(tA, m, n, k, alpha, a, lda, beta, c, ldc) {
		return
	}
	buf := bufPool.Get().(*buffers)
	defer bufPool.Put(buf)
	blocked(m, n, k, alpha, beta, cMatrix{c, ldc, nil}, &buf.a, inPlaceFor(n, a, lda, tA), nil, func(dst []float32, ic, mb, pc, kb int) {
		packA(dst, tA, a, lda, ic, mb, pc, kb)
	}, func(pc, kb, jc, _ int) bBlock {
		return bBlock{packed: pb.data[pb.off[[2]int{pc, jc}]:], kb: kb}
	})
}

// kernGo is the portable micro-kernel: microKernel's arithmetic, one tile
// after the other.
func kernGo(panels, kb int, ap []float32, rs, ps, aStep int, bp []float32, bs int, c []float32, ldc int, alpha float32, store bool, bias []float32) {
	for p := 0; p < panels; p++ {
		kernTileGo(kb, ap[p*aStep:], rs, ps, bp, bs, c[p*mr*ldc:], ldc, alpha, store, bias)
	}
}

// kernTileGo computes one tile: C[0:mr, 0:nr] += alpha · A · B, or with
// store C = alpha · A · B, with A's element (r, p) at ap[r·rs+p·ps]
// (packA's panels: rs 1, ps mr) and B's k step p the nr floats at
// bp[p·bs] (packB's panels: bs nr); then, unless bias is nil, C's rows +=
// bias[0:nr].
func kernTileGo(kb int, ap []float32, rs, ps int, bp []float32, bs int, c []float32, ldc int, alpha float32, store bool, bias []float32) {
	var acc [mr * nr]float32
	for p := 0; p < kb; p++ {
		bRow := bp[p*bs : p*bs+nr : p*bs+nr]
		for r := 0; r < mr; r++ {
			av := ap[r*rs+p*ps]
			row := acc[r*nr : r*nr+nr : r*nr+nr]
			for j, bv := range bRow {
				row[j] += av * bv
			}
		}
	}
	for r := 0; r < mr; r++ {
		cRow := c[r*ldc : r*ldc+nr]
		for j := range cRow {
			if store {
				cRow[j] = alpha * acc[r*nr+j]
			} else {
				cRow[j] += alpha * acc[r*nr+j]
			}
			if bias != nil {
				cRow[j] += bias[j]
			}
		}
	}
}

// Accelerated reports whether Sgemm runs on the AVX2/FMA assembly kernels,
// and where the CPU has AVX-512F the AVX-512 one (false: the portable
// pure-Go kernel).
func Accelerated() bool { return useAsm }
