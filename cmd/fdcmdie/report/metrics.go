package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Metric keys of [Row.Mean] and [Row.Std]. They are the field names of
// train.Metrics; accuracies and F1 scores are fractions in [0, 1].
const (
	// Acc2Has0 is binary accuracy with 0 counted as positive.
	Acc2Has0 = "Acc2Has0"
	// Acc2Non0 is binary accuracy over samples whose label is not 0.
	Acc2Non0 = "Acc2Non0"
	// F1Has0 is the weighted F1 of the has0 split.
	F1Has0 = "F1Has0"
	// F1Non0 is the weighted F1 of the non0 split.
	F1Non0 = "F1Non0"
	// Acc7 is the 7-class accuracy.
	Acc7 = "Acc7"
	// Acc5 is the 5-class accuracy.
	Acc5 = "Acc5"
	// MAE is the mean absolute error in label units.
	MAE = "MAE"
	// Corr is Pearson's correlation.
	Corr = "Corr"
)

// metricKeys lists the metric keys in the column order of CSV files.
var metricKeys = []string{Acc2Has0, Acc2Non0, F1Has0, F1Non0, Acc7, Acc5, MAE, Corr}

// MetricKeys returns the metric keys in their canonical order (the order
// of the CSV columns).
func MetricKeys() []string { return slices.Clone(metricKeys) }

// Row is one line of a result table: a model, a k_cl value, a layer count or
// an ablation, with its metrics averaged over seeds.
type Row struct {
	// Name is the first cell of the row ("FD-CMDIE", "3", "w/o CL").
	Name string `json:"name"`
	// Reported marks numbers quoted from the paper rather than measured by
	// this program; tables print such a row's name with " (paper)" appended.
	Reported bool `json:"reported"`
	// Source says where a reported row was published ("paper, CMU-MOSI");
	// tables print it after the name instead of "paper".
	Source string `json:"source,omitempty"`
	// Seeds is the number of runs averaged into Mean (0 for reported rows).
	Seeds int `json:"seeds"`
	// Mean maps a metric key to its mean over the runs. A key that is
	// absent prints as "-".
	Mean map[string]float64 `json:"mean"`
	// Std maps a metric key to the population standard deviation over the
	// runs. Tables print it ("82.1±0.4") only when Seeds > 1.
	Std map[string]float64 `json:"std,omitempty"`
}

// validate checks that r has a name, only known metric keys, finite values
// and non-negative standard deviations.
func (r Row) validate() error {
	if r.Name == "" {
		return errors.New("empty name")
	}
	if r.Seeds < 0 {
		return fmt.Errorf("%q: seeds = %d < 0", r.Name, r.Seeds)
	}
	for _, part := range []struct {
		field string
		m     map[string]float64
	}{{"mean", r.Mean}, {"std", r.Std}} {
		for k, v := range part.m {
			if !slices.Contains(metricKeys, k) {
				return fmt.Errorf("%q: %s: unknown metric %q (want one of %v)", r.Name, part.field, k, metricKeys)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%q: %s: %s is %v", r.Name, part.field, k, v)
			}
			if part.field == "std" && v < 0 {
				return fmt.Errorf("%q: std: %s = %v < 0", r.Name, k, v)
			}
		}
	}
	return nil
}

// validateRows checks every row and that there is at least one.
func validateRows(rows []Row) error {
	if len(rows) == 0 {
		return errors.New("no rows")
	}
	for i, r := range rows {
		if err := r.validate(); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return nil
}

// Summarize builds the row of a model run with several seeds: the mean and
// the population standard deviation (divisor n, as numpy.std) of every
// metric. Every run must hold the same metric keys.
func Summarize(name string, runs []map[string]float64) (Row, error) {
	if len(runs) == 0 {
		return Row{}, fmt.Errorf("report: summarize %q: no runs", name)
	}
	row := Row{Name: name, Seeds: len(runs), Mean: map[string]float64{}, Std: map[string]float64{}}
	for k := range runs[0] {
		var sum float64
		for i, run := range runs {
			v, ok := run[k]
			if !ok {
				return Row{}, fmt.Errorf("report: summarize %q: run %d lacks %s", name, i, k)
			}
			sum += v
		}
		mean := sum / float64(len(runs))
		var ss float64
		for _, run := range runs {
			d := run[k] - mean
			ss += d * d
		}
		row.Mean[k] = mean
		row.Std[k] = math.Sqrt(ss / float64(len(runs)))
	}
	for i, run := range runs {
		if len(run) != len(runs[0]) {
			return Row{}, fmt.Errorf("report: summarize %q: run %d has %d metrics, run 0 has %d", name, i, len(run), len(runs[0]))
		}
	}
	if err := row.validate(); err != nil {
		return Row{}, fmt.Errorf("report: summarize: %w", err)
	}
	return row, nil
}
