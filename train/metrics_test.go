package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// metricsGolden mirrors testdata/metrics_golden.json, written by
// testdata/metrics_golden.py with sklearn and numpy.
type metricsGolden struct {
	Cases []struct {
		Name  string             `json:"name"`
		Pred  []float64          `json:"pred"`
		Label []float64          `json:"label"`
		Want  metricsGoldenValue `json:"want"`
	} `json:"cases"`
	Aggregate struct {
		Cases []string           `json:"cases"`
		Mean  metricsGoldenValue `json:"mean"`
		Std   metricsGoldenValue `json:"std"`
	} `json:"aggregate"`
}

type metricsGoldenValue struct {
	Acc2Has0, F1Has0, Acc2Non0, F1Non0, Acc7, Acc5, MAE, Corr float64
	CorrUndefined, Non0Undefined                              bool
}

func (v metricsGoldenValue) metrics() Metrics {
	return Metrics{
		Acc2Has0: v.Acc2Has0, F1Has0: v.F1Has0, Acc2Non0: v.Acc2Non0, F1Non0: v.F1Non0,
		Acc7: v.Acc7, Acc5: v.Acc5, MAE: v.MAE, Corr: v.Corr,
		CorrUndefined: v.CorrUndefined, Non0Undefined: v.Non0Undefined,
	}
}

func loadMetricsGolden(t *testing.T) metricsGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "metrics_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g metricsGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("testdata/metrics_golden.json: %v", err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("testdata/metrics_golden.json: no cases")
	}
	return g
}

// toFloat32Exact converts golden inputs, which the script wrote from float32
// arrays, and fails if any does not round-trip.
func toFloat32Exact(t *testing.T, xs []float64) []float32 {
	t.Helper()
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(x)
		if float64(out[i]) != x {
			t.Fatalf("golden input %v is not a float32 value", x)
		}
	}
	return out
}

// compareMetrics reports every field of got that differs from want by more
// than tol, and any flag that differs.
func compareMetrics(t *testing.T, label string, got, want Metrics, tol float64) {
	t.Helper()
	names := []string{"Acc2Has0", "F1Has0", "Acc2Non0", "F1Non0", "Acc7", "Acc5", "MAE", "Corr"}
	gf, wf := got.fields(), want.fields()
	for i, name := range names {
		if d := math.Abs(*gf[i] - *wf[i]); !(d <= tol) {
			t.Errorf("%s: %s = %.17g, want %.17g (|diff| %.3g > %.0e)", label, name, *gf[i], *wf[i], d, tol)
		}
	}
	if got.CorrUndefined != want.CorrUndefined {
		t.Errorf("%s: CorrUndefined = %v, want %v", label, got.CorrUndefined, want.CorrUndefined)
	}
	if got.Non0Undefined != want.Non0Undefined {
		t.Errorf("%s: Non0Undefined = %v, want %v", label, got.Non0Undefined, want.Non0Undefined)
	}
}

func TestEvaluateGolden(t *testing.T) {
	const tol = 1e-9
	g := loadMetricsGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Evaluate(toFloat32Exact(t, c.Pred), toFloat32Exact(t, c.Label))
			if err != nil {
				t.Fatal(err)
			}
			compareMetrics(t, c.Name, got, c.Want.metrics(), tol)
		})
	}
}

func TestAggregateGolden(t *testing.T) {
	const tol = 1e-9
	g := loadMetricsGolden(t)
	var results []Metrics
	for _, name := range g.Aggregate.Cases {
		found := false
		for _, c := range g.Cases {
			if c.Name == name {
				m, err := Evaluate(toFloat32Exact(t, c.Pred), toFloat32Exact(t, c.Label))
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, m)
				found = true
			}
		}
		if !found {
			t.Fatalf("aggregate case %q not in golden cases", name)
		}
	}
	mean, std, err := Aggregate(results)
	if err != nil {
		t.Fatal(err)
	}
	compareMetrics(t, "mean", mean, g.Aggregate.Mean.metrics(), tol)
	compareMetrics(t, "std", std, g.Aggregate.Std.metrics(), tol)
}

func TestAggregateByHand(t *testing.T) {
	// MAE over three seeds 1, 2, 4: mean 7/3, population variance
	// ((4/3)² + (1/3)² + (5/3)²)/3 = 42/27, std sqrt(42/27). Corr is undefined
	// in the second seed only, so mean carries the flag and std does not.
	results := []Metrics{{MAE: 1}, {MAE: 2, CorrUndefined: true}, {MAE: 4}}
	mean, std, err := Aggregate(results)
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{MAE: 7.0 / 3, CorrUndefined: true}
	compareMetrics(t, "mean", mean, want, 1e-15)
	compareMetrics(t, "std", std, Metrics{MAE: math.Sqrt(42.0 / 27)}, 1e-15)

	if _, _, err := Aggregate(nil); err == nil {
		t.Error("Aggregate(nil): no error")
	}
}

func TestEvaluateErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name        string
		pred, label []float32
		wantSubstr  string
	}{
		{"length mismatch", []float32{1, 2}, []float32{1}, "2 predictions but 1 labels"},
		{"empty", nil, nil, "no samples"},
		{"NaN prediction", []float32{1, nan, 0}, []float32{1, 2, 3}, "predictions[1]"},
		{"Inf label", []float32{1, 2, 3}, []float32{1, 2, -inf}, "labels[2]"},
		{"Inf prediction", []float32{inf}, []float32{0}, "predictions[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(tc.pred, tc.label)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantSubstr) {
				t.Errorf("error %q does not mention %q", err, tc.wantSubstr)
			}
		})
	}
}

func TestMetricsWarnings(t *testing.T) {
	tests := []struct {
		m    Metrics
		want int
	}{
		{Metrics{}, 0},
		{Metrics{CorrUndefined: true}, 1},
		{Metrics{CorrUndefined: true, Non0Undefined: true}, 2},
	}
	for _, tc := range tests {
		if got := tc.m.Warnings(); len(got) != tc.want {
			t.Errorf("%+v: %d warnings %q, want %d", tc.m, len(got), got, tc.want)
		}
	}
}

// Four samples by hand. has0 classes, true (T,F,T,T) vs predicted (T,T,F,T):
// Acc-2 = 2/4; F1 of class T = 2·2/(2·2+1+1) = 2/3 with support 3, of class F
// = 0 with support 1, weighted (3·2/3 + 1·0)/4 = 0.5. Rounded half to even,
// predictions (0, 0, -1, 2) vs labels (0, -1, 2, 2) agree twice: Acc-7 = 0.5.
// MAE = (0.5 + 1.5 + 2.5 + 0.5)/4 = 1.25.
func ExampleEvaluate() {
	m, err := Evaluate([]float32{0.5, 0.5, -1, 2.5}, []float32{0, -1, 1.5, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Acc-2 has0 %.4f, F1 has0 %.4f\n", m.Acc2Has0, m.F1Has0)
	fmt.Printf("Acc-7 %.4f, MAE %.4f\n", m.Acc7, m.MAE)
	// Output:
	// Acc-2 has0 0.5000, F1 has0 0.5000
	// Acc-7 0.5000, MAE 1.2500
}
