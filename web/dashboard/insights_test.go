package dashboard

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/report"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web/signin"
)

func init() {
	// Golden files are rewritten with -update; another file of the package
	// may have defined the flag already.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// insightNames are the workspace's display names.
type insightNames map[string]string

func (n insightNames) Name(_ context.Context, id string) string { return n[id] }

var (
	insightAlice = signin.User{ID: "U0ALICE", TeamID: "T1", Name: "Alice"}
	insightBob   = signin.User{ID: "U0BOB", TeamID: "T1", Name: "Bob"}
)

// insightT0 is Tuesday 24 Nov 2026, 03:00 UTC.
var insightT0 = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

// insightsWorld is a dashboard over a real SQLite file, filled through the
// domain's use cases: INC-1 public with a title that holds markup, INC-2
// private (Bob its TDO), both on PRB-1 and with postmortems and actions;
// INC-3 public on PRB-2, which is closed. The clock then stands three days
// later, so the actions due the day after t0 are overdue.
type insightsWorld struct {
	mux   *http.ServeMux
	clk   *clock.Fake
	store *storage.Store
}

func newInsightsWorld(t testing.TB) *insightsWorld {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dash.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	names := insightNames{"U0ALICE": "Alice", "U0BOB": "Bob <B&B>"}
	clk := clock.NewFake(insightT0)
	svc := incident.NewService(store, clk)
	svc.SetNames(names)
	prbs := incident.NewProblems(store, svc, clk)
	pms := incident.NewPostmortems(store, svc, incident.NewChangeLog(store, clk), clk)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	prb1, err := prbs.New(ctx, "U0BOB", "Connection pool too small")
	must(err)
	prb2, err := prbs.New(ctx, "U0BOB", "Certificates renewed by hand")
	must(err)
	revenue := func(v float64) incident.CostInput { return incident.CostInput{RevenueLost: &v} }
	open := func(title string, sev incident.Severity, private bool, cost float64, prb int64) *incident.Incident {
		t.Helper()
		inc, _, err := svc.Open(ctx, incident.OpenRequest{Title: title, Severity: sev, Reporter: "U0BOB", Private: private, Systems: []string{"db"}})
		must(err)
		if cost > 0 {
			_, _, err = svc.SetCost(ctx, inc.ID, "U0BOB", revenue(cost))
			must(err)
		}
		_, _, _, err = prbs.Link(ctx, inc.ID, prb, "U0BOB")
		must(err)
		clk.Advance(10 * time.Minute)
		_, _, err = svc.SetStatus(ctx, incident.StatusRequest{IncidentID: inc.ID, Actor: "U0BOB", Status: incident.StatusRestored})
		must(err)
		return inc
	}
	postmortem := func(inc *incident.Incident, issue string, actions ...incident.ActionRequest) {
		t.Helper()
		_, err := pms.Start(ctx, inc.ID, "U0BOB", "C1")
		must(err)
		_, err = pms.Next(ctx, inc.ID, "U0BOB")
		must(err)
		_, err = pms.AddIssue(ctx, inc.ID, "U0BOB", issue, 0)
		must(err)
		_, err = pms.Next(ctx, inc.ID, "U0BOB")
		must(err)
		for _, a := range actions {
			_, _, err = pms.AddAction(ctx, inc.ID, "U0BOB", a)
			must(err)
		}
	}
	day := func(n int) time.Time { return insightT0.AddDate(0, 0, n) }
	inc1 := open("db down <script>alert(1)</script> & *pool*", incident.Sev1, false, 20000, prb1.ID)
	inc2 := open("secret merger outage", incident.Sev2, true, 5000, prb1.ID)
	open("cert expired on api", incident.Sev3, false, 0, prb2.ID)
	_, err = prbs.Close(ctx, prb2.ID, "U0BOB", "renewal automated")
	must(err)
	postmortem(inc1, "the alert fired late <i>again</i> | twice",
		incident.ActionRequest{Issue: 1, Owner: "U0ALICE", Expected: "page on pool saturation", Due: day(5)},
		incident.ActionRequest{Issue: 1, Owner: "U0BOB", Expected: "pool sized from a load test", Due: day(1)})
	postmortem(inc2, "the merger bridge had no owner",
		incident.ActionRequest{Issue: 1, Owner: "U0ALICE", Expected: "secret bridge gets an owner", Due: day(1)})
	clk.Set(day(3))

	db, err := New(Deps{
		Problems:    prbs,
		Postmortems: PostmortemSource{Postmortems: pms, Incidents: svc},
		Trends:      incident.TrendReader{Store: store},
		MaySee:      func(_ context.Context, user string, inc *incident.Incident) bool { return user == inc.TDOID },
		Names:       names,
		TeamID:      "T1",
		Now:         clk.Now,
		Currency:    "USD",
	})
	must(err)
	mux := http.NewServeMux()
	db.Routes(mux, func(h http.Handler) http.Handler { return h })
	return &insightsWorld{mux: mux, clk: clk, store: store}
}

// get requests path as user (zero: nobody signed in).
func (w *insightsWorld) get(path string, user signin.User) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if user.ID != "" {
		r = r.WithContext(signin.WithCSRFToken(signin.WithUser(r.Context(), user), "csrf-token"))
	}
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, r)
	return rec
}

func TestInsightPages(t *testing.T) {
	t.Parallel()
	w := newInsightsWorld(t)
	tests := []struct {
		name   string
		path   string
		user   signin.User
		status int
		want   []string
		absent []string
	}{
		{"pareto, default window", "/problems", insightAlice, 200,
			[]string{`<option value="30d" selected>`, `<tr class="vital">`, `<a href="/problems/PRB-1">PRB-1</a> Connection pool too small`,
				"USD 25,000", "<svg", `role="img" aria-label="1 of 2 problems`},
			[]string{"secret merger", "<?xml"}},
		{"pareto, 90 days", "/problems?window=90d", insightAlice, 200, []string{`<option value="90d" selected>`, "last 90 days"}, nil},
		{"pareto, all time", "/problems?window=all", insightAlice, 200, []string{`<option value="all" selected>`, "all time", "PRB-2"}, nil},
		{"pareto, a typed window", "/problems?window=1d12h", insightAlice, 200, []string{`<option value="1d12h" selected>last 36 hours</option>`}, nil},
		{"pareto, a window too short for the incidents", "/problems?window=1h", insightAlice, 200, []string{"No problems are linked to incidents in this period."}, []string{"<svg"}},
		{"pareto, window not a duration", "/problems?window=banana", insightAlice, 400, []string{"window: ", "banana", "30d, 90d", "all"}, nil},
		{"pareto, window zero", "/problems?window=0", insightAlice, 400, []string{"window: a window of 0 holds nothing"}, nil},
		{"pareto, window signed", "/problems?window=-3d", insightAlice, 400, []string{"without a sign"}, nil},
		{"pareto, window too long", "/problems?window=5000d", insightAlice, 400, []string{"longer than ten years"}, nil},

		{"a problem, private incident redacted", "/problems/PRB-1", insightAlice, 200,
			[]string{"<h1>PRB-1: Connection pool too small</h1>", `<a href="/incidents/INC-1">INC-1</a> db down &lt;script&gt;`,
				`INC-2 <span class="muted">a private incident</span>`, "1 private, not named", "USD 25,000"},
			[]string{"secret merger", `href="/incidents/INC-2"`}},
		{"a problem, private incident for its TDO", "/problems/prb-1", insightBob, 200,
			[]string{`<a href="/incidents/INC-2">INC-2</a> secret merger outage <span class="muted">(private)</span>`}, []string{"not named"}},
		{"a closed problem", "/problems/PRB-2", insightAlice, 200, []string{"closed since", "renewal automated", "by Bob &lt;B&amp;B&gt;", "none entered"}, nil},
		{"a problem that does not exist", "/problems/PRB-99", insightAlice, 404, []string{"There is no problem PRB-99."}, nil},
		{"a problem reference that is not one", "/problems/banana", insightAlice, 400, []string{"problem: ", "PRB-3"}, nil},

		{"open actions, overdue first", "/postmortems", insightAlice, 200,
			[]string{"3 open actions", "2 overdue", `<option value="U0ALICE">Alice (2 open, 1 overdue)</option>`,
				"overdue 2 days", `<a href="/postmortems/INC-1">INC-1</a>`, "an action of a private incident"},
			[]string{"secret", `href="/postmortems/INC-2"`}},
		{"open actions of one owner", "/postmortems?owner=U0ALICE", insightAlice, 200,
			[]string{`<option value="U0ALICE" selected>`, "page on pool saturation", "an action of a private incident"}, []string{"pool sized from a load test"}},
		{"open actions, overdue only", "/postmortems?overdue=yes", insightAlice, 200,
			[]string{`value="yes" checked`, "pool sized from a load test"}, []string{"page on pool saturation"}},
		{"open actions of a private incident for its TDO", "/postmortems?owner=U0ALICE&overdue=yes", insightBob, 200,
			[]string{"secret bridge gets an owner", `<a href="/postmortems/INC-2">INC-2</a> <span class="muted">(private)</span>`}, nil},
		{"open actions of nobody", "/postmortems?owner=U0NOBODY", insightAlice, 200, []string{"No open action for this owner."}, nil},
		{"owner not a user ID", "/postmortems?owner=%3Cb%3E", insightAlice, 400, []string{"owner &#34;&lt;b&gt;&#34; is not a Slack user ID"}, []string{"<b>"}},
		{"overdue not yes or no", "/postmortems?overdue=maybe", insightAlice, 400, []string{"overdue &#34;maybe&#34; is not yes or no"}, nil},

		{"a postmortem", "/postmortems/INC-1", insightAlice, 200,
			[]string{"<h1>Postmortem of INC-1</h1>", `<a href="/postmortems/INC-1.md" download>`, "<h2>Postmortem: INC-1 db down &lt;script&gt;alert(1)&lt;/script&gt; &amp; <em>pool</em></h2>",
				"the alert fired late &lt;i&gt;again&lt;/i&gt; | twice", "@Alice"},
			[]string{"<script>", "<i>again"}},
		{"a private postmortem, not a member", "/postmortems/INC-2", insightAlice, 404, []string{"INC-2 has no postmortem that you may see."}, []string{"secret"}},
		{"a private postmortem, its TDO", "/postmortems/inc-2", insightBob, 200, []string{"secret merger outage"}, nil},
		{"a private postmortem's download, not a member", "/postmortems/INC-2.md", insightAlice, 404, nil, []string{"secret"}},
		{"an incident without a postmortem", "/postmortems/INC-3", insightAlice, 404, []string{"INC-3 has no postmortem"}, nil},
		{"an incident that does not exist", "/postmortems/INC-99", insightAlice, 404, nil, nil},
		{"a postmortem reference that is not one", "/postmortems/PRB-1", insightAlice, 400, []string{"postmortem: ", "INC-7"}, nil},

		{"trends, default weeks", "/trends", insightAlice, 200,
			[]string{`<option value="12" selected>last 12 weeks</option>`, "<h2>Time to acknowledge</h2>", "<h2>Time to restore</h2>", "<h2>Time to resolve</h2>",
				"3 incidents", "<svg", `<th scope="row">23 Nov 2026</th>`, "10 min / 10 min", "postmortem actions closed on time: 0% (0 of 2)"},
			[]string{"secret", "db down"}},
		{"trends, four weeks", "/trends?weeks=4", insightAlice, 200, []string{`<option value="4" selected>`, "Mon 2 Nov 2026 to Sun 29 Nov 2026"}, nil},
		{"trends, a week count of its own", "/trends?weeks=3", insightAlice, 200, []string{`<option value="3" selected>last 3 weeks</option>`}, nil},
		{"trends, no weeks", "/trends?weeks=0", insightAlice, 400, []string{"weeks &#34;0&#34; is not a whole number from 1 to 52"}, nil},
		{"trends, too many weeks", "/trends?weeks=53", insightAlice, 400, []string{"from 1 to 52"}, nil},
		{"trends, weeks not a number", "/trends?weeks=twelve", insightAlice, 400, []string{"weeks=12"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := w.get(tc.path, tc.user)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("GET %s: status %d, want %d\n%s", tc.path, rec.Code, tc.status, body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %q:\n%s", tc.path, s, body)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(body, s) {
					t.Errorf("GET %s holds %q:\n%s", tc.path, s, body)
				}
			}
		})
	}
}

// TestPostmortemDownload hands the Markdown export over as a file.
func TestPostmortemDownload(t *testing.T) {
	t.Parallel()
	w := newInsightsWorld(t)
	for _, tc := range []struct {
		user signin.User
		path string
	}{{insightAlice, "/postmortems/INC-1.md"}, {insightBob, "/postmortems/INC-2.md"}} {
		rec := w.get(tc.path, tc.user)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", tc.path, rec.Code)
		}
		ref := strings.TrimSuffix(strings.TrimPrefix(tc.path, "/postmortems/"), ".md")
		if got, want := rec.Header().Get("Content-Disposition"), `attachment; filename="postmortem-`+ref+`.md"`; got != want {
			t.Errorf("%s: Content-Disposition %q, want %q", tc.path, got, want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if body := rec.Body.String(); !strings.HasPrefix(body, "# Postmortem: "+ref+" ") || !strings.Contains(body, "## Actions") {
			t.Errorf("%s: body\n%s", tc.path, body)
		}
	}
}

// TestPostmortemPageGolden renders a whole postmortem page; -update
// rewrites testdata/postmortem_page.golden.
func TestPostmortemPageGolden(t *testing.T) {
	t.Parallel()
	w := newInsightsWorld(t)
	rec := w.get("/postmortems/INC-1", insightAlice)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	golden := filepath.Join("testdata", "postmortem_page.golden")
	if updateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), rec.Body.String()); diff != "" {
		t.Errorf("postmortem page (-want +got):\n%s", diff)
	}
}

// TestInsightSVG draws charts whose labels hold markup: the SVG that goes
// into a page holds it as text only, without the XML declaration.
func TestInsightSVG(t *testing.T) {
	t.Parallel()
	p := incident.RankPareto(incident.CostTally{ByProblem: []incident.ProblemCost{{ProblemID: 1, Cost: 10, Incidents: 1}}},
		[]incident.Problem{{ID: 1, Title: `pool <script>alert(1)</script> "x" & y`, Status: incident.ProblemOpen}}, incident.ParetoThreshold, false)
	svg, err := report.ParetoChart(p, "Pareto <b>", charts.SVG)
	if err != nil {
		t.Fatal(err)
	}
	html, ok := insightSVG(svg)
	if !ok {
		t.Fatalf("a chart with escaped labels is refused:\n%s", svg)
	}
	s := string(html)
	if !strings.HasPrefix(s, "<svg") || strings.Contains(s, "<script") || strings.Contains(s, "<b>") || !strings.Contains(s, "&lt;script&gt;") {
		t.Errorf("inline SVG:\n%s", s)
	}
	for _, bad := range []string{`<?xml version="1.0"?><svg><script>alert(1)</script></svg>`, `<svg onload="alert(1)"></svg>`, `<svg><foreignObject></foreignObject></svg>`} {
		if _, ok := insightSVG([]byte(bad)); ok {
			t.Errorf("insightSVG accepts %s", bad)
		}
	}
}

// TestTrendBarsSVG draws a week with nothing measured as no bar, escapes
// every text, and draws nothing when no week has a time.
func TestTrendBarsSVG(t *testing.T) {
	t.Parallel()
	if got := trendBarsSVG("empty", []trendBar{{Week: "2 Nov 2026"}}); got != "" {
		t.Errorf("no times drew %s", got)
	}
	got := string(trendBarsSVG(`restore <b>"x"</b>`, []trendBar{
		{Week: "2 Nov 2026", N: 3, Median: 10 * time.Minute, P90: time.Hour},
		{Week: "9 Nov 2026"},
		{Week: "16 <Nov> 2026", N: 1, Median: 30 * time.Minute, P90: 30 * time.Minute},
	}))
	for _, want := range []string{`aria-label="restore &lt;b&gt;&#34;x&#34;&lt;/b&gt;"`, "highest: 1 h", "week of 2 Nov 2026: median 10 min, 90th percentile 1 h (3)", "16 &lt;Nov&gt;"} {
		if !strings.Contains(got, want) {
			t.Errorf("chart lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, `class="median"`); n != 2 {
		t.Errorf("%d median bars, want 2 (the empty week has none):\n%s", n, got)
	}
	if strings.Contains(got, "<b>") || strings.Contains(got, "<Nov>") {
		t.Errorf("text not escaped:\n%s", got)
	}
}
