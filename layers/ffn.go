package layers

import (
	G "gorgonia.org/gorgonia"
)

// FFN is the position-wise feed-forward block Linear(d→hidden), ReLU,
// Dropout, Linear(hidden→d), with parameters name.fc1 and name.fc2.
type FFN struct {
	Name     string
	FC1, FC2 *Linear
	P        float64
}

// NewFFN creates name.fc1 and name.fc2.
func NewFFN(b *Builder, name string, d, hidden int, dropout float64) *FFN {
	return &FFN{Name: name, FC1: NewLinear(b, name+".fc1", d, hidden, true), FC2: NewLinear(b, name+".fc2", hidden, d, true), P: dropout}
}

// Fwd applies the block to x [..., d]; each call has a dropout mask of its
// own (a DIPU applies its FFN to G and to X).
func (f *FFN) Fwd(b *Builder, x *G.Node) *G.Node {
	return f.FC2.Fwd(b, b.ActDropout(ReLU, f.FC1.Fwd(b, x), f.P))
}
