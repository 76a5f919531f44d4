package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
)

// alertsYAML routes Alertmanager's critical alerts to an incident at once,
// Splunk's deploy-files search to a change of checkout, and the rest to
// triage in #alerts.
const alertsYAML = `rotations:
  - name: checkout on-call
    members: [U0ALICE]
    handoff: "0 9 * * MON"
    start: "2026-03-02 09:00"
    default: true
alerts:
  channel: "#alerts"
  sources:
    alertmanager: {token_env: AM_TOKEN}
    grafana: {token_env: GRAFANA_TOKEN}
    splunk: {token_env: SPLUNK_TOKEN}
    pagerduty: {secret_env: PD_SECRETS}
    generic: {token_env: GENERIC_TOKEN}
  routes:
    - name: critical-pages
      match: {source: alertmanager, labels: {severity: critical}}
      action: open
      severity: sev1
      systems: [checkout]
    - name: deploy-files
      match: {source: splunk, search_name: "Files changed in deploy directory"}
      action: change
      systems: [checkout]
    - name: everything-else
      action: triage
`

// alertsRun is `sitrep run` with alert webhooks, against the simulator.
type alertsRun struct {
	sim   *slacksim.Sim
	base  string
	db    string
	logs  *syncBuffer
	ctx   context.Context
	alert string // #alerts' ID
}

func startAlertsRun(t *testing.T) *alertsRun {
	t.Helper()
	sim := startSim(t)
	alerts := sim.AddChannel("alerts", "U0ALICE")
	db := "sqlite:" + filepath.Join(t.TempDir(), "alerts.db")
	env := map[string]string{
		"SLACK_BOT_TOKEN": sim.BotToken(), "SLACK_APP_TOKEN": sim.AppToken(), "SLACK_API_URL": sim.APIURL(),
		"SITREP_DATABASE_URL": db, "SITREP_HTTP_ADDR": "127.0.0.1:0", "SITREP_LOG_LEVEL": "debug",
		"AM_TOKEN": "am-token-1", "GRAFANA_TOKEN": "grafana-token-1", "SPLUNK_TOKEN": "splunk-token-1",
		"PD_SECRETS": "pd-old-secret, pd-new-secret", "GENERIC_TOKEN": "generic-token-1",
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("sitrep.yaml", []byte(alertsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), logs, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sitrep run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("sitrep run did not stop")
		}
		for _, secret := range []string{"am-token-1", "grafana-token-1", "splunk-token-1", "pd-old-secret", "pd-new-secret", "generic-token-1"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret appears in the logs")
			}
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(wcancel)
	var addr string
	if err := sim.Wait(wctx, func() bool {
		m := regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`).FindStringSubmatch(logs.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil && sim.Connections() >= 1
	}); err != nil {
		t.Fatalf("sitrep run did not start: %v\nlogs:\n%s", err, logs.String())
	}
	return &alertsRun{sim: sim, base: "http://" + addr, db: db, logs: logs, ctx: wctx, alert: alerts}
}

// fixture reads a product's payload kept by web/alerts' tests.
func fixture(t *testing.T, source, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rootDir, "web", "alerts", "testdata", source, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rootDir is the module's root, two levels above this package, read
// before any test changes directory.
var rootDir = func() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}()

// post sends body to the source's webhook, authenticated as that source
// is, and returns the status.
func (r *alertsRun) post(t *testing.T, source string, body []byte) int {
	t.Helper()
	url := r.base + "/api/v1/alerts/" + source
	if source == "splunk" {
		url += "?token=splunk-token-1"
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch source {
	case "alertmanager":
		req.Header.Set("Authorization", "Bearer am-token-1")
	case "grafana":
		req.Header.Set("Authorization", "Bearer grafana-token-1")
	case "generic":
		req.Header.Set("Authorization", "Bearer generic-token-1")
	case "pagerduty":
		// Signed with the secret being rotated in, beside a stale one.
		mac := hmac.New(sha256.New, []byte("pd-new-secret"))
		mac.Write(body)
		req.Header.Set("X-PagerDuty-Signature", "v1=00ff00ff,v1="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Logf("POST %s: %d %s", source, resp.StatusCode, answer)
	}
	return resp.StatusCode
}

// wait waits for cond, failing with what it was waiting for.
func (r *alertsRun) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := r.sim.Wait(r.ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v\nlogs:\n%s", what, err, r.logs.String())
	}
}

// triage returns the messages in #alerts whose text or blocks hold want.
func (r *alertsRun) triage(want string) []slacksim.Message {
	var out []slacksim.Message
	for _, m := range r.sim.Messages(r.alert) {
		if strings.Contains(m.Text, want) || strings.Contains(string(m.Blocks), want) {
			out = append(out, m)
		}
	}
	return out
}

// TestAlertsEndToEnd sends each product's real payload shape to `sitrep
// run` and follows it into Slack: firing → a triage message (or an
// incident, or a change, as routed), repeat → the same message updated,
// resolved → the message and the incident's timeline say so.
func TestAlertsEndToEnd(t *testing.T) {
	r := startAlertsRun(t)

	// Triage sources: one message each, updated in place by a repeat
	// and by the resolution.
	for _, tc := range []struct{ source, title string }{
		{"grafana", "Disk almost full: db-1"}, {"pagerduty", "Payments API error rate above 5%"}, {"generic", "Checkout p99 latency"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			t.Parallel()
			if code := r.post(t, tc.source, fixture(t, tc.source, "firing")); code != http.StatusAccepted {
				t.Fatalf("firing: %d", code)
			}
			var first slacksim.Message
			r.wait(t, tc.source+"'s triage message", func() bool {
				ms := r.triage(tc.title)
				if len(ms) == 1 {
					first = ms[0]
				}
				return len(ms) == 1
			})
			if !strings.Contains(string(first.Blocks), "Declare incident") {
				t.Errorf("the triage message has no Declare incident button: %s", first.Blocks)
			}
			if code := r.post(t, tc.source, fixture(t, tc.source, "repeated")); code/100 != 2 {
				t.Fatalf("repeated: %d", code)
			}
			r.wait(t, tc.source+"'s message updated by the repeat", func() bool {
				m := r.sim.Message(r.alert, first.TS)
				return m != nil && m.UpdatedCount >= 1
			})
			if code := r.post(t, tc.source, fixture(t, tc.source, "resolved")); code/100 != 2 {
				t.Fatalf("resolved: %d", code)
			}
			r.wait(t, tc.source+"'s message saying resolved", func() bool {
				m := r.sim.Message(r.alert, first.TS)
				return m != nil && strings.Contains(strings.ToLower(string(m.Blocks)), "resolved")
			})
			if ms := r.triage(tc.title); len(ms) != 1 {
				for _, m := range ms {
					t.Logf("%s %s", m.TS, m.Blocks)
				}
				t.Errorf("%d triage messages for one alert and its repeats, want 1", len(ms))
			}
		})
	}

	// Alertmanager's critical alerts open an incident at once, reported
	// by Alertmanager, the alert its first timeline entry.
	t.Run("alertmanager", func(t *testing.T) {
		t.Parallel()
		if code := r.post(t, "alertmanager", fixture(t, "alertmanager", "firing")); code != http.StatusAccepted {
			t.Fatalf("firing: %d", code)
		}
		var room *slacksim.Channel
		r.wait(t, "the incident's room", func() bool {
			for _, c := range r.sim.Channels() {
				if strings.HasPrefix(c.Name, "inc-") {
					c := c
					room = &c
				}
			}
			return room != nil
		})
		r.post(t, "alertmanager", fixture(t, "alertmanager", "repeated"))
		r.post(t, "alertmanager", fixture(t, "alertmanager", "resolved"))
		store := openRunStore(t, r.db)
		svc := incident.NewService(store, clock.Real{})
		var entries []incident.TimelineEntry
		r.wait(t, "the resolution on the incident's timeline", func() bool {
			inc, err := svc.ByNumber(context.Background(), 1)
			if err != nil {
				return false
			}
			entries, _ = svc.Timeline(context.Background(), inc)
			for _, e := range entries {
				if e.Kind == incident.EntryAlert && strings.Contains(e.Text, "resolved") {
					return true
				}
			}
			return false
		})
		inc, _ := svc.ByNumber(context.Background(), 1)
		if inc.ReportedBy != "Alertmanager" || inc.ReporterID != "" || inc.TDOID != "U0ALICE" || inc.Severity != incident.Sev1 {
			t.Errorf("incident opened by the alert: reported by %q/%q, TDO %q, %v", inc.ReportedBy, inc.ReporterID, inc.TDOID, inc.Severity)
		}
		// The opening and the diagnosis clock are read from the incident;
		// the first entry stored is the alert's.
		var stored []incident.TimelineEntry
		for _, e := range entries {
			if e.ID != 0 {
				stored = append(stored, e)
			}
		}
		if len(stored) == 0 || stored[0].Kind != incident.EntryAlert || stored[0].Facts.Source != "Alertmanager" ||
			!strings.Contains(stored[0].Text, "Checkout p99 latency over 2s") {
			t.Errorf("the alert is not the first entry after opened: %+v", entries)
		}
		if n := len(r.triage("CheckoutLatencyHigh")); n != 0 {
			t.Errorf("an alert routed to open also posted %d triage messages", n)
		}
		var opened int
		for _, c := range r.sim.Channels() {
			if strings.HasPrefix(c.Name, "inc-") {
				opened++
			}
		}
		if opened != 1 {
			t.Errorf("%d incident rooms for one alert group and its repeats, want 1", opened)
		}
	})

	// Splunk's deploy-files search logs a change of checkout instead.
	t.Run("splunk", func(t *testing.T) {
		t.Parallel()
		if code := r.post(t, "splunk", fixture(t, "splunk", "firing")); code != http.StatusAccepted {
			t.Fatalf("firing: %d", code)
		}
		store := openRunStore(t, r.db)
		var got []incident.Change
		r.wait(t, "the change Splunk's search logged", func() bool {
			got, _ = incident.NewChangeLog(store, clock.Real{}).Recent(context.Background(), incident.ChangeQuery{Systems: []string{"checkout"}, Limit: 10})
			return len(got) == 1
		})
		c := got[0]
		if string(c.Source) != "splunk" || !strings.Contains(c.Summary+c.Reason, "config.yml") {
			b, _ := json.Marshal(c)
			t.Errorf("the change logged from Splunk: %s", b)
		}
		if n := len(r.triage("Files changed in deploy directory")); n != 0 {
			t.Errorf("a search routed to change also posted %d triage messages", n)
		}
	})
}

// sourceName is how a triage message names the product.
func sourceName(source string) string {
	return map[string]string{"alertmanager": "Alertmanager", "grafana": "Grafana", "splunk": "Splunk", "pagerduty": "PagerDuty", "generic": "Webhook"}[source]
}

// openRunStore opens the database sitrep run uses, beside it.
func openRunStore(t *testing.T, url string) *storage.Store {
	t.Helper()
	store, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// TestAlertStorm sends 10,000 distinct alerts to `sitrep run` within
// seconds: the alerts channel gets at most the route's per-minute bound of
// triage messages a minute plus one storm digest a minute, updated in
// place, and every alert is in the store.
func TestAlertStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("the storm sends 10,000 alerts; skipped with -short")
	}
	r := startAlertsRun(t)
	const total, perRequest, senders = 10000, 10, 8
	start := time.Now()
	work := make(chan int)
	errs := make(chan error, senders)
	for range senders {
		go func() {
			client := &http.Client{}
			for n := range work {
				var batch []map[string]any
				for i := range perRequest {
					key := n*perRequest + i
					batch = append(batch, map[string]any{"key": "storm-" + strconv.Itoa(key), "title": "Node " + strconv.Itoa(key) + " unreachable", "severity": "warning"})
				}
				body, _ := json.Marshal(batch)
				req, _ := http.NewRequest("POST", r.base+"/api/v1/alerts/generic", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer generic-token-1")
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errs <- fmt.Errorf("request %d: %s", n, resp.Status)
					return
				}
			}
			errs <- nil
		}()
	}
	for n := range total / perRequest {
		work <- n
	}
	close(work)
	for range senders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	t.Logf("10,000 alerts accepted in %v (%.0f alerts/s)", took.Round(time.Millisecond), total/took.Seconds())

	store := openRunStore(t, r.db)
	got, err := store.CountAlerts(context.Background(), time.Time{})
	if err != nil || got != total {
		t.Fatalf("the store holds %d alerts (%v), want %d", got, err, total)
	}
	// Let the jobs catch up: the digest says how many the storm held.
	r.wait(t, "the storm digest", func() bool {
		for _, m := range r.sim.Messages(r.alert) {
			if strings.Contains(strings.ToLower(m.Text+string(m.Blocks)), "storm") {
				return true
			}
		}
		return false
	})
	if err := r.sim.WaitQuiet(r.ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	minutes := int(took/time.Minute) + 2 // the storm may straddle minute boundaries
	msgs := r.sim.Messages(r.alert)
	if max := minutes * (alert.DefaultPerMinute + 1); len(msgs) > max {
		t.Errorf("%d messages in #alerts for a storm over %d minutes, want at most %d", len(msgs), minutes, max)
	}
	digests := 0
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m.Text+string(m.Blocks)), "storm") {
			digests++
		}
	}
	if digests == 0 || digests > minutes {
		t.Errorf("%d storm digests over %d minutes", digests, minutes)
	}
	t.Logf("%d messages in #alerts, %d of them storm digests", len(msgs), digests)
}
