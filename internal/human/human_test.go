package human

import (
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
