#include "textflag.h"

// PREFETCH8(r0, r4) prefetches (PREFETCHT0) the line at r0 and at r0 plus
// one, two and three rows, and the same from r4, four rows on: eight rows
// R8 bytes apart, R9 = 3·R8.
#define PREFETCH8(r0, r4) \
	PREFETCHT0 (r0) \
	PREFETCHT0 (r0)(R8*1) \
	PREFETCHT0 (r0)(R8*2) \
	PREFETCHT0 (r0)(R9*1) \
	PREFETCHT0 (r4) \
	PREFETCHT0 (r4)(R8*1) \
	PREFETCHT0 (r4)(R8*2) \
	PREFETCHT0 (r4)(R9*1)

// func transpose8(blocks int, src *float32, ld int, dst *float32)
//
// For each of blocks steps of 8 along k, loads an 8×8 block (8 rows of src,
// ld floats apart), transposes it with the usual unpack/shuffle/permute
// sequence, and stores row p of the transpose at dst + p·nr floats (nr = 16).
// It prefetches the same columns of the next 8 rows, which packB's next
// call reads: rows ld floats apart (a head's keys, a weight's columns) that
// the hardware prefetcher does not fetch ahead, and the step's loads wait
// on memory without it (half transpose8's time over a paper-size
// attention's keys).
TEXT ·transpose8(SB), NOSPLIT, $0-32
	MOVQ blocks+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R10
	LEAQ (R10)(R8*4), R11
	LEAQ (R11)(R8*4), R12
	TESTQ CX, CX
	JZ done

loop:
	PREFETCH8(R11, R12)
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R10), Y4
	VMOVUPS (R10)(R8*1), Y5
	VMOVUPS (R10)(R8*2), Y6
	VMOVUPS (R10)(R9*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)

	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $512, DI
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET

// func transpose6(blocks int, src *float32, ld int, dst *float32)
//
// For each of blocks steps of 8 along k, loads 8 floats from each of 6 rows
// of src (ld floats apart) and stores column p of that 6×8 block as the six
// floats at dst + p·mr (mr = 6), 48 floats a block. The transpose is
// transpose8's without rows 6 and 7: the register of column p holds rows
// 0..5 in lanes 0..5 and junk in lanes 6 and 7, which the store of column
// p+1 overwrites; column 7 is stored as 4 + 2 floats, so nothing past the
// block is written. It prefetches the same columns of the next 6 rows, the
// next panel's, as transpose8 does (40% less of transpose6's time on a
// Linear layer's 16000×128 input).
TEXT ·transpose6(SB), NOSPLIT, $0-32
	MOVQ blocks+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R10
	LEAQ (SI)(R9*2), R11 // the next panel's rows
	LEAQ (R11)(R9*1), R12
	TESTQ CX, CX
	JZ done6

loop6:
	PREFETCHT0 (R11)
	PREFETCHT0 (R11)(R8*1)
	PREFETCHT0 (R11)(R8*2)
	PREFETCHT0 (R12)
	PREFETCHT0 (R12)(R8*1)
	PREFETCHT0 (R12)(R8*2)
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R10), Y4
	VMOVUPS (R10)(R8*1), Y5

	// Rows 0|1, 2|3 and 4|5 interleaved: columns 0, 1 | 4, 5 (Y6, Y8,
	// Y10) and 2, 3 | 6, 7 (Y7, Y9, Y11).
	VUNPCKLPS Y1, Y0, Y6
	VUNPCKHPS Y1, Y0, Y7
	VUNPCKLPS Y3, Y2, Y8
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10
	VUNPCKHPS Y5, Y4, Y11

	// Rows 0..3 of columns 0|4, 1|5, 2|6, 3|7 (Y0..Y3); rows 4, 5 of
	// columns 1|5 and 3|7 in lanes 0, 1 (Y12, Y13), where Y10 and Y11
	// already hold them for columns 0|4 and 2|6.
	VSHUFPS $0x44, Y8, Y6, Y0
	VSHUFPS $0xEE, Y8, Y6, Y1
	VSHUFPS $0x44, Y9, Y7, Y2
	VSHUFPS $0xEE, Y9, Y7, Y3
	VSHUFPS $0xEE, Y10, Y10, Y12
	VSHUFPS $0xEE, Y11, Y11, Y13

	// Columns 0..7: rows 0..3 in the low half, rows 4, 5 and junk in the
	// high half.
	VPERM2F128 $0x20, Y10, Y0, Y4
	VPERM2F128 $0x20, Y12, Y1, Y5
	VPERM2F128 $0x20, Y11, Y2, Y6
	VPERM2F128 $0x20, Y13, Y3, Y7
	VPERM2F128 $0x31, Y10, Y0, Y8
	VPERM2F128 $0x31, Y12, Y1, Y9
	VPERM2F128 $0x31, Y11, Y2, Y14
	VPERM2F128 $0x31, Y13, Y3, Y15

	// In order, each store overwriting the junk of the one before.
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 24(DI)
	VMOVUPS Y6, 48(DI)
	VMOVUPS Y7, 72(DI)
	VMOVUPS Y8, 96(DI)
	VMOVUPS Y9, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS X15, 168(DI)
	VEXTRACTF128 $1, Y15, X15
	VMOVSD X15, 184(DI)

	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $192, DI
	DECQ CX
	JNZ loop6

done6:
	VZEROUPPER
	RET

// func copyRuns6(blocks, panels int, src *float32, ld int, dst *float32, kb int)
//
// For each of blocks steps of 8 along k, and for each of panels panels,
// copies 8 runs of six floats, run p of panel q at src + p·ld + q·mr, to
// dst + q·mr·kb + p·mr, each as a 4-float and a 2-float move so that
// nothing past a run is read; panels is positive. Taking the panels in
// turn for each k step of 8 reads every cache line of src once: taking
// all k steps of one panel in turn reads runs ld floats apart, whose lines
// conflict in L1 when ld is a power of two, and reloads each line for every
// panel that shares it. Each panel's step prefetches its runs in the next
// 8 rows, as transpose8 does.
TEXT ·copyRuns6(SB), NOSPLIT, $0-48
	MOVQ blocks+0(FP), CX
	MOVQ panels+8(FP), BX
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), R8
	MOVQ dst+32(FP), DI
	MOVQ kb+40(FP), R11
	SHLQ $2, R8
	LEAQ (R11)(R11*2), R11
	SHLQ $3, R11
	LEAQ (R8)(R8*2), R9
	TESTQ CX, CX
	JZ doner6

	// SI and DI: the k step of 8 in src and in panel 0; R12 and R10: the
	// same in panel q; R11: the panel stride in bytes.
block:
	MOVQ SI, R12
	MOVQ DI, R10
	MOVQ BX, DX

panel:
	LEAQ (R12)(R8*4), R13
	LEAQ (R13)(R8*4), R14 // the next block's rows
	LEAQ (R14)(R8*4), AX
	PREFETCH8(R14, AX)
	VMOVUPS (R12), X0
	VMOVSD 16(R12), X1
	VMOVUPS (R12)(R8*1), X2
	VMOVSD 16(R12)(R8*1), X3
	VMOVUPS (R12)(R8*2), X4
	VMOVSD 16(R12)(R8*2), X5
	VMOVUPS (R12)(R9*1), X6
	VMOVSD 16(R12)(R9*1), X7
	VMOVUPS (R13), X8
	VMOVSD 16(R13), X9
	VMOVUPS (R13)(R8*1), X10
	VMOVSD 16(R13)(R8*1), X11
	VMOVUPS (R13)(R8*2), X12
	VMOVSD 16(R13)(R8*2), X13
	VMOVUPS (R13)(R9*1), X14
	VMOVSD 16(R13)(R9*1), X15
	VMOVUPS X0, (R10)
	VMOVSD X1, 16(R10)
	VMOVUPS X2, 24(R10)
	VMOVSD X3, 40(R10)
	VMOVUPS X4, 48(R10)
	VMOVSD X5, 64(R10)
	VMOVUPS X6, 72(R10)
	VMOVSD X7, 88(R10)
	VMOVUPS X8, 96(R10)
	VMOVSD X9, 112(R10)
	VMOVUPS X10, 120(R10)
	VMOVSD X11, 136(R10)
	VMOVUPS X12, 144(R10)
	VMOVSD X13, 160(R10)
	VMOVUPS X14, 168(R10)
	VMOVSD X15, 184(R10)
	ADDQ $24, R12
	ADDQ R11, R10
	DECQ DX
	JNZ panel

	LEAQ (SI)(R8*8), SI
	ADDQ $192, DI
	DECQ CX
	JNZ block

doner6:
	RET

// func copyRuns16(blocks, panels int, src *float32, ld int, dst *float32, kb int)
//
// For each of blocks steps of 8 along k, and for each of panels panels,
// copies 8 runs of sixteen floats, run p of panel q at src + p·ld + q·nr,
// to dst + q·nr·kb + p·nr, each as two 8-float moves, so that nothing past
// a run is read; panels is positive. As in copyRuns6, the panels are taken
// in turn for each k step of 8: the 8 rows are then read as 8 sequential
// streams, and a cache line that two panels share (src not 64-byte
// aligned) is used by both while it is in L1. Taking all k steps of one
// panel in turn reads lines ld floats apart, and took about 1.35 times as
// long on a 256×512 block with ld = 512. Each panel's step prefetches its
// runs in the next 8 rows, as transpose8 does.
TEXT ·copyRuns16(SB), NOSPLIT, $0-48
	MOVQ blocks+0(FP), CX
	MOVQ panels+8(FP), BX
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), R8
	MOVQ dst+32(FP), DI
	MOVQ kb+40(FP), R11
	SHLQ $2, R8
	SHLQ $6, R11
	LEAQ (R8)(R8*2), R9
	TESTQ CX, CX
	JZ done16

	// SI and DI: the k step of 8 in src and in panel 0; R12 and R10: the
	// same in panel q; R11: the panel stride in bytes.
block16:
	MOVQ SI, R12
	MOVQ DI, R10
	MOVQ BX, DX

panel16:
	LEAQ (R12)(R8*4), R13
	LEAQ (R13)(R8*4), R14 // the next block's rows
	LEAQ (R14)(R8*4), AX
	PREFETCH8(R14, AX)
	VMOVUPS (R12), Y0
	VMOVUPS 32(R12), Y1
	VMOVUPS (R12)(R8*1), Y2
	VMOVUPS 32(R12)(R8*1), Y3
	VMOVUPS (R12)(R8*2), Y4
	VMOVUPS 32(R12)(R8*2), Y5
	VMOVUPS (R12)(R9*1), Y6
	VMOVUPS 32(R12)(R9*1), Y7
	VMOVUPS (R13), Y8
	VMOVUPS 32(R13), Y9
	VMOVUPS (R13)(R8*1), Y10
	VMOVUPS 32(R13)(R8*1), Y11
	VMOVUPS (R13)(R8*2), Y12
	VMOVUPS 32(R13)(R8*2), Y13
	VMOVUPS (R13)(R9*1), Y14
	VMOVUPS 32(R13)(R9*1), Y15
	VMOVUPS Y0, (R10)
	VMOVUPS Y1, 32(R10)
	VMOVUPS Y2, 64(R10)
	VMOVUPS Y3, 96(R10)
	VMOVUPS Y4, 128(R10)
	VMOVUPS Y5, 160(R10)
	VMOVUPS Y6, 192(R10)
	VMOVUPS Y7, 224(R10)
	VMOVUPS Y8, 256(R10)
	VMOVUPS Y9, 288(R10)
	VMOVUPS Y10, 320(R10)
	VMOVUPS Y11, 352(R10)
	VMOVUPS Y12, 384(R10)
	VMOVUPS Y13, 416(R10)
	VMOVUPS Y14, 448(R10)
	VMOVUPS Y15, 480(R10)
	ADDQ $64, R12
	ADDQ R11, R10
	DECQ DX
	JNZ panel16

	LEAQ (SI)(R8*8), SI
	ADDQ $512, DI
	DECQ CX
	JNZ block16

done16:
	VZEROUPPER
	RET
