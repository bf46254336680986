package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// newTestBuilder returns a float64 training builder for gradient tests.
func newTestBuilder(seed uint64) *Builder { return NewBuilder(tensor.Float64, seed, true) }

// randParam adds a parameter filled with N(0, scale²) values.
func randParam(b *Builder, name string, scale float64, shape ...int) *G.Node {
	return b.Param(name, func(rng *rand.Rand, d []float64) {
		for i := range d {
			d[i] = rng.NormFloat64() * scale
		}
	}, shape...)
}

// setInput gives a data input its value.
func setInput(t testing.TB, n *G.Node, vals []float64) {
	t.Helper()
	if err := G.Let(n, tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(vals))); err != nil {
		t.Fatal(err)
	}
}

// assertGrads fails the test when any gradient of out with respect to the
// builder's trainable parameters disagrees with finite differences.
func assertGrads(t *testing.T, b *Builder, out *G.Node) {
	t.Helper()
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range checkAll(t, b, out) {
		t.Errorf("gradient mismatch %v", m)
	}
}

// checkAll runs the gradient check over every trainable parameter.
func checkAll(t *testing.T, b *Builder, out *G.Node) []gradcheck.Mismatch {
	return checkWith(t, b, out, gradcheck.Options{})
}

// checkWith is checkAll with options.
func checkWith(t *testing.T, b *Builder, out *G.Node, o gradcheck.Options) []gradcheck.Mismatch {
	t.Helper()
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	o.Seed = 1
	bad, err := gradcheck.Check(b.G, out, b.Trainable(), o)
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

// perturbed wraps a kernel and adds 1e-4 to the first element of every
// input gradient, to show that the gradient tests can fail.
type perturbed struct{ kernel }

func (p perturbed) String() string { return "perturbed " + p.kernel.String() }

func (p perturbed) backward(a *kargs) {
	p.kernel.backward(a)
	for _, g := range a.grads {
		if g != nil {
			g.Data().([]float64)[0] += 1e-4
		}
	}
}

// run evaluates nodes on a fresh tape machine and returns their values.
func run(t testing.TB, b *Builder, nodes ...*G.Node) [][]float64 {
	t.Helper()
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	vals := make([]G.Value, len(nodes))
	for i, n := range nodes {
		G.Read(n, &vals[i])
	}
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(nodes))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []float64:
			out[i] = append([]float64(nil), d...)
		case []float32:
			for _, x := range d {
				out[i] = append(out[i], float64(x))
			}
		case float64:
			out[i] = []float64{d}
		}
	}
	return out
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %.9g, want %.9g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

func randVals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// setInput32 gives a float32 data input its value.
func setInput32(t testing.TB, n *G.Node, vals []float64) {
	t.Helper()
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	if err := G.Let(n, tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(f))); err != nil {
		t.Fatal(err)
	}
}
