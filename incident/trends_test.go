package incident

import (
	"context"
	"errors"
	"testing"
	"time"
)

func mins(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Minute
	}
	return out
}

func TestSpreads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          []time.Duration
		median, p90 time.Duration
	}{
		{"none", nil, 0, 0},
		{"one", mins(7), 7 * time.Minute, 7 * time.Minute},
		{"odd count", mins(30, 10, 20), 20 * time.Minute, 28 * time.Minute},
		{"even count: the mean of the middle two", mins(40, 10, 20, 30), 25 * time.Minute, 37 * time.Minute},
		{"ten", mins(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), 330 * time.Second, 1086 * time.Second},
		{"all equal", mins(5, 5, 5, 5), 5 * time.Minute, 5 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Spreads(tc.in)
			if got.N != len(tc.in) || got.Median != tc.median || got.P90 != tc.p90 {
				t.Errorf("Spreads = %+v, want N %d, median %v, p90 %v", got, len(tc.in), tc.median, tc.p90)
			}
		})
	}
}

// trendNow is Wednesday 25 Nov 2026 12:00 UTC: its week began Monday 23.
var trendNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestTrendWindow(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	tests := []struct {
		name     string
		now      time.Time
		weeks    int
		loc      *time.Location
		from, to time.Time
	}{
		{"midweek", trendNow, 1, time.UTC, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"Monday 00:00 starts its week", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), 2, time.UTC,
			time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"Sunday belongs to the week before", time.Date(2026, 11, 29, 23, 59, 0, 0, time.UTC), 1, time.UTC,
			time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"weeks start in the zone, across a clock change", time.Date(2026, 11, 1, 22, 30, 0, 0, time.UTC), 2, berlin,
			time.Date(2026, 10, 19, 0, 0, 0, 0, berlin), time.Date(2026, 11, 2, 0, 0, 0, 0, berlin)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := TrendWindow(tc.now, tc.weeks, tc.loc)
			if !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("TrendWindow = %v, %v; want %v, %v", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestComputeTrends(t *testing.T) {
	t.Parallel()
	week0 := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC) // the first of 3 weeks
	at := func(day, hour int) time.Time { return week0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour) }
	box := func(start time.Time, length, used time.Duration) *Timebox {
		tb := &Timebox{Generation: 1, StartedAt: start, Length: length, Deadline: start.Add(length)}
		if used > 0 {
			tb.EndedAt = start.Add(used)
		}
		return tb
	}
	incs := []TrendIncident{
		// Week 0: two sev1, one sev2; costs C1, C1 and none.
		{OpenedAt: at(0, 1), Severity: Sev1, Class: C1, AcknowledgedAt: at(0, 1).Add(2 * time.Minute), RestoredAt: at(0, 2), ResolvedAt: at(0, 5),
			Timebox: box(at(0, 1), 30*time.Minute, 20*time.Minute)},
		{OpenedAt: at(1, 1), Severity: Sev1, Class: C1, AcknowledgedAt: at(1, 1).Add(4 * time.Minute), RestoredAt: at(1, 4),
			Timebox: box(at(1, 1), 30*time.Minute, 45*time.Minute)},
		{OpenedAt: at(6, 23), Severity: Sev2, AcknowledgedAt: at(6, 23).Add(10 * time.Minute)},
		// Week 1: nothing. Week 2 (holds now): one sev4 C3 still open with a
		// clock inside its deadline, one sev3 C4 whose clock ran over.
		{OpenedAt: trendNow.Add(-10 * time.Minute), Severity: Sev4, Class: C3, Timebox: box(trendNow.Add(-10*time.Minute), 30*time.Minute, 0)},
		{OpenedAt: trendNow.Add(-2 * time.Hour), Severity: Sev3, Class: C4, Timebox: box(trendNow.Add(-2*time.Hour), 30*time.Minute, 0)},
		// Outside the window: ignored.
		{OpenedAt: week0.Add(-time.Minute), Severity: Sev1, Class: C1},
		{OpenedAt: trendNow.AddDate(0, 0, 7), Severity: Sev1, Class: C1},
	}
	actions := []TrendAction{
		{Due: at(2, 0), DoneAt: at(2, 23)},                   // week 0, on time (the due day counts)
		{Due: at(3, 0), DoneAt: at(4, 0)},                    // week 0, late
		{Due: at(4, 0)},                                      // week 0, open and overdue
		{Due: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, // week 2, open, not yet due: no verdict
		{Due: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), DoneAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}, // week 2, early
	}
	got := ComputeTrends(incs, actions, trendNow, 3, time.UTC)
	if len(got.Weeks) != 3 || !got.Weeks[0].Start.Equal(week0) || !got.Weeks[2].Start.Equal(week0.AddDate(0, 0, 14)) {
		t.Fatalf("weeks %+v", got.Weeks)
	}
	w0, w1, w2 := got.Weeks[0], got.Weeks[1], got.Weeks[2]
	if w0.Incidents != 3 || w0.Classes != [5]int{2, 0, 0, 0, 1} {
		t.Errorf("week 0: %d incidents, classes %v", w0.Incidents, w0.Classes)
	}
	if s := w0.BySeverity[0].Acknowledge; s.N != 2 || s.Median != 3*time.Minute || s.P90 != 3*time.Minute+48*time.Second {
		t.Errorf("week 0 sev1 acknowledge %+v", s)
	}
	if s := w0.BySeverity[0].Restore; s.N != 2 || s.Median != 2*time.Hour {
		t.Errorf("week 0 sev1 restore %+v", s)
	}
	if s := w0.BySeverity[0].Resolve; s.N != 1 || s.Median != 4*time.Hour || s.P90 != 4*time.Hour {
		t.Errorf("week 0 sev1 resolve %+v", s)
	}
	if s := w0.All.Acknowledge; s.N != 3 || s.Median != 4*time.Minute {
		t.Errorf("week 0 all acknowledge %+v", s)
	}
	if w0.Timeboxes != 2 || w0.Kept != 1 {
		t.Errorf("week 0 timeboxes %d kept %d, want 2 and 1", w0.Timeboxes, w0.Kept)
	}
	if w0.ActionsDue != 3 || w0.OnTime != 1 {
		t.Errorf("week 0 actions %d on time %d, want 3 and 1", w0.ActionsDue, w0.OnTime)
	}
	if w1.Incidents != 0 || w1.All.Restore.N != 0 || w1.Timeboxes != 0 || w1.ActionsDue != 0 {
		t.Errorf("empty week 1: %+v", w1)
	}
	if _, ok := w1.TimeboxShare(); ok {
		t.Error("an empty week has a timebox share")
	}
	if w2.Incidents != 2 || w2.Classes != [5]int{0, 0, 1, 1, 0} {
		t.Errorf("week 2: %d incidents, classes %v", w2.Incidents, w2.Classes)
	}
	if w2.Timeboxes != 1 || w2.Kept != 0 {
		t.Errorf("week 2 timeboxes %d kept %d, want 1 (overrun) and 0", w2.Timeboxes, w2.Kept)
	}
	if share, ok := w2.OnTimeShare(); !ok || w2.ActionsDue != 1 || share != 1 {
		t.Errorf("week 2 on time %v %v of %d", share, ok, w2.ActionsDue)
	}
}

type fakeTrendStore struct {
	from, to time.Time
	err      error
}

func (f *fakeTrendStore) TrendIncidents(_ context.Context, from, to time.Time) ([]TrendIncident, error) {
	f.from, f.to = from, to
	return []TrendIncident{{OpenedAt: from, Severity: Sev2}}, f.err
}

func (f *fakeTrendStore) TrendActions(context.Context, time.Time, time.Time) ([]TrendAction, error) {
	return nil, nil
}

func TestTrendReader(t *testing.T) {
	t.Parallel()
	store := &fakeTrendStore{}
	r := TrendReader{Store: store}
	for _, weeks := range []int{0, -1, MaxTrendWeeks + 1} {
		var fe *FieldError
		if _, err := r.Trends(context.Background(), trendNow, weeks); !errors.As(err, &fe) || fe.Field != "weeks" {
			t.Errorf("%d weeks: err %v, want a FieldError on weeks", weeks, err)
		}
	}
	got, err := r.Trends(context.Background(), trendNow, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !store.from.Equal(got.From) || !store.to.Equal(got.To) || got.To.Sub(got.From) != 12*7*24*time.Hour {
		t.Errorf("read %v to %v, trends %v to %v", store.from, store.to, got.From, got.To)
	}
	if got.Weeks[0].Incidents != 1 {
		t.Errorf("the incident at the window's start is not in its first week: %+v", got.Weeks[0])
	}
	store.err = errors.New("boom")
	if _, err := r.Trends(context.Background(), trendNow, 12); err == nil {
		t.Error("a store error is not returned")
	}
}
