package dashboard

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web/signin"
)

// updateIncGolden reports whether golden files are to be rewritten: with
// SITREP_UPDATE_GOLDEN=1, or -update where the package's tests define it.
func updateIncGolden() bool {
	if os.Getenv("SITREP_UPDATE_GOLDEN") == "1" {
		return true
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// nameBook holds the workspace's display names, as Slack would tell them.
type nameBook map[string]string

func (n nameBook) Name(_ context.Context, id string) string { return n[id] }

var incNames = nameBook{"U0ALICE": "Alice", "U0BOB": "Bob", "U0CAROL": "Carol"}

// incFixture is a real SQLite store with a few incidents and changes, the
// incident service that made them, and a dashboard over it.
type incFixture struct {
	store *storage.Store
	svc   *incident.Service
	clk   *clock.Fake
	db    *Dashboard
	mux   *http.ServeMux
	// incs are INC-1 … by number.
	incs    []*incident.Incident
	changes []incident.Change
}

var incT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newIncFixture seeds:
//
//	INC-1 sev1 web,db, restored after 30 min, resolved and closed; cost C2; PRB-1; a postmortem; change 1 suspect, change 2 not related
//	INC-2 sev2 api, investigating, title starting with "=" (a formula)
//	INC-3 sev2 web, private, TDO Carol (a member), monitoring
//	INC-4 sev3 db, identified; PRB-1 and PRB-2; no cost
func newIncFixture(t testing.TB) *incFixture {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dash.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &incFixture{store: s, clk: clock.NewFake(incT0)}
	f.svc = incident.NewService(s, f.clk)
	f.svc.SetNames(incNames)
	// Sev1 and sev2 incidents on web get a plan with a 20-minute timebox.
	f.svc.SetPlans(incident.Plans{Systems: map[string]incident.Plan{"web": {
		Diagnostics: []string{"heap dump of one web pod"}, Restore: []string{"roll back the last deploy"},
		Runbooks: []string{"https://runbooks.example/web"},
		Timebox:  map[incident.Severity]time.Duration{incident.Sev1: 20 * time.Minute, incident.Sev2: 20 * time.Minute},
	}}}, incident.DefaultWarnAt)
	must := func(_ any, _ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	f.changes = []incident.Change{
		{OccurredAt: incT0.Add(-2 * time.Hour), Systems: []string{"web"}, Person: "U0BOB", Summary: "raised the pool to 50", Reason: "timeouts",
			Kind: incident.KindConfig, Link: "https://ci.example/1", Source: incident.SourceAPI, LoggedAt: incT0.Add(-2 * time.Hour)},
		{OccurredAt: incT0.Add(-time.Hour), Systems: []string{"db", "web"}, Person: "Dana Ops", Summary: "@SUM(A1) vacuum", Kind: incident.KindInfra,
			Link: "javascript:alert(1)", Source: incident.SourceCLI, LoggedAt: incT0.Add(-time.Hour)},
		{OccurredAt: incT0.Add(-30 * time.Minute), Systems: []string{"api"}, Person: "U0ALICE", Summary: "deploy v2", Kind: incident.KindDeploy,
			Source: incident.SourceSlack, LoggedAt: incT0.Add(-30 * time.Minute)},
	}
	if _, err := s.LogChanges(ctx, f.changes, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"pool exhaustion", "slow vacuum"} {
		if err := s.CreateProblem(ctx, &incident.Problem{Title: p, Status: incident.ProblemOpen, CreatedBy: "U0ALICE", CreatedAt: incT0}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(title string, sev incident.Severity, systems []string, reporter string, private bool) *incident.Incident {
		t.Helper()
		inc, _, err := f.svc.Open(ctx, incident.OpenRequest{Title: title, Severity: sev, Systems: systems, Reporter: reporter, Private: private})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(10 * time.Minute)
		return inc
	}
	i1 := open("Checkout is down", incident.Sev1, []string{"web", "db"}, "U0ALICE", false)
	i2 := open("=HYPERLINK(\"http://evil\") api errors", incident.Sev2, []string{"api"}, "U0BOB", false)
	i3 := open("Payroll leak", incident.Sev2, []string{"web"}, "U0CAROL", true)
	i4 := open("Slow queries", incident.Sev3, []string{"db"}, "U0BOB", false)

	// INC-1: what changed, verdicts, a note naming Bob, restored, cost,
	// a problem, resolved, a postmortem, closed.
	if err := s.ShowChanges(ctx, i1.ID, []incident.ShownChange{{Change: f.changes[1]}, {Change: f.changes[0]}}); err != nil {
		t.Fatal(err)
	}
	must(f.svc.MarkChange(ctx, i1.ID, f.changes[0].ID, "U0ALICE", incident.EntrySuspect, "web: raised the pool"))
	must(f.svc.MarkChange(ctx, i1.ID, f.changes[1].ID, "U0ALICE", incident.EntrySuspect, "db: vacuum"))
	must(f.svc.MarkChange(ctx, i1.ID, f.changes[1].ID, "U0BOB", incident.EntryUnrelated, "db: vacuum"))
	must(f.svc.AddNote(ctx, i1.ID, "U0ALICE", "rolling back, <@U0BOB> watches the graphs"))
	must(f.svc.SetStatus(ctx, incident.StatusRequest{IncidentID: i1.ID, Actor: "U0ALICE", Status: incident.StatusRestored}))
	// INC-3 (private) judged change 1 suspect too.
	must(f.svc.MarkChange(ctx, i3.ID, f.changes[0].ID, "U0CAROL", incident.EntrySuspect, "web: raised the pool"))
	must(f.svc.SetStatus(ctx, incident.StatusRequest{IncidentID: i3.ID, Actor: "U0CAROL", Status: incident.StatusMonitoring}))
	must(f.svc.SetStatus(ctx, incident.StatusRequest{IncidentID: i4.ID, Actor: "U0BOB", Status: incident.StatusIdentified}))
	setCost := func(inc *incident.Incident, c *incident.Cost, problems []int64) {
		t.Helper()
		if _, _, err := s.UpdateIncident(ctx, inc.ID, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
			inc.Cost, inc.Problems = c, problems
			return nil, nil
		}, nil); err != nil {
			t.Fatal(err)
		}
	}
	setCost(i1, &incident.Cost{Amount: 12500, Class: incident.C2, Currency: "USD", SetBy: "U0ALICE", SetAt: f.clk.Now()}, []int64{1})
	setCost(i4, nil, []int64{1, 2})
	f.clk.Advance(time.Hour)
	must(f.svc.SetStatus(ctx, incident.StatusRequest{IncidentID: i1.ID, Actor: "U0ALICE", Status: incident.StatusResolved}))
	if err := s.CreatePostmortem(ctx, &incident.Postmortem{IncidentID: i1.ID, Facilitator: "U0BOB", Phase: incident.PhaseActions,
		StartedBy: "U0BOB", StartedAt: f.clk.Now(),
		Issues:  []incident.Issue{{ID: 1, Text: "the pool size was not reviewed", AddedBy: "U0BOB", AddedAt: f.clk.Now()}},
		Actions: []incident.Action{{ID: 1, Issue: 1, Owner: "U0ALICE", Expected: "pool sized from load tests", Due: incT0.AddDate(0, 0, -1), AddedBy: "U0BOB", AddedAt: f.clk.Now()}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	must(f.svc.Close(ctx, i1.ID, "U0ALICE"))
	if err := s.SaveRoom(ctx, &incident.Room{IncidentID: i1.ID, ChannelID: "C0INC1", ChannelName: "inc-1-checkout-is-down", UpdatedAt: incT0}); err != nil {
		t.Fatal(err)
	}

	for _, inc := range []*incident.Incident{i1, i2, i3, i4} {
		got, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.incs = append(f.incs, got)
	}
	f.db, err = New(Deps{Incidents: s, Changes: s, Names: incNames, TeamID: "T0TEAM", Now: f.clk.Now, Currency: "USD",
		MaySee: func(_ context.Context, user string, inc *incident.Incident) bool {
			return user == "U0CAROL" // the private room's only member
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.mux = http.NewServeMux()
	f.db.Routes(f.mux, asIncViewer)
	return f
}

// asIncViewer stands for the sign-in check: the X-Test-User header names the
// signed-in user (a test's stand-in for a session).
func asIncViewer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := r.Header.Get("X-Test-User")
		if u == "" {
			u = "U0BOB"
		}
		ctx := signin.WithUser(r.Context(), signin.User{ID: u, TeamID: "T0TEAM", Name: incNames[u]})
		h.ServeHTTP(w, r.WithContext(signin.WithCSRFToken(ctx, "tok")))
	})
}

// get requests path as user and returns the status and body.
func (f *incFixture) get(t testing.TB, user, path string) (int, string, http.Header) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w.Code, w.Body.String(), w.Header()
}

// TestIncidentList: each filter, sort and page of /incidents, as Bob
// (not a member of the private INC-3).
func TestIncidentList(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	for _, tc := range []struct {
		name, query string
		want        []string // in this order
		not         []string
	}{
		{"open by default, newest first", "", []string{"INC-4", "INC-3 · private", "INC-2"}, []string{"INC-1<", "Checkout"}},
		{"counts by status", "", []string{"<strong>3</strong> open incidents.", "By status, resolved ones included:", "Investigating 1", "Identified 1", "Monitoring 1", "Resolved 1"}, nil},
		{"all", "?state=all", []string{"INC-4", "INC-3", "INC-2", "INC-1"}, nil},
		{"all, oldest first", "?state=all&order=asc", []string{"INC-1", "INC-2", "INC-3", "INC-4"}, nil},
		{"severity", "?state=all&severity=sev1", []string{"<strong>1</strong> incident", "Checkout is down"}, []string{"Slow queries"}},
		{"severity as a number", "?state=all&severity=3", []string{"Slow queries"}, []string{"Checkout is down"}},
		{"system", "?state=all&system=DB", []string{"Slow queries", "Checkout is down"}, []string{"api errors"}},
		{"problem", "?state=all&problem=prb-2", []string{"Slow queries"}, []string{"Checkout is down"}},
		{"cost class", "?state=all&cost=c2", []string{"Checkout is down", "USD 12,500 (C2)"}, []string{"Slow queries"}},
		{"no cost", "?state=all&cost=none", []string{"Slow queries", "api errors"}, []string{"Checkout is down"}},
		{"dates", "?state=all&from=2026-03-02&to=2026-03-02", []string{"INC-1"}, nil},
		{"dates before", "?state=all&to=2026-03-01", []string{"No incidents match"}, []string{"INC-1"}},
		{"sort by severity", "?state=all&sort=severity", []string{"INC-1", "INC-3", "INC-2", "INC-4"}, nil},
		{"sort by time to restore", "?state=all&sort=ttr", []string{"INC-1", "INC-4"}, nil},
		{"pager keeps the filters", "?state=all&severity=sev2&page=1", []string{"Page 1 of 1"}, []string{`rel="next"`}},
		{"a page past the end", "?state=all&page=3", []string{"No incidents match on page 3", `href="/incidents?order=desc&amp;sort=opened&amp;state=all" rel="prev"`}, nil},
		{"CSV link keeps the filters", "?severity=sev2", []string{`href="/incidents.csv?order=desc&amp;severity=sev2&amp;sort=opened&amp;state=open"`}, nil},
		{"form shows the filters", "?severity=sev2&cost=none&system=api", []string{`<option value="sev2" selected>`, `name="system" value="api"`, `<option value="none" selected>`}, nil},
		{"private: no title, no systems", "?state=all&severity=sev2", []string{"INC-3 · private"}, []string{"Payroll", `href="/incidents/INC-3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := f.get(t, "", "/incidents"+tc.query)
			if code != http.StatusOK {
				t.Fatalf("status %d:\n%s", code, body)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(body[at:], w)
				if i < 0 {
					t.Fatalf("lacks %q (after byte %d):\n%s", w, at, body)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("shows %q:\n%s", n, body)
				}
			}
		})
	}
}

// TestPrivateIncident: its member sees it whole; anyone else sees it only
// counted, and its page is not found (not forbidden: no confirmation).
func TestPrivateIncident(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	_, list, _ := f.get(t, "U0CAROL", "/incidents")
	if !strings.Contains(list, "Payroll leak") || strings.Contains(list, "· private") {
		t.Errorf("member's list:\n%s", list)
	}
	code, page, _ := f.get(t, "U0CAROL", "/incidents/INC-3")
	if code != http.StatusOK || !strings.Contains(page, "Payroll leak") {
		t.Errorf("member's page: %d\n%s", code, page)
	}
	for _, path := range []string{"/incidents/INC-3", "/incidents/3", "/incidents/INC-3/events"} {
		code, body, _ := f.get(t, "U0BOB", path)
		if code != http.StatusNotFound || strings.Contains(body, "Payroll") {
			t.Errorf("%s for a non-member: %d\n%s", path, code, body)
		}
		_, missing, _ := f.get(t, "U0BOB", strings.Replace(path, "3", "99", 1))
		if strings.ReplaceAll(missing, "99", "3") != body {
			t.Errorf("%s: a private incident's 404 differs from a missing one's", path)
		}
	}
	_, csvBob, _ := f.get(t, "U0BOB", "/incidents.csv?state=all")
	_, csvCarol, _ := f.get(t, "U0CAROL", "/incidents.csv?state=all")
	if strings.Contains(csvBob, "Payroll") || !strings.Contains(csvBob, "INC-3,a private incident,sev2,monitoring,,") {
		t.Errorf("non-member's CSV:\n%s", csvBob)
	}
	if !strings.Contains(csvCarol, "INC-3,Payroll leak,sev2,monitoring,web,") {
		t.Errorf("member's CSV:\n%s", csvCarol)
	}
}

// TestIncidentPage shows everything the Slack header and room hold.
func TestIncidentPage(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	code, body, _ := f.get(t, "", "/incidents/inc-1")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	for _, want := range []string{
		"<title>INC-1: Checkout is down · sitrep</title>",
		`class="status-resolved">Resolved`, `class="sev1">SEV1`, `system=web">web</a>`, "Alice",
		"Time to restore</dt><dd>40 min", // restored 40 min after opening
		"Opened as SEV1: Checkout is down",
		`href="slack://channel?team=T0TEAM&amp;id=C0INC1"`, `href="https://app.slack.com/client/T0TEAM/C0INC1"`, "#inc-1-checkout-is-down",
		"rolling back, @Bob watches the graphs", // a mention shown as the name recorded
		"Suspect change: web: raised the pool",
		"<strong>suspect</strong> <span class=\"muted\">by Alice",
		"<strong>not related</strong> <span class=\"muted\">by Bob",
		"USD 12,500 (C2)", `<a href="/problems/PRB-1">PRB-1</a> pool exhaustion`,
		`<a href="/postmortems/INC-1">Read the postmortem</a>`, "the pool size was not reviewed", "pool sized from load tests", "overdue",
		"<svg", "Closed ", // closed: no live updates
		"heap dump of one web pod", "roll back the last deploy", `<a href="https://runbooks.example/web">`,
		"The plan allows 20 min of diagnosis at SEV1.", "Diagnosis ran 20 min past its timebox.", // restored at 40 min
		"<td>1</td><td>Mon 2 Mar 2026 09:00</td><td>20 min</td><td>20 min</td><td>40 min</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("lacks %q", want)
		}
	}
	for _, not := range []string{"live.js", "data-events", "<?xml"} {
		if strings.Contains(body, not) {
			t.Errorf("shows %q", not)
		}
	}
	_, open, _ := f.get(t, "", "/incidents/INC-4")
	for _, want := range []string{`data-events="/incidents/INC-4/events"`, `src="/static/live.js"`, "Slow queries", "no channel yet", "No postmortem started"} {
		if !strings.Contains(open, want) {
			t.Errorf("open incident's page lacks %q", want)
		}
	}
	for _, path := range []string{"/incidents/INC-99", "/incidents/bogus", "/incidents/INC-0", "/incidents/-1"} {
		if code, body, _ := f.get(t, "", path); code != http.StatusNotFound {
			t.Errorf("%s: %d\n%s", path, code, body)
		}
	}
}

// TestIncidentBadQueries: a wrong value is a 400 page that names the parameter
// and says how to write it; never a 500.
func TestIncidentBadQueries(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	for _, tc := range []struct{ path, want string }{
		{"/incidents?severity=sev9", `severity=&#34;sev9&#34; is not understood: write one of sev1, sev2, sev3, sev4`},
		{"/incidents?from=yesterday", `from=&#34;yesterday&#34; is not understood: write a date as YYYY-MM-DD`},
		{"/incidents?to=2026-02-30", `to=&#34;2026-02-30&#34;`},
		{"/incidents?from=2026-03-05&to=2026-03-01", "from=2026-03-05 is after to=2026-03-01"},
		{"/incidents?page=-1", `page=&#34;-1&#34; is not understood: write a page number from 1`},
		{"/incidents?page=0", `page=&#34;0&#34;`},
		{"/incidents?page=2x", `page=&#34;2x&#34;`},
		{"/incidents?sort=bogus", `sort=&#34;bogus&#34; is not understood: write sort=opened`},
		{"/incidents?order=up", `order=&#34;up&#34;`},
		{"/incidents?state=closed", `state=&#34;closed&#34; is not understood: write state=open`},
		{"/incidents?cost=C9", `cost=&#34;C9&#34; is not understood: write a cost class, C1`},
		{"/incidents?problem=abc", `problem=&#34;abc&#34; is not understood: write a problem as PRB-&lt;number&gt;`},
		{"/incidents?system=a%20b", `system=&#34;a b&#34; is not understood: write one system name`},
		{"/incidents?severity=sev1&severity=sev2", "severity is given 2 times: give it once"},
		{"/incidents.csv?severity=sev9", `severity=&#34;sev9&#34;`},
		{"/changes?kind=bogus", `kind=&#34;bogus&#34; is not understood: write one of deploy, config, infra, feature, data, other`},
		{"/changes?since=yesterday", `since=&#34;yesterday&#34; is not understood: write how far back to look as 30m, 24h, 7d or 2w`},
		{"/changes?since=-2d", `since=&#34;-2d&#34;`},
		{"/changes?since=7d&from=2026-03-01", "since and from/to are both given"},
		{"/changes?page=0", `page=&#34;0&#34;`},
		{"/changes?q=" + strings.Repeat("x", 300), `search for at most 200 characters`},
		{"/changes.csv?from=03/01/2026", `from=&#34;03/01/2026&#34;`},
	} {
		code, body, h := f.get(t, "", tc.path)
		if code != http.StatusBadRequest || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: status %d, %s", tc.path, code, h.Get("Content-Type"))
			continue
		}
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: lacks %q:\n%s", tc.path, tc.want, body)
		}
	}
}

// TestIncidentCSVGolden: the CSV of incidents and of changes, every page, with a
// header row, CRLF line ends, quoting and formula cells neutralised.
func TestIncidentCSVGolden(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	for _, tc := range []struct{ path, golden string }{
		{"/incidents.csv?state=all", "incidents_all.csv"},
		{"/incidents.csv?severity=sev2", "incidents_sev2.csv"},
		{"/changes.csv", "changes_all.csv"},
		{"/changes.csv?system=web", "changes_web.csv"},
	} {
		code, body, h := f.get(t, "", tc.path)
		if code != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%s: %d %v", tc.path, code, h)
		}
		path := filepath.Join("testdata", tc.golden)
		if updateIncGolden() {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with SITREP_UPDATE_GOLDEN=1 to write it)", err)
		}
		if body != string(want) {
			t.Errorf("%s differs from %s:\n%s", tc.path, path, body)
		}
	}
	_, all, _ := f.get(t, "", "/incidents.csv?state=all")
	for _, want := range []string{"incident,title,severity,", "\r\n", `INC-2,"'=HYPERLINK(""http://evil"") api errors"`} {
		if !strings.Contains(all, want) {
			t.Errorf("incidents CSV lacks %q:\n%s", want, all)
		}
	}
	_, changes, _ := f.get(t, "", "/changes.csv")
	if !strings.Contains(changes, ",'@SUM(A1) vacuum,") {
		t.Errorf("changes CSV does not neutralise @:\n%s", changes)
	}
}

func TestCSVSafeCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\t=1": "'\t=1",
		"a=b": "a=b", "plain": "plain", "INC-1": "INC-1"} {
		if got := csvSafeCell(in); got != want {
			t.Errorf("csvSafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChangeLog: each search of /changes and the incidents that judged a
// change suspect.
func TestChangeLog(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	id := func(i int) string { return "change-" + strconv.FormatInt(f.changes[i].ID, 10) }
	for _, tc := range []struct {
		name, query string
		want, not   []string
	}{
		{"everything, newest first", "", []string{id(2), id(1), id(0)}, nil},
		{"system", "?system=web", []string{id(1), id(0)}, []string{id(2)}},
		{"person by ID, any case", "?person=u0bob", []string{id(0)}, []string{id(1)}},
		{"person by name", "?person=dana%20ops", []string{id(1)}, []string{id(0)}},
		{"person by a word of the name logged", "?person=Dana", []string{"By anyone named “Dana”. Newest first.", id(1)}, []string{id(0), id(2)}},
		{"person by the name sitrep knows for a user ID", "?person=alice", []string{id(2)}, []string{id(0), id(1)}},
		{"person by the start of a name", "?person=ali", []string{id(2)}, []string{id(0), id(1)}},
		{"not the inside of a name", "?person=lice", []string{"No changes match"}, []string{id(2)}},
		{"person as an @mention", "?person=%40bob", []string{id(0)}, []string{id(1), id(2)}},
		{"person as Slack's mention markup", "?person=%3C%40U0ALICE%7Calice%3E", []string{id(2)}, []string{id(0), id(1)}},
		{"person as @ and an ID", "?person=%40U0BOB", []string{id(0)}, []string{id(1), id(2)}},
		{"nobody of that name", "?person=zed", []string{"No changes match"}, []string{id(0), id(1), id(2)}},
		{"an @ alone names no one", "?person=%40", []string{"No changes match"}, []string{id(0), id(1), id(2)}},
		{"a person and a system", "?person=bob&system=api", []string{"No changes match"}, nil},
		{"kind", "?kind=DEPLOY", []string{id(2)}, []string{id(0)}},
		{"text", "?q=POOL", []string{id(0)}, []string{id(1)}},
		{"text with a wildcard", "?q=%25", []string{"No changes match"}, nil},
		{"since", "?since=150m", []string{id(2)}, []string{id(1)}},
		{"dates", "?from=2026-03-02&to=2026-03-02", []string{id(2), id(1), id(0)}, nil},
		{"dates before", "?to=2026-03-01", []string{"No changes match"}, nil},
		{"names, not IDs", "?system=web", []string{">Dana Ops</a>", ">Bob</a>"}, []string{">U0BOB<"}},
		{"web links only", "?system=web", []string{`<a href="https://ci.example/1">raised the pool to 50</a>`}, []string{"javascript:"}},
		{"suspected by INC-1 (not related later: not)", "", []string{`<a href="/incidents/INC-1">INC-1</a>, <a href="/incidents/INC-3">INC-3</a> · private`}, nil},
		{"page 2 is empty", "?page=2", []string{"No changes match on page 2", `rel="prev"`}, []string{`rel="next"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := f.get(t, "", "/changes"+tc.query)
			if code != http.StatusOK {
				t.Fatalf("status %d:\n%s", code, body)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(body[at:], w)
				if i < 0 {
					t.Fatalf("lacks %q:\n%s", w, body)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("shows %q", n)
				}
			}
		})
	}
	// The suspect cell is the change's, not a neighbour's.
	_, body, _ := f.get(t, "", "/changes")
	row := body[strings.Index(body, id(1)):]
	row = row[:strings.Index(row, "</tr>")]
	if strings.Contains(row, "INC-1") {
		t.Errorf("change 2, marked not related after suspect, still shows INC-1:\n%s", row)
	}
}

// TestChangePersonSearch: a search by name reads the names of the users
// who logged changes only as long as nameBudget allows; the page says
// when it stopped short, and the CSV matches the same people.
func TestChangePersonSearch(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	slow := slowNames{clk: f.clk, names: incNames}
	db, err := New(Deps{Incidents: f.store, Changes: f.store, Names: slow, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	db.Routes(mux, asIncViewer)
	get := func(path string) string {
		t.Helper()
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", path, w.Code)
		}
		return w.Body.String()
	}
	// Each name takes 2.5 s to learn: the first user ID (U0ALICE, in
	// order) is read, the second (U0BOB) is past the budget.
	body := get("/changes?person=bob")
	if !strings.Contains(body, "has not learned every person") || strings.Contains(body, "change-"+strconv.FormatInt(f.changes[0].ID, 10)) {
		t.Errorf("a search past the budget: want the note and no change of Bob's:\n%s", body)
	}
	body = get("/changes?person=U0BOB")
	if strings.Contains(body, "has not learned every person") || !strings.Contains(body, "change-"+strconv.FormatInt(f.changes[0].ID, 10)) {
		t.Errorf("a search by ID asks no name: want Bob's change and no note:\n%s", body)
	}
	if _, csv, _ := f.get(t, "", "/changes.csv?person=alice"); !strings.Contains(csv, "deploy v2") || strings.Contains(csv, "vacuum") {
		t.Errorf("CSV of alice's changes:\n%s", csv)
	}
	if _, csv, _ := f.get(t, "", "/changes.csv?person=zed"); strings.Count(csv, "\r\n") != 1 {
		t.Errorf("CSV of nobody: want the header alone:\n%s", csv)
	}
}

// slowNames is a names cache that takes 2.5 s (of the fake clock) to
// learn each name.
type slowNames struct {
	clk   *clock.Fake
	names nameBook
}

func (n slowNames) Name(ctx context.Context, id string) string {
	n.clk.Advance(2500 * time.Millisecond)
	return n.names.Name(ctx, id)
}

func TestNameMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, search string
		want         bool
	}{
		{"Alice Liddell", "alice", true},
		{"Alice Liddell", "ALI lid", true},
		{"Alice Liddell", "Alice Liddell", true},
		{"Alice Liddell", "liddell alice", true},
		{"Alice Liddell", "lice", false},
		{"Alice Liddell", "alice smith", false},
		{"alice.liddell", "liddell", true},
		{"deploy-bot", "bot", true},
		{"Ødegård", "øde", true},
		{"Alice", "", false},
		{"", "alice", false},
	} {
		if got := nameMatches(tc.name, nameWords(tc.search)); got != tc.want {
			t.Errorf("nameMatches(%q, %q) = %v, want %v", tc.name, tc.search, got, tc.want)
		}
	}
}

func TestReadPerson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed string
		want  personSearch
	}{
		{"U0ALICE", personSearch{ID: "U0ALICE"}},
		{" @U0ALICE ", personSearch{ID: "U0ALICE"}},
		{"<@U0ALICE>", personSearch{ID: "U0ALICE"}},
		{"<@W0ALICE|alice>", personSearch{ID: "W0ALICE"}},
		{"@alice", personSearch{Text: "alice"}},
		{"u0alice", personSearch{Text: "u0alice"}},
		{"Bob Smith", personSearch{Text: "Bob Smith"}},
		{"<@nope>", personSearch{Text: "<@nope>"}},
		{"@", personSearch{}},
	} {
		if got := readPerson(tc.typed); got != tc.want {
			t.Errorf("readPerson(%q) = %+v, want %+v", tc.typed, got, tc.want)
		}
	}
}

// TestLiveEvents: an update made through the incident service reaches a
// page following the incident as an event, over a real HTTP server; the
// stream ends when the incident closes.
func TestLiveEvents(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	f.db.live = newLiveStreams(20*time.Millisecond, 2)
	srv := httptest.NewServer(f.mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/incidents/INC-4/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan string, 10)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var ev []string
		for sc.Scan() {
			if sc.Text() == "" {
				if len(ev) > 0 && strings.HasPrefix(ev[0], "event: ") {
					events <- strings.Join(ev, "\n")
				}
				ev = nil
				continue
			}
			ev = append(ev, sc.Text())
		}
	}()
	next := func(want string) {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok || !strings.Contains(ev, want) {
				t.Fatalf("event %q (stream open: %t), want one holding %q", ev, ok, want)
			}
		case <-ctx.Done():
			t.Fatalf("no event holding %q", want)
		}
	}
	inc := f.incs[3]
	if _, _, err := f.svc.AddNote(ctx, inc.ID, "U0BOB", "found it"); err != nil {
		t.Fatal(err)
	}
	next("event: update")
	if _, _, err := f.svc.SetStatus(ctx, incident.StatusRequest{IncidentID: inc.ID, Actor: "U0BOB", Status: incident.StatusResolved}); err != nil {
		t.Fatal(err)
	}
	next(`"status":"resolved"`)
	if _, _, err := f.svc.Close(ctx, inc.ID, "U0BOB"); err != nil {
		t.Fatal(err)
	}
	next(`"closed":true`)
	next("event: closed")
	select {
	case ev, ok := <-events:
		if ok {
			t.Fatalf("after closed: %q", ev)
		}
	case <-ctx.Done():
		t.Fatal("the stream did not end when the incident closed")
	}
	// A closed incident's stream answers 204: an EventSource stops.
	resp2, err := srv.Client().Get(srv.URL + "/incidents/INC-4/events")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNoContent {
		t.Errorf("closed incident's stream: %d", resp2.StatusCode)
	}
}

// TestLiveStreamsBounded: past the bound a stream is refused with 503 and
// Retry-After; a stream whose client went away frees its place.
func TestLiveStreamsBounded(t *testing.T) {
	t.Parallel()
	f := newIncFixture(t)
	f.db.live = newLiveStreams(20*time.Millisecond, 1)
	srv := httptest.NewServer(f.mux)
	defer srv.Close()
	open := func() *http.Response {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/incidents/INC-2/events")
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := open()
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d", first.StatusCode)
	}
	second := open()
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable || second.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream: %d", second.StatusCode)
	}
	first.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		third := open()
		third.Body.Close()
		if third.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the place of a stream whose client left was not freed: %d", third.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTrustedChartSVG: the chart goes into the page only as our renderer draws
// it.
func TestTrustedChartSVG(t *testing.T) {
	t.Parallel()
	good := `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><g><text>a &lt; b</text></g></svg>`
	if got, err := trustedChartSVG([]byte(good)); err != nil || !strings.HasPrefix(string(got), "<svg") {
		t.Errorf("good chart: %q, %v", got, err)
	}
	for _, bad := range []string{
		`<svg><script>alert(1)</script></svg>`,
		`<svg><g onload="alert(1)"/></svg>`,
		`<svg><use href="https://evil/x.svg#a"/></svg>`,
		`<svg><foreignObject><div/></foreignObject></svg>`,
		`<svg><g>`,
		`<html><svg/></html>`,
		`no image`,
	} {
		if _, err := trustedChartSVG([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
