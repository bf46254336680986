package layers

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

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
	b.Dropout("d", x, 0.25)
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
	if ev := NewBuilder(tensor.Float32, 1, false); ev.Dropout("d", x, 0.5) != x {
		t.Fatal("an evaluation graph applies dropout")
	}
}

// TestDropoutMasksAcrossChunks draws a mask of several chunks on one core
// and on two: the masks must be equal, and every chunk must drop about p
// of its elements and differ from the others.
func TestDropoutMasksAcrossChunks(t *testing.T) {
	n := 3*maskChunk + 5
	draw := func(procs int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m := make([]float64, n)
		fillMask(m, 42, 0.3, true)
		return m
	}
	one, two := draw(1), draw(2)
	for i := range one {
		if one[i] != two[i] {
			t.Fatalf("element %d: %v on one core, %v on two", i, one[i], two[i])
		}
	}
	for c := 0; c*maskChunk < n; c++ {
		part := one[c*maskChunk : min((c+1)*maskChunk, n)]
		dropped := 0
		for _, v := range part {
			if v == 0 {
				dropped++
			}
		}
		if len(part) > 1000 && math.Abs(float64(dropped)/float64(len(part))-0.3) > 0.02 {
			t.Errorf("chunk %d drops %d of %d, want about 30%%", c, dropped, len(part))
		}
		if c > 0 && len(part) >= 100 && slices.Equal(part[:100], one[:100]) {
			t.Errorf("chunk %d repeats chunk 0", c)
		}
	}
}

func TestSinusoidalPEByHand(t *testing.T) {
	pe := SinusoidalPE(3, 4)
	// p = 2: angles 2/10000^(0/4) = 2 and 2/10000^(2/4) = 0.02.
	want := []float64{math.Sin(2), math.Cos(2), math.Sin(0.02), math.Cos(0.02)}
	assertClose(t, "pe[2]", pe[8:12], want, 1e-15)
	assertClose(t, "pe[0]", pe[0:4], []float64{0, 1, 0, 1}, 0)
}
