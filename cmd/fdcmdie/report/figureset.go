package report

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"

	"github.com/danaugrs/go-tsne/tsne"
	"gonum.org/v1/gonum/mat"

	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
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

// FigureSet is what [Figures] draws from: the rows of one reproduced
// table, their training results and the paper's rows.
type FigureSet struct {
	// Table is the paper table as resolved: "3" … "7", "5" being the k_cl
	// sweep of CMU-MOSEI.
	Table string
	// MOSEI: the paper's data set of the figures is CMU-MOSEI (figures 5,
	// 7 and 11) instead of CMU-MOSI (figures 4, 6 and 10).
	MOSEI bool
	// Data is every caption's first line: what was measured, on which data
	// and with how many seeds.
	Data string
	// DataName names the measured data set in the t-SNE captions.
	DataName string
	// Seed is the first seed, whose runs the t-SNE maps show.
	Seed uint64
	// Rows are the table's rows: their names choose the figures, and
	// Config.DModel is the width of the t-SNE's feature vectors.
	Rows []repro.Row
	// Measured and Paper are the measured rows summarized over seeds and
	// the paper's rows of the same table.
	Measured, Paper []train.Row
	// Results holds per row of Rows the result of each seed, first seed
	// first; a missing (nil) result is left out of the figures.
	Results [][]*train.Result
}

// Figures draws into dir the paper's figures that the table's runs can
// feed and returns the paths of their PNG and SVG files; the number of
// each follows the paper's data set (CMU-MOSI: 4, 6, 10; CMU-MOSEI: 5, 7,
// 11):
//   - tables 4 and 5: Acc-2 and F1 against k_cl beside the paper's curve
//     (figs 4–5, [SweepFigure]);
//   - tables 3 and 7: the mean GAP modality weights of the full model
//     (figs 6–7, [GAPFigure]);
//   - table 7: the ablation bars beside the paper's (figs 10–11,
//     [AblationFigure]) and the t-SNE maps of the decoupled test features
//     of the first seed without (fig 8) and with (fig 9) the contrastive
//     loss ([FeatureMap]).
//
// The t-SNE (github.com/danaugrs/go-tsne) draws its initial embedding from
// math/rand's global source, which rand.Seed seeds only where the
// program sets GODEBUG randseednop=0 (a //go:debug line in its main
// package, or the environment): figures 8 and 9 fail without it rather
// than come out different on every run.
func Figures(dir string, s FigureSet) ([]string, error) {
	if len(s.Results) != len(s.Rows) {
		return nil, fmt.Errorf("report: figures: %d rows, results of %d", len(s.Rows), len(s.Results))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fs := &figureFiles{dir: dir}
	var err error
	switch s.Table {
	case "4", "5":
		err = s.sweep(fs)
	case "7":
		err = s.ablations(fs)
	}
	if err == nil {
		err = s.gapWeights(fs)
	}
	if err != nil {
		return nil, err
	}
	return fs.paths, nil
}

// figureFiles collects the files of the figures drawn into dir.
type figureFiles struct {
	dir   string
	paths []string
}

// add draws the figure file name with draw, which writes the PNG at the
// path it is given and the SVG beside it.
func (fs *figureFiles) add(name string, draw func(path string) error) error {
	p := filepath.Join(fs.dir, name)
	if err := draw(p); err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	fs.paths = append(fs.paths, p, SVGPath(p))
	return nil
}

// number is the figure number on the paper's data set.
func (s *FigureSet) number(mosi, mosei int) int {
	if s.MOSEI {
		return mosei
	}
	return mosi
}

// paperName is the paper's name of its data set of the figures.
func (s *FigureSet) paperName() string {
	if s.MOSEI {
		return DatasetName(MOSEI)
	}
	return DatasetName(MOSI)
}

// sweep draws figure 4 or 5.
func (s *FigureSet) sweep(fs *figureFiles) error {
	n := s.number(4, 5)
	title := fmt.Sprintf("Figure %d: Acc-2 and F1 against k_cl", n)
	caption := s.Data + fmt.Sprintf("\npaper: table %s, %s (dashed); non0: negative vs positive, zero labels left out", s.Table, s.paperName())
	return fs.add(fmt.Sprintf("fig%d_kcl.png", n), func(p string) error {
		return SweepFigure(p, title, "k_cl", caption, s.Measured, s.Paper)
	})
}

// ablations draws figure 10 or 11, then figures 9 and 8 in the order of
// their rows.
func (s *FigureSet) ablations(fs *figureFiles) error {
	n := s.number(10, 11)
	title := fmt.Sprintf("Figure %d: ablations", n)
	caption := s.Data + fmt.Sprintf("\npaper: table 7, %s (grey bars)", s.paperName())
	if err := fs.add(fmt.Sprintf("fig%d_ablations.png", n), func(p string) error {
		return AblationFigure(p, title, caption, s.Measured, s.Paper)
	}); err != nil {
		return err
	}
	for i, r := range s.Rows {
		var n int
		var what string
		switch r.Name {
		case repro.AblationNoCL:
			n, what = 8, "without"
		case repro.AblationFull:
			n, what = 9, "with"
		default:
			continue
		}
		res := s.Results[i][0]
		if res == nil {
			continue
		}
		title := fmt.Sprintf("Figure %d: decoupled test features %s contrastive learning (t-SNE)", n, what)
		if err := fs.add(fmt.Sprintf("fig%d_tsne_%s_cl.png", n, what), func(p string) error {
			return featureMap(p, title, s.DataName, res, r.Config.DModel, s.Seed)
		}); err != nil {
			return err
		}
	}
	return nil
}

// gapWeights draws figure 6 or 7 for the full model's row ("FD-CMDIE" of
// table 3, or table 7's repro.AblationFull) when its runs have GAP weights.
func (s *FigureSet) gapWeights(fs *figureFiles) error {
	for i, r := range s.Rows {
		if r.Name != "FD-CMDIE" && r.Name != repro.AblationFull {
			continue
		}
		var alpha [][][3]float64
		for _, res := range s.Results[i] {
			if res != nil {
				alpha = append(alpha, res.Alpha)
			}
		}
		if len(alpha) == 0 || len(alpha[0]) == 0 {
			continue
		}
		n := s.number(6, 7)
		title := fmt.Sprintf("Figure %d: mean GAP modality weights of %s", n, r.Name)
		caption := s.Data + "\nbars: mean of α over the test samples; error bars: population std over seeds (none with one seed)"
		if err := fs.add(fmt.Sprintf("fig%d_gap_weights.png", n), func(p string) error {
			return GAPFigure(p, title, caption, alpha)
		}); err != nil {
			return err
		}
	}
	return nil
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
	return FeatureMap(path, title, caption, xy, group)
}

// errUnseeded says why figures 8 and 9 cannot be drawn reproducibly.
var errUnseeded = errors.New("rand.Seed is a no-op in this program: the t-SNE of figures 8 and 9 needs GODEBUG randseednop=0 " +
	"(a //go:debug randseednop=0 line in the main package) to come out the same on every run")

// embed runs the t-SNE of figures 8 and 9 on the rows of x.
func embed(x *mat.Dense) ([][2]float64, error) {
	// go-tsne draws from the global source. Go 1.24 made rand.Seed a no-op
	// unless GODEBUG randseednop=0, so check that seeding takes (the
	// seeded global source gives NewSource's sequence), then seed again.
	//lint:ignore SA1019 rand.Seed is the only way to seed go-tsne
	rand.Seed(tsneSeed)
	if rand.Int63() != rand.New(rand.NewSource(tsneSeed)).Int63() {
		return nil, errUnseeded
	}
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
