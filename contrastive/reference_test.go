package contrastive

import (
	"math"
	"testing"
)

// e2 and em2 are e^2 and e^−2: with τ = 0.5 a cosine of 1, 0, −1 becomes a
// logit cos/τ of 2, 0, −2.
var (
	e2  = math.Exp(2)
	em2 = math.Exp(-2)
)

func vecs(v ...[]float64) [][]float64 { return v }

func TestRefCos(t *testing.T) {
	cases := []struct {
		name string
		a, b []float64
		want float64
	}{
		// (3·4 + 4·3) / (5·5) = 24/25.
		{"3-4-5", []float64{3, 4}, []float64{4, 3}, 0.96},
		{"opposite", []float64{2, 0}, []float64{-5, 0}, -1},
		{"orthogonal", []float64{1, 1}, []float64{-1, 1}, 0},
		// 1 / (1·√2).
		{"45 degrees", []float64{1, 0}, []float64{1, 1}, 1 / math.Sqrt2},
		// A zero vector has norm max(0, 1e-8): the cosine is 0, not NaN.
		{"zero vector", []float64{0, 0}, []float64{1, 0}, 0},
		// |a| = 1e-9 is clipped to 1e-8: 1e-9 / (1e-8·1) = 0.1.
		{"tiny norm", []float64{1e-9, 0}, []float64{1, 0}, 0.1},
	}
	for _, c := range cases {
		got, err := RefCos(c.a, c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s: RefCos = %.17g, want %.17g", c.name, got, c.want)
		}
	}
	if _, err := RefCos([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("RefCos accepted vectors of lengths 1 and 2")
	}
}

// The anchor's own features of most cases: s_t = (1,0) and
//
//	cos(s_t, s_v = (1,0)) = 1   → logit 2   (positive)
//	cos(s_t, s_a = (0,1)) = 0   → logit 0   (positive)
//	cos(s_t, d_t = (−1,0)) = −1 → logit −2  (negative)
//	cos(s_t, d_v = (0,−1)) = 0  → logit 0   (negative)
//	cos(s_t, d_a = (0,2)) = 0   → logit 0   (negative)
var (
	refST = []float64{1, 0}
	refSV = []float64{1, 0}
	refSA = []float64{0, 1}
	refDT = []float64{-1, 0}
	refDV = []float64{0, -1}
	refDA = []float64{0, 2}
)

// refNTXentCase is one anchor's features and partners with the NT-Xent
// loss worked out by hand.
type refNTXentCase struct {
	name                string
	st, sv, sa          []float64
	dt, dv, da          []float64
	simT, simV, simA    [][]float64
	diffT, diffV, diffA [][]float64
	tau                 float64
	want                float64
}

// refNTXentCases are the cases of TestRefNTXent, each with its sum
// written out term by term.
var refNTXentCases = []refNTXentCase{
	{
		// Only the s_t group: logits sv 2 (P), sa 0 (P), dt −2, dv 0, da 0.
		// (s_t,s_v): −2 + log(e^0 + e^−2 + e^0 + e^0)  = −2 + log(3 + e^−2)
		// (s_t,s_a): −0 + log(e^2 + e^−2 + e^0 + e^0)  = log(2 + e^2 + e^−2)
		name: "no partners",
		st:   refST, sv: refSV, sa: refSA, dt: refDT, dv: refDV, da: refDA,
		tau:  0.5,
		want: -2 + math.Log(3+em2) + math.Log(2+e2+em2),
	},
	{
		// Same vectors, τ = 1: the logits are the cosines 1, 0, −1, 0, 0.
		// (s_t,s_v): −1 + log(1 + e^−1 + 1 + 1); (s_t,s_a): log(e + e^−1 + 1 + 1).
		name: "tau 1",
		st:   refST, sv: refSV, sa: refSA, dt: refDT, dv: refDV, da: refDA,
		tau:  1,
		want: -1 + math.Log(3+math.Exp(-1)) + math.Log(2+math.E+math.Exp(-1)),
	},
	{
		// One similar partner, no different one. s_t^1 = (0,−3): logit 0 (P).
		// The s_v group holds the single pair (s_v, s_v^1), the s_a group
		// (s_a, s_a^1): empty denominators, they contribute nothing.
		// s_t group: sv 2 (P), sa 0 (P), s_t^1 0 (P), dt −2, dv 0, da 0.
		// (s_t,s_v):   −2 + log(1 + 1 + e^−2 + 1 + 1) = −2 + log(4 + e^−2)
		// (s_t,s_a):    0 + log(e^2 + 1 + e^−2 + 1 + 1) = log(3 + e^2 + e^−2)
		// (s_t,s_t^1):  0 + log(e^2 + 1 + e^−2 + 1 + 1) = log(3 + e^2 + e^−2)
		name: "empty denominators",
		st:   refST, sv: refSV, sa: refSA, dt: refDT, dv: refDV, da: refDA,
		simT: vecs([]float64{0, -3}), simV: vecs([]float64{1, 1}), simA: vecs([]float64{5, 5}),
		tau:  0.5,
		want: -2 + math.Log(4+em2) + 2*math.Log(3+e2+em2),
	},
	{
		// One similar and one different partner.
		// s_t group: sv 2 (P), sa 0 (P), s_t^sim = (2,0) 2 (P), dt −2, dv 0,
		//            da 0, s_t^diff = (−1,0) −2.
		//   (s_t,s_v):     −2 + log(1 + e^2 + e^−2 + 1 + 1 + e^−2) = −2 + log(3 + e^2 + 2e^−2)
		//   (s_t,s_a):      0 + log(e^2 + e^2 + e^−2 + 1 + 1 + e^−2) = log(2 + 2e^2 + 2e^−2)
		//   (s_t,s_t^sim): −2 + log(e^2 + 1 + e^−2 + 1 + 1 + e^−2) = −2 + log(3 + e^2 + 2e^−2)
		// s_v = (1,0) group: s_v^sim = (1,1): cos 1/√2, logit √2 (P);
		//                    s_v^diff = (0,1): logit 0.
		//   (s_v,s_v^sim): −√2 + log(e^0) = −√2
		// s_a = (0,1) group: s_a^sim = (0,−1): logit −2 (P); s_a^diff = (0,1): logit 2.
		//   (s_a,s_a^sim): 2 + log(e^2) = 4
		name: "similar and different",
		st:   refST, sv: refSV, sa: refSA, dt: refDT, dv: refDV, da: refDA,
		simT: vecs([]float64{2, 0}), simV: vecs([]float64{1, 1}), simA: vecs([]float64{0, -1}),
		diffT: vecs([]float64{-1, 0}), diffV: vecs([]float64{0, 1}), diffA: vecs([]float64{0, 1}),
		tau:  0.5,
		want: -4 + 2*math.Log(3+e2+2*em2) + math.Log(2+2*e2+2*em2) - math.Sqrt2 + 4,
	},
	{
		// Different partner only: the s_v and s_a groups hold negatives only
		// (no positive, no term). s_t^diff = (0,1): logit 0.
		// (s_t,s_v): −2 + log(1 + e^−2 + 1 + 1 + 1) = −2 + log(4 + e^−2)
		// (s_t,s_a):  0 + log(e^2 + e^−2 + 1 + 1 + 1) = log(3 + e^2 + e^−2)
		name: "different only",
		st:   refST, sv: refSV, sa: refSA, dt: refDT, dv: refDV, da: refDA,
		diffT: vecs([]float64{0, 1}), diffV: vecs([]float64{7, 1}), diffA: vecs([]float64{-2, 3}),
		tau:  0.5,
		want: -2 + math.Log(4+em2) + math.Log(3+e2+em2),
	},
	{
		// γ ≠ β by position, not by value: s_v = (1,0) and s_a = (3,0) both
		// have logit 2, and each stays in the other's denominator.
		// Each positive: −2 + log(e^2 + e^−2 + 1 + 1).
		name: "equal values stay",
		st:   refST, sv: refSV, sa: []float64{3, 0}, dt: refDT, dv: refDV, da: refDA,
		tau:  0.5,
		want: 2 * (-2 + math.Log(e2+em2+2)),
	},
}

func TestRefNTXent(t *testing.T) {
	for _, c := range refNTXentCases {
		got, err := RefNTXent(c.st, c.sv, c.sa, c.dt, c.dv, c.da,
			c.simT, c.simV, c.simA, c.diffT, c.diffV, c.diffA, c.tau)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: RefNTXent = %.15g, want %.15g", c.name, got, c.want)
		}
	}
}

func TestRefNTXentErrors(t *testing.T) {
	one := vecs([]float64{1, 0})
	two := vecs([]float64{1, 0}, []float64{0, 1})
	cases := []struct {
		name                string
		sv                  []float64
		simT, simV, simA    [][]float64
		diffT, diffV, diffA [][]float64
		tau                 float64
	}{
		{name: "tau 0", sv: refSV, tau: 0},
		{name: "tau NaN", sv: refSV, tau: math.NaN()},
		{name: "similar counts", sv: refSV, simT: one, simV: two, simA: one, tau: 0.5},
		{name: "different counts", sv: refSV, diffT: one, diffV: one, diffA: two, tau: 0.5},
		{name: "vector length", sv: []float64{1, 0, 0}, tau: 0.5},
		{name: "partner length", sv: refSV, simT: one, simV: vecs([]float64{1}), simA: one, tau: 0.5},
	}
	for _, c := range cases {
		_, err := RefNTXent(refST, c.sv, refSA, refDT, refDV, refDA,
			c.simT, c.simV, c.simA, c.diffT, c.diffV, c.diffA, c.tau)
		if err == nil {
			t.Errorf("%s: RefNTXent returned no error", c.name)
		}
	}
}

func TestRefTriplet(t *testing.T) {
	// s_t = (1,0); cos with s_v = (1,0): 1, s_a = (0,1): 0,
	// d_t = (−1,0): −1, d_v = (0,1): 0, d_a = (1,1): 1/√2.
	// Each term is max(0, cos(s_t,n) − cos(s_t,p) + margin).
	st, sv, sa := []float64{1, 0}, []float64{1, 0}, []float64{0, 1}
	dt, dv, da := []float64{-1, 0}, []float64{0, 1}, []float64{1, 1}
	cases := []struct {
		name   string
		margin float64
		want   float64
	}{
		// p = s_v: −1−1+½ → 0, 0−1+½ → 0, 1/√2−1+½ = 1/√2−½;
		// p = s_a: −1−0+½ → 0, 0−0+½ = ½,  1/√2−0+½ = 1/√2+½.
		// Sum: √2 + ½.
		{"margin 0.5", 0.5, math.Sqrt2 + 0.5},
		// Only p = s_a, n = d_a is positive: 1/√2.
		{"margin 0", 0, 1 / math.Sqrt2},
	}
	for _, c := range cases {
		got, err := RefTriplet(st, sv, sa, dt, dv, da, c.margin)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s: RefTriplet = %.17g, want %.17g", c.name, got, c.want)
		}
	}
	if _, err := RefTriplet(st, sv, sa, dt, dv, []float64{1}, 0.5); err == nil {
		t.Error("RefTriplet accepted a d_a of length 1")
	}
}
