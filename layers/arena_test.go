package layers

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// sharedNet is attention over a sequence of steps followed by masked
// pooling, one graph per length, all with the weights of the first and one
// arena.
type sharedNet struct {
	b    *Builder
	x, m *G.Node
	out  *G.Node
	vm   G.VM
}

func newSharedNet(t *testing.T, steps int, src *Builder, arena *Arena) *sharedNet {
	t.Helper()
	n := &sharedNet{b: NewBuilder(tensor.Float64, 7, false)}
	if src != nil {
		n.b.ShareParams(src)
	}
	n.b.UseArena(arena)
	n.x, n.m = n.b.Input("x", 2, steps, 4), n.b.Input("m", 2, steps)
	att := NewMultiHeadAttention(n.b, "att", 4, 2)
	n.out = Pool(n.b, att.Fwd(n.b, n.x, n.x, n.m), n.m)
	if err := n.b.Err(); err != nil {
		t.Fatal(err)
	}
	n.vm = G.NewTapeMachine(n.b.G)
	return n
}

// run feeds the first steps of x [2, 6, 4] with 3 and 2 real steps.
func (n *sharedNet) run(t *testing.T, x []float64) []float64 {
	t.Helper()
	steps := n.x.Shape()[1]
	xs, ms := make([]float64, 0, 2*steps*4), make([]float64, 0, 2*steps)
	for i, real := range []int{3, 2} {
		xs = append(xs, x[i*24:i*24+steps*4]...)
		for s := 0; s < steps; s++ {
			ms = append(ms, map[bool]float64{true: 1}[s < real])
		}
	}
	setInput(t, n.x, xs)
	setInput(t, n.m, ms)
	n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), n.out.Value().Data().([]float64)...)
}

// TestShareParamsAndArena builds one network for 6 steps and, sharing its
// weights and arena, for 3: both hold the same weight tensors, their runs
// alternate without disturbing each other, and on inputs whose steps past
// 3 are padding they agree.
func TestShareParamsAndArena(t *testing.T) {
	arena := NewArena()
	full := newSharedNet(t, 6, nil, arena)
	cut := newSharedNet(t, 3, full.b, arena)
	for i, p := range full.b.Params() {
		if q := cut.b.Params()[i]; q.Name != p.Name || q.Node.Value() != p.Node.Value() {
			t.Fatalf("parameter %s: the graphs hold different tensors", p.Name)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 48)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	a := full.run(t, x)
	c := cut.run(t, x)
	if again := full.run(t, x); !slices.Equal(a, again) {
		t.Fatalf("the full graph gives %v after the cut graph ran, %v before", again, a)
	}
	assertClose(t, "pooled output", c, a, 1e-15)
	// An update through one graph is an update of the other.
	w := full.b.Params()[0].Node.Value().Data().([]float64)
	w[0] += 1
	if b := cut.run(t, x); slices.Equal(b, c) {
		t.Fatal("changing a weight of the full graph did not change the cut graph's output")
	}

	bad := NewBuilder(tensor.Float64, 7, false)
	bad.ShareParams(full.b)
	NewLinear(bad, "other", 4, 4, true)
	if err := bad.Err(); err == nil || !strings.Contains(err.Error(), `"other.weight"`) {
		t.Fatalf("err = %v, want an error naming other.weight", err)
	}
	wrong := NewBuilder(tensor.Float64, 7, false)
	wrong.ShareParams(full.b)
	NewMultiHeadAttention(wrong, "att", 8, 2)
	if err := wrong.Err(); err == nil || !strings.Contains(err.Error(), "att.") {
		t.Fatalf("err = %v, want a shape error naming an att parameter", err)
	}
}
