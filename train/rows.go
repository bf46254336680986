package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// metricNames are the names of the numeric metrics (the field names of
// Metrics) in the column order of result files.
var metricNames = []string{"Acc2Has0", "Acc2Non0", "F1Has0", "F1Non0", "Acc7", "Acc5", "MAE", "Corr"}

// MetricNames returns the names of the numeric fields of Metrics in the
// column order of result files (CSV, figures).
func MetricNames() []string { return slices.Clone(metricNames) }

// named returns a pointer to the field of m called name, or nil.
func (m *Metrics) named(name string) *float64 {
	return map[string]*float64{"Acc2Has0": &m.Acc2Has0, "Acc2Non0": &m.Acc2Non0, "F1Has0": &m.F1Has0, "F1Non0": &m.F1Non0,
		"Acc7": &m.Acc7, "Acc5": &m.Acc5, "MAE": &m.MAE, "Corr": &m.Corr}[name]
}

// Value returns the metric called name (one of MetricNames); ok is false
// for any other name.
func (m Metrics) Value(name string) (v float64, ok bool) {
	p := m.named(name)
	if p == nil {
		return 0, false
	}
	return *p, true
}

// Missing returns Metrics with every numeric field NaN: a published row
// sets the metrics its table prints and leaves the others missing.
func Missing() Metrics {
	var m Metrics
	for _, f := range m.fields() {
		*f = math.NaN()
	}
	return m
}

// Set sets the metric called name (one of MetricNames).
func (m *Metrics) Set(name string, v float64) error {
	p := m.named(name)
	if p == nil {
		return fmt.Errorf("unknown metric %q (want one of %v)", name, metricNames)
	}
	*p = v
	return nil
}

// Row is one line of a result table: a model, a sweep value (k_cl, a
// number of CMDIE layers) or an ablation, with its test metrics over
// seeds. A NaN metric is missing (a published table that does not print
// it); tables show it as "-" and files leave it out.
type Row struct {
	// Name is the first cell of the row ("FD-CMDIE", "3", "w/o CL").
	Name string
	// Reported marks numbers quoted from a publication rather than
	// measured by this program.
	Reported bool
	// Source says where a reported row was published ("paper, CMU-MOSI").
	Source string
	// Seeds is the number of runs averaged into Mean (0 for reported rows).
	Seeds int
	// Mean is the mean of every metric over the runs.
	Mean Metrics
	// Std is the population standard deviation over the runs (divisor n,
	// as numpy.std and MMSA's result tables); unused when Seeds is 0.
	Std Metrics
}

// StdOf returns the standard deviation of the metric called name, and
// whether the row has one: it averages runs (Seeds > 0) and the value is
// not missing.
func (r Row) StdOf(name string) (float64, bool) {
	v, ok := r.Std.Value(name)
	return v, ok && r.Seeds > 0 && !math.IsNaN(v)
}

// Summarize returns the row of a model trained with several seeds: the mean
// and population standard deviation of the test metrics of each run.
func Summarize(name string, runs []Metrics) (Row, error) {
	mean, std, err := Aggregate(runs)
	if err != nil {
		return Row{}, fmt.Errorf("summarize %q: %w", name, err)
	}
	r := Row{Name: name, Seeds: len(runs), Mean: mean, Std: std}
	if err := r.Validate(); err != nil {
		return Row{}, fmt.Errorf("summarize: %w", err)
	}
	return r, nil
}

// Validate checks that r has a name, a non-negative seed count, no
// infinite metric and no negative standard deviation.
func (r Row) Validate() error {
	if r.Name == "" {
		return errors.New("row with an empty name")
	}
	if r.Seeds < 0 {
		return fmt.Errorf("%q: seeds = %d < 0", r.Name, r.Seeds)
	}
	for _, k := range metricNames {
		mean, _ := r.Mean.Value(k)
		std, _ := r.Std.Value(k)
		switch {
		case math.IsInf(mean, 0):
			return fmt.Errorf("%q: mean: %s is %v", r.Name, k, mean)
		case math.IsInf(std, 0) || std < 0:
			return fmt.Errorf("%q: std: %s is %v", r.Name, k, std)
		}
	}
	return nil
}

// rowJSON is the file form of a Row: the metrics as objects keyed by
// metric name, a missing metric left out.
type rowJSON struct {
	Name     string             `json:"name"`
	Reported bool               `json:"reported"`
	Source   string             `json:"source,omitempty"`
	Seeds    int                `json:"seeds"`
	Mean     map[string]float64 `json:"mean"`
	Std      map[string]float64 `json:"std,omitempty"`
}

// MarshalJSON writes r as {"name", "reported", "source", "seeds", "mean":
// {metric: value}, "std": {…}}.
func (r Row) MarshalJSON() ([]byte, error) {
	j := rowJSON{Name: r.Name, Reported: r.Reported, Source: r.Source, Seeds: r.Seeds,
		Mean: map[string]float64{}, Std: map[string]float64{}}
	for _, k := range metricNames {
		if v, _ := r.Mean.Value(k); !math.IsNaN(v) {
			j.Mean[k] = v
		}
		if v, ok := r.StdOf(k); ok {
			j.Std[k] = v
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; unknown fields and metric
// names are errors, and a metric absent from "mean" is missing (NaN).
func (r *Row) UnmarshalJSON(data []byte) error {
	var j rowJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*r = Row{Name: j.Name, Reported: j.Reported, Source: j.Source, Seeds: j.Seeds, Mean: Missing(), Std: Missing()}
	for _, part := range []struct {
		field string
		src   map[string]float64
		dst   *Metrics
	}{{"mean", j.Mean, &r.Mean}, {"std", j.Std, &r.Std}} {
		for k, v := range part.src {
			if err := part.dst.Set(k, v); err != nil {
				return fmt.Errorf("row %q: %s: %w", j.Name, part.field, err)
			}
		}
	}
	return nil
}
