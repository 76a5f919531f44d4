package charts

import (
	"cmp"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// markerLabels returns "opened 14:02" style labels for the markers.
func markerLabels(ms []Marker, loc *time.Location) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = truncate(m.Label, spanLabelRunes) + " " + m.At.In(loc).Format("15:04")
	}
	return out
}

// markerTextStyle is the style of marker labels.
func markerTextStyle() draw.TextStyle { return textStyle(9, black) }

// placedLabel is where a marker label is drawn: its left edge and its row in
// the strip above the plot, 0 being closest to the plot.
type placedLabel struct {
	left vg.Length
	row  int
}

// placeLabels centres each label on its x, kept inside c, and gives it the
// lowest row where it does not overlap a label already placed, taking labels
// left to right. It returns the placements and the number of rows used.
func placeLabels(c draw.Canvas, xs []vg.Length, labels []string) ([]placedLabel, int) {
	const gap = 8
	sty := markerTextStyle()
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })

	placed := make([]placedLabel, len(xs))
	var rowEnds []vg.Length // right edge of the last label in each row
	for _, i := range order {
		w := sty.Width(labels[i])
		left := min(max(xs[i]-w/2, c.Min.X), c.Max.X-w)
		row := 0
		for row < len(rowEnds) && rowEnds[row]+gap > left {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = left + w
		placed[i] = placedLabel{left: left, row: row}
	}
	return placed, len(rowEnds)
}

// drawMarkers draws a dashed line at each x across the data canvas dc, up to
// its label placed in the strip above dc. Lines go first, then labels on
// white, so a line running up to a higher row never crosses a lower label.
func drawMarkers(c, dc draw.Canvas, xs []vg.Length, placed []placedLabel, labels []string) {
	rowY := func(row int) vg.Length { return dc.Max.Y + 4 + vg.Length(row)*markerLineH + markerLineH/2 }
	for i, l := range placed {
		c.StrokeLine2(markerStyle, xs[i], dc.Min.Y, xs[i], rowY(l.row))
	}
	sty := markerTextStyle()
	for i, l := range placed {
		y, w := rowY(l.row), sty.Width(labels[i])
		c.FillPolygon(color.White, []vg.Point{
			{X: l.left - 2, Y: y - markerLineH/2}, {X: l.left + w + 2, Y: y - markerLineH/2},
			{X: l.left + w + 2, Y: y + markerLineH/2}, {X: l.left - 2, Y: y + markerLineH/2},
		})
		c.FillText(sty, vg.Point{X: l.left, Y: y}, labels[i])
	}
}
