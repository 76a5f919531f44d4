package human

import (
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{26 * time.Second, "26 s"},
		{59*time.Second + 900*time.Millisecond, "59 s"},
		{12*time.Minute + 30*time.Second, "12 min"},
		{time.Hour, "1 h"},
		{90 * time.Minute, "1 h 30 min"},
		{24 * time.Hour, "24 h"},
		{36*time.Hour + 5*time.Minute, "36 h 5 min"},
		{48 * time.Hour, "2 days"},
		{7 * 24 * time.Hour, "7 days"},
		{51*time.Hour + 20*time.Minute, "2 days 3 h"},
		{90 * 24 * time.Hour, "90 days"},
		{-26 * time.Second, "-26 s"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := Duration(tc.d); got != tc.want {
				t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	good := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"30m", 30 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"24h", day},
		{"2d", 2 * day},
		{"2D", 2 * day},
		{" 7d ", 7 * day},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"2w", 14 * day},
		{"90s", 90 * time.Second},
	}
	for _, tc := range good {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, says string }{
		{"", "no duration"},
		{"7", "no unit"},
		{"-2d", "without a sign"},
		{"2x", "not a duration"},
		{"d", "not a duration"},
		{"99999999999999w", "too long"},
		{"1.2.3d", "not a duration"},
	}
	for _, tc := range bad {
		_, err := ParseDuration(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseDuration(%q) error = %v, want one saying %q", tc.in, err, tc.says)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"2d", "1h30m", "1d12h", "7", "-1d", "1.5w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
	})
}
