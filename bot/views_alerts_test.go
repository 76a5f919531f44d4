package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/blockkit"
)

// alertGolden compares got with testdata/name, rewriting it under -update
// (the flag the end-to-end tests of this package's test binary define).
func alertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./bot -run Alert -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// alertJSON renders v as indented JSON without HTML escaping.
func alertJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkMessage fails the test if blocks break Block Kit's limits.
func checkMessage(t *testing.T, text string, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"text": text, "blocks": blocks})
	if err != nil {
		t.Fatal(err)
	}
	if err := blockkit.CheckMessage(raw); err != nil {
		t.Errorf("breaks Block Kit limits: %v", err)
	}
}

// sampleGroup is a firing Alertmanager group, first seen at 03:00.
func sampleGroup() alert.Group {
	first := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	return alert.Group{
		ID: 12, Source: alert.SourceAlertmanager, Key: "{}:{alertname=\"HighErrorRate\"}", Route: "checkout-pages", Action: alert.ActionTriage,
		Title: "HighErrorRate", Severity: "critical",
		Labels:  map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", "team": "payments"},
		Systems: []string{"checkout"}, Link: "http://prometheus.example:9090/graph?g0.expr=rate(http_errors[5m])>0.1&g0.tab=1",
		Details: "error rate 12% on checkout <!channel> & friends", Status: alert.StatusFiring,
		Received: 1, Firing: 1, FirstSeen: first, LastSeen: first, Version: 1,
	}
}

// TestTriageViewGolden renders a triage message in each of its states.
func TestTriageViewGolden(t *testing.T) {
	t.Parallel()
	inc := &incident.Incident{ID: 3, Number: 7, Title: "checkout errors", Severity: incident.Sev1}
	repeated := func(g alert.Group) alert.Group {
		g.Received, g.LastSeen, g.Version = 12, g.FirstSeen.Add(9*time.Minute), 4
		return g
	}
	resolved := func(g alert.Group) alert.Group {
		g = repeated(g)
		g.Received++
		g.Status, g.Firing, g.ResolvedAt, g.LastSeen = alert.StatusResolved, 0, g.FirstSeen.Add(12*time.Minute), g.FirstSeen.Add(12*time.Minute)
		return g
	}
	decided := func(d alert.Decision, reason string) func(alert.Group) alert.Group {
		return func(g alert.Group) alert.Group {
			g = repeated(g)
			g.Decision, g.DecidedBy, g.DecidedAt, g.Reason = d, "U0ALICE", g.FirstSeen.Add(10*time.Minute), reason
			if d != alert.DecisionDismissed {
				g.IncidentID = inc.ID
			}
			return g
		}
	}
	for _, tc := range []struct {
		name   string
		change func(alert.Group) alert.Group
		inc    *incident.Incident
		want   []string // in the blocks' JSON
		not    []string
	}{
		{name: "new", change: func(g alert.Group) alert.Group { return g },
			want: []string{"Declare incident", "Attach to incident", "Not an incident", "SEV1 · critical", ":red_circle: Firing"}},
		{name: "repeated", change: repeated, want: []string{"HighErrorRate ×12", "×12", "Declare incident"}},
		{name: "resolved", change: resolved, want: []string{"All alerts resolved, after 12 min", "Declare incident"}},
		{name: "declared", change: decided(alert.DecisionDeclared, ""), inc: inc,
			want: []string{"Declared as *INC-7* by <@U0ALICE>"}, not: []string{"Declare incident"}},
		{name: "attached", change: decided(alert.DecisionAttached, ""), inc: inc,
			want: []string{"Attached to *INC-7* by <@U0ALICE>"}, not: []string{"alert_actions"}},
		{name: "dismissed", change: decided(alert.DecisionDismissed, "planned <maintenance> of checkout"),
			want: []string{"Not an incident: planned &lt;maintenance&gt; of checkout — <@U0ALICE>"}, not: []string{"alert_actions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := tc.change(sampleGroup())
			text, blocks := triageView(g, incident.Sev1, tc.inc)
			checkMessage(t, text, blocks)
			raw := alertJSON(t, blocks)
			for _, w := range tc.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("%s: no %q in\n%s", tc.name, w, raw)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(raw), n) {
					t.Errorf("%s: %q shown", tc.name, n)
				}
			}
			if strings.Contains(string(raw), "<!channel>") || strings.Contains(text, "<!channel>") {
				t.Errorf("an alert's <!channel> reached Slack unescaped")
			}
			alertGolden(t, "alert_triage_"+tc.name+".json", raw)
		})
	}
}

// TestDigestViewGolden renders a storm digest: its count, the most
// frequent titles first and how many are left out.
func TestDigestViewGolden(t *testing.T) {
	t.Parallel()
	minute := time.Date(2026, 11, 24, 3, 12, 0, 0, time.UTC)
	var groups []alert.Group
	for i := range 412 {
		g := sampleGroup()
		g.ID = int64(100 + i)
		switch {
		case i%2 == 0:
			g.Title = "HighErrorRate"
		case i%3 == 0:
			g.Title = "DiskFull <db>"
		default:
			g.Title = "Pod crashloop " + string(rune('a'+i%15))
		}
		if i%10 == 0 {
			g.Status = alert.StatusResolved
		}
		groups = append(groups, g)
	}
	text, blocks := digestView("checkout-pages", minute, groups)
	checkMessage(t, text, blocks)
	if !strings.Contains(text, "412 new alerts on route checkout-pages in the minute from 03:12") {
		t.Errorf("digest text %q", text)
	}
	raw := alertJSON(t, blocks)
	if i, j := strings.Index(string(raw), "×206 HighErrorRate"), strings.Index(string(raw), "DiskFull &lt;db&gt;"); i < 0 || j < i {
		t.Errorf("top titles not most frequent first, escaped:\n%s", raw)
	}
	alertGolden(t, "alert_digest.json", raw)
}

// TestAlertViewsBounded: a 10 KB title, 10 KB details, 200 labels and a
// long link keep every message and form within Block Kit's limits, and
// nothing of the alert mentions anyone.
func TestAlertViewsBounded(t *testing.T) {
	t.Parallel()
	g := sampleGroup()
	g.Title = strings.Repeat("<!channel> & <@U0BOB> title ", 400)[:10_000]
	g.Details = strings.Repeat("details <!here> é ", 600)
	g.Severity = strings.Repeat("critical", 20)
	g.Labels = map[string]string{}
	for i := range 200 {
		g.Labels[strings.Repeat("k", 100)+string(rune('a'+i%26))+strings.Repeat("x", i)] = strings.Repeat("v<", 300)
	}
	g.Systems = []string{"checkout", "web", "Not A System!", strings.Repeat("s", 60)}
	g.Link = "https://example.com/" + strings.Repeat("a", 2500)
	g.Route = strings.Repeat("route", 100)
	g.Received, g.Reason, g.Decision = 9999, strings.Repeat("why ", 200), alert.DecisionDismissed
	inc := &incident.Incident{ID: 1, Number: 1, Title: "t", Severity: incident.Sev2}
	for _, d := range []alert.Decision{alert.DecisionNone, alert.DecisionDismissed, alert.DecisionDeclared} {
		g.Decision = d
		text, blocks := triageView(g, incident.Sev2, inc)
		checkMessage(t, text, blocks)
		all := text + string(alertJSON(t, blocks))
		if strings.Contains(all, "<!channel>") || strings.Contains(all, "<!here>") || strings.Contains(all, "<@U0BOB>") {
			t.Errorf("decision %q: an alert's mention reached Slack", d)
		}
	}
	text, blocks := digestView(g.Route, g.FirstSeen, []alert.Group{g, g})
	checkMessage(t, text, blocks)
	text, blocks = incidentAlertsView(inc, []alert.Group{g, g})
	checkMessage(t, text, blocks)
	for name, v := range map[string]slack.ModalViewRequest{
		"declare": declareModal(g, incident.Sev2),
		"attach":  attachModal(g, []incident.Incident{{ID: 1, Number: 1, Title: strings.Repeat("long ", 100), Severity: incident.Sev1}}),
		"dismiss": dismissModal(g),
	} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := blockkit.CheckModal(raw); err != nil {
			t.Errorf("%s form breaks Block Kit limits: %v", name, err)
		}
	}
	req := declareModal(g, incident.Sev2)
	for _, b := range req.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		if el, ok := in.Element.(*slack.PlainTextInputBlockElement); ok {
			if el.MaxLength > 0 && utf8.RuneCountInString(el.InitialValue) > el.MaxLength {
				t.Errorf("%s prefilled with %d characters, over its %d", in.BlockID, utf8.RuneCountInString(el.InitialValue), el.MaxLength)
			}
			if in.BlockID == blockSystems && el.InitialValue != "checkout, web" {
				t.Errorf("systems prefilled %q; want the valid ones, \"checkout, web\"", el.InitialValue)
			}
		}
	}
}

// TestDeclareModalPrefilled: the Declare form carries the alert's title,
// the severity the route or alert says, its systems and its details.
func TestDeclareModalPrefilled(t *testing.T) {
	t.Parallel()
	v := declareModal(sampleGroup(), incident.Sev2)
	if v.CallbackID != callbackAlertDeclare || v.PrivateMetadata != "12" {
		t.Errorf("callback %q, metadata %q", v.CallbackID, v.PrivateMetadata)
	}
	alertGolden(t, "alert_modal_declare.json", alertJSON(t, v))
}

// TestAlertText: alert text is escaped exactly once, never mentions, and
// is cut within its bound without splitting an entity.
func TestAlertText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a < b & c > d", 100, "a &lt; b &amp; c &gt; d"},
		{"<!channel> ping", 100, "&lt;!channel&gt; ping"},
		{"<@U0BOB>", 100, "&lt;@U0BOB&gt;"},
		{"&amp;", 100, "&amp;amp;"},
		{"abcdef", 4, "abc…"},
		{"ab<cd", 5, "ab…"},
		{"ab<cd", 7, "ab&lt;…"},
		{"\xff ok", 10, "\uFFFD ok"},
	} {
		if got := alertText(tc.in, tc.n); got != tc.want {
			t.Errorf("alertText(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// FuzzAlertText: whatever monitoring sends, the result is valid UTF-8,
// within its bound, and holds no '<' or '>' and no '&' that does not start
// one of the three entities.
func FuzzAlertText(f *testing.F) {
	for _, s := range []string{"", "<!channel>", "a & b", "é<>&", "\xff\xfe", strings.Repeat("<", 50)} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 5000 {
			return
		}
		got := alertText(s, n)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > n {
			t.Fatalf("alertText(%q, %d) = %q: invalid or over the bound", s, n, got)
		}
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("alertText(%q, %d) = %q holds a bracket", s, n, got)
		}
		rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(got)
		if strings.Contains(rest, "&") {
			t.Fatalf("alertText(%q, %d) = %q holds a bare &", s, n, got)
		}
	})
}
