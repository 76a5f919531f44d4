package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
)

func TestParseChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		want    changeCommand
		wantErr string
	}{
		{"", changeForm{}, ""},
		{"help", changeHelp{}, ""},
		{"web: raised pool size to 50 because p99 latency", logChange{Systems: []string{"web"}, Summary: "raised pool size to 50", Reason: "p99 latency"}, ""},
		{"Web,DB: migrated orders", logChange{Systems: []string{"web", "db"}, Summary: "migrated orders"}, ""},
		{"web, db: migrated orders", logChange{Systems: []string{"web", "db"}, Summary: "migrated orders"}, ""},
		{"api: deployed v2.14 https://ci.example/run/9 BECAUSE fix for INC-3", logChange{Systems: []string{"api"}, Summary: "deployed v2.14", Reason: "fix for INC-3", Link: "https://ci.example/run/9"}, ""},
		{"db: because: colons: fine", logChange{Systems: []string{"db"}, Summary: "because: colons: fine"}, ""},
		{"list", listChanges{Window: 24 * time.Hour}, ""},
		{"list web 7d", listChanges{Systems: []string{"web"}, Window: 7 * 24 * time.Hour}, ""},
		{"list 30m db,cache", listChanges{Systems: []string{"db", "cache"}, Window: 30 * time.Minute}, ""},
		{"raised pool size", nil, "Start with the system and a colon"},
		{"the web app: raised", nil, "`the web app` is not a system name"},
		{"Web Server: restarted", nil, "Write `web-server:` (several: `web-server,db:`)."},
		{": raised", nil, "Name the system before the colon"},
		{"we/b: raised", nil, "may hold only"},
		{"web:   ", nil, "Say what was done"},
		{"web: because nothing", nil, "Say what was done"},
		{"list 999d", nil, "between 1m and 90d"},
		{"list we/b", nil, "neither a system nor a window"},
	}
	for _, tc := range tests {
		got, err := parseChange(tc.text)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseChange(%q) = %#v, %v; want error %q", tc.text, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseChange(%q): %v", tc.text, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseChange(%q) (-want +got):\n%s", tc.text, diff)
		}
	}
}

func FuzzParseChange(f *testing.F) {
	for _, s := range []string{"", "web: x because y", "list web 24h", "a,b: https://x because", ":", "web:", "list 0m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parseChange(text)
		if err != nil {
			if ue, ok := err.(*usageError); !ok || ue.Usage == "" {
				t.Fatalf("parseChange(%q) error %v is not a usage error", text, err)
			}
			return
		}
		switch c := cmd.(type) {
		case logChange:
			if c.Summary == "" || len(c.Systems) == 0 {
				t.Fatalf("parseChange(%q) = %#v: empty summary or systems", text, c)
			}
			for _, s := range c.Systems {
				if n, err := incident.NormalizeSystem(s); err != nil || n != s {
					t.Fatalf("parseChange(%q) accepted system %q", text, s)
				}
			}
		case listChanges:
			if c.Window <= 0 || c.Window > maxChangeWindow {
				t.Fatalf("parseChange(%q) window %v", text, c.Window)
			}
		}
	})
}
