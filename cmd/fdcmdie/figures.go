// go-tsne draws its initial embedding from math/rand's global source;
// Go 1.24 made rand.Seed a no-op unless this setting restores it, and
// figures 8 and 9 must come out the same on every run.
//
//go:debug randseednop=0
package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"

	"github.com/danaugrs/go-tsne/tsne"
	"gonum.org/v1/gonum/mat"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/train"
)

// The t-SNE of figures 8 and 9: the first mapSamples test samples of each
// of the six feature groups, with a fixed seed, perplexity, learning rate
// and number of iterations (all written in the figure's caption).
const (
	mapSamples   = 60
	tsneSeed     = 1
	tsnePerplex  = 30
	tsneRate     = 10
	tsneIters    = 300
	tsneDims     = 2
	tsneMinPoint = 3 * tsnePerplex // below this the perplexity cannot be met
)

// figures draws the paper's figures that the table's runs can feed and
// returns their paths; the number of each follows the paper's dataset
// (MOSI: 4, 6, 10; MOSEI: 5, 7, 11):
//   - tables 4 and 5: Acc-2 and F1 against k_cl beside the paper's curve
//     (figs 4–5);
//   - tables 3 and 7: the mean GAP modality weights of the full model
//     (figs 6–7);
//   - table 7: the ablation bars beside the paper's (figs 10–11) and the
//     t-SNE maps of the decoupled test features without (fig 8) and with
//     (fig 9) the contrastive loss.
func figures(j *job, dir string, vs []variant, rows, paper []report.Row, results [][]*train.Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	mosei := j.paperKey == report.MOSEI
	num := func(mosi, moseiFig int) int {
		if mosei {
			return moseiFig
		}
		return mosi
	}
	data := fmt.Sprintf("measured on %s, test split, %d seed(s)", j.p.Name, len(j.f.seeds))
	if j.key != j.paperKey {
		data += fmt.Sprintf("; the paper's numbers are on %s: not comparable number-for-number", report.DatasetName(j.paperKey))
	}
	var paths []string
	add := func(name string, draw func(string) error) error {
		p := filepath.Join(dir, name)
		if err := draw(p); err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
		paths = append(paths, p, report.SVGPath(p))
		return nil
	}
	switch j.table {
	case "4", "5":
		n := num(4, 5)
		title := fmt.Sprintf("Figure %d: Acc-2 and F1 against k_cl", n)
		caption := data + fmt.Sprintf("\npaper: table %s, %s (dashed); non0: negative vs positive, zero labels left out", j.table, report.DatasetName(j.paperKey))
		if err := add(fmt.Sprintf("fig%d_kcl.png", n), func(p string) error {
			return report.SweepFigure(p, title, "k_cl", caption, rows, paper)
		}); err != nil {
			return nil, err
		}
	case "7":
		n := num(10, 11)
		title := fmt.Sprintf("Figure %d: ablations", n)
		caption := data + fmt.Sprintf("\npaper: table 7, %s (grey bars)", report.DatasetName(j.paperKey))
		if err := add(fmt.Sprintf("fig%d_ablations.png", n), func(p string) error {
			return report.AblationFigure(p, title, caption, rows, paper)
		}); err != nil {
			return nil, err
		}
		for i, v := range vs {
			var n int
			var what string
			switch v.name {
			case report.AblationNoCL:
				n, what = 8, "without"
			case report.AblationFull:
				n, what = 9, "with"
			default:
				continue
			}
			res := results[i][0]
			title := fmt.Sprintf("Figure %d: decoupled test features %s contrastive learning (t-SNE)", n, what)
			if err := add(fmt.Sprintf("fig%d_tsne_%s_cl.png", n, what), func(p string) error {
				return featureMap(p, title, j.p.Name, res, v.cfg.DModel, j.f.seeds[0])
			}); err != nil {
				return nil, err
			}
		}
	}
	for i, v := range vs {
		if (v.name != "FD-CMDIE" && v.name != report.AblationFull) || len(results[i][0].Alpha) == 0 {
			continue
		}
		var alpha [][][3]float64
		for _, r := range results[i] {
			alpha = append(alpha, r.Alpha)
		}
		n := num(6, 7)
		title := fmt.Sprintf("Figure %d: mean GAP modality weights of %s", n, v.name)
		caption := data + "\nbars: mean of α over the test samples; error bars: population std over seeds (none with one seed)"
		if err := add(fmt.Sprintf("fig%d_gap_weights.png", n), func(p string) error {
			return report.GAPFigure(p, title, caption, alpha)
		}); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// featureMap projects the pooled similar (s_m) and different (d_m)
// features of the first test samples to 2-D with t-SNE and draws them by
// group.
func featureMap(path, title, data string, res *train.Result, d int, seed uint64) error {
	sets := [6][]float32{res.TestS[0], res.TestS[1], res.TestS[2], res.TestD[0], res.TestD[1], res.TestD[2]}
	var x []float64
	var group []int
	for g, set := range sets {
		n := min(len(set)/d, mapSamples)
		for i := 0; i < n*d; i++ {
			x = append(x, float64(set[i]))
		}
		for range n {
			group = append(group, g)
		}
	}
	if len(group) < tsneMinPoint {
		return fmt.Errorf("%d test feature vectors, t-SNE with perplexity %d needs %d", len(group), tsnePerplex, tsneMinPoint)
	}
	xy, err := embed(mat.NewDense(len(group), d, x))
	if err != nil {
		return err
	}
	caption := fmt.Sprintf("%s, model seed %d; the first %d test samples' pooled s_m and d_m (d = %d)\n"+
		"t-SNE (github.com/danaugrs/go-tsne): seed %d, perplexity %d, learning rate %d, %d iterations",
		data, seed, mapSamples, d, tsneSeed, tsnePerplex, tsneRate, tsneIters)
	return report.FeatureMap(path, title, caption, xy, group)
}

// embed runs the t-SNE of figures 8 and 9 on the rows of x.
func embed(x *mat.Dense) ([][2]float64, error) {
	// go-tsne draws from the global source, seeded here (see the go:debug
	// line at the top of this file).
	//lint:ignore SA1019 rand.Seed is the only way to seed go-tsne
	rand.Seed(tsneSeed)
	y := tsne.NewTSNE(tsneDims, tsnePerplex, tsneRate, tsneIters, false).EmbedData(x, nil)
	n, _ := y.Dims()
	xy := make([][2]float64, n)
	for i := range xy {
		xy[i] = [2]float64{y.At(i, 0), y.At(i, 1)}
		if math.IsNaN(xy[i][0]) || math.IsNaN(xy[i][1]) {
			return nil, errors.New("t-SNE gave NaN")
		}
	}
	return xy, nil
}
