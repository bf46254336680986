package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// Figures are 9 inches wide at 100 dpi: 900 pixels, text 11–16 pt.
const (
	figDPI     = 100
	figWidth   = 9 * vg.Inch
	tickSize   = 11
	labelSize  = 12
	panelTitle = 13
	figTitle   = 16
)

// Okabe–Ito colours, distinguishable with the common colour-vision
// deficiencies: measured series take the first ones, the paper's grey.
var (
	palette = []color.Color{
		color.RGBA{0, 114, 178, 255},   // blue
		color.RGBA{213, 94, 0, 255},    // vermillion
		color.RGBA{0, 158, 115, 255},   // bluish green
		color.RGBA{204, 121, 167, 255}, // reddish purple
		color.RGBA{230, 159, 0, 255},   // orange
		color.RGBA{86, 180, 233, 255},  // sky blue
	}
	paperColor = color.RGBA{110, 110, 110, 255}
)

// figure is a titled set of panels, side by side or stacked, with a
// caption under them; it is written as PNG and SVG.
type figure struct {
	title, caption string
	panels         []*plot.Plot
	stacked        bool // panels one above the other instead of side by side
	height         vg.Length
}

// newPanel makes a plot with the figures' font sizes and a light grid.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = panelTitle
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = labelSize, labelSize
	p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = tickSize, tickSize
	p.Legend.TextStyle.Font.Size = tickSize
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	return p
}

// textStyle is the plain text style of the figure title and caption.
func textStyle(size vg.Length, xAlign draw.XAlignment) text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, size), XAlign: xAlign,
		YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
}

// draw lays the title, the panels and the caption out on c.
func (fg figure) draw(c draw.Canvas) {
	titleSty, capSty := textStyle(figTitle, draw.XCenter), textStyle(tickSize, draw.XLeft)
	top := c.Max.Y - vg.Points(8)
	c.FillText(titleSty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top}, fg.title)
	lines := strings.Split(fg.caption, "\n")
	lineH := capSty.FontExtents().Height * 1.2
	for i, l := range lines {
		c.FillText(capSty, vg.Point{X: c.Min.X + vg.Points(12), Y: c.Min.Y + lineH*vg.Length(len(lines)-i) + vg.Points(4)}, l)
	}
	body := draw.Crop(c, vg.Points(6), -vg.Points(10), lineH*vg.Length(len(lines))+vg.Points(14),
		-(titleSty.FontExtents().Height + vg.Points(16)))
	tiles := draw.Tiles{Rows: 1, Cols: len(fg.panels), PadX: vg.Points(18), PadY: vg.Points(14)}
	grid := [][]*plot.Plot{fg.panels}
	if fg.stacked {
		tiles.Rows, tiles.Cols = len(fg.panels), 1
		grid = make([][]*plot.Plot, len(fg.panels))
		for i, p := range fg.panels {
			grid[i] = []*plot.Plot{p}
		}
	}
	canvases := plot.Align(grid, tiles, body)
	for i := range grid {
		for j, p := range grid[i] {
			p.Draw(canvases[i][j])
		}
	}
}

// save writes the figure to path (PNG) and to path with ".svg" in place
// of ".png", each atomically.
func (fg figure) save(path string) error {
	if !strings.HasSuffix(path, ".png") {
		return fmt.Errorf("report: %s: a figure's path must end in .png", path)
	}
	img := vgimg.NewWith(vgimg.UseWH(figWidth, fg.height), vgimg.UseDPI(figDPI))
	fg.draw(draw.New(img))
	if err := repro.WriteAtomic(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}); err != nil {
		return err
	}
	svg := vgsvg.New(figWidth, fg.height)
	fg.draw(draw.New(svg))
	return repro.WriteAtomic(SVGPath(path), func(w io.Writer) error {
		_, err := svg.WriteTo(w)
		return err
	})
}

// SVGPath is the path of the SVG copy that every figure function writes
// beside its PNG.
func SVGPath(pngPath string) string { return strings.TrimSuffix(pngPath, ".png") + ".svg" }

// sweepPoints returns the rows' x values (their names, which must be
// numbers) and 100 × metric key, with the std when there are seeds to
// spread; rows without the metric are left out.
func sweepPoints(rows []train.Row, key string) (plotter.XYs, plotter.YErrors, error) {
	var xy plotter.XYs
	var errs plotter.YErrors
	for _, r := range rows {
		x, err := strconv.ParseFloat(r.Name, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("row %q: the name is not a sweep value", r.Name)
		}
		y, _ := r.Mean.Value(key)
		if math.IsNaN(y) {
			continue
		}
		xy = append(xy, plotter.XY{X: x, Y: 100 * y})
		s := 0.0
		if std, ok := r.StdOf(key); ok && r.Seeds > 1 {
			s = 100 * std
		}
		errs = append(errs, struct{ Low, High float64 }{s, s})
	}
	return xy, errs, nil
}

// SweepFigure draws figures 4 and 5: Acc-2 and F1 (non0) against a swept
// value (the row names, e.g. k_cl), the measured rows as solid lines with
// points and the seed spread, the paper's rows dashed and labelled
// "paper". It writes a 900×450 PNG to path and an SVG beside it.
func SweepFigure(path, title, xLabel, caption string, measured, paper []train.Row) error {
	if err := validateRows(measured); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	fg := figure{title: title, caption: caption, height: 4.5 * vg.Inch}
	for _, m := range []struct{ key, name string }{{"Acc2Non0", "Acc-2 non0 (%)"}, {"F1Non0", "F1 non0 (%)"}} {
		p := newPanel(m.name, xLabel, m.name)
		xy, errs, err := sweepPoints(measured, m.key)
		if err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
		line, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("report: %s: %s: %w", path, m.name, err)
		}
		line.Color, line.Width = palette[0], vg.Points(2)
		pts.Color, pts.Shape, pts.Radius = palette[0], draw.CircleGlyph{}, vg.Points(3.5)
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xy, errs})
		if err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
		bars.Color = palette[0]
		p.Add(line, pts, bars)
		p.Legend.Add("measured", line, pts)
		if len(paper) > 0 {
			pxy, _, err := sweepPoints(paper, m.key)
			if err != nil {
				return fmt.Errorf("report: %s: paper: %w", path, err)
			}
			pl, pp, err := plotter.NewLinePoints(pxy)
			if err != nil {
				return fmt.Errorf("report: %s: paper: %w", path, err)
			}
			pl.Color, pl.Width, pl.Dashes = paperColor, vg.Points(2), []vg.Length{vg.Points(6), vg.Points(4)}
			pp.Color, pp.Shape, pp.Radius = paperColor, draw.BoxGlyph{}, vg.Points(3)
			p.Add(pl, pp)
			p.Legend.Add("paper", pl, pp)
		}
		p.Legend.Top, p.Legend.Left = true, true
		p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min) // room for the legend
		p.Y.Min -= 0.05 * (p.Y.Max - p.Y.Min)
		p.X.Tick.Marker = sweepTicks(measured, paper)
		fg.panels = append(fg.panels, p)
	}
	return fg.save(path)
}

// sweepTicks puts a labelled X tick at every swept value.
func sweepTicks(sets ...[]train.Row) plot.ConstantTicks {
	seen := map[string]bool{}
	var ticks plot.ConstantTicks
	for _, rows := range sets {
		for _, r := range rows {
			if x, err := strconv.ParseFloat(r.Name, 64); err == nil && !seen[r.Name] {
				seen[r.Name] = true
				ticks = append(ticks, plot.Tick{Value: x, Label: r.Name})
			}
		}
	}
	return ticks
}

// barSeries is one colour of a grouped bar chart.
type barSeries struct {
	name   string
	values []float64 // per group; NaN: no bar
	errs   []float64 // per group, the half-height of an error bar; nil: none
	color  color.Color
}

// groupedBars adds series as side-by-side bars over groups named on the X
// axis, each bar a polygon in data coordinates (group g spans g ± 0.4),
// and starts the Y axis at 0.
func groupedBars(p *plot.Plot, groups []string, series []barSeries) error {
	width := 0.8 / float64(len(series))
	ymax := 0.0
	for k, s := range series {
		var thumb *plotter.Polygon
		var errXY plotter.XYs
		var errs plotter.YErrors
		for g, v := range s.values {
			if math.IsNaN(v) {
				continue
			}
			x0 := float64(g) - 0.4 + float64(k)*width
			bar, err := plotter.NewPolygon(plotter.XYs{{X: x0 + 0.05*width, Y: 0}, {X: x0 + 0.95*width, Y: 0},
				{X: x0 + 0.95*width, Y: v}, {X: x0 + 0.05*width, Y: v}})
			if err != nil {
				return err
			}
			bar.Color, bar.LineStyle.Width = s.color, 0
			p.Add(bar)
			thumb = bar
			e := 0.0
			if s.errs != nil {
				e = s.errs[g]
				errXY = append(errXY, plotter.XY{X: x0 + width/2, Y: v})
				errs = append(errs, struct{ Low, High float64 }{e, e})
			}
			ymax = max(ymax, v+e)
		}
		if len(errXY) > 0 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{errXY, errs})
			if err != nil {
				return err
			}
			eb.Width = vg.Points(1.5)
			p.Add(eb)
		}
		if thumb != nil {
			p.Legend.Add(s.name, thumb)
		}
	}
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.Y.Min, p.Y.Max = 0, 1.3*ymax // room above the bars for the legend
	p.Legend.Top = true
	return nil
}

// GAPFigure draws figures 6 and 7: the mean GAP modality weight α of text,
// vision and audio over the test split, one bar per CMDIE layer, with the
// population standard deviation over seeds as error bars when there are
// several. alpha holds per seed the per-layer (t, v, a) means. It writes
// a 900×450 PNG to path and an SVG beside it.
func GAPFigure(path, title, caption string, alpha [][][3]float64) error {
	if len(alpha) == 0 || len(alpha[0]) == 0 {
		return fmt.Errorf("report: %s: no GAP weights", path)
	}
	layers := len(alpha[0])
	var series []barSeries
	for l := 0; l < layers; l++ {
		s := barSeries{name: fmt.Sprintf("CMDIE layer %d", l+1), color: palette[l%len(palette)]}
		for m := 0; m < 3; m++ {
			var sum, ss float64
			for seed, a := range alpha {
				if len(a) != layers {
					return fmt.Errorf("report: %s: seed %d has %d layers, seed 0 %d", path, seed, len(a), layers)
				}
				sum += a[l][m]
			}
			mean := sum / float64(len(alpha))
			for _, a := range alpha {
				ss += (a[l][m] - mean) * (a[l][m] - mean)
			}
			s.values = append(s.values, mean)
			if len(alpha) > 1 {
				s.errs = append(s.errs, math.Sqrt(ss/float64(len(alpha))))
			}
		}
		series = append(series, s)
	}
	p := newPanel("", "modality", "mean GAP weight α")
	if err := groupedBars(p, []string{"text", "vision", "audio"}, series); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return figure{title: title, caption: caption, panels: []*plot.Plot{p}, height: 4.5 * vg.Inch}.save(path)
}

// PaperAblationName maps a measured ablation row of table 7 to the
// paper's name of the same variant ("FD-CMDIE (full)" → "FD-CMDIE").
func PaperAblationName(name string) string {
	switch name {
	case repro.AblationFull:
		return "FD-CMDIE"
	case repro.AblationNoCrossAtt2:
		return "w/o CrossAtt-2"
	}
	return name
}

// AblationFigure draws figures 10 and 11: Acc-2 and F1 (non0) of every
// ablation, measured bars (with the seed spread) beside the paper's, in
// two stacked panels. Paper rows are matched by [PaperAblationName]. It
// writes a 900×750 PNG to path and an SVG beside it.
func AblationFigure(path, title, caption string, measured, paper []train.Row) error {
	if err := validateRows(measured); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	byName := map[string]train.Row{}
	for _, r := range paper {
		byName[r.Name] = r
	}
	groups := make([]string, len(measured))
	for i, r := range measured {
		groups[i] = r.Name
	}
	fg := figure{title: title, caption: caption, stacked: true, height: 7.5 * vg.Inch}
	for _, m := range []struct{ key, name string }{{"Acc2Non0", "Acc-2 non0 (%)"}, {"F1Non0", "F1 non0 (%)"}} {
		meas := barSeries{name: "measured", color: palette[0]}
		pub := barSeries{name: "paper", color: paperColor}
		for _, r := range measured {
			mean, _ := r.Mean.Value(m.key)
			meas.values = append(meas.values, 100*mean)
			if std, ok := r.StdOf(m.key); ok && r.Seeds > 1 {
				meas.errs = append(meas.errs, 100*std)
			}
			v := math.NaN()
			if p, ok := byName[PaperAblationName(r.Name)]; ok {
				v, _ = p.Mean.Value(m.key)
			}
			pub.values = append(pub.values, 100*v)
		}
		if len(meas.errs) != len(meas.values) {
			meas.errs = nil
		}
		p := newPanel(m.name, "", m.name)
		series := []barSeries{meas}
		if len(paper) > 0 {
			series = append(series, pub)
		}
		if err := groupedBars(p, groups, series); err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
		fg.panels = append(fg.panels, p)
	}
	return fg.save(path)
}

// FeatureGroups names the six groups of figures 8 and 9 in the order
// [FeatureMap] takes them: the similar (s) and different (d) features of
// text, vision and audio.
var FeatureGroups = []string{"s_t", "s_v", "s_a", "d_t", "d_v", "d_a"}

// FeatureMap draws figures 8 and 9: 2-D points (a t-SNE projection of the
// decoupled features), coloured by modality, filled circles for similar
// and open triangles for different features. group[i] indexes
// [FeatureGroups]. It writes a 900×700 PNG to path and an SVG beside it.
func FeatureMap(path, title, caption string, xy [][2]float64, group []int) error {
	if len(xy) == 0 || len(xy) != len(group) {
		return fmt.Errorf("report: %s: %d points, %d groups", path, len(xy), len(group))
	}
	p := newPanel("", "t-SNE 1", "t-SNE 2")
	for g, name := range FeatureGroups {
		var pts plotter.XYs
		for i, p := range xy {
			if group[i] < 0 || group[i] >= len(FeatureGroups) {
				return fmt.Errorf("report: %s: point %d: group %d", path, i, group[i])
			}
			if group[i] == g {
				pts = append(pts, plotter.XY{X: p[0], Y: p[1]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: %s: %s: %w", path, name, err)
		}
		s.Color, s.Radius = palette[g%3], vg.Points(3)
		s.Shape = draw.CircleGlyph{}
		if g >= 3 {
			s.Shape, s.Radius = draw.TriangleGlyph{}, vg.Points(3.5)
		}
		p.Add(s)
		p.Legend.Add(name, s)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.X.Max += 0.2 * (p.X.Max - p.X.Min) // room for the legend
	return figure{title: title, caption: caption, panels: []*plot.Plot{p}, height: 7 * vg.Inch}.save(path)
}
