package sgemm

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA micro-kernel; tests clear it to exercise the
// pure-Go kernel on machines that have the assembly one.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 selects, where useAsm holds too, the AVX-512 micro-kernel for
// runs of two or more tiles. Its results are bitwise the AVX2 kernel's.
// GODEBUG=cpu.avx512f=off turns it off (golang.org/x/sys/cpu reads it);
// tests clear it to compare the two.
var useAVX512 = cpu.X86.HasAVX512F

// microKernel computes C[0:mr, 0:nr] += alpha · A · B for an mr×kb A
// whose element (r, p) is ap[r·rs+p·ps] (a packed panel: rs 1, ps mr) and
// a kb×nr B whose k step p is the nr floats at bp[p·bs] (a packed panel:
// bs nr), or with store C = alpha · A · B without reading C; then, unless
// bias is nil, adds bias[0:nr] to each row of C. C rows are ldc floats
// apart and kb is positive. It does the same for panels tiles one under
// the other: the next tile's A starts aStep floats on, its C mr rows down.
func microKernel(panels, kb int, ap []float32, rs, ps, aStep int, bp []float32, bs int, c []float32, ldc int, alpha float32, store bool, bias []float32) {
	if useAsm {
		// Check the bounds the assembly relies on.
		_ = ap[(panels-1)*aStep+(mr-1)*rs+(kb-1)*ps]
		_ = bp[(kb-1)*bs+nr-1]
		_ = c[((panels-1)*mr+mr-1)*ldc+nr-1]
		var b0 *float32
		if bias != nil {
			b0 = &bias[:nr][0]
		}
		if useAVX512 && panels >= 2 {
			pairs := panels / 2
			kern12x16(kb, &ap[0], rs, ps, &bp[0], &c[0], ldc, alpha, store, b0, pairs, aStep, mr*ldc, bs)
			if panels%2 == 0 {
				return
			}
			done := 2 * pairs
			kern6x16(kb, &ap[done*aStep], rs, ps, &bp[0], &c[done*mr*ldc], ldc, alpha, store, b0, 1, aStep, mr*ldc, bs)
			return
		}
		kern6x16(kb, &ap[0], rs, ps, &bp[0], &c[0], ldc, alpha, store, b0, panels, aStep, mr*ldc, bs)
		return
	}
	kernGo(panels, kb, ap, rs, ps, aStep, bp, bs, c, ldc, alpha, store, bias)
}

// kern6x16 is the AVX2+FMA form of kernGo for mr = 6, nr = 16, over
// panels tiles.
//
//go:noescape
func kern6x16(kb int, ap *float32, rs, ps int, bp, c *float32, ldc int, alpha float32, store bool, bias *float32, panels, aStep, cStep, bs int)

// kern12x16 is kern6x16 over pairs of tiles with AVX-512, bitwise
// kern6x16's results: the tiles of pair q start 2·q·aStep floats into A
// and 2·q·cStep into C.
//
//go:noescape
func kern12x16(kb int, ap *float32, rs, ps int, bp, c *float32, ldc int, alpha float32, store bool, bias *float32, pairs, aStep, cStep, bs int)

// packRows8 copies src rows 0..7 (ld floats apart), columns 0..kb-1, into
// dst so that dst[p·nr+r] = src[r·ld+p]: eight columns of a packed B panel.
func packRows8(kb int, src []float32, ld int, dst []float32) {
	blocks := 0
	if useAsm {
		blocks = kb / 8
	}
	if blocks > 0 {
		// Check the bounds the assembly relies on.
		_ = src[7*ld+blocks*8-1]
		_ = dst[(blocks*8-1)*nr+7]
		transpose8(blocks, &src[0], ld, &dst[0])
	}
	packRows8Go(blocks*8, kb, src, ld, dst)
}

// transpose8 is the AVX2 form of packRows8Go over blocks·8 columns.
//
//go:noescape
func transpose8(blocks int, src *float32, ld int, dst *float32)

// packRows6 copies src rows 0..5 (ld floats apart), columns 0..kb-1, into
// dst so that dst[p·mr+r] = src[r·ld+p]: a full packed panel of an
// untransposed A.
func packRows6(kb int, src []float32, ld int, dst []float32) {
	blocks := 0
	if useAsm {
		blocks = kb / 8
	}
	if blocks > 0 {
		// Check the bounds the assembly relies on.
		_ = src[5*ld+blocks*8-1]
		_ = dst[blocks*8*mr-1]
		transpose6(blocks, &src[0], ld, &dst[0])
	}
	packRows6Go(blocks*8, kb, src, ld, dst)
}

// transpose6 is the AVX2 form of packRows6Go over blocks·8 columns.
//
//go:noescape
func transpose6(blocks int, src *float32, ld int, dst *float32)

// packRuns6 copies panels packed A panels, whose k step p of panel q is
// the run of six floats at src[p·ld+q·mr], k steps 0..steps-1, into dst
// so that dst[q·mr·stride+p·mr+r] = src[p·ld+q·mr+r]: the full panels of
// a transposed A, or steps of them when stride (the panels' k steps) is
// larger. panels is positive.
func packRuns6(panels, steps, stride int, src []float32, ld int, dst []float32) {
	blocks := 0
	if useAsm {
		blocks = steps / 8
	}
	if blocks > 0 {
		// Check the bounds the assembly relies on.
		_ = src[(blocks*8-1)*ld+panels*mr-1]
		_ = dst[(panels-1)*mr*stride+blocks*8*mr-1]
		copyRuns6(blocks, panels, &src[0], ld, &dst[0], stride)
	}
	packRuns6Go(blocks*8, steps, panels, stride, src, ld, dst)
}

// copyRuns6 is the AVX form of packRuns6Go over blocks·8 k steps, kb
// the panels' k steps.
//
//go:noescape
func copyRuns6(blocks, panels int, src *float32, ld int, dst *float32, kb int)

// packRuns16 copies panels packed B panels, whose k step p of panel q is
// the run of sixteen floats at src[p·ld+q·nr], k steps 0..steps-1, into
// dst so that dst[q·nr·stride+p·nr+c] = src[p·ld+q·nr+c]: the full panels
// of an untransposed B, or steps of them when stride (the panels' k
// steps) is larger. panels is positive.
func packRuns16(panels, steps, stride int, src []float32, ld int, dst []float32) {
	blocks := 0
	if useAsm {
		blocks = steps / 8
	}
	if blocks > 0 {
		// Check the bounds the assembly relies on.
		_ = src[(blocks*8-1)*ld+panels*nr-1]
		_ = dst[(panels-1)*nr*stride+blocks*8*nr-1]
		copyRuns16(blocks, panels, &src[0], ld, &dst[0], stride)
	}
	packRuns16Go(blocks*8, steps, panels, stride, src, ld, dst)
}

// copyRuns16 is the AVX form of packRuns16Go over blocks·8 k steps, kb
// the panels' k steps.
//
//go:noescape
func copyRuns16(blocks, panels int, src *float32, ld int, dst *float32, kb int)
