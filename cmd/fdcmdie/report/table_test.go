package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/train"
)

// metricsOf returns metrics with the given values, the others missing.
func metricsOf(values map[string]float64) train.Metrics {
	m := train.Missing()
	for k, v := range values {
		if err := m.Set(k, v); err != nil {
			panic(err)
		}
	}
	return m
}

// sampleRows covers a multi-seed row (mean ± std), a reported row with a
// missing metric, and a single-seed row whose std must not print.
func sampleRows() []train.Row {
	return []train.Row{
		{
			Name: "FD-CMDIE", Seeds: 3,
			Mean: metricsOf(map[string]float64{"Acc2Has0": 0.8214, "Acc2Non0": 0.8342, "F1Has0": 0.8208, "F1Non0": 0.8339, "Acc7": 0.4512, "Acc5": 0.5, "MAE": 0.7123, "Corr": 0.8011}),
			Std:  metricsOf(map[string]float64{"Acc2Has0": 0.0041, "Acc2Non0": 0.0029, "F1Has0": 0.0037, "F1Non0": 0.0031, "Acc7": 0.0127, "Acc5": 0.01, "MAE": 0.0089, "Corr": 0.0042}),
		},
		{
			Name: "MISA", Reported: true,
			Mean: metricsOf(map[string]float64{"Acc2Has0": 0.808, "Acc2Non0": 0.821, "F1Has0": 0.808, "F1Non0": 0.820, "MAE": 0.783, "Corr": 0.761}),
		},
		{
			Name: "single seed", Seeds: 1,
			Mean: metricsOf(map[string]float64{"Acc2Has0": 0.5, "Acc2Non0": 0.51234, "F1Has0": 0.49, "Acc7": 0.2, "MAE": 1.23456, "Corr": -0.05}),
			Std:  metricsOf(map[string]float64{"Acc2Has0": 0, "Acc2Non0": 0, "F1Has0": 0, "Acc7": 0, "MAE": 0, "Corr": 0}),
		},
	}
}

func TestTable3Layout(t *testing.T) {
	// Written by hand from the rules: Acc/F1 ×100 with 1 decimal, MAE and
	// Corr with 3, "±std" only for Seeds > 1, "-" for a missing metric,
	// " (paper)" for reported rows; names left-aligned, numbers right-aligned,
	// headers centred (extra space on the right).
	want := strings.Join([]string{
		"Table 3: MOSI",
		"+--------------+-------------------+-------------------+----------+-------------+-------------+",
		"|    Model     | Acc-2 (has0/non0) |  F1 (has0/non0)   |  Acc-7   |     MAE     |    Corr     |",
		"+--------------+-------------------+-------------------+----------+-------------+-------------+",
		"| FD-CMDIE     | 82.1±0.4/83.4±0.3 | 82.1±0.4/83.4±0.3 | 45.1±1.3 | 0.712±0.009 | 0.801±0.004 |",
		"| MISA (paper) |         80.8/82.1 |         80.8/82.0 |        - |       0.783 |       0.761 |",
		"| single seed  |         50.0/51.2 |            49.0/- |     20.0 |       1.235 |      -0.050 |",
		"+--------------+-------------------+-------------------+----------+-------------+-------------+",
		"",
	}, "\n")
	var buf bytes.Buffer
	if err := Table3(&buf, "Table 3: MOSI", sampleRows()); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want {
		t.Errorf("table 3:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableWrappersFirstColumn(t *testing.T) {
	row := []train.Row{{Name: "10", Seeds: 1, Mean: metricsOf(map[string]float64{"MAE": 0.5})}}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
		head  string
	}{
		{"kcl", func(b *bytes.Buffer) error { return KclTable(b, "", row) }, "| k_cl |"},
		{"layers", func(b *bytes.Buffer) error { return LayerTable(b, "", row) }, "| CMDIE layers |"},
		{"ablation", func(b *bytes.Buffer) error { return AblationTable(b, "", row) }, "| Variant |"},
		{"generic", func(b *bytes.Buffer) error { return Table(b, "", "Setting", row) }, "| Setting |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(buf.String(), "\n")
			// No title: the border comes first, then the header.
			if !strings.HasPrefix(lines[0], "+-") || !strings.HasPrefix(lines[1], tc.head) {
				t.Errorf("first lines %q, want a border and a header starting %q", lines[:2], tc.head)
			}
			if !strings.Contains(buf.String(), " -/- |") || !strings.Contains(buf.String(), "| 0.500 |") {
				t.Errorf("missing metrics or MAE cell not as expected:\n%s", buf.String())
			}
		})
	}
}

func TestTableRejectsBadRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows []train.Row
		want string
	}{
		{"empty", nil, "no rows"},
		{"no name", []train.Row{{Mean: metricsOf(map[string]float64{"MAE": 1})}}, "empty name"},
		{"inf mean", []train.Row{{Name: "m", Mean: metricsOf(map[string]float64{"MAE": math.Inf(-1)})}}, "MAE is -Inf"},
		{"inf std", []train.Row{{Name: "m", Std: metricsOf(map[string]float64{"Corr": math.Inf(1)})}}, "Corr is +Inf"},
		{"negative std", []train.Row{{Name: "m", Std: metricsOf(map[string]float64{"Acc7": -0.1})}}, "Acc7 is -0.1"},
		{"negative seeds", []train.Row{{Name: "m", Seeds: -1}}, "seeds = -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Table3(&buf, "T", tc.rows)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q before failing", buf.String())
			}
		})
	}
}
