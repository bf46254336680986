package report_test

import (
	"fmt"
	"os"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
)

// A k_cl sweep row measured over three seeds next to the paper's number.
func ExampleKclTable() {
	rows := []report.Row{
		{
			Name: "10", Seeds: 3,
			Mean: map[string]float64{report.Acc2Has0: 0.801, report.Acc2Non0: 0.812, report.F1Has0: 0.799, report.F1Non0: 0.81,
				report.Acc7: 0.402, report.MAE: 0.75, report.Corr: 0.781},
			Std: map[string]float64{report.Acc2Has0: 0.004, report.Acc2Non0: 0.003, report.F1Has0: 0.004, report.F1Non0: 0.003,
				report.Acc7: 0.011, report.MAE: 0.006, report.Corr: 0.002},
		},
		{
			Name: "10", Reported: true,
			Mean: map[string]float64{report.Acc2Has0: 0.82, report.Acc2Non0: 0.834, report.F1Has0: 0.82, report.F1Non0: 0.833,
				report.Acc7: 0.45, report.MAE: 0.71, report.Corr: 0.80},
		},
	}
	if err := report.KclTable(os.Stdout, "Table 4: MOSI, k_cl sweep", rows); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Table 4: MOSI, k_cl sweep
	// +------------+-------------------+-------------------+----------+-------------+-------------+
	// |    k_cl    | Acc-2 (has0/non0) |  F1 (has0/non0)   |  Acc-7   |     MAE     |    Corr     |
	// +------------+-------------------+-------------------+----------+-------------+-------------+
	// | 10         | 80.1±0.4/81.2±0.3 | 79.9±0.4/81.0±0.3 | 40.2±1.1 | 0.750±0.006 | 0.781±0.002 |
	// | 10 (paper) |         82.0/83.4 |         82.0/83.3 |     45.0 |       0.710 |       0.800 |
	// +------------+-------------------+-------------------+----------+-------------+-------------+
}

// Seed runs are summarised into one row: mean and population std.
func ExampleSummarize() {
	row, err := report.Summarize("FD-CMDIE", []map[string]float64{
		{report.MAE: 0.70}, {report.MAE: 0.74}, {report.MAE: 0.72},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s over %d seeds: MAE %.3f ± %.4f\n", row.Name, row.Seeds, row.Mean[report.MAE], row.Std[report.MAE])
	// Output:
	// FD-CMDIE over 3 seeds: MAE 0.720 ± 0.0163
}
