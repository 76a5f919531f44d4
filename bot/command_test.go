package bot

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
)

func TestParseIncident(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    incidentCommand
		wantErr string // substring of the problem; empty means no error
	}{
		{name: "empty is help", text: "", want: helpCommand{}},
		{name: "help", text: "help", want: helpCommand{}},
		{name: "help upper case", text: "  HELP ", want: helpCommand{}},
		{name: "open bare is modal", text: "open", want: openCommand{Modal: true}},
		{name: "open title only", text: "open db is down", want: openCommand{Title: "db is down"}},
		{name: "open all arguments", text: "open db is down sev1 systems:web,DB",
			want: openCommand{Title: "db is down", Severity: incident.Sev1, Systems: []string{"web", "db"}}},
		{name: "severity first", text: "open SEV2 checkout slow",
			want: openCommand{Title: "checkout slow", Severity: incident.Sev2}},
		{name: "severity with dash", text: "open checkout slow sev-4",
			want: openCommand{Title: "checkout slow", Severity: incident.Sev4}},
		{name: "several is a title word", text: "open several users locked out",
			want: openCommand{Title: "several users locked out"}},
		{name: "quoted title", text: `open "db is down" sev1`,
			want: openCommand{Title: "db is down", Severity: incident.Sev1}},
		{name: "whitespace folded", text: "open   db \t is\tdown ",
			want: openCommand{Title: "db is down"}},
		{name: "system singular", text: "open x system:api",
			want: openCommand{Title: "x", Systems: []string{"api"}}},
		{name: "duplicate systems folded", text: "open x systems:web,web",
			want: openCommand{Title: "x", Systems: []string{"web"}}},
		{name: "declare alias", text: "declare api errors", want: openCommand{Title: "api errors"}},
		{name: "open private", text: "open --private badge reader breach sev1 systems:doors",
			want: openCommand{Title: "badge reader breach", Severity: incident.Sev1, Systems: []string{"doors"}, Private: true}},
		{name: "private anywhere", text: "open badge breach --PRIVATE", want: openCommand{Title: "badge breach", Private: true}},
		{name: "private with the dash Slack typed", text: "open —private badge breach", want: openCommand{Title: "badge breach", Private: true}},
		{name: "private bare is a private modal", text: "open --private", want: openCommand{Modal: true, Private: true}},
		{name: "private twice", text: "open --private x --private", wantErr: "`--private` once"},
		{name: "unknown option", text: "open --secret x", wantErr: "`--secret` is not an option"},
		{name: "private word is a title word", text: "open private keys leaked", want: openCommand{Title: "private keys leaked"}},
		{name: "dashes are title words", text: "open web – api down -- again —5%",
			want: openCommand{Title: "web – api down -- again —5%"}},
		{name: "make private", text: "private INC-4", want: privateCommand{Number: 4}},
		{name: "make private here", text: "private", want: privateCommand{}},
		{name: "make private extra text", text: "private INC-4 now", wantErr: "takes no text"},
		{name: "no way public", text: "public INC-4", wantErr: "never makes a private incident public"},
		{name: "timebox bare", text: "timebox", want: timeboxCommand{}},
		{name: "timebox length", text: "timebox INC-3 1h30m", want: timeboxCommand{Number: 3, Length: 90 * time.Minute}},
		{name: "timebox restart reason", text: "timebox 90  it is the cache ", want: timeboxCommand{Length: 90 * time.Minute, Reason: "it is the cache"}},
		{name: "timebox reason needs a length", text: "timebox because", wantErr: "`because` is not a length"},
		{name: "status here", text: "status identified bad index", want: statusCommand{Status: incident.StatusIdentified, Message: "bad index"}},
		{name: "status by ref", text: "status inc-12 RESTORED", want: statusCommand{Number: 12, Status: incident.StatusRestored}},
		{name: "status unknown", text: "status fixed", wantErr: "`fixed` is not a status"},
		{name: "status missing", text: "status INC-3", wantErr: "Say which status"},
		{name: "note", text: "note INC-4 rolled back 412", want: noteCommand{Number: 4, Text: "rolled back 412"}},
		{name: "note mentions an incident later", text: "note same as INC-4", want: noteCommand{Text: "same as INC-4"}},
		{name: "note empty", text: "note INC-4", wantErr: "The note is empty"},
		{name: "timeline", text: "timeline INC-9", want: timelineCommand{Number: 9}},
		{name: "alerts here", text: "alerts", want: alertsCommand{}},
		{name: "alerts by ref", text: "alerts INC-9", want: alertsCommand{Number: 9}},
		{name: "alerts extra text", text: "alerts INC-9 firing", wantErr: "takes no text besides an incident"},
		{name: "sev", text: "sev 2 only EU", want: severityCommand{Severity: incident.Sev2, Reason: "only EU"}},
		{name: "sev by ref", text: "severity INC-7 sev1", want: severityCommand{Number: 7, Severity: incident.Sev1}},
		{name: "sev bad", text: "sev high", wantErr: "`high` is not a severity"},
		{name: "sev missing", text: "sev", wantErr: "is not a severity"},
		{name: "list", text: "list", want: listCommand{}},
		{name: "changes", text: "changes", want: changesCommand{}},
		{name: "changes window", text: "changes INC-4 48h", want: changesCommand{Number: 4, Window: 48 * time.Hour}},
		{name: "changes bad window", text: "changes yesterday", wantErr: "`yesterday` is not a window"},
		{name: "changes window too long", text: "changes 100d", wantErr: "between 1m and 90d"},
		{name: "bad severity", text: "open db down sev5", wantErr: "`sev5` is not a severity"},
		{name: "severity zero", text: "open db down sev0", wantErr: "`sev0` is not a severity"},
		{name: "two severities", text: "open db down sev1 sev2", wantErr: "severity once"},
		{name: "empty title with severity", text: "open sev1", wantErr: "title is required"},
		{name: "empty title with systems", text: "open systems:web", wantErr: "title is required"},
		{name: "empty systems", text: "open db systems:", wantErr: "names no system"},
		{name: "bad system name", text: "open db systems:we/b", wantErr: "may hold only"},
		{name: "empty system in list", text: "open db systems:web,,db", wantErr: "empty"},
		{name: "two systems words", text: "open db systems:a systems:b", wantErr: "systems once"},
		{name: "unknown verb", text: "frobnicate now", wantErr: "`frobnicate` is not an /incident command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseIncident(tc.text)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("parseIncident(%q) = %#v, want error containing %q", tc.text, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseIncident(%q) error = %q, want it to contain %q", tc.text, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIncident(%q): %v", tc.text, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseIncident(%q) mismatch (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

// FuzzParseIncident checks that the parser never panics, that every error is
// a usage error with a form to write, and that what it accepts is valid.
func FuzzParseIncident(f *testing.F) {
	for _, s := range []string{"", "help", "open", "open db is down sev1 systems:web,db",
		"open sev9", "open systems:", "open \"x\"", "open ÿ sev-1", "open <!channel> sev1", "open “quoted”",
		"open --private x sev1", "open —private", "open – x", "open --", "private INC-1", "public",
		"timebox 90 it is the cache", "timebox INC-2 1h30m  <!here> reason", "timebox 0m why", "status identified failed over"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parseIncident(text)
		if err != nil {
			ue, ok := err.(*usageError)
			if !ok || ue.Problem == "" || ue.Usage == "" {
				t.Fatalf("parseIncident(%q) error %#v is not a usage error with a usage line", text, err)
			}
			return
		}
		open, ok := cmd.(openCommand)
		if !ok {
			return
		}
		if open.Severity != 0 && !open.Severity.Valid() {
			t.Fatalf("parseIncident(%q) accepted severity %d", text, open.Severity)
		}
		for _, s := range open.Systems {
			if n, err := incident.NormalizeSystem(s); err != nil || n != s {
				t.Fatalf("parseIncident(%q) accepted system %q (%v)", text, s, err)
			}
		}
		if open.Modal != (open.Title == "") {
			t.Fatalf("parseIncident(%q) = %#v: modal only without a title", text, open)
		}
		if utf8.ValidString(text) && !utf8.ValidString(open.Title) {
			t.Fatalf("parseIncident(%q) made an invalid UTF-8 title", text)
		}
	})
}
