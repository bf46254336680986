package layers

import (
	"encoding/json"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
)

// golden holds the cases of testdata/golden.json (made by golden.py with
// PyTorch).
type goldenCase struct {
	B, Tq, Tk, T, D, Heads, In, Hidden int
	Params                             map[string][]float64
	Query, KV, Mask, X, Out            []float64
}

func loadGolden(t *testing.T) map[string]goldenCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]goldenCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// setParams gives every parameter of b its value from the golden case,
// under name prefix+PyTorch name.
func setParams(t *testing.T, b *Builder, prefix string, c goldenCase) {
	t.Helper()
	for _, p := range b.Params() {
		v, ok := c.Params[p.Name[len(prefix):]]
		if !ok {
			t.Fatalf("golden case has no %s", p.Name)
		}
		setInput(t, p.Node, v)
	}
}

func TestMultiHeadAttentionGolden(t *testing.T) {
	c := loadGolden(t)["mha"]
	b := newTestBuilder(1)
	mha := NewMultiHeadAttention(b, "att", c.D, c.Heads)
	setParams(t, b, "att.", c)
	q, kv, m := b.Input("q", c.B, c.Tq, c.D), b.Input("kv", c.B, c.Tk, c.D), b.Input("m", c.B, c.Tk)
	setInput(t, q, c.Query)
	setInput(t, kv, c.KV)
	setInput(t, m, c.Mask)
	assertClose(t, "mha", run(t, b, mha.Fwd(b, q, kv, m))[0], c.Out, 1e-10)
}

func TestLSTMGolden(t *testing.T) {
	c := loadGolden(t)["lstm"]
	b := NewBuilder(G.Float64, 1, false)
	l := NewLSTM(b, "lstm", c.In, c.Hidden, 2, 0.1)
	setParams(t, b, "lstm.", c)
	x := b.Input("x", c.B, c.T, c.In)
	setInput(t, x, c.X)
	assertClose(t, "lstm", run(t, b, l.Fwd(b, x))[0], c.Out, 1e-10)
}

func TestLayerNormGolden(t *testing.T) {
	c := loadGolden(t)["layernorm"]
	b := newTestBuilder(1)
	ln := NewLayerNorm(b, "ln", 6, 1e-5)
	setParams(t, b, "ln.", c)
	x := b.Input("x", 2, 3, 6)
	setInput(t, x, c.X)
	assertClose(t, "layernorm", run(t, b, ln.Fwd(b, x))[0], c.Out, 1e-10)
}

func TestSoftmaxGoldenFloat32(t *testing.T) {
	c := loadGolden(t)["softmax"]
	b := NewBuilder(G.Float32, 1, false)
	x, m := b.Input("x", 2, 3, 5), b.Input("m", 2, 5)
	setInput32(t, x, c.X)
	setInput32(t, m, c.Mask)
	got := run(t, b, Softmax(b, x, m))[0]
	assertClose(t, "softmax", got, c.Out, 1e-6)
	// The second sample's keys are all padding: uniform, finite rows.
	for _, v := range got[15:] {
		if v != 0.2 && float32(v) != 0.2 {
			t.Fatalf("fully masked row: %v, want 0.2 everywhere", got[15:])
		}
	}
}
