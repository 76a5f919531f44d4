package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// dbPlans time-boxes sev1 db incidents at 10 minutes: opened at 03:04:05,
// the warning is due at 03:12:05 and the deadline is 03:14:05.
var dbPlans = incident.Plans{
	Default: incident.Plan{Diagnostics: []string{"note the first error"},
		Timebox: map[incident.Severity]time.Duration{incident.Sev1: 15 * time.Minute, incident.Sev3: 45 * time.Minute}},
	Systems: map[string]incident.Plan{"db": {
		Diagnostics: []string{"copy the slow-query log", "heap dump of one api pod <!channel>"},
		Timebox:     map[incident.Severity]time.Duration{incident.Sev1: 10 * time.Minute},
		Restore:     []string{"fail over to the replica"},
		Runbooks:    []string{"https://runbooks.example/db"},
	}},
}

// plan returns INC-number's plan of attack message.
func (h *harness) plan(number int64) *slacksim.Message {
	h.t.Helper()
	r := h.room(number)
	if r.PlanTS == "" {
		h.t.Fatalf("INC-%d has no plan message", number)
	}
	return h.sim.Message(r.ChannelID, r.PlanTS)
}

// sweep runs the due jobs, as the sweeper's cron would, and returns how
// many ran.
func (h *harness) sweep() int {
	h.t.Helper()
	n, err := h.runner.Sweep(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	h.idle()
	return n
}

// linesWith returns the texts of the messages in channel holding s.
func (h *harness) linesWith(channel, s string) []string {
	var out []string
	for _, m := range h.sim.Messages(channel) {
		if strings.Contains(m.Text, s) {
			out = append(out, m.Text)
		}
	}
	return out
}

// clockJobs returns the states of the incident's clock jobs by key.
func (h *harness) clockJobs(incidentID int64) map[string]jobs.State {
	h.t.Helper()
	out := map[string]jobs.State{}
	for gen := 1; gen <= 5; gen++ {
		for _, kind := range []string{incident.JobTimeboxWarning, incident.JobTimeboxExpiry} {
			key := fmt.Sprintf("%s:%d:%d", kind, incidentID, gen)
			if j, err := h.store.JobByKey(h.ctx, key); err == nil {
				out[key] = j.State
			}
		}
	}
	return out
}

func TestPlanOfAttackIsPostedAndTicked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	if hdr := h.header(ch); !strings.Contains(hdr, "*Diagnosis*\\ndiagnose until <!date^") || !strings.Contains(hdr, "|03:14 UTC> (10 min)") {
		t.Errorf("header does not show the deadline: %s", hdr)
	}
	plan := h.plan(1)
	golden(t, "plan_start.json", indentJSON(t, plan.Blocks))
	if body := plainJSON(t, plan.Blocks); strings.Contains(body, "<!channel>") {
		t.Errorf("a plan step was not escaped: %s", body)
	}

	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	tick := func(user, value string) {
		t.Helper()
		if _, err := h.sim.Click(h.ctx, user, ch, plan.TS, "plan_diagnostic", fmt.Sprintf("%d:%s", inc.ID, value)); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	h.clock.Advance(2 * time.Minute)
	tick(bob, "1:1")
	body := plainJSON(t, h.plan(1).Blocks)
	if !strings.Contains(body, ":white_check_mark: ~heap dump of one api pod &lt;!channel&gt;~\\n<@U0BOB> at <!date^") || !strings.Contains(body, "(1 of 2 done)") {
		t.Errorf("plan after bob's tick: %s", body)
	}
	tick(alice, "1:1")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "collected already: the plan of attack shows who and when") {
		t.Errorf("second tick answered %q", got)
	}
	tick(alice, "1:0")
	tick(alice, "0:1")
	golden(t, "plan_ticked.json", indentJSON(t, h.plan(1).Blocks))
	tick(alice, "7:1")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "The plan of INC-1 has no diagnostic 8") {
		t.Errorf("tick of a missing step answered %q", got)
	}

	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	var kinds []string
	for _, e := range timeline {
		kinds = append(kinds, string(e.Kind)+":"+e.Actor+":"+e.Subject)
	}
	want := "diagnostic:U0BOB:1 diagnostic_undone:U0ALICE:1 diagnostic:U0ALICE:0"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("timeline = %s, want %s", got, want)
	}
}

func TestClockWarnsAndExpiresOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)

	h.clock.Advance(8*time.Minute - time.Second) // 03:12:04, one second early
	if n := h.sweep(); n != 0 {
		t.Errorf("a sweep before the warning ran %d jobs", n)
	}
	h.clock.Advance(time.Second) // 03:12:05
	h.sweep()
	h.sweep()
	warnings := h.linesWith(ch, "Diagnosis time: 2 min left")
	if len(warnings) != 1 {
		t.Fatalf("warnings in the room = %q, want exactly one", warnings)
	}
	if !strings.Contains(plainJSON(t, h.sim.Messages(ch)[len(h.sim.Messages(ch))-1].Blocks), "<@U0ALICE> *2 min of diagnosis left*") {
		t.Error("the warning does not address the TDO")
	}

	h.clock.Advance(2 * time.Minute) // 03:14:05, the deadline
	h.sweep()
	h.sweep()
	expiries := h.sim.Messages(ch)
	last := expiries[len(expiries)-1]
	if got := h.linesWith(ch, "Diagnosis time is up after 10 min: restore service now"); len(got) != 1 {
		t.Fatalf("expiry messages = %q, want one", got)
	}
	golden(t, "timebox_expired.json", indentJSON(t, last.Blocks))
	if strings.Contains(last.Text, "late") {
		t.Errorf("an expiry on time says it is late: %q", last.Text)
	}
	if hdr := h.header(ch); !strings.Contains(hdr, ":alarm_clock: time up at <!date^") {
		t.Errorf("header after expiry: %s", hdr)
	}
	states := h.clockJobs(inc.ID)
	if states["incident.timebox_warning:1:1"] != jobs.StateDone || states["incident.timebox_expiry:1:1"] != jobs.StateDone {
		t.Errorf("clock jobs = %v, want both done", states)
	}

	// Restore now, from the expiry message.
	h.clock.Advance(3 * time.Minute)
	if _, err := h.sim.Click(h.ctx, alice, ch, last.TS, "timebox_restore", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	if got.Timebox.Running() || !got.Timebox.RestoreBegan.Equal(h.clock.Now()) {
		t.Errorf("after Restore now: %+v", got.Timebox)
	}
	if lines := h.linesWith(ch, "Restoration began; diagnosis stopped after 13 min of 10 min (3 min over)"); len(lines) != 1 {
		t.Errorf("restore lines = %q", lines)
	}
	if _, err := h.sim.Click(h.ctx, bob, ch, last.TS, "timebox_restore", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Restoration of INC-1 began at 03:17 UTC") {
		t.Errorf("second Restore now answered %q", got)
	}

	// The timeline and the close summary say how the timebox was kept.
	h.slash(alice, ch, "/incident", "timeline")
	msgs := h.sim.Messages(ch)
	tl := plainJSON(t, msgs[len(msgs)-1].Blocks)
	for _, want := range []string{
		"*timebox* <@U0ALICE> Diagnosis timebox started from the plan of attack: 10 min, restore by 03:14 UTC",
		"*timebox warning* _sitrep_ Diagnosis time: 2 min left, restore by 03:14 UTC",
		"*timebox expired* _sitrep_ Diagnosis time is up after 10 min: restore service now",
		"*restore* <@U0ALICE> Restoration began",
		"*Diagnosis timebox*\\nUsed 13 min of 10 min (10 min as started, 0 extensions)\\nRestoring began 3 min after the diagnosis time was up.",
	} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	msgs = h.sim.Messages(ch)
	var summary string
	for _, m := range msgs {
		if strings.Contains(m.Text, "closed:") {
			summary = plainJSON(t, m.Blocks)
		}
	}
	if !strings.Contains(summary, "Used 13 min of 10 min") || !strings.Contains(summary, "Restoring began 3 min after the diagnosis time was up.") {
		t.Errorf("close summary lacks adherence: %s", summary)
	}
}

func TestExtendMovesTheDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	h.clock.Advance(10 * time.Minute)
	h.sweep() // warning and expiry
	msgs := h.sim.Messages(ch)
	expiry := msgs[len(msgs)-1]

	// Extend opens a form whose two fields are required.
	if _, err := h.sim.Click(h.ctx, bob, ch, expiry.TS, "timebox_extend", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	views := h.sim.OpenViews(bob)
	if len(views) != 1 || views[0].CallbackID != "timebox_extend" {
		t.Fatalf("open views = %+v", views)
	}
	golden(t, "modal_extend.json", indentJSON(t, withoutKeys(t, views[0].Raw, "id", "hash", "team_id", "app_id", "bot_id",
		"app_installed_team_id", "root_view_id", "previous_view_id", "state", "external_id", "clear_on_close", "notify_on_close")))
	d, err := h.sim.Submit(h.ctx, bob, views[0].ID, map[string]map[string]string{
		"minutes": {"minutes": "ten"}, "reason": {"reason": "heap dump half written"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.AckPayload), "Write whole minutes, 1 to 1440") {
		t.Errorf("bad minutes acked with %s", d.AckPayload)
	}
	if _, err := h.sim.Submit(h.ctx, bob, views[0].ID, map[string]map[string]string{
		"minutes": {"minutes": "10"}, "reason": {"reason": "heap dump <!here> half written"},
	}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	if got.Timebox.Generation != 2 || got.Timebox.Extensions != 1 || !got.Timebox.Deadline.Equal(h.clock.Now().Add(10*time.Minute)) {
		t.Errorf("after the extension: %+v", got.Timebox)
	}
	if lines := h.linesWith(ch, "Diagnosis extended by 10 min, restore by 03:24 UTC: heap dump &lt;!here&gt; half written"); len(lines) != 1 {
		t.Errorf("extension lines = %q", lines)
	}

	// By command, a second time; the first extension's jobs are cancelled.
	h.clock.Advance(time.Minute)
	h.slash(alice, ch, "/incident", "extend 5m still copying the log")
	got, _ = h.store.IncidentByNumber(h.ctx, 1)
	if !got.Timebox.Deadline.Equal(epoch.Add(25*time.Minute)) || got.Timebox.Extensions != 2 {
		t.Errorf("after the second extension: %+v", got.Timebox)
	}
	states := h.clockJobs(inc.ID)
	want := map[string]jobs.State{
		"incident.timebox_warning:1:1": jobs.StateDone, "incident.timebox_expiry:1:1": jobs.StateDone,
		"incident.timebox_warning:1:2": jobs.StateCancelled, "incident.timebox_expiry:1:2": jobs.StateCancelled,
		"incident.timebox_warning:1:3": jobs.StatePending, "incident.timebox_expiry:1:3": jobs.StatePending,
	}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("clock jobs = %v\nwant %v", states, want)
	}
	// The old deadline passes quietly; the new one fires.
	h.clock.Set(epoch.Add(20 * time.Minute))
	h.sweep()
	if n := len(h.linesWith(ch, "Diagnosis time is up")); n != 1 {
		t.Errorf("%d expiries by the first extension's deadline, want only the first", n)
	}
	h.clock.Set(epoch.Add(25 * time.Minute))
	h.sweep()
	if n := len(h.linesWith(ch, "Diagnosis time is up")); n != 2 {
		t.Errorf("%d expiries after the last deadline, want 2", n)
	}

	for _, tc := range []struct{ text, want string }{
		{"extend 10m", "An extension needs a reason"},
		{"extend soon because", "`soon` is not a length such as 10m"},
		{"extend 0m why", "`0m` is not between 1 minute and 24 hours"},
		{"extend", "Say how much longer diagnosis may run"},
	} {
		h.slash(alice, ch, "/incident", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/incident %s answered %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestRestoreBeforeExpiryCancelsTheClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	h.clock.Advance(4 * time.Minute)
	h.slash(alice, ch, "/incident", "restore")
	if lines := h.linesWith(ch, "Restoration began; diagnosis stopped after 4 min of 10 min"); len(lines) != 1 {
		t.Errorf("restore lines = %q", lines)
	}
	states := h.clockJobs(inc.ID)
	if states["incident.timebox_warning:1:1"] != jobs.StateCancelled || states["incident.timebox_expiry:1:1"] != jobs.StateCancelled {
		t.Errorf("clock jobs after restore = %v, want both cancelled", states)
	}
	before := len(h.sim.Messages(ch))
	h.clock.Advance(time.Hour)
	if n := h.sweep(); n != 0 {
		t.Errorf("%d jobs ran after the restore", n)
	}
	if after := len(h.sim.Messages(ch)); after != before {
		t.Errorf("the room got %d more messages after the restore", after-before)
	}
	if hdr := h.header(ch); !strings.Contains(hdr, "stopped at <!date^") || !strings.Contains(hdr, "4 min of 10 min, within the timebox") {
		t.Errorf("header after restore: %s", hdr)
	}
	h.slash(alice, ch, "/incident", "extend 5m more")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Diagnosis of INC-1 stopped at 03:08 UTC: start a new timebox") {
		t.Errorf("extend after restore answered %q", got)
	}

	// Restarting starts a new clock; status restored stops it, and its
	// jobs are called off too.
	h.slash(alice, ch, "/incident", "timebox 30m")
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	if got.Timebox.Generation != 2 || got.Timebox.Length != 30*time.Minute || !got.Timebox.Running() {
		t.Errorf("after /incident timebox 30m: %+v", got.Timebox)
	}
	if lines := h.linesWith(ch, "Diagnosis timebox restarted: 30 min, restore by 04:38 UTC"); len(lines) != 1 {
		t.Errorf("restart lines = %q", lines)
	}
	h.slash(alice, ch, "/incident", "status restored")
	if states := h.clockJobs(inc.ID); states["incident.timebox_expiry:1:2"] != jobs.StateCancelled {
		t.Errorf("status restored left the clock's jobs: %v", states)
	}
	h.slash(alice, ch, "/incident", "timebox")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is restored: the diagnosis timebox is for while customers are still hurt") {
		t.Errorf("timebox on a restored incident answered %q", got)
	}
	h.slash(alice, ch, "/incident", "timebox later")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "`later` is not a length such as 10m") {
		t.Errorf("bad timebox answered %q", got)
	}
}

func TestOverdueClockFiresOnceAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	// sitrep goes down before the warning and stays down past the deadline.
	h.stop()
	h.clock.Advance(17 * time.Minute) // 03:21:05, 7 minutes late
	h.restart()
	if n := h.sweep(); n < 2 {
		t.Errorf("the first sweep after the restart ran %d jobs, want at least the overdue warning and expiry", n)
	}
	h.sweep()
	expiries := h.linesWith(ch, "Diagnosis time is up")
	if len(expiries) != 1 || !strings.Contains(expiries[0], "(fired 7 min late: sitrep was down at 03:14 UTC)") {
		t.Errorf("expiries after the restart = %q, want one that says it is late", expiries)
	}
	if n := len(h.linesWith(ch, "left, restore by")); n != 0 {
		t.Errorf("%d warnings after the restart past the deadline, want none: the expiry says it all", n)
	}
	// Another restart runs nothing again.
	h.restart()
	if n := h.sweep(); n != 0 {
		t.Errorf("a second restart ran %d jobs", n)
	}
}

func TestFailingClockJobIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.clock.Advance(10 * time.Minute)
	// Slack is down: posting the expiry fails every attempt for a while.
	h.sim.FailNext("chat.postMessage", 50, 400)
	h.sweep()
	if n := len(h.linesWith(ch, "Diagnosis time is up")); n != 0 {
		t.Fatalf("expiry posted while Slack was failing")
	}
	h.sim.FailNext("chat.postMessage", 0, 400)
	h.clock.Advance(15 * time.Minute) // past every back-off
	h.sweep()
	h.sweep()
	if n := len(h.linesWith(ch, "Diagnosis time is up")); n != 1 {
		t.Errorf("%d expiry messages once Slack recovered, want 1", n)
	}
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	for _, e := range timeline {
		j, err := h.store.JobByKey(h.ctx, fmt.Sprintf("%s:%d", incident.JobTimebox, e.ID))
		if err != nil || j.State != jobs.StateDone || j.Attempts < 2 {
			t.Errorf("showing %s: job %+v, %v; want done after a retry", e.Kind, j, err)
		}
	}
}
