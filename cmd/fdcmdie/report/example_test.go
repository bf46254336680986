package report

import (
	"fmt"
	"os"

	"github.com/fdcmdie/fdcmdie/train"
)

// A k_cl sweep row measured over three seeds next to the paper's number.
func ExampleKclTable() {
	rows := []train.Row{
		{
			Name: "10", Seeds: 3,
			Mean: metricsOf(map[string]float64{"Acc2Has0": 0.801, "Acc2Non0": 0.812, "F1Has0": 0.799, "F1Non0": 0.81,
				"Acc7": 0.402, "MAE": 0.75, "Corr": 0.781}),
			Std: metricsOf(map[string]float64{"Acc2Has0": 0.004, "Acc2Non0": 0.003, "F1Has0": 0.004, "F1Non0": 0.003,
				"Acc7": 0.011, "MAE": 0.006, "Corr": 0.002}),
		},
		{
			Name: "10", Reported: true,
			Mean: metricsOf(map[string]float64{"Acc2Has0": 0.82, "Acc2Non0": 0.834, "F1Has0": 0.82, "F1Non0": 0.833,
				"Acc7": 0.45, "MAE": 0.71, "Corr": 0.80}),
		},
	}
	if err := KclTable(os.Stdout, "Table 4: MOSI, k_cl sweep", rows); err != nil {
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
