package layers

import (
	"runtime"

	G "gorgonia.org/gorgonia"
)

// NewTapeMachine compiles g onto a Gorgonia TapeMachine that the garbage
// collector can free. Gorgonia sets a finalizer on every TapeMachine
// (it releases CUDA memory, which this CPU build never holds), and Go
// never collects an object with a finalizer that is part of a reference
// cycle: a machine reaches its graph, whose Read nodes reach the struct
// that holds the values and the machine itself. Every model built in a
// process (each table row and seed, each batch shape) stayed in memory
// for good. Clearing the finalizer breaks nothing and lets it go.
//
// The machine runs on this package's engine (see engine; opts may set
// another), which the machine gives to every value it holds.
func NewTapeMachine(g *G.ExprGraph, opts ...G.VMOpt) G.VM {
	m := G.NewTapeMachine(g, append([]G.VMOpt{G.WithEngine(engine{})}, opts...)...)
	runtime.SetFinalizer(m, nil)
	return m
}
