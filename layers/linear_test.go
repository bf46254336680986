package layers

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

func TestLinearForwardByHand(t *testing.T) {
	b := newTestBuilder(1)
	l := NewLinear(b, "fc", 2, 3, true)
	setInput(t, l.W, []float64{1, 2, 3, 4, 5, 6})
	setInput(t, l.B, []float64{0.5, -1, 2})
	x := b.Input("x", 2, 2)
	setInput(t, x, []float64{1, -1, 2, 0.5})
	y := l.Fwd(b, x)
	got := run(t, b, y)[0]
	// row 0: [1−2, 3−4, 5−6] + b = [−0.5, −2, 1]; row 1: [2+1, 6+2, 10+3] + b = [3.5, 7, 15]
	assertClose(t, "y", got, []float64{-0.5, -2, 1, 3.5, 7, 15}, 1e-12)
}

func TestMixByHand(t *testing.T) {
	b := newTestBuilder(1)
	alpha := b.Input("alpha", 2, 2)
	setInput(t, alpha, []float64{0.25, 0.75, 1, -2})
	x0, x1 := b.Input("x0", 2, 2), b.Input("x1", 2, 2)
	setInput(t, x0, []float64{4, 8, 1, 2})
	setInput(t, x1, []float64{4, 0, 3, 5})
	// sample 0: 0.25·[4, 8] + 0.75·[4, 0] = [4, 2]; sample 1: [1, 2] − 2·[3, 5] = [−5, −8].
	assertClose(t, "mix", run(t, b, Mix(b, alpha, x0, x1))[0], []float64{4, 2, -5, -8}, 0)
}

// TestLinearSameOnOneAndTwoCores runs a float32 linear layer at the
// paper's sizes, where on two cores each core multiplies half its rows and
// the backward runs its two products side by side (sideBySide), on one
// core and on two, dense and over the real rows of a padded batch (whose
// lengths make runs of every size against sgemm's six-row tiles), and
// over those rows gathered into a packed copy (as without package sgemm's
// row products): the output and the gradients of x, W and b must be
// bitwise equal, and zero at the padded rows.
func TestLinearSameOnOneAndTwoCores(t *testing.T) {
	const B, L, in, out = 8, 500, 128, 512 // the paper's vision length, d_model and FFN width
	if !sideBySide(B * L / 2 * in * out) {
		t.Fatal("the case is too small to split over two cores")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, w, bias, gy := vals(B*L*in), vals(out*in), vals(out), vals(B*L*out)
	mask := make([]float32, B*L)
	for i, n := range []int{L, 463, 1, 0, 5, 250, L - 1, 7} {
		for t := 0; t < n; t++ {
			mask[i*L+t] = 1
		}
	}
	dense := func(v []float32, s ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))
	}
	run := func(procs int, rows *rowSet, inPlace bool) [4][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		defer func(saved bool) { packedProducts = saved }(packedProducts)
		packedProducts = inPlace
		a := &kargs{
			dt:    tensor.Float32,
			in:    []*tensor.Dense{dense(x, B, L, in), dense(w, out, in), dense(bias, out)},
			shape: []tensor.Shape{{B, L, in}, {out, in}, {out}},
			out:   dense(make([]float32, B*L*out), B, L, out),
			gout:  dense(gy, B, L, out),
			grads: []*tensor.Dense{dense(make([]float32, B*L*in), B, L, in), dense(make([]float32, out*in), out, in), dense(make([]float32, out), out)},
			scr:   &scratch{},
			tmp:   &scratch{},
			rows:  rows,
		}
		linearFwd[float32](a)
		linearBwd[float32](a)
		return [4][]float32{data[float32](a.out), data[float32](a.grads[0]), data[float32](a.grads[1]), data[float32](a.grads[2])}
	}
	for _, rows := range []*rowSet{nil, rowsIn(mask, tensor.Shape{B, L})} {
		one := run(1, rows, true)
		for i, name := range []string{"y", "gradient of x", "gradient of W", "gradient of b"} {
			if j := slices.IndexFunc(one[i], func(v float32) bool { return v != v }); j >= 0 {
				t.Fatalf("padded %v: %s[%d] is NaN", rows != nil, name, j)
			}
			if i < 2 {
				width := len(one[i]) / (B * L)
				for p := range B * L {
					if !rows.real(p) && slices.ContainsFunc(one[i][p*width:(p+1)*width], func(v float32) bool { return v != 0 }) {
						t.Fatalf("%s is not zero at padded row %d", name, p)
					}
				}
			}
		}
		for _, other := range []struct {
			name    string
			procs   int
			inPlace bool
		}{{"two cores", 2, true}, {"rows gathered", 2, false}} {
			got := run(other.procs, rows, other.inPlace)
			for i, name := range []string{"y", "gradient of x", "gradient of W", "gradient of b"} {
				for j := range one[i] {
					if math.Float32bits(one[i][j]) != math.Float32bits(got[i][j]) {
						t.Fatalf("padded %v: %s[%d]: %v on one core, %v with %s", rows != nil, name, j, one[i][j], got[i][j], other.name)
					}
				}
			}
		}
	}
}
