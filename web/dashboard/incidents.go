package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
	"github.com/sitrep/sitrep/web/signin"
)

// IncidentReader is what the incidents pages read; storage
// satisfies it.
type IncidentReader interface {
	// DashboardIncidents returns a page of the incidents list.
	DashboardIncidents(ctx context.Context, f dashquery.IncidentFilter) (dashquery.IncidentPage, error)
	// EachDashboardIncident calls fn with every incident f selects.
	EachDashboardIncident(ctx context.Context, f dashquery.IncidentFilter, fn func(*incident.Incident) error) error
	// IncidentByNumber reads INC-<number>; incident.ErrNotFound if none.
	IncidentByNumber(ctx context.Context, number int64) (*incident.Incident, error)
	// IncidentVersion reads what changes when the incident does.
	IncidentVersion(ctx context.Context, id int64) (dashquery.IncidentVersion, error)
	// Timeline reads the incident's timeline, oldest first.
	Timeline(ctx context.Context, incidentID int64) ([]incident.TimelineEntry, error)
	// Room reads the incident's Slack channel; incident.ErrNotFound if none.
	Room(ctx context.Context, incidentID int64) (*incident.Room, error)
	// ShownChanges reads the changes "what changed?" listed in the room.
	ShownChanges(ctx context.Context, incidentID int64) ([]incident.ShownChange, error)
	// LinkedProblems reads problems by ID.
	LinkedProblems(ctx context.Context, ids []int64) (map[int64]incident.Problem, error)
	// Postmortem reads the incident's postmortem; incident.ErrNotFound if
	// none was started.
	Postmortem(ctx context.Context, incidentID int64) (*incident.Postmortem, error)
}

// incidentRoutes adds the incidents pages.
func (db *Dashboard) incidentRoutes(page func(pattern string, h http.HandlerFunc)) {
	if db.d.Incidents == nil {
		return
	}
	page("GET /incidents", db.incidentList)
	page("GET /incidents.csv", db.incidentCSV)
	page("GET /incidents/{ref}", db.incidentPage)
	page("GET /incidents/{ref}/events", db.incidentEvents)
}

// viewerMaySee reports whether the signed-in viewer may see inc's details: a
// public incident's always, a private one's when Deps.MaySee says so (its
// TDO alone when MaySee is nil).
func (db *Dashboard) viewerMaySee(ctx context.Context, inc *incident.Incident) bool {
	if !inc.Private {
		return true
	}
	u, ok := signin.UserFrom(ctx)
	if !ok || u.ID == "" {
		return false
	}
	if db.d.MaySee == nil {
		return u.ID == inc.TDOID
	}
	return db.d.MaySee(ctx, u.ID, inc)
}

// incListRow is one row of the incidents list.
type incListRow struct {
	Ref    string
	Hidden bool // a private incident the viewer may not see
	Inc    incident.Incident
	TTR    time.Duration
	// Restored is false while service is not restored.
	Restored bool
}

// incidentListPage is the incidents list's data.
type incidentListPage struct {
	Form   incidentForm
	Rows   []incListRow
	Total  int
	Counts []incStatusCount
	Page   int
	Pages  int
	Pager  pager
	// Severities and Classes are the filter form's choices.
	Severities, Classes []string
}

type incStatusCount struct {
	Status incident.Status
	N      int
}

func (db *Dashboard) incidentList(w http.ResponseWriter, r *http.Request) {
	q, err := readIncidentQuery(r.URL.Query(), db.d.Location)
	if err != nil {
		db.badRequest(w, r, err.Error())
		return
	}
	res, err := db.d.Incidents.DashboardIncidents(r.Context(), q.filter)
	if err != nil {
		db.fail(w, r, "listing incidents", err)
		return
	}
	p := incidentListPage{Form: q.Form, Total: res.Total, Page: q.page, Pages: max(1, (res.Total+listPageSize-1)/listPageSize),
		Severities: []string{"sev1", "sev2", "sev3", "sev4"}, Classes: []string{"C1", "C2", "C3", "C4"}}
	for _, st := range incident.Statuses() {
		if n := res.ByStatus[st]; n > 0 {
			p.Counts = append(p.Counts, incStatusCount{st, n})
		}
	}
	for i := range res.Incidents {
		p.Rows = append(p.Rows, db.listRow(r.Context(), &res.Incidents[i]))
	}
	p.Pager = listPager("/incidents", q.Form.values(), q.page, p.Pages, q.page < p.Pages, "← Previous", "Next →")
	db.render(w, r, http.StatusOK, "incidents", "Incidents", "incidents", p)
}

// listRow shows inc as the viewer may see it.
func (db *Dashboard) listRow(ctx context.Context, inc *incident.Incident) incListRow {
	row := incListRow{Ref: inc.Ref(), Inc: *inc}
	if !db.viewerMaySee(ctx, inc) {
		row.Hidden, row.Inc = true, inc.Redacted()
	}
	row.TTR, row.Restored = inc.TimeToRestore()
	return row
}

// csvHeader names the columns of /incidents.csv.
var csvHeader = []string{"incident", "title", "severity", "status", "systems", "tdo", "reporter", "opened_at",
	"acknowledged_at", "restored_at", "resolved_at", "closed_at", "time_to_restore_minutes", "cost", "cost_class", "currency", "problems", "private"}

// incidentCSV writes every incident the filters select (all pages) as
// CSV (RFC 4180, a header row). A private incident the viewer may not see
// keeps its number, times and figures; its title says it is private and
// its systems are left out.
func (db *Dashboard) incidentCSV(w http.ResponseWriter, r *http.Request) {
	q, err := readIncidentQuery(r.URL.Query(), db.d.Location)
	if err != nil {
		db.badRequest(w, r, err.Error())
		return
	}
	cw := newCSVDownload(w, "incidents.csv", csvHeader)
	err = db.d.Incidents.EachDashboardIncident(r.Context(), q.filter, func(inc *incident.Incident) error {
		cw.write(db.incidentRecord(r.Context(), inc))
		return cw.err()
	})
	cw.flush()
	if err == nil {
		err = cw.err()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		db.d.Log.Error("writing incidents as CSV", "err", err)
	}
}

// incidentRecord is inc's CSV row.
func (db *Dashboard) incidentRecord(ctx context.Context, inc *incident.Incident) []string {
	shown := *inc
	if !db.viewerMaySee(ctx, inc) {
		shown = inc.Redacted()
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	ttr := ""
	if d, ok := inc.TimeToRestore(); ok {
		ttr = strconv.FormatFloat(d.Minutes(), 'f', 1, 64)
	}
	cost, class, currency := "", "", ""
	if inc.Cost != nil {
		cost, class, currency = strconv.FormatFloat(inc.Cost.Amount, 'f', 2, 64), inc.Cost.Class.String(), inc.Cost.Currency
	}
	var problems []string
	for _, id := range inc.Problems {
		problems = append(problems, "PRB-"+strconv.FormatInt(id, 10))
	}
	return []string{inc.Ref(), shown.Title, inc.Severity.String(), string(inc.Status), strings.Join(shown.Systems, " "),
		db.whoIs(inc.TDOID), db.reporter(inc), stamp(inc.OpenedAt), stamp(inc.AcknowledgedAt), stamp(inc.RestoredAt),
		stamp(inc.ResolvedAt), stamp(inc.ClosedAt), ttr, cost, class, currency, strings.Join(problems, " "), strconv.FormatBool(inc.Private)}
}

// reporter is who reported inc: a person's display name, or the
// monitoring product that opened it.
func (db *Dashboard) reporter(inc *incident.Incident) string {
	who, person := inc.Reporter()
	if person {
		return db.whoIs(who)
	}
	return who
}

// whoIs is a user's display name, or their ID when it is not known.
func (db *Dashboard) whoIs(id string) string {
	if db.d.Names == nil || id == "" {
		return id
	}
	if n := db.d.Names.Name(context.Background(), id); n != "" {
		return n
	}
	return id
}

// csvOut writes RFC 4180 CSV (CRLF line ends) with every cell that a
// spreadsheet would read as a formula neutralised.
type csvOut struct{ w *csv.Writer }

// newCSVDownload starts the answer as a CSV file named filename, not to
// be cached, and writes its header row.
func newCSVDownload(w http.ResponseWriter, filename string, header []string) *csvOut {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	out := &csvOut{cw}
	out.write(header)
	return out
}

func (c *csvOut) write(record []string) {
	out := make([]string, len(record))
	for i, cell := range record {
		out[i] = csvSafeCell(cell)
	}
	_ = c.w.Write(out)
}

func (c *csvOut) flush()     { c.w.Flush() }
func (c *csvOut) err() error { return c.w.Error() }

// csvSafeCell neutralises formula injection: a cell a spreadsheet would
// evaluate (starting with = + - @, or a tab or carriage return before
// one) gets a leading apostrophe, so it is shown as the text it is.
func csvSafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// readIncidentRef reads INC-7, inc-7 or 7.
func readIncidentRef(ref string) (int64, bool) {
	t := strings.ToUpper(strings.TrimSpace(ref))
	t = strings.TrimPrefix(t, "INC-")
	n, err := strconv.ParseInt(t, 10, 64)
	return n, err == nil && n > 0
}

// incidentForPage reads the incident the path names and checks the viewer
// may see it. It answers the request itself (404, 500) when not ok. A
// private incident the viewer may not see is not found: the page does not
// confirm that it exists.
func (db *Dashboard) incidentForPage(w http.ResponseWriter, r *http.Request) (*incident.Incident, bool) {
	ref := r.PathValue("ref")
	number, ok := readIncidentRef(ref)
	if !ok {
		db.notFound(w, r, fmt.Sprintf("%q is not an incident: write its reference, e.g. /incidents/INC-7.", ref))
		return nil, false
	}
	missing := fmt.Sprintf("There is no INC-%d, or it is private and you are not in its channel.", number)
	inc, err := db.d.Incidents.IncidentByNumber(r.Context(), number)
	if errors.Is(err, incident.ErrNotFound) {
		db.notFound(w, r, missing)
		return nil, false
	}
	if err != nil {
		db.fail(w, r, "reading an incident", err)
		return nil, false
	}
	if !db.viewerMaySee(r.Context(), inc) {
		db.notFound(w, r, missing)
		return nil, false
	}
	return inc, true
}

// slackLinks are the links into an incident's channel.
type slackLinks struct {
	// App opens the Slack app: a slack:// URL, which html/template would
	// otherwise refuse; it is built from escaped IDs alone.
	App template.URL
	Web string
}

// channelLinks links the channel in the Slack app and on the web.
func (db *Dashboard) channelLinks(channel string) slackLinks {
	if channel == "" || db.d.TeamID == "" {
		return slackLinks{}
	}
	return slackLinks{
		App: template.URL("slack://channel?team=" + url.QueryEscape(db.d.TeamID) + "&id=" + url.QueryEscape(channel)), //nolint:gosec // escaped IDs
		Web: "https://app.slack.com/client/" + url.PathEscape(db.d.TeamID) + "/" + url.PathEscape(channel),
	}
}
