package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAttentionIgnoresPaddedKeys fills the padded keys and values of one
// sample with huge numbers, then with zeros: the output and the gradients
// of q and of the real keys and values must be bitwise the same, and the
// padded keys and values must get zero gradients.
func TestAttentionIgnoresPaddedKeys(t *testing.T) {
	const B, Tq, Tk, D, real0 = 2, 4, 20, 8, 13
	results := make([][][]float64, 2)
	for pass, fill := range []float64{1e12, 0} {
		b := NewBuilder(tensor.Float32, 1, true)
		rng := rand.New(rand.NewPCG(9, 10))
		vals := func(n int, padded func(i int) bool) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = rng.NormFloat64()
				if padded != nil && padded(i) {
					v[i] = fill * (1 + rng.Float64())
				}
			}
			return v
		}
		pad := func(i int) bool { return i/(Tk*D) == 0 && (i/D)%Tk >= real0 }
		q, k, v := b.Param("q", Uniform(1), B, Tq, D), b.Param("k", Uniform(1), B, Tk, D), b.Param("v", Uniform(1), B, Tk, D)
		setInput32(t, q, vals(B*Tq*D, nil))
		setInput32(t, k, vals(B*Tk*D, pad))
		setInput32(t, v, vals(B*Tk*D, pad))
		m := b.Input("m", B, Tk)
		mask := make([]float64, B*Tk)
		for i := range mask {
			if i >= Tk || i < real0 {
				mask[i] = 1
			}
		}
		setInput32(t, m, mask)
		res := runWithGrads(t, b, Attention(b, q, k, v, m, 2), q, k, v)
		results[pass] = res
		for _, g := range res[2:] { // padded rows of dK and dV
			for i, x := range g {
				if pad(i) && x != 0 {
					t.Fatalf("fill %g: padded key gradient [%d] = %v", fill, i, x)
				}
			}
		}
	}
	for j := range results[0] {
		for i, x := range results[0][j] {
			if y := results[1][j][i]; math.Float64bits(x) != math.Float64bits(y) {
				t.Fatalf("result %d [%d]: %v with huge padding, %v with zero padding", j, i, x, y)
			}
		}
	}
}

// runWithGrads runs out and the gradients of Σ out ⊙ R (R fixed random)
// with respect to wrt on one machine, and returns out's values followed
// by each gradient.
func runWithGrads(t *testing.T, b *Builder, out *G.Node, wrt ...*G.Node) [][]float64 {
	t.Helper()
	r := make([]float64, out.Shape().TotalSize())
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	cost := b.Must(G.Sum(b.Must(G.HadamardProd(out, b.Constant("R", r, out.Shape()...)))))
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var outVal G.Value
	G.Read(out, &outVal)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G, G.BindDualValues(wrt...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return readGrads(t, outVal, wrt)
}

// readGrads returns a run's output value and the gradients of wrt.
func readGrads(t *testing.T, out G.Value, wrt []*G.Node) [][]float64 {
	t.Helper()
	res := [][]float64{Float64s(out.(*tensor.Dense))}
	for _, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, Float64s(g.(*tensor.Dense)))
	}
	return res
}

// TestAttentionEvalMatchesTraining runs the same attention in a training
// graph, which keeps all probabilities for its backward pass, and in an
// evaluation graph, which computes them evalRows query rows at a time: the
// outputs must agree to float32 rounding, with a last block of fewer rows.
func TestAttentionEvalMatchesTraining(t *testing.T) {
	const B, Tq, Tk, D, heads = 2, 2*evalRows + 7, 90, 8, 2
	rng := rand.New(rand.NewPCG(3, 4))
	vals := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	qv, kv, vv := vals(B*Tq*D), vals(B*Tk*D), vals(B*Tk*D)
	mask := make([]float64, B*Tk)
	for i := range mask {
		if i%Tk < Tk-11*(i/Tk) { // the second sample has 11 padded keys
			mask[i] = 1
		}
	}
	var outs [2][]float64
	for i, train := range []bool{true, false} {
		b := NewBuilder(tensor.Float32, 1, train)
		q, k, v := b.Param("q", Uniform(1), B, Tq, D), b.Param("k", Uniform(1), B, Tk, D), b.Param("v", Uniform(1), B, Tk, D)
		setInput32(t, q, qv)
		setInput32(t, k, kv)
		setInput32(t, v, vv)
		m := b.Input("m", B, Tk)
		setInput32(t, m, mask)
		out := Attention(b, q, k, v, m, heads)
		if got := out.Op().(*fwdOp).k.(attentionK).keep; got != train {
			t.Fatalf("train %v: probabilities kept %v", train, got)
		}
		outs[i] = runWithGrads(t, b, out, q, k, v)[0]
	}
	const tol = 1e-6 // relative, float32 products of 8 and 90 terms
	for i, x := range outs[0] {
		if y := outs[1][i]; math.Abs(x-y) > tol*max(1, math.Abs(x)) {
			t.Fatalf("output [%d]: training graph %v, evaluation graph %v", i, x, y)
		}
	}
}
