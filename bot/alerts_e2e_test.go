package bot_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// Alert intake end to end: alerts handed to alert.Service.Receive (as the
// webhook does), the jobs it stores run by the job runner, and what the
// simulated workspace and the store hold after.

// withAlerts turns alert intake on with these settings.
func withAlerts(s alert.Settings) harnessOption { return func(c *harnessConfig) { c.alerts = &s } }

// receive hands alerts to intake and runs the jobs due now.
func (h *harness) receive(alerts ...alert.Alert) alert.Result {
	h.t.Helper()
	res, err := h.alerts.Receive(h.ctx, alerts)
	if err != nil {
		h.t.Fatalf("receiving alerts: %v", err)
	}
	h.runDue()
	return res
}

// runDue runs every job due now, and what they set off, until the bot is
// idle.
func (h *harness) runDue() {
	h.t.Helper()
	for range 5 {
		n, err := h.runner.Sweep(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		h.idle()
		if n == 0 {
			return
		}
	}
}

// later moves the clock past the refresh of what arrived now and runs
// what is due.
func (h *harness) later() {
	h.t.Helper()
	h.clock.Advance(alert.RefreshEvery + 2*time.Second)
	h.runDue()
}

// group returns alert group id from the store.
func (h *harness) group(id int64) *alert.Group {
	h.t.Helper()
	g, err := h.store.AlertGroup(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}

// alertsChannel returns the ID of #alerts, failing if sitrep made none.
func (h *harness) alertsChannel() string {
	h.t.Helper()
	ch := h.sim.ChannelByName("alerts")
	if ch == nil {
		h.t.Fatal("sitrep made no #alerts channel")
	}
	return ch.ID
}

// messageText is a message's text and blocks, as Slack would show them.
func (h *harness) messageText(m slacksim.Message) string {
	return m.Text + plainJSON(h.t, m.Blocks)
}

// highErrorRate is a firing Alertmanager alert.
func highErrorRate() alert.Alert {
	return alert.Alert{
		Source: alert.SourceAlertmanager, GroupKey: `{}:{alertname="HighErrorRate"}`, Fingerprint: "f1",
		Status: alert.StatusFiring, Title: "HighErrorRate", Severity: "critical",
		Labels:  map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
		Systems: []string{"checkout"}, Link: "http://prometheus.example:9090/graph?g0.expr=x",
		Details: "error rate 12% on checkout",
	}
}

// rerun runs a job of kind about group id again, as a retry would (a job
// of its own, its key new), and waits for the bot.
func (h *harness) rerun(kind string, p alert.JobPayload) {
	h.t.Helper()
	raw, _ := json.Marshal(p)
	if _, err := h.runner.RunJob(h.ctx, jobs.Job{Kind: kind, Key: kind + ":rerun:" + strconv.FormatInt(h.clock.Now().UnixNano(), 10),
		Payload: raw, DueAt: h.clock.Now()}); err != nil {
		h.t.Fatalf("running %s again: %v", kind, err)
	}
	h.idle()
}

// TestAlertTriageMessage: a new alert posts one triage message in #alerts;
// repeats update that message's count, the resolution says so, and a run
// that lost the record of its post finds the message instead of posting
// again.
func TestAlertTriageMessage(t *testing.T) { t.Parallel(); testAlertTriageMessage(t) }

// TestAlertTriageMessagePostgres is TestAlertTriageMessage on PostgreSQL.
func TestAlertTriageMessagePostgres(t *testing.T) {
	t.Parallel()
	testAlertTriageMessage(t, withDatabase(pgtest.URL(t)))
}

func testAlertTriageMessage(t *testing.T, opts ...harnessOption) {
	h := newOnceHarness(t, append([]harnessOption{withAlerts(alert.Settings{})}, opts...)...)
	res := h.receive(highErrorRate())
	id := res.Groups[0].GroupID
	ch := h.alertsChannel()
	msg := h.only(ch, "sitrep_alert_triage")
	text := h.messageText(msg)
	for _, want := range []string{"HighErrorRate", "SEV1 · critical", "Declare incident", "Attach to incident", "Not an incident", "Alertmanager"} {
		if !strings.Contains(text, want) {
			t.Errorf("the triage message lacks %q:\n%s", want, text)
		}
	}
	if g := h.group(id); g.TriageChannel != ch || g.TriageTS != msg.TS {
		t.Errorf("group records its message at %s/%s; it is %s/%s", g.TriageChannel, g.TriageTS, ch, msg.TS)
	}

	for range 11 {
		h.clock.Advance(time.Second)
		h.receive(highErrorRate())
	}
	h.later()
	msg = h.only(ch, "sitrep_alert_triage")
	if text := h.messageText(msg); !strings.Contains(text, "HighErrorRate ×12") || !strings.Contains(text, "×12") {
		t.Errorf("after 11 repeats the message does not count 12:\n%s", text)
	}

	h.clock.Set(h.group(id).FirstSeen.Add(12 * time.Minute))
	resolved := highErrorRate()
	resolved.Status = alert.StatusResolved
	h.receive(resolved)
	h.later()
	msg = h.only(ch, "sitrep_alert_triage")
	if text := h.messageText(msg); !strings.Contains(text, "resolved, after 12 min") {
		t.Errorf("the resolved alert's message does not say so:\n%s", text)
	}

	// A run that posted and died before recording it: the group forgets
	// its message, the job runs again and finds it.
	if _, err := h.store.UpdateAlertGroup(h.ctx, id, func(g *alert.Group) error {
		g.TriageChannel, g.TriageTS = "", ""
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	h.rerun(alert.JobTriage, alert.JobPayload{GroupID: id})
	if again := h.only(ch, "sitrep_alert_triage"); again.TS != msg.TS {
		t.Errorf("the retried job posted %s; the message is %s", again.TS, msg.TS)
	}
	if g := h.group(id); g.TriageTS != msg.TS {
		t.Errorf("the retried job recorded %q; want the message found, %s", g.TriageTS, msg.TS)
	}
	h.checkNothingDoubled()
}

// TestAlertHugeTitle: an alert with a 10 KB title and 10 KB of details is
// posted within Block Kit's limits (the harness checks every message) and
// mentions nobody.
func TestAlertHugeTitle(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{}))
	a := highErrorRate()
	a.Title = strings.Repeat("<!channel> huge ", 700)[:10_000]
	a.Details = strings.Repeat("details & <!here> ", 600)
	h.receive(a)
	msg := h.only(h.alertsChannel(), "sitrep_alert_triage")
	if text := h.messageText(msg); strings.Contains(text, "<!channel>") || strings.Contains(text, "<!here>") {
		t.Errorf("an alert's mention reached Slack unescaped")
	}
}

// TestAlertDeclare: Declare incident opens the form prefilled from the
// alert; submitting it opens the incident (the group's request key, the
// clicker its reporter), links the alert, and the message says so without
// buttons. A second click on the stale message opens nothing.
func TestAlertDeclare(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{}))
	id := h.receive(highErrorRate()).Groups[0].GroupID
	ch := h.alertsChannel()
	msg := h.only(ch, "sitrep_alert_triage")
	if _, err := h.sim.Click(h.ctx, alice, ch, msg.TS, "alert_declare", strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	view := h.openView(alice, "alert_declare")
	if raw := string(view.Raw); !strings.Contains(raw, `"initial_value":"HighErrorRate"`) || !strings.Contains(raw, `"initial_value":"checkout"`) {
		t.Errorf("the Declare form is not prefilled with the alert's title and systems:\n%s", raw)
	}
	h.submit(alice, view.ID, nil)
	h.runDue()

	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatalf("no incident declared: %v", err)
	}
	if inc.RequestKey != alert.DeclareKey(id) || inc.ReporterID != alice || inc.Severity != incident.Sev1 || inc.Title != "HighErrorRate" {
		t.Errorf("declared %+v; want HighErrorRate, SEV1, reported by alice, key %s", inc, alert.DeclareKey(id))
	}
	g := h.group(id)
	if g.Decision != alert.DecisionDeclared || g.IncidentID != inc.ID || g.DecidedBy != alice {
		t.Errorf("group decision %q incident %d by %s; want declared %d by alice", g.Decision, g.IncidentID, g.DecidedBy, inc.ID)
	}
	seen := msg.Blocks
	msg = h.only(ch, "sitrep_alert_triage")
	text := h.messageText(msg)
	if !strings.Contains(text, "Declared as *INC-1* by <@U0ALICE>") || strings.Contains(text, "alert_declare") {
		t.Errorf("the message does not show the declaration, or still has buttons:\n%s", text)
	}
	room := h.room(1)
	if room.ChannelID == "" {
		t.Fatal("the declared incident has no room")
	}
	if header := h.header(room.ChannelID); !strings.Contains(header, "Declared from Alertmanager: HighErrorRate ×1") {
		t.Errorf("the header does not show the alert:\n%s", header)
	}

	// A stale click: nothing opened, the clicker told.
	if _, err := h.sim.ClickStale(h.ctx, bob, ch, msg.TS, seen, "alert_declare", strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if n := h.incidentCount(); n != 1 {
		t.Errorf("%d incidents after a second Declare; want 1", n)
	}
	if len(h.sim.OpenViews(bob)) != 0 || !strings.Contains(h.lastEphemeral(bob), "decided already") {
		t.Errorf("the second clicker was not told it is decided: %q", h.ephemeralTexts(bob))
	}
	h.checkNothingDoubled()
}

// TestAlertAttachAndResolve: Attach to incident lists the open incidents;
// the alert joins the one picked (on its timeline, its header), and its
// resolution is written on the timeline once and told in the room.
func TestAlertAttachAndResolve(t *testing.T) { t.Parallel(); testAlertAttachAndResolve(t) }

// TestAlertAttachAndResolvePostgres is TestAlertAttachAndResolve on PostgreSQL.
func TestAlertAttachAndResolvePostgres(t *testing.T) {
	t.Parallel()
	testAlertAttachAndResolve(t, withDatabase(pgtest.URL(t)))
}

func testAlertAttachAndResolve(t *testing.T, opts ...harnessOption) {
	h := newOnceHarness(t, append([]harnessOption{withAlerts(alert.Settings{})}, opts...)...)
	room := h.openIncident("checkout errors sev2 systems:checkout")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	id := h.receive(highErrorRate()).Groups[0].GroupID
	ch := h.alertsChannel()
	msg := h.only(ch, "sitrep_alert_triage")
	if _, err := h.sim.Click(h.ctx, alice, ch, msg.TS, "alert_attach", strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	view := h.openView(alice, "alert_attach")
	if !strings.Contains(string(view.Raw), "INC-1 SEV2") {
		t.Errorf("the Attach form does not list INC-1:\n%s", view.Raw)
	}
	h.submit(alice, view.ID, map[string]map[string]string{"incident": {"incident": strconv.FormatInt(inc.ID, 10)}})
	h.runDue()
	if g := h.group(id); g.Decision != alert.DecisionAttached || g.IncidentID != inc.ID {
		t.Fatalf("group decision %q incident %d; want attached to %d", g.Decision, g.IncidentID, inc.ID)
	}
	if text := h.messageText(h.only(ch, "sitrep_alert_triage")); !strings.Contains(text, "Attached to *INC-1* by <@U0ALICE>") {
		t.Errorf("the message does not show the attachment:\n%s", text)
	}
	if header := h.header(room); !strings.Contains(header, "Attached: Alertmanager: HighErrorRate ×1 (firing") {
		t.Errorf("the header does not show the alert:\n%s", header)
	}

	h.clock.Set(h.group(id).FirstSeen.Add(12 * time.Minute))
	resolved := highErrorRate()
	resolved.Status = alert.StatusResolved
	h.receive(resolved)
	h.later()
	h.rerun(alert.JobIncident, alert.JobPayload{GroupID: id, Resolved: true}) // a retry writes nothing more
	timeline, err := h.store.Timeline(h.ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, e := range timeline {
		if e.Kind == incident.EntryAlert {
			alerts = append(alerts, e.Facts.Source+": "+e.Text)
		}
	}
	want := []string{"Alertmanager: HighErrorRate — error rate 12% on checkout", "Alertmanager: HighErrorRate resolved after 12 min"}
	if strings.Join(alerts, "\n") != strings.Join(want, "\n") {
		t.Errorf("alert entries on the timeline:\n%s\nwant:\n%s", strings.Join(alerts, "\n"), strings.Join(want, "\n"))
	}
	if len(h.marked(room, "sitrep_alert_room")) != 1 {
		t.Errorf("the room was not told of the resolution once: %d messages", len(h.marked(room, "sitrep_alert_room")))
	}
	if header := h.header(room); !strings.Contains(header, "×2 (resolved after 12 min") {
		t.Errorf("the header does not show the resolution:\n%s", header)
	}

	h.slash(alice, room, "/incident", "alerts")
	if last := h.lastEphemeral(alice); !strings.Contains(last, "Alerts of INC-1 (1)") {
		t.Errorf("/incident alerts answered %q", last)
	}
	h.checkNothingDoubled()
}

// TestAlertNotAnIncident: the reason is required, kept with the alert and
// shown on its message, whose buttons go.
func TestAlertNotAnIncident(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{}))
	id := h.receive(highErrorRate()).Groups[0].GroupID
	ch := h.alertsChannel()
	msg := h.only(ch, "sitrep_alert_triage")
	if _, err := h.sim.Click(h.ctx, bob, ch, msg.TS, "alert_dismiss", strconv.FormatInt(id, 10)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	view := h.openView(bob, "alert_dismiss")
	d := h.submit(bob, view.ID, map[string]map[string]string{"reason": {"reason": "   "}})
	if !strings.Contains(string(d.AckPayload), "Say why") {
		t.Errorf("an empty reason was not refused on the form: %s", d.AckPayload)
	}
	h.submit(bob, view.ID, map[string]map[string]string{"reason": {"reason": "planned maintenance <db> & co"}})
	g := h.group(id)
	if g.Decision != alert.DecisionDismissed || g.Reason != "planned maintenance <db> & co" || g.DecidedBy != bob {
		t.Errorf("group %q reason %q by %s; want dismissed with the reason, by bob", g.Decision, g.Reason, g.DecidedBy)
	}
	text := h.messageText(h.only(ch, "sitrep_alert_triage"))
	if !strings.Contains(text, "Not an incident: planned maintenance &lt;db&gt; &amp; co — <@U0BOB>") || strings.Contains(text, "alert_dismiss") {
		t.Errorf("the message does not show the reason once escaped, or keeps its buttons:\n%s", text)
	}
	h.checkNothingDoubled()
}

// oncall is a rotation that has bob on duty for checkout.
func oncall(t *testing.T) incident.Rotation {
	t.Helper()
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	return incident.Rotation{Name: "payments", Members: []string{bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Systems: []string{"checkout"}}
}

// TestAlertRouteOpens: a route that opens an incident at once: reported by
// Alertmanager (no person), the alert its first timeline entry after the
// opening, the rotation's TDO told by direct message; a retried job opens
// nothing more; no triage message.
func TestAlertRouteOpens(t *testing.T) { t.Parallel(); testAlertRouteOpens(t) }

// TestAlertRouteOpensPostgres is TestAlertRouteOpens on PostgreSQL.
func TestAlertRouteOpensPostgres(t *testing.T) {
	t.Parallel()
	testAlertRouteOpens(t, withDatabase(pgtest.URL(t)))
}

func testAlertRouteOpens(t *testing.T, opts ...harnessOption) {
	h := newOnceHarness(t, append([]harnessOption{withRotations(oncall(t)), withAlerts(alert.Settings{Routes: []alert.Route{
		{Name: "pages", Match: alert.Match{Severity: "critical"}, Action: alert.ActionOpen, Severity: incident.Sev2},
	}})}, opts...)...)
	id := h.receive(highErrorRate()).Groups[0].GroupID
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatalf("the route opened no incident: %v", err)
	}
	if inc.ReporterID != "" || inc.ReportedBy != "Alertmanager" || inc.TDOID != bob || inc.Severity != incident.Sev2 ||
		inc.RequestKey != alert.DeclareKey(id) {
		t.Errorf("opened %+v; want reported by Alertmanager, bob TDO, SEV2 (the route's), key %s", inc, alert.DeclareKey(id))
	}
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	if len(timeline) == 0 || timeline[0].Kind != incident.EntryAlert || timeline[0].Facts.Source != "Alertmanager" ||
		timeline[0].Text != "HighErrorRate — error rate 12% on checkout" {
		t.Errorf("first timeline entry after the opening: %+v; want the alert", timeline)
	}
	room := h.room(1)
	header := h.header(room.ChannelID)
	for _, want := range []string{"*Reported by*\\n*Alertmanager*", "Opened by Alertmanager: HighErrorRate ×1 (firing"} {
		if !strings.Contains(header, want) {
			t.Errorf("header lacks %q:\n%s", want, header)
		}
	}
	if strings.Contains(header, "<@>") {
		t.Errorf("the header mentions an empty user:\n%s", header)
	}
	dm := h.sim.DirectChannel(bob)
	if dm == "" || len(h.sim.Messages(dm)) != 1 || !strings.Contains(h.messageText(h.sim.Messages(dm)[0]), "*Alertmanager*") {
		t.Errorf("bob, on call, was not briefed once by direct message naming Alertmanager")
	}
	if g := h.group(id); g.Decision != alert.DecisionOpened || g.IncidentID != inc.ID {
		t.Errorf("group decision %q incident %d; want opened %d", g.Decision, g.IncidentID, inc.ID)
	}
	if ch := h.sim.ChannelByName("alerts"); ch != nil && len(h.marked(ch.ID, "sitrep_alert_triage")) != 0 {
		t.Errorf("an alert the route opened an incident for was also triaged")
	}

	// The job again, as after a crash before Opened was recorded.
	if _, err := h.store.UpdateAlertGroup(h.ctx, id, func(g *alert.Group) error {
		g.IncidentID, g.Decision = 0, alert.DecisionNone
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	h.rerun(alert.JobOpen, alert.JobPayload{GroupID: id})
	if n := h.incidentCount(); n != 1 {
		t.Errorf("%d incidents after the open job ran twice; want 1", n)
	}
	timeline, _ = h.store.Timeline(h.ctx, inc.ID)
	entries := 0
	for _, e := range timeline {
		if e.Kind == incident.EntryAlert {
			entries++
		}
	}
	if entries != 1 {
		t.Errorf("%d alert entries after the open job ran twice; want 1", entries)
	}
	h.checkNothingDoubled()
}

// TestAlertRouteOpensWithoutRotation: with no rotation to lead it, an
// open route's alert is triaged instead of lost.
func TestAlertRouteOpensWithoutRotation(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{Routes: []alert.Route{
		{Name: "pages", Action: alert.ActionOpen},
	}}))
	h.receive(highErrorRate())
	if n := h.incidentCount(); n != 0 {
		t.Errorf("%d incidents opened with nobody to lead them", n)
	}
	h.only(h.alertsChannel(), "sitrep_alert_triage")
}

// TestAlertRouteLogsChange: Splunk's search of a deploy directory logs a
// change to the route's system, the files in its summary, its owner the
// person, source splunk; once, however often the job runs.
func TestAlertRouteLogsChange(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{Routes: []alert.Route{
		{Name: "deploys", Match: alert.Match{Source: alert.SourceSplunk, SearchName: "deploy dir changed"},
			Action: alert.ActionChange, Systems: []string{"checkout"}},
	}}))
	splunk := alert.Alert{Source: alert.SourceSplunk, GroupKey: "deploy dir changed", SearchName: "deploy dir changed",
		Title: "deploy dir changed", Labels: map[string]string{"app": "search", "owner": "jdoe"},
		Details: "file: /opt/app/checkout.jar, /opt/app/app.conf\nhost: web-1\nsid: scheduler__admin__search__RMD5", Link: "https://splunk.example.com:8000/app/search/@go?sid=1"}
	id := h.receive(splunk).Groups[0].GroupID
	changes, err := h.store.Changes(h.ctx, incident.ChangeQuery{Since: epoch.Add(-time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 {
		t.Fatalf("%d changes logged; want 1", len(changes))
	}
	c := changes[0]
	if c.Source != incident.SourceSplunk || c.Person != "jdoe" || strings.Join(c.Systems, ",") != "checkout" ||
		!strings.Contains(c.Summary, "/opt/app/checkout.jar, /opt/app/app.conf") || strings.Contains(c.Summary, "sid:") {
		t.Errorf("logged %+v; want source splunk, person jdoe, system checkout, the files in the summary", c)
	}
	if g := h.group(id); g.ChangeID != c.ID || g.Decision != alert.DecisionLogged {
		t.Errorf("group change %d decision %q; want %d logged", g.ChangeID, g.Decision, c.ID)
	}
	h.rerun(alert.JobChange, alert.JobPayload{GroupID: id, AlertID: firstAlert(t, h, id)})
	if changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Since: epoch.Add(-time.Hour), Limit: 10}); len(changes) != 1 {
		t.Errorf("%d changes after the change job ran again; want 1", len(changes))
	}
	if ch := h.sim.ChannelByName("alerts"); ch != nil && len(h.marked(ch.ID, "sitrep_alert_triage")) != 0 {
		t.Errorf("an alert logged as a change was also triaged")
	}
}

// firstAlert is the ID of group id's first alert.
func firstAlert(t *testing.T, h *harness, id int64) int64 {
	t.Helper()
	alerts, err := h.store.GroupAlerts(h.ctx, id, 100)
	if err != nil || len(alerts) == 0 {
		t.Fatalf("alerts of group %d: %v (%d)", id, err, len(alerts))
	}
	return alerts[len(alerts)-1].ID
}

// TestAlertStormDigest: over the route's limit, new alerts get no message
// of their own but one digest, updated in place as more arrive.
func TestAlertStormDigest(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{PerMinute: 2}))
	batch := func(from, n int) []alert.Alert {
		var out []alert.Alert
		for i := from; i < from+n; i++ {
			a := highErrorRate()
			a.GroupKey, a.Title = "storm-"+strconv.Itoa(i), "PodCrashLooping"
			if i%3 == 0 {
				a.Title = "DiskFull"
			}
			out = append(out, a)
		}
		return out
	}
	h.receive(batch(0, 6)...)
	h.later()
	ch := h.alertsChannel()
	if n := len(h.marked(ch, "sitrep_alert_triage")); n != 2 {
		t.Errorf("%d triage messages in a storm; want the limit, 2", n)
	}
	digest := h.only(ch, "sitrep_alert_digest")
	if text := h.messageText(digest); !strings.Contains(text, "Alert storm: 4 new alerts on route default") {
		t.Errorf("digest:\n%s", text)
	}
	h.clock.Advance(10 * time.Second)
	h.receive(batch(6, 5)...)
	h.later()
	digest = h.only(ch, "sitrep_alert_digest")
	if text := h.messageText(digest); !strings.Contains(text, "Alert storm: 9 new alerts on route default") {
		t.Errorf("the digest was not updated in place:\n%s", text)
	}
	if n := len(h.marked(ch, "sitrep_alert_triage")); n != 2 {
		t.Errorf("%d triage messages; want 2", n)
	}
	if n := h.sim.Calls("chat.postMessage"); n != 3 {
		t.Errorf("%d messages posted for 11 new alerts over a limit of 2; want 3 (2 triage messages, 1 digest)", n)
	}
	h.checkNothingDoubled()
}

// TestAlertPostsOnceWhenAnswersAreLost: Slack posts the triage message and
// the storm digest but their answers are lost; the retries find them
// instead of posting again, and the group records the message found.
func TestAlertPostsOnceWhenAnswersAreLost(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{PerMinute: 1}))
	var batch []alert.Alert
	for i := range 3 {
		a := highErrorRate()
		a.GroupKey = "lost-" + strconv.Itoa(i)
		batch = append(batch, a)
	}
	h.sim.LoseAnswers("chat.postMessage", 2)
	res := h.receive(batch...)
	h.later()
	ch := h.alertsChannel()
	triage := h.only(ch, "sitrep_alert_triage")
	h.only(ch, "sitrep_alert_digest")
	if g := h.group(res.Groups[0].GroupID); g.TriageTS != triage.TS {
		t.Errorf("group records %q; the message posted is %s", g.TriageTS, triage.TS)
	}
	if _, retries := h.bot.SlackCalls(); retries < 2 {
		t.Errorf("%d retries; the two lost answers should have made two", retries)
	}
	if n := h.sim.Calls("chat.postMessage"); n != 2 {
		t.Errorf("chat.postMessage called %d times; want 2, each lost answer's retry finding its message", n)
	}
	h.checkNothingDoubled()
}

// TestAlertDecisionsRace: alice opens the Attach form, bob marks the alert
// not an incident meanwhile; alice's submission changes nothing and she is
// told why, in the domain's words.
func TestAlertDecisionsRace(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{}))
	h.openIncident("checkout errors sev2")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	id := h.receive(highErrorRate()).Groups[0].GroupID
	ch := h.alertsChannel()
	msg := h.only(ch, "sitrep_alert_triage")
	for _, c := range []struct{ user, action string }{{alice, "alert_attach"}, {bob, "alert_dismiss"}} {
		if _, err := h.sim.Click(h.ctx, c.user, ch, msg.TS, c.action, strconv.FormatInt(id, 10)); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	attach, dismiss := h.openView(alice, "alert_attach"), h.openView(bob, "alert_dismiss")
	h.submit(bob, dismiss.ID, map[string]map[string]string{"reason": {"reason": "a test alert"}})
	h.submit(alice, attach.ID, map[string]map[string]string{"incident": {"incident": strconv.FormatInt(inc.ID, 10)}})
	if g := h.group(id); g.Decision != alert.DecisionDismissed || g.IncidentID != 0 {
		t.Errorf("group %q incident %d; want it left dismissed", g.Decision, g.IncidentID)
	}
	var told string
	for _, e := range h.sim.Ephemerals(alice) {
		told += e.Text + "\n"
	}
	if dm := h.sim.DirectChannel(alice); dm != "" {
		for _, m := range h.sim.Messages(dm) {
			told += m.Text + "\n"
		}
	}
	if !strings.Contains(told, "marked not an incident") || strings.Contains(told, "internal") {
		t.Errorf("alice was told %q; want why, in the domain's words", told)
	}
}

// TestAlertRepeatsCoalesce: a new group costs Slack one look and one post;
// 100 repeats within 4 seconds update its message once or twice (once per
// refresh bucket they span), not 100 times.
func TestAlertRepeatsCoalesce(t *testing.T) {
	t.Parallel()
	h := newOnceHarness(t, withAlerts(alert.Settings{}))
	h.receive(highErrorRate())
	if post, look := h.sim.Calls("chat.postMessage"), h.sim.Calls("conversations.history"); post != 1 || look != 1 {
		t.Errorf("a new alert cost %d posts and %d looks; want 1 and 1", post, look)
	}
	for range 100 {
		h.clock.Advance(40 * time.Millisecond)
		if _, err := h.alerts.Receive(h.ctx, []alert.Alert{highErrorRate()}); err != nil {
			t.Fatal(err)
		}
	}
	h.later()
	if n := h.sim.Calls("chat.update"); n < 1 || n > 2 {
		t.Errorf("100 repeats made %d updates; want 1 or 2", n)
	}
	if text := h.messageText(h.only(h.alertsChannel(), "sitrep_alert_triage")); !strings.Contains(text, "×101") {
		t.Errorf("the message does not count 101:\n%s", text)
	}
}
