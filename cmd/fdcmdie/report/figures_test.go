package report

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// checkPNG decodes the PNG at path and fails unless it is w×h pixels and
// drawn on: at least minInk of the pixels are not white and it holds at
// least minColors colours (text, axes, several series).
func checkPNG(t *testing.T, path string, w, h int, minInk float64, minColors int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: %v, want %d×%d", path, b, w, h)
	}
	ink, colors := inkAndColors(img)
	if ink < minInk || colors < minColors {
		t.Fatalf("%s: %.3f of the pixels drawn, %d colours; want ≥ %.3f and ≥ %d", path, ink, colors, minInk, minColors)
	}
	if svg, err := os.ReadFile(SVGPath(path)); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("%s: no SVG beside it (%v)", path, err)
	}
}

// inkAndColors returns the fraction of non-white pixels and the number of
// distinct colours of img.
func inkAndColors(img image.Image) (float64, int) {
	b := img.Bounds()
	seen := map[[3]uint32]bool{}
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy()), len(seen)
}

func sweepRows(values []int, acc float64, seeds int) []train.Row {
	var rows []train.Row
	for i, v := range values {
		a := acc + 0.01*float64(i)
		rows = append(rows, train.Row{Name: strconv.Itoa(v), Seeds: seeds,
			Mean: metricsOf(map[string]float64{"Acc2Non0": a, "F1Non0": a - 0.005, "MAE": 0.9}),
			Std:  metricsOf(map[string]float64{"Acc2Non0": 0.01, "F1Non0": 0.01, "MAE": 0.01})})
	}
	return rows
}

func TestSweepFigure(t *testing.T) {
	paper, err := PaperRows(4, MOSI)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fig4.png")
	if err := SweepFigure(path, "Figure 4: k_cl", "k_cl", "caption line one\ncaption line two", sweepRows([]int{2, 7, 12}, 0.6, 3), paper); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 900, 450, 0.03, 20)
	if err := SweepFigure(path, "t", "k_cl", "", []train.Row{{Name: "ten", Mean: metricsOf(map[string]float64{"Acc2Non0": 0.5})}}, nil); err == nil ||
		!strings.Contains(err.Error(), "not a sweep value") {
		t.Fatalf("non-numeric row name: error %v", err)
	}
}

func TestGAPFigure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig6.png")
	alpha := [][][3]float64{{{0.5, 0.3, 0.2}, {0.6, 0.2, 0.2}}, {{0.55, 0.25, 0.2}, {0.62, 0.2, 0.18}}}
	if err := GAPFigure(path, "Figure 6: GAP weights", "2 seeds", alpha); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 900, 450, 0.05, 20)
	if err := GAPFigure(path, "t", "", [][][3]float64{{{1, 0, 0}}, {}}); err == nil {
		t.Fatal("seeds with different layer counts accepted")
	}
}

func TestAblationFigure(t *testing.T) {
	paper, err := PaperRows(7, MOSI)
	if err != nil {
		t.Fatal(err)
	}
	var measured []train.Row
	for i, n := range repro.AblationNames() {
		measured = append(measured, train.Row{Name: n, Seeds: 1, Mean: metricsOf(map[string]float64{"Acc2Non0": 0.7 + 0.01*float64(i), "F1Non0": 0.69})})
	}
	path := filepath.Join(t.TempDir(), "fig10.png")
	if err := AblationFigure(path, "Figure 10: ablations", "1 seed", measured, paper); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 900, 750, 0.08, 20)
	for _, r := range measured {
		if _, ok := paperByName(paper)[PaperAblationName(r.Name)]; !ok {
			t.Errorf("measured ablation %q has no paper row", r.Name)
		}
	}
}

func paperByName(rows []train.Row) map[string]train.Row {
	m := map[string]train.Row{}
	for _, r := range rows {
		m[r.Name] = r
	}
	return m
}

func TestFeatureMap(t *testing.T) {
	var xy [][2]float64
	var group []int
	for g := range FeatureGroups {
		for i := 0; i < 30; i++ {
			a := float64(i) / 30 * 2 * math.Pi
			xy = append(xy, [2]float64{float64(3*g) + math.Cos(a), float64(g%3) + math.Sin(a)})
			group = append(group, g)
		}
	}
	path := filepath.Join(t.TempDir(), "fig9.png")
	if err := FeatureMap(path, "Figure 9", "t-SNE, perplexity 30, seed 1", xy, group); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 900, 700, 0.02, 20)
	if err := FeatureMap(path, "t", "", xy, group[:3]); err == nil {
		t.Fatal("mismatched groups accepted")
	}
}
