#include "textflag.h"
#include "kernel_amd64.h"

// One k step of twelve rows: the 16 floats of B at b times rows
// 0..2 of A at SI, 3..5 at R10, 6..8 at R13 and 9..11 at R14 (each R9
// apart), each element broadcast from memory into its FMA, added into the
// accumulators Z0..Z11; then the four row pointers move to the next step.
#define ZSTEP(b) \
	VMOVUPS b, Z12; \
	VFMADD231PS.BCST (SI), Z12, Z0; \
	VFMADD231PS.BCST (SI)(R9*1), Z12, Z1; \
	VFMADD231PS.BCST (SI)(R9*2), Z12, Z2; \
	VFMADD231PS.BCST (R10), Z12, Z3; \
	VFMADD231PS.BCST (R10)(R9*1), Z12, Z4; \
	VFMADD231PS.BCST (R10)(R9*2), Z12, Z5; \
	VFMADD231PS.BCST (R13), Z12, Z6; \
	VFMADD231PS.BCST (R13)(R9*1), Z12, Z7; \
	VFMADD231PS.BCST (R13)(R9*2), Z12, Z8; \
	VFMADD231PS.BCST (R14), Z12, Z9; \
	VFMADD231PS.BCST (R14)(R9*1), Z12, Z10; \
	VFMADD231PS.BCST (R14)(R9*2), Z12, Z11; \
	ADDQ R11, SI; \
	ADDQ R11, R10; \
	ADDQ R11, R13; \
	ADDQ R11, R14

// One k step of two packed panels: the six floats at aoff(SI) (rows 0..5)
// and at aoff(R13) (rows 6..11) times the 16 floats of B at b.
#define ZPSTEP(aoff, b) \
	VMOVUPS b, Z12; \
	VFMADD231PS.BCST aoff(SI), Z12, Z0; \
	VFMADD231PS.BCST aoff+4(SI), Z12, Z1; \
	VFMADD231PS.BCST aoff+8(SI), Z12, Z2; \
	VFMADD231PS.BCST aoff+12(SI), Z12, Z3; \
	VFMADD231PS.BCST aoff+16(SI), Z12, Z4; \
	VFMADD231PS.BCST aoff+20(SI), Z12, Z5; \
	VFMADD231PS.BCST aoff(R13), Z12, Z6; \
	VFMADD231PS.BCST aoff+4(R13), Z12, Z7; \
	VFMADD231PS.BCST aoff+8(R13), Z12, Z8; \
	VFMADD231PS.BCST aoff+12(R13), Z12, Z9; \
	VFMADD231PS.BCST aoff+16(R13), Z12, Z10; \
	VFMADD231PS.BCST aoff+20(R13), Z12, Z11

// A row of the result in Z14, stored at DX, which moves to the next row:
// C's row plus alpha (Z13) times the accumulator acc (ZADD), or alpha
// times acc alone (ZMUL); the B forms add the bias at BX. These are
// kern6x16's operations, so every element rounds as it does there.
#define ZADD(acc) \
	VMOVUPS (DX), Z14; \
	VFMADD231PS Z13, acc, Z14; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX

#define ZADDB(acc) \
	VMOVUPS (DX), Z14; \
	VFMADD231PS Z13, acc, Z14; \
	VADDPS (BX), Z14, Z14; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX

#define ZMUL(acc) \
	VMULPS Z13, acc, Z14; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX

#define ZMULB(acc) \
	VMULPS Z13, acc, Z14; \
	VADDPS (BX), Z14, Z14; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX

// func kern12x16(kb int, ap *float32, rs, ps int, bp, c *float32, ldc int, alpha float32, store bool, bias *float32, pairs, aStep, cStep, bs int)
//
// kern6x16 two tiles at a time, with AVX-512: for each of pairs pairs of
// tiles, the first tile's A at ap and C at c, the second's A aStep floats
// on and its C cStep floats on, the next pair's 2*aStep and 2*cStep floats
// on, it computes both tiles as kern6x16 does, with one 16-float register
// per row of C where kern6x16 holds a row in two 8-float halves. Each
// element of C gets the same FMA chain over k, in the same order, and the
// same final FMA (or multiplication) and bias addition, so the results are
// bitwise kern6x16's. Z0..Z11 hold the 12x16 accumulator, Z12 the current
// row of B (bs floats apart, in AX as bytes), Z13 alpha. A packed panel
// (rs 1, ps 6) is read with fixed offsets; a transposed A read in place (rs 1) is prefetched 128 steps
// ahead, as in kern6x16.
TEXT ·kern12x16(SB), NOSPLIT, $24-104
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
	MOVQ pairs+72(FP), AX
	MOVQ AX, left-8(SP)
	VBROADCASTSS alpha+56(FP), Z13

pair:
	MOVQ kb+0(FP), CX
	MOVQ abase-16(SP), SI
	MOVQ cbase-24(SP), DX
	MOVQ bp+32(FP), DI
	MOVQ aStep+80(FP), R13
	SHLQ $2, R13
	ADDQ SI, R13
	LEAQ (R9)(R9*2), R10
	LEAQ (R10)(R13*1), R14
	ADDQ SI, R10
	MOVQ DX, AX
	FETCH6
	FETCH6
	MOVQ bs+96(FP), AX
	SHLQ $2, AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	MOVQ CX, BX
	SHRQ $1, BX
	JZ tail
	CMPQ R9, $4
	JNE loop2
	CMPQ R11, $24
	JNE fetch2

packed2:
	ZPSTEP(0, (DI))
	ZPSTEP(24, (DI)(AX*1))
	ADDQ $48, SI
	ADDQ $48, R13
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ packed2
	JMP tail

fetch2:
	PREFETCHT0 (SI)(R12*1)
	PREFETCHT0 8(R14)(R12*1)
	ZSTEP((DI))
	PREFETCHT0 (SI)(R12*1)
	PREFETCHT0 8(R14)(R12*1)
	ZSTEP((DI)(AX*1))
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ fetch2
	JMP tail

loop2:
	ZSTEP((DI))
	ZSTEP((DI)(AX*1))
	LEAQ (DI)(AX*2), DI
	DECQ BX
	JNZ loop2

tail:
	ANDQ $1, CX
	JZ store
	LEAQ (R9)(R9*2), R10
	LEAQ (R10)(R13*1), R14
	ADDQ SI, R10
	ZSTEP((DI))

store:
	MOVQ bias+64(FP), BX
	MOVBLZX store+60(FP), AX
	TESTL AX, AX
	JNZ overwrite
	TESTQ BX, BX
	JNZ addbias
	ZADD(Z0)
	ZADD(Z1)
	ZADD(Z2)
	ZADD(Z3)
	ZADD(Z4)
	ZADD(Z5)
	ZADD(Z6)
	ZADD(Z7)
	ZADD(Z8)
	ZADD(Z9)
	ZADD(Z10)
	ZADD(Z11)
	JMP next

addbias:
	ZADDB(Z0)
	ZADDB(Z1)
	ZADDB(Z2)
	ZADDB(Z3)
	ZADDB(Z4)
	ZADDB(Z5)
	ZADDB(Z6)
	ZADDB(Z7)
	ZADDB(Z8)
	ZADDB(Z9)
	ZADDB(Z10)
	ZADDB(Z11)
	JMP next

overwrite:
	TESTQ BX, BX
	JNZ mulbias
	ZMUL(Z0)
	ZMUL(Z1)
	ZMUL(Z2)
	ZMUL(Z3)
	ZMUL(Z4)
	ZMUL(Z5)
	ZMUL(Z6)
	ZMUL(Z7)
	ZMUL(Z8)
	ZMUL(Z9)
	ZMUL(Z10)
	ZMUL(Z11)
	JMP next

mulbias:
	ZMULB(Z0)
	ZMULB(Z1)
	ZMULB(Z2)
	ZMULB(Z3)
	ZMULB(Z4)
	ZMULB(Z5)
	ZMULB(Z6)
	ZMULB(Z7)
	ZMULB(Z8)
	ZMULB(Z9)
	ZMULB(Z10)
	ZMULB(Z11)

next:
	DECQ left-8(SP)
	JZ done
	MOVQ aStep+80(FP), AX
	SHLQ $3, AX
	ADDQ AX, abase-16(SP)
	MOVQ cStep+88(FP), AX
	SHLQ $3, AX
	ADDQ AX, cbase-24(SP)
	JMP pair

done:
	VZEROUPPER
	RET
