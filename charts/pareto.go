package charts

import (
	"fmt"
	"math"
	"slices"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bar is one problem in a Pareto chart.
type Bar struct {
	Label    string  // e.g. "PRB-3 Disk fills on db-2"; drawn rotated, on up to 3 lines of 24 runes
	Value    float64 // customer cost attributed to the problem
	VitalFew bool    // part of the smallest set reaching the threshold: drawn highlighted
}

// ParetoData is the input of Pareto. Bars are in the order to draw (callers sort descending).
type ParetoData struct {
	Title     string
	Bars      []Bar
	Threshold float64 // cumulative share for the reference line, e.g. 0.8; 0 means 0.8
	MaxBars   int     // bars drawn, the "N others" fold included; 0 means 20
	Unit      string  // value unit for the left axis label, e.g. "USD"
}

// Pareto renders bars (left axis: cost), the cumulative share line (right
// axis: 0–100%, drawn on the same plot by scaling), a dashed horizontal line
// at the threshold labelled e.g. "80%", and vital-few bars in a distinct
// colour with a legend entry "vital few".
//
// When there are more than MaxBars bars, the last ones are folded into one bar
// labelled "N others", so that MaxBars bars are drawn; the cumulative line
// still ends at 100%. Empty Bars render a chart saying "no costed incidents".
// A negative, NaN or infinite value, or a threshold outside 0–1, is an error.
func Pareto(d ParetoData, f Format) ([]byte, error) {
	out, err := pareto(d, f)
	if err != nil {
		return nil, fmt.Errorf("render pareto chart: %w", err)
	}
	return out, nil
}

func pareto(d ParetoData, f Format) ([]byte, error) {
	if err := checkPareto(d); err != nil {
		return nil, err
	}
	if len(d.Bars) == 0 {
		return message(f, d.Title, "no costed incidents")
	}
	labels, values, cumulative, vital := paretoSeries(d)
	return render(f, func(c draw.Canvas) error {
		return drawPareto(titled(c, d.Title), d, labels, values, cumulative, vital)
	})
}

// Styles of the cumulative and threshold lines.
var (
	cumStyle       = draw.LineStyle{Color: cumColor, Width: 2}
	thresholdStyle = draw.LineStyle{Color: black, Width: 1.2, Dashes: []vg.Length{6, 4}}
)

// rightAxisWidth is the room kept right of the plot for the percentage scale.
const rightAxisWidth = 0.6 * vg.Inch

func drawPareto(c draw.Canvas, d ParetoData, labels []string, values, cumulative []float64, vital []bool) error {
	n := float64(len(values))
	// 100% of the cumulative scale sits at the top of the cost axis.
	top := slices.Max(values) * 1.05
	if top == 0 {
		top = 1
	}
	th := threshold(d)

	// A few bars are centred at the width they would have among minSlots,
	// rather than stretched across the chart.
	const minSlots = 8
	pad := max(0, minSlots-n) / 2

	p := newPlot()
	p.X.Min, p.X.Max = -0.5-pad, n-0.5+pad
	p.Y.Min, p.Y.Max = 0, top
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Marker = categoryTicks(labels, 1)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	p.Y.Tick.Marker = humanTicks{}
	p.Y.Label.Text = "cost"
	if d.Unit != "" {
		p.Y.Label.Text = "cost (" + d.Unit + ")"
	}

	bars := make(rects, len(values))
	cum := make(plotter.XYs, len(values))
	for i, v := range values {
		x := float64(i)
		bars[i] = rect{x0: x - 0.38, x1: x + 0.38, y1: v, fill: otherColor}
		if vital[i] {
			bars[i].fill = vitalColor
		}
		cum[i] = plotter.XY{X: x, Y: cumulative[i] * top}
	}
	line, points, err := plotter.NewLinePoints(cum)
	if err != nil {
		return fmt.Errorf("cumulative line: %w", err)
	}
	line.LineStyle = cumStyle
	points.GlyphStyle = draw.GlyphStyle{Color: cumColor, Radius: 3, Shape: draw.CircleGlyph{}}
	thLine, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: th * top}, {X: p.X.Max, Y: th * top}})
	if err != nil {
		return fmt.Errorf("threshold line: %w", err)
	}
	thLine.LineStyle = thresholdStyle
	p.Add(bars, thLine, line, points)

	area := draw.Crop(c, 0, -rightAxisWidth, 0, -(legendHeight + 6))
	p.Draw(area)
	dc := p.DataCanvas(area)
	percentAxis(c, p, dc, th)
	legendRow(c, area.Max.Y+3+legendHeight/2, []legendEntry{
		{label: "vital few", fill: vitalColor},
		{label: "other problems", fill: otherColor},
		{label: "cumulative share (right axis)", line: cumStyle},
		{label: percent(th) + " threshold", line: thresholdStyle},
	})
	return nil
}

// percentAxis draws the cumulative-share scale, 0–100%, along the right edge
// of the data canvas dc, with the threshold labelled in bold.
func percentAxis(c draw.Canvas, p *plot.Plot, dc draw.Canvas, th float64) {
	_, ty := p.Transforms(&dc)
	x := dc.Max.X
	top := p.Y.Max
	axis := draw.LineStyle{Color: grey, Width: 0.5}
	c.StrokeLine2(axis, x, ty(0), x, ty(top))

	sty := textStyle(9, black)
	for pct := 0; pct <= 100; pct += 20 {
		share := float64(pct) / 100
		if math.Abs(share-th) < 0.05 {
			continue // the threshold label takes this spot
		}
		y := ty(share * top)
		c.StrokeLine2(axis, x, y, x+4, y)
		c.FillText(sty, vg.Point{X: x + 6, Y: y}, percent(share))
	}
	y := ty(th * top)
	c.StrokeLine2(thresholdStyle, x, y, x+4, y)
	sty.Font.Weight = xfont.WeightBold
	c.FillText(sty, vg.Point{X: x + 6, Y: y}, percent(th))
}

// categoryTicks labels the integer positions 0…len(labels)-1, every step-th
// with its label and the others with a bare tick.
func categoryTicks(labels []string, step int) plot.ConstantTicks {
	ticks := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		ticks[i].Value = float64(i)
		if i%step == 0 {
			ticks[i].Label = l
		}
	}
	return ticks
}
