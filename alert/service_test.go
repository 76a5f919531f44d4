package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
)

// t0 is on a minute, at the start of a refresh bucket.
var t0 = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func fire(key, fp string) alert.Alert {
	return alert.Alert{Source: alert.SourceAlertmanager, GroupKey: key, Fingerprint: fp, Status: alert.StatusFiring,
		Title: "HighLatency: checkout p99 over 2s", Severity: "critical", Labels: map[string]string{"severity": "critical", "service": "checkout"}}
}

func resolve(key, fp string) alert.Alert {
	a := fire(key, fp)
	a.Status = alert.StatusResolved
	return a
}

type env struct {
	t     *testing.T
	store *memStore
	clk   *clock.Fake
	svc   *alert.Service
}

func newEnv(t *testing.T, settings alert.Settings) *env {
	t.Helper()
	if err := settings.Validate(); err != nil {
		t.Fatal(err)
	}
	st, clk := newMemStore(), clock.NewFake(t0)
	return &env{t: t, store: st, clk: clk, svc: alert.NewService(st, clk, settings)}
}

func (e *env) receive(as ...alert.Alert) alert.Result {
	e.t.Helper()
	res, err := e.svc.Receive(context.Background(), as)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) group(id int64) alert.Group {
	e.t.Helper()
	g, err := e.svc.Group(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return *g
}

func (e *env) payload(key string) alert.JobPayload {
	e.t.Helper()
	j, ok := e.store.jobs[key]
	if !ok {
		e.t.Fatalf("no job %s; jobs: %v", key, e.store.jobKeys())
	}
	var p alert.JobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestReceiveNewGroupIsTriaged(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	res := e.receive(fire("g1", "f1"))
	want := []alert.Received{{AlertID: res.Groups[0].AlertID, GroupID: res.Groups[0].GroupID, New: true, Action: alert.ActionTriage}}
	if diff := cmp.Diff(want, res.Groups); diff != "" || want[0].AlertID == 0 || want[0].GroupID == 0 {
		t.Fatalf("result (-want +got):\n%s", diff)
	}
	g := e.group(res.Groups[0].GroupID)
	if g.Route != alert.DefaultRoute || g.Action != alert.ActionTriage || g.Status != alert.StatusFiring ||
		g.Received != 1 || g.Firing != 1 || !g.FirstSeen.Equal(t0) || g.Storm || g.Title != "HighLatency: checkout p99 over 2s" {
		t.Errorf("group = %+v", g)
	}
	key := fmt.Sprintf("alert.triage:%d", g.ID)
	if got := e.store.jobKeys(); !cmp.Equal(got, []string{key}) {
		t.Errorf("jobs = %v, want [%s]", got, key)
	}
	if j := e.store.jobs[key]; j.Kind != alert.JobTriage || !j.DueAt.Equal(t0) {
		t.Errorf("triage job = %+v, want due now", j)
	}
	if p := e.payload(key); p.GroupID != g.ID || p.Version != g.Version {
		t.Errorf("payload = %+v", p)
	}
	if n, _ := e.store.CountAlerts(context.Background(), t0); n != 1 {
		t.Errorf("stored %d alerts, want 1", n)
	}
}

func TestRepeatsAreCoalescedPerBucket(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	id := e.receive(fire("g1", "f1")).Groups[0].GroupID
	for i := range 50 {
		e.clk.Set(t0.Add(time.Duration(i) * 100 * time.Millisecond)) // 0 … 4.9 s
		if r := e.receive(fire("g1", "f1")); r.Groups[0].New || r.Groups[0].GroupID != id {
			t.Fatalf("repeat %d = %+v, want the same group, not new", i, r.Groups[0])
		}
	}
	e.clk.Set(t0.Add(7 * time.Second))
	e.receive(fire("g1", "f1"))
	want := []string{
		fmt.Sprintf("alert.triage:%d", id),
		fmt.Sprintf("alert.triage:%d@%d", id, t0.Unix()),
		fmt.Sprintf("alert.triage:%d@%d", id, t0.Add(5*time.Second).Unix()),
	}
	if got := e.store.jobKeys(); !cmp.Equal(got, want) {
		t.Fatalf("jobs = %v, want %v: one refresh per group and 5 s bucket", got, want)
	}
	if j := e.store.jobs[want[1]]; !j.DueAt.Equal(t0.Add(alert.RefreshEvery + time.Second)) {
		t.Errorf("refresh due %v, want after its bucket", j.DueAt)
	}
	// The group remembers its bucket: the repeats after the first do not
	// even offer the job again.
	if n := e.store.offered[want[1]]; n != 1 {
		t.Errorf("the refresh of the first bucket was enqueued %d times, want 1", n)
	}
	g := e.group(id)
	if g.Received != 52 || g.Firing != 1 || !g.LastSeen.Equal(t0.Add(7*time.Second)) || g.Version != 52 {
		t.Errorf("group = received %d firing %d last %v version %d", g.Received, g.Firing, g.LastSeen, g.Version)
	}
}

func TestResolvedWhenEveryFingerprintIs(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	res := e.receive(fire("g1", "a"), fire("g1", "b"), fire("g1", "b"))
	id := res.Groups[0].GroupID
	if res.Groups[1].GroupID != id || res.Groups[2].GroupID != id || res.Groups[1].New || !res.Groups[0].New {
		t.Fatalf("batch of one group = %+v", res.Groups)
	}
	steps := []struct {
		alert  alert.Alert
		status alert.Status
		firing int
	}{
		{resolve("g1", "a"), alert.StatusFiring, 1},
		{resolve("g1", "a"), alert.StatusFiring, 1},
		{resolve("g1", "b"), alert.StatusResolved, 0},
		{resolve("g1", "b"), alert.StatusResolved, 0},
		{fire("g1", "a"), alert.StatusFiring, 1},
	}
	for i, st := range steps {
		e.clk.Set(t0.Add(time.Duration(i+1) * time.Minute))
		e.receive(st.alert)
		g := e.group(id)
		if g.Status != st.status || g.Firing != st.firing {
			t.Errorf("step %d: status %s firing %d, want %s %d", i, g.Status, g.Firing, st.status, st.firing)
		}
		switch {
		case i == 2 && !g.ResolvedAt.Equal(t0.Add(3*time.Minute)):
			t.Errorf("step %d: resolved at %v, want when the last fingerprint resolved", i, g.ResolvedAt)
		case i == 3 && !g.ResolvedAt.Equal(t0.Add(3*time.Minute)):
			t.Errorf("step %d: a repeated resolution moved ResolvedAt to %v", i, g.ResolvedAt)
		case i == 4 && !g.ResolvedAt.IsZero():
			t.Errorf("step %d: firing again, ResolvedAt = %v", i, g.ResolvedAt)
		}
	}
}

func TestAcknowledgedCountsAsFiring(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	a := fire("PD1", "")
	a.Source = alert.SourcePagerDuty
	id := e.receive(a).Groups[0].GroupID
	a.Status = alert.StatusAcknowledged
	e.receive(a)
	if g := e.group(id); g.Status != alert.StatusFiring || g.Firing != 1 {
		t.Errorf("acknowledged: %s, %d firing", g.Status, g.Firing)
	}
	a.Status = alert.StatusResolved
	e.receive(a)
	if g := e.group(id); g.Status != alert.StatusResolved || g.Firing != 0 {
		t.Errorf("resolved: %s, %d firing", g.Status, g.Firing)
	}
}

func TestRoutes(t *testing.T) {
	settings := alert.Settings{Routes: []alert.Route{
		{Name: "critical-pages", Match: alert.Match{Source: alert.SourceAlertmanager, Labels: map[string]string{"severity": "critical"}},
			Action: alert.ActionOpen, Severity: incident.Sev1, Systems: []string{"checkout"}},
		{Name: "deploy-files", Match: alert.Match{Source: alert.SourceSplunk, SearchName: "Files changed in /opt/deploy"},
			Action: alert.ActionChange, Systems: []string{"web"}},
		{Name: "also-critical", Match: alert.Match{Severity: "CRITICAL"}, Action: alert.ActionTriage},
	}}
	splunk := alert.Alert{Source: alert.SourceSplunk, GroupKey: "Files changed in /opt/deploy", Fingerprint: "sid1",
		SearchName: "Files changed in /opt/deploy", Title: "Files changed in /opt/deploy"}
	grafana := alert.Alert{Source: alert.SourceGrafana, GroupKey: "fp9", Severity: "critical", Title: "disk"}
	other := alert.Alert{Source: alert.SourceGeneric, GroupKey: "k", Title: "x", Severity: "warning"}
	tests := []struct {
		name   string
		alert  alert.Alert
		route  string
		action alert.Action
		job    string
	}{
		{"first match wins", fire("g1", "f"), "critical-pages", alert.ActionOpen, "alert.open:%d"},
		{"search name", splunk, "deploy-files", alert.ActionChange, "alert.change:%d"},
		{"severity any case", grafana, "also-critical", alert.ActionTriage, "alert.triage:%d"},
		{"no match is triaged", other, alert.DefaultRoute, alert.ActionTriage, "alert.triage:%d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, settings)
			r := e.receive(tc.alert).Groups[0]
			g := e.group(r.GroupID)
			if g.Route != tc.route || g.Action != tc.action || r.Action != tc.action {
				t.Errorf("routed to %s/%s (result %s), want %s/%s", g.Route, g.Action, r.Action, tc.route, tc.action)
			}
			id := r.GroupID
			if tc.action == alert.ActionChange {
				id = r.AlertID
			}
			if want := fmt.Sprintf(tc.job, id); !cmp.Equal(e.store.jobKeys(), []string{want}) {
				t.Errorf("jobs = %v, want [%s]", e.store.jobKeys(), want)
			}
		})
	}
}

func TestChangeRouteLogsEachFiring(t *testing.T) {
	e := newEnv(t, alert.Settings{PerMinute: 1, Routes: []alert.Route{{Name: "deploys", Match: alert.Match{Source: alert.SourceSplunk},
		Action: alert.ActionChange, Systems: []string{"web"}}}})
	run := func(sid string, st alert.Status) alert.Received {
		return e.receive(alert.Alert{Source: alert.SourceSplunk, GroupKey: "deploy", Fingerprint: sid, Status: st, SearchName: "deploy"}).Groups[0]
	}
	first := run("sid1", alert.StatusFiring)
	again := run("sid1", alert.StatusFiring) // the same run, delivered again
	second := run("sid2", alert.StatusFiring)
	run("sid2", alert.StatusResolved)
	refire := run("sid2", alert.StatusFiring)
	want := []string{
		fmt.Sprintf("alert.change:%d", first.AlertID),
		fmt.Sprintf("alert.change:%d", second.AlertID),
		fmt.Sprintf("alert.change:%d", refire.AlertID),
	}
	if got := e.store.jobKeys(); !cmp.Equal(got, want) {
		t.Errorf("jobs = %v, want %v (none for %d, a repeat)", got, want, again.AlertID)
	}
	if p := e.payload(want[0]); p.GroupID != first.GroupID || p.AlertID != first.AlertID {
		t.Errorf("change payload = %+v", p)
	}
	if g := e.group(first.GroupID); g.Storm {
		t.Error("a change route was held to per_minute")
	}
}

func TestBornResolvedIsNotOpened(t *testing.T) {
	e := newEnv(t, alert.Settings{Routes: []alert.Route{{Name: "pages", Action: alert.ActionOpen}}})
	r := e.receive(resolve("g1", "f")).Groups[0]
	g := e.group(r.GroupID)
	if g.Action != alert.ActionTriage || g.Status != alert.StatusResolved || g.ResolvedAt.IsZero() || g.Firing != 0 {
		t.Errorf("group = %+v, want triaged and resolved", g)
	}
	if got := e.store.jobKeys(); !cmp.Equal(got, []string{fmt.Sprintf("alert.triage:%d", g.ID)}) {
		t.Errorf("jobs = %v", got)
	}
}

func TestStorm(t *testing.T) {
	e := newEnv(t, alert.Settings{PerMinute: 5, Routes: []alert.Route{
		{Name: "quiet", Match: alert.Match{Labels: map[string]string{"team": "quiet"}}, PerMinute: 2},
	}})
	var batch []alert.Alert
	for i := range 8 {
		batch = append(batch, fire(fmt.Sprintf("g%02d", i), ""))
	}
	res := e.receive(batch...)
	e.clk.Set(t0.Add(12 * time.Second))
	res2 := e.receive(fire("g10", ""), fire("g11", ""))
	storms, msgs := 0, 0
	for _, r := range append(res.Groups, res2.Groups...) {
		if r.Storm {
			storms++
			if g := e.group(r.GroupID); !g.Storm || !g.StormMinute.Equal(t0) {
				t.Errorf("storm group %+v", g)
			}
		} else {
			msgs++
		}
	}
	if msgs != 5 || storms != 5 {
		t.Errorf("%d messages and %d in the storm, want 5 and 5", msgs, storms)
	}
	digests := 0
	for _, k := range e.store.jobKeys() {
		if strings.HasPrefix(k, "alert.digest:") {
			digests++
			if p := e.payload(k); p.Route != alert.DefaultRoute || !p.Minute.Equal(t0) {
				t.Errorf("digest %s payload %+v", k, p)
			}
		}
	}
	// One posted at once, one per bucket the storm touched (0–5 s, 10–15 s).
	if digests != 3 {
		t.Errorf("%d digest jobs, want 3: %v", digests, e.store.jobKeys())
	}
	first := fmt.Sprintf("alert.digest:default:%d", t0.Unix())
	if j := e.store.jobs[first]; !j.DueAt.Equal(t0) {
		t.Errorf("first digest %+v, want due at once", j)
	}
	// A route's own limit; and the next minute starts afresh.
	q := func(key string) alert.Alert {
		a := fire(key, "")
		a.Labels = map[string]string{"team": "quiet"}
		return a
	}
	r := e.receive(q("q1"), q("q2"), q("q3"))
	if r.Groups[0].Storm || r.Groups[1].Storm || !r.Groups[2].Storm {
		t.Errorf("route per_minute 2: %+v", r.Groups)
	}
	e.clk.Set(t0.Add(time.Minute))
	if r := e.receive(fire("g20", "")); r.Groups[0].Storm {
		t.Error("the next minute is still in the storm")
	}
	// A repeat of a storm group refreshes its digest.
	e.clk.Set(t0.Add(90 * time.Second))
	e.receive(fire("g07", ""))
	key := fmt.Sprintf("alert.digest:default:%d@%d", t0.Unix(), t0.Add(90*time.Second).Unix())
	if _, ok := e.store.jobs[key]; !ok {
		t.Errorf("no digest refresh %s: %v", key, e.store.jobKeys())
	}
}

func TestRepeatWithIncident(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	ctx := context.Background()
	id := e.receive(fire("g1", "f")).Groups[0].GroupID
	if _, err := e.svc.Declare(ctx, id, 77, "U1"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(t0.Add(time.Minute))
	e.receive(fire("g1", "f"))
	e.clk.Set(t0.Add(12 * time.Minute))
	e.receive(resolve("g1", "f"))
	g := e.group(id)
	for _, k := range []string{
		fmt.Sprintf("alert.triage:%d@%d", id, t0.Add(time.Minute).Unix()),
		fmt.Sprintf("alert.incident:%d@%d", id, t0.Add(time.Minute).Unix()),
		fmt.Sprintf("alert.incident:%d@%d", id, t0.Add(12*time.Minute).Unix()),
		fmt.Sprintf("alert.incident:%d:resolved@%d", id, g.ResolvedAt.UnixMicro()),
	} {
		if _, ok := e.store.jobs[k]; !ok {
			t.Errorf("no job %s: %v", k, e.store.jobKeys())
		}
	}
	res := e.payload(fmt.Sprintf("alert.incident:%d:resolved@%d", id, g.ResolvedAt.UnixMicro()))
	if !res.Resolved {
		t.Errorf("resolution payload %+v", res)
	}
	if j := e.store.jobs[fmt.Sprintf("alert.incident:%d:resolved@%d", id, g.ResolvedAt.UnixMicro())]; !j.DueAt.Equal(t0.Add(12 * time.Minute)) {
		t.Errorf("resolution due %v, want at once", j.DueAt)
	}
	groups, _ := e.svc.ForIncident(ctx, 77)
	if len(groups) != 1 || groups[0].ID != id {
		t.Errorf("ForIncident = %+v", groups)
	}
}

func TestReceiveRefusesAndStoresNothing(t *testing.T) {
	long := strings.Repeat("k", alert.MaxKey+1)
	tests := []struct {
		name  string
		alert alert.Alert
	}{
		{"unknown source", alert.Alert{Source: "nagios", GroupKey: "k"}},
		{"no source", alert.Alert{GroupKey: "k"}},
		{"no key", alert.Alert{Source: alert.SourceGeneric, GroupKey: "  "}},
		{"bad status", alert.Alert{Source: alert.SourceGeneric, GroupKey: "k", Status: "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, alert.Settings{})
			_, err := e.svc.Receive(context.Background(), []alert.Alert{fire(long, ""), tc.alert})
			if !errors.Is(err, alert.ErrInvalid) || !strings.Contains(err.Error(), "alert 2") {
				t.Errorf("err = %v, want ErrInvalid naming alert 2", err)
			}
			if len(e.store.groups) != 0 || len(e.store.alerts) != 0 {
				t.Error("a refused batch stored something")
			}
		})
	}
	e := newEnv(t, alert.Settings{})
	e.store.fail = errBoom
	if _, err := e.svc.Receive(context.Background(), []alert.Alert{fire("g", "")}); !errors.Is(err, errBoom) {
		t.Errorf("failed enqueue: %v", err)
	}
	if len(e.store.groups) != 0 || len(e.store.alerts) != 0 {
		t.Error("a failed intake stored something")
	}
}

func TestReceiveBoundsWhatItKeeps(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	a := fire(strings.Repeat("k", 2*alert.MaxKey), strings.Repeat("f", 2*alert.MaxKey))
	a.Title = "  two\n lines \u202e" + strings.Repeat("t", 2*alert.MaxTitle)
	a.Status = ""
	r := e.receive(a).Groups[0]
	g := e.group(r.GroupID)
	if !strings.HasPrefix(g.Key, "sha256:") || len(g.Key) > alert.MaxKey {
		t.Errorf("key %q, want its SHA-256", g.Key)
	}
	if n := len([]rune(g.Title)); n != alert.MaxTitle || strings.ContainsAny(g.Title, "\n\u202e") || !strings.HasPrefix(g.Title, "two lines") {
		t.Errorf("title %q (%d characters)", g.Title, n)
	}
	if g.Status != alert.StatusFiring {
		t.Errorf("no status read as %s, want firing", g.Status)
	}
	// The same long key again finds the same group.
	if r2 := e.receive(a).Groups[0]; r2.GroupID != r.GroupID {
		t.Error("a long key did not group")
	}
}

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	type step func(s *alert.Service, id int64) (*alert.Group, error)
	declare := func(inc int64) step {
		return func(s *alert.Service, id int64) (*alert.Group, error) { return s.Declare(ctx, id, inc, "U1") }
	}
	attach := func(inc int64) step {
		return func(s *alert.Service, id int64) (*alert.Group, error) { return s.Attach(ctx, id, inc, "U2") }
	}
	dismiss := func(reason string) step {
		return func(s *alert.Service, id int64) (*alert.Group, error) { return s.Dismiss(ctx, id, "U3", reason) }
	}
	opened := func(inc int64) step {
		return func(s *alert.Service, id int64) (*alert.Group, error) { return s.Opened(ctx, id, inc) }
	}
	tests := []struct {
		name     string
		steps    []step
		err      error
		decision alert.Decision
		incident int64
	}{
		{"declare", []step{declare(5)}, nil, alert.DecisionDeclared, 5},
		{"declare twice", []step{declare(5), declare(5)}, nil, alert.DecisionDeclared, 5},
		{"attach", []step{attach(6)}, nil, alert.DecisionAttached, 6},
		{"attach to another", []step{declare(5), attach(6)}, alert.ErrLinked, alert.DecisionDeclared, 5},
		{"declare when attached", []step{attach(6), declare(5)}, alert.ErrLinked, alert.DecisionAttached, 6},
		{"attach dismissed", []step{dismiss("maintenance"), attach(6)}, alert.ErrDismissed, alert.DecisionDismissed, 0},
		{"declare dismissed", []step{dismiss("maintenance"), declare(6)}, alert.ErrDismissed, alert.DecisionDismissed, 0},
		{"dismiss linked", []step{attach(6), dismiss("noise")}, alert.ErrLinked, alert.DecisionAttached, 6},
		{"dismiss without reason", []step{dismiss("  ")}, alert.ErrInvalid, alert.DecisionNone, 0},
		{"dismiss too long", []step{dismiss(strings.Repeat("x", alert.MaxReason+1))}, alert.ErrInvalid, alert.DecisionNone, 0},
		{"opened", []step{opened(9), opened(9)}, nil, alert.DecisionOpened, 9},
		{"opened then another", []step{opened(9), opened(10)}, alert.ErrLinked, alert.DecisionOpened, 9},
		{"unknown group", []step{func(s *alert.Service, _ int64) (*alert.Group, error) { return s.Attach(ctx, 999, 1, "U1") }}, alert.ErrNoGroup, alert.DecisionNone, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, alert.Settings{})
			id := e.receive(fire("g1", "f")).Groups[0].GroupID
			var err error
			for _, st := range tc.steps {
				_, err = st(e.svc, id)
			}
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && !strings.Contains(err.Error(), "ALR-") && tc.err != alert.ErrInvalid && tc.err != alert.ErrNoGroup {
				t.Errorf("error %q does not name the alert", err)
			}
			g := e.group(id)
			if g.Decision != tc.decision || g.IncidentID != tc.incident {
				t.Errorf("decision %q incident %d, want %q %d", g.Decision, g.IncidentID, tc.decision, tc.incident)
			}
		})
	}
}

func TestDecisionJobs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, alert.Settings{})
	id := e.receive(fire("g1", "f")).Groups[0].GroupID
	g, err := e.svc.Dismiss(ctx, id, "U3", " planned   maintenance ")
	if err != nil {
		t.Fatal(err)
	}
	if g.Reason != "planned maintenance" || g.DecidedBy != "U3" || !g.DecidedAt.Equal(t0) {
		t.Errorf("dismissed = %+v", g)
	}
	key := fmt.Sprintf("alert.triage:%d:v%d", id, g.Version)
	if j, ok := e.store.jobs[key]; !ok || !j.DueAt.Equal(t0) {
		t.Errorf("no refresh of the triage message %s: %v", key, e.store.jobKeys())
	}
	// The same dismissal again changes nothing: no new version, no job.
	before := len(e.store.jobs)
	g2, err := e.svc.Dismiss(ctx, id, "U3", "planned maintenance")
	if err != nil || g2.Version != g.Version || len(e.store.jobs) != before {
		t.Errorf("repeated dismissal: %v, version %d→%d, jobs %d→%d", err, g.Version, g2.Version, before, len(e.store.jobs))
	}

	// Opened after the group resolved tells the incident at once, with
	// the key Receive would have used.
	e2 := newEnv(t, alert.Settings{Routes: []alert.Route{{Name: "pages", Action: alert.ActionOpen}}})
	id2 := e2.receive(fire("g2", "f")).Groups[0].GroupID
	e2.clk.Advance(time.Minute)
	e2.receive(resolve("g2", "f"))
	og, err := e2.svc.Opened(ctx, id2, 3)
	if err != nil {
		t.Fatal(err)
	}
	rk := fmt.Sprintf("alert.incident:%d:resolved@%d", id2, og.ResolvedAt.UnixMicro())
	if p := e2.payload(rk); !p.Resolved {
		t.Errorf("payload %+v", p)
	}
	if _, err := e2.svc.Logged(ctx, id2, 0); err == nil {
		t.Error("Logged with no change ID succeeded")
	}
	lg, err := e2.svc.Logged(ctx, id2, 42)
	if err != nil || lg.ChangeID != 42 || lg.Decision != alert.DecisionOpened {
		t.Errorf("Logged = %+v, %v (the decision stays opened)", lg, err)
	}
}

func TestDeclareKey(t *testing.T) {
	if alert.DeclareKey(12) != "alert:12" || alert.DeclareKey(12) == alert.DeclareKey(13) {
		t.Errorf("DeclareKey(12) = %q", alert.DeclareKey(12))
	}
}

// TestConcurrentReceivesShareTransactions: calls that arrive while the
// transactions are busy are stored together, each getting its own result.
func TestConcurrentReceivesShareTransactions(t *testing.T) {
	for _, failBatches := range []bool{false, true} {
		t.Run(fmt.Sprint("failBatches=", failBatches), func(t *testing.T) {
			e := newEnv(t, alert.Settings{PerMinute: 100})
			e.store.gate = make(chan struct{})
			e.store.failBatches = failBatches
			const calls = 12
			results := make([]alert.Result, calls)
			errs := make([]error, calls)
			done := make(chan int)
			call := func(i int) {
				go func() {
					results[i], errs[i] = e.svc.Receive(context.Background(), []alert.Alert{fire(fmt.Sprintf("g%d", i%4), fmt.Sprintf("f%d", i))})
					done <- i
				}()
			}
			// DefaultParallel calls lead, each with its own alert, and
			// wait at the gate; the rest wait for them.
			for i := range alert.DefaultParallel {
				call(i)
				for e.store.atGate.Load() < int64(i+1) {
					time.Sleep(time.Millisecond)
				}
			}
			for i := alert.DefaultParallel; i < calls; i++ {
				call(i)
			}
			for e.svc.Waiting() < calls-alert.DefaultParallel {
				time.Sleep(time.Millisecond)
			}
			go func() {
				for {
					select {
					case e.store.gate <- struct{}{}:
					case <-time.After(5 * time.Second):
						return
					}
				}
			}()
			for range calls {
				<-done
			}
			for i := range calls {
				if errs[i] != nil {
					t.Fatalf("call %d: %v", i, errs[i])
				}
				if len(results[i].Groups) != 1 {
					t.Fatalf("call %d: result %+v", i, results[i])
				}
			}
			seen := map[int64]bool{}
			groupOf := map[int]int64{}
			for i, r := range results {
				got := r.Groups[0]
				if seen[got.AlertID] {
					t.Errorf("alert %d given to two calls", got.AlertID)
				}
				seen[got.AlertID] = true
				if prev, ok := groupOf[i%4]; ok && prev != got.GroupID {
					t.Errorf("key g%d in groups %d and %d", i%4, prev, got.GroupID)
				}
				groupOf[i%4] = got.GroupID
			}
			for k, id := range groupOf {
				if g := e.group(id); g.Received != calls/4 || g.Firing != calls/4 {
					t.Errorf("g%d: received %d firing %d, want %d", k, g.Received, g.Firing, calls/4)
				}
			}
			commits := e.svc.Commits()
			if !failBatches && commits >= calls {
				t.Errorf("%d transactions for %d waiting calls: none shared", commits, calls)
			}
			if failBatches && commits <= calls {
				t.Errorf("%d transactions: a failed shared one was not retried call by call", commits)
			}
		})
	}
}

// TestGroupCreatedMeanwhile: a group another intake created after this
// one looked (Tx.SaveGroup answers ErrGroupExists) is joined, not doubled.
func TestGroupCreatedMeanwhile(t *testing.T) {
	e := newEnv(t, alert.Settings{})
	first := e.receive(fire("g1", "a")).Groups[0]
	e.store.hide = true
	second := e.receive(fire("g1", "b")).Groups[0]
	if e.store.hide {
		t.Fatal("the test's Groups was not called")
	}
	if second.GroupID != first.GroupID || second.New {
		t.Errorf("second = %+v, want the first's group, not new", second)
	}
	if g := e.group(first.GroupID); g.Received != 2 || g.Firing != 2 || len(e.store.groups) != 1 {
		t.Errorf("group %+v; %d groups", g, len(e.store.groups))
	}
}

// TestLinkInMidBucket: a repeat in the bucket in which the group was
// linked to an incident, after its triage refresh was scheduled, still
// schedules the incident's.
func TestLinkInMidBucket(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, alert.Settings{})
	id := e.receive(fire("g1", "f")).Groups[0].GroupID
	e.clk.Set(t0.Add(time.Minute))
	e.receive(fire("g1", "f"))
	if _, err := e.svc.Attach(ctx, id, 77, "U2"); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(t0.Add(time.Minute + time.Second))
	e.receive(fire("g1", "f"))
	key := fmt.Sprintf("alert.incident:%d@%d", id, t0.Add(time.Minute).Unix())
	if _, ok := e.store.jobs[key]; !ok {
		t.Errorf("no incident refresh %s: %v", key, e.store.jobKeys())
	}
}
