package report

import (
	"errors"
	"fmt"
	"image"
	"math"
	"strconv"
)

// Series is one line of a [LineChart]: the points (X[i], Y[i]), joined in
// the given order.
type Series struct {
	// Name is the legend entry; an empty name is left out of the legend.
	Name string
	// X and Y are the coordinates; they must have the same length.
	X, Y []float64
}

// BarSeries is one color of a bar chart: one value per group.
type BarSeries struct {
	// Name is the legend entry; an empty name is left out of the legend.
	Name string
	// Values holds one value per group, in the order of the groups.
	Values []float64
}

// BarMode selects how [Bars] arranges the series of a group.
type BarMode int

const (
	// Grouped puts the series of a group side by side (figs 10/11: one
	// metric per ablation, or several metrics per ablation).
	Grouped BarMode = iota
	// Stacked piles the series of a group into one bar (figs 6/7: the mean
	// GAP weights α_t, α_v, α_a of each CMDIE layer, which sum to 1).
	// Values must not be negative.
	Stacked
)

// Point is one dot of a [Scatter] plot.
type Point struct {
	// X and Y are the coordinates.
	X, Y float64
	// Group indexes the group names passed to Scatter; it picks the color.
	Group int
}

// LineChart draws series as colored lines with a marker on every point
// (figs 4/5: a metric against k_cl) and writes an 800×500 PNG to path.
func LineChart(path, title, xLabel, yLabel string, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("report: %s: line chart %q: no series", path, title)
	}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	entries := make([]legendEntry, len(series))
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("report: %s: line chart %q: series %d (%q): len(X) = %d != len(Y) = %d", path, title, i, s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			return fmt.Errorf("report: %s: line chart %q: series %d (%q): no points", path, title, i, s.Name)
		}
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) {
				return fmt.Errorf("report: %s: line chart %q: series %d (%q): point %d is (%v, %v)", path, title, i, s.Name, j, s.X[j], s.Y[j])
			}
			xlo, xhi = math.Min(xlo, s.X[j]), math.Max(xhi, s.X[j])
			ylo, yhi = math.Min(ylo, s.Y[j]), math.Max(yhi, s.Y[j])
		}
		entries[i] = legendEntry{s.Name, seriesColor(i)}
	}
	area := plotArea(entries)
	f := frame{
		area: area,
		x:    niceAxis(xlo, xhi, 6, area.Min.X, area.Max.X),
		y:    niceAxis(ylo, yhi, 6, area.Max.Y, area.Min.Y),
	}
	c := newCanvas()
	c.drawFrame(f, title, xLabel, yLabel, nil, nil)
	for i, s := range series {
		col := seriesColor(i)
		for j := 1; j < len(s.X); j++ {
			c.line(f.x.pixel(s.X[j-1]), f.y.pixel(s.Y[j-1]), f.x.pixel(s.X[j]), f.y.pixel(s.Y[j]), 2, col)
		}
		for j := range s.X {
			c.disc(f.x.pixel(s.X[j]), f.y.pixel(s.Y[j]), 4, col)
		}
	}
	c.drawLegend(area, entries)
	return writeAtomic(path, c.encode)
}

// Bars draws one bar slot per group, the series side by side ([Grouped])
// or piled up ([Stacked]), and writes an 800×500 PNG to path. Grouped bars
// get their value printed on top when it fits.
//
// The value axis of a grouped chart starts at 0, except when every value is
// positive and they all lie within 25% of the largest one (ablation
// accuracies such as 0.80 to 0.84): the axis then starts a little below the
// smallest value so that the differences show; its tick labels say where.
func Bars(path string, mode BarMode, title, yLabel string, groups []string, series []BarSeries) error {
	if err := checkBars(mode, groups, series); err != nil {
		return fmt.Errorf("report: %s: bar chart %q: %w", path, title, err)
	}
	lo, hi := barRange(mode, groups, series)
	entries := make([]legendEntry, len(series))
	for i, s := range series {
		entries[i] = legendEntry{s.Name, seriesColor(i)}
	}
	area := plotArea(entries)
	f := frame{area: area, y: niceAxis(lo, hi, 6, area.Max.Y, area.Min.Y)}
	slot := float64(area.Dx()) / float64(len(groups))
	centers := make([]int, len(groups))
	for g := range groups {
		centers[g] = area.Min.X + int(math.Round(slot*(float64(g)+0.5)))
	}
	c := newCanvas()
	c.drawFrame(f, title, "", yLabel, groups, centers)
	base := f.y.pixel(math.Max(f.y.lo, 0))
	for g := range groups {
		switch mode {
		case Stacked:
			width := max(int(slot*0.6), 1)
			left := centers[g] - width/2
			var sum float64
			for i, s := range series {
				bottom := f.y.pixel(sum)
				sum += s.Values[g]
				c.fillRect(image.Rect(left, f.y.pixel(sum), left+width, bottom), seriesColor(i))
			}
		default:
			width := max(int(slot*0.8)/len(series), 1)
			left := centers[g] - width*len(series)/2
			for i, s := range series {
				v := s.Values[g]
				top := f.y.pixel(v)
				x0 := left + i*width
				c.fillRect(image.Rect(x0, min(top, base), x0+width-1, max(top, base)), seriesColor(i))
				label := strconv.FormatFloat(v, 'f', f.y.decimals+1, 64)
				if textWidth(label) <= width {
					c.textCentered(x0+width/2, min(top, base)-glyphHeight-2, label, colorText)
				}
			}
		}
	}
	c.fillRect(image.Rect(area.Min.X, base, area.Max.X, base+1), colorAxis)
	c.drawLegend(area, entries)
	return writeAtomic(path, c.encode)
}

// checkBars validates the input of [Bars].
func checkBars(mode BarMode, groups []string, series []BarSeries) error {
	if mode != Grouped && mode != Stacked {
		return fmt.Errorf("unknown bar mode %d", mode)
	}
	if len(groups) == 0 {
		return errors.New("no groups")
	}
	if len(series) == 0 {
		return errors.New("no series")
	}
	for i, s := range series {
		if len(s.Values) != len(groups) {
			return fmt.Errorf("series %d (%q): %d values for %d groups", i, s.Name, len(s.Values), len(groups))
		}
		for g, v := range s.Values {
			if !finite(v) {
				return fmt.Errorf("series %d (%q): group %q: value is %v", i, s.Name, groups[g], v)
			}
			if mode == Stacked && v < 0 {
				return fmt.Errorf("series %d (%q): group %q: stacked value %v < 0", i, s.Name, groups[g], v)
			}
		}
	}
	return nil
}

// barRange returns the data range that the value axis of [Bars] covers.
func barRange(mode BarMode, groups []string, series []BarSeries) (lo, hi float64) {
	if mode == Stacked {
		for g := range groups {
			var sum float64
			for _, s := range series {
				sum += s.Values[g]
			}
			hi = math.Max(hi, sum)
		}
		return 0, hi
	}
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			vmin, vmax = math.Min(vmin, v), math.Max(vmax, v)
		}
	}
	if vmin > 0 && vmax-vmin < 0.25*vmax {
		return math.Max(0, vmin-math.Max(vmax-vmin, 0.02*vmax)), vmax
	}
	return math.Min(0, vmin), math.Max(0, vmax)
}

// Scatter draws points as dots colored by group (figs 8/9: 2-D maps of the
// decoupled features, see [PCA2]) and writes an 800×500 PNG to path. The
// legend lists groupNames; points are drawn in the given order, so later
// ones cover earlier ones.
func Scatter(path, title, xLabel, yLabel string, groupNames []string, points []Point) error {
	if len(points) == 0 {
		return fmt.Errorf("report: %s: scatter %q: no points", path, title)
	}
	if len(groupNames) == 0 {
		return fmt.Errorf("report: %s: scatter %q: no group names", path, title)
	}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, p := range points {
		if !finite(p.X) || !finite(p.Y) {
			return fmt.Errorf("report: %s: scatter %q: point %d is (%v, %v)", path, title, i, p.X, p.Y)
		}
		if p.Group < 0 || p.Group >= len(groupNames) {
			return fmt.Errorf("report: %s: scatter %q: point %d: group %d outside [0, %d)", path, title, i, p.Group, len(groupNames))
		}
		xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
		ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
	}
	// A margin of 3% keeps the outermost dots off the axes.
	padX, padY := 0.03*(xhi-xlo), 0.03*(yhi-ylo)
	xlo, xhi, ylo, yhi = xlo-padX, xhi+padX, ylo-padY, yhi+padY
	entries := make([]legendEntry, len(groupNames))
	for g, name := range groupNames {
		entries[g] = legendEntry{name, seriesColor(g)}
	}
	area := plotArea(entries)
	f := frame{
		area: area,
		x:    niceAxis(xlo, xhi, 6, area.Min.X, area.Max.X),
		y:    niceAxis(ylo, yhi, 6, area.Max.Y, area.Min.Y),
	}
	c := newCanvas()
	c.drawFrame(f, title, xLabel, yLabel, nil, nil)
	radius := 3
	if len(points) > 500 {
		radius = 2
	}
	for _, p := range points {
		c.disc(f.x.pixel(p.X), f.y.pixel(p.Y), radius, seriesColor(p.Group))
	}
	c.drawLegend(area, entries)
	return writeAtomic(path, c.encode)
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
