package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
)

func TestBucketShape(t *testing.T) {
	paper := graph.Shape{B: 32, Lt: 50, La: 375, Lv: 500}
	cases := []struct {
		lt, la, lv int
		want       graph.Shape
	}{
		{1, 1, 1, graph.Shape{B: 32, Lt: 7, La: 48, Lv: 64}},
		{7, 48, 64, graph.Shape{B: 32, Lt: 7, La: 48, Lv: 64}},
		{8, 1, 1, graph.Shape{B: 32, Lt: 14, La: 96, Lv: 128}}, // text sets k = 2
		{3, 20, 129, graph.Shape{B: 32, Lt: 21, La: 144, Lv: 192}},
		{15, 300, 420, graph.Shape{B: 32, Lt: 49, La: 336, Lv: 448}},
		{50, 1, 1, paper},
		{1, 340, 1, paper},
	}
	for _, c := range cases {
		if got := bucketShape(c.lt, c.la, c.lv, paper); got != c.want {
			t.Errorf("bucketShape(%d, %d, %d) = %+v, want %+v", c.lt, c.la, c.lv, got, c.want)
		}
	}
	for _, full := range []graph.Shape{paper, {B: 32, Lt: 34, La: 50, Lv: 50}, {B: 4, Lt: 5, La: 1, Lv: 1000}, cutShape} {
		shapes := map[graph.Shape]bool{}
		for lt := 1; lt <= full.Lt; lt++ {
			for _, la := range []int{1, full.La / 3, full.La / 2, full.La} {
				for lv := 1; lv <= full.Lv; lv += max(1, full.Lv/37) {
					s := bucketShape(lt, max(la, 1), lv, full)
					if s.Lt < lt || s.La < la || s.Lv < lv || s.Lt > full.Lt || s.La > full.La || s.Lv > full.Lv || s.B != full.B {
						t.Fatalf("bucketShape(%d, %d, %d, %+v) = %+v: not between the real and the full lengths", lt, la, lv, full, s)
					}
					shapes[s] = true
				}
			}
		}
		if len(shapes) > 8 {
			t.Errorf("full shape %+v: %d buckets, want at most 8", full, len(shapes))
		}
	}
}

// cutShape is a batch shape long enough for several buckets per modality.
var cutShape = graph.Shape{B: 4, Lt: 20, La: 24, Lv: 16}

// paddedTrainBatch is randomBatch with right-padded sequences: sample
// lengths drawn below each modality's length, row 3 padding.
func paddedTrainBatch(seed uint64, s graph.Shape, cfg graph.Config) *datasets.Batch {
	b := randomBatch(seed, s, cfg)
	rng := rand.New(rand.NewPCG(seed, 17))
	pad := func(x, mask []float32, steps, d int) {
		for r := 0; r < s.B; r++ {
			n := 0
			if r < 3 {
				n = 1 + rng.IntN(steps*2/3)
			}
			for t := n; t < steps; t++ {
				mask[r*steps+t] = 0
				clear(x[(r*steps+t)*d : (r*steps+t+1)*d])
			}
		}
	}
	pad(b.TextFeats, b.TextMask, s.Lt, cfg.TextDim)
	pad(b.Audio, b.AudioMask, s.La, cfg.AudioDim)
	pad(b.Vision, b.VisionMask, s.Lv, cfg.VisionDim)
	return b
}

// weightTol bounds the difference of a weight between a cut and an uncut
// run: the float32 products of a cut batch sum the same terms in another
// grouping (the padded rows they skip are zeros), so the weights agree to
// rounding, not bitwise. Biases that shift every score of a softmax
// (attention key biases, the GAP score's output bias) have an exact
// gradient of 0, and AdamW turns that rounding noise into steps of up to
// the learning rate (1e-3): they get 1e-4.
func weightTol(name string) float64 {
	if strings.HasSuffix(name, ".k.bias") || strings.HasSuffix(name, ".score.fc2.bias") {
		return 1e-4
	}
	return 1e-6
}

// TestCutTrainingMatchesFullLength trains two models of one seed for three
// steps on right-padded batches, one cutting each batch to its length
// bucket and one running the full length, and predicts with both: dropout
// masks, weights after every step (AdamW included) and predictions must
// agree to float32 rounding.
func TestCutTrainingMatchesFullLength(t *testing.T) {
	cfg := tinyConfig()
	var models [2]*Model
	for i, full := range []bool{false, true} {
		m, err := NewModel(cfg, cutShape, ModelOptions{Seed: 5, FullLength: full})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		models[i] = m
	}
	partners := emptyPartners(cutShape, cfg)
	for step := 0; step < 3; step++ {
		b := paddedTrainBatch(uint64(10+step), cutShape, cfg)
		var losses [2]float64
		for i, m := range models {
			out, err := m.TrainStep(b, partners)
			if err != nil {
				t.Fatal(err)
			}
			losses[i] = out.Loss
		}
		if len(models[0].runners) == 0 || models[0].cut.Lt == 0 {
			t.Fatal("the cutting model ran no cut batch")
		}
		if math.Abs(losses[0]-losses[1]) > 1e-6*math.Abs(losses[1]) {
			t.Fatalf("step %d: loss %v cut, %v at full length", step, losses[0], losses[1])
		}
		var worst float64
		var at string
		for j, p := range models[1].Graph().B.Params() {
			w := p.Node.Value().Data().([]float32)
			c := models[0].Graph().B.Params()[j].Node.Value().Data().([]float32)
			for k := range w {
				if d := math.Abs(float64(c[k] - w[k])); d/weightTol(p.Name) > worst {
					worst, at = d/weightTol(p.Name), fmt.Sprintf("%s[%d] = %v cut, %v at full length", p.Name, k, c[k], w[k])
				}
			}
		}
		t.Logf("step %d: largest weight difference %.3g of its tolerance: %s", step, worst, at)
		if worst > 1 {
			t.Fatalf("step %d: %s", step, at)
		}
	}
	b := paddedTrainBatch(20, cutShape, cfg)
	var preds [2][]float32
	for i, m := range models {
		out, err := m.Predict(b)
		if err != nil {
			t.Fatal(err)
		}
		preds[i] = out.Pred
	}
	for r := 0; r < 3; r++ {
		if math.Abs(float64(preds[0][r]-preds[1][r])) > 1e-5 {
			t.Errorf("prediction of row %d: %v cut, %v at full length", r, preds[0][r], preds[1][r])
		}
	}
	if n := len(models[0].runners); n < 3 {
		t.Errorf("the cutting model compiled %d graphs: the batches hit fewer buckets than the test means to cover", n)
	}
}

// TestCutTrainingSameOnOneAndTwoCores trains on right-padded batches, cut
// to their buckets, with GOMAXPROCS 1 and 2: the weights must be bitwise
// equal.
func TestCutTrainingSameOnOneAndTwoCores(t *testing.T) {
	cfg := tinyConfig()
	weights := func(procs int) map[string][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m, err := NewModel(cfg, cutShape, ModelOptions{Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		for step := 0; step < 3; step++ {
			if _, err := m.TrainStep(paddedTrainBatch(uint64(10+step), cutShape, cfg), emptyPartners(cutShape, cfg)); err != nil {
				t.Fatal(err)
			}
		}
		w := map[string][]float32{}
		for _, p := range m.Graph().B.Params() {
			w[p.Name] = slices.Clone(p.Node.Value().Data().([]float32))
		}
		return w
	}
	one, two := weights(1), weights(2)
	for name, w := range one {
		if !slices.Equal(w, two[name]) {
			t.Fatalf("%s differs between one and two cores", name)
		}
	}
}
