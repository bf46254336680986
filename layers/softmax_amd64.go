package layers

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 loops of float32 softmax rows; tests clear it
// to compare them with the Go loops.
var useAVX2 = cpu.X86.HasAVX2

// The AVX2 loops of softmaxRow32 and softmaxRowBwd over n elements, n a positive multiple
// of 8 (softmax_amd64.s).
//
//go:noescape
func maxCopyAVX2(x, p *float32, n int) float32

//go:noescape
func maxMaskedAVX2(x, mask, p *float32, n int) float32

//go:noescape
func expSumAVX2(p *float32, n int, mx float32) float64

//go:noescape
func scaleAVX2(p *float32, n int, s float32)

//go:noescape
func dotAVX2(a, b *float32, n int) float64

//go:noescape
func softmaxGradAVX2(p, gp, gx *float32, n int, dot float32)
