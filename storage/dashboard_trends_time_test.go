package storage

import (
	"testing"
	"time"
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
