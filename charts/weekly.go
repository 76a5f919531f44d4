package charts

import (
	"fmt"
	"time"

	"gonum.org/v1/plot/vg/draw"
)

// Week is one week of incident counts by cost class.
type Week struct {
	Start  time.Time
	Counts []int // aligned with WeeklyData.Classes
}

// WeeklyData is the input of Weekly.
type WeeklyData struct {
	Title   string
	Classes []string // e.g. "C1","C2","C3","C4","no cost"
	Weeks   []Week   // in time order
}

// Weekly renders stacked bars per week (x labels "Jan 02" of week start,
// thinned out when there are many weeks), one colour per class with the first
// class at the bottom, and a legend.
//
// A week whose Counts length differs from Classes, or with a negative count,
// is an error. No weeks render a chart saying "no incidents".
func Weekly(d WeeklyData, f Format) ([]byte, error) {
	out, err := weekly(d, f)
	if err != nil {
		return nil, fmt.Errorf("render weekly chart: %w", err)
	}
	return out, nil
}

func weekly(d WeeklyData, f Format) ([]byte, error) {
	if err := checkWeekly(d); err != nil {
		return nil, err
	}
	if len(d.Weeks) == 0 {
		return message(f, d.Title, "no incidents")
	}
	return render(f, func(c draw.Canvas) error {
		drawWeekly(titled(c, d.Title), d)
		return nil
	})
}

func checkWeekly(d WeeklyData) error {
	for i, w := range d.Weeks {
		if len(w.Counts) != len(d.Classes) {
			return fmt.Errorf("week %d (%s): %d counts for %d classes",
				i, w.Start.Format("2006-01-02"), len(w.Counts), len(d.Classes))
		}
		for j, n := range w.Counts {
			if n < 0 {
				return fmt.Errorf("week %d (%s): count %d for class %q is negative",
					i, w.Start.Format("2006-01-02"), n, d.Classes[j])
			}
		}
	}
	return nil
}

// maxWeekLabels keeps "Jan 02" labels from touching.
const maxWeekLabels = 18

func drawWeekly(c draw.Canvas, d WeeklyData) {
	n := len(d.Weeks)
	labels := make([]string, n)
	var bars rects
	highest := 0
	for i, w := range d.Weeks {
		labels[i] = w.Start.Format("Jan 02")
		x, total := float64(i), 0
		for j, k := range w.Counts {
			if k > 0 {
				bars = append(bars, rect{
					x0: x - 0.38, x1: x + 0.38,
					y0: float64(total), y1: float64(total + k),
					fill: paletteColor(j),
				})
			}
			total += k
		}
		highest = max(highest, total)
	}

	p := newPlot()
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = 0, max(float64(highest)*1.08, 1)
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Marker = categoryTicks(labels, (n+maxWeekLabels-1)/maxWeekLabels)
	p.X.Label.Text = "week starting"
	p.Y.Tick.Marker = integerTicks{}
	p.Y.Label.Text = "incidents"
	p.Add(bars)

	area := draw.Crop(c, 0, 0, 0, -(legendHeight + 6))
	p.Draw(area)
	entries := make([]legendEntry, len(d.Classes))
	for j, class := range d.Classes {
		entries[j] = legendEntry{label: class, fill: paletteColor(j)}
	}
	legendRow(c, area.Max.Y+3+legendHeight/2, entries)
}
