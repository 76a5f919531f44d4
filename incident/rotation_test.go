package incident

import (
	"context"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
)

func clockAt(t time.Time) *clock.Fake { return clock.NewFake(t) }

// daily hands over every day at 09:00 in loc.
type daily struct{ loc *time.Location }

func (d daily) Next(t time.Time) time.Time {
	l := t.In(d.loc)
	n := time.Date(l.Year(), l.Month(), l.Day(), 9, 0, 0, 0, d.loc)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}

func TestOnCall(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone data")
	}
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, loc) // Monday 09:00, ana on duty
	r := Rotation{Name: "db", Members: []string{"ana", "ben", "cy"}, Schedule: daily{loc}, Start: start}
	tests := []struct {
		at         time.Time
		member     string
		next       string
		since, due time.Time
	}{
		{start.Add(-time.Hour), "ana", "ben", start, start.AddDate(0, 0, 1)},
		{start.Add(time.Hour), "ana", "ben", start, start.AddDate(0, 0, 1)},
		{start.AddDate(0, 0, 1), "ben", "cy", start.AddDate(0, 0, 1), start.AddDate(0, 0, 2)},
		{start.AddDate(0, 0, 2).Add(time.Minute), "cy", "ana", start.AddDate(0, 0, 2), start.AddDate(0, 0, 3)},
		{start.AddDate(0, 0, 3).Add(-time.Second), "cy", "ana", start.AddDate(0, 0, 2), start.AddDate(0, 0, 3)},
		{start.AddDate(0, 0, 3), "ana", "ben", start.AddDate(0, 0, 3), start.AddDate(0, 0, 4)},
	}
	for _, tc := range tests {
		d := r.OnCall(tc.at)
		if d.Member != tc.member || d.Next != tc.next || !d.Since.Equal(tc.since) || !d.NextAt.Equal(tc.due) {
			t.Errorf("OnCall(%v) = %+v, want %s since %v, then %s at %v", tc.at, d, tc.member, tc.since, tc.next, tc.due)
		}
	}
}

func TestTDOForPicksTheCoveringRotation(t *testing.T) {
	t.Parallel()
	s := daily{time.UTC}
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	rots := []Rotation{
		{Name: "db", Members: []string{"dba"}, Schedule: s, Start: start, Systems: []string{"db", "cache"}},
		{Name: "web", Members: []string{"webby"}, Schedule: s, Start: start, Systems: []string{"web"}},
		{Name: "ops", Members: []string{"opsy"}, Schedule: s, Start: start, Default: true},
	}
	now := start.Add(time.Hour)
	for _, tc := range []struct {
		systems []string
		want    string
	}{
		{[]string{"web"}, "webby"},
		{[]string{"unknown", "cache"}, "dba"},
		{[]string{"billing"}, "opsy"},
		{nil, "opsy"},
	} {
		if got := tdoFor(rots, tc.systems, now); got != tc.want {
			t.Errorf("tdoFor(%v) = %q, want %q", tc.systems, got, tc.want)
		}
	}
	if got := tdoFor(rots[:2], []string{"billing"}, now); got != "" {
		t.Errorf("no default rotation: tdoFor = %q, want nobody", got)
	}
}

func TestOpenNamesTheOnCallTDO(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	clk := clockAt(start.Add(25 * time.Hour)) // a day in: the second member
	svc := NewService(&memStore{}, clk)
	svc.SetRotations([]Rotation{{Name: "db", Members: []string{"UANA", "UBEN"}, Schedule: daily{time.UTC}, Start: start, Systems: []string{"db"}}})
	inc, _, err := svc.Open(context.Background(), OpenRequest{Title: "x", Systems: []string{"db"}, Reporter: "UREP"})
	if err != nil || inc.TDOID != "UBEN" || inc.ReporterID != "UREP" {
		t.Errorf("opened %+v, %v; want UBEN (on call) as TDO", inc, err)
	}
	other, _, _ := svc.Open(context.Background(), OpenRequest{Title: "y", Systems: []string{"web"}, Reporter: "UREP"})
	if other.TDOID != "UREP" {
		t.Errorf("no rotation covers web and none is default: TDO = %s, want the reporter", other.TDOID)
	}
	if duty := svc.OnCall(); len(duty) != 1 || duty[0].Member != "UBEN" || duty[0].Next != "UANA" {
		t.Errorf("OnCall = %+v", duty)
	}
}
