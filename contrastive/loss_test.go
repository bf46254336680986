package contrastive

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossFixture builds the loss graph in float64 over B samples with random
// features, k partner slots, some of them empty, and one padding row.
type lossFixture struct {
	b              *layers.Builder
	out            *G.Node
	feats          [6][]float64 // s_t, s_v, s_a, d_t, d_v, d_a [B·d]
	partners       [6][]float64 // sim t,v,a, diff t,v,a [B·k·d]
	simM, diffM, w []float64
	B, k, d        int
}

func newLossFixture(t *testing.T, seed uint64) *lossFixture {
	const B, k, d = 4, 3, 5
	f := &lossFixture{b: layers.NewBuilder(tensor.Float64, seed, true), B: B, k: k, d: d}
	rng := rand.New(rand.NewPCG(seed, 1))
	var in Inputs
	names := [6]string{"s_t", "s_v", "s_a", "d_t", "d_v", "d_a"}
	for i := range f.feats {
		f.feats[i] = make([]float64, B*d)
		for j := range f.feats[i] {
			f.feats[i][j] = rng.NormFloat64()
		}
		vals := f.feats[i]
		n := f.b.Param(names[i], func(_ *rand.Rand, dst []float64) { copy(dst, vals) }, B, d)
		if i < 3 {
			in.S[i] = n
		} else {
			in.D[i-3] = n
		}
	}
	pnames := [6]string{"sim_t", "sim_v", "sim_a", "diff_t", "diff_v", "diff_a"}
	for i := range f.partners {
		f.partners[i] = make([]float64, B*k*d)
		for j := range f.partners[i] {
			f.partners[i][j] = rng.NormFloat64()
		}
		n := f.b.Constant(pnames[i], f.partners[i], B, k, d)
		if i < 3 {
			in.Sim[i] = n
		} else {
			in.Diff[i-3] = n
		}
	}
	// Sample 0: full slots; 1: one similar, no different (s_v and s_a
	// positives have empty denominators); 2: no partners; 3: padding.
	f.simM = []float64{1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1}
	f.diffM = []float64{1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1}
	f.w = []float64{1, 1, 1, 0}
	in.SimMask = f.b.Constant("sim_mask", f.simM, B, k)
	in.DiffMask = f.b.Constant("diff_mask", f.diffM, B, k)
	in.Weight = f.b.Constant("weight", f.w, B)
	f.out = Loss(f.b, LossConfig{Tau: 0.5, Margin: 0.5, LambdaTri: 0.1}, in)
	if err := f.b.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

// reference computes L_cl from RefNTXent and RefTriplet.
func (f *lossFixture) reference(t *testing.T) float64 {
	var nt, tri, n float64
	for b := 0; b < f.B; b++ {
		if f.w[b] == 0 {
			continue
		}
		v := func(i int) []float64 { return f.feats[i][b*f.d : (b+1)*f.d] }
		var parts [6][][]float64
		for i := range parts {
			mask := f.simM
			if i >= 3 {
				mask = f.diffM
			}
			for j := 0; j < f.k; j++ {
				if mask[b*f.k+j] != 0 {
					o := (b*f.k + j) * f.d
					parts[i] = append(parts[i], f.partners[i][o:o+f.d])
				}
			}
		}
		l, err := RefNTXent(v(0), v(1), v(2), v(3), v(4), v(5), parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], 0.5)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := RefTriplet(v(0), v(1), v(2), v(3), v(4), v(5), 0.5)
		if err != nil {
			t.Fatal(err)
		}
		nt, tri, n = nt+l, tri+tr, n+1
	}
	return nt/n + 0.1*tri/n
}

func TestLossMatchesReference(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		f := newLossFixture(t, seed)
		var v G.Value
		G.Read(f.out, &v)
		m := layers.NewTapeMachine(f.b.G)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		got, want := v.Data().([]float64)[0], f.reference(t)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("seed %d: L_cl = %.15g, reference %.15g", seed, got, want)
		}
		m.Close()
	}
}

func TestLossGradient(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		f := newLossFixture(t, seed)
		bad, err := gradcheck.Check(f.b.G, f.out, f.b.Trainable(), gradcheck.Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range bad {
			t.Errorf("seed %d: %v", seed, m)
		}
	}
}

func TestLossPaddingRowHasNoGradient(t *testing.T) {
	f := newLossFixture(t, 9)
	cost, err := G.Sum(f.out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(cost, f.b.Trainable()...); err != nil {
		t.Fatal(err)
	}
	m := layers.NewTapeMachine(f.b.G, G.BindDualValues(f.b.Trainable()...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.b.Trainable() {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Data().([]float64)[3*f.d:] { // row 3 is padding
			if v != 0 {
				t.Fatalf("%s: padding row gradient %v", n.Name(), v)
			}
		}
	}
}

// TestLossSameOnOneAndTwoCores runs the fused loss and its gradients at
// CMU-MOSEI's setting (batch 16, k_cl 50, d 128, float32, some empty slots
// and a padding row) on one core and on two: they must agree bit for bit.
func TestLossSameOnOneAndTwoCores(t *testing.T) {
	const B, K, d = 16, 50, 128
	rng := rand.New(rand.NewPCG(8, 9))
	in := make([]*tensor.Dense, numInputs)
	for i := range in {
		var s tensor.Shape
		switch {
		case i < inSim:
			s = tensor.Shape{B, d}
		case i < inSimMask:
			s = tensor.Shape{B, K, d}
		case i < inWeight:
			s = tensor.Shape{B, K}
		default:
			s = tensor.Shape{B}
		}
		v := make([]float32, s.TotalSize())
		for j := range v {
			switch {
			case i < inSimMask:
				v[j] = float32(rng.NormFloat64())
			case i < inWeight:
				v[j] = float32(rng.IntN(5) / 4) // a fifth of the slots empty
			default:
				v[j] = float32(min(1, B-1-j)) // the last row is padding
			}
		}
		in[i] = tensor.New(tensor.WithShape(s...), tensor.WithBacking(v))
	}
	k := lossK{LossConfig{Tau: 0.5, Margin: 0.5, LambdaTri: 0.1}}
	run := func(procs int) (float64, [][]float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		grads := make([]*tensor.Dense, numInputs)
		var out [][]float32
		for i := inS; i < inSim; i++ {
			grads[i] = tensor.New(tensor.WithShape(B, d), tensor.Of(tensor.Float32))
		}
		l := k.eval(in, grads, 0.7)
		for i := inS; i < inSim; i++ {
			out = append(out, grads[i].Data().([]float32))
		}
		return l, out
	}
	l1, g1 := run(1)
	l2, g2 := run(2)
	if l1 != l2 {
		t.Errorf("loss %v on one core, %v on two", l1, l2)
	}
	for i := range g1 {
		if !slices.Equal(g1[i], g2[i]) {
			t.Errorf("input %d: gradients differ between one and two cores", i)
		}
	}
	if l1 == 0 || slices.Equal(g1[0], make([]float32, B*d)) {
		t.Error("control: loss or s_t gradient is zero")
	}
}
