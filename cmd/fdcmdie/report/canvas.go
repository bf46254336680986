package report

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Figure geometry in pixels.
const (
	figWidth  = 800
	figHeight = 500
	// Margins around the plot area; the right margin grows to hold the
	// legend.
	marginLeft   = 80
	marginRight  = 20
	marginTop    = 40
	marginBottom = 60
	// Glyph cell of basicfont.Face7x13.
	glyphWidth  = 7
	glyphHeight = 13
	// maxLegendChars caps legend entries so that the plot keeps its width.
	maxLegendChars = 28
)

// Fixed colors of every figure.
var (
	colorBackground = color.RGBA{255, 255, 255, 255}
	colorAxis       = color.RGBA{0, 0, 0, 255}
	colorGrid       = color.RGBA{225, 225, 225, 255}
	colorText       = color.RGBA{0, 0, 0, 255}
)

// palette is matplotlib's "tab10" cycle; series past the tenth get hues
// spaced by the golden angle.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

// seriesColor returns the color of the i-th series or group.
func seriesColor(i int) color.RGBA {
	if i < len(palette) {
		return palette[i]
	}
	h := math.Mod(float64(i-len(palette))*137.50776405, 360)
	return hsv(h, 0.65, 0.8)
}

// hsv converts a hue in degrees, saturation and value in [0, 1] to RGB.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	to8 := func(f float64) uint8 { return uint8(math.Round((f + m) * 255)) }
	return color.RGBA{to8(r), to8(g), to8(b), 255}
}

// canvas is a figure being drawn.
type canvas struct {
	img *image.RGBA
}

// newCanvas returns a white figure.
func newCanvas() *canvas {
	img := image.NewRGBA(image.Rect(0, 0, figWidth, figHeight))
	draw.Draw(img, img.Bounds(), image.NewUniform(colorBackground), image.Point{}, draw.Src)
	return &canvas{img: img}
}

// encode writes the figure as PNG.
func (c *canvas) encode(w io.Writer) error { return png.Encode(w, c.img) }

// fillRect fills r (clipped to the image) with col.
func (c *canvas) fillRect(r image.Rectangle, col color.RGBA) {
	draw.Draw(c.img, r.Intersect(c.img.Bounds()), image.NewUniform(col), image.Point{}, draw.Src)
}

// line draws a line from (x0, y0) to (x1, y1) with Bresenham's algorithm,
// stamping a width×width square at every step.
func (c *canvas) line(x0, y0, x1, y1, width int, col color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	lo := -(width - 1) / 2
	for {
		c.fillRect(image.Rect(x0+lo, y0+lo, x0+lo+width, y0+lo+width), col)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// disc fills a disc of radius r centred on (x, y).
func (c *canvas) disc(x, y, r int, col color.RGBA) {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if dx*dx+dy*dy <= r*r {
				c.img.SetRGBA(x+dx, y+dy, col)
			}
		}
	}
}

// greek spells out the Greek letters and symbols that labels of this
// project use, since the bitmap font holds ASCII only.
var greek = strings.NewReplacer(
	"α", "alpha", "β", "beta", "γ", "gamma", "λ", "lambda", "μ", "mu",
	"σ", "sigma", "τ", "tau", "±", "+/-", "×", "x", "–", "-", "—", "-",
)

// textWidth is the width in pixels of s as [canvas.text] draws it.
func textWidth(s string) int { return glyphWidth * len([]rune(greek.Replace(s))) }

// truncate shortens s to at most n runes, ending it with ".." when cut.
func truncate(s string, n int) string {
	r := []rune(greek.Replace(s))
	if len(r) <= n {
		return string(r)
	}
	if n <= 2 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-2]) + ".."
}

// wrap2 fits s into at most two lines of n runes: it breaks at the last
// space that keeps the first line within n, and truncates what still does
// not fit.
func wrap2(s string, n int) []string {
	r := []rune(greek.Replace(s))
	if len(r) <= n {
		return []string{string(r)}
	}
	for i := min(n, len(r)-1); i > 0; i-- {
		if r[i] == ' ' {
			return []string{string(r[:i]), truncate(string(r[i+1:]), n)}
		}
	}
	return []string{truncate(string(r), n)}
}

// text draws s with its top-left corner at (x, y).
func (c *canvas) text(x, y int, s string, col color.RGBA) {
	d := font.Drawer{
		Dst:  c.img,
		Src:  image.NewUniform(col),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y+basicfont.Face7x13.Ascent),
	}
	d.DrawString(greek.Replace(s))
}

// textCentered draws s centred horizontally on x, its top at y.
func (c *canvas) textCentered(x, y int, s string, col color.RGBA) {
	c.text(x-textWidth(s)/2, y, s, col)
}

// textVertical draws s rotated 90° counter-clockwise (reading bottom to
// top), centred vertically on y, its left edge at x.
func (c *canvas) textVertical(x, y int, s string, col color.RGBA) {
	w := textWidth(s)
	tmp := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, glyphHeight))}
	tmp.text(0, 0, s, col)
	for ty := 0; ty < glyphHeight; ty++ {
		for tx := 0; tx < w; tx++ {
			if p := tmp.img.RGBAAt(tx, ty); p.A != 0 {
				c.img.SetRGBA(x+ty, y+w/2-tx, col)
			}
		}
	}
}

// axis maps data values to pixels along one direction.
type axis struct {
	lo, hi   float64 // data range
	p0, p1   int     // pixels of lo and hi
	ticks    []float64
	decimals int
}

// pixel returns the pixel of data value v.
func (a axis) pixel(v float64) int {
	return a.p0 + int(math.Round((v-a.lo)/(a.hi-a.lo)*float64(a.p1-a.p0)))
}

// label formats a tick value.
func (a axis) label(v float64) string {
	return strconv.FormatFloat(v+0, 'f', a.decimals, 64)
}

// niceAxis returns an axis from p0 to p1 whose range covers [lo, hi] with
// about n ticks at multiples of 1, 2 or 5 times a power of ten. A range of
// zero width is widened around its value.
func niceAxis(lo, hi float64, n, p0, p1 int) axis {
	if hi-lo <= 1e-12*math.Max(math.Abs(lo), math.Abs(hi)) {
		pad := math.Max(math.Abs(lo)*0.1, 1e-3)
		if lo == 0 {
			pad = 1
		}
		lo, hi = lo-pad, hi+pad
	}
	step := niceStep((hi - lo) / float64(n))
	a := axis{lo: math.Floor(lo/step+1e-9) * step, hi: math.Ceil(hi/step-1e-9) * step, p0: p0, p1: p1}
	for k := 0; ; k++ {
		v := a.lo + float64(k)*step
		if v > a.hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		a.ticks = append(a.ticks, v)
	}
	exp := math.Floor(math.Log10(step) + 1e-9)
	a.decimals = -int(exp)
	if math.Abs(step/math.Pow(10, exp)-2.5) < 1e-9 {
		a.decimals++ // 2.5×10^exp needs one digit more than 1, 2 or 5×10^exp
	}
	a.decimals = max(a.decimals, 0)
	return a
}

// niceStep rounds raw up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if raw <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// frame is the plot area of a figure with its two axes.
type frame struct {
	area image.Rectangle
	x, y axis
}

// legendEntry is one line of a legend.
type legendEntry struct {
	name string
	col  color.RGBA
}

// legendWidth returns the right margin that a legend with entries needs.
func legendWidth(entries []legendEntry) int {
	w := 0
	for _, e := range entries {
		w = max(w, textWidth(truncate(e.name, maxLegendChars)))
	}
	if w == 0 {
		return marginRight
	}
	return w + 60
}

// plotArea returns the plot rectangle of a figure whose legend has entries.
func plotArea(entries []legendEntry) image.Rectangle {
	return image.Rect(marginLeft, marginTop, figWidth-legendWidth(entries), figHeight-marginBottom)
}

// drawFrame draws the title, grid, axes, tick labels and axis labels of f.
// When categories is not empty, the x ticks are replaced by category names
// centred on xCenters.
func (c *canvas) drawFrame(f frame, title, xLabel, yLabel string, categories []string, xCenters []int) {
	c.textCentered((f.area.Min.X+f.area.Max.X)/2, (marginTop-glyphHeight)/2, title, colorText)
	c.textCentered((f.area.Min.X+f.area.Max.X)/2+1, (marginTop-glyphHeight)/2, title, colorText)
	for _, v := range f.y.ticks {
		py := f.y.pixel(v)
		c.fillRect(image.Rect(f.area.Min.X, py, f.area.Max.X, py+1), colorGrid)
		c.fillRect(image.Rect(f.area.Min.X-5, py, f.area.Min.X, py+1), colorAxis)
		s := f.y.label(v)
		c.text(f.area.Min.X-8-textWidth(s), py-glyphHeight/2, s, colorText)
	}
	if len(categories) == 0 {
		for _, v := range f.x.ticks {
			px := f.x.pixel(v)
			c.fillRect(image.Rect(px, f.area.Min.Y, px+1, f.area.Max.Y), colorGrid)
			c.fillRect(image.Rect(px, f.area.Max.Y, px+1, f.area.Max.Y+5), colorAxis)
			c.textCentered(px, f.area.Max.Y+8, f.x.label(v), colorText)
		}
	} else {
		chars := f.area.Dx()/len(categories)/glyphWidth - 1
		for i, name := range categories {
			c.fillRect(image.Rect(xCenters[i], f.area.Max.Y, xCenters[i]+1, f.area.Max.Y+5), colorAxis)
			for k, line := range wrap2(name, chars) {
				c.textCentered(xCenters[i], f.area.Max.Y+8+k*(glyphHeight+2), line, colorText)
			}
		}
	}
	c.fillRect(image.Rect(f.area.Min.X, f.area.Min.Y, f.area.Min.X+1, f.area.Max.Y+1), colorAxis)
	c.fillRect(image.Rect(f.area.Min.X, f.area.Max.Y, f.area.Max.X, f.area.Max.Y+1), colorAxis)
	if xLabel != "" {
		c.textCentered((f.area.Min.X+f.area.Max.X)/2, f.area.Max.Y+30, xLabel, colorText)
	}
	if yLabel != "" {
		c.textVertical(8, (f.area.Min.Y+f.area.Max.Y)/2, yLabel, colorText)
	}
}

// drawLegend lists entries with a color swatch each, right of the plot area.
func (c *canvas) drawLegend(area image.Rectangle, entries []legendEntry) {
	x, y := area.Max.X+15, area.Min.Y
	for _, e := range entries {
		if e.name == "" {
			continue
		}
		c.fillRect(image.Rect(x, y+2, x+18, y+11), e.col)
		c.text(x+24, y, truncate(e.name, maxLegendChars), colorText)
		y += glyphHeight + 6
	}
}

// abs returns |v|.
func abs(v int) int { return max(v, -v) }

// sign returns -1, 0 or 1 as v is negative, zero or positive.
func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
