package charts

import (
	"fmt"
	"time"

	"gonum.org/v1/plot"
)

// timeTicks places ticks on round wall-clock times of loc for an axis whose
// values are seconds since origin. Labels read "15:04", or "Jan 02" at
// midnight and when the ticks are a day or more apart.
type timeTicks struct {
	origin time.Time
	loc    *time.Location
}

// tickSteps are the tick intervals tried, finest first.
var tickSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// maxTimeTicks keeps "15:04" labels from touching on a 1200 px chart.
const maxTimeTicks = 10

// Ticks implements plot.Ticker.
func (t timeTicks) Ticks(min, max float64) []plot.Tick {
	from := t.at(min)
	to := t.at(max)
	span := to.Sub(from)
	step := 24 * time.Hour * (span/(maxTimeTicks*24*time.Hour) + 1)
	for _, s := range tickSteps {
		if span/s <= maxTimeTicks {
			step = s
			break
		}
	}
	format := "15:04"
	if step >= 24*time.Hour {
		format = "Jan 02"
	}

	midnight := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, t.loc)
	tick := midnight.Add(from.Sub(midnight) / step * step)
	if tick.Before(from) {
		tick = tick.Add(step)
	}
	var ticks []plot.Tick
	for ; !tick.After(to); tick = tick.Add(step) {
		label := tick.Format(format)
		if tick.Hour() == 0 && tick.Minute() == 0 {
			label = tick.Format("Jan 02") // a new day, not "00:00"
		}
		ticks = append(ticks, plot.Tick{Value: seconds(t.origin, tick), Label: label})
	}
	return ticks
}

// at returns the time s seconds after origin, in loc.
func (t timeTicks) at(s float64) time.Time {
	return t.origin.Add(time.Duration(s * float64(time.Second))).In(t.loc)
}

// seconds returns the time from origin to t in seconds: the time axis unit.
func seconds(origin, t time.Time) float64 { return t.Sub(origin).Seconds() }

// shortDuration formats d as "45s", "42m", "1h05m" or "2d03h".
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
