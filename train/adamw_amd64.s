#include "textflag.h"

// func adamwAVX2(wp, gp, mp, vp *float32, n int, k *adamwConsts)
// One AdamW step on n elements (a multiple of 4), four at a time in
// float64, with the operations of adamwGo in its order and without fused
// multiply-adds: the results are bitwise adamwGo's.
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ wp+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ mp+16(FP), R8
	MOVQ vp+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSD 0(AX), Y8   // decay
	VBROADCASTSD 8(AX), Y9   // beta1
	VBROADCASTSD 16(AX), Y10 // 1 - beta1
	VBROADCASTSD 24(AX), Y11 // beta2
	VBROADCASTSD 32(AX), Y12 // 1 - beta2
	VBROADCASTSD 40(AX), Y13 // step size
	VBROADCASTSD 48(AX), Y14 // sqrt(1 - beta2^t)
	VBROADCASTSD 56(AX), Y15 // eps
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VCVTPS2PD (SI)(BX*4), Y0 // g
	VCVTPS2PD (DI)(BX*4), Y1
	VMULPD    Y8, Y1, Y1     // w*decay
	VCVTPS2PD (R8)(BX*4), Y2
	VMULPD    Y9, Y2, Y2     // beta1*m
	VMULPD    Y10, Y0, Y3    // (1 - beta1)*g
	VADDPD    Y3, Y2, Y2
	VCVTPS2PD (R9)(BX*4), Y4
	VMULPD    Y11, Y4, Y4    // beta2*v
	VMULPD    Y12, Y0, Y5    // (1 - beta2)*g
	VMULPD    Y0, Y5, Y5     // *g
	VADDPD    Y5, Y4, Y4
	VCVTPD2PSY Y2, X2        // m, stored in float32
	VMOVUPS   X2, (R8)(BX*4)
	VCVTPD2PSY Y4, X4        // v
	VMOVUPS   X4, (R9)(BX*4)
	VCVTPS2PD X2, Y2
	VCVTPS2PD X4, Y4
	VSQRTPD   Y4, Y4
	VDIVPD    Y14, Y4, Y4    // sqrt(v)/sqrt(1 - beta2^t)
	VADDPD    Y15, Y4, Y4    // + eps
	VMULPD    Y13, Y2, Y2    // step size*m
	VDIVPD    Y4, Y2, Y2     // / denominator
	VSUBPD    Y2, Y1, Y1
	VCVTPD2PSY Y1, X1
	VMOVUPS   X1, (DI)(BX*4)
	ADDQ      $4, BX
	JMP       loop

done:
	VZEROUPPER
	RET
