// Package report turns sitrep's domain values into what people read: the
// daily operations review as Markdown, and the charts (Pareto, incident
// timelines, weekly incidents by cost class) drawn from them. It does no
// I/O; the bot posts its results and `sitrep report` writes them.
package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// Chart is a rendered chart and how to name it.
type Chart struct {
	// Name is its file name, "pareto.png".
	Name string
	// Title heads it; Alt says what it shows, for screen readers.
	Title, Alt string
	Data       []byte
}

// ParetoChart draws the Pareto of p.
func ParetoChart(p incident.Pareto, title string, f charts.Format) ([]byte, error) {
	d := charts.ParetoData{Title: title, Threshold: p.Threshold, Unit: p.Currency}
	for _, r := range p.Rows {
		d.Bars = append(d.Bars, charts.Bar{Label: r.Problem.Ref() + " " + slacktext.Plain(r.Problem.Title), Value: r.Cost, VitalFew: r.VitalFew})
	}
	return charts.Pareto(d, f)
}

// WeeklyChart draws incidents per week by cost class.
func WeeklyChart(weeks []incident.WeekClasses, f charts.Format) ([]byte, error) {
	d := charts.WeeklyData{Title: "Incidents per week by cost class", Classes: incident.ClassNames}
	for _, w := range weeks {
		d.Weeks = append(d.Weeks, charts.Week{Start: w.Start, Counts: w.Counts[:]})
	}
	return charts.Weekly(d, f)
}

// TimelineChart draws an incident's life: open to restored, each
// diagnosis timebox and the diagnosis in it as spans (a restarted or
// retimed box keeps its rows, so the chart shows what the record says);
// opened, acknowledged, restored and resolved as markers. now ends what is
// still running.
func TimelineChart(inc *incident.Incident, now time.Time, loc *time.Location, f charts.Format) ([]byte, error) {
	d := charts.TimelineData{Title: inc.Ref() + ": " + slacktext.Plain(inc.Title), Location: loc}
	end := inc.RestoredAt
	if end.IsZero() {
		end = now
	}
	d.Spans = append(d.Spans, charts.Span{Label: "customer impact", Start: inc.OpenedAt, End: end})
	d.Spans = append(d.Spans, timeboxSpans(inc.Timebox, now)...)
	for _, m := range []charts.Marker{{Label: "opened", At: inc.OpenedAt}, {Label: "acknowledged", At: inc.AcknowledgedAt},
		{Label: "restored", At: inc.RestoredAt}, {Label: "resolved", At: inc.ResolvedAt}} {
		if !m.At.IsZero() {
			d.Markers = append(d.Markers, m)
		}
	}
	return charts.Timeline(d, f)
}

// timeboxSpans are the rows of every diagnosis box, oldest first: the box
// as allowed (start to deadline) and the diagnosis in it (start to its
// end, or now while it runs). One box is "diagnosis timebox" and
// "diagnosis"; several are numbered, each earlier one saying how it ended
// ("timebox 1 of 2, restarted").
func timeboxSpans(tb incident.Timebox, now time.Time) []charts.Span {
	if tb.Generation == 0 {
		return nil
	}
	boxes := append(slices.Clone(tb.Earlier), incident.Box{StartedAt: tb.StartedAt, Deadline: tb.Deadline, EndedAt: tb.EndedAt})
	var out []charts.Span
	for i, b := range boxes {
		boxLabel, usedLabel := "diagnosis timebox", "diagnosis"
		if len(boxes) > 1 {
			boxLabel = fmt.Sprintf("timebox %d of %d", i+1, len(boxes))
			if how, _, _ := strings.Cut(b.Ended, ":"); how != "" {
				boxLabel += ", " + how
			}
			usedLabel = fmt.Sprintf("diagnosis %d", i+1)
		}
		if b.Deadline.After(b.StartedAt) {
			out = append(out, charts.Span{Label: boxLabel, Start: b.StartedAt, End: b.Deadline})
		}
		used := b.EndedAt
		if used.IsZero() {
			used = now
		}
		if used.After(b.StartedAt) {
			out = append(out, charts.Span{Label: usedLabel, Start: b.StartedAt, End: used})
		}
	}
	return out
}

// MaxTimelineCharts bounds the incident timelines a review draws.
const MaxTimelineCharts = 10

// ReviewPareto draws a review's Pareto over window as a named chart.
func ReviewPareto(p incident.Pareto, window time.Duration, f charts.Format) (Chart, error) {
	title := ParetoTitle(window)
	data, err := ParetoChart(p, title, f)
	return Chart{Name: "pareto." + f.String(), Title: title, Alt: p.Headline(), Data: data}, err
}

// ReviewWeekly draws a review's weekly incidents by cost class as a named
// chart.
func ReviewWeekly(weeks []incident.WeekClasses, f charts.Format) (Chart, error) {
	data, err := WeeklyChart(weeks, f)
	return Chart{Name: "weekly." + f.String(), Title: "Incidents per week by cost class",
		Alt: fmt.Sprintf("Incidents per week by cost class, the last %d weeks", len(weeks)), Data: data}, err
}

// Charts draws a review's charts in format f: the Pareto, the weekly
// incidents by cost class, and the timeline of each incident in the
// window (the first MaxTimelineCharts).
func Charts(rv incident.Review, f charts.Format) ([]Chart, error) {
	pareto, err := ReviewPareto(rv.Pareto, rv.ParetoWindow, f)
	if err != nil {
		return nil, err
	}
	weekly, err := ReviewWeekly(rv.Weeks, f)
	if err != nil {
		return nil, err
	}
	out := []Chart{pareto, weekly}
	for _, ri := range rv.Incidents[:min(len(rv.Incidents), MaxTimelineCharts)] {
		inc := ri.Incident
		data, err := TimelineChart(&inc, rv.To, rv.Location, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", inc.Ref(), err)
		}
		out = append(out, Chart{Name: "timeline-" + inc.Ref() + "." + f.String(), Title: "Timeline of " + inc.Ref(),
			Alt: "Timeline of " + inc.Ref() + ": " + inc.Title, Data: data})
	}
	return out, nil
}

// ParetoTitle names the Pareto of a window.
func ParetoTitle(window time.Duration) string {
	return "Customer cost by problem, " + WindowName(window)
}

// WindowName says a window in words: "last 30 days", "all time".
func WindowName(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d <= 0:
		return "all time"
	case d == day:
		return "last 24 hours"
	case d%day == 0:
		return fmt.Sprintf("last %d days", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("last %d hours", d/time.Hour)
	default:
		return "last " + human.Duration(d)
	}
}
