package dashboard

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/report"
)

// ProblemReader is what the problems pages read; *incident.Problems
// satisfies it.
type ProblemReader interface {
	// Pareto ranks the problems whose incidents opened at or after since
	// (zero: all time) by those incidents' customer cost.
	Pareto(ctx context.Context, since time.Time) (incident.Pareto, error)
	// Detail returns a problem with its incidents and cost, or
	// incident.ErrNotFound.
	Detail(ctx context.Context, id int64) (*incident.ProblemDetail, error)
}

// DefaultParetoWindow is the Pareto's window when the query names none.
const DefaultParetoWindow = 30 * 24 * time.Hour

// maxParetoWindow bounds a typed window; "all" is all time.
const maxParetoWindow = 10 * 365 * 24 * time.Hour

// problemRoutes adds the problems pages.
func (db *Dashboard) problemRoutes(page func(pattern string, h http.HandlerFunc)) {
	if db.d.Problems == nil {
		return
	}
	page("GET /problems", db.problems)
	page("GET /problems/{ref}", db.problem)
}

// paretoPage is the data of the problems page.
type paretoPage struct {
	Window     string
	WindowName string
	Windows    []windowChoice
	Headline   string
	Chart      template.HTML
	ChartAlt   string
	Rows       []paretoRow
	Total      string
	Notes      []string
}

// windowChoice is an option of the window filter.
type windowChoice struct{ Value, Label string }

type paretoRow struct {
	Rank                                   int
	Ref, Title, Status, Cost, Share, Cumul string
	Incidents, Uncosted                    int
	VitalFew                               bool
}

// paretoWindow reads the window query value: "" (the default), "all", or a
// duration as people type it.
func paretoWindow(v string) (time.Duration, string, error) {
	switch v {
	case "":
		return DefaultParetoWindow, "30d", nil
	case "all":
		return 0, "all", nil
	}
	d, err := human.ParseDuration(v)
	switch {
	case err != nil:
		return 0, "", err
	case d <= 0:
		return 0, "", errors.New("a window of 0 holds nothing")
	case d > maxParetoWindow:
		return 0, "", errors.New("that is longer than ten years; write all for all time")
	}
	return d, v, nil
}

// problems shows the Pareto of a window.
func (db *Dashboard) problems(w http.ResponseWriter, r *http.Request) {
	window, label, err := paretoWindow(r.URL.Query().Get("window"))
	if err != nil {
		db.badRequest(w, r, `window: `+err.Error()+`. Write it as 30d, 90d, 2w or 24h, or all for all time (the default is 30d).`)
		return
	}
	var since time.Time
	if window > 0 {
		since = db.d.Now().Add(-window)
	}
	p, err := db.d.Problems.Pareto(r.Context(), since)
	if err != nil {
		db.fail(w, r, "ranking problems", err)
		return
	}
	choices := []windowChoice{{"7d", "last 7 days"}, {"30d", "last 30 days"}, {"90d", "last 90 days"}, {"all", "all time"}}
	if !slices.ContainsFunc(choices, func(c windowChoice) bool { return c.Value == label }) {
		choices = append(choices, windowChoice{label, report.WindowName(window)})
	}
	data := paretoPage{Window: label, WindowName: report.WindowName(window), Windows: choices,
		Headline: p.Headline(), Notes: report.ParetoNotes(p), Total: incident.FormatMoney(p.Currency, p.Total)}
	for i, row := range p.Rows {
		data.Rows = append(data.Rows, paretoRow{Rank: i + 1, Ref: row.Problem.Ref(), Title: db.insightPlain(r.Context(), row.Problem.Title), Status: string(row.Problem.Status),
			Cost: incident.FormatMoney(p.Currency, row.Cost), Share: incident.Percent(row.Share), Cumul: incident.Percent(row.Cumulative),
			Incidents: row.Incidents, Uncosted: row.Uncosted, VitalFew: row.VitalFew})
	}
	if p.Total > 0 {
		svg, err := report.ParetoChart(p, report.ParetoTitle(window), charts.SVG)
		if err != nil {
			db.d.Log.Warn("drawing the Pareto chart", "err", err)
		} else if html, ok := insightSVG(svg); ok {
			data.Chart, data.ChartAlt = html, p.Headline()
		}
	}
	db.render(w, r, http.StatusOK, "problems", "Problems by customer cost", "problems", data)
}

// problemPage is the data of one problem's page.
type problemPage struct {
	Problem incident.Problem
	// CreatedBy and ClosedBy are names.
	CreatedBy, ClosedBy string
	Cost                string
	Uncosted            int
	Incidents           []problemIncident
	// Hidden counts the private incidents not shown by name.
	Hidden int
}

type problemIncident struct {
	Ref, Title, Severity, SevClass, Status, Cost string
	OpenedAt                                     time.Time
	Private, Redacted                            bool
}

// problem shows one problem: status, fix, cost and incidents.
func (db *Dashboard) problem(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	id, err := incident.ParseProblemRef(ref)
	if err != nil {
		db.badRequest(w, r, "problem: "+err.Error()+", as in /problems/PRB-3.")
		return
	}
	d, err := db.d.Problems.Detail(r.Context(), id)
	if errors.Is(err, incident.ErrNotFound) {
		db.notFound(w, r, "There is no problem PRB-"+strconv.FormatInt(id, 10)+".")
		return
	}
	if err != nil {
		db.fail(w, r, "reading a problem", err)
		return
	}
	prb := d.Problem
	prb.Title, prb.Fix = db.insightPlain(r.Context(), prb.Title), db.insightPlain(r.Context(), prb.Fix)
	data := problemPage{Problem: prb, ClosedBy: db.insightName(r.Context(), prb.ClosedBy), CreatedBy: db.insightName(r.Context(), prb.CreatedBy), Cost: incident.FormatMoney(db.d.Currency, d.Cost), Uncosted: d.Uncosted}
	for _, inc := range d.Incidents {
		shown := inc
		pi := problemIncident{Private: inc.Private}
		if !db.insightSees(r, &inc) {
			shown = inc.Redacted()
			pi.Redacted = true
			data.Hidden++
		}
		pi.Ref, pi.Title, pi.Severity, pi.SevClass = shown.Ref(), db.insightPlain(r.Context(), shown.Title), shown.Severity.Label(), shown.Severity.String()
		pi.Status, pi.OpenedAt = shown.Status.Label(), shown.OpenedAt
		if shown.Cost != nil {
			pi.Cost = shown.Cost.Label()
		}
		data.Incidents = append(data.Incidents, pi)
	}
	db.render(w, r, http.StatusOK, "problem", prb.Ref()+": "+prb.Title, "problems", data)
}
