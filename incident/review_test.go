package incident

import (
	"testing"
	"time"
)

func TestWeeklyByClass(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data: ", err)
	}
	// Wednesday 25 Nov 2026, 10:00 in Berlin: the week began Monday 23rd.
	to := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	at := func(day, hour int, amount float64) Incident {
		inc := Incident{OpenedAt: time.Date(2026, 11, day, hour, 0, 0, 0, berlin).UTC()}
		if amount >= 0 {
			inc.Cost = &Cost{Amount: amount, Class: DefaultCostModel().Class(amount)}
		}
		return inc
	}
	incs := []Incident{
		at(23, 0, 60000), // Monday 00:00 in Berlin: this week, C1
		at(22, 23, 500),  // Sunday night: last week, C4
		at(16, 12, -1),   // last week, no cost
		at(12, 9, 20000), // two weeks ago, C2
		at(2, 9, 1500),   // three weeks ago: before the window of three
		at(30, 9, 1500),  // next week: after the window
	}
	got := WeeklyByClass(incs, to, 3, berlin)
	want := []WeekClasses{
		{Start: time.Date(2026, 11, 9, 0, 0, 0, 0, berlin), Counts: [5]int{0, 1, 0, 0, 0}},
		{Start: time.Date(2026, 11, 16, 0, 0, 0, 0, berlin), Counts: [5]int{0, 0, 0, 1, 1}},
		{Start: time.Date(2026, 11, 23, 0, 0, 0, 0, berlin), Counts: [5]int{1, 0, 0, 0, 0}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d weeks, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Counts != want[i].Counts {
			t.Errorf("week %d = %v %v, want %v %v", i, got[i].Start, got[i].Counts, want[i].Start, want[i].Counts)
		}
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	cost := &Cost{Amount: 1200}
	secret := Incident{Number: 7, Title: "badge cloning", Description: "the vault", Systems: []string{"doors"},
		Severity: Sev1, TDOID: "U1", Cost: cost, Problems: []int64{3}, Private: true}
	got := secret.Redacted()
	if got.Title != PrivateLabel || got.Description != "" || got.Systems != nil {
		t.Errorf("Redacted() kept details: %+v", got)
	}
	if got.Number != 7 || got.Severity != Sev1 || got.TDOID != "U1" || got.Cost != cost || len(got.Problems) != 1 || !got.Private {
		t.Errorf("Redacted() dropped what counts in totals: %+v", got)
	}
	if secret.Title != "badge cloning" {
		t.Error("Redacted() changed the incident it was called on")
	}
	public := secret
	public.Private = false
	if got := public.Redacted(); got.Title != "badge cloning" || len(got.Systems) != 1 {
		t.Errorf("Redacted() of a public incident = %+v, want it unchanged", got)
	}
	rv := Review{Incidents: []ReviewedIncident{{Incident: secret}, {Incident: public}}, Cost: 2400}
	red := rv.Redacted()
	if red.Incidents[0].Incident.Title != PrivateLabel || red.Incidents[1].Incident.Title != "badge cloning" || red.Cost != 2400 {
		t.Errorf("Review.Redacted() = %+v", red.Incidents)
	}
	if rv.Incidents[0].Incident.Title != "badge cloning" {
		t.Error("Review.Redacted() changed the review it was called on")
	}
}
