package sgemm

// packA copies op(A)[i0:i0+mb, p0:p0+kb] into dst as mr-row panels: panel
// q holds rows i0+q·mr.. with element (r, p) at q·mr·kb + p·mr + r. Rows past
// mb are zero.
func packA(dst []float32, tA bool, a []float32, lda, i0, mb, p0, kb int) {
	full := 0 // panels packed before the loop below
	if tA && mb >= mr {
		// op(A)[i][p] = a[p·lda+i]: each k step of a panel is a contiguous
		// run. The full panels are packed together, eight k steps at a
		// time (AVX) or one panel after another (Go).
		full = mb / mr
		base := p0*lda + i0
		packRuns6(full, kb, kb, a[base:base+(kb-1)*lda+full*mr], lda, dst[:full*mr*kb])
	}
	for ir := full * mr; ir < mb; ir += mr {
		panel := dst[ir*kb : (ir+mr)*kb]
		rows := min(mr, mb-ir)
		if tA {
			// op(A)[i][p] = a[p·lda+i]: each k step is a contiguous run.
			for p := 0; p < kb; p++ {
				src := a[(p0+p)*lda+i0+ir:]
				d := panel[p*mr : p*mr+mr : p*mr+mr]
				copy(d, src[:rows])
				clear(d[rows:])
			}
			continue
		}
		if rows == mr {
			// Six rows transposed as 6×8 blocks (AVX2) or walked together
			// (Go).
			base := (i0+ir)*lda + p0
			packRows6(kb, a[base:base+5*lda+kb], lda, panel)
			continue
		}
		packStrided(panel, a[(i0+ir)*lda+p0:], lda, kb, mr, 0, rows)
	}
}

// packB copies op(B)[p0:p0+kb, j0:j0+nb] into dst as nr-column panels:
// panel q holds columns j0+q·nr.. with element (p, c) at q·nr·kb + p·nr + c.
// Columns past nb are zero.
func packB(dst []float32, tB bool, b []float32, ldb, p0, kb, j0, nb int) {
	full := 0 // panels packed before the loop below
	if !tB && nb >= nr {
		// op(B)[p][j] = b[p·ldb+j]: each k step of a panel is a contiguous
		// run. The full panels are packed together, eight k steps at a
		// time (AVX) or one panel after another (Go).
		full = nb / nr
		base := p0*ldb + j0
		packRuns16(full, kb, kb, b[base:base+(kb-1)*ldb+full*nr], ldb, dst[:full*nr*kb])
	}
	for jr := full * nr; jr < nb; jr += nr {
		panel := dst[jr*kb : (jr+nr)*kb]
		cols := min(nr, nb-jr)
		if !tB {
			// op(B)[p][j] = b[p·ldb+j]: each k step is a contiguous run.
			for p := 0; p < kb; p++ {
				src := b[(p0+p)*ldb+j0+jr:]
				d := panel[p*nr : p*nr+nr]
				copy(d, src[:cols])
				clear(d[cols:])
			}
			continue
		}
		col := 0
		// Eight source rows at a time, transposed as 8×8 blocks (AVX2) or
		// so that each k step writes eight adjacent floats (Go).
		for ; col+8 <= cols; col += 8 {
			base := (j0+jr+col)*ldb + p0
			packRows8(kb, b[base:base+7*ldb+kb], ldb, panel[col:])
		}
		packStrided(panel, b[(j0+jr)*ldb+p0:], ldb, kb, nr, col, cols)
	}
}

// packStrided copies rows from..n-1 of src (row r is src[r·ld : r·ld+kb])
// transposed into a panel of stride slots, element p of row r at
// panel[p·stride+r], and zeroes slots n..stride-1: the rows of a packA
// panel, or the columns of a packB panel, that the fast paths leave.
func packStrided(panel, src []float32, ld, kb, stride, from, n int) {
	for r := from; r < n; r++ {
		for p, v := range src[r*ld : r*ld+kb] {
			panel[p*stride+r] = v
		}
	}
	for r := n; r < stride; r++ {
		for p := 0; p < kb; p++ {
			panel[p*stride+r] = 0
		}
	}
}

// packRows8Go copies columns p0..kb-1 of src rows 0..7 (ld floats apart)
// into dst so that dst[p·nr+r] = src[r·ld+p].
func packRows8Go(p0, kb int, src []float32, ld int, dst []float32) {
	s0 := src[0:kb]
	s1 := src[ld : ld+kb]
	s2 := src[2*ld : 2*ld+kb]
	s3 := src[3*ld : 3*ld+kb]
	s4 := src[4*ld : 4*ld+kb]
	s5 := src[5*ld : 5*ld+kb]
	s6 := src[6*ld : 6*ld+kb]
	s7 := src[7*ld : 7*ld+kb]
	for p := p0; p < kb; p++ {
		d := dst[p*nr : p*nr+8 : p*nr+8]
		d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		d[4], d[5], d[6], d[7] = s4[p], s5[p], s6[p], s7[p]
	}
}

// packRows6Go copies columns p0..kb-1 of src rows 0..5 (ld floats apart)
// into dst so that dst[p·mr+r] = src[r·ld+p].
func packRows6Go(p0, kb int, src []float32, ld int, dst []float32) {
	// Walk the six rows together so the writes are sequential. Rows
	// resliced to r0's length and a panel consumed six at a time let the
	// compiler drop most bounds checks.
	r0 := src[p0:kb]
	r1 := src[ld+p0:][:len(r0)]
	r2 := src[2*ld+p0:][:len(r0)]
	r3 := src[3*ld+p0:][:len(r0)]
	r4 := src[4*ld+p0:][:len(r0)]
	r5 := src[5*ld+p0:][:len(r0)]
	d := dst[p0*mr : kb*mr]
	for p := range r0 {
		_ = d[mr-1]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
		d = d[mr:]
	}
}

// packRuns6Go copies k steps p0..steps-1 of panels packed A panels from
// src, whose k step p of panel q is the run of six floats at
// src[p·ld+q·mr], into dst so that dst[q·mr·stride+p·mr+r] =
// src[p·ld+q·mr+r].
func packRuns6Go(p0, steps, panels, stride int, src []float32, ld int, dst []float32) {
	for q := 0; q < panels; q++ {
		for p := p0; p < steps; p++ {
			s := src[p*ld+q*mr:][:mr:mr]
			d := dst[q*mr*stride+p*mr:][:mr:mr]
			d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
		}
	}
}

// packRuns16Go copies k steps p0..steps-1 of panels packed B panels from
// src, whose k step p of panel q is the run of sixteen floats at
// src[p·ld+q·nr], into dst so that dst[q·nr·stride+p·nr+c] =
// src[p·ld+q·nr+c].
func packRuns16Go(p0, steps, panels, stride int, src []float32, ld int, dst []float32) {
	for q := 0; q < panels; q++ {
		for p := p0; p < steps; p++ {
			// Through a local array: the compiler copies it with inline
			// moves, where copy, or one array assigned straight to
			// another that might overlap it, calls memmove.
			run := *(*[nr]float32)(src[p*ld+q*nr:])
			*(*[nr]float32)(dst[q*nr*stride+p*nr:]) = run
		}
	}
}
