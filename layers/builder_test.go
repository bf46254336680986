package layers

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
	"gorgonia.org/tensor"
)

func TestBuilderRejectsDuplicateNames(t *testing.T) {
	b := newTestBuilder(1)
	NewLinear(b, "fc", 2, 2, true)
	NewLinear(b, "fc", 2, 2, true)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), `"fc.weight"`) {
		t.Fatalf("err = %v, want a duplicate-name error naming fc.weight", err)
	}
}

func TestBuilderHashesUnique(t *testing.T) {
	b := newTestBuilder(1)
	x := b.Input("x", 2, 3, 4)
	m := b.Input("m", 2, 3)
	att := NewMultiHeadAttention(b, "att", 4, 2)
	Pool(b, att.Fwd(b, x, x, m), m)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckHashes(); err != nil {
		t.Fatal(err)
	}
}

func TestFrozenParamsGetNoGradient(t *testing.T) {
	b := newTestBuilder(1)
	b.Freeze("enc.")
	enc := NewLinear(b, "enc", 3, 3, true)
	head := NewLinear(b, "head", 3, 1, true)
	x := b.Input("x", 2, 3)
	setInput(t, x, []float64{1, 2, 3, 4, 5, 6})
	y := head.Fwd(b, enc.Fwd(b, x))
	var names []string
	for _, n := range b.Trainable() {
		names = append(names, n.Name())
	}
	if strings.Join(names, ",") != "head.weight,head.bias" {
		t.Fatalf("trainable = %v", names)
	}
	for _, p := range b.Params() {
		if p.Frozen != strings.HasPrefix(p.Name, "enc.") {
			t.Fatalf("%s frozen = %v", p.Name, p.Frozen)
		}
	}
	// The frozen encoder's output is data to the head: the gradient check
	// passes over the trainable parameters alone.
	assertGrads(t, b, y)
}

func TestDropoutMasks(t *testing.T) {
	b := NewBuilder(tensor.Float32, 1, true)
	x := b.Input("x", 4, 1000)
	b.Dropout(x, 0.25)
	fill := func(seed uint64, train bool) []float32 {
		if err := b.FillDropouts(rand.New(rand.NewPCG(seed, 0)), train); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), b.Dropouts()[0].Node.Value().Data().([]float32)...)
	}
	a, c := fill(3, true), fill(3, true)
	zeros := 0
	for i, v := range a {
		if v != c[i] {
			t.Fatal("same seed, different masks")
		}
		switch v {
		case 0:
			zeros++
		case float32(1 / 0.75):
		default:
			t.Fatalf("mask value %v, want 0 or 1/(1-p)", v)
		}
	}
	if zeros < 900 || zeros > 1100 { // 4000·0.25 = 1000 expected, sd ≈ 27
		t.Fatalf("%d of 4000 dropped, want about 1000", zeros)
	}
	for _, v := range fill(3, false) {
		if v != 1 {
			t.Fatal("evaluation mask is not all ones")
		}
	}
	if ev := NewBuilder(tensor.Float32, 1, false); ev.Dropout(x, 0.5) != x {
		t.Fatal("an evaluation graph applies dropout")
	}
}

// TestDropoutMasksByRow draws a mask [B, T, F] on one core and on two, and
// at fewer steps: the masks must be equal on one and two cores, the mask of
// T' < T steps must be the leading block of the one of T steps (a batch cut
// to its real length drops the same elements as the uncut batch), every
// row must drop about p of the mask, and rows must differ.
func TestDropoutMasksByRow(t *testing.T) {
	const samples, steps, width, p = 3, 400, 33, 0.3
	draw := func(procs, steps int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := make([]float64, samples*steps*width)
		fillMask(m, samples, steps, 42, p, true, nil)
		return m
	}
	one, two := draw(1, steps), draw(2, steps)
	if !slices.Equal(one, two) {
		t.Fatal("the mask drawn on two cores differs from the one drawn on one")
	}
	const cut = 250
	short := draw(2, cut)
	for i := 0; i < samples; i++ {
		if !slices.Equal(short[i*cut*width:(i+1)*cut*width], one[i*steps*width:(i*steps+cut)*width]) {
			t.Fatalf("sample %d: the mask of %d steps is not the leading block of the mask of %d", i, cut, steps)
		}
	}
	dropped := 0
	for _, v := range one {
		if v == 0 {
			dropped++
		}
	}
	if frac := float64(dropped) / float64(len(one)); math.Abs(frac-p) > 0.01 { // sd ≈ 0.002
		t.Errorf("%d of %d dropped (%.3f), want about %v", dropped, len(one), frac, p)
	}
	row := func(i, s int) []float64 { return one[(i*steps+s)*width : (i*steps+s+1)*width] }
	if slices.Equal(row(0, 0), row(0, 1)) || slices.Equal(row(0, 0), row(1, 0)) {
		t.Error("two rows of the mask repeat each other")
	}
}

func TestSinusoidalPEByHand(t *testing.T) {
	pe := SinusoidalPE(3, 4)
	// p = 2: angles 2/10000^(0/4) = 2 and 2/10000^(2/4) = 0.02.
	want := []float64{math.Sin(2), math.Cos(2), math.Sin(0.02), math.Cos(0.02)}
	assertClose(t, "pe[2]", pe[8:12], want, 1e-15)
	assertClose(t, "pe[0]", pe[0:4], []float64{0, 1, 0, 1}, 0)
}

// TestFillMask8MatchesGo checks that float32 masks drawn eight rows at a
// time (vec.PCGMask8, AVX-512) are bitwise those of the Go loop, row
// widths with and without a tail past a multiple of 16, with padding
// rows among the real ones, at drop rates 0.1, 0.5, 0 and 0.999, on one
// core and two; and that the Go loop's rows are math/rand/v2's PCG
// streams, drawn here one by one.
func TestFillMask8MatchesGo(t *testing.T) {
	if !vec.PCG8 {
		t.Skip("no AVX-512F and DQ on this CPU")
	}
	defer func() { usePCG8 = true }()
	const samples, steps = 5, 37
	mask := make([]float32, samples*steps)
	for b := range samples {
		for s := range steps - 7*b {
			mask[b*steps+s] = 1
		}
	}
	for _, width := range []int{128, 16, 17, 31, 40, 768} {
		for _, p := range []float64{0.1, 0.5, 0, 0.999} {
			for _, rs := range []*rowSet{nil, rowsIn(mask, tensor.Shape{samples, steps})} {
				var got [2][]float32
				for k, on := range []bool{true, false} {
					usePCG8 = on
					got[k] = make([]float32, samples*steps*width)
					for i := range got[k] {
						got[k][i] = float32(math.NaN())
					}
					func() {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1 + k))
						fillMask(got[k], samples, steps, 99, p, true, rs)
					}()
				}
				usePCG8 = true
				for i := range got[0] {
					if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
						t.Fatalf("width %d, p %v, padded %v: [%d] = %v eight at a time, %v in Go", width, p, rs != nil, i, got[0][i], got[1][i])
					}
				}
				r := 2*steps + 3 // a real row of sample 2
				src := rand.NewPCG(99, 2<<32|3)
				for j := 0; j < width; j += 2 {
					u := src.Uint64()
					for h, half := range []uint32{uint32(u), uint32(u >> 32)} {
						want := float32(1 / (1 - p))
						if half < uint32(min(p*(1<<32), math.MaxUint32)) {
							want = 0
						}
						if j+h < width && got[1][r*width+j+h] != want {
							t.Fatalf("width %d, p %v: row %d [%d] = %v, want %v", width, p, r, j+h, got[1][r*width+j+h], want)
						}
					}
				}
			}
		}
	}
}
