package storage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

func TestParseStoredTime(t *testing.T) {
	t.Parallel()
	utc := func(ns int) time.Time { return time.Date(2026, 11, 24, 3, 4, 5, ns, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-24 03:04:05+00:00", utc(0)},
		{"2026-11-24 03:04:05.123456+00:00", utc(123456000)},
		{"2026-11-24 03:04:05.123456789+00:00", utc(123456789)},
		{"2026-11-24 03:04:05", utc(0)},
		{"2026-11-24T03:04:05Z", utc(0)},
		{"2026-11-24T03:04:05.5Z", utc(500000000)},
		{"2026-11-24T04:34:05+01:30", utc(0)},
		{"2026-11-23T22:04:05.000001-05:00", utc(1000)},
	}
	for _, tc := range tests {
		got, err := parseStoredTime(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseStoredTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2026-11-24", "2026-13-24 03:04:05", "2026-04-31 03:04:05", "2026-11-24 25:04:05", "2026-11-24 03:04:05+0000", "2026-11-24 03:04:05 +0000 UTC", "yesterday"} {
		if got, err := parseStoredTime(bad); err == nil {
			t.Errorf("parseStoredTime(%q) = %v, want an error", bad, got)
		}
	}
}

// FuzzFastTime checks the fast path against time.Parse: whatever it
// reads, time.Parse reads the same.
func FuzzFastTime(f *testing.F) {
	for _, s := range []string{"2026-11-24 03:04:05.123456+00:00", "2026-11-24T03:04:05Z", "2026-02-29 00:00:00", "2024-02-29T23:59:59.999999999-12:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastTime(s)
		if !ok {
			return
		}
		b := []byte(s)
		b[10] = 'T'
		layout := time.RFC3339Nano
		if len(s) == 19 || s[len(s)-1] != 'Z' && s[len(s)-3] != ':' {
			layout = "2006-01-02T15:04:05.999999999"
		}
		want, err := time.Parse(layout, string(b))
		if err != nil {
			t.Fatalf("fastTime(%q) = %v, but time.Parse refuses it: %v", s, got, err)
		}
		if !got.Equal(want) {
			t.Fatalf("fastTime(%q) = %v, time.Parse %v", s, got, want)
		}
	})
}

// TestQuickTimebox marshals timeboxes as the store writes them and checks
// that quickTimebox reads the fields of a verdict as json.Unmarshal does,
// and leaves what it cannot read so to a whole decode.
func TestQuickTimebox(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 3, 0, 0, 123456000, time.UTC)
	tests := []struct {
		name string
		tb   incident.Timebox
		ok   bool
	}{
		{"running", incident.Timebox{Generation: 1, StartedAt: at, Length: 30 * time.Minute, Deadline: at.Add(30 * time.Minute), Span: 30 * time.Minute, WarnDue: at.Add(20 * time.Minute)}, true},
		{"stopped after an extension", incident.Timebox{Generation: 12, StartedAt: at, Length: time.Hour, AtOpen: time.Hour, Deadline: at.Add(90 * time.Minute), Span: 30 * time.Minute,
			Extensions: 1, Extended: 30 * time.Minute, WarnedAt: at.Add(50 * time.Minute), ExpiredAt: at.Add(time.Hour), EndedAt: at.Add(100 * time.Minute), RestoreBegan: at.Add(100 * time.Minute), Restarts: 2}, true},
		{"restore declared without a clock", incident.Timebox{RestoreBegan: at}, true},
		{"with an earlier box", incident.Timebox{Generation: 2, StartedAt: at, Deadline: at.Add(time.Hour), Earlier: []incident.Box{{StartedAt: at.Add(-time.Hour), Deadline: at, EndedAt: at, Ended: "restarted: \"earlier\""}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, err := json.Marshal(tc.tb)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := quickTimebox(string(text))
			if ok != tc.ok {
				t.Fatalf("quickTimebox(%s): ok %v, want %v", text, ok, tc.ok)
			}
			if !ok {
				return
			}
			want := tc.tb
			if got.Generation != want.Generation || !got.StartedAt.Equal(want.StartedAt) || !got.Deadline.Equal(want.Deadline) || !got.EndedAt.Equal(want.EndedAt) {
				t.Errorf("quickTimebox(%s) = %+v", text, got)
			}
			wa, wok := want.Adherence(at.Add(3 * time.Hour))
			ga, gok := got.Adherence(at.Add(3 * time.Hour))
			if wok != gok || wa.Over != ga.Over || wa.Running != ga.Running || wa.Kept() != ga.Kept() {
				t.Errorf("verdicts differ: whole %+v %v, quick %+v %v", wa, wok, ga, gok)
			}
		})
	}
	for _, bad := range []string{`{"generation":x}`, `{"started_at":"2026-11-24T03:00:00Z"}`, `{"generation":1,"started_at":"yesterday","deadline":"2026-11-24T03:00:00Z"}`, `{"generation":1}`} {
		if tb, ok := quickTimebox(bad); ok {
			t.Errorf("quickTimebox(%s) = %+v, want not ok", bad, tb)
		}
	}
}
