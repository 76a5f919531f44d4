package charts

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is Liberation Sans, embedded by gonum.org/v1/plot/font/liberation and
// registered in font.DefaultCache when package plot initialises.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Colours shared by the charts.
var (
	black      = color.Gray{Y: 0x20}
	grey       = color.Gray{Y: 0x70}
	lightGrey  = color.Gray{Y: 0xdd}
	vitalColor = color.RGBA{R: 0xd6, G: 0x4f, B: 0x1f, A: 0xff} // orange-red
	otherColor = color.RGBA{R: 0x9d, G: 0xb0, B: 0xc4, A: 0xff} // muted blue-grey
	cumColor   = color.RGBA{R: 0x1f, G: 0x3a, B: 0x5f, A: 0xff} // dark navy
)

// palette colours series in order: severe to mild, then neutral grey, so
// classes listed most severe first ("C1" … "no cost") read naturally.
var palette = []color.Color{
	color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 0xff}, // red
	color.RGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff}, // orange
	color.RGBA{R: 0xf1, G: 0xc4, B: 0x0f, A: 0xff}, // yellow
	color.RGBA{R: 0x29, G: 0x80, B: 0xb9, A: 0xff}, // blue
	color.RGBA{R: 0xa0, G: 0xa8, B: 0xb0, A: 0xff}, // grey
	color.RGBA{R: 0x27, G: 0xae, B: 0x60, A: 0xff}, // green
	color.RGBA{R: 0x8e, G: 0x44, B: 0xad, A: 0xff}, // purple
	color.RGBA{R: 0x6d, G: 0x4c, B: 0x41, A: 0xff}, // brown
}

// paletteColor returns the colour of series i, cycling through palette.
func paletteColor(i int) color.Color { return palette[i%len(palette)] }

// textStyle returns a Liberation Sans style of the given size and colour,
// anchored at its left edge and vertical centre.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sans, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with no title (layout draws it) and every text in
// Liberation Sans, without touching gonum/plot's package-level defaults.
func newPlot() *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Label.TextStyle.Color = black
		a.Tick.Label.Font = font.From(sans, 9)
		a.Tick.Label.Color = black
		a.Color = grey
		a.Tick.Color = grey
		a.Label.Padding = 4
	}
	return p
}

// truncate puts s on one line, with what the font cannot draw replaced
// (drawable), and shortens it to at most n runes, ending it with "…" when
// cut. Every text from outside the package is drawn through it.
func truncate(s string, n int) string {
	s = drawable(strings.Join(strings.Fields(s), " "))
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// humanNumber formats v compactly for an axis: 950, 1.5k, 12k, 3.2M.
func humanNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

// trimFloat formats v with at most two decimals and no trailing zeros.
func trimFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// percent formats a share in [0, 1] as "80%" or "92.5%".
func percent(share float64) string {
	return strconv.FormatFloat(math.Round(share*1000)/10, 'f', -1, 64) + "%"
}

// humanTicks labels the default ticks with humanNumber.
type humanTicks struct{}

// Ticks implements plot.Ticker.
func (humanTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = humanNumber(ticks[i].Value)
		}
	}
	return ticks
}

// integerTicks labels a count axis with whole numbers 1, 2 or 5 × 10ⁿ apart,
// at most eight steps, so it never reads "2.5 incidents".
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	step := 1.0
	for i := 0; (max-min)/step > 8; i++ {
		step *= [...]float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50, …
	}
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}
