// Package gradcheck compares the gradients Gorgonia computes for a float64
// graph with central finite differences. Every hand-written backward pass
// of fdcmdie is tested with it.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Options tunes a check. Zero values take the defaults.
type Options struct {
	Step float64 // finite-difference step (default 1e-6)
	RTol float64 // relative tolerance (default 1e-5)
	ATol float64 // absolute tolerance (default 1e-7)
	// MaxPerParam caps the number of elements checked per parameter,
	// chosen at random (default 64).
	MaxPerParam int
	Seed        uint64
}

// Mismatch describes the worst element of one parameter.
type Mismatch struct {
	Param             string
	Index             int
	Analytic, Numeric float64
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s[%d]: analytic %.10g, numeric %.10g", m.Param, m.Index, m.Analytic, m.Numeric)
}

// withDefaults fills the zero fields of o with the defaults.
func (o Options) withDefaults() Options {
	if o.Step == 0 {
		o.Step = 1e-6
	}
	if o.RTol == 0 {
		o.RTol = 1e-5
	}
	if o.ATol == 0 {
		o.ATol = 1e-7
	}
	if o.MaxPerParam == 0 {
		o.MaxPerParam = 64
	}
	return o
}

// Check builds cost = Σ out ⊙ R (R fixed random, or out itself when it is a
// scalar) on out's graph, differentiates it with respect to wrt, and
// compares each gradient, from the second of two runs, with central
// differences of the cost. All data
// inputs must already hold values. It returns the elements outside the
// tolerance (nil when all agree).
func Check(g *G.ExprGraph, out *G.Node, wrt G.Nodes, o Options) ([]Mismatch, error) {
	o = o.withDefaults()
	rng := rand.New(rand.NewPCG(o.Seed, 77))
	cost, err := weightedSum(g, out, rng)
	if err != nil {
		return nil, err
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		return nil, fmt.Errorf("gradcheck: Grad: %w", err)
	}
	var costVal G.Value
	G.Read(cost, &costVal)
	m := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	// Gorgonia's finalizer on the machine keeps the graph in memory for
	// good (layers.NewTapeMachine says why; this package cannot import
	// layers, whose tests use it).
	runtime.SetFinalizer(m, nil)
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return costVal.Data().(float64), nil
	}
	analytic, err := analyticGrads(wrt, run)
	if err != nil {
		return nil, err
	}
	var bad []Mismatch
	for i, n := range wrt {
		worst, err := worstElement(n, analytic[i], rng, run, o)
		if err != nil {
			return nil, err
		}
		if worst.Index >= 0 {
			bad = append(bad, worst)
		}
	}
	if _, err := run(); err != nil {
		return nil, err
	}
	return bad, nil
}

// weightedSum returns Σ out ⊙ R with R drawn from rng, or out itself when
// it is a scalar.
func weightedSum(g *G.ExprGraph, out *G.Node, rng *rand.Rand) (*G.Node, error) {
	if out.IsScalar() {
		return out, nil
	}
	r := make([]float64, out.Shape().TotalSize())
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	rn := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithName("gradcheck.R"),
		G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(r))))
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		return nil, err
	}
	return G.Sum(prod)
}

// analyticGrads runs the machine twice and copies the gradients of wrt.
// The analytic gradient is read after a second run, so that a kernel that
// depends on state left by the previous run (a reused buffer not fully
// overwritten) shows. Gorgonia adds each run's gradients to the dual
// values, so they are cleared in between.
func analyticGrads(wrt G.Nodes, run func() (float64, error)) ([][]float64, error) {
	for pass := 0; pass < 2; pass++ {
		for _, n := range wrt {
			if gv, err := n.Grad(); err == nil && gv != nil {
				gv.(tensor.Tensor).Zero()
			}
		}
		if _, err := run(); err != nil {
			return nil, fmt.Errorf("gradcheck: run: %w", err)
		}
	}
	analytic := make([][]float64, len(wrt))
	for i, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("gradcheck: %s: %w", n.Name(), err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	return analytic, nil
}

// worstElement compares the analytic gradient a of n with central
// differences at up to o.MaxPerParam elements drawn from rng, and returns
// the one furthest outside the tolerance (Index -1 when all agree).
func worstElement(n *G.Node, a []float64, rng *rand.Rand, run func() (float64, error), o Options) (Mismatch, error) {
	vals := n.Value().Data().([]float64)
	idx := rng.Perm(len(vals))
	if len(idx) > o.MaxPerParam {
		idx = idx[:o.MaxPerParam]
	}
	worst := Mismatch{Param: n.Name(), Index: -1}
	worstExcess := 0.0
	for _, j := range idx {
		v := vals[j]
		vals[j] = v + o.Step
		up, err := run()
		if err != nil {
			return worst, err
		}
		vals[j] = v - o.Step
		down, err := run()
		if err != nil {
			return worst, err
		}
		vals[j] = v
		num := (up - down) / (2 * o.Step)
		tol := o.ATol + o.RTol*math.Max(math.Abs(a[j]), math.Abs(num))
		if excess := math.Abs(a[j]-num) - tol; excess > worstExcess || math.IsNaN(a[j]) || math.IsNaN(num) {
			worstExcess = excess
			worst = Mismatch{Param: n.Name(), Index: j, Analytic: a[j], Numeric: num}
			if math.IsNaN(excess) {
				worstExcess = math.Inf(1)
			}
		}
	}
	return worst, nil
}
