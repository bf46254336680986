#include "textflag.h"
#include "kernel_amd64.h"

// One k step: rows 0..5 of A's current step times the 16 floats of B at
// b0 (eight) and b1 (the next eight), added into the accumulators; then SI
// and R10 move to the next step.
#define KSTEP(b0, b1) \
	VMOVUPS b0, Y12; \
	VMOVUPS b1, Y13; \
	VBROADCASTSS (SI), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS (SI)(R9*1), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS (SI)(R9*2), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS (R10), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS (R10)(R9*1), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS (R10)(R9*2), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11; \
	ADDQ R11, SI; \
	ADDQ R11, R10

// One k step of a packed panel: its six floats at aoff(SI) times the 16
// floats of B at b0 and b1.
#define PSTEP(aoff, b0, b1) \
	VMOVUPS b0, Y12; \
	VMOVUPS b1, Y13; \
	VBROADCASTSS aoff(SI), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS aoff+4(SI), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS aoff+8(SI), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS aoff+12(SI), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS aoff+16(SI), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS aoff+20(SI), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11

// A row of the result in Y12/Y13: C's row at DX plus alpha (Y14) times
// the accumulators a0/a1, or alpha times them alone; plus the bias at R13;
// stored, and DX moved to the next row.
#define ROWADD(a0, a1) \
	VMOVUPS (DX), Y12; \
	VMOVUPS 32(DX), Y13; \
	VFMADD231PS Y14, a0, Y12; \
	VFMADD231PS Y14, a1, Y13

#define ROWMUL(a0, a1) \
	VMULPS Y14, a0, Y12; \
	VMULPS Y14, a1, Y13

#define ROWBIAS \
	VADDPS (R13), Y12, Y12; \
	VADDPS 32(R13), Y13, Y13

#define ROWPUT \
	VMOVUPS Y12, (DX); \
	VMOVUPS Y13, 32(DX); \
	ADDQ R8, DX

// func kern6x16(kb int, ap *float32, rs, ps int, bp, c *float32, ldc int, alpha float32, store bool, bias *float32, panels, aStep, cStep, bs int)
//
// For each of panels tiles, the first at ap and c, each next one's A
// aStep floats on and its C cStep floats on: C[0:6, 0:16] += alpha * A *
// B, or with store C[0:6, 0:16] = alpha * A * B without reading C, and
// then bias[0:16] added to each row unless bias is nil, where element
// (r, p) of A is ap[r*rs + p*ps] (a packed panel: rs 1, ps 6) and k step
// p of B the 16 floats at bp[p*bs] (a packed panel: bs 16). The tile
// loop keeps its bases in the frame. Y0..Y11 hold the 6x16 accumulator (two
// registers per row), Y12/Y13 the current row of B, Y14/Y15 broadcast
// elements of A. SI addresses rows 0..2 of A's current k step and R10
// rows 3..5, R9 apart; R11 is the k step, AX B's. The k loop is unrolled
// by two, with fixed offsets for a packed panel of A.
// A transposed A read in place (rows adjacent, steps far apart: every
// step on new cache lines) is prefetched 128 steps ahead (R12): far
// enough to cover a load from memory (attention's probabilities, read
// back in the backward pass), where 16 steps covered one from L2 only.
TEXT ·kern6x16(SB), NOSPLIT, $24-104
	MOVQ rs+16(FP), R9
	MOVQ ps+24(FP), R11
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R11
	MOVQ R11, R12
	SHLQ $7, R12
	MOVQ ap+8(FP), AX
	MOVQ AX, abase-16(SP)
	MOVQ c+40(FP), AX
	MOVQ AX, cbase-24(SP)
	MOVQ panels+72(FP), AX
	MOVQ AX, left-8(SP)
panel:
	MOVQ kb+0(FP), CX
	MOVQ abase-16(SP), SI
	MOVQ cbase-24(SP), DX
	MOVQ bp+32(FP), DI
	LEAQ (R9)(R9*2), R10
	ADDQ SI, R10
	MOVQ DX, AX
	FETCH6
	MOVQ bs+96(FP), AX
	SHLQ $2, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ CX, BX
	SHRQ $1, BX
	JZ tail
	CMPQ R9, $4
	JNE loop2
	CMPQ R11, $24
	JNE fetch2
packed2:
	PSTEP(0, (DI), 32(DI))
	PSTEP(24, (DI)(AX*1), 32(DI)(AX*1))
	ADDQ $48, SI
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ packed2
	JMP tail
fetch2:
	PREFETCHT0 (SI)(R12*1)
	PREFETCHT0 8(R10)(R12*1)
	KSTEP((DI), 32(DI))
	PREFETCHT0 (SI)(R12*1)
	PREFETCHT0 8(R10)(R12*1)
	KSTEP((DI)(AX*1), 32(DI)(AX*1))
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ fetch2
	JMP tail
loop2:
	KSTEP((DI), 32(DI))
	KSTEP((DI)(AX*1), 32(DI)(AX*1))
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ loop2
tail:
	ANDQ $1, CX
	JZ store
	LEAQ (R9)(R9*2), R10
	ADDQ SI, R10
	KSTEP((DI), 32(DI))
store:
	VBROADCASTSS alpha+56(FP), Y14
	MOVQ bias+64(FP), R13
	MOVBLZX store+60(FP), AX
	TESTL AX, AX
	JNZ overwrite
	TESTQ R13, R13
	JNZ addbias
	ROWADD(Y0, Y1)
	ROWPUT
	ROWADD(Y2, Y3)
	ROWPUT
	ROWADD(Y4, Y5)
	ROWPUT
	ROWADD(Y6, Y7)
	ROWPUT
	ROWADD(Y8, Y9)
	ROWPUT
	ROWADD(Y10, Y11)
	ROWPUT
	JMP next
addbias:
	ROWADD(Y0, Y1)
	ROWBIAS
	ROWPUT
	ROWADD(Y2, Y3)
	ROWBIAS
	ROWPUT
	ROWADD(Y4, Y5)
	ROWBIAS
	ROWPUT
	ROWADD(Y6, Y7)
	ROWBIAS
	ROWPUT
	ROWADD(Y8, Y9)
	ROWBIAS
	ROWPUT
	ROWADD(Y10, Y11)
	ROWBIAS
	ROWPUT
	JMP next
overwrite:
	TESTQ R13, R13
	JNZ mulbias
	ROWMUL(Y0, Y1)
	ROWPUT
	ROWMUL(Y2, Y3)
	ROWPUT
	ROWMUL(Y4, Y5)
	ROWPUT
	ROWMUL(Y6, Y7)
	ROWPUT
	ROWMUL(Y8, Y9)
	ROWPUT
	ROWMUL(Y10, Y11)
	ROWPUT
	JMP next
mulbias:
	ROWMUL(Y0, Y1)
	ROWBIAS
	ROWPUT
	ROWMUL(Y2, Y3)
	ROWBIAS
	ROWPUT
	ROWMUL(Y4, Y5)
	ROWBIAS
	ROWPUT
	ROWMUL(Y6, Y7)
	ROWBIAS
	ROWPUT
	ROWMUL(Y8, Y9)
	ROWBIAS
	ROWPUT
	ROWMUL(Y10, Y11)
	ROWBIAS
	ROWPUT
	JMP next
next:
	DECQ left-8(SP)
	JZ done
	MOVQ aStep+80(FP), AX
	SHLQ $2, AX
	ADDQ AX, abase-16(SP)
	MOVQ cStep+88(FP), AX
	SHLQ $2, AX
	ADDQ AX, cbase-24(SP)
	JMP panel
done:
	VZEROUPPER
	RET
