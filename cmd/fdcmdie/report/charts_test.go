package report

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPNG decodes the PNG at path and checks its size.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
		t.Fatalf("%s: size %v, want 800×500", path, b.Size())
	}
	return img
}

// pixelStats counts the pixels of color col inside r and their mean
// coordinates.
type pixelStats struct {
	n            int
	meanX, meanY float64
}

func colorStats(img image.Image, r image.Rectangle, col color.RGBA) pixelStats {
	var s pixelStats
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == col {
				s.n++
				s.meanX += float64(x)
				s.meanY += float64(y)
			}
		}
	}
	if s.n > 0 {
		s.meanX /= float64(s.n)
		s.meanY /= float64(s.n)
	}
	return s
}

// nonBackground counts the pixels in r that are not white.
func nonBackground(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) != colorBackground {
				n++
			}
		}
	}
	return n
}

// regionFor is the inside of the axes of a figure whose legend lists
// names, short of the axis lines.
func regionFor(names ...string) image.Rectangle {
	entries := make([]legendEntry, len(names))
	for i, n := range names {
		entries[i] = legendEntry{name: n}
	}
	r := plotArea(entries)
	return image.Rect(r.Min.X+2, r.Min.Y, r.Max.X, r.Max.Y-1)
}

// Regions of every figure: the title band, the y-label strip and the
// legend strip.
var (
	titleRegion  = image.Rect(0, 0, figWidth, marginTop-5)
	yLabelRegion = image.Rect(0, marginTop, 25, figHeight-marginBottom)
	legendRegion = image.Rect(700, marginTop, figWidth, marginTop+100)
)

// checkDecorations asserts that the title, y label and legend drew pixels
// and that the corner is background.
func checkDecorations(t *testing.T, img image.Image, withYLabel bool) {
	t.Helper()
	if got := color.RGBAModel.Convert(img.At(2, figHeight-2)).(color.RGBA); got != colorBackground {
		t.Errorf("corner pixel %v, want background", got)
	}
	if nonBackground(img, titleRegion) < 50 {
		t.Error("no title drawn")
	}
	if withYLabel && nonBackground(img, yLabelRegion) < 30 {
		t.Error("no y label drawn")
	}
	if nonBackground(img, legendRegion) < 100 {
		t.Error("no legend drawn")
	}
}

func TestLineChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig4.png")
	err := LineChart(path, "Fig. 4", "k_cl", "Acc-2", []Series{
		{Name: "up", X: []float64{1, 5, 10, 20}, Y: []float64{0.1, 0.4, 0.7, 1.0}},
		{Name: "down", X: []float64{1, 5, 10, 20}, Y: []float64{1.0, 0.7, 0.4, 0.1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkDecorations(t, img, true)
	plotRegion := regionFor("up", "down")
	left := image.Rect(plotRegion.Min.X, plotRegion.Min.Y, plotRegion.Min.X+150, plotRegion.Max.Y)
	right := image.Rect(plotRegion.Max.X-250, plotRegion.Min.Y, plotRegion.Max.X-100, plotRegion.Max.Y)
	for i, rising := range []bool{true, false} {
		col := palette[i]
		all := colorStats(img, plotRegion, col)
		if all.n < 300 {
			t.Fatalf("series %d: %d pixels of its color %v in the plot area", i, all.n, col)
		}
		l, r := colorStats(img, left, col), colorStats(img, right, col)
		// Image y grows downwards: a rising series sits lower on the left.
		if (l.meanY > r.meanY) != rising {
			t.Errorf("series %d: mean y %.0f on the left, %.0f on the right; rising = %v", i, l.meanY, r.meanY, rising)
		}
	}
}

func TestStackedBars(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig6.png")
	err := Bars(path, Stacked, "Fig. 6", "weight", []string{"layer 1", "layer 2"}, []BarSeries{
		{Name: "α_t", Values: []float64{0.5, 0.2}},
		{Name: "α_v", Values: []float64{0.5, 0.8}},
	})
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkDecorations(t, img, true)
	plotRegion := regionFor("alpha_t", "alpha_v")
	mid := (plotRegion.Min.X + plotRegion.Max.X) / 2
	for g, want := range []float64{1, 0.8 / 0.2} { // area ratio alpha_t : alpha_v per group
		half := image.Rect(plotRegion.Min.X, plotRegion.Min.Y, mid, plotRegion.Max.Y)
		if g == 1 {
			half = image.Rect(mid, plotRegion.Min.Y, plotRegion.Max.X, plotRegion.Max.Y)
		}
		bottom, top := colorStats(img, half, palette[0]), colorStats(img, half, palette[1])
		if bottom.n == 0 || top.n == 0 {
			t.Fatalf("group %d: %d and %d pixels of the two series", g, bottom.n, top.n)
		}
		if bottom.meanY <= top.meanY {
			t.Errorf("group %d: first series (mean y %.0f) not below the second (%.0f)", g, bottom.meanY, top.meanY)
		}
		// Same bar width, so the pixel counts follow the values.
		if ratio := float64(top.n) / float64(bottom.n); math.Abs(ratio/want-1) > 0.05 {
			t.Errorf("group %d: area ratio %.3f, want %.3f", g, ratio, want)
		}
	}
}

func TestGroupedBars(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fig10.png")
	err := Bars(path, Grouped, "Fig. 10", "Acc-2", []string{"FD-CMDIE (full)", "w/o CL"}, []BarSeries{
		{Name: "MOSI", Values: []float64{0.2, 0.3}},
		{Name: "MOSEI", Values: []float64{0.4, 0.6}},
	})
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkDecorations(t, img, true)
	plotRegion := regionFor("MOSI", "MOSEI")
	a, b := colorStats(img, plotRegion, palette[0]), colorStats(img, plotRegion, palette[1])
	if a.n == 0 || b.n == 0 {
		t.Fatalf("%d and %d pixels of the two series", a.n, b.n)
	}
	// The axis starts at 0 here, so areas are proportional to the values.
	if ratio := float64(b.n) / float64(a.n); math.Abs(ratio/2-1) > 0.05 {
		t.Errorf("area ratio %.3f, want 2", ratio)
	}
	// The value labels sit on top of the bars.
	if nonBackground(img, image.Rect(plotRegion.Min.X, plotRegion.Min.Y, plotRegion.Max.X, plotRegion.Min.Y+40)) < 20 {
		t.Error("no value label above the tallest bar")
	}

	// Values within 25% of the largest: the axis no longer starts at 0, so
	// the shortest bar is far shorter than 0.80/0.84 of the tallest.
	zoomed := filepath.Join(dir, "zoom.png")
	if err := Bars(zoomed, Grouped, "zoom", "", []string{"a", "b"}, []BarSeries{{Name: "s", Values: []float64{0.80, 0.84}}}); err != nil {
		t.Fatal(err)
	}
	img = readPNG(t, zoomed)
	plotRegion = regionFor("s")
	mid := (plotRegion.Min.X + plotRegion.Max.X) / 2
	lo := colorStats(img, image.Rect(plotRegion.Min.X, plotRegion.Min.Y, mid, plotRegion.Max.Y), palette[0])
	hi := colorStats(img, image.Rect(mid, plotRegion.Min.Y, plotRegion.Max.X, plotRegion.Max.Y), palette[0])
	if lo.n == 0 || float64(lo.n)/float64(hi.n) > 0.7 {
		t.Errorf("zoomed bars: areas %d and %d, want the first well under 0.7 of the second", lo.n, hi.n)
	}
}

func TestScatter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig8.png")
	var pts []Point
	for i := range 30 {
		d := float64(i%10) / 10
		pts = append(pts,
			Point{X: -2 + d, Y: d, Group: 0},
			Point{X: 1 + d, Y: d, Group: 1},
			Point{X: d, Y: 5 + d, Group: 2},
		)
	}
	err := Scatter(path, "Fig. 8", "PC 1", "PC 2", []string{"shared", "private t", "private v"}, pts)
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	checkDecorations(t, img, true)
	plotRegion := regionFor("shared", "private t", "private v")
	s := [3]pixelStats{}
	for g := range s {
		if s[g] = colorStats(img, plotRegion, palette[g]); s[g].n < 20 {
			t.Fatalf("group %d: %d pixels of its color", g, s[g].n)
		}
	}
	if !(s[0].meanX < s[2].meanX && s[2].meanX < s[1].meanX) {
		t.Errorf("mean x of the groups %.0f, %.0f, %.0f: want group 0 left, 2 middle, 1 right", s[0].meanX, s[1].meanX, s[2].meanX)
	}
	if !(s[2].meanY < s[0].meanY && s[2].meanY < s[1].meanY) {
		t.Errorf("group 2 (mean y %.0f) should sit above groups 0 and 1 (%.0f, %.0f)", s[2].meanY, s[0].meanY, s[1].meanY)
	}
}

func TestSeriesColorsDistinct(t *testing.T) {
	seen := map[color.RGBA]int{}
	for i := range 40 {
		c := seriesColor(i)
		if j, ok := seen[c]; ok {
			t.Fatalf("series %d and %d share color %v", j, i, c)
		}
		if c == colorBackground || c == colorGrid || c == colorAxis {
			t.Fatalf("series %d has a frame color %v", i, c)
		}
		seen[c] = i
	}
}

func TestFigureErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.png")
	nan := math.NaN()
	one := []BarSeries{{Name: "s", Values: []float64{1}}}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"line no series", func() error { return LineChart(p, "t", "x", "y", nil) }, "no series"},
		{"line mismatch", func() error {
			return LineChart(p, "t", "x", "y", []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1}}})
		}, "len(X) = 2 != len(Y) = 1"},
		{"line empty series", func() error { return LineChart(p, "t", "x", "y", []Series{{Name: "s"}}) }, "no points"},
		{"line nan", func() error {
			return LineChart(p, "t", "x", "y", []Series{{Name: "s", X: []float64{1}, Y: []float64{nan}}})
		}, "point 0 is (1, NaN)"},
		{"line inf", func() error {
			return LineChart(p, "t", "x", "y", []Series{{Name: "s", X: []float64{math.Inf(-1)}, Y: []float64{1}}})
		}, "point 0 is (-Inf, 1)"},
		{"bars no groups", func() error { return Bars(p, Grouped, "t", "y", nil, one) }, "no groups"},
		{"bars no series", func() error { return Bars(p, Grouped, "t", "y", []string{"a"}, nil) }, "no series"},
		{"bars mismatch", func() error { return Bars(p, Stacked, "t", "y", []string{"a", "b"}, one) }, "1 values for 2 groups"},
		{"bars nan", func() error {
			return Bars(p, Grouped, "t", "y", []string{"a"}, []BarSeries{{Name: "s", Values: []float64{nan}}})
		}, `group "a": value is NaN`},
		{"stacked negative", func() error {
			return Bars(p, Stacked, "t", "y", []string{"a"}, []BarSeries{{Name: "s", Values: []float64{-0.1}}})
		}, "stacked value -0.1 < 0"},
		{"bars mode", func() error { return Bars(p, BarMode(7), "t", "y", []string{"a"}, one) }, "unknown bar mode 7"},
		{"scatter no points", func() error { return Scatter(p, "t", "x", "y", []string{"g"}, nil) }, "no points"},
		{"scatter no groups", func() error { return Scatter(p, "t", "x", "y", nil, []Point{{}}) }, "no group names"},
		{"scatter group", func() error { return Scatter(p, "t", "x", "y", []string{"g"}, []Point{{Group: 1}}) }, "group 1 outside [0, 1)"},
		{"scatter nan", func() error { return Scatter(p, "t", "x", "y", []string{"g"}, []Point{{X: nan}}) }, "point 0 is (NaN, 0)"},
		{"missing folder", func() error { return Bars(filepath.Join(dir, "no", "f.png"), Grouped, "t", "y", []string{"a"}, one) }, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed calls left files: %v", entries)
	}
}

func TestSinglePointAndConstantSeries(t *testing.T) {
	// A zero-width data range must still give a usable axis.
	path := filepath.Join(t.TempDir(), "flat.png")
	if err := LineChart(path, "flat", "k_cl", "MAE", []Series{{Name: "one", X: []float64{10}, Y: []float64{0.7}}}); err != nil {
		t.Fatal(err)
	}
	if n := colorStats(readPNG(t, path), regionFor("one"), palette[0]).n; n < 20 {
		t.Errorf("single point: %d pixels of its color", n)
	}
}

func TestNiceAxis(t *testing.T) {
	// Expected ticks worked out by hand: step = raw range/n rounded up to
	// 1, 2, 2.5 or 5 × 10^k, ends rounded outwards to a step multiple.
	for _, tc := range []struct {
		lo, hi   float64
		n        int
		ticks    []float64
		decimals int
	}{
		{0.8, 0.84, 6, []float64{0.80, 0.81, 0.82, 0.83, 0.84}, 2},
		{0, 1, 6, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{1, 8, 6, []float64{0, 2, 4, 6, 8}, 0},
		{0, 0.9, 4, []float64{0, 0.25, 0.5, 0.75, 1}, 2},
		{-3, 3, 6, []float64{-3, -2, -1, 0, 1, 2, 3}, 0},
		{5, 5, 6, []float64{4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6}, 1},
		{0, 90, 4, []float64{0, 25, 50, 75, 100}, 0},
	} {
		a := niceAxis(tc.lo, tc.hi, tc.n, 0, 100)
		ok := len(a.ticks) == len(tc.ticks) && a.decimals == tc.decimals
		for i := 0; ok && i < len(tc.ticks); i++ {
			ok = math.Abs(a.ticks[i]-tc.ticks[i]) < 1e-9
		}
		if !ok {
			t.Errorf("niceAxis(%v, %v, %d): ticks %v decimals %d, want %v %d", tc.lo, tc.hi, tc.n, a.ticks, a.decimals, tc.ticks, tc.decimals)
		}
	}
	a := niceAxis(0, 1, 6, 400, 100)
	if a.pixel(0) != 400 || a.pixel(1) != 100 || a.pixel(0.5) != 250 {
		t.Errorf("pixels %d %d %d, want 400 100 250", a.pixel(0), a.pixel(1), a.pixel(0.5))
	}
	if got := a.label(math.Copysign(0, -1)); got != "0.0" {
		t.Errorf("label(-0) = %q", got)
	}
}

func TestLabelText(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int
		trunc string
		wrap  []string
	}{
		{"α_t", 10, "alpha_t", []string{"alpha_t"}},
		{"FD-CMDIE (full)", 13, "FD-CMDIE (f..", []string{"FD-CMDIE", "(full)"}},
		{"w/o CrossAtt2", 13, "w/o CrossAtt2", []string{"w/o CrossAtt2"}},
		{"averylongnamewithoutspaces", 8, "averyl..", []string{"averyl.."}},
		{"0.5 ± 0.1", 20, "0.5 +/- 0.1", []string{"0.5 +/- 0.1"}},
	} {
		if got := truncate(tc.in, tc.n); got != tc.trunc {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.trunc)
		}
		if got := wrap2(tc.in, tc.n); strings.Join(got, "|") != strings.Join(tc.wrap, "|") {
			t.Errorf("wrap2(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.wrap)
		}
	}
	if w := textWidth("α_t"); w != 49 {
		t.Errorf("textWidth(α_t) = %d, want 7 × 7", w)
	}
}
