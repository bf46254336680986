package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/sgemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAttentionIgnoresPaddedKeys fills the padded keys and values of one
// sample with huge numbers, then with zeros: the output and the gradients
// of q and of the real keys and values must be bitwise the same, and the
// padded keys and values must get zero gradients.
func TestAttentionIgnoresPaddedKeys(t *testing.T) {
	const B, Tq, Tk, D, real0 = 2, 4, 20, 8, 13
	results := make([][][]float64, 2)
	for pass, fill := range []float64{1e12, 0} {
		b := NewBuilder(tensor.Float32, 1, true)
		rng := rand.New(rand.NewPCG(9, 10))
		vals := func(n int, padded func(i int) bool) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = rng.NormFloat64()
				if padded != nil && padded(i) {
					v[i] = fill * (1 + rng.Float64())
				}
			}
			return v
		}
		pad := func(i int) bool { return i/(Tk*D) == 0 && (i/D)%Tk >= real0 }
		q, k, v := b.Param("q", Uniform(1), B, Tq, D), b.Param("k", Uniform(1), B, Tk, D), b.Param("v", Uniform(1), B, Tk, D)
		setInput32(t, q, vals(B*Tq*D, nil))
		setInput32(t, k, vals(B*Tk*D, pad))
		setInput32(t, v, vals(B*Tk*D, pad))
		m := b.Input("m", B, Tk)
		mask := make([]float64, B*Tk)
		for i := range mask {
			if i >= Tk || i < real0 {
				mask[i] = 1
			}
		}
		setInput32(t, m, mask)
		res := runWithGrads(t, b, Attention(b, q, k, v, m, 2), q, k, v)
		results[pass] = res
		for _, g := range res[2:] { // padded rows of dK and dV
			for i, x := range g {
				if pad(i) && x != 0 {
					t.Fatalf("fill %g: padded key gradient [%d] = %v", fill, i, x)
				}
			}
		}
	}
	for j := range results[0] {
		for i, x := range results[0][j] {
			if y := results[1][j][i]; math.Float64bits(x) != math.Float64bits(y) {
				t.Fatalf("result %d [%d]: %v with huge padding, %v with zero padding", j, i, x, y)
			}
		}
	}
}

// runWithGrads runs out and the gradients of Σ out ⊙ R (R fixed random)
// with respect to wrt on one machine, and returns out's values followed
// by each gradient.
func runWithGrads(t *testing.T, b *Builder, out *G.Node, wrt ...*G.Node) [][]float64 {
	t.Helper()
	r := make([]float64, out.Shape().TotalSize())
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	cost := b.Must(G.Sum(b.Must(G.HadamardProd(out, b.Constant("R", r, out.Shape()...)))))
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var outVal G.Value
	G.Read(out, &outVal)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G, G.BindDualValues(wrt...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return readGrads(t, outVal, wrt)
}

// readGrads returns a run's output value and the gradients of wrt.
func readGrads(t *testing.T, out G.Value, wrt []*G.Node) [][]float64 {
	t.Helper()
	res := [][]float64{Float64s(out.(*tensor.Dense))}
	for _, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, Float64s(g.(*tensor.Dense)))
	}
	return res
}

// TestAttentionEvalMatchesTraining runs the same attention in a training
// graph, which keeps all probabilities for its backward pass, and in an
// evaluation graph, which holds one block of them at a time: the outputs
// must be bitwise equal, with a last block of 7 rows (a product for
// sgemm's direct loop, which blockEnd joins to the one before).
func TestAttentionEvalMatchesTraining(t *testing.T) {
	const B, Tk, D, heads = 2, 90, 8, 2
	Tq := 2*blockBase(Tk) + 7
	rng := rand.New(rand.NewPCG(3, 4))
	vals := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	qv, kv, vv := vals(B*Tq*D), vals(B*Tk*D), vals(B*Tk*D)
	mask := make([]float64, B*Tk)
	for i := range mask {
		if i%Tk < Tk-11*(i/Tk) { // the second sample has 11 padded keys
			mask[i] = 1
		}
	}
	var outs [2][]float64
	for i, train := range []bool{true, false} {
		b := NewBuilder(tensor.Float32, 1, train)
		q, k, v := b.Param("q", Uniform(1), B, Tq, D), b.Param("k", Uniform(1), B, Tk, D), b.Param("v", Uniform(1), B, Tk, D)
		setInput32(t, q, qv)
		setInput32(t, k, kv)
		setInput32(t, v, vv)
		m := b.Input("m", B, Tk)
		setInput32(t, m, mask)
		out := Attention(b, q, k, v, m, heads)
		if got := out.Op().(*fwdOp).k.(attentionK).keep; got != train {
			t.Fatalf("train %v: probabilities kept %v", train, got)
		}
		outs[i] = runWithGrads(t, b, out, q, k, v)[0]
	}
	for i, x := range outs[0] {
		if y := outs[1][i]; x != y {
			t.Fatalf("output [%d]: training graph %v, evaluation graph %v", i, x, y)
		}
	}
}

// TestBlocksRunTheKernel checks the query blocks of the forward pass: they
// tile the nq real queries, fit the scratch of a worker, and none is a
// product for sgemm's direct loop unless the whole head's is (or its
// rows reached blockCap), so that they give the numbers of one product
// over all queries; and at the head widths of the presets (8 and 32)
// over up to 500 keys the cap is never reached.
func TestBlocksRunTheKernel(t *testing.T) {
	for _, dh := range []int{8, 32} {
		for _, tk := range []int{3, 34, 50, 375, 500} {
			if base := blockBase(tk); blockRows(tk, 1, dh) == blockCap*base && sgemm.Direct(blockCap*base, 1, dh) {
				t.Fatalf("dh %d over %d keys: blocks of one key reach the cap and take the direct loop", dh, tk)
			}
		}
	}
	for _, tk := range []int{3, 50, 375, 500, 4000} {
		for _, dh := range []int{4, 32, 64} {
			most := 2 * blockRows(tk, 1, dh)
			for nq := 1; nq <= 600; nq++ {
				for _, n := range []int{1, 2, 3, 5, 17, 50, 500} {
					rows := blockRows(tk, n, dh)
					for r0, r1 := 0, 0; r0 < nq; r0 = r1 {
						r1 = blockEnd(r0, nq, rows, n, dh)
						if r1 <= r0 || r1-r0 >= most {
							t.Fatalf("%d keys, dh %d, %d queries, %d real keys: block [%d, %d) (scratch for %d rows)", tk, dh, nq, n, r0, r1, most)
						}
						capped := rows == blockCap*blockBase(tk)
						if sgemm.Direct(r1-r0, n, dh) && !sgemm.Direct(nq, n, dh) && !capped {
							t.Fatalf("%d keys, dh %d, %d queries, %d real keys: block [%d, %d) takes the direct loop, all of them would not", tk, dh, nq, n, r0, r1)
						}
					}
				}
			}
		}
	}
}

// TestAttentionSameOnOneAndTwoCores runs float32 attention at the paper's
// sizes (vision queries over audio keys: 500 × 375 steps, d_model 128, 4
// heads) on a padded batch whose samples' lengths differ, so that the
// cores take its heads in order of cost, on one core and on two: the
// output and the gradients of q, k and v must be bitwise equal, with the
// probabilities kept for the backward pass (training) and without, and
// zero at the padded rows (one sample has no real query) although the
// gradients held NaN before the backward pass; and the output must be
// bitwise the same with the probabilities kept and without.
func TestAttentionSameOnOneAndTwoCores(t *testing.T) {
	const B, Tq, Tk, D, heads = 6, 500, 375, 128, 4
	rng := rand.New(rand.NewPCG(23, 24))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	q, k, v, gy := vals(B*Tq*D), vals(B*Tk*D), vals(B*Tk*D), vals(B*Tq*D)
	qmask, kmask := make([]float32, B*Tq), make([]float32, B*Tk)
	for b := range B - 1 { // the last sample has no real query
		for i := range Tq - 80*b {
			qmask[b*Tq+i] = 1
		}
		for i := range Tk - 60*((b+3)%B) {
			kmask[b*Tk+i] = 1
		}
	}
	for i := range gy { // padded queries get no output gradient
		if qmask[i/D] == 0 {
			gy[i] = 0
		}
	}
	dense := func(v []float32, s ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))
	}
	// The backward stores its gradients (writesGrad): what an earlier run
	// left in them, here NaN, must not show.
	stale := func(n int) []float32 { return slices.Repeat([]float32{float32(math.NaN())}, n) }
	run := func(procs int, keep bool) [4][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		ak := attentionK{heads: heads, keep: keep}
		a := &kargs{
			dt:    tensor.Float32,
			in:    []*tensor.Dense{dense(q, B, Tq, D), dense(k, B, Tk, D), dense(v, B, Tk, D), dense(kmask, B, Tk)},
			shape: []tensor.Shape{{B, Tq, D}, {B, Tk, D}, {B, Tk, D}, {B, Tk}},
			out:   dense(make([]float32, B*Tq*D), B, Tq, D),
			gout:  dense(gy, B, Tq, D),
			grads: []*tensor.Dense{dense(stale(B*Tq*D), B, Tq, D), dense(stale(B*Tk*D), B, Tk, D), dense(stale(B*Tk*D), B, Tk, D), nil},
			scr:   &scratch{},
			keep:  &scratch{},
			tmp:   &scratch{},
			rows:  rowsIn(qmask, tensor.Shape{B, Tq}),
		}
		attnFwd[float32](ak, a)
		attnBwd[float32](ak, a)
		return [4][]float32{data[float32](a.out), data[float32](a.grads[0]), data[float32](a.grads[1]), data[float32](a.grads[2])}
	}
	var outs [][]float32
	for _, keep := range []bool{true, false} {
		one, two := run(1, keep), run(2, keep)
		outs = append(outs, one[0])
		for i, name := range []string{"output", "gradient of q", "gradient of k", "gradient of v"} {
			if j := slices.IndexFunc(one[i], func(v float32) bool { return v != v }); j >= 0 {
				t.Fatalf("keep %v: %s[%d] is NaN", keep, name, j)
			}
			mask, steps := qmask, Tq
			if i >= 2 {
				mask, steps = kmask, Tk
			}
			for b := range B {
				real := lastReal(mask[b*steps : (b+1)*steps])
				if i >= 2 && real == 0 { // a sample with no real key attends to them all
					real = steps
				}
				if j := slices.IndexFunc(one[i][(b*steps+real)*D:(b+1)*steps*D], func(v float32) bool { return v != 0 }); j >= 0 {
					t.Fatalf("keep %v: %s of sample %d is %v at padded row %d", keep, name, b, one[i][(b*steps+real)*D+j], real+j/D)
				}
			}
			sameBits32(t, fmt.Sprintf("keep %v: %s, one core and two", keep, name), one[i], two[i])
		}
	}
	// Without the cache the blocks of queries go over keys and values
	// packed once per head: the outputs are bitwise the same.
	sameBits32(t, "output, kept and in blocks", outs[0], outs[1])
}

// sameBits32 fails on the first element where a and b differ in any bit.
func sameBits32(t *testing.T, what string, a, b []float32) {
	t.Helper()
	for j := range a {
		if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
			t.Fatalf("%s: [%d] %v and %v", what, j, a[j], b[j])
		}
	}
}

// TestFewKeysTransposedMatchesPlain checks that attention over a few keys
// (the global tokens), whose scores and score gradients are computed as
// their transposes, gives bitwise the numbers of the plain products, and
// so does attention with few queries or keys whose cores take a sample's
// heads in turn after reading its rows (fewRows): the output and the
// three gradients, kept probabilities or not, with padded keys and
// queries, over query counts whose products take sgemm's blocked kernel
// and its direct loop, and heads of width 32 and 8.
func TestFewKeysTransposedMatchesPlain(t *testing.T) {
	defer func(v, r int) { fewKeys, fewRows = v, r }(fewKeys, fewRows)
	rng := rand.New(rand.NewPCG(25, 26))
	for _, c := range []struct{ B, Tq, Tk, D, heads int }{{3, 500, 3, 128, 4}, {4, 37, 3, 128, 4}, {3, 60, 7, 32, 4}, {2, 9, 1, 64, 2}, {3, 3, 500, 128, 4}} {
		vals := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		q, k, v, gy := vals(c.B*c.Tq*c.D), vals(c.B*c.Tk*c.D), vals(c.B*c.Tk*c.D), vals(c.B*c.Tq*c.D)
		qmask, kmask := make([]float32, c.B*c.Tq), make([]float32, c.B*c.Tk)
		for b := range c.B {
			for i := range c.Tq - b*c.Tq/(2*c.B) {
				qmask[b*c.Tq+i] = 1
			}
			for i := range max(1, c.Tk-b) {
				kmask[b*c.Tk+i] = 1
			}
		}
		for i := range gy {
			if qmask[i/c.D] == 0 {
				gy[i] = 0
			}
		}
		dense := func(v []float32, s ...int) *tensor.Dense {
			return tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))
		}
		run := func(few, rows int, keep bool) [4][]float32 {
			fewKeys, fewRows = few, rows
			ak := attentionK{heads: c.heads, keep: keep}
			a := &kargs{
				dt:    tensor.Float32,
				in:    []*tensor.Dense{dense(q, c.B, c.Tq, c.D), dense(k, c.B, c.Tk, c.D), dense(v, c.B, c.Tk, c.D), dense(kmask, c.B, c.Tk)},
				shape: []tensor.Shape{{c.B, c.Tq, c.D}, {c.B, c.Tk, c.D}, {c.B, c.Tk, c.D}, {c.B, c.Tk}},
				out:   dense(make([]float32, c.B*c.Tq*c.D), c.B, c.Tq, c.D),
				gout:  dense(gy, c.B, c.Tq, c.D),
				grads: []*tensor.Dense{dense(make([]float32, c.B*c.Tq*c.D), c.B, c.Tq, c.D), dense(make([]float32, c.B*c.Tk*c.D), c.B, c.Tk, c.D), dense(make([]float32, c.B*c.Tk*c.D), c.B, c.Tk, c.D), nil},
				scr:   &scratch{},
				keep:  &scratch{},
				tmp:   &scratch{},
				rows:  rowsIn(qmask, tensor.Shape{c.B, c.Tq}),
			}
			attnFwd[float32](ak, a)
			attnBwd[float32](ak, a)
			return [4][]float32{data[float32](a.out), data[float32](a.grads[0]), data[float32](a.grads[1]), data[float32](a.grads[2])}
		}
		for _, keep := range []bool{true, false} {
			plain := run(0, 0, keep)
			for _, few := range [][2]int{{7, 0}, {0, 7}, {7, 7}} {
				got := run(few[0], few[1], keep)
				for i, name := range []string{"output", "gradient of q", "gradient of k", "gradient of v"} {
					for j := range plain[i] {
						if math.Float32bits(plain[i][j]) != math.Float32bits(got[i][j]) {
							t.Fatalf("%+v, keep %v, fewKeys %d, fewRows %d: %s[%d] = %v, %v plain", c, keep, few[0], few[1], name, j, got[i][j], plain[i][j])
						}
					}
				}
			}
		}
	}
}

// TestAttentionQKVMatchesParts checks that attention reading q, k and v in
// place from NeoBERT's packed projection (AttentionQKV) gives bitwise the
// output of attention on the three parts copied out, and a gradient of qkv
// whose parts are their gradients, bit for bit, every element written
// (the buffer starts as NaN): at NeoBERT-base's width (12 heads of 64, 50
// tokens), whose products take sgemm's blocked kernel, and at small ones
// that take its direct loop, over few keys (transposedProduct) and more;
// with padded sentences, probabilities kept or not.
func TestAttentionQKVMatchesParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, c := range []struct{ B, L, D, heads int }{{8, 50, 768, 12}, {3, 7, 12, 2}, {3, 11, 12, 2}} {
		dh := c.D / c.heads
		qkv, gy := make([]float32, c.B*c.L*3*c.D), make([]float32, c.B*c.L*c.D)
		for i := range qkv {
			qkv[i] = float32(rng.NormFloat64())
		}
		mask := make([]float32, c.B*c.L)
		for b := range c.B {
			for i := range max(1, c.L-b*c.L/(2*c.B)) {
				mask[b*c.L+i] = 1
			}
		}
		for i := range gy {
			if mask[i/c.D] != 0 {
				gy[i] = float32(rng.NormFloat64())
			}
		}
		// part p of qkv: head h's features [h·3dh + p·dh, +dh) of each row.
		part := func(x []float32, p int) []float32 {
			out := make([]float32, c.B*c.L*c.D)
			for r := range c.B * c.L {
				for h := range c.heads {
					copy(out[r*c.D+h*dh:][:dh], x[r*3*c.D+h*3*dh+p*dh:][:dh])
				}
			}
			return out
		}
		dense := func(v []float32, s ...int) *tensor.Dense {
			return tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))
		}
		nans := func(n int, s ...int) *tensor.Dense {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(math.NaN())
			}
			return dense(v, s...)
		}
		run := func(ak attentionK, in []*tensor.Dense, grads []*tensor.Dense) *kargs {
			a := &kargs{dt: tensor.Float32, in: in, out: nans(c.B*c.L*c.D, c.B, c.L, c.D), gout: dense(gy, c.B, c.L, c.D),
				grads: grads, scr: &scratch{}, keep: &scratch{}, tmp: &scratch{}, rows: rowsIn(mask, tensor.Shape{c.B, c.L})}
			for _, x := range in {
				a.shape = append(a.shape, x.Shape())
			}
			attnFwd[float32](ak, a)
			attnBwd[float32](ak, a)
			return a
		}
		for _, keep := range []bool{true, false} {
			s := []int{c.B, c.L, c.D}
			plain := run(attentionK{heads: c.heads, keep: keep},
				[]*tensor.Dense{dense(part(qkv, 0), s...), dense(part(qkv, 1), s...), dense(part(qkv, 2), s...), dense(mask, c.B, c.L)},
				[]*tensor.Dense{nans(c.B*c.L*c.D, s...), nans(c.B*c.L*c.D, s...), nans(c.B*c.L*c.D, s...), nil})
			packed := run(attentionK{heads: c.heads, keep: keep, packed: true},
				[]*tensor.Dense{dense(qkv, c.B, c.L, 3*c.D), dense(mask, c.B, c.L)},
				[]*tensor.Dense{nans(c.B*c.L*3*c.D, c.B, c.L, 3*c.D), nil})
			what := fmt.Sprintf("%+v, keep %v", c, keep)
			sameBits32(t, what+": output", data[float32](plain.out), data[float32](packed.out))
			for p, name := range []string{"q", "k", "v"} {
				sameBits32(t, what+": gradient of "+name, data[float32](plain.grads[p]), part(data[float32](packed.grads[0]), p))
			}
			for i, v := range data[float32](packed.grads[0]) {
				if v != v {
					t.Fatalf("%s: gradient of qkv [%d] not written", what, i)
				}
			}
		}
	}
}
