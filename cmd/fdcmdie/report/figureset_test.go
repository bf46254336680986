// go-tsne draws its initial embedding from math/rand's global source;
// Go 1.24 made rand.Seed a no-op unless this setting restores it, and
// figures 8 and 9 must come out the same on every run.
//
//go:debug randseednop=0
package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// figureResult is a synthetic run: per feature group n pooled vectors of
// width d on a circle of its own, and GAP weights of two layers.
func figureResult(n, d int, shift float64) *train.Result {
	r := &train.Result{Alpha: [][3]float64{{0.5 + shift, 0.3, 0.2 - shift}, {0.6, 0.25 - shift, 0.15 + shift}}}
	for g := range 6 {
		set := make([]float32, n*d)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			for k := range d {
				set[i*d+k] = float32(float64(g+k%3) + math.Cos(a+float64(k)) + shift)
			}
		}
		if g < 3 {
			r.TestS[g] = set
		} else {
			r.TestD[g-3] = set
		}
	}
	return r
}

// figureSet is table's FigureSet with two seeds of synthetic runs per row.
func figureSet(t *testing.T, table string, mosei bool) FigureSet {
	t.Helper()
	base := graph.Config{DModel: 8}
	rows, err := repro.TableRows(table, "FD-CMDIE", base, []int{2, 7, 12})
	if err != nil {
		t.Fatal(err)
	}
	number := map[string]int{"4": 4, "5": 5, "7": 7}[table]
	key := map[bool]string{false: MOSI, true: MOSEI}[mosei]
	paper, err := PaperRows(number, key)
	if err != nil {
		t.Fatal(err)
	}
	s := FigureSet{Table: table, MOSEI: mosei, Data: "measured on synthetic, test split, 2 seed(s)", DataName: "synthetic",
		Seed: 1111, Rows: rows, Paper: paper}
	for i, r := range rows {
		res := []*train.Result{figureResult(20, base.DModel, 0), figureResult(20, base.DModel, 0.02)}
		s.Results = append(s.Results, res)
		m := metricsOf(map[string]float64{"Acc2Non0": 0.7 + 0.01*float64(i), "F1Non0": 0.69, "MAE": 0.9})
		row, err := train.Summarize(r.Name, []train.Metrics{m, m})
		if err != nil {
			t.Fatal(err)
		}
		s.Measured = append(s.Measured, row)
	}
	return s
}

// figureNames are the base names of paths.
func figureNames(paths []string, dir string) []string {
	var names []string
	for _, p := range paths {
		if filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	return names
}

func TestFiguresTable7(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "figures", "table7")
	paths, err := Figures(dir, figureSet(t, "7", false))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fig10_ablations.png", "fig10_ablations.svg", "fig9_tsne_with_cl.png", "fig9_tsne_with_cl.svg",
		"fig8_tsne_without_cl.png", "fig8_tsne_without_cl.svg", "fig6_gap_weights.png", "fig6_gap_weights.svg"}
	if got := figureNames(paths, dir); !slices.Equal(got, want) {
		t.Fatalf("figures %q, want %q", got, want)
	}
	checkPNG(t, filepath.Join(dir, "fig10_ablations.png"), 900, 750, 0.08, 20)
	checkPNG(t, filepath.Join(dir, "fig9_tsne_with_cl.png"), 900, 700, 0.02, 20)
	checkPNG(t, filepath.Join(dir, "fig8_tsne_without_cl.png"), 900, 700, 0.02, 20)
	checkPNG(t, filepath.Join(dir, "fig6_gap_weights.png"), 900, 450, 0.05, 20)
	svg, err := os.ReadFile(filepath.Join(dir, "fig9_tsne_with_cl.svg"))
	if err != nil || !bytes.Contains(svg, []byte("synthetic, model seed 1111; the first 60 test samples")) {
		t.Errorf("fig9's caption does not name the data and the seed (%v)", err)
	}

	again := filepath.Join(t.TempDir(), "again")
	if _, err := Figures(again, figureSet(t, "7", false)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fig8_tsne_without_cl.png", "fig9_tsne_with_cl.png"} {
		a, errA := os.ReadFile(filepath.Join(dir, name))
		b, errB := os.ReadFile(filepath.Join(again, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs (%v, %v)", name, errA, errB)
		}
	}
}

func TestFiguresSweep(t *testing.T) {
	for _, tc := range []struct {
		table string
		mosei bool
		want  []string
	}{
		{"4", false, []string{"fig4_kcl.png", "fig4_kcl.svg"}},
		{"5", true, []string{"fig5_kcl.png", "fig5_kcl.svg"}},
	} {
		dir := t.TempDir()
		paths, err := Figures(dir, figureSet(t, tc.table, tc.mosei))
		if err != nil {
			t.Fatal(err)
		}
		if got := figureNames(paths, dir); !slices.Equal(got, tc.want) {
			t.Fatalf("table %s: figures %q, want %q", tc.table, got, tc.want)
		}
		checkPNG(t, paths[0], 900, 450, 0.03, 20)
	}
}

func TestFiguresErrors(t *testing.T) {
	s := figureSet(t, "7", true)
	s.Results = s.Results[:2]
	if _, err := Figures(t.TempDir(), s); err == nil || !strings.Contains(err.Error(), "6 rows, results of 2") {
		t.Fatalf("results of two rows: error %v", err)
	}
	s = figureSet(t, "7", true)
	for i := range s.Results {
		s.Results[i][0] = figureResult(14, 8, 0)
	}
	_, err := Figures(t.TempDir(), s)
	if want := "figure fig9_tsne_with_cl.png: 84 test feature vectors, t-SNE with perplexity 30 needs 90"; err == nil || err.Error() != want {
		t.Fatalf("14 samples: error %v, want %q", err, want)
	}
	t.Setenv("GODEBUG", "randseednop=1")
	if _, err := embed(nil); err != errUnseeded {
		t.Fatalf("rand.Seed a no-op: error %v, want %v", err, errUnseeded)
	}
}
