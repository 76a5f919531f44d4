package alerts

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/alert"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture reads testdata/<source>/<name>.json.
func fixture(t testing.TB, src alert.Source, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", string(src), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseFixtures parses every fixture and compares the alerts with
// their golden file (testdata/<source>/<name>.golden, -update rewrites it).
func TestParseFixtures(t *testing.T) {
	for _, src := range alert.Sources() {
		files, err := filepath.Glob(filepath.Join("testdata", string(src), "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no fixtures (%v)", src, err)
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			t.Run(string(src)+"/"+name, func(t *testing.T) {
				got, err := Parse(src, fixture(t, src, name))
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range got {
					checkAlert(t, src, i, a)
				}
				js, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", string(src), name+".golden")
				if *update {
					if err := os.WriteFile(golden, append(js, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to write it)", err)
				}
				if d := cmp.Diff(string(want), string(js)+"\n"); d != "" {
					t.Errorf("alerts differ from %s (-want +got):\n%s", golden, d)
				}
			})
		}
	}
}

// checkAlert checks what every parsed alert must hold.
func checkAlert(t *testing.T, src alert.Source, i int, a alert.Alert) {
	t.Helper()
	if a.Source != src || a.GroupKey == "" || a.Title == "" {
		t.Errorf("alert %d: source %q, group key %q, title %q: none may be empty", i, a.Source, a.GroupKey, a.Title)
	}
	switch a.Status {
	case alert.StatusFiring, alert.StatusResolved, alert.StatusAcknowledged:
	default:
		t.Errorf("alert %d: status %q", i, a.Status)
	}
	if n := len([]rune(a.Title)); n > MaxTitle || strings.ContainsAny(a.Title, "\n\r") {
		t.Errorf("alert %d: title of %d runes, or not one line: %q", i, n, a.Title)
	}
	if n := len([]rune(a.Details)); n > MaxDetails {
		t.Errorf("alert %d: details of %d runes", i, n)
	}
	if len(a.GroupKey) > MaxKey+len("sha256:")+64 || len(a.Fingerprint) > MaxKey+len("sha256:")+64 {
		t.Errorf("alert %d: key %d bytes, fingerprint %d", i, len(a.GroupKey), len(a.Fingerprint))
	}
	if len(a.Labels) > MaxLabels || len(a.Systems) > MaxSystems || len([]rune(a.Severity)) > MaxSeverity {
		t.Errorf("alert %d: %d labels, %d systems, severity %q", i, len(a.Labels), len(a.Systems), a.Severity)
	}
	if a.Link != "" && link(a.Link) != a.Link {
		t.Errorf("alert %d: link %q", i, a.Link)
	}
	for _, s := range []string{a.GroupKey, a.Fingerprint, a.Title, a.Details, a.Severity} {
		if strings.ContainsRune(s, 0) {
			t.Errorf("alert %d: a NUL in %q", i, s)
		}
	}
}

// TestParseMeaning checks what the fixtures mean, field by field, where
// the golden files would only show it.
func TestParseMeaning(t *testing.T) {
	am := must(t, alert.SourceAlertmanager, "firing")
	if len(am) != 2 || am[0].GroupKey != `{}/{severity="critical"}:{alertname="CheckoutLatencyHigh"}` || am[0].GroupKey != am[1].GroupKey ||
		am[0].Fingerprint != "5c2ae0a3e1b2f4d7" || am[1].Fingerprint != "9e01b7c2d4a6f830" {
		t.Fatalf("alertmanager: one group of two fingerprints wanted: %+v", am)
	}
	if a := am[0]; a.Title != "CheckoutLatencyHigh: Checkout p99 latency over 2s" || a.Severity != "critical" ||
		!cmp.Equal(a.Systems, []string{"checkout"}) || a.Status != alert.StatusFiring || !a.EndsAt.IsZero() ||
		!a.StartsAt.Equal(time.Date(2026, 11, 24, 9, 0, 0, 123456789, time.UTC)) ||
		!strings.HasPrefix(a.Link, "http://prometheus.example.com:9090/graph?") ||
		!strings.HasPrefix(a.Details, "p99 latency of checkout") || !strings.Contains(a.Details, "runbook_url: https://runbooks.example.com/checkout-latency") {
		t.Errorf("alertmanager firing: %+v", a)
	}
	for _, a := range must(t, alert.SourceAlertmanager, "resolved") {
		if a.Status != alert.StatusResolved || a.EndsAt.IsZero() {
			t.Errorf("alertmanager resolved: %+v", a)
		}
	}

	gf := must(t, alert.SourceGrafana, "firing")
	if a := gf[0]; a.GroupKey != "a41c7d02be9f6e13" || a.Fingerprint != "" || a.Title != "Disk almost full: db-1 /var/lib/postgresql at 93%" ||
		a.Severity != "warning" || !cmp.Equal(a.Systems, []string{"db"}) || !strings.Contains(a.Details, "panelURL: https://grafana.example.com/d/storage01") ||
		!strings.Contains(a.Details, "valueString: [ var='B'") || !a.StartsAt.Equal(time.Date(2026, 11, 24, 9, 15, 0, 0, time.UTC)) {
		t.Errorf("grafana firing: %+v", a)
	}
	if a := must(t, alert.SourceGrafana, "resolved")[0]; a.Status != alert.StatusResolved || a.GroupKey != gf[0].GroupKey {
		t.Errorf("grafana resolved: %+v", a)
	}

	sp := must(t, alert.SourceSplunk, "firing")
	if a := sp[0]; a.GroupKey != "Files changed in deploy directory" || a.SearchName != a.GroupKey || a.Status != alert.StatusFiring ||
		!cmp.Equal(a.Labels, map[string]string{"app": "search", "owner": "admin"}) || a.Severity != "high" ||
		!cmp.Equal(a.Systems, []string{"checkout"}) || !strings.Contains(a.Details, "files: /srv/app/current/config.yml, /srv/app/current/lib/checkout.rb") ||
		strings.Contains(a.Details, "_time") || !strings.HasPrefix(a.Link, "https://splunk.example.com:8000/app/search/@go?sid=") {
		t.Errorf("splunk firing: %+v", a)
	}
	if a := must(t, alert.SourceSplunk, "repeated")[0]; a.GroupKey != sp[0].GroupKey || a.Fingerprint == sp[0].Fingerprint ||
		a.Fingerprint != "scheduler__admin__search__RMD5e3b0c442_at_1795515900_4022" {
		t.Errorf("splunk next run: group %q (want %q), fingerprint %q (the run's sid)", a.GroupKey, sp[0].GroupKey, a.Fingerprint)
	}

	for name, want := range map[string]alert.Status{"firing": alert.StatusFiring, "repeated": alert.StatusAcknowledged, "resolved": alert.StatusResolved} {
		a := must(t, alert.SourcePagerDuty, name)[0]
		if a.Status != want || a.GroupKey != "Q2VFZ7ITG4MAB1" || a.Title != "Payments API error rate above 5%" || a.Severity != "P1" ||
			a.Labels["service"] != "payments" || a.Labels["urgency"] != "high" || !cmp.Equal(a.Systems, []string{"payments"}) ||
			a.Link != "https://acme.pagerduty.com/incidents/Q2VFZ7ITG4MAB1" || !strings.Contains(a.Details, "assigned to: Ada Lovelace") {
			t.Errorf("pagerduty %s: %+v", name, a)
		}
		if (want == alert.StatusResolved) == a.EndsAt.IsZero() {
			t.Errorf("pagerduty %s: ends at %v", name, a.EndsAt)
		}
	}
	if got := must(t, alert.SourcePagerDuty, "annotated"); len(got) != 0 {
		t.Errorf("pagerduty incident.annotated: %d alerts, want none", len(got))
	}

	gen := must(t, alert.SourceGeneric, "repeated")
	if len(gen) != 2 || gen[0].GroupKey != "checkout-latency" || gen[0].Status != alert.StatusFiring || gen[1].GroupKey != "queue-backlog" {
		t.Errorf("generic array: %+v", gen)
	}
}

func must(t *testing.T, src alert.Source, name string) []alert.Alert {
	t.Helper()
	got, err := Parse(src, fixture(t, src, name))
	if err != nil {
		t.Fatalf("%s/%s: %v", src, name, err)
	}
	return got
}

// TestParseRefuses checks that what cannot be read is refused naming the
// field, in words a sender understands.
func TestParseRefuses(t *testing.T) {
	amAlert := `{"status":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"2026-11-24T09:00:00Z","fingerprint":"f"}`
	am := func(alerts ...string) string {
		return `{"version":"4","groupKey":"g","status":"firing","alerts":[` + strings.Join(alerts, ",") + `]}`
	}
	for _, tc := range []struct {
		name  string
		src   alert.Source
		body  string
		field string
		says  string
	}{
		{"empty body", alert.SourceAlertmanager, "  ", "", "the body is empty"},
		{"not JSON", alert.SourceAlertmanager, `{"version":`, "", "invalid JSON"},
		{"array body", alert.SourceAlertmanager, `[1]`, "", "must be a JSON object, not an array"},
		{"am version 3", alert.SourceAlertmanager, `{"version":"3","groupKey":"g","alerts":[]}`, "version", `must be "4"`},
		{"am version missing", alert.SourceAlertmanager, `{"groupKey":"g","alerts":[]}`, "version", "is missing"},
		{"am version number", alert.SourceAlertmanager, `{"version":4,"groupKey":"g","alerts":[]}`, "version", "must be a string, not a number"},
		{"am no group key", alert.SourceAlertmanager, `{"version":"4","alerts":[]}`, "groupKey", "is missing"},
		{"am no alerts", alert.SourceAlertmanager, `{"version":"4","groupKey":"g"}`, "alerts", "is missing"},
		{"am alerts object", alert.SourceAlertmanager, `{"version":"4","groupKey":"g","alerts":{}}`, "alerts", "must be an array, not an object"},
		{"am third labels", alert.SourceAlertmanager, am(amAlert, amAlert, `{"status":"firing","labels":[]}`), "alerts[2].labels", "must be an object, not an array"},
		{"am label value", alert.SourceAlertmanager, am(`{"status":"firing","labels":{"severity":3}}`), "alerts[0].labels.severity", "must be a string, not a number"},
		{"am odd label name", alert.SourceAlertmanager, am(`{"status":"firing","labels":{"a b":3}}`), `alerts[0].labels."a b"`, "must be a string"},
		{"am status", alert.SourceAlertmanager, am(`{"status":"pending"}`), "alerts[0].status", `must be "firing" or "resolved", not "pending"`},
		{"am no status", alert.SourceAlertmanager, am(`{"labels":{}}`), "alerts[0].status", "is missing"},
		{"am time", alert.SourceAlertmanager, am(`{"status":"firing","startsAt":"yesterday"}`), "alerts[0].startsAt", "RFC 3339"},
		{"am alert not object", alert.SourceAlertmanager, am(`"x"`), "alerts[0]", "must be an object, not a string"},
		{"grafana legacy", alert.SourceGrafana, `{"ruleName":"r","state":"alerting","evalMatches":[]}`, "alerts", "legacy"},
		{"grafana alert", alert.SourceGrafana, `{"alerts":[{"status":"firing","annotations":{"summary":true}}]}`, "alerts[0].annotations.summary", "must be a string, not true or false"},
		{"grafana values string", alert.SourceGrafana, `{"alerts":[{"status":"firing","valueString":5}]}`, "alerts[0].valueString", "must be a string"},
		{"splunk no name", alert.SourceSplunk, `{"result":{},"sid":"s","search_name":null}`, "search_name", "saved search"},
		{"splunk result", alert.SourceSplunk, `{"result":[],"search_name":"n"}`, "result", "must be an object"},
		{"splunk field", alert.SourceSplunk, `{"result":{"host":{"a":1}},"search_name":"n"}`, "result.host", "must be a string, a number or an array"},
		{"splunk multivalue", alert.SourceSplunk, `{"result":{"files":["a",{}]},"search_name":"n"}`, "result.files[1]", "must be a string or a number"},
		{"pd no event", alert.SourcePagerDuty, `{"messages":[]}`, "event", "V3"},
		{"pd no type", alert.SourcePagerDuty, `{"event":{"data":{}}}`, "event.event_type", "is missing"},
		{"pd no data", alert.SourcePagerDuty, `{"event":{"event_type":"incident.triggered"}}`, "event.data", "is missing"},
		{"pd no id", alert.SourcePagerDuty, `{"event":{"event_type":"incident.triggered","data":{"title":"t"}}}`, "event.data.id", "is missing"},
		{"pd service", alert.SourcePagerDuty, `{"event":{"event_type":"incident.resolved","data":{"id":"P1","service":"x"}}}`, "event.data.service", "must be an object"},
		{"pd assignee", alert.SourcePagerDuty, `{"event":{"event_type":"incident.resolved","data":{"id":"P1","assignees":[{"summary":1}]}}}`, "event.data.assignees[0].summary", "must be a string"},
		{"generic no key", alert.SourceGeneric, `{"title":"t"}`, "key", "is missing"},
		{"generic blank title", alert.SourceGeneric, `{"key":"k","title":"  "}`, "title", "is empty"},
		{"generic invisible title", alert.SourceGeneric, `{"key":"k","title":"\u200b\u202e"}`, "title", "no visible text"},
		{"generic unknown field", alert.SourceGeneric, `{"key":"k","title":"t","sevrity":"x"}`, "sevrity", "not a field sitrep reads"},
		{"generic third", alert.SourceGeneric, `[{"key":"k","title":"t"},{"key":"k","title":"t"},{"key":"k"}]`, "[2].title", "is missing"},
		{"generic status", alert.SourceGeneric, `{"key":"k","title":"t","status":"ok"}`, "status", `must be "firing" or "resolved"`},
		{"generic system", alert.SourceGeneric, `{"key":"k","title":"t","systems":["web","Bad Name"]}`, "systems[1]", "not a system name"},
		{"generic systems type", alert.SourceGeneric, `{"key":"k","title":"t","systems":"web"}`, "systems", "must be an array"},
		{"generic too many systems", alert.SourceGeneric, `{"key":"k","title":"t","systems":["a","b","c","d","e","f","g","h","i","j","k"]}`, "systems", "at most 10"},
		{"generic link", alert.SourceGeneric, `{"key":"k","title":"t","link":"javascript:alert(1)"}`, "link", "http or https"},
		{"generic empty array", alert.SourceGeneric, `[]`, "", "empty"},
		{"generic string", alert.SourceGeneric, `"x"`, "", "object (one alert) or an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.src, []byte(tc.body))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, %v; want a *FieldError", got, err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Problem, tc.says) {
				t.Errorf("field %q, problem %q; want field %q saying %q", fe.Field, fe.Problem, tc.field, tc.says)
			}
			if tc.field != "" && !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not start with the field", err)
			}
		})
	}
}

// TestParseBounds checks that long or hostile text is cleaned and bounded,
// never refused, for the products' payloads.
func TestParseBounds(t *testing.T) {
	long := strings.Repeat("ab<!channel> ", 1000)
	lbls := map[string]string{"alertname": "X\nY\u202e" + long, "severity": long, "service": "web", "system": "Bad Name"}
	for i := range 80 {
		lbls[strings.Repeat("l", i+1)] = long
	}
	al := map[string]any{"status": "firing", "labels": lbls,
		"annotations":  map[string]string{"description": strings.Repeat("line\n", 5000), "summary": "\x00s"},
		"generatorURL": "http://x.example/<script>", "fingerprint": strings.Repeat("f", MaxKey+1)}
	body, _ := json.Marshal(map[string]any{"version": "4", "groupKey": "g\x00" + long, "alerts": []any{al}})
	got, err := Parse(alert.SourceAlertmanager, body)
	if err != nil {
		t.Fatal(err)
	}
	a := got[0]
	checkAlert(t, alert.SourceAlertmanager, 0, a)
	if len(a.Labels) != MaxLabels || a.Link != "" || !strings.HasPrefix(a.GroupKey, "sha256:") || !strings.HasPrefix(a.Fingerprint, "sha256:") ||
		!strings.HasSuffix(a.Title, "…") || strings.ContainsRune(a.Title, '\u202e') || !cmp.Equal(a.Systems, []string{"web"}) {
		t.Errorf("bounded alert: %+v", a)
	}
	// Two different long keys stay apart.
	other, _ := json.Marshal(map[string]any{"version": "4", "groupKey": "h\x00" + long, "alerts": []any{al}})
	if b, err := Parse(alert.SourceAlertmanager, other); err != nil || b[0].GroupKey == a.GroupKey {
		t.Errorf("two long keys hashed alike, or %v", err)
	}
	// A fingerprint left out is the labels' digest, the same each time.
	noFP := `{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"A","x":"1"}}]}`
	a1, _ := Parse(alert.SourceAlertmanager, []byte(noFP))
	a2, _ := Parse(alert.SourceAlertmanager, []byte(strings.Replace(noFP, `"x":"1"`, `"x":"2"`, 1)))
	if a1[0].Fingerprint == "" || a1[0].Fingerprint == a2[0].Fingerprint {
		t.Errorf("fingerprints from labels: %q and %q", a1[0].Fingerprint, a2[0].Fingerprint)
	}
}

// TestParseTooMany checks that a request of more than MaxAlerts alerts is
// refused naming its alerts, for a product's array and the generic one.
func TestParseTooMany(t *testing.T) {
	one := `{"status":"firing","labels":{"alertname":"A"}}`
	am := `{"version":"4","groupKey":"g","alerts":[` + strings.TrimSuffix(strings.Repeat(one+",", MaxAlerts+1), ",") + `]}`
	gen := `[` + strings.TrimSuffix(strings.Repeat(`{"key":"k","title":"t"},`, MaxAlerts+1), ",") + `]`
	for _, tc := range []struct {
		src   alert.Source
		body  string
		field string
	}{{alert.SourceAlertmanager, am, "alerts"}, {alert.SourceGeneric, gen, ""}} {
		_, err := Parse(tc.src, []byte(tc.body))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Problem, "at most 1000") {
			t.Errorf("%s: %v", tc.src, err)
		}
	}
	exact := `{"version":"4","groupKey":"g","alerts":[` + strings.TrimSuffix(strings.Repeat(one+",", MaxAlerts), ",") + `]}`
	if got, err := Parse(alert.SourceAlertmanager, []byte(exact)); err != nil || len(got) != MaxAlerts {
		t.Errorf("%d alerts: %d, %v", MaxAlerts, len(got), err)
	}
}
