// Package dashboard is sitrep's read-only web view: incidents, the change
// log, problems, postmortems and trends, rendered on the server with
// html/template and working without JavaScript (a small script only
// follows an open incident live). Actions happen in Slack.
//
// It knows the domain (package incident) and reads through the
// interfaces in Deps; storage satisfies them. Who is signed in comes from
// package signin, which wraps every page.
package dashboard

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/web/signin"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps are what the pages read. A nil reader leaves its pages out of the
// navigation and answers them 404.
type Deps struct {
	Incidents   IncidentReader
	Changes     ChangeReader
	Problems    ProblemReader
	Postmortems PostmortemReader
	Trends      TrendReader

	// MaySee reports whether user may see private incident inc (a member
	// of its room, its TDO or a commander). Nil: nobody but its TDO.
	MaySee func(ctx context.Context, user string, inc *incident.Incident) bool
	// Names tells display names for user IDs; nil shows IDs.
	Names incident.Names
	// TeamID is the workspace, for links into Slack.
	TeamID string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Location is where times are shown; nil is UTC.
	Location *time.Location
	// Currency names customer cost amounts ("USD").
	Currency string
	Log      *slog.Logger
}

// Dashboard serves the pages.
type Dashboard struct {
	d     Deps
	pages *template.Template
	// live bounds and paces the incident pages' event streams.
	live *liveStreams
}

// New parses the templates and returns the dashboard.
func New(d Deps) (*Dashboard, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := template.New("").Funcs(funcs(d)).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the dashboard's templates: %w", err)
	}
	return &Dashboard{d: d, pages: pages, live: newLiveStreams(defaultPollEvery, defaultMaxStreams)}, nil
}

// Routes adds every page to mux under /, each wrapped by guard (the
// sign-in check). Static files are served unguarded under /static/.
func (db *Dashboard) Routes(mux *http.ServeMux, guard func(http.Handler) http.Handler) {
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, guard(h)) }
	page("GET /{$}", db.home)
	db.incidentRoutes(page)
	db.changeRoutes(page)
	db.problemRoutes(page)
	db.postmortemRoutes(page)
	db.trendRoutes(page)
}

// home sends a signed-in person to the incidents.
func (db *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/incidents", http.StatusSeeOther)
}

// view is what every page template gets: the page's own data and what
// the layout shows.
type view struct {
	Title string
	// Nav is the current section ("incidents", "changes", …).
	Nav  string
	User signin.User
	CSRF string
	// Sections are the pages the navigation links, those with a reader.
	Sections []section
	Data     any
}

type section struct{ Key, Title, Path string }

// render writes page (a template defining "content", wrapped in the
// layout) with data, or a 500 that holds no detail.
func (db *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page, title, nav string, data any) {
	u, _ := signin.UserFrom(r.Context())
	v := view{Title: title, Nav: nav, User: u, CSRF: signin.CSRFToken(r.Context()), Sections: db.sections(), Data: data}
	t, err := db.pages.Clone()
	if err == nil {
		t, err = t.ParseFS(templateFiles, "templates/"+page+".html")
	}
	if err != nil {
		db.fail(w, r, "parsing page "+page, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", v); err != nil {
		db.d.Log.Error("rendering a page", "page", page, "err", err)
	}
}

// sections lists the navigation, leaving out pages with no reader.
func (db *Dashboard) sections() []section {
	var out []section
	add := func(ok bool, key, title string) {
		if ok {
			out = append(out, section{key, title, "/" + key})
		}
	}
	add(db.d.Incidents != nil, "incidents", "Incidents")
	add(db.d.Changes != nil, "changes", "Change log")
	add(db.d.Problems != nil, "problems", "Problems")
	add(db.d.Postmortems != nil, "postmortems", "Postmortems")
	add(db.d.Trends != nil, "trends", "Trends")
	return out
}

// badRequest answers 400 with a page saying what was wrong with the
// query and how to write it: never a 500 for a visitor's mistake.
func (db *Dashboard) badRequest(w http.ResponseWriter, r *http.Request, problem string) {
	db.render(w, r, http.StatusBadRequest, "error", "Bad request", "", errorPage{Status: http.StatusBadRequest, Problem: problem})
}

// notFound answers 404.
func (db *Dashboard) notFound(w http.ResponseWriter, r *http.Request, what string) {
	db.render(w, r, http.StatusNotFound, "error", "Not found", "", errorPage{Status: http.StatusNotFound, Problem: what})
}

// fail logs err and answers 500 without its text.
func (db *Dashboard) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	db.d.Log.Error(what, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("sitrep could not show this page; the log has the detail.\n"))
}

type errorPage struct {
	Status  int
	Problem string
}
