package train

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestMetricNames(t *testing.T) {
	want := "Acc2Has0,Acc2Non0,F1Has0,F1Non0,Acc7,Acc5,MAE,Corr"
	names := MetricNames()
	if strings.Join(names, ",") != want {
		t.Errorf("MetricNames() = %q, want %s", names, want)
	}
	names[0] = "changed"
	if MetricNames()[0] != "Acc2Has0" {
		t.Error("MetricNames returns the package's own slice")
	}
	m := Metrics{Acc2Has0: 1, Acc2Non0: 2, F1Has0: 3, F1Non0: 4, Acc7: 5, Acc5: 6, MAE: 7, Corr: 8}
	for i, k := range MetricNames() {
		if v, ok := m.Value(k); !ok || v != float64(i+1) {
			t.Errorf("Value(%s) = %v, %v; want %d", k, v, ok, i+1)
		}
	}
	if _, ok := m.Value("Acc3"); ok {
		t.Error("Value of an unknown metric is ok")
	}
	if err := m.Set("Acc3", 1); err == nil || !strings.Contains(err.Error(), `unknown metric "Acc3"`) {
		t.Errorf("Set(Acc3): %v", err)
	}
}

func TestSummarize(t *testing.T) {
	runs := []Metrics{{MAE: 0.7, Acc2Has0: 0.80}, {MAE: 0.8, Acc2Has0: 0.82}, {MAE: 0.9, Acc2Has0: 0.84}}
	row, err := Summarize("FD-CMDIE", runs)
	if err != nil {
		t.Fatal(err)
	}
	// Population std of {a-d, a, a+d} is d·sqrt(2/3).
	const tol = 1e-12
	for _, c := range []struct {
		key       string
		mean, std float64
	}{
		{"MAE", 0.8, 0.1 * math.Sqrt(2.0/3)},
		{"Acc2Has0", 0.82, 0.02 * math.Sqrt(2.0/3)},
		{"Corr", 0, 0},
	} {
		mean, _ := row.Mean.Value(c.key)
		std, ok := row.StdOf(c.key)
		if !ok || math.Abs(mean-c.mean) > tol || math.Abs(std-c.std) > tol {
			t.Errorf("%s: mean %v std %v (%v), want %v %v", c.key, mean, std, ok, c.mean, c.std)
		}
	}
	if row.Seeds != 3 || row.Name != "FD-CMDIE" || row.Reported {
		t.Errorf("row %+v", row)
	}
	for _, bad := range []struct {
		name string
		runs []Metrics
		want string
	}{
		{"no runs", nil, "no results"},
		{"inf", []Metrics{{MAE: math.Inf(1)}}, "MAE is +Inf"},
	} {
		if _, err := Summarize("m", bad.runs); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.want)
		}
	}
}

// TestRowJSON checks the file form: metrics keyed by name, a missing one
// left out, std only on measured rows, and the errors of reading.
func TestRowJSON(t *testing.T) {
	paper := Row{Name: "MISA", Reported: true, Source: "paper, CMU-MOSI", Mean: Missing(), Std: Missing()}
	paper.Mean.MAE = 0.783
	measured, err := Summarize("FD-CMDIE", []Metrics{{MAE: 0.5, Corr: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal([]Row{paper, measured})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"MISA","reported":true,"source":"paper, CMU-MOSI","seeds":0,"mean":{"MAE":0.783}},` +
		`{"name":"FD-CMDIE","reported":false,"seeds":1,"mean":{"Acc2Has0":0,"Acc2Non0":0,"Acc5":0,"Acc7":0,"Corr":0.25,"F1Has0":0,"F1Non0":0,"MAE":0.5},` +
		`"std":{"Acc2Has0":0,"Acc2Non0":0,"Acc5":0,"Acc7":0,"Corr":0,"F1Has0":0,"F1Non0":0,"MAE":0}}]`
	if string(data) != want {
		t.Errorf("JSON\n%s\nwant\n%s", data, want)
	}
	var back []Row
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if v, _ := back[0].Mean.Value("Corr"); !math.IsNaN(v) || back[0].Mean.MAE != 0.783 || back[1].Mean != measured.Mean || back[1].Std != measured.Std {
		t.Errorf("read back %+v", back)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"name":"a","mean":{"acc2":1}}`, `unknown metric "acc2"`},
		{`{"name":"a","extra":1}`, "unknown field"},
		{`{"name":"a","std":{"MAE":"x"}}`, "cannot unmarshal"},
	} {
		var r Row
		if err := json.Unmarshal([]byte(bad.in), &r); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.in, err, bad.want)
		}
	}
}

// Seed runs are summarised into one row: mean and population std.
func ExampleSummarize() {
	row, err := Summarize("FD-CMDIE", []Metrics{{MAE: 0.70}, {MAE: 0.74}, {MAE: 0.72}})
	if err != nil {
		fmt.Println(err)
		return
	}
	std, _ := row.StdOf("MAE")
	fmt.Printf("%s over %d seeds: MAE %.3f ± %.4f\n", row.Name, row.Seeds, row.Mean.MAE, std)
	// Output:
	// FD-CMDIE over 3 seeds: MAE 0.720 ± 0.0163
}
