package charts

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Span is a stretch of time on the incident timeline chart (e.g. "diagnosis timebox", "open → restored").
type Span struct {
	Label      string
	Start, End time.Time // a zero End means "still running"
}

// Marker is an instant on the incident timeline chart (e.g. "opened", "acknowledged", "restored", "resolved").
type Marker struct {
	Label string
	At    time.Time
}

// TimelineData is the input of Timeline.
type TimelineData struct {
	Title    string
	Spans    []Span         // one row each, top to bottom in order
	Markers  []Marker       // vertical lines with labels
	Location *time.Location // for axis tick labels (nil = UTC); ticks formatted "15:04"
}

// Timeline renders spans as horizontal bars on a time axis, one row each,
// with their duration beside them, and markers as vertical lines labelled
// with their name and time.
//
// A span with End before Start is an error; a zero End means "still running"
// and is drawn up to the latest time in the data. A zero Start or marker time
// is an error, and so is data with no spans and no markers.
func Timeline(d TimelineData, f Format) ([]byte, error) {
	out, err := timeline(d, f)
	if err != nil {
		return nil, fmt.Errorf("render timeline chart: %w", err)
	}
	return out, nil
}

func timeline(d TimelineData, f Format) ([]byte, error) {
	lo, hi, err := timeBounds(d)
	if err != nil {
		return nil, err
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	return render(f, func(c draw.Canvas) error {
		drawTimeline(titled(c, d.Title), d, lo, hi)
		return nil
	})
}

// timeBounds checks d and returns its earliest and latest times.
func timeBounds(d TimelineData) (lo, hi time.Time, err error) {
	if len(d.Spans) == 0 && len(d.Markers) == 0 {
		return lo, hi, errors.New("no spans and no markers")
	}
	var all []time.Time
	for i, s := range d.Spans {
		switch {
		case s.Start.IsZero():
			return lo, hi, fmt.Errorf("span %d (%q) has no start", i, s.Label)
		case !s.End.IsZero() && s.End.Before(s.Start):
			return lo, hi, fmt.Errorf("span %d (%q) ends at %s, before it starts at %s",
				i, s.Label, s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
		}
		all = append(all, s.Start)
		if !s.End.IsZero() {
			all = append(all, s.End)
		}
	}
	for i, m := range d.Markers {
		if m.At.IsZero() {
			return lo, hi, fmt.Errorf("marker %d (%q) has no time", i, m.Label)
		}
		all = append(all, m.At)
	}
	return slices.MinFunc(all, time.Time.Compare), slices.MaxFunc(all, time.Time.Compare), nil
}

// Timeline look.
var (
	spanColor    = color.RGBA{R: 0x29, G: 0x80, B: 0xb9, A: 0xff}
	runningColor = color.RGBA{R: 0x8f, G: 0xc1, B: 0xe3, A: 0xff}
	markerStyle  = draw.LineStyle{Color: color.Gray{Y: 0x44}, Width: 1, Dashes: []vg.Length{4, 3}}
)

const (
	spanLabelRunes = 40
	markerLineH    = 13 // height of one row of marker labels
)

func drawTimeline(c draw.Canvas, d TimelineData, lo, hi time.Time) {
	// The x axis is in seconds since lo, at least 20 minutes wide, padded.
	width := max(seconds(lo, hi), 20*60)
	pad := width * 0.04
	mid := seconds(lo, hi) / 2
	// Rows are numbered bottom up and take at least a third of the height
	// each, so one span is not drawn as a slab.
	n := len(d.Spans)
	slots := max(n, 3)

	p := newPlot()
	p.X.Min, p.X.Max = mid-width/2-pad, mid+width/2+pad
	p.Y.Min, p.Y.Max = -0.6, float64(slots)-0.4
	p.Y.Padding = 0
	p.X.Tick.Marker = timeTicks{origin: lo, loc: d.Location}
	p.X.Label.Text = timeRangeLabel(lo, hi, d.Location)

	rows := make([]string, slots)
	bars := make(rects, n)
	for i, s := range d.Spans {
		row := slots - 1 - i
		y := float64(row)
		rows[row] = truncate(s.Label, spanLabelRunes)
		bars[i] = rect{x0: seconds(lo, s.Start), y0: y - 0.3, y1: y + 0.3, fill: spanColor}
		if s.End.IsZero() {
			rows[row] += " (running)"
			bars[i].x1, bars[i].fill = seconds(lo, hi), runningColor
		} else {
			bars[i].x1 = seconds(lo, s.End)
		}
	}
	p.Y.Tick.Marker = categoryTicks(rows, 1)
	p.Y.Tick.Length = 0
	p.Add(bars)

	// Marker labels go in a strip above the plot, in as many rows as it
	// takes for them not to overlap. The strip height does not change the
	// horizontal layout, so it can be measured on the uncropped canvas.
	labels := markerLabels(d.Markers, d.Location)
	dc := p.DataCanvas(c)
	tx, _ := p.Transforms(&dc)
	xs := make([]vg.Length, len(d.Markers))
	for i, m := range d.Markers {
		xs[i] = tx(seconds(lo, m.At))
	}
	placed, rowsUsed := placeLabels(c, xs, labels)

	area := draw.Crop(c, 0, 0, 0, -vg.Length(rowsUsed)*markerLineH-4)
	p.Draw(area)
	dc = p.DataCanvas(area)
	tx, ty := p.Transforms(&dc)
	durations(c, tx, ty, bars, d.Spans, xs)
	drawMarkers(c, dc, xs, placed, labels)
}

// timeRangeLabel describes the time axis: "Tue 6 Jan 2026 14:02 – 18:30 (UTC)".
func timeRangeLabel(lo, hi time.Time, loc *time.Location) string {
	lo, hi = lo.In(loc), hi.In(loc)
	end := hi.Format("15:04")
	if lo.YearDay() != hi.YearDay() || lo.Year() != hi.Year() {
		end = hi.Format("Mon 2 Jan 2006 15:04")
	}
	return fmt.Sprintf("%s – %s (%s)", lo.Format("Mon 2 Jan 2006 15:04"), end, loc)
}

// durations writes each span's length just right of its bar, or inside the
// bar's right end when there is no room. A text never sits across a marker
// line (at markers): it moves past the line instead.
func durations(c draw.Canvas, tx, ty func(float64) vg.Length, bars rects, spans []Span, markers []vg.Length) {
	const clear = 3 // the least room between a text and a marker line
	for i, b := range bars {
		txt := shortDuration(time.Duration((b.x1 - b.x0) * float64(time.Second)))
		if spans[i].End.IsZero() {
			txt += " so far"
		}
		sty := textStyle(9, grey)
		w := sty.Width(txt)
		x := clearOf(tx(b.x1)+4, w, clear, markers, 1)
		if x+w > c.Max.X {
			sty.Color, sty.XAlign = color.White, draw.XRight
			x = clearOf(tx(b.x1)-4-w, w, clear, markers, -1) + w
		}
		c.FillText(sty, vg.Point{X: x, Y: ty((b.y0 + b.y1) / 2)}, txt)
	}
}

// clearOf returns where a text w wide whose left edge would be at left
// goes so that no marker line is within pad of it: moved past each line in
// the way, rightwards if dir > 0, else leftwards.
func clearOf(left, w, pad vg.Length, markers []vg.Length, dir int) vg.Length {
	for moved := true; moved; {
		moved = false
		for _, m := range markers {
			if m >= left-pad && m <= left+w+pad {
				if dir > 0 {
					left = m + pad + 1
				} else {
					left = m - pad - 1 - w
				}
				moved = true
			}
		}
	}
	return left
}
