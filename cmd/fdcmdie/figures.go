package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/train"
)

// mapSamples caps the points of the 2-D feature maps (figures 8–9).
const mapSamples = 150

// figures draws the paper's figures that the table's runs can feed and
// returns their paths:
//   - table 3: mean GAP modality weights per CMDIE layer (figs 6–7);
//   - table 4: metrics against k_cl (figs 4–5);
//   - table 7: ablation bars (figs 10–11) and the 2-D maps of the decoupled
//     features with and without CL (figs 8–9, PCA instead of t-SNE).
func figures(f *flags, dir string, vs []variant, rows []report.Row, results [][]*train.Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	add := func(name string, draw func(string) error) error {
		p := filepath.Join(dir, name)
		if err := draw(p); err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
		paths = append(paths, p)
		return nil
	}
	switch f.table {
	case "3":
		if alpha := meanAlpha(results[0]); len(alpha) > 0 {
			groups := make([]string, len(alpha))
			series := []report.BarSeries{{Name: "alpha_t"}, {Name: "alpha_v"}, {Name: "alpha_a"}}
			for l, a := range alpha {
				groups[l] = fmt.Sprintf("layer %d", l+1)
				for m := range series {
					series[m].Values = append(series[m].Values, a[m])
				}
			}
			if err := add("fig6_gap_weights.png", func(p string) error {
				return report.Bars(p, report.Stacked, "Mean GAP modality weights (test split)", "alpha", groups, series)
			}); err != nil {
				return nil, err
			}
		}
	case "4":
		var acc, f1, mae report.Series
		acc.Name, f1.Name, mae.Name = "Acc-2 non0 (%)", "F1 non0 (%)", "MAE x100"
		for i, v := range vs {
			x := float64(v.cfg.KCL)
			acc.X, acc.Y = append(acc.X, x), append(acc.Y, 100*rows[i].Mean[report.Acc2Non0])
			f1.X, f1.Y = append(f1.X, x), append(f1.Y, 100*rows[i].Mean[report.F1Non0])
			mae.X, mae.Y = append(mae.X, x), append(mae.Y, 100*rows[i].Mean[report.MAE])
		}
		if err := add("fig4_kcl.png", func(p string) error {
			return report.LineChart(p, "Effect of k_cl (test split)", "k_cl", "score", []report.Series{acc, f1, mae})
		}); err != nil {
			return nil, err
		}
	case "7":
		groups := make([]string, len(rows))
		acc := report.BarSeries{Name: "Acc-2 non0 (%)"}
		f1 := report.BarSeries{Name: "F1 non0 (%)"}
		for i, r := range rows {
			groups[i] = r.Name
			acc.Values = append(acc.Values, 100*r.Mean[report.Acc2Non0])
			f1.Values = append(f1.Values, 100*r.Mean[report.F1Non0])
		}
		if err := add("fig10_ablations.png", func(p string) error {
			return report.Bars(p, report.Grouped, "Ablations (test split)", "score", groups, []report.BarSeries{acc, f1})
		}); err != nil {
			return nil, err
		}
		for i, v := range vs {
			name := map[string]string{report.AblationFull: "fig8_features_with_cl.png", report.AblationNoCL: "fig9_features_without_cl.png"}[v.name]
			if name == "" || len(results[i]) == 0 {
				continue
			}
			res, title := results[i][0], "Decoupled test features, PCA ("+v.name+")"
			if err := add(name, func(p string) error { return featureMap(p, title, res, v.cfg.DModel) }); err != nil {
				return nil, err
			}
		}
	}
	return paths, nil
}

// meanAlpha averages the GAP weights of several seeds.
func meanAlpha(rs []*train.Result) [][3]float64 {
	if len(rs) == 0 || len(rs[0].Alpha) == 0 {
		return nil
	}
	out := make([][3]float64, len(rs[0].Alpha))
	for _, r := range rs {
		for l, a := range r.Alpha {
			for m := range a {
				out[l][m] += a[m] / float64(len(rs))
			}
		}
	}
	return out
}

// featureMap projects the pooled similarity (s_m) and dissimilarity (d_m)
// features of the first test samples to 2-D and draws them by kind.
func featureMap(path, title string, res *train.Result, d int) error {
	names := []string{"s_t", "s_v", "s_a", "d_t", "d_v", "d_a"}
	sets := [6][]float32{res.TestS[0], res.TestS[1], res.TestS[2], res.TestD[0], res.TestD[1], res.TestD[2]}
	var x [][]float64
	var group []int
	for g, set := range sets {
		n := min(len(set)/d, mapSamples)
		for i := 0; i < n; i++ {
			row := make([]float64, d)
			for j := range row {
				row[j] = float64(set[i*d+j])
			}
			x, group = append(x, row), append(group, g)
		}
	}
	if len(x) < 2 {
		return fmt.Errorf("no test features to map")
	}
	xy, err := report.PCA2(x)
	if err != nil {
		return err
	}
	pts := make([]report.Point, len(xy))
	for i, p := range xy {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			return fmt.Errorf("PCA gave NaN")
		}
		pts[i] = report.Point{X: p[0], Y: p[1], Group: group[i]}
	}
	return report.Scatter(path, title, "PC 1", "PC 2", names, pts)
}
