//go:build !amd64

package sgemm

// useAsm is always false: there is no assembly micro-kernel for this
// architecture. It is a variable so the tests can set it like on amd64.
var useAsm = false

// useAVX512 is always false, as useAsm.
var useAVX512 = false

// microKernel computes C[0:mr, 0:nr] += alpha · A · B, or with store
// C = alpha · A · B, then adds bias unless it is nil, with the pure-Go
// kernel (A's element (r, p) is ap[r·rs+p·ps], B's k step p the nr floats
// at bp[p·bs]), for panels tiles one under the other (the next A aStep
// floats on).
func microKernel(panels, kb int, ap []float32, rs, ps, aStep int, bp []float32, bs int, c []float32, ldc int, alpha float32, store bool, bias []float32) {
	kernGo(panels, kb, ap, rs, ps, aStep, bp, bs, c, ldc, alpha, store, bias)
}

// packRows8 copies src rows 0..7 (ld floats apart), columns 0..kb-1, into
// dst so that dst[p·nr+r] = src[r·ld+p].
func packRows8(kb int, src []float32, ld int, dst []float32) {
	packRows8Go(0, kb, src, ld, dst)
}

// packRows6 copies src rows 0..5 (ld floats apart), columns 0..kb-1, into
// dst so that dst[p·mr+r] = src[r·ld+p].
func packRows6(kb int, src []float32, ld int, dst []float32) {
	packRows6Go(0, kb, src, ld, dst)
}

// packRuns6 copies panels packed A panels, whose k step p of panel q is
// the run of six floats at src[p·ld+q·mr], k steps 0..steps-1, into dst
// so that dst[q·mr·stride+p·mr+r] = src[p·ld+q·mr+r].
func packRuns6(panels, steps, stride int, src []float32, ld int, dst []float32) {
	packRuns6Go(0, steps, panels, stride, src, ld, dst)
}

// packRuns16 copies panels packed B panels, whose k step p of panel q is
// the run of sixteen floats at src[p·ld+q·nr], k steps 0..steps-1, into
// dst so that dst[q·nr·stride+p·nr+c] = src[p·ld+q·nr+c].
func packRuns16(panels, steps, stride int, src []float32, ld int, dst []float32) {
	packRuns16Go(0, steps, panels, stride, src, ld, dst)
}
