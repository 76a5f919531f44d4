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
