//go:build !amd64

package layers

// useAVX2 is false: there are no assembly softmax loops on this
// architecture.
var useAVX2 = false

func maxCopyAVX2(x, p *float32, n int) float32 { panic("layers: no AVX2") }

func maxMaskedAVX2(x, mask, p *float32, n int) float32 { panic("layers: no AVX2") }

func expSumAVX2(p *float32, n int, mx float32) float64 { panic("layers: no AVX2") }

func scaleAVX2(p *float32, n int, s float32) { panic("layers: no AVX2") }

func dotAVX2(a, b *float32, n int) float64 { panic("layers: no AVX2") }

func softmaxGradAVX2(p, gp, gx *float32, n int, dot float32) { panic("layers: no AVX2") }
