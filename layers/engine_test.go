package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestEngineAddMatchesStdEng adds tensors with engine.Add and with
// tensor.StdEng.Add, into a preallocated tensor, in place and into a new
// one, in float32 (long enough to be split over the cores, with a tail
// past the last group of eight) and float64: the sums must be bitwise
// equal, the result the tensor each option names, and a shape mismatch an
// error as in StdEng.
func TestEngineAddMatchesStdEng(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		const n = 1<<16 + 5
		mk := func() *tensor.Dense {
			v := tensor.New(tensor.Of(dt), tensor.WithShape(n), tensor.WithEngine(engine{}))
			for i := 0; i < n; i++ {
				x := rng.NormFloat64()
				if i%97 == 0 {
					x = math.Inf(1)
				}
				if dt == tensor.Float32 {
					v.Data().([]float32)[i] = float32(x)
				} else {
					v.Data().([]float64)[i] = x
				}
			}
			return v
		}
		a, b := mk(), mk()
		want, err := tensor.StdEng{}.Add(a.Clone().(*tensor.Dense), b)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, got tensor.Tensor, err error, is tensor.Tensor) {
			t.Helper()
			if err != nil {
				t.Fatalf("%v %s: %v", dt, what, err)
			}
			if is != nil && got != is {
				t.Fatalf("%v %s: the sum is not in the tensor the option names", dt, what)
			}
			gs, ws := Float64s(got.(*tensor.Dense)), Float64s(want.(*tensor.Dense))
			for i, g := range gs {
				if math.Float64bits(g) != math.Float64bits(ws[i]) {
					t.Fatalf("%v %s: element %d: %v, StdEng %v", dt, what, i, g, ws[i])
				}
			}
		}
		reuse := tensor.New(tensor.Of(dt), tensor.WithShape(n))
		got, err := engine{}.Add(a, b, tensor.WithReuse(reuse))
		check("WithReuse", got, err, reuse)
		got, err = engine{}.Add(a.Clone().(*tensor.Dense), b)
		check("safe", got, err, nil)
		inPlace := a.Clone().(*tensor.Dense)
		got, err = engine{}.Add(inPlace, b, tensor.UseUnsafe())
		check("UseUnsafe", got, err, inPlace)
		got, err = tensor.Add(a, b, tensor.WithReuse(reuse))
		check("tensor.Add", got, err, reuse)
		if _, err := (engine{}).Add(a, tensor.New(tensor.Of(dt), tensor.WithShape(n-1))); err == nil {
			t.Fatalf("%v: adding tensors of %d and %d elements gave no error", dt, n, n-1)
		}
	}
}

// TestMachineSumsGradientsOnEngine runs a graph where x feeds two kernels
// on NewTapeMachine: the machine's values carry engine, and x's gradient,
// which Gorgonia sums from both paths with tensor.Add, is right by hand:
// y = relu(x) + tanh(x), dy/dx = [x > 0] + 1 − tanh²(x).
func TestMachineSumsGradientsOnEngine(t *testing.T) {
	b := newTestBuilder(1)
	xs := []float64{-1, 2, 0.5, -3, 4, -0.25, 1, -2}
	x := b.Param("x", func(_ *rand.Rand, d []float64) { copy(d, xs) }, 2, 4)
	y := b.Must(G.Add(b.Act(ReLU, x), b.Act(Tanh, x)))
	grads, err := G.Grad(b.Must(G.Sum(y)), x)
	if err != nil {
		t.Fatal(err)
	}
	var yVal, gVal G.Value
	G.Read(y, &yVal)
	G.Read(grads[0], &gVal)
	m := NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if _, ok := yVal.(*tensor.Dense).Engine().(engine); !ok {
		t.Fatalf("the machine's values run on %T, not engine", yVal.(*tensor.Dense).Engine())
	}
	for i, v := range Float64s(gVal.(*tensor.Dense)) {
		want := 1 - math.Pow(math.Tanh(xs[i]), 2)
		if xs[i] > 0 {
			want++
		}
		if math.Abs(v-want) > 1e-15 {
			t.Fatalf("dy/dx[%d] = %v, want %v", i, v, want)
		}
	}
}
