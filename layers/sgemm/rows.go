package sgemm

import (
	"fmt"
	"runtime"

	"github.com/fdcmdie/fdcmdie/internal/par"
)

// OnRows is Sgemm on chosen rows of A and C: C[rows] = alpha·A[rows]·op(B)
// + beta·C[rows], where row i of the m×k product's left operand is row
// rows[i] of a (row stride lda) and row i of its m×n result is row rows[i]
// of c (row stride ldc), m = len(rows). The other rows of c are neither
// read nor written. rows must increase. It is the product of the real rows
// of a right-padded batch without copying them out and back: its results
// are bitwise Sgemm's on the rows copied out (and so do not depend on the
// number of cores).
func OnRows(tB bool, rows []int, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	onRows(runtime.GOMAXPROCS(0), tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// SerialOnRows is OnRows on the calling goroutine alone.
func SerialOnRows(tB bool, rows []int, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	onRows(1, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// OverRows is Sgemm summing over chosen rows: C = alpha·A[rows]ᵀ·B[rows] +
// beta·C, where k step p of the m×n product is row rows[p] of a (row
// stride lda, m columns) and of b (row stride ldb, n columns), k =
// len(rows): the weight gradient of a linear layer from the real rows of a
// right-padded batch. rows must increase. Its results are bitwise
// Sgemm(true, false, …)'s on the rows copied out, and do not depend on the
// number of cores.
func OverRows(rows []int, m, n int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	overRows(runtime.GOMAXPROCS(0), rows, m, n, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SerialOverRows is OverRows on the calling goroutine alone.
func SerialOverRows(rows []int, m, n int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	overRows(1, rows, m, n, alpha, a, lda, b, ldb, beta, c, ldc)
}

// onRows is OnRows on at most workers goroutines, with bias (nil: none)
// added to each row as Linear does.
func onRows(workers int, tB bool, rows []int, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	m := len(rows)
	checkDims(m, n, k)
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	checkMatrix("b", b, br, bc, ldb)
	if m == 0 || n == 0 {
		return
	}
	checkRows("rows", rows)
	last := rows[m-1] + 1
	checkMatrix("a", a, last, k, lda)
	checkMatrix("c", c, last, n, ldc)
	if k == 0 || alpha == 0 || m*n*k < smallWork {
		// What Sgemm does on the rows copied out: it never reaches the
		// packed kernels here.
		as, cs := gather(rows, a, lda, k), gather(rows, c, ldc, n)
		product(1, false, tB, m, n, k, alpha, as, max(1, k), b, ldb, beta, cs, max(1, n), bias)
		for i, r := range rows {
			copy(c[r*ldc:r*ldc+n], cs[i*n:(i+1)*n])
		}
		return
	}
	workers, chunk := parts(workers, m, n, k, m, mr)
	serialOn := func(rows []int) {
		buf := bufPool.Get().(*buffers)
		defer bufPool.Put(buf)
		blocked(len(rows), n, k, alpha, beta, cMatrix{c, ldc, rows}, &buf.a, inPlace{}, bias, func(dst []float32, ic, mb, pc, kb int) {
			packARows(dst, a, lda, rows[ic:ic+mb], pc, kb)
		}, func(pc, kb, jc, nb int) bBlock {
			packB(buf.b[:], tB, b, ldb, pc, kb, jc, nb)
			return bBlock{packed: buf.b[:], kb: kb}
		})
	}
	if workers <= 1 {
		serialOn(rows)
		return
	}
	par.Fork(workers, func(w int) {
		lo, hi := chunk(w)
		serialOn(rows[lo:hi])
	})
}

func overRows(workers int, rows []int, m, n int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k := len(rows)
	checkDims(m, n, k)
	checkMatrix("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	checkRows("rows", rows)
	last := rows[k-1] + 1
	checkMatrix("a", a, last, m, lda)
	checkMatrix("b", b, last, n, ldb)
	if m*n*k < smallWork {
		as, bs := gather(rows, a, lda, m), gather(rows, b, ldb, n)
		Serial(true, false, m, n, k, alpha, as, m, bs, n, beta, c, ldc)
		return
	}
	// Split the larger of m and n, as Sgemm does.
	splitM, dim, tile := larger(m, n)
	workers, chunk := parts(workers, m, n, k, dim, tile)
	serialOver := func(i0, mm, j0, nn int) {
		buf := bufPool.Get().(*buffers)
		defer bufPool.Put(buf)
		blocked(mm, nn, k, alpha, beta, cMatrix{c[i0*ldc+j0:], ldc, nil}, &buf.a, inPlace{}, nil, func(dst []float32, ic, mb, pc, kb int) {
			packAOver(dst, a, lda, rows[pc:pc+kb], i0+ic, mb)
		}, func(pc, kb, jc, nb int) bBlock {
			packBOver(buf.b[:], b, ldb, rows[pc:pc+kb], j0+jc, nb)
			return bBlock{packed: buf.b[:], kb: kb}
		})
	}
	if workers <= 1 {
		serialOver(0, m, 0, n)
		return
	}
	par.Fork(workers, func(w int) {
		lo, hi := chunk(w)
		if splitM {
			serialOver(lo, hi-lo, 0, n)
		} else {
			serialOver(0, m, lo, hi-lo)
		}
	})
}

// checkRows panics unless rows increases from a nonnegative first row.
func checkRows(name string, rows []int) {
	if len(rows) > 0 && rows[0] < 0 {
		panic(fmt.Sprintf("sgemm: %s[0]=%d < 0", name, rows[0]))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i] <= rows[i-1] {
			panic(fmt.Sprintf("sgemm: %s[%d]=%d does not follow %s[%d]=%d", name, i, rows[i], name, i-1, rows[i-1]))
		}
	}
}

// gather copies rows of s (row stride ld, width columns) into a new dense
// matrix.
func gather(rows []int, s []float32, ld, width int) []float32 {
	out := make([]float32, len(rows)*width)
	for i, r := range rows {
		copy(out[i*width:(i+1)*width], s[r*ld:r*ld+width])
	}
	return out
}

// packARows is packA (untransposed) for the mb rows a[rows[i]], columns
// p0..p0+kb-1: six rows that follow each other in a are packed as packA
// packs them, others one by one into the same layout.
func packARows(dst, a []float32, lda int, rows []int, p0, kb int) {
	for ir := 0; ir < len(rows); ir += mr {
		panel := dst[ir*kb : (ir+mr)*kb]
		n := min(mr, len(rows)-ir)
		if n == mr && rows[ir+mr-1]-rows[ir] == mr-1 {
			base := rows[ir]*lda + p0
			packRows6(kb, a[base:base+5*lda+kb], lda, panel)
			continue
		}
		for r := 0; r < mr; r++ {
			if r >= n {
				for p := 0; p < kb; p++ {
					panel[p*mr+r] = 0
				}
				continue
			}
			for p, v := range a[rows[ir+r]*lda+p0:][:kb] {
				panel[p*mr+r] = v
			}
		}
	}
}

// runsOf calls f(o, n, r) for each stretch of rows that follow each other
// in memory: rows[o:o+n] are rows r..r+n-1.
func runsOf(rows []int, f func(o, n, r int)) {
	for o := 0; o < len(rows); {
		n := 1
		for o+n < len(rows) && rows[o+n] == rows[o]+n {
			n++
		}
		f(o, n, rows[o])
		o += n
	}
}

// packAOver is packA for op(A) = A[rows]ᵀ: op(A)[i0:i0+mb, :] over the k
// steps rows (k step p is row rows[p] of a), each stretch of consecutive
// rows copied as packA copies a transposed A.
func packAOver(dst, a []float32, lda int, rows []int, i0, mb int) {
	packOver(dst, a, lda, rows, i0, mb, mr, packRuns6)
}

// packBOver is packB for op(B) = B[rows]: op(B)[:, j0:j0+nb] over the k
// steps rows (k step p is row rows[p] of b), each stretch of consecutive
// rows copied as packB copies an untransposed B.
func packBOver(dst, b []float32, ldb int, rows []int, j0, nb int) {
	packOver(dst, b, ldb, rows, j0, nb, nr, packRuns16)
}

// packOver packs columns c0..c0+width-1 of the rows of s (row stride ld)
// into panels of tile columns, k step p of panel q at dst[q·tile·kb +
// p·tile] with kb = len(rows): the full panels with runs (packRuns6 or
// packRuns16), stretch by stretch, the last partial one padded with zeros.
func packOver(dst, s []float32, ld int, rows []int, c0, width, tile int, runs func(panels, steps, stride int, src []float32, ld int, dst []float32)) {
	kb, full := len(rows), width/tile
	runsOf(rows, func(o, n, r int) {
		base := r*ld + c0
		if full > 0 {
			runs(full, n, kb, s[base:base+(n-1)*ld+full*tile], ld, dst[o*tile:])
		}
		if rest := width - full*tile; rest > 0 {
			panel := dst[full*tile*kb:]
			for p := 0; p < n; p++ {
				d := panel[(o+p)*tile : (o+p+1)*tile]
				copy(d, s[base+p*ld+full*tile:][:rest])
				clear(d[rest:])
			}
		}
	})
}
