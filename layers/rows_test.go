package layers

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rowMaskVals is a [3, 4] mask: sample 0 real at steps 0–1, sample 1 at
// 0 and 2 (a hole: step 1 is computed, as a step before the last real one),
// sample 2 at none.
var rowMaskVals = []float64{1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0}

// rowCases mark a sequence x [3, 4, 6] with rowMaskVals, apply
// position-wise kernels to it and pool the result through the mask, as the
// model does: only real steps reach the output.
var rowCases = []struct {
	name  string
	build func(t *testing.T, b *Builder, x, m *G.Node) *G.Node
}{
	{"linear", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return NewLinear(b, "fc", 6, 5, true).Fwd(b, x)
	}},
	{"layernorm", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return NewLayerNorm(b, "n", 6, 1e-5).Fwd(b, x)
	}},
	{"act_tanh_dropout", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return b.ActDropout(Tanh, x, 0.4)
	}},
	{"residual_dropout", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return b.Residual(x, NewLinear(b, "fc", 6, 6, false).Fwd(b, x), 0.5)
	}},
	{"residual_norm_dropout", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return NewLayerNorm(b, "n", 6, 1e-5).ResidualFwd(b, x, NewLinear(b, "fc", 6, 6, false).Fwd(b, x), 0.5)
	}},
	{"positional", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return AddPositional(b, x)
	}},
	{"mha_self_masked", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return NewMultiHeadAttention(b, "att", 6, 2).Fwd(b, x, x, m)
	}},
	{"mha_queries_to_tokens", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		g := randParam(b, "g", 1, 3, 2, 6)
		return NewMultiHeadAttention(b, "att", 6, 3).Fwd(b, x, g, nil)
	}},
	{"rope_qkv_attention", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		// x [.., 6] as one head's q, k, v of width 2, as NeoBERT's block.
		return AttentionQKV(b, RoPEQKV(b, x, 1, 10000), m, 1)
	}},
	{"swiglu", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return SwiGLU(b, x)
	}},
	{"gelu", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		return GELU(b, x)
	}},
	{"encoder_then_ffn", func(t *testing.T, b *Builder, x, m *G.Node) *G.Node {
		h := b.ActDropout(Tanh, NewLinear(b, "enc", 6, 6, true).Fwd(b, NewLayerNorm(b, "n", 6, 1e-5).Fwd(b, x)), 0.3)
		return b.Add(h, NewFFN(b, "ffn", 6, 12, 0.5).Fwd(b, h))
	}},
}

// buildRowCase builds case c on a marked x, fills its dropout masks and
// returns its output pooled through the mask.
func buildRowCase(t *testing.T, b *Builder, c func(*testing.T, *Builder, *G.Node, *G.Node) *G.Node, rng *rand.Rand) *G.Node {
	t.Helper()
	m := b.Input("m", 3, 4)
	setInput(t, m, rowMaskVals)
	x := b.Rows(randParam(b, "x", 1, 3, 4, 6), m)
	y := c(t, b, x, m)
	if b.rowMask[y] != m && !b.DenseRows {
		t.Fatalf("the output is not marked with the input's rows")
	}
	if err := b.FillDropouts(rng, true); err != nil {
		t.Fatal(err)
	}
	return Pool(b, y, m)
}

// TestRowGradients checks every position-wise kernel's gradients by finite
// differences when it runs over the real rows of a marked sequence only,
// the gradient of x at padded steps (exactly 0) included.
func TestRowGradients(t *testing.T) {
	for _, c := range rowCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			out := buildRowCase(t, b, c.build, rand.New(rand.NewPCG(6, 7)))
			for _, m := range checkWith(t, b, out, gradcheck.Options{}) {
				t.Errorf("gradient mismatch %v", m)
			}
		})
	}
}

// perturbedRows is perturbed for a rowWise kernel: it keeps running over rows.
type perturbedRows struct{ perturbed }

func (perturbedRows) rowWise() {}

// TestRowGradientsCatchPerturbedBackward shows the check above can fail: the
// same cases with each backward pass off by 1e-4 in one element per input.
func TestRowGradientsCatchPerturbedBackward(t *testing.T) {
	for _, c := range rowCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			b.wrap = func(k kernel) kernel {
				if _, ok := k.(rowWise); ok {
					return perturbedRows{perturbed{k}}
				}
				return perturbed{k}
			}
			out := buildRowCase(t, b, c.build, rand.New(rand.NewPCG(6, 7)))
			if bad := checkWith(t, b, out, gradcheck.Options{}); len(bad) == 0 {
				t.Fatal("a perturbed backward pass went unnoticed")
			}
		})
	}
}

// TestRowsMatchDense runs each case with and without row skipping (same
// weights, same dropout masks): the pooled outputs and every gradient agree
// to 1e-12, and the skipping graph's kernel outputs are exactly zero at
// padded steps. Then the control: with a nonzero output gradient at a
// padded step (which the model never produces), the gradients differ, so
// the comparison sees what the skipped rows would have added.
func TestRowsMatchDense(t *testing.T) {
	for _, c := range rowCases {
		t.Run(c.name, func(t *testing.T) {
			var got [2][][]float64
			for i, dense := range []bool{true, false} {
				b := newTestBuilder(5)
				b.DenseRows = dense
				out := buildRowCase(t, b, c.build, rand.New(rand.NewPCG(6, 7)))
				marked := readMarked(b)
				got[i] = runWithGrads(t, b, out, b.Trainable()...)
				if !dense {
					assertPaddingZero(t, marked)
				}
			}
			for j := range got[0] {
				assertClose(t, "value or gradient", got[1][j], got[0][j], 1e-12)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		var got [2][][]float64
		for i, dense := range []bool{true, false} {
			b := newTestBuilder(5)
			b.DenseRows = dense
			m := b.Input("m", 3, 4)
			setInput(t, m, rowMaskVals)
			fc := NewLinear(b, "fc", 6, 5, true)
			y := fc.Fwd(b, b.Rows(randParam(b, "x", 1, 3, 4, 6), m)) // read at every step, padding included
			got[i] = runWithGrads(t, b, y, fc.W)
		}
		var diff float64
		for j := range got[0][1] {
			diff = math.Max(diff, math.Abs(got[0][1][j]-got[1][1][j]))
		}
		if diff < 1e-3 {
			t.Errorf("a gradient read at padded steps changes nothing (%.3g)", diff)
		}
	})
}

// markedValue is a kernel output marked with rows, read after a run.
type markedValue struct {
	node, mask *G.Node
	v          G.Value
}

// readMarked reads every kernel output of b marked with rows.
func readMarked(b *Builder) []*markedValue {
	var out []*markedValue
	for n, m := range b.rowMask {
		if _, ok := n.Op().(*fwdOp); ok {
			mv := &markedValue{node: n, mask: m}
			G.Read(n, &mv.v)
			out = append(out, mv)
		}
	}
	return out
}

// assertPaddingZero checks that every marked kernel output holds zeros at
// the padded steps of its mask, and that some kernel ran so.
func assertPaddingZero(t *testing.T, marked []*markedValue) {
	t.Helper()
	if len(marked) == 0 {
		t.Fatal("no kernel ran over rows")
	}
	for _, mv := range marked {
		v := mv.v.Data().([]float64)
		rs := rowsOf(mv.mask.Value().(*tensor.Dense))
		width := len(v) / len(rowMaskVals)
		for p := range rowMaskVals {
			if rs.real(p) {
				continue
			}
			for _, x := range v[p*width : (p+1)*width] {
				if x != 0 {
					t.Fatalf("%v: %g at padded step %d", mv.node, x, p)
				}
			}
		}
	}
}

// rerunGrads builds a graph with build, whose mask input is named "m",
// runs it on one machine first with every step real and then with
// rowMaskVals, clearing the parameter gradients between the runs as
// graph.Runner does, and returns the second run's output and gradients;
// with once it runs only the second.
func rerunGrads(t *testing.T, build func(b *Builder) *G.Node, wrap func(kernel) kernel, once bool) [][]float64 {
	t.Helper()
	b := newTestBuilder(5)
	b.wrap = wrap
	out := build(b)
	m := b.G.ByName("m")[0]
	rng := rand.New(rand.NewPCG(11, 12))
	cost := b.Must(G.Sum(b.Must(G.HadamardProd(out, b.Constant("R", randVals(rng, out.Shape().TotalSize()), out.Shape()...)))))
	wrt := b.Trainable()
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var outVal G.Value
	G.Read(out, &outVal)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	vm := NewTapeMachine(b.G, G.BindDualValues(wrt...))
	defer vm.Close()
	if !once {
		setInput(t, m, slices.Repeat([]float64{1}, len(rowMaskVals)))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, n := range wrt {
			g, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			g.(tensor.Tensor).Zero()
		}
		vm.Reset()
		setInput(t, m, rowMaskVals)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return readGrads(t, outVal, wrt)
}

// claimsGrads marks a kernel as a gradWriter for every input, rowClaims
// a rowWise one: a kernel that adds to its gradients then adds to the last
// run's.
type claimsGrads struct{ kernel }
type rowClaims struct{ claimsGrads }

func (claimsGrads) writesGrad(int) bool { return true }
func (rowClaims) rowWise()              {}

// TestRowGradsOverwriteLastRun runs every case, and a masked LSTM, after a
// run in which every step was real: the kernels that store their gradients instead of adding
// to zeros (gradWriter) must leave nothing of the first run behind, at
// the steps the second run pads included, so the output and every
// gradient are a fresh machine's. The control claims every gradient of
// every kernel written, and the last run's values must show.
func TestRowGradsOverwriteLastRun(t *testing.T) {
	rowCase := func(c func(*testing.T, *Builder, *G.Node, *G.Node) *G.Node) func(*Builder) *G.Node {
		return func(b *Builder) *G.Node { return buildRowCase(t, b, c, rand.New(rand.NewPCG(6, 7))) }
	}
	type rerunCase struct {
		name  string
		build func(*Builder) *G.Node
	}
	cases := []rerunCase{{
		// A masked LSTM stops at each sample's last real step (the first
		// run goes to the end); its output, pooled through the mask.
		"lstm_masked", func(b *Builder) *G.Node {
			m := b.Input("m", 3, 4)
			setInput(t, m, rowMaskVals)
			y := NewLSTM(b, "lstm", 6, 5, 2, 0.3).FwdMasked(b, randParam(b, "x", 1, 3, 4, 6), m)
			if err := b.FillDropouts(rand.New(rand.NewPCG(6, 7)), true); err != nil {
				t.Fatal(err)
			}
			return Pool(b, y, m)
		},
	}}
	for _, c := range rowCases {
		cases = append(cases, rerunCase{c.name, rowCase(c.build)})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := rerunGrads(t, c.build, nil, true), rerunGrads(t, c.build, nil, false)
			for j := range want {
				assertClose(t, "value or gradient", got[j], want[j], 0)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		claim := func(k kernel) kernel {
			if _, ok := k.(rowWise); ok {
				return rowClaims{claimsGrads{k}}
			}
			return claimsGrads{k}
		}
		c := rowCase(rowCases[0].build) // linear: its bias gradient is a sum into zeros
		want, got := rerunGrads(t, c, claim, true), rerunGrads(t, c, claim, false)
		for j := range want {
			if !slices.Equal(got[j], want[j]) {
				return
			}
		}
		t.Error("gradients claimed written but added to the last run's went unnoticed")
	})
}

// TestClearPadding checks clearPadding on a tensor large enough to be
// split over the cores (the paper's vision length, d_model 128, samples
// of every kind: full, empty, and padded at several lengths), on one core
// and on two: every padded element is zero and every real one untouched.
func TestClearPadding(t *testing.T) {
	const B, L, width = 6, 500, 128
	steps := []int{500, 0, 1, 250, 499, 37}
	mask := make([]float32, B*L)
	for b, n := range steps {
		for i := 0; i < n; i++ {
			mask[b*L+i] = 1
		}
	}
	rs := rowsIn(mask, tensor.Shape{B, L})
	if (B*L-rs.count)*width < 1<<15 {
		t.Fatal("too little padding to split over the cores")
	}
	for _, procs := range []int{1, 2} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			x := make([]float32, B*L*width)
			for i := range x {
				x[i] = 1
			}
			clearPadding(rs, x)
			for i, v := range x {
				if want := float32(mask[i/width]); v != want {
					t.Fatalf("%d cores: element %d (sample %d, step %d) is %v, want %v", procs, i, i/width/L, i/width%L, v, want)
				}
			}
		}()
	}
}
