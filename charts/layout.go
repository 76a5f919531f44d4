package charts

import (
	"image/color"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// margin is the blank border around every chart.
const margin = 10 * vg.Millimeter / 2

// titled fills c white, draws title centred at the top and returns the
// canvas left for the chart below it, inside the margin.
func titled(c draw.Canvas, title string) draw.Canvas {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, margin, -margin, margin, -margin)
	if title == "" {
		return c
	}
	sty := textStyle(15, black)
	sty.Font.Weight = xfont.WeightBold
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	title = truncate(title, 110)
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y}, title)
	return draw.Crop(c, 0, 0, 0, -(sty.Height(title) + 4))
}

// legendEntry is one item of a legend row: a filled swatch when fill is set,
// otherwise a short line in the given style.
type legendEntry struct {
	label string
	fill  color.Color
	line  draw.LineStyle
}

// legendHeight is the height to reserve for a legendRow.
const legendHeight = 18

// legendRow draws entries side by side, centred horizontally on c, with
// their vertical centre at y.
func legendRow(c draw.Canvas, y vg.Length, entries []legendEntry) {
	const thumb, gap, space = 16, 5, 18
	sty := textStyle(10, black)
	var total vg.Length
	for _, e := range entries {
		total += thumb + gap + sty.Width(e.label) + space
	}
	x := c.Center().X - (total-space)/2
	for _, e := range entries {
		if e.fill != nil {
			c.FillPolygon(e.fill, []vg.Point{
				{X: x + 2, Y: y - 6}, {X: x + thumb - 2, Y: y - 6},
				{X: x + thumb - 2, Y: y + 6}, {X: x + 2, Y: y + 6},
			})
		} else {
			c.StrokeLine2(e.line, x, y, x+thumb, y)
		}
		x += thumb + gap
		c.FillText(sty, vg.Point{X: x, Y: y}, e.label)
		x += sty.Width(e.label) + space
	}
}

// message renders a chart holding only its title and msg, for empty data.
func message(f Format, title, msg string) ([]byte, error) {
	return render(f, func(c draw.Canvas) error {
		c = titled(c, title)
		sty := textStyle(18, grey)
		sty.XAlign = draw.XCenter
		c.FillText(sty, c.Center(), msg)
		return nil
	})
}
