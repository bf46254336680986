#include "textflag.h"

// HMAX_Y0 leaves the largest of Y0's eight floats in X0's lowest lane.
#define HMAX_Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VMAXPS X1, X0, X0 \
	VPERMILPS $0x4e, X0, X1 \
	VMAXPS X1, X0, X0 \
	VPERMILPS $0xb1, X0, X1 \
	VMAXPS X1, X0, X0

// HSUM_Y6_Y7 adds the eight doubles of Y6 and Y7, in a fixed order, into
// X6's lowest lane.
#define HSUM_Y6_Y7 \
	VADDPD Y7, Y6, Y6 \
	VEXTRACTF128 $1, Y6, X7 \
	VADDPD X7, X6, X6 \
	VPERMILPD $1, X6, X7 \
	VADDSD X7, X6, X6

// EXPNEG_Y0_Y4 sets Y4 = layers.expNeg(Y0) lane by lane, bitwise, with
// the constants of EXPNEG_CONSTS in Y8..Y14; it clobbers Y1..Y5. NaN
// lanes stay NaN through the arithmetic.
#define EXPNEG_Y0_Y4 \
	VCMPPS $1, Y14, Y0, Y5 \
	VMULPS Y13, Y0, Y1 \
	VSUBPS Y12, Y1, Y1 \
	VCVTTPS2DQ Y1, Y2 \
	VCVTDQ2PS Y2, Y1 \
	VMULPS Y11, Y1, Y3 \
	VSUBPS Y3, Y0, Y3 \
	VMULPS Y10, Y1, Y4 \
	VSUBPS Y4, Y3, Y3 \
	VBROADCASTSS expc<>+20(SB), Y4 \
	VMULPS Y3, Y4, Y4 \
	VBROADCASTSS expc<>+24(SB), Y1 \
	VADDPS Y1, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VBROADCASTSS expc<>+28(SB), Y1 \
	VADDPS Y1, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VBROADCASTSS expc<>+32(SB), Y1 \
	VADDPS Y1, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VBROADCASTSS expc<>+36(SB), Y1 \
	VADDPS Y1, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VBROADCASTSS expc<>+40(SB), Y1 \
	VADDPS Y1, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VMULPS Y3, Y4, Y4 \
	VADDPS Y3, Y4, Y4 \
	VADDPS Y9, Y4, Y4 \
	VPADDD Y8, Y2, Y2 \
	VPSLLD $23, Y2, Y2 \
	VMULPS Y2, Y4, Y4 \
	VANDNPS Y4, Y5, Y4

// EXPNEG_CONSTS loads EXPNEG_Y0_Y4's constants: the cutoff (Y14), log2 e
// (Y13), 0.5 (Y12), ln 2 in two parts (Y11, Y10), 1 (Y9) and the exponent
// bias 127 (Y8).
#define EXPNEG_CONSTS \
	VBROADCASTSS expc<>+0(SB), Y14 \
	VBROADCASTSS expc<>+4(SB), Y13 \
	VBROADCASTSS expc<>+8(SB), Y12 \
	VBROADCASTSS expc<>+12(SB), Y11 \
	VBROADCASTSS expc<>+16(SB), Y10 \
	VBROADCASTSS expc<>+44(SB), Y9 \
	VPBROADCASTD expc<>+48(SB), Y8

// Constants of layers.expNeg (layers/expneg.go), broadcast from memory.
DATA expc<>+0(SB)/4, $-87.33654
DATA expc<>+4(SB)/4, $1.44269504088896341
DATA expc<>+8(SB)/4, $0.5
DATA expc<>+12(SB)/4, $0.693359375
DATA expc<>+16(SB)/4, $-2.12194440e-4
DATA expc<>+20(SB)/4, $1.9875691500e-4
DATA expc<>+24(SB)/4, $1.3981999507e-3
DATA expc<>+28(SB)/4, $8.3334519073e-3
DATA expc<>+32(SB)/4, $4.1665795894e-2
DATA expc<>+36(SB)/4, $1.6666665459e-1
DATA expc<>+40(SB)/4, $5.0000001201e-1
DATA expc<>+44(SB)/4, $1.0
DATA expc<>+48(SB)/4, $127
DATA expc<>+52(SB)/4, $-1e9
DATA expc<>+56(SB)/4, $0xff800000 // −inf
DATA expc<>+60(SB)/4, $0x80000000 // sign bit
DATA expc<>+64(SB)/4, $-2.0
DATA expc<>+68(SB)/4, $0.625
DATA expc<>+72(SB)/4, $-5.70498872745e-3 // layers.tanh32's polynomial
DATA expc<>+76(SB)/4, $2.06390887954e-2
DATA expc<>+80(SB)/4, $-5.37397155531e-2
DATA expc<>+84(SB)/4, $1.33314422036e-1
DATA expc<>+88(SB)/4, $-3.33332819422e-1
GLOBL expc<>(SB), RODATA|NOPTR, $92

// CELL_PD(off, dst) is float32(f·cprev + i·g) in float64 for the four
// lanes at byte off of SI: i at AX, f at R9, g at R10, cprev at BX, into
// the low half of dst (Y0..Y3 scratch).
#define CELL_PD(off, dst) \
	VCVTPS2PD off(R9)(SI*1), Y0 \
	VCVTPS2PD off(BX)(SI*1), Y1 \
	VMULPD Y1, Y0, Y0 \
	VCVTPS2PD off(AX)(SI*1), Y2 \
	VCVTPS2PD off(R10)(SI*1), Y3 \
	VMULPD Y3, Y2, Y2 \
	VADDPD Y2, Y0, Y0 \
	VCVTPD2PSY Y0, dst

// CELL_PD8(off, dst) is CELL_PD for the eight lanes at byte off of SI,
// with AVX-512F (Z0..Z3 scratch).
#define CELL_PD8(off, dst) \
	VCVTPS2PD off(R9)(SI*1), Z0 \
	VCVTPS2PD off(BX)(SI*1), Z1 \
	VMULPD Z1, Z0, Z0 \
	VCVTPS2PD off(AX)(SI*1), Z2 \
	VCVTPS2PD off(R10)(SI*1), Z3 \
	VMULPD Z3, Z2, Z2 \
	VADDPD Z2, Z0, Z0 \
	VCVTPD2PS Z0, dst

// CELL_PTRS loads Cell's arguments: the gates i, f, g, o at AX, R9, R10,
// R11 (stride floats apart), cprev at BX, c at DX, h at DI, n in CX, and
// SI, the byte offset of the current lanes, zero.
#define CELL_PTRS \
	MOVQ gates+0(FP), AX \
	MOVQ stride+8(FP), R8 \
	SHLQ $2, R8 \
	LEAQ (AX)(R8*1), R9 \
	LEAQ (R9)(R8*1), R10 \
	LEAQ (R10)(R8*1), R11 \
	MOVQ cprev+16(FP), BX \
	MOVQ c+24(FP), DX \
	MOVQ h+32(FP), DI \
	MOVQ n+40(FP), CX \
	XORQ SI, SI

// func Touch(p *float32, n int)
//
// Loads the float at p, p+64 bytes, ... below p+4n: loads without a
// dependency between them, as many in flight as the core allows.
TEXT ·Touch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ (SI)(CX*4), DX
loopt:
	MOVL (SI), AX
	ADDQ $64, SI
	CMPQ SI, DX
	JB loopt
	RET

// func MaxCopy(x, p *float32, n int) float32
//
// p[j] = x[j] for j < n (n a positive multiple of 8); returns max p[j].
TEXT ·MaxCopy(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ n+16(FP), CX
	VMOVUPS (SI), Y0
loopc:
	VMOVUPS (SI), Y1
	VMOVUPS Y1, (DI)
	VMAXPS Y1, Y0, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopc
	HMAX_Y0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func MaxMasked(x, mask, p *float32, n int) float32
//
// p[j] = x[j] + (mask[j] == 0 ? -1e9 : 0) for j < n (n a positive multiple
// of 8); returns max p[j].
TEXT ·MaxMasked(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ mask+8(FP), BX
	MOVQ p+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSS expc<>+52(SB), Y5
	VXORPS Y6, Y6, Y6
	VBROADCASTSS expc<>+56(SB), Y0
loopm:
	VMOVUPS (SI), Y1
	VMOVUPS (BX), Y2
	VCMPPS $0, Y6, Y2, Y2 // mask == 0
	VANDPS Y5, Y2, Y2
	VADDPS Y2, Y1, Y1
	VMOVUPS Y1, (DI)
	VMAXPS Y1, Y0, Y0
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopm
	HMAX_Y0
	MOVSS X0, ret+32(FP)
	VZEROUPPER
	RET

// func expSum256(p *float32, n int, mx float32) float64
//
// p[j] = expNeg(p[j] − mx) for j < n (n a positive multiple of 8), with the
// arithmetic of expneg.go operation for operation (no fused multiply-add),
// so each value is bitwise expNeg's. Returns Σ p[j] in float64: two
// 4-lane accumulators, added lane by lane at the end in a fixed order.
TEXT ·expSum256(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y15
	EXPNEG_CONSTS
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
loope:
	VMOVUPS (DI), Y0
	VSUBPS Y15, Y0, Y0 // x = p − mx
	EXPNEG_Y0_Y4
	VMOVUPS Y4, (DI)
	VCVTPS2PD X4, Y1
	VADDPD Y1, Y6, Y6
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD X4, Y1
	VADDPD Y1, Y7, Y7
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loope
	HSUM_Y6_Y7
	MOVSD X6, ret+24(FP)
	VZEROUPPER
	RET

// EXPNEG_Z0_Z4 is EXPNEG_Y0_Y4 on sixteen lanes with AVX-512F, the same
// operations in the same order: Z4 = layers.expNeg(Z0) lane by lane,
// bitwise, with the constants of EXPNEG_CONSTS_Z in Z8..Z14 and Z16..Z21;
// it clobbers Z1..Z3 and K1. K1 keeps the lanes not below the cutoff (NaN
// lanes too), as the AND-NOT of EXPNEG_Y0_Y4 does.
#define EXPNEG_Z0_Z4 \
	VCMPPS $5, Z14, Z0, K1 \
	VMULPS Z13, Z0, Z1 \
	VSUBPS Z12, Z1, Z1 \
	VCVTTPS2DQ Z1, Z2 \
	VCVTDQ2PS Z2, Z1 \
	VMULPS Z11, Z1, Z3 \
	VSUBPS Z3, Z0, Z3 \
	VMULPS Z10, Z1, Z4 \
	VSUBPS Z4, Z3, Z3 \
	VMULPS Z3, Z16, Z4 \
	VADDPS Z17, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z18, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z19, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z20, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z21, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z3, Z4, Z4 \
	VADDPS Z9, Z4, Z4 \
	VPADDD Z8, Z2, Z2 \
	VPSLLD $23, Z2, Z2 \
	VMULPS.Z Z2, Z4, K1, Z4

// EXPNEG_CONSTS_Z loads EXPNEG_Z0_Z4's constants: those of EXPNEG_CONSTS
// in Z8..Z14 and the polynomial's six in Z16..Z21.
#define EXPNEG_CONSTS_Z \
	VBROADCASTSS expc<>+0(SB), Z14 \
	VBROADCASTSS expc<>+4(SB), Z13 \
	VBROADCASTSS expc<>+8(SB), Z12 \
	VBROADCASTSS expc<>+12(SB), Z11 \
	VBROADCASTSS expc<>+16(SB), Z10 \
	VBROADCASTSS expc<>+44(SB), Z9 \
	VPBROADCASTD expc<>+48(SB), Z8 \
	VBROADCASTSS expc<>+20(SB), Z16 \
	VBROADCASTSS expc<>+24(SB), Z17 \
	VBROADCASTSS expc<>+28(SB), Z18 \
	VBROADCASTSS expc<>+32(SB), Z19 \
	VBROADCASTSS expc<>+36(SB), Z20 \
	VBROADCASTSS expc<>+40(SB), Z21

// SIGMOID_Z6_Z3 is sigmoid256's step on the sixteen floats in Z6, into
// Z3 (K3 the lanes where x ≥ 0; Z22 zero, Z15 the sign bit, Z9 one).
#define SIGMOID_Z6_Z3 \
	VCMPPS $13, Z22, Z6, K3 \
	VMOVAPS Z6, Z0 \
	VPXORD Z15, Z6, K3, Z0 \
	EXPNEG_Z0_Z4 \
	VADDPS Z9, Z4, Z1 \
	VMOVAPS Z4, Z2 \
	VMOVAPS Z9, K3, Z2 \
	VDIVPS Z1, Z2, Z3

// TANH_Z6_Z1 is tanh256's step on the sixteen floats in Z6, into Z1 (Z15
// the sign bit, Z9 one, Z22 −2, Z23 0.625, Z24..Z28 the polynomial).
#define TANH_Z6_Z1 \
	VPANDND Z6, Z15, Z7 \
	VMULPS Z7, Z22, Z0 \
	EXPNEG_Z0_Z4 \
	VSUBPS Z4, Z9, Z1 \
	VADDPS Z4, Z9, Z2 \
	VDIVPS Z2, Z1, Z1 \
	VPANDD Z15, Z6, Z3 \
	VPXORD Z3, Z1, Z1 \
	VMULPS Z6, Z6, Z2 \
	VMULPS Z2, Z24, Z3 \
	VADDPS Z25, Z3, Z3 \
	VMULPS Z2, Z3, Z3 \
	VADDPS Z26, Z3, Z3 \
	VMULPS Z2, Z3, Z3 \
	VADDPS Z27, Z3, Z3 \
	VMULPS Z2, Z3, Z3 \
	VADDPS Z28, Z3, Z3 \
	VMULPS Z2, Z3, Z3 \
	VMULPS Z6, Z3, Z3 \
	VADDPS Z6, Z3, Z3 \
	VCMPPS $10, Z23, Z7, K4 \
	VMOVAPS Z3, K4, Z1

// func expSum512(p *float32, n int, mx float32) float64
//
// expSum256 with AVX-512F, sixteen floats a step and a last eight under
// the mask K2. The float64 sum keeps expSum256's eight lanes: lane i of
// Z6 adds element 8·t+i for t = 0, 1, 2, ... in order, as lane i of Y6
// (i < 4) or lane i−4 of Y7 does there, and HSUM_Y6_Y7 ends both.
TEXT ·expSum512(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS mx+16(FP), Z15
	EXPNEG_CONSTS_Z
	VXORPD Z6, Z6, Z6
	MOVQ $0xff, AX
	KMOVW AX, K2

loopz:
	CMPQ CX, $16
	JLT  tailz
	VMOVUPS (DI), Z0
	VSUBPS Z15, Z0, Z0 // x = p − mx
	EXPNEG_Z0_Z4
	VMOVUPS Z4, (DI)
	VCVTPS2PD Y4, Z1
	VADDPD Z1, Z6, Z6
	VEXTRACTF64X4 $1, Z4, Y4
	VCVTPS2PD Y4, Z1
	VADDPD Z1, Z6, Z6
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loopz

tailz:
	TESTQ CX, CX
	JZ    sumz
	VMOVUPS.Z (DI), K2, Z0
	VSUBPS Z15, Z0, Z0
	EXPNEG_Z0_Z4
	VMOVUPS Z4, K2, (DI)
	VCVTPS2PD Y4, Z1
	VADDPD Z1, Z6, Z6

sumz:
	VEXTRACTF64X4 $1, Z6, Y7
	HSUM_Y6_Y7
	MOVSD X6, ret+24(FP)
	VZEROUPPER
	RET

// func SoftmaxLanes(t *float32, n int)
//
// Eight rows of n scores in the lanes of t's n vectors: the lanes' maxima
// (from −inf), then e = expNeg(x − max) stored back and summed in float64
// step by step (lanes 0..3 in Y6, 4..7 in Y7), then each vector scaled by
// float32(1/sum).
TEXT ·SoftmaxLanes(SB), NOSPLIT, $0-16
	MOVQ t+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS expc<>+56(SB), Y15 // −inf
	MOVQ DI, SI
	MOVQ CX, BX
lmax:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y15, Y15
	ADDQ $32, SI
	DECQ BX
	JNZ lmax
	EXPNEG_CONSTS
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ DI, SI
	MOVQ CX, BX
lexp:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0 // x = p − max
	EXPNEG_Y0_Y4
	VMOVUPS Y4, (SI)
	VCVTPS2PD X4, Y1
	VADDPD Y1, Y6, Y6
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD X4, Y1
	VADDPD Y1, Y7, Y7
	ADDQ $32, SI
	DECQ BX
	JNZ lexp
	VCVTPS2PD X9, Y1 // 1.0
	VDIVPD Y6, Y1, Y2
	VDIVPD Y7, Y1, Y3
	VCVTPD2PSY Y2, X2
	VCVTPD2PSY Y3, X3
	VINSERTF128 $1, X3, Y2, Y2 // float32(1/sum), lane by lane
lscale:
	VMOVUPS (DI), Y0
	VMULPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ lscale
	VZEROUPPER
	RET

// func sigmoid256(p *float32, n int)
//
// p[j] = layers.sigmoid32(p[j]): with e = expNeg(−|x|) (−x where x ≥ 0),
// 1/(1 + e) where x ≥ 0 and e/(1 + e) elsewhere, as one division of the
// numerator each lane takes.
TEXT ·sigmoid256(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	EXPNEG_CONSTS
	VBROADCASTSS expc<>+60(SB), Y15 // sign bit
loops:
	VMOVUPS (DI), Y6
	VXORPS Y5, Y5, Y5
	VCMPPS $13, Y5, Y6, Y7  // x ≥ 0
	VXORPS Y15, Y6, Y0
	VBLENDVPS Y7, Y0, Y6, Y0 // −x where x ≥ 0, else x
	EXPNEG_Y0_Y4
	VADDPS Y9, Y4, Y1        // 1 + e
	VBLENDVPS Y7, Y9, Y4, Y2 // 1 where x ≥ 0, else e
	VDIVPS Y1, Y2, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loops
	VZEROUPPER
	RET

// TANH_Y6_Y1 is tanh256's step on the eight floats in Y6, into Y1: |x| in
// Y7, −2|x| into expNeg, ±(1 − e)/(1 + e) with the sign of x, the odd
// polynomial in z = x², and the polynomial's lanes where !(|x| > 0.625)
// (NaN included). It needs EXPNEG_CONSTS and the sign bit in Y15.
#define TANH_Y6_Y1 \
	VANDNPS Y6, Y15, Y7 \
	VBROADCASTSS expc<>+64(SB), Y0 \
	VMULPS Y7, Y0, Y0 \
	EXPNEG_Y0_Y4 \
	VSUBPS Y4, Y9, Y1 \
	VADDPS Y4, Y9, Y2 \
	VDIVPS Y2, Y1, Y1 \
	VANDPS Y15, Y6, Y3 \
	VXORPS Y3, Y1, Y1 \
	VMULPS Y6, Y6, Y2 \
	VBROADCASTSS expc<>+72(SB), Y3 \
	VMULPS Y2, Y3, Y3 \
	VBROADCASTSS expc<>+76(SB), Y4 \
	VADDPS Y4, Y3, Y3 \
	VMULPS Y2, Y3, Y3 \
	VBROADCASTSS expc<>+80(SB), Y4 \
	VADDPS Y4, Y3, Y3 \
	VMULPS Y2, Y3, Y3 \
	VBROADCASTSS expc<>+84(SB), Y4 \
	VADDPS Y4, Y3, Y3 \
	VMULPS Y2, Y3, Y3 \
	VBROADCASTSS expc<>+88(SB), Y4 \
	VADDPS Y4, Y3, Y3 \
	VMULPS Y2, Y3, Y3 \
	VMULPS Y6, Y3, Y3 \
	VADDPS Y6, Y3, Y3 \
	VBROADCASTSS expc<>+68(SB), Y4 \
	VCMPPS $10, Y4, Y7, Y5 \
	VBLENDVPS Y5, Y3, Y1, Y1

// func tanh256(p *float32, n int)
//
// p[j] = layers.tanh32(p[j]): the odd polynomial where !(|x| > 0.625)
// (NaN included), else ±(1 − e)/(1 + e) with e = expNeg(−2|x|) and the
// sign of x.
TEXT ·tanh256(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	EXPNEG_CONSTS
	VBROADCASTSS expc<>+60(SB), Y15 // sign bit
loopt:
	VMOVUPS (DI), Y6
	TANH_Y6_Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopt
	VZEROUPPER
	RET

// func Scale(p *float32, n int, s float32)
//
// p[j] *= s for j < n (n a positive multiple of 8).
TEXT ·Scale(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
loops:
	VMOVUPS (DI), Y0
	VMULPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loops
	VZEROUPPER
	RET

// func Dot(a, b *float32, n int) float64
//
// Σ a[j]·b[j] for j < n (n a positive multiple of 8), products and sums in
// float64: two 4-lane accumulators added in a fixed order at the end.
TEXT ·Dot(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
loopd:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD (DI), Y1
	VFMADD231PD Y1, Y0, Y6
	VCVTPS2PD 16(SI), Y2
	VCVTPS2PD 16(DI), Y3
	VFMADD231PD Y3, Y2, Y7
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopd
	HSUM_Y6_Y7
	MOVSD X6, ret+24(FP)
	VZEROUPPER
	RET

// func SoftmaxGrad(p, gp, gx *float32, n int, dot float32)
//
// gx[j] = p[j]·(gp[j] − dot) for j < n (n a positive multiple of 8).
TEXT ·SoftmaxGrad(SB), NOSPLIT, $0-36
	MOVQ p+0(FP), SI
	MOVQ gp+8(FP), BX
	MOVQ gx+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSS dot+32(FP), Y2
loopg:
	VMOVUPS (BX), Y0
	VSUBPS Y2, Y0, Y0
	VMULPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopg
	VZEROUPPER
	RET

// func PiecewiseGrad(x, m, gy, gx *float32, n int, relu bool)
//
// gx[j] = gy[j]·m[j]·s[j] with s[j] = 1 where x[j] > 0, else 0 (relu), or
// s[j] = 1 (the identity); 0 where m[j] = 0. m nil stands for all ones,
// and then the product is gy[j]·s[j], as gy[j]·1 is gy[j].
TEXT ·PiecewiseGrad(SB), NOSPLIT, $0-41
	MOVQ x+0(FP), AX
	MOVQ m+8(FP), SI
	MOVQ gy+16(FP), DX
	MOVQ gx+24(FP), DI
	MOVQ n+32(FP), CX
	MOVBLZX relu+40(FP), BX
	VXORPS Y7, Y7, Y7               // 0
	VBROADCASTSS expc<>+44(SB), Y6  // 1
	TESTQ SI, SI
	JZ nomask
loopm:
	VMOVUPS (DX), Y0
	VMOVUPS (SI), Y1
	VMULPS Y1, Y0, Y0               // g·m
	TESTQ BX, BX
	JZ keepm
	VMOVUPS (AX), Y2
	VCMPPS $0x1e, Y7, Y2, Y3        // x > 0
	VANDPS Y6, Y3, Y3               // s
	VMULPS Y3, Y0, Y0
keepm:
	VCMPPS $0, Y7, Y1, Y4           // m = 0
	VANDNPS Y0, Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, AX
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopm
	VZEROUPPER
	RET
nomask:
	VMOVUPS (DX), Y0
	TESTQ BX, BX
	JZ keep
	VMOVUPS (AX), Y2
	VCMPPS $0x1e, Y7, Y2, Y3        // x > 0
	VANDPS Y6, Y3, Y3               // s
	VMULPS Y3, Y0, Y0
keep:
	VMOVUPS Y0, (DI)
	ADDQ $32, AX
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ nomask
	VZEROUPPER
	RET

// func SwiGLU(gt, v, s, y *float32, n int)
//
// Four lanes of float64 a step: y = float32((g·s)·v).
TEXT ·SwiGLU(SB), NOSPLIT, $0-40
	MOVQ gt+0(FP), AX
	MOVQ v+8(FP), BX
	MOVQ s+16(FP), DX
	MOVQ y+24(FP), DI
	MOVQ n+32(FP), CX
	XORQ SI, SI
loopswiglu:
	VCVTPS2PD (AX)(SI*1), Y0
	VCVTPS2PD (DX)(SI*1), Y2
	VCVTPS2PD (BX)(SI*1), Y1
	VMULPD Y2, Y0, Y0
	VMULPD Y1, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS X0, (DI)(SI*1)
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ loopswiglu
	VZEROUPPER
	RET

// func SwiGLUGrad(gt, v, s, dy, dg, dv *float32, n int)
//
// Four lanes of float64 a step: dv = float32((d·g)·s) and dg =
// float32(((d·v)·s)·(1 + g·(1 − s))), each operation rounded on its own.
TEXT ·SwiGLUGrad(SB), NOSPLIT, $0-56
	MOVQ gt+0(FP), AX
	MOVQ v+8(FP), BX
	MOVQ s+16(FP), DX
	MOVQ dy+24(FP), R8
	MOVQ dg+32(FP), DI
	MOVQ dv+40(FP), R9
	MOVQ n+48(FP), CX
	XORQ SI, SI
	MOVQ $0x3ff0000000000000, R10 // 1.0
	MOVQ R10, X15
	VBROADCASTSD X15, Y15
loopswiglugrad:
	VCVTPS2PD (AX)(SI*1), Y0 // g
	VCVTPS2PD (BX)(SI*1), Y1 // v
	VCVTPS2PD (DX)(SI*1), Y2 // s
	VCVTPS2PD (R8)(SI*1), Y3 // d
	VMULPD Y0, Y3, Y4        // d·g
	VMULPD Y2, Y4, Y4        // ·s
	VCVTPD2PSY Y4, X4
	VMOVUPS X4, (R9)(SI*1)
	VSUBPD Y2, Y15, Y5       // 1 − s
	VMULPD Y5, Y0, Y5        // g·(1 − s)
	VADDPD Y15, Y5, Y5       // 1 + g·(1 − s)
	VMULPD Y1, Y3, Y6        // d·v
	VMULPD Y2, Y6, Y6        // ·s
	VMULPD Y5, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (DI)(SI*1)
	ADDQ $16, SI
	SUBQ $4, CX
	JNZ loopswiglugrad
	VZEROUPPER
	RET

// func Add(x, y, z *float32, n int)
//
// z[j] = x[j] + y[j] for j < n (n a positive multiple of 8).
TEXT ·Add(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ z+16(FP), DI
	MOVQ n+24(FP), CX
loopadd:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopadd
	VZEROUPPER
	RET

// func AddMul(x, y, m, z *float32, n int)
//
// z[j] = x[j] + y[j]·m[j] for j < n (n a positive multiple of 8), the
// product rounded on its own (no fused multiply-add), as Go computes it.
TEXT ·AddMul(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ m+16(FP), BX
	MOVQ z+24(FP), DI
	MOVQ n+32(FP), CX
loopaddmul:
	VMOVUPS (DX), Y0
	VMULPS (BX), Y0, Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, BX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopaddmul
	VZEROUPPER
	RET

// func Mul(x, y, z *float32, n int)
//
// z[j] = x[j]·y[j] for j < n (n a positive multiple of 8).
TEXT ·Mul(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ z+16(FP), DI
	MOVQ n+24(FP), CX
loopmul:
	VMOVUPS (SI), Y0
	VMULPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopmul
	VZEROUPPER
	RET

// func Norm(x, w, b, y *float32, n int, mu, rstd float64)
//
// y[j] = float32(((float64(x[j]) − mu)·rstd)·float64(w[j]) + float64(b[j]))
// for j < n (n a positive multiple of 8), each operation rounded on its
// own, as Go computes it; b nil adds nothing.
TEXT ·Norm(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DX
	MOVQ b+16(FP), BX
	MOVQ y+24(FP), DI
	MOVQ n+32(FP), CX
	VBROADCASTSD mu+40(FP), Y6
	VBROADCASTSD rstd+48(FP), Y7
loopnorm:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VSUBPD Y6, Y0, Y0
	VSUBPD Y6, Y1, Y1
	VMULPD Y7, Y0, Y0
	VMULPD Y7, Y1, Y1
	VCVTPS2PD (DX), Y2
	VCVTPS2PD 16(DX), Y3
	VMULPD Y2, Y0, Y0
	VMULPD Y3, Y1, Y1
	TESTQ BX, BX
	JZ nobias
	VCVTPS2PD (BX), Y2
	VCVTPS2PD 16(BX), Y3
	VADDPD Y2, Y0, Y0
	VADDPD Y3, Y1, Y1
	ADDQ $32, BX
nobias:
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VMOVUPS X0, (DI)
	VMOVUPS X1, 16(DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopnorm
	VZEROUPPER
	RET

// func NormGrad(gy, w *float32, h *float64, gx *float32, n int, sd, m, mx float64)
//
// gx[j] = float32(sd·((float64(gy[j])·float64(w[j]) − m) − h[j]·mx)) for
// j < n (n a positive multiple of 8), each operation rounded on its own.
TEXT ·NormGrad(SB), NOSPLIT, $0-64
	MOVQ gy+0(FP), SI
	MOVQ w+8(FP), DX
	MOVQ h+16(FP), BX
	MOVQ gx+24(FP), DI
	MOVQ n+32(FP), CX
	VBROADCASTSD sd+40(FP), Y5
	VBROADCASTSD m+48(FP), Y6
	VBROADCASTSD mx+56(FP), Y7
loopng:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VCVTPS2PD (DX), Y2
	VCVTPS2PD 16(DX), Y3
	VMULPD Y2, Y0, Y0
	VMULPD Y3, Y1, Y1
	VSUBPD Y6, Y0, Y0
	VSUBPD Y6, Y1, Y1
	VMULPD (BX), Y7, Y2
	VMULPD 32(BX), Y7, Y3
	VSUBPD Y2, Y0, Y0
	VSUBPD Y3, Y1, Y1
	VMULPD Y5, Y0, Y0
	VMULPD Y5, Y1, Y1
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VMOVUPS X0, (DI)
	VMOVUPS X1, 16(DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $64, BX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loopng
	VZEROUPPER
	RET

// func Piecewise(x, m, y *float32, n int, relu bool)
//
// y[j] = f(x[j])·m[j] for j < n (n a positive multiple of 8), f Go's
// max(x, 0) with relu, else the identity; m nil multiplies by nothing.
// max(0, x) with x as the second operand returns x where x is NaN, and
// −0 where x is −0; adding +0 then gives Go's +0 and keeps the rest.
TEXT ·Piecewise(SB), NOSPLIT, $0-33
	MOVQ x+0(FP), AX
	MOVQ m+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	MOVBLZX relu+32(FP), BX
	VXORPS Y7, Y7, Y7
looppw:
	VMOVUPS (AX), Y0
	TESTQ BX, BX
	JZ pwmask
	VMAXPS Y0, Y7, Y0
	VADDPS Y7, Y0, Y0
pwmask:
	TESTQ SI, SI
	JZ pwstore
	VMULPS (SI), Y0, Y0
	ADDQ $32, SI
pwstore:
	VMOVUPS Y0, (DI)
	ADDQ $32, AX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ looppw
	VZEROUPPER
	RET

// TRANSPOSE4PD sets o0..o3 to the columns of the 4x4 float64 matrix whose
// rows are r0..r3 (lane j of o_i is lane i of r_j), through t0..t3; o may
// be r.
#define TRANSPOSE4PD(r0, r1, r2, r3, t0, t1, t2, t3, o0, o1, o2, o3) \
	VUNPCKLPD r1, r0, t0; VUNPCKHPD r1, r0, t1; VUNPCKLPD r3, r2, t2; VUNPCKHPD r3, r2, t3; \
	VPERM2F128 $0x20, t2, t0, o0; VPERM2F128 $0x20, t3, t1, o1; \
	VPERM2F128 $0x31, t2, t0, o2; VPERM2F128 $0x31, t3, t1, o3

// func NormParts4(x, gy, w *float32, d int, hat, pw, pb *float64, n int, st *[16]float64)
//
// The k steps j < n (n a positive multiple of 4) of a norm's backward pass
// over four rows (x and gy rows d floats apart, hat rows d float64s apart)
// as layers.normGradRows runs them, each operation rounded on its own:
//
//	a_i = (x_i[j] − mu_i)·rstd_i, hat_i[j] = a_i
//	pw[j] = (((pw[j] + g_0·a_0) + g_1·a_1) + g_2·a_2) + g_3·a_3
//	pb[j] = (((pb[j] + g_0) + g_1) + g_2) + g_3
//	q_i = g_i·w[j], sg_i += q_i, sgx_i += q_i·a_i
//
// with g_i = gy_i[j], st = mu[4], rstd[4], sg[4], sgx[4] (sg and sgx
// updated). Four k steps at a time: the rows are read as four runs of four
// and turned (4×4 transposes) into per-step vectors of the four rows for
// a, sg and sgx, and back into per-row vectors for hat, pw and pb.
TEXT ·NormParts4(SB), NOSPLIT, $0-72
	MOVQ x+0(FP), SI
	MOVQ gy+8(FP), R9
	MOVQ w+16(FP), DX
	MOVQ d+24(FP), R8
	MOVQ hat+32(FP), BX
	MOVQ pw+40(FP), DI
	MOVQ pb+48(FP), R13
	MOVQ n+56(FP), CX
	MOVQ st+64(FP), AX
	LEAQ (R8*8), R11
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10
	LEAQ (R11)(R11*2), R12
	VMOVUPD 0(AX), Y12
	VMOVUPD 32(AX), Y13
	VMOVUPD 64(AX), Y14
	VMOVUPD 96(AX), Y15
loopparts:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD (SI)(R8*1), Y1
	VCVTPS2PD (SI)(R8*2), Y2
	VCVTPS2PD (SI)(R10*1), Y3
	TRANSPOSE4PD(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y0, Y1, Y2, Y3)
	VSUBPD Y12, Y0, Y0
	VSUBPD Y12, Y1, Y1
	VSUBPD Y12, Y2, Y2
	VSUBPD Y12, Y3, Y3
	VMULPD Y13, Y0, Y0
	VMULPD Y13, Y1, Y1
	VMULPD Y13, Y2, Y2
	VMULPD Y13, Y3, Y3
	TRANSPOSE4PD(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPD Y8, (BX)
	VMOVUPD Y9, (BX)(R11*1)
	VMOVUPD Y10, (BX)(R11*2)
	VMOVUPD Y11, (BX)(R12*1)
	VCVTPS2PD (R9), Y4
	VCVTPS2PD (R9)(R8*1), Y5
	VCVTPS2PD (R9)(R8*2), Y6
	VCVTPS2PD (R9)(R10*1), Y7
	VMULPD Y4, Y8, Y8
	VMULPD Y5, Y9, Y9
	VMULPD Y6, Y10, Y10
	VMULPD Y7, Y11, Y11
	VADDPD (DI), Y8, Y8
	VADDPD Y9, Y8, Y8
	VADDPD Y10, Y8, Y8
	VADDPD Y11, Y8, Y8
	VMOVUPD Y8, (DI)
	VADDPD (R13), Y4, Y8
	VADDPD Y5, Y8, Y8
	VADDPD Y6, Y8, Y8
	VADDPD Y7, Y8, Y8
	VMOVUPD Y8, (R13)
	TRANSPOSE4PD(Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y4, Y5, Y6, Y7)
	VCVTPS2PD (DX), Y8
	VPERMPD $0x00, Y8, Y9
	VMULPD Y9, Y4, Y4
	VADDPD Y4, Y14, Y14
	VMULPD Y0, Y4, Y4
	VADDPD Y4, Y15, Y15
	VPERMPD $0x55, Y8, Y9
	VMULPD Y9, Y5, Y5
	VADDPD Y5, Y14, Y14
	VMULPD Y1, Y5, Y5
	VADDPD Y5, Y15, Y15
	VPERMPD $0xAA, Y8, Y9
	VMULPD Y9, Y6, Y6
	VADDPD Y6, Y14, Y14
	VMULPD Y2, Y6, Y6
	VADDPD Y6, Y15, Y15
	VPERMPD $0xFF, Y8, Y9
	VMULPD Y9, Y7, Y7
	VADDPD Y7, Y14, Y14
	VMULPD Y3, Y7, Y7
	VADDPD Y7, Y15, Y15
	ADDQ $16, SI
	ADDQ $16, R9
	ADDQ $16, DX
	ADDQ $32, BX
	ADDQ $32, DI
	ADDQ $32, R13
	SUBQ $4, CX
	JNZ loopparts
	VMOVUPD Y14, 64(AX)
	VMOVUPD Y15, 96(AX)
	VZEROUPPER
	RET

// func sigmoid512(p *float32, n int)
//
// sigmoid256 with AVX-512F, sixteen floats a step and a last eight under
// the mask K2: the same operations on each lane, so the same bits.
TEXT ·sigmoid512(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	EXPNEG_CONSTS_Z
	VPBROADCASTD expc<>+60(SB), Z15 // sign bit
	VPXORD Z22, Z22, Z22
	MOVQ $0xff, AX
	KMOVW AX, K2

loopsz:
	CMPQ CX, $16
	JLT  tailsz
	VMOVUPS (DI), Z6
	SIGMOID_Z6_Z3
	VMOVUPS Z3, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  loopsz

tailsz:
	TESTQ CX, CX
	JZ    donesz
	VMOVUPS.Z (DI), K2, Z6
	SIGMOID_Z6_Z3
	VMOVUPS Z3, K2, (DI)

donesz:
	VZEROUPPER
	RET

// func tanh512(p *float32, n int)
//
// tanh256 with AVX-512F, sixteen floats a step and a last eight under the
// mask K2: the same operations on each lane, so the same bits.
TEXT ·tanh512(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	EXPNEG_CONSTS_Z
	VPBROADCASTD expc<>+60(SB), Z15 // sign bit
	VBROADCASTSS expc<>+64(SB), Z22 // −2
	VBROADCASTSS expc<>+68(SB), Z23 // 0.625
	VBROADCASTSS expc<>+72(SB), Z24 // tanh32's polynomial
	VBROADCASTSS expc<>+76(SB), Z25
	VBROADCASTSS expc<>+80(SB), Z26
	VBROADCASTSS expc<>+84(SB), Z27
	VBROADCASTSS expc<>+88(SB), Z28
	MOVQ $0xff, AX
	KMOVW AX, K2

looptz:
	CMPQ CX, $16
	JLT  tailtz
	VMOVUPS (DI), Z6
	TANH_Z6_Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  looptz

tailtz:
	TESTQ CX, CX
	JZ    donetz
	VMOVUPS.Z (DI), K2, Z6
	TANH_Z6_Z1
	VMOVUPS Z1, K2, (DI)

donetz:
	VZEROUPPER
	RET

// func cell256(gates *float32, stride int, cprev, c, h *float32, n int)
//
// For j < n (a positive multiple of 8): c[j] = float32(f·cprev[j] + i·g)
// in float64 (the products exact, one rounding of their sum), then
// h[j] = o·tanh32(c[j]) in float32 (the correctly rounded product, as
// float32(o·t) in float64 rounds it), with the gates i, f, g, o at
// gates[j], gates[stride+j], gates[2·stride+j], gates[3·stride+j].
TEXT ·cell256(SB), NOSPLIT, $0-48
	CELL_PTRS
	EXPNEG_CONSTS
	VBROADCASTSS expc<>+60(SB), Y15 // sign bit

loopc:
	CELL_PD(0, X5)
	CELL_PD(16, X6)
	VINSERTF128 $1, X6, Y5, Y6
	VMOVUPS Y6, (DX)(SI*1)
	TANH_Y6_Y1
	VMULPS (R11)(SI*1), Y1, Y1
	VMOVUPS Y1, (DI)(SI*1)
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ  loopc
	VZEROUPPER
	RET

// func cell512(gates *float32, stride int, cprev, c, h *float32, n int)
//
// cell256 with AVX-512F, sixteen lanes a step and a last eight under the
// mask K2: the same operations on each lane, so the same bits.
TEXT ·cell512(SB), NOSPLIT, $0-48
	CELL_PTRS
	EXPNEG_CONSTS_Z
	VPBROADCASTD expc<>+60(SB), Z15 // sign bit
	VBROADCASTSS expc<>+64(SB), Z22 // −2
	VBROADCASTSS expc<>+68(SB), Z23 // 0.625
	VBROADCASTSS expc<>+72(SB), Z24 // tanh32's polynomial
	VBROADCASTSS expc<>+76(SB), Z25
	VBROADCASTSS expc<>+80(SB), Z26
	VBROADCASTSS expc<>+84(SB), Z27
	VBROADCASTSS expc<>+88(SB), Z28
	MOVQ $0xff, R12
	KMOVW R12, K2

loopcz:
	CMPQ CX, $16
	JLT  tailcz
	CELL_PD8(0, Y5)
	CELL_PD8(32, Y6)
	VINSERTF64X4 $1, Y6, Z5, Z6
	VMOVUPS Z6, (DX)(SI*1)
	TANH_Z6_Z1
	VMULPS (R11)(SI*1), Z1, Z1
	VMOVUPS Z1, (DI)(SI*1)
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  loopcz

tailcz:
	TESTQ CX, CX
	JZ    donecz
	CELL_PD8(0, Y6)
	VMOVUPS Y6, (DX)(SI*1)
	TANH_Z6_Z1
	VMOVUPS.Z (R11)(SI*1), K2, Z5
	VMULPS Z5, Z1, Z1
	VMOVUPS Z1, K2, (DI)(SI*1)

donecz:
	VZEROUPPER
	RET

// func CellGrad(gh, dhNext, gates *float32, stride int, tc, dcNext, cprev, d *float32, dStride, n int)
//
// An LSTM cell's backward step over n elements (a positive multiple of
// 4), in float64 with the Go loop's operations in its order (no fused
// multiply-add): dh = gh + dhNext (float32), dc = dcNext + dh·o·(1 − tc²);
// then d (rows dStride floats apart) gets dc·g·i·(1 − i), dc·cprev·f·(1 −
// f), dc·i·(1 − g²) and dh·tc·o·(1 − o), and dcNext dc·f, each rounded to
// float32. The gates i, f, g, o are at gates[j], gates[stride+j], ...
// It prefetches the rows dStride floats before gh, the gates and cprev:
// the previous step's, which the backward pass reads next, far apart in
// memory (a prefetch never faults, even before the first row).
TEXT ·CellGrad(SB), NOSPLIT, $8-80
	MOVQ n+72(FP), AX
	SHRQ $2, AX
	MOVQ AX, left-8(SP)
	MOVQ gh+0(FP), AX
	MOVQ dhNext+8(FP), BX
	MOVQ gates+16(FP), CX
	MOVQ stride+24(FP), R8
	SHLQ $2, R8
	LEAQ (CX)(R8*1), DX  // f
	LEAQ (DX)(R8*1), SI  // g
	LEAQ (SI)(R8*1), DI  // o
	MOVQ tc+32(FP), R8
	MOVQ dcNext+40(FP), R9
	MOVQ cprev+48(FP), R10
	MOVQ d+56(FP), R11
	MOVQ dStride+64(FP), R12
	SHLQ $2, R12
	LEAQ (R11)(R12*2), R13
	ADDQ R12, R13 // d row o
	MOVQ R12, R14
	NEGQ R14      // the previous step's rows: dStride floats back
	VBROADCASTSS expc<>+44(SB), X15
	VCVTPS2PD X15, Y15 // 1.0

loopg:
	PREFETCHT0 (AX)(R14*1)
	PREFETCHT0 (CX)(R14*1)
	PREFETCHT0 (DX)(R14*1)
	PREFETCHT0 (SI)(R14*1)
	PREFETCHT0 (DI)(R14*1)
	PREFETCHT0 (R10)(R14*1)
	VMOVUPS (AX), X0
	VADDPS (BX), X0, X0
	VCVTPS2PD X0, Y0   // dh
	VCVTPS2PD (DI), Y1 // o
	VCVTPS2PD (R8), Y2 // tc
	VMULPD Y1, Y0, Y3
	VMULPD Y2, Y2, Y4
	VSUBPD Y4, Y15, Y4
	VMULPD Y4, Y3, Y3
	VCVTPS2PD (R9), Y4
	VADDPD Y3, Y4, Y5  // dc
	VMULPD Y2, Y0, Y6
	VMULPD Y1, Y6, Y6
	VSUBPD Y1, Y15, Y7
	VMULPD Y7, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (R13)  // dh·tc·o·(1 − o)
	VCVTPS2PD (CX), Y1 // i
	VCVTPS2PD (SI), Y2 // g
	VMULPD Y2, Y5, Y6
	VMULPD Y1, Y6, Y6
	VSUBPD Y1, Y15, Y7
	VMULPD Y7, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (R11)  // dc·g·i·(1 − i)
	VMULPD Y1, Y5, Y6
	VMULPD Y2, Y2, Y7
	VSUBPD Y7, Y15, Y7
	VMULPD Y7, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (R11)(R12*2) // dc·i·(1 − g²)
	VCVTPS2PD (DX), Y1 // f
	VCVTPS2PD (R10), Y2 // cprev
	VMULPD Y2, Y5, Y6
	VMULPD Y1, Y6, Y6
	VSUBPD Y1, Y15, Y7
	VMULPD Y7, Y6, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (R11)(R12*1) // dc·cprev·f·(1 − f)
	VMULPD Y1, Y5, Y6
	VCVTPD2PSY Y6, X6
	VMOVUPS X6, (R9)   // dcNext = dc·f
	ADDQ $16, AX
	ADDQ $16, BX
	ADDQ $16, CX
	ADDQ $16, DX
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $16, R10
	ADDQ $16, R11
	ADDQ $16, R13
	DECQ left-8(SP)
	JNZ  loopg
	VZEROUPPER
	RET

// ROWS4T(x0, x1, x2, x3) loads four floats from each of four rows and
// transposes them: X2..X5 hold steps j, j+1, j+2, j+3 of the rows, row r
// in lane r (X6..X9 scratch).
#define ROWS4T(x0, x1, x2, x3) \
	VMOVUPS x0, X2 \
	VMOVUPS x1, X3 \
	VMOVUPS x2, X4 \
	VMOVUPS x3, X5 \
	VUNPCKLPS X3, X2, X6 \
	VUNPCKHPS X3, X2, X7 \
	VUNPCKLPS X5, X4, X8 \
	VUNPCKHPS X5, X4, X9 \
	VMOVLHPS X8, X6, X2 \
	VMOVHLPS X6, X8, X3 \
	VMOVLHPS X9, X7, X4 \
	VMOVHLPS X7, X9, X5

// SUM4(acc) adds the four steps in X2..X5, in order, to the float64 lanes
// of acc.
#define SUM4(acc) \
	VCVTPS2PD X2, Y2 \
	VADDPD Y2, acc, acc \
	VCVTPS2PD X3, Y3 \
	VADDPD Y3, acc, acc \
	VCVTPS2PD X4, Y4 \
	VADDPD Y4, acc, acc \
	VCVTPS2PD X5, Y5 \
	VADDPD Y5, acc, acc

// SQ4(mu, acc) adds the squares of the four steps in X2..X5 less mu, in
// order, to the float64 lanes of acc.
#define SQ4(mu, acc) \
	VCVTPS2PD X2, Y2 \
	VSUBPD mu, Y2, Y2 \
	VMULPD Y2, Y2, Y2 \
	VADDPD Y2, acc, acc \
	VCVTPS2PD X3, Y3 \
	VSUBPD mu, Y3, Y3 \
	VMULPD Y3, Y3, Y3 \
	VADDPD Y3, acc, acc \
	VCVTPS2PD X4, Y4 \
	VSUBPD mu, Y4, Y4 \
	VMULPD Y4, Y4, Y4 \
	VADDPD Y4, acc, acc \
	VCVTPS2PD X5, Y5 \
	VSUBPD mu, Y5, Y5 \
	VMULPD Y5, Y5, Y5 \
	VADDPD Y5, acc, acc

// func RowStats8(x *float32, d int, rms bool, mu, ss *[8]float64)
//
// For the eight rows of x (d floats each, one after another; d a positive
// multiple of 4): mu[r] = (Σ_j x[r][j]) / d, the sum in float64 in order
// of j (0 with rms), and ss[r] = Σ_j (x[r][j] − mu[r])², each square
// rounded before it is added, in order of j. Rows 0..3 run in the lanes
// of one register, 4..7 in another: two chains of adds where the Go loop
// has one per row.
TEXT ·RowStats8(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ d+8(FP), R8
	MOVQ R8, CX
	SHRQ $2, CX           // steps of four
	SHLQ $2, R8           // a row's bytes
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R10  // row 4
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVBLZX rms+16(FP), AX
	TESTQ AX, AX
	JNZ   squares
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ CX, DX

means:
	ROWS4T((R11), (R11)(R8*1), (R11)(R8*2), (R11)(R9*1))
	SUM4(Y0)
	ROWS4T((R12), (R12)(R8*1), (R12)(R8*2), (R12)(R9*1))
	SUM4(Y1)
	ADDQ $16, R11
	ADDQ $16, R12
	DECQ DX
	JNZ  means
	CVTSQ2SD d+8(FP), X10
	VBROADCASTSD X10, Y10
	VDIVPD Y10, Y0, Y0
	VDIVPD Y10, Y1, Y1

squares:
	MOVQ mu+24(FP), AX
	VMOVUPD Y0, (AX)
	VMOVUPD Y1, 32(AX)
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

sq:
	ROWS4T((SI), (SI)(R8*1), (SI)(R8*2), (SI)(R9*1))
	SQ4(Y0, Y10)
	ROWS4T((R10), (R10)(R8*1), (R10)(R8*2), (R10)(R9*1))
	SQ4(Y1, Y11)
	ADDQ $16, SI
	ADDQ $16, R10
	DECQ CX
	JNZ  sq
	MOVQ ss+32(FP), AX
	VMOVUPD Y10, (AX)
	VMOVUPD Y11, 32(AX)
	VZEROUPPER
	RET

// math/rand/v2's PCG constants (pcg.go), a 32-bit mask and 1, for PCGMask8.
DATA pcgc<>+0(SB)/8, $4865540595714422341
DATA pcgc<>+8(SB)/8, $2549297995355413924
DATA pcgc<>+16(SB)/8, $1442695040888963407
DATA pcgc<>+24(SB)/8, $6364136223846793005
DATA pcgc<>+32(SB)/8, $0xda942042e4dd58b5
DATA pcgc<>+40(SB)/8, $0xffffffff
DATA pcgc<>+48(SB)/8, $1
GLOBL pcgc<>(SB), RODATA|NOPTR, $56

// PCG_Z16_Z17(out) advances the eight generators (hi Z16, lo Z17) one
// step as PCG.next does, and sets out to the mask elements of the step's
// Uint64 x (DXSM, as PCG.Uint64): each 32-bit half of x at or above the
// drop threshold (Z23) gives the keep scale (Z24), one below it 0. The
// 128-bit product lo·mulLo is put together from 32-bit products: its high
// half is p11 + p01>>32 + p10>>32 + mid>>32, mid = p00>>32 + (p01 & m) +
// (p10 & m), and its low half (mid<<32) | (p00 & m). Constants: Z18
// mulLo, Z19 mulHi, Z20 incLo, Z21 incHi, Z22 cheapMul, Z25 and Z26 the
// low and high halves of mulLo, Z27 the 32-bit mask m, Z28 1. Temporaries
// Z8-Z12, Z29, Z30, K1, K2.
#define PCG_Z16_Z17(out) \
	VPSRLQ    $32, Z17, Z8 \
	VPMULUDQ  Z25, Z17, Z9 \
	VPMULUDQ  Z26, Z17, Z10 \
	VPMULUDQ  Z25, Z8, Z11 \
	VPMULUDQ  Z26, Z8, Z8 \
	VPSRLQ    $32, Z9, Z12 \
	VPANDQ    Z27, Z10, Z29 \
	VPADDQ    Z29, Z12, Z12 \
	VPANDQ    Z27, Z11, Z29 \
	VPADDQ    Z29, Z12, Z12 \
	VPSRLQ    $32, Z10, Z10 \
	VPSRLQ    $32, Z11, Z11 \
	VPADDQ    Z10, Z8, Z8 \
	VPADDQ    Z11, Z8, Z8 \
	VPSRLQ    $32, Z12, Z29 \
	VPADDQ    Z29, Z8, Z8 \
	VPSLLQ    $32, Z12, Z12 \
	VPANDQ    Z27, Z9, Z9 \
	VPORQ     Z9, Z12, Z12 \
	VPMULLQ   Z18, Z16, Z29 \
	VPADDQ    Z29, Z8, Z8 \
	VPMULLQ   Z19, Z17, Z29 \
	VPADDQ    Z29, Z8, Z8 \
	VPADDQ    Z20, Z12, Z17 \
	VPCMPUQ   $1, Z20, Z17, K1 \
	VPADDQ    Z21, Z8, Z16 \
	VPADDQ    Z28, Z16, K1, Z16 \
	VPSRLQ    $32, Z16, Z29 \
	VPXORQ    Z16, Z29, Z29 \
	VPMULLQ   Z22, Z29, Z29 \
	VPSRLQ    $48, Z29, Z30 \
	VPXORQ    Z30, Z29, Z29 \
	VPORQ     Z28, Z17, Z30 \
	VPMULLQ   Z30, Z29, Z29 \
	VPCMPUD   $5, Z23, Z29, K2 \
	VMOVAPS.Z Z24, K2, out

// PCG_STORE(off, z) stores z, sixteen elements of a row, at byte SI of the
// row whose pointer is at off(BX).
#define PCG_STORE(off, z) \
	MOVQ      off(BX), DX \
	VMOVDQU64 z, (DX)(SI*1)

// func PCGMask8(st *[16]uint64, rows *[8]*float32, n int, drop uint32, scale float32)
//
// Eight generators side by side (AVX-512F and DQ), one per row: eight
// steps into Z0-Z7 (a step's lane i is row i's two elements), an 8×8
// transpose of their 64-bit lanes, and each row's sixteen elements stored
// at once.
TEXT ·PCGMask8(SB), NOSPLIT, $0-32
	MOVQ st+0(FP), AX
	MOVQ rows+8(FP), BX
	MOVQ n+16(FP), CX
	MOVL drop+24(FP), DX
	VPBROADCASTD DX, Z23
	VBROADCASTSS scale+28(FP), Z24
	VMOVDQU64 (AX), Z16
	VMOVDQU64 64(AX), Z17
	VPBROADCASTQ pcgc<>+0(SB), Z18
	VPBROADCASTQ pcgc<>+8(SB), Z19
	VPBROADCASTQ pcgc<>+16(SB), Z20
	VPBROADCASTQ pcgc<>+24(SB), Z21
	VPBROADCASTQ pcgc<>+32(SB), Z22
	VPBROADCASTQ pcgc<>+40(SB), Z27
	VPBROADCASTQ pcgc<>+48(SB), Z28
	VPANDQ Z27, Z18, Z25
	VPSRLQ $32, Z18, Z26
	XORQ SI, SI

looppcg:
	PCG_Z16_Z17(Z0)
	PCG_Z16_Z17(Z1)
	PCG_Z16_Z17(Z2)
	PCG_Z16_Z17(Z3)
	PCG_Z16_Z17(Z4)
	PCG_Z16_Z17(Z5)
	PCG_Z16_Z17(Z6)
	PCG_Z16_Z17(Z7)
	VPUNPCKLQDQ Z1, Z0, Z8
	VPUNPCKHQDQ Z1, Z0, Z9
	VPUNPCKLQDQ Z3, Z2, Z10
	VPUNPCKHQDQ Z3, Z2, Z11
	VPUNPCKLQDQ Z5, Z4, Z12
	VPUNPCKHQDQ Z5, Z4, Z13
	VPUNPCKLQDQ Z7, Z6, Z14
	VPUNPCKHQDQ Z7, Z6, Z15
	VSHUFI64X2  $0x88, Z10, Z8, Z0
	VSHUFI64X2  $0xdd, Z10, Z8, Z1
	VSHUFI64X2  $0x88, Z11, Z9, Z2
	VSHUFI64X2  $0xdd, Z11, Z9, Z3
	VSHUFI64X2  $0x88, Z14, Z12, Z4
	VSHUFI64X2  $0xdd, Z14, Z12, Z5
	VSHUFI64X2  $0x88, Z15, Z13, Z6
	VSHUFI64X2  $0xdd, Z15, Z13, Z7
	VSHUFI64X2  $0x88, Z4, Z0, Z8
	VSHUFI64X2  $0xdd, Z4, Z0, Z12
	VSHUFI64X2  $0x88, Z5, Z1, Z10
	VSHUFI64X2  $0xdd, Z5, Z1, Z14
	VSHUFI64X2  $0x88, Z6, Z2, Z9
	VSHUFI64X2  $0xdd, Z6, Z2, Z13
	VSHUFI64X2  $0x88, Z7, Z3, Z11
	VSHUFI64X2  $0xdd, Z7, Z3, Z15
	PCG_STORE(0, Z8)
	PCG_STORE(8, Z9)
	PCG_STORE(16, Z10)
	PCG_STORE(24, Z11)
	PCG_STORE(32, Z12)
	PCG_STORE(40, Z13)
	PCG_STORE(48, Z14)
	PCG_STORE(56, Z15)
	ADDQ $64, SI
	SUBQ $8, CX
	JNZ  looppcg
	VMOVDQU64 Z16, (AX)
	VMOVDQU64 Z17, 64(AX)
	VZEROUPPER
	RET
