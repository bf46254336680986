// go-tsne draws its initial embedding from math/rand's global source;
// Go 1.24 made rand.Seed a no-op unless this setting restores it, and
// figures 8 and 9 must come out the same on every run.
//
//go:debug randseednop=0
package main

import (
	"fmt"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// figures draws the paper's figures that the table's runs feed
// (report.Figures) under --out and returns their paths.
func figures(f *flags, plan *repro.Plan, rows, paper []train.Row, results [][]*train.Result) ([]string, error) {
	r := f.spec.Resolve()
	data := fmt.Sprintf("measured on %s, test split, %d seed(s)", plan.Data, len(plan.Seeds))
	if r.Key != r.Paper {
		data += fmt.Sprintf("; the paper's numbers are on %s: not comparable number-for-number", report.DatasetName(r.Paper))
	}
	return report.Figures(filepath.Join(f.out, "figures", plan.Run), report.FigureSet{Table: r.Table, MOSEI: r.Paper == report.MOSEI,
		Data: data, DataName: plan.Data, Seed: plan.Seeds[0], Rows: plan.Rows, Measured: rows, Paper: paper, Results: results})
}
