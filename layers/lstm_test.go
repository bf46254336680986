package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmMaskCase is a 2-layer LSTM with dropout on a right-padded batch:
// masks[b] is sample b's mask over its first steps, zeros after them.
type lstmMaskCase struct {
	name     string
	T, I, H  int
	masks    [][]float64
	maxGrads int // finite differences per parameter (0: the check's default)
}

// lstmMaskCases cover: two groups of samples, one of them partial;
// samples of every length from 1 to T; a sample without a real step (it
// runs the whole length); a padded step before a real one; and sums over
// more than one k block of sgemm, cut inside and between samples, with
// parts small enough for sgemm's plain loop.
func lstmMaskCases() []lstmMaskCase {
	steps := func(n int) []float64 {
		m := make([]float64, n)
		for i := range m {
			m[i] = 1
		}
		return m
	}
	small := lstmMaskCase{name: "groups", T: 9, I: 3, H: 4, maxGrads: 24,
		masks: [][]float64{steps(9), steps(1), nil, steps(5), steps(3), {1, 1, 0, 1}, steps(7), steps(2), steps(9), {0, 0, 1}, steps(6)}}
	large := lstmMaskCase{name: "k_blocks", T: 40, I: 5, H: 16}
	rng := rand.New(rand.NewPCG(21, 22))
	for b := 0; b < 3*lstmGroup; b++ {
		large.masks = append(large.masks, steps(1+rng.IntN(large.T)))
	}
	large.masks[4], large.masks[9], large.masks[17] = nil, steps(large.T), steps(1)
	return []lstmMaskCase{small, large}
}

// mask returns the case's mask [B, T].
func (c lstmMaskCase) mask() []float64 {
	m := make([]float64, len(c.masks)*c.T)
	for b, s := range c.masks {
		copy(m[b*c.T:], s)
	}
	return m
}

// build returns the case's LSTM output with its padded steps multiplied by
// 0 (what masked pooling and attention read of it), run over every step
// (masked false) or up to each sample's last real step; x is a parameter,
// so that the gradient of the first layer's input is checked too.
func (c lstmMaskCase) build(t *testing.T, b *Builder, masked bool) *G.Node {
	B := len(c.masks)
	x := randParam(b, "x", 1, B, c.T, c.I)
	l := NewLSTM(b, "lstm", c.I, c.H, 2, 0.3)
	var y *G.Node
	if masked {
		m := b.Input("m", B, c.T)
		setAny(t, m, c.mask())
		y = l.FwdMasked(b, x, m)
	} else {
		y = l.Fwd(b, x)
	}
	if err := b.FillDropouts(rand.New(rand.NewPCG(6, 7)), true); err != nil {
		t.Fatal(err)
	}
	wide := make([]float64, 0, B*c.T*c.H)
	for _, v := range c.mask() {
		for j := 0; j < c.H; j++ {
			wide = append(wide, v)
		}
	}
	return b.Must(G.HadamardProd(y, b.Constant("mask_wide", wide, B, c.T, c.H)))
}

// setAny gives a data input its value in the builder's element type.
func setAny(t *testing.T, n *G.Node, vals []float64) {
	if n.Dtype() == tensor.Float32 {
		setInput32(t, n, vals)
		return
	}
	setInput(t, n, vals)
}

// TestLSTMMaskedMatchesFullLength runs each case over every step and up to
// each sample's last real step, in float64 and float32, on one and two
// cores: the outputs at real steps, and the gradients of every weight and
// of the input, must agree bit for bit (the steps that do not run give
// their outputs and gradients weight exactly 0), the skipped outputs must
// be 0, and the masked results must not depend on the number of cores.
func TestLSTMMaskedMatchesFullLength(t *testing.T) {
	for _, c := range lstmMaskCases() {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			var oneCore [][]float64
			for _, procs := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%v/procs=%d", c.name, dt, procs), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					results := make([][][]float64, 2)
					for i, masked := range []bool{false, true} {
						b := NewBuilder(dt, 5, true)
						y := c.build(t, b, masked)
						results[i] = runWithGrads(t, b, y, b.Trainable()...)
					}
					full, masked := results[0], results[1]
					mask := c.mask()
					for i, v := range masked[0] {
						real := mask[i/c.H] != 0
						if real && !sameProduct(v, full[0][i]) {
							t.Fatalf("output %d: %v masked, %v at full length", i, v, full[0][i])
						}
						if !real && v != 0 {
							t.Fatalf("output %d at a padded step: %v", i, v)
						}
					}
					compareBits(t, "gradient", full[1:], masked[1:])
					if procs == 1 {
						oneCore = masked
					} else {
						compareBits(t, "two cores vs one:", oneCore, masked)
					}
				})
			}
		}
	}
}

// compareBits fails on the first element where got and want differ in any bit.
func compareBits(t *testing.T, what string, want, got [][]float64) {
	t.Helper()
	for j := range want {
		for i, w := range want[j] {
			if !sameProduct(got[j][i], w) {
				t.Fatalf("%s %d [%d]: %v, want %v", what, j, i, got[j][i], w)
			}
		}
	}
}

// sameProduct reports whether two results of products over the same
// numbers agree: bit for bit with this package's own products; within a
// relative 1e-12 with -tags openblas, whose float64 products over part of
// the rows block the sums differently.
func sameProduct(a, b float64) bool {
	if !openblas {
		return math.Float64bits(a) == math.Float64bits(b)
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

// TestLSTMMaskedGradients checks the masked LSTM's gradients against
// finite differences (float64), and that a perturbed backward pass fails
// the check.
func TestLSTMMaskedGradients(t *testing.T) {
	c := lstmMaskCases()[0]
	for _, perturb := range []bool{false, true} {
		t.Run(fmt.Sprintf("perturbed=%v", perturb), func(t *testing.T) {
			b := newTestBuilder(5)
			if perturb {
				b.wrap = func(k kernel) kernel { return perturbed{k} }
			}
			out := c.build(t, b, true)
			bad := checkWith(t, b, out, gradcheck.Options{MaxPerParam: c.maxGrads})
			switch {
			case !perturb:
				for _, m := range bad {
					t.Errorf("gradient mismatch %v", m)
				}
			case len(bad) == 0:
				t.Fatal("a perturbed backward pass went unnoticed")
			}
		})
	}
}

// TestLSTMCellAVX2MatchesGo checks that the cell update's assembly
// (vec.Cell: the float64 sum of the gated cell terms, tanh and the output
// gate) is bitwise the Go loop's, at hidden sizes with and without a tail
// past the last group of eight, from zero and from earlier cells,
// infinities and NaN included.
func TestLSTMCellAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	defer func() { useAVX2 = true }()
	rng := rand.New(rand.NewPCG(13, 14))
	for _, H := range []int{8, 13, 128, 136} {
		g := make([]float32, 4*H)
		for j := range g {
			g[j] = sigmoid32(float32(rng.NormFloat64() * 3))
		}
		for j := 2 * H; j < 3*H; j++ {
			g[j] = tanh32(float32(rng.NormFloat64() * 3))
		}
		cprev := make([]float32, H)
		for j := range cprev {
			cprev[j] = float32(rng.NormFloat64() * 4)
		}
		cprev[H-1], cprev[H/2] = float32(math.Inf(-1)), float32(math.NaN())
		r := &lstmRun[float32]{H: H}
		r.sig, r.tanh = gateFuncs[float32]()
		for _, prev := range [][]float32{make([]float32, H), cprev} {
			var c, h [2][]float32
			for k, avx := range []bool{true, false} {
				useAVX2 = avx
				c[k], h[k] = make([]float32, H), make([]float32, H)
				r.cell(g, prev, c[k], h[k])
			}
			useAVX2 = true
			for j := range H {
				for _, v := range [][2][]float32{c, h} {
					a, b := v[0][j], v[1][j]
					if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
						t.Fatalf("H %d: [%d]: AVX2 %v, Go %v (c %v, h %v)", H, j, a, b, c, h)
					}
				}
			}
		}
	}
}

// TestLSTMCellGradAVX2MatchesGo checks that the backward step's assembly
// (vec.CellGrad) is bitwise the Go loop's, at hidden sizes with and
// without a tail past the last group of four, from the first cell (zero
// before it) and from later ones, infinities and NaN included.
func TestLSTMCellGradAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	defer func() { useAVX2 = true }()
	rng := rand.New(rand.NewPCG(15, 16))
	vals := func(n int, f func(float64) float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = f(rng.NormFloat64() * 3)
		}
		return v
	}
	id := func(x float64) float32 { return float32(x) }
	for _, H := range []int{4, 13, 128, 130} {
		const steps = 3 // the packed output of one sample over three steps
		r := &lstmRun[float32]{H: H, gh: vals(steps*H, id)}
		r.out = make([]float32, 6*steps*H)
		_, cs, ig, fg, gg, og := lstmBlocks(r.out)
		copy(cs, vals(len(cs), id))
		for _, blk := range [][]float32{ig, fg, og} {
			copy(blk, vals(len(blk), func(x float64) float32 { return sigmoid32(float32(x)) }))
		}
		copy(gg, vals(len(gg), func(x float64) float32 { return tanh32(float32(x)) }))
		r.gh[1], cs[H+2], og[H+3] = float32(math.Inf(1)), float32(math.NaN()), float32(math.Inf(-1))
		tc := vals(H, func(x float64) float32 { return tanh32(float32(x)) })
		dhNext, dcNext := vals(H, id), vals(H, id)
		for _, at := range []int{0, H, 2 * H} {
			cprev := make([]float32, H)
			if at > 0 {
				cprev = cs[at-H : at]
			}
			var d, dc [2][]float32
			for k, avx := range []bool{true, false} {
				useAVX2 = avx
				d[k], dc[k] = make([]float32, 4*H), append([]float32(nil), dcNext...)
				r.cellGrad(at, d[k], tc, cprev, dhNext, dc[k])
			}
			useAVX2 = true
			for _, v := range [][2][]float32{d, dc} {
				for j := range v[0] {
					a, b := v[0][j], v[1][j]
					if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
						t.Fatalf("H %d, at %d: [%d]: AVX2 %v, Go %v", H, at, j, a, b)
					}
				}
			}
		}
	}
}
