package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReaderAvoidsTakenHashes: the reader predicts a Read node's hash as
// Gorgonia computes it, and takes another destination when a Read there
// would have the hash of a node already in the graph.
func TestReaderAvoidsTakenHashes(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"))
	y := G.Must(G.Tanh(x))
	rd := newReader(g)
	for range 50 {
		into := new(G.Value)
		want := predict(y, into)
		if got := G.Read(y, into).Hashcode(); got != want {
			t.Fatalf("predicted hash %#x, Gorgonia's %#x", want, got)
		}
	}
	taken, free := new(G.Value), new(G.Value)
	rd = newReader(g)
	rd.taken[predict(y, taken)] = true // as if another node had this hash
	queue := []*G.Value{taken, free}
	rd.alloc = func() *G.Value { p := queue[0]; queue = queue[1:]; return p }
	if got := rd.read(y); got != free {
		t.Fatal("the reader read into a destination whose hash was taken")
	}
	seen := map[uint32]bool{}
	for _, n := range g.AllNodes() {
		if seen[n.Hashcode()] {
			t.Fatalf("two nodes share hash %#x", n.Hashcode())
		}
		seen[n.Hashcode()] = true
	}
}
