package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// adamwGolden mirrors testdata/adamw_golden.json, written by
// testdata/adamw_golden.py with torch.optim.AdamW.
type adamwGolden struct {
	Shapes  map[string][]int                `json:"shapes"`
	Decay   map[string]bool                 `json:"decay"`
	Init    map[string][]float64            `json:"init"`
	Grads   []map[string][]float64          `json:"grads"`
	Configs map[string]adamwGoldenConfigRun `json:"configs"`
}

type adamwGoldenConfigRun struct {
	LR          float64                         `json:"lr"`
	Beta1       float64                         `json:"beta1"`
	Beta2       float64                         `json:"beta2"`
	Eps         float64                         `json:"eps"`
	WeightDecay float64                         `json:"weight_decay"`
	After       map[string]map[string][]float64 `json:"after"`
	State       map[string]struct {
		Step     int       `json:"step"`
		ExpAvg   []float64 `json:"exp_avg"`
		ExpAvgSq []float64 `json:"exp_avg_sq"`
	} `json:"state"`
}

func loadAdamWGolden(t *testing.T) adamwGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "adamw_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g adamwGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("testdata/adamw_golden.json: %v", err)
	}
	if len(g.Configs) == 0 || len(g.Grads) != 3 {
		t.Fatalf("testdata/adamw_golden.json: %d configs, %d steps of gradients", len(g.Configs), len(g.Grads))
	}
	return g
}

// names returns the tensor names in a fixed order.
func (g adamwGolden) names() []string {
	var ns []string
	for n := range g.Shapes {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// assertClose fails for each element of got farther from want than
// abs + rel·|want|.
func assertClose(t *testing.T, label string, got []float32, want []float64, abs, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", label, len(got), len(want))
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= abs+rel*math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.9g, want %.9g (|diff| %.3g)", label, i, got[i], want[i], d)
		}
	}
}

// Tolerances against torch's float32 arithmetic: a few float32 ulps of the
// result, and for weights an absolute term of a float32 ulp of the
// operands, since w·(1 − lr·wd) − update cancels when the weight is near 0.
const (
	adamwRelTol       = 1e-6
	adamwWeightAbsTol = 2e-8
	adamwMomentAbsTol = 1e-15
)

// runAdamWGolden steps o through the golden gradients of steps [from, to),
// updating the weights w in place, and checks DecayFor against the golden
// parameter groups on the way.
func runAdamWGolden(t *testing.T, g adamwGolden, o *AdamW, w map[string][]float32, from, to int) {
	t.Helper()
	for step := from; step < to; step++ {
		var params []AdamWParam
		for _, n := range g.names() {
			if got := DecayFor(g.Shapes[n]); got != g.Decay[n] {
				t.Fatalf("DecayFor(%v) = %v, golden groups say %v", g.Shapes[n], got, g.Decay[n])
			}
			params = append(params, AdamWParam{Name: n, W: w[n], G: toFloat32Exact(t, g.Grads[step][n]), Decay: DecayFor(g.Shapes[n])})
		}
		if err := o.Step(params); err != nil {
			t.Fatal(err)
		}
	}
}

func newGoldenAdamW(t *testing.T, c adamwGoldenConfigRun) *AdamW {
	t.Helper()
	o, err := NewAdamW(AdamWConfig{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestAdamWGolden(t *testing.T) {
	g := loadAdamWGolden(t)
	for cname, c := range g.Configs {
		t.Run(cname, func(t *testing.T) {
			o := newGoldenAdamW(t, c)
			w := map[string][]float32{}
			for _, n := range g.names() {
				w[n] = toFloat32Exact(t, g.Init[n])
			}
			runAdamWGolden(t, g, o, w, 0, 1)
			for _, n := range g.names() {
				assertClose(t, "step 1: "+n, w[n], c.After["1"][n], adamwWeightAbsTol, adamwRelTol)
			}
			runAdamWGolden(t, g, o, w, 1, 3)
			st := o.State()
			for _, n := range g.names() {
				assertClose(t, "step 3: "+n, w[n], c.After["3"][n], adamwWeightAbsTol, adamwRelTol)
				want := c.State[n]
				if st.Tensors[n].Step != want.Step {
					t.Errorf("%s: step %d, want %d", n, st.Tensors[n].Step, want.Step)
				}
				assertClose(t, "exp_avg: "+n, st.Tensors[n].ExpAvg, want.ExpAvg, adamwMomentAbsTol, adamwRelTol)
				assertClose(t, "exp_avg_sq: "+n, st.Tensors[n].ExpAvgSq, want.ExpAvgSq, adamwMomentAbsTol, adamwRelTol)
			}
		})
	}
}

// TestAdamWResume saves the state after one step, loads it into a new
// optimizer and checks that two more steps land on torch's three-step values.
func TestAdamWResume(t *testing.T) {
	g := loadAdamWGolden(t)
	c := g.Configs["large_steps"]
	first := newGoldenAdamW(t, c)
	w := map[string][]float32{}
	for _, n := range g.names() {
		w[n] = toFloat32Exact(t, g.Init[n])
	}
	runAdamWGolden(t, g, first, w, 0, 1)
	saved := first.State()

	resumed := newGoldenAdamW(t, c)
	if err := resumed.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	// The loaded state is a copy: scribbling on the saved one changes nothing.
	for _, s := range saved.Tensors {
		for i := range s.ExpAvg {
			s.ExpAvg[i] = 1e3
		}
	}
	runAdamWGolden(t, g, resumed, w, 1, 3)
	for _, n := range g.names() {
		assertClose(t, "resumed step 3: "+n, w[n], c.After["3"][n], adamwWeightAbsTol, adamwRelTol)
	}
}

// TestAdamWOneStepByHand checks one step against arithmetic done by hand,
// with lr 0.1, β = (0.9, 0.999), eps 1e-8, wd 0.1. At t = 1 the bias
// corrections are 1 − β1 = 0.1 and 1 − β2 = 0.001, so step_size = 0.1/0.1 = 1.
//
// "w" (decayed), w = (1, 0), g = (0.5, 1e-8):
//
//	decay:  w = (1·(1 − 0.1·0.1), 0) = (0.99, 0)
//	m = 0.1·g = (0.05, 1e-9);  v = 0.001·g² = (2.5e-4, 1e-19)
//	denom = sqrt(v)/sqrt(0.001) + eps = (0.5 + 1e-8, 1e-8 + 1e-8)
//	w = 0.99 − 0.05/(0.5 + 1e-8) = 0.89 + 2e-9 ≈ 0.89
//	w = 0 − 1e-9/2e-8 = −0.05   (eps outside the sqrt halves this update)
//
// "b" (not decayed), w = −2, g = −3: m = −0.3, v = 0.009, denom = 3 + 1e-8,
// w = −2 + 0.3/3 = −1.9.
func TestAdamWOneStepByHand(t *testing.T) {
	o, err := NewAdamW(AdamWConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	w := []float32{1, 0}
	b := []float32{-2}
	err = o.Step([]AdamWParam{
		{Name: "w", W: w, G: []float32{0.5, 1e-8}, Decay: true},
		{Name: "b", W: b, G: []float32{-3}, Decay: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-6
	assertClose(t, "w", w, []float64{0.89, -0.05}, tol, 0)
	assertClose(t, "b", b, []float64{-1.9}, tol, 0)
	st := o.State().Tensors
	assertClose(t, "m(w)", st["w"].ExpAvg, []float64{0.05, 1e-9}, 0, 1e-6)
	assertClose(t, "v(w)", st["w"].ExpAvgSq, []float64{2.5e-4, 1e-19}, 0, 1e-6)
	assertClose(t, "m(b)", st["b"].ExpAvg, []float64{-0.3}, 0, 1e-6)
	assertClose(t, "v(b)", st["b"].ExpAvgSq, []float64{0.009}, 0, 1e-6)
	if st["w"].Step != 1 || st["b"].Step != 1 {
		t.Errorf("steps (%d, %d), want (1, 1)", st["w"].Step, st["b"].Step)
	}
}

func TestAdamWStepErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name       string
		params     []AdamWParam
		wantSubstr string
	}{
		{"empty name", []AdamWParam{{W: []float32{1}, G: []float32{1}}}, "empty name"},
		{"duplicate", []AdamWParam{{Name: "a", W: []float32{1}, G: []float32{1}}, {Name: "a", W: []float32{1}, G: []float32{1}}}, "a: tensor given twice"},
		{"length", []AdamWParam{{Name: "a", W: []float32{1, 2}, G: []float32{1}}}, "a: 2 weights but 1 gradients"},
		{"state length", []AdamWParam{{Name: "seen", W: []float32{1, 2, 3}, G: []float32{1, 1, 1}}}, "seen: 3 weights but optimizer state has 1"},
		{"NaN gradient", []AdamWParam{{Name: "ok", W: []float32{1}, G: []float32{1}}, {Name: "bad", W: []float32{1, 1}, G: []float32{0, nan}}}, "bad: gradient[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := NewAdamW(DefaultAdamWConfig())
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Step([]AdamWParam{{Name: "seen", W: []float32{1}, G: []float32{1}}}); err != nil {
				t.Fatal(err)
			}
			before := o.State()
			w0 := append([]float32(nil), tc.params[0].W...)
			err = o.Step(tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.wantSubstr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantSubstr)
			}
			if fmt.Sprint(o.State()) != fmt.Sprint(before) {
				t.Errorf("state changed by a failed step")
			}
			if fmt.Sprint(tc.params[0].W) != fmt.Sprint(w0) {
				t.Errorf("weights changed by a failed step: %v, were %v", tc.params[0].W, w0)
			}
		})
	}
}

func TestAdamWConfigAndLoadStateErrors(t *testing.T) {
	bad := []AdamWConfig{
		{LR: -1, Beta1: 0.9, Beta2: 0.999},
		{LR: 1e-4, Beta1: 1, Beta2: 0.999},
		{LR: 1e-4, Beta1: 0.9, Beta2: math.NaN()},
		{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: -1},
		{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, WeightDecay: math.Inf(1)},
	}
	for _, c := range bad {
		if _, err := NewAdamW(c); err == nil {
			t.Errorf("NewAdamW(%+v): no error", c)
		}
	}
	if err := DefaultAdamWConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}

	o, err := NewAdamW(DefaultAdamWConfig())
	if err != nil {
		t.Fatal(err)
	}
	badStates := []AdamWState{
		{Tensors: map[string]AdamWTensorState{"a": {Step: 1, ExpAvg: []float32{1}, ExpAvgSq: nil}}},
		{Tensors: map[string]AdamWTensorState{"a": {Step: -1}}},
		{Tensors: map[string]AdamWTensorState{"a": {Step: 1, ExpAvg: []float32{1}, ExpAvgSq: []float32{-1}}}},
		{Tensors: map[string]AdamWTensorState{"": {Step: 1}}},
	}
	for _, st := range badStates {
		if err := o.LoadState(st); err == nil {
			t.Errorf("LoadState(%+v): no error", st)
		}
	}
}

func TestDecayFor(t *testing.T) {
	tests := []struct {
		shape []int
		want  bool
	}{
		{nil, false},
		{[]int{768}, false},
		{[]int{30522, 768}, true},
		{[]int{4, 2, 3}, true},
	}
	for _, tc := range tests {
		if got := DecayFor(tc.shape); got != tc.want {
			t.Errorf("DecayFor(%v) = %v, want %v", tc.shape, got, tc.want)
		}
	}
}

// TestClipGlobalNorm uses gradients (3) and (4): joint norm 5.
//   - max 1: scale 1/(5 + 1e-6), grads (0.6, 0.8)·(1 − 2e-7).
//   - max 5: scale 5/5.000001 < 1 still clips, 3 → 2.9999994 (torch's +1e-6).
//   - max 10: scale > 1, grads unchanged.
func TestClipGlobalNorm(t *testing.T) {
	tests := []struct {
		maxNorm float64
		want    []float64
	}{
		{1, []float64{0.6 / (1 + 2e-7), 0.8 / (1 + 2e-7)}},
		{5, []float64{3 / (1 + 2e-7), 4 / (1 + 2e-7)}},
		{10, []float64{3, 4}},
	}
	for _, tc := range tests {
		grads := [][]float32{{3}, {4}}
		norm, err := ClipGlobalNorm(grads, tc.maxNorm)
		if err != nil {
			t.Fatal(err)
		}
		if norm != 5 {
			t.Errorf("max %v: norm %v, want 5", tc.maxNorm, norm)
		}
		label := fmt.Sprintf("max %v", tc.maxNorm)
		// One float32 ulp relative: 3 itself is 2e-7 away from the max-5 value.
		assertClose(t, label, []float32{grads[0][0], grads[1][0]}, tc.want, 0, 1e-7)
	}

	if _, err := ClipGlobalNorm([][]float32{{1}}, 0); err == nil {
		t.Error("max norm 0: no error")
	}
	inf := [][]float32{{1, float32(math.Inf(-1))}}
	if _, err := ClipGlobalNorm(inf, 1); err == nil {
		t.Error("infinite gradient: no error")
	}
	if inf[0][0] != 1 {
		t.Errorf("gradients changed on error: %v", inf)
	}
}

// ExampleAdamW shows one step on a decayed matrix and an undecayed bias.
// At step 1 Adam moves each weight by −lr·sign(g); the matrix is first
// scaled by 1 − lr·wd = 0.95, so 2 → 1.9 − 0.1 = 1.8.
func ExampleAdamW() {
	opt, err := NewAdamW(AdamWConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	w := []float32{1, -1, 2, 0.5} // shape (2, 2)
	b := []float32{0, 0}          // shape (2)
	err = opt.Step([]AdamWParam{
		{Name: "fc.weight", W: w, G: []float32{0.2, -0.4, 1, 3}, Decay: DecayFor([]int{2, 2})},
		{Name: "fc.bias", W: b, G: []float32{-1, 2}, Decay: DecayFor([]int{2})},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\n%.4f\n", w, b)
	// Output:
	// [0.8500 -0.8500 1.8000 0.3750]
	// [0.1000 -0.1000]
}
