package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/storage"
)

// The alert store's part of the conformance suite (conformance_test.go).

func amAlert(key, fp string, st alert.Status) alert.Alert {
	return alert.Alert{Source: alert.SourceAlertmanager, GroupKey: key, Fingerprint: fp, Status: st,
		Title: "HighLatency", Severity: "critical", Labels: map[string]string{"severity": "critical", "team": "pay"},
		Systems: []string{"checkout", "a,b"}, Link: "https://prom/graph?g0.expr=x&g0.tab=1", Details: "p99 <b>2s</b>",
		StartsAt: t0.Add(-time.Minute + 789*time.Nanosecond)}
}

// testAlertIntake receives, repeats and resolves through the domain
// service and reads back what the store holds.
func testAlertIntake(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	svc := alert.NewService(s, clk, alert.Settings{})
	res, err := svc.Receive(ctx, []alert.Alert{amAlert("g1", "a", alert.StatusFiring), amAlert("g1", "b", alert.StatusFiring), amAlert("g2", "", "")})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Groups[0].GroupID
	if !res.Groups[0].New || res.Groups[1].New || res.Groups[1].GroupID != id || !res.Groups[2].New || res.Groups[2].GroupID == id {
		t.Fatalf("result %+v", res.Groups)
	}
	g, err := s.AlertGroup(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &alert.Group{ID: id, Source: alert.SourceAlertmanager, Key: "g1", Route: alert.DefaultRoute, Action: alert.ActionTriage,
		Title: "HighLatency", Severity: "critical", Labels: map[string]string{"severity": "critical", "team": "pay"},
		Systems: []string{"checkout", "a,b"}, Link: "https://prom/graph?g0.expr=x&g0.tab=1", Details: "p99 <b>2s</b>",
		Status: alert.StatusFiring, Received: 2, Firing: 2, FirstSeen: t0.Truncate(time.Microsecond), LastSeen: t0.Truncate(time.Microsecond), Version: 2}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	if _, err := s.JobByKey(ctx, fmt.Sprintf("%s:%d", alert.JobTriage, id)); err != nil {
		t.Errorf("no triage job: %v", err)
	}

	clk.Advance(2 * time.Second)
	if _, err := svc.Receive(ctx, []alert.Alert{amAlert("g1", "a", alert.StatusResolved)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if _, err := svc.Receive(ctx, []alert.Alert{amAlert("g1", "b", alert.StatusResolved)}); err != nil {
		t.Fatal(err)
	}
	g, _ = s.AlertGroup(ctx, id)
	if g.Status != alert.StatusResolved || g.Firing != 0 || g.Received != 4 || !g.ResolvedAt.Equal(ts0(4*time.Second)) {
		t.Errorf("after both resolved: %s, %d firing, %d received, resolved at %v", g.Status, g.Firing, g.Received, g.ResolvedAt)
	}
	// Two repeats in one bucket: one refresh job.
	j, err := s.JobByKey(ctx, fmt.Sprintf("%s:%d@%d", alert.JobTriage, id, t0.Unix()))
	if err != nil || j.Kind != alert.JobTriage || !j.DueAt.Equal(t0.Truncate(time.Second).Add(alert.RefreshEvery+time.Second)) {
		t.Errorf("refresh job %+v, %v", j, err)
	}

	as, err := s.GroupAlerts(ctx, id, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || as[0].Fingerprint != "b" || as[0].Status != alert.StatusResolved || as[2].Status != alert.StatusFiring {
		t.Fatalf("GroupAlerts = %+v, want the latest 3, newest first", as)
	}
	wantA := amAlert("g1", "b", alert.StatusResolved)
	wantA.ID, wantA.ReceivedAt, wantA.StartsAt = as[0].ID, ts0(4*time.Second), ts0(-time.Minute)
	if diff := cmp.Diff(wantA, as[0]); diff != "" {
		t.Errorf("alert read back (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		since time.Time
		want  int64
	}{{t0.Add(-time.Hour), 5}, {t0.Add(time.Second), 2}, {t0.Add(3 * time.Second), 1}, {t0.Add(time.Minute), 0}} {
		if n, err := s.CountAlerts(ctx, tc.since); err != nil || n != tc.want {
			t.Errorf("CountAlerts(%v) = %d, %v; want %d", tc.since, n, err, tc.want)
		}
	}
}

// ts0 is t0+d as the store keeps it.
func ts0(d time.Duration) time.Time { return t0.Add(d).Truncate(time.Microsecond) }

// testAlertRollback: a failed intake keeps nothing, not even its new group.
func testAlertRollback(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Intake(ctx, func(tx alert.Tx) error {
		g := &alert.Group{Source: alert.SourceGeneric, Key: "k", Route: "r", Action: alert.ActionTriage, Status: alert.StatusFiring, FirstSeen: t0, LastSeen: t0}
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		if _, err := tx.SetMember(g.ID, "", alert.StatusFiring, t0); err != nil {
			return err
		}
		a := amAlert("k", "", alert.StatusFiring)
		a.ReceivedAt = t0
		if err := tx.AddAlert(g.ID, &a); err != nil {
			return err
		}
		if _, err := tx.Take("r", t0); err != nil {
			return err
		}
		if err := tx.Enqueue(jobs.Job{Kind: "x", Key: "rollback", DueAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Intake = %v", err)
	}
	err = s.Intake(ctx, func(tx alert.Tx) error {
		if g, err := tx.Group(alert.SourceGeneric, "k"); err != nil || g != nil {
			t.Errorf("group after rollback: %+v, %v", g, err)
		}
		if n, err := tx.Take("r", t0); err != nil || n != 1 {
			t.Errorf("storm count after rollback = %d, %v; want 1", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountAlerts(ctx, t0.Add(-time.Hour)); n != 0 {
		t.Errorf("%d alerts after rollback", n)
	}
	if _, err := s.JobByKey(ctx, "rollback"); err == nil {
		t.Error("a job of a rolled back intake was kept")
	}
}

// testAlertMembers: SetMember returns the status before, "" for a new
// fingerprint.
func testAlertMembers(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var gid int64
	err := s.Intake(ctx, func(tx alert.Tx) error {
		g := &alert.Group{Source: alert.SourceGrafana, Key: "fp", Route: "r", Action: alert.ActionTriage, Status: alert.StatusFiring, FirstSeen: t0, LastSeen: t0}
		if err := tx.SaveGroup(g); err != nil {
			return err
		}
		gid = g.ID
		dup := &alert.Group{Source: alert.SourceGrafana, Key: "fp", Route: "r", Status: alert.StatusFiring, FirstSeen: t0, LastSeen: t0}
		if err := tx.SaveGroup(dup); !errors.Is(err, alert.ErrGroupExists) || dup.ID != 0 {
			t.Errorf("second insert of one key = %v, id %d; want ErrGroupExists", err, dup.ID)
		}
		for i, step := range []struct {
			fp   string
			st   alert.Status
			prev alert.Status
		}{
			{"a", alert.StatusFiring, ""},
			{"a", alert.StatusFiring, alert.StatusFiring},
			{"a", alert.StatusAcknowledged, alert.StatusFiring},
			{"b", alert.StatusFiring, ""},
			{"a", alert.StatusResolved, alert.StatusAcknowledged},
			{"a", alert.StatusResolved, alert.StatusResolved},
			{"", alert.StatusFiring, ""},
		} {
			prev, err := tx.SetMember(g.ID, step.fp, step.st, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				return err
			}
			if prev != step.prev {
				t.Errorf("step %d: SetMember(%q, %s) = %q, want %q", i, step.fp, step.st, prev, step.prev)
			}
		}
		// Add: several alerts, a fingerprint twice, one unchanged.
		var as []*alert.Alert
		var entries []alert.Entry
		for _, m := range []struct {
			fp string
			st alert.Status
		}{{"a", alert.StatusFiring}, {"a", alert.StatusResolved}, {"c", alert.StatusFiring}, {"b", alert.StatusFiring}, {"a", alert.StatusFiring}} {
			a := amAlert("fp", m.fp, m.st)
			a.ReceivedAt = t0
			as = append(as, &a)
			entries = append(entries, alert.Entry{GroupID: g.ID, Alert: &a})
		}
		prev, err := tx.Add(entries, t0.Add(time.Minute))
		if err != nil {
			return err
		}
		want := []alert.Status{alert.StatusResolved, alert.StatusFiring, "", alert.StatusFiring, alert.StatusResolved}
		if !cmp.Equal(prev, want) {
			t.Errorf("Add = %v, want %v", prev, want)
		}
		for i := 1; i < len(as); i++ {
			if as[i].ID <= as[i-1].ID {
				t.Errorf("Add set IDs out of order: %d then %d", as[i-1].ID, as[i].ID)
			}
		}
		for fp, st := range map[string]alert.Status{"a": alert.StatusFiring, "b": alert.StatusFiring, "c": alert.StatusFiring} {
			if p, err := tx.SetMember(g.ID, fp, st, t0.Add(time.Hour)); err != nil || p != st {
				t.Errorf("after Add, %s was %q (%v), want %s", fp, p, err, st)
			}
		}
		if prev, err := tx.Add(nil, t0); err != nil || len(prev) != 0 {
			t.Errorf("Add of nothing = %v, %v", prev, err)
		}
		// Groups: in the order asked, nil for none, a key twice.
		other := &alert.Group{Source: alert.SourceGeneric, Key: "fp", Route: "r", Action: alert.ActionOpen, Status: alert.StatusFiring, FirstSeen: t0, LastSeen: t0}
		if err := tx.SaveGroup(other); err != nil {
			return err
		}
		gs, err := tx.Groups([]alert.Key{{Source: alert.SourceGeneric, Key: "fp"}, {Source: alert.SourceSplunk, Key: "none"},
			{Source: alert.SourceGrafana, Key: "fp"}, {Source: alert.SourceGeneric, Key: "fp"}})
		if err != nil {
			return err
		}
		if len(gs) != 4 || gs[0] == nil || gs[0].ID != other.ID || gs[1] != nil || gs[2] == nil || gs[2].ID != g.ID ||
			gs[3] == nil || gs[3].ID != other.ID || gs[0] == gs[3] {
			t.Errorf("Groups = %+v", gs)
		}
		// SaveGroups: several at once, every field.
		gs[0].Title, gs[0].Received, gs[0].Storm, gs[0].StormMinute, gs[0].IncidentID = "one", 3, true, t0, 12
		gs[0].Labels, gs[0].Systems, gs[0].ResolvedAt, gs[0].Refreshed = map[string]string{"a": "b"}, []string{"x"}, t0.Add(time.Second), t0
		gs[2].Title, gs[2].Decision, gs[2].DecidedAt, gs[2].Reason, gs[2].Version = "two", alert.DecisionDismissed, t0.Add(time.Hour), "noise", 9
		if err := tx.SaveGroups([]*alert.Group{gs[0], gs[2]}); err != nil {
			return err
		}
		back, err := tx.Groups([]alert.Key{{Source: alert.SourceGeneric, Key: "fp"}, {Source: alert.SourceGrafana, Key: "fp"}})
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*alert.Group{gs[0], gs[2]}, back); diff != "" {
			t.Errorf("SaveGroups read back (-want +got):\n%s", diff)
		}
		// Several jobs at once, one of them known already.
		if err := tx.Enqueue(jobs.Job{Kind: "k", Key: "j1", DueAt: t0}); err != nil {
			return err
		}
		if err := tx.Enqueue(jobs.Job{Kind: "k2", Key: "j2", DueAt: t0.Add(time.Second), Payload: []byte(`{"a":1}`)},
			jobs.Job{Kind: "other", Key: "j1", DueAt: t0.Add(time.Hour)}, jobs.Job{Kind: "k3", DueAt: t0}); err != nil {
			return err
		}
		return nil
	})
	if err == nil {
		j1, err1 := s.JobByKey(ctx, "j1")
		j2, err2 := s.JobByKey(ctx, "j2")
		if err1 != nil || err2 != nil || j1.Kind != "k" || j2.Kind != "k2" || string(j2.Payload) != `{"a":1}` ||
			!j2.DueAt.Equal(ts0(time.Second)) || j2.State != jobs.StatePending {
			t.Errorf("jobs enqueued together: %+v %v, %+v %v", j1, err1, j2, err2)
		}
		gas, _ := s.GroupAlerts(ctx, gid, 10)
		if len(gas) != 5 || gas[0].Status != alert.StatusFiring || gas[1].Fingerprint != "b" || gas[4].Status != alert.StatusFiring ||
			gas[3].Status != alert.StatusResolved || !gas[0].StartsAt.Equal(ts0(-time.Minute)) || !gas[0].EndsAt.IsZero() {
			t.Errorf("alerts Add stored, newest first: %+v", gas)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testAlertConcurrentIntake: callers racing on the same new groups, in
// batches whose groups come in different orders, make one group each, and
// lose no alert.
func testAlertConcurrentIntake(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	svc := alert.NewService(s, clock.NewFake(t0), alert.Settings{PerMinute: 3})
	const callers, rounds, groups = 8, 10, 6
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for r := range rounds {
				var batch []alert.Alert
				for k := range groups {
					gk := (k + c + r) % groups // each caller its own order
					batch = append(batch, amAlert(fmt.Sprintf("g%d", gk), fmt.Sprintf("f%d", c), alert.StatusFiring))
				}
				if _, err := svc.Receive(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := s.AlertGroups(ctx, alert.GroupQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != groups {
		t.Fatalf("%d groups, want %d", len(all), groups)
	}
	storms, total := 0, 0
	for _, g := range all {
		total += g.Received
		if g.Firing != callers {
			t.Errorf("%s: %d firing, want %d (one fingerprint per caller)", g.Key, g.Firing, callers)
		}
		if g.Storm {
			storms++
		}
	}
	if total != callers*rounds*groups {
		t.Errorf("groups count %d alerts, want %d", total, callers*rounds*groups)
	}
	if n, _ := s.CountAlerts(ctx, t0.Add(-time.Hour)); n != callers*rounds*groups {
		t.Errorf("%d alerts stored, want %d", n, callers*rounds*groups)
	}
	if storms != groups-3 {
		t.Errorf("%d groups in the storm, want %d (per_minute 3)", storms, groups-3)
	}
	stormy, err := s.AlertGroups(ctx, alert.GroupQuery{Route: alert.DefaultRoute, StormMinute: t0.Truncate(time.Minute), Storm: true, Limit: 2})
	if err != nil || len(stormy) != 2 || !stormy[0].Storm || stormy[0].ID < stormy[1].ID {
		t.Errorf("storm digest's groups = %+v, %v; want 2, newest first", stormy, err)
	}
}

// testAlertDecisions: the decisions through the domain service, on the
// store.
func testAlertDecisions(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	svc := alert.NewService(s, clk, alert.Settings{})
	res, err := svc.Receive(ctx, []alert.Alert{amAlert("d1", "", ""), amAlert("d2", "", ""), amAlert("d3", "", "")})
	if err != nil {
		t.Fatal(err)
	}
	d1, d2, d3 := res.Groups[0].GroupID, res.Groups[1].GroupID, res.Groups[2].GroupID
	clk.Advance(time.Minute)
	g, err := svc.Declare(ctx, d1, 41, "U1")
	if err != nil {
		t.Fatal(err)
	}
	if g.Decision != alert.DecisionDeclared || g.IncidentID != 41 || g.DecidedBy != "U1" || !g.DecidedAt.Equal(ts0(time.Minute)) || g.Version != 2 {
		t.Errorf("declared = %+v", g)
	}
	if back, _ := s.AlertGroup(ctx, d1); !cmp.Equal(g, back) {
		t.Errorf("read back differs:\n%s", cmp.Diff(g, back))
	}
	if _, err := svc.Attach(ctx, d2, 41, "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Attach(ctx, d1, 42, "U2"); !errors.Is(err, alert.ErrLinked) {
		t.Errorf("attach a declared group elsewhere = %v", err)
	}
	if _, err := svc.Dismiss(ctx, d3, "U3", "planned maintenance"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Attach(ctx, d3, 41, "U2"); !errors.Is(err, alert.ErrDismissed) {
		t.Errorf("attach a dismissed group = %v", err)
	}
	if _, err := svc.Attach(ctx, 9999, 41, "U2"); !errors.Is(err, alert.ErrNoGroup) {
		t.Errorf("attach an unknown group = %v", err)
	}
	if g3, _ := s.AlertGroup(ctx, d3); g3.Reason != "planned maintenance" || g3.Decision != alert.DecisionDismissed {
		t.Errorf("dismissed = %+v", g3)
	}
	linked, err := svc.ForIncident(ctx, 41)
	if err != nil || len(linked) != 2 || linked[0].ID != d2 || linked[1].ID != d1 {
		t.Errorf("ForIncident = %+v, %v", linked, err)
	}
	if _, err := s.JobByKey(ctx, fmt.Sprintf("%s:%d:attached@41", alert.JobIncident, d2)); err != nil {
		t.Errorf("attach told the incident nothing: %v", err)
	}
	if _, err := svc.Logged(ctx, d3, 7); err != nil {
		t.Fatal(err)
	}
	if g3, _ := s.AlertGroup(ctx, d3); g3.ChangeID != 7 || g3.Decision != alert.DecisionDismissed {
		t.Errorf("logged = %+v", g3)
	}
	// The triage message and the storm digest are located by what the
	// bot saves.
	g, err = s.UpdateAlertGroup(ctx, d1, func(g *alert.Group) error {
		g.TriageChannel, g.TriageTS = "C1", "1700000000.000100"
		return nil
	}, nil)
	if err != nil || g.TriageTS != "1700000000.000100" {
		t.Fatalf("saving the triage message: %+v, %v", g, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateAlertGroup(ctx, d1, func(g *alert.Group) error { g.Title = "changed"; return boom }, nil); !errors.Is(err, boom) {
		t.Errorf("a failed change = %v", err)
	}
	if back, _ := s.AlertGroup(ctx, d1); back.Title != "HighLatency" || back.Version != g.Version || back.TriageChannel != "C1" {
		t.Errorf("a failed change was kept: %+v", back)
	}
}
