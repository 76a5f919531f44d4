package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePostmortem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		want    postmortemCommand
		wantErr string
	}{
		{"", pmHelp{}, ""},
		{"start", pmStart{}, ""},
		{"start INC-4", pmStart{Number: 4}, ""},
		{"start now", nil, "takes no text besides an incident"},
		{"next", pmNext{}, ""},
		{"facilitator <@U0BOB>", pmFacilitator{User: "U0BOB"}, ""},
		{"facilitator INC-2 <@U0BOB|bob>", pmFacilitator{Number: 2, User: "U0BOB"}, ""},
		{"facilitator bob", nil, "`bob` is not a Slack mention"},
		{"facilitator", nil, "Name the new facilitator"},
		{"entry", pmEntry{}, ""},
		{"entry 14:05 alarm fired", pmEntry{At: "14:05", Text: "alarm fired"}, ""},
		{"entry INC-3 2026-11-24 14:05 alarm fired", pmEntry{Number: 3, At: "2026-11-24 14:05", Text: "alarm fired"}, ""},
		{"entry alarm fired", nil, "Start with the time"},
		{"entry 14:05", nil, "Say what happened at 14:05"},
		{"entry 2026-11-24 alarm", nil, "Start with the time"},
		{"issue the page came late", pmIssue{Text: "the page came late"}, ""},
		{"issue", nil, "Say what went wrong"},
		{"action", pmAction{}, ""},
		{"action for bob", nil, "takes no text"},
		{"actions", pmActions{}, ""},
		{"export INC-9", pmExport{Number: 9}, ""},
		{"frob", nil, "`frob` is not a /postmortem command"},
	}
	for _, tt := range tests {
		got, err := parsePostmortem(tt.text)
		if tt.wantErr != "" {
			ue, ok := err.(*usageError)
			if !ok || !strings.Contains(ue.Problem, tt.wantErr) || ue.Usage == "" {
				t.Errorf("parsePostmortem(%q) error = %v, want a usage error with %q", tt.text, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("parsePostmortem(%q) = %#v, %v; want %#v", tt.text, got, err, tt.want)
		}
	}
}

func TestParseEntryTime(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	day := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) // 00:30 on the 24th in Berlin
	for in, want := range map[string]time.Time{
		"14:05":            time.Date(2026, 11, 24, 14, 5, 0, 0, berlin),
		"2026-11-20 09:00": time.Date(2026, 11, 20, 9, 0, 0, 0, berlin),
	} {
		if got, err := parseEntryTime(in, day, berlin); err != nil || !got.Equal(want) {
			t.Errorf("parseEntryTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "25:00", "yesterday", "2026-13-01 10:00"} {
		if _, err := parseEntryTime(in, day, berlin); err == nil {
			t.Errorf("parseEntryTime(%q) accepted", in)
		}
	}
}

// FuzzParsePostmortem checks that the parser never panics and that every
// error is a usage error with a form to write.
func FuzzParsePostmortem(f *testing.F) {
	for _, s := range []string{"", "start", "entry 14:05 x", "entry 2026-11-24 14:05 x", "facilitator <@U1>", "issue x", "export INC-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parsePostmortem(text)
		if err != nil {
			if ue, ok := err.(*usageError); !ok || ue.Problem == "" || ue.Usage == "" {
				t.Fatalf("parsePostmortem(%q) error %#v is not a usage error with a usage line", text, err)
			}
			return
		}
		if e, ok := cmd.(pmEntry); ok && e.Text != "" {
			if _, err := parseEntryTime(e.At, time.Now(), time.UTC); err != nil {
				t.Fatalf("parsePostmortem(%q) accepted time %q that does not parse", text, e.At)
			}
		}
	})
}
