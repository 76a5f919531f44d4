package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/report"
)

// TrendReader is what the trends page reads; incident.TrendReader
// satisfies it.
type TrendReader interface {
	// Trends measures the weeks (1 to incident.MaxTrendWeeks) ending with
	// the one holding now.
	Trends(ctx context.Context, now time.Time, weeks int) (incident.Trends, error)
}

// trendRoutes adds the trends page.
func (db *Dashboard) trendRoutes(page func(pattern string, h http.HandlerFunc)) {
	if db.d.Trends == nil {
		return
	}
	page("GET /trends", db.trends)
}

// trendsPage is the data of the trends page.
type trendsPage struct {
	Weeks      int
	WeekChoice []int
	From, To   string
	// Rows are the weeks, newest first.
	Rows []trendRow
	// Times are the three tables of durations: acknowledge, restore and
	// resolve.
	Times []trendTable
	Chart template.HTML
	// Totals sum the window.
	Incidents, Timeboxes, Kept, ActionsDue, OnTime int
	KeptShare, OnTimeShare                         string
}

type trendRow struct {
	Week               string
	Incidents          int
	Classes            [5]int
	Timeboxes, Kept    int
	KeptShare          string
	KeptPct            int
	ActionsDue, OnTime int
	OnTimeShare        string
	OnTimePct          int
}

type trendTable struct {
	Title, Caption string
	Rows           []trendTimesRow
	// Chart draws every severity's median and p90, oldest week first.
	Chart template.HTML
	bars  []trendBar
}

type trendTimesRow struct {
	Week string
	// Cells are sev1..sev4, then every severity.
	Cells [5]trendCell
}

type trendCell struct {
	N           int
	Median, P90 string
}

func spreadCell(s incident.Spread) trendCell {
	if s.N == 0 {
		return trendCell{}
	}
	return trendCell{N: s.N, Median: human.Duration(s.Median), P90: human.Duration(s.P90)}
}

func shareText(n, of int) (string, int) {
	if of == 0 {
		return "—", 0
	}
	pct := int(float64(n)*100/float64(of) + 0.5)
	return fmt.Sprintf("%d%% (%d of %d)", pct, n, of), pct
}

// trends shows the weekly numbers that tell whether the team gets better.
func (db *Dashboard) trends(w http.ResponseWriter, r *http.Request) {
	weeks := incident.DefaultTrendWeeks
	if v := r.URL.Query().Get("weeks"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > incident.MaxTrendWeeks {
			db.badRequest(w, r, fmt.Sprintf("weeks %q is not a whole number from 1 to %d: write weeks=12 for the last twelve weeks (the default).", v, incident.MaxTrendWeeks))
			return
		}
		weeks = n
	}
	t, err := db.d.Trends.Trends(r.Context(), db.d.Now(), weeks)
	if err != nil {
		db.fail(w, r, "measuring trends", err)
		return
	}
	data := trendsPage{Weeks: weeks, WeekChoice: []int{4, 8, 12, 26, 52}}
	if len(t.Weeks) > 0 {
		data.From = t.From.In(db.d.Location).Format("Mon 2 Jan 2006")
		data.To = t.To.Add(-time.Second).In(db.d.Location).Format("Mon 2 Jan 2006")
	}
	titles := []struct{ title, caption string }{
		{"Time to acknowledge", "From opening to the TDO's first action"},
		{"Time to restore", "From opening to service restored"},
		{"Time to resolve", "From opening to resolved"},
	}
	for _, tt := range titles {
		data.Times = append(data.Times, trendTable{Title: tt.title, Caption: tt.caption + ", by severity, per week: median / 90th percentile (incidents measured)"})
	}
	var classes []incident.WeekClasses
	for i := len(t.Weeks) - 1; i >= 0; i-- {
		wk := t.Weeks[i]
		label := wk.Start.In(db.d.Location).Format("2 Jan 2006")
		row := trendRow{Week: label, Incidents: wk.Incidents, Classes: wk.Classes, Timeboxes: wk.Timeboxes, Kept: wk.Kept,
			ActionsDue: wk.ActionsDue, OnTime: wk.OnTime}
		row.KeptShare, row.KeptPct = shareText(wk.Kept, wk.Timeboxes)
		row.OnTimeShare, row.OnTimePct = shareText(wk.OnTime, wk.ActionsDue)
		data.Rows = append(data.Rows, row)
		for k, pick := range []func(incident.TrendTimes) incident.Spread{
			func(tt incident.TrendTimes) incident.Spread { return tt.Acknowledge },
			func(tt incident.TrendTimes) incident.Spread { return tt.Restore },
			func(tt incident.TrendTimes) incident.Spread { return tt.Resolve },
		} {
			tr := trendTimesRow{Week: label}
			for s := range wk.BySeverity {
				tr.Cells[s] = spreadCell(pick(wk.BySeverity[s]))
			}
			all := pick(wk.All)
			tr.Cells[4] = spreadCell(all)
			data.Times[k].Rows = append(data.Times[k].Rows, tr)
			data.Times[k].bars = append([]trendBar{{Week: label, N: all.N, Median: all.Median, P90: all.P90}}, data.Times[k].bars...)
		}
		data.Incidents += wk.Incidents
		data.Timeboxes += wk.Timeboxes
		data.Kept += wk.Kept
		data.ActionsDue += wk.ActionsDue
		data.OnTime += wk.OnTime
	}
	for _, wk := range t.Weeks {
		classes = append(classes, incident.WeekClasses{Start: wk.Start, Counts: wk.Classes})
	}
	for k := range data.Times {
		data.Times[k].Chart = trendBarsSVG(data.Times[k].Title+" per week, every severity: median and 90th percentile; the table below holds the numbers", data.Times[k].bars)
	}
	data.KeptShare, _ = shareText(data.Kept, data.Timeboxes)
	data.OnTimeShare, _ = shareText(data.OnTime, data.ActionsDue)
	if data.Incidents > 0 {
		svg, err := report.WeeklyChart(classes, charts.SVG)
		if err != nil {
			db.d.Log.Warn("drawing the weekly chart", "err", err)
		} else if html, ok := insightSVG(svg); ok {
			data.Chart = html
		}
	}
	db.render(w, r, http.StatusOK, "trends", "Trends", "trends", data)
}
