package charts

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// rect is a filled rectangle in data coordinates.
type rect struct {
	x0, x1, y0, y1 float64
	fill           color.Color
}

// rects is a plot.Plotter drawing filled rectangles in data coordinates: the
// bars of every chart here. Unlike plotter.BarChart, bar widths are in data
// units, so they scale with the number of bars.
type rects []rect

// Plot implements plot.Plotter.
func (rs rects) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for _, r := range rs {
		x0, x1, y0, y1 := tx(r.x0), tx(r.x1), ty(r.y0), ty(r.y1)
		if y1-y0 < 0.01 && y0-y1 < 0.01 {
			continue // nothing to see, and SVG viewers draw hairlines
		}
		c.FillPolygon(r.fill, c.ClipPolygonXY([]vg.Point{
			{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1},
		}))
	}
}
