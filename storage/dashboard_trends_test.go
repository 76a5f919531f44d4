package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

func floatp(v float64) *float64 { return &v }

func TestDashboardTrendsSQLite(t *testing.T) { t.Parallel(); testDashboardTrends(t, openSQLite(t)) }
func TestDashboardTrendsPostgres(t *testing.T) {
	t.Parallel()
	pgtest.URL(t)
	testDashboardTrends(t, openPostgres(t))
}

// testDashboardTrends stores incidents with every kind of fact the trends
// read (times, cost, a diagnosis clock with an earlier box) and a
// postmortem with actions, and checks that the trend rows of a window are
// the window's incidents and actions as the store reads them back whole.
func testDashboardTrends(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	model := incident.DefaultCostModel()
	type setup struct {
		opened time.Time
		change func(inc *incident.Incident)
	}
	setups := []setup{
		{t0.Add(-48 * time.Hour), nil}, // before the window
		{t0, func(inc *incident.Incident) {
			inc.AcknowledgedAt, inc.RestoredAt = t0.Add(3*time.Minute), t0.Add(time.Hour)
			inc.ResolvedAt, inc.ClosedAt = t0.Add(2*time.Hour), t0.Add(3*time.Hour)
			c := model.Price(incident.CostInput{CustomersAffected: intp(100), RevenueLost: floatp(20000)})
			inc.Cost = &c
			inc.Timebox = incident.Timebox{Generation: 2, StartedAt: t0.Add(10 * time.Minute), Length: 30 * time.Minute,
				Deadline: t0.Add(40 * time.Minute), EndedAt: t0.Add(35 * time.Minute),
				Earlier: []incident.Box{{StartedAt: t0, Length: 10 * time.Minute, Deadline: t0.Add(10 * time.Minute), EndedAt: t0.Add(10 * time.Minute), Ended: "restarted: wrong lead"}}}
		}},
		{t0.Add(time.Hour), func(inc *incident.Incident) {
			inc.Severity, inc.Private = incident.Sev4, true
			inc.Timebox = incident.Timebox{Generation: 1, StartedAt: t0.Add(time.Hour), Length: time.Hour, Deadline: t0.Add(2 * time.Hour), Span: time.Hour}
		}},
		{t0.Add(24 * time.Hour), func(inc *incident.Incident) {
			c := model.Price(incident.CostInput{CustomersAffected: intp(1)})
			inc.Cost = &c
			start := t0.Add(24*time.Hour + time.Second)
			inc.Timebox = incident.Timebox{Generation: 1, StartedAt: start, Length: 30 * time.Minute, Deadline: start.Add(30 * time.Minute),
				EndedAt: start.Add(45*time.Minute + 500*time.Millisecond), Span: 30 * time.Minute, WarnedAt: start.Add(25 * time.Minute)}
		}},
		{t0.Add(7 * 24 * time.Hour), nil}, // at the window's end: outside
	}
	var ids []int64
	for i, st := range setups {
		inc := newIncident("trend", "")
		inc.OpenedAt = st.opened
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
		if st.change == nil {
			continue
		}
		if _, _, err := s.UpdateIncident(ctx, inc.ID, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
			st.change(inc)
			return nil, nil
		}, nil); err != nil {
			t.Fatalf("incident %d: %v", i, err)
		}
	}
	from, to := t0, t0.Add(7*24*time.Hour)
	got, err := s.TrendIncidents(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var want []incident.TrendIncident
	for _, id := range ids[1:4] {
		inc, err := s.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		ti := incident.TrendIncident{OpenedAt: inc.OpenedAt, AcknowledgedAt: inc.AcknowledgedAt, RestoredAt: inc.RestoredAt,
			ResolvedAt: inc.ResolvedAt, ClosedAt: inc.ClosedAt, Severity: inc.Severity}
		if inc.Timebox.Generation > 0 {
			tb := inc.Timebox
			ti.Timebox = &tb
		}
		if inc.Cost != nil {
			ti.Class = inc.Cost.Class
		}
		want = append(want, ti)
	}
	byOpened := func(a, b incident.TrendIncident) int { return a.OpenedAt.Compare(b.OpenedAt) }
	slices.SortFunc(got, byOpened)
	// The clocks come back with what their verdicts need: the one with an
	// earlier box whole, the others as generation, start, deadline and end.
	noClock := cmp.Transformer("noClock", func(t incident.TrendIncident) incident.TrendIncident { t.Timebox = nil; return t })
	if diff := cmp.Diff(want, got, noClock); diff != "" {
		t.Errorf("trend incidents (-want +got):\n%s", diff)
	}
	if len(got) == 3 {
		if diff := cmp.Diff(want[0].Timebox, got[0].Timebox); diff != "" {
			t.Errorf("a clock with an earlier box (-want +got):\n%s", diff)
		}
		for i, tb := range []*incident.Timebox{want[1].Timebox, want[2].Timebox} {
			g := got[i+1].Timebox
			if g == nil || tb == nil {
				t.Fatalf("clock %d: got %v, want %v", i+1, g, tb)
			}
			if g.Generation != tb.Generation || !g.StartedAt.Equal(tb.StartedAt) || !g.Deadline.Equal(tb.Deadline) || !g.EndedAt.Equal(tb.EndedAt) {
				t.Errorf("clock %d: got %+v, want %+v", i+1, g, tb)
			}
		}
	}
	now := t0.Add(90 * time.Minute)
	if diff := cmp.Diff(incident.ComputeTrends(want, nil, now, 2, time.UTC).Weeks, incident.ComputeTrends(got, nil, now, 2, time.UTC).Weeks); diff != "" {
		t.Errorf("trends of the rows read (-whole incidents +trend rows):\n%s", diff)
	}
	if w := incident.ComputeTrends(got, nil, now, 2, time.UTC).Weeks[1]; w.Incidents != 3 || w.Timeboxes != 2 || w.Kept != 1 {
		t.Errorf("this week from the rows read: %d incidents, %d clocks judged, %d kept; want 3, 2 (one still in its box), 1", w.Incidents, w.Timeboxes, w.Kept)
	}
	if want[0].Class != incident.C2 || want[2].Class != incident.C4 || want[0].Timebox.Generation != 2 {
		t.Errorf("the seeded facts did not hold: %+v", want)
	}

	// Actions: one due before the window, two in it (one done on time),
	// one due at its end.
	pm := &incident.Postmortem{IncidentID: ids[1], Facilitator: "U1", Phase: incident.PhaseActions, StartedBy: "U1", StartedAt: t0}
	if err := s.CreatePostmortem(ctx, pm, nil); err != nil {
		t.Fatal(err)
	}
	day := func(n int) time.Time { return time.Date(2026, 11, 24+n, 0, 0, 0, 0, time.UTC) }
	if _, err := s.UpdatePostmortem(ctx, ids[1], func(pm *incident.Postmortem) error {
		pm.Actions = []incident.Action{
			{ID: 1, Issue: 1, Owner: "U1", Expected: "a", Due: day(-1)},
			{ID: 2, Issue: 1, Owner: "U2", Expected: "b", Due: day(1), DoneBy: "U2", DoneAt: day(1).Add(5 * time.Hour)},
			{ID: 3, Issue: 1, Owner: "U2", Expected: "c", Due: day(2)},
			{ID: 4, Issue: 1, Owner: "U2", Expected: "d", Due: day(7)},
		}
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	actions, err := s.TrendActions(ctx, day(0), day(7))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(actions, func(a, b incident.TrendAction) int { return a.Due.Compare(b.Due) })
	wantActions := []incident.TrendAction{{Due: day(1), DoneAt: day(1).Add(5 * time.Hour)}, {Due: day(2)}}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("trend actions (-want +got):\n%s", diff)
	}
	if none, err := s.TrendActions(ctx, day(20), day(27)); err != nil || len(none) != 0 {
		t.Errorf("a window without actions: %v, %v", none, err)
	}
}
