package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// lastWith returns the last message in channel whose text holds s.
func (h *harness) lastWith(channel, s string) *slacksim.Message {
	h.t.Helper()
	msgs := h.sim.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, s) {
			return &msgs[i]
		}
	}
	h.t.Fatalf("no message in %s holds %q", channel, s)
	return nil
}

func TestTimeboxRestartNeedsReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db") // 10 min box, restore by 03:14
	h.clock.Advance(8 * time.Minute)
	h.sweep() // the warning

	// Restarting the running clock without a reason is refused.
	h.slash(alice, ch, "/incident", "timebox 90")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "restarting it needs a reason") || !strings.Contains(got, "8 min of 10 min used") {
		t.Errorf("restart without a reason answered %q", got)
	}
	if got, _ := h.store.IncidentByNumber(h.ctx, 1); got.Timebox.Generation != 1 || len(got.Timebox.Earlier) != 0 {
		t.Fatalf("a refused restart changed the clock: %+v", got.Timebox)
	}

	// With one, the earlier box stays on the record.
	h.slash(alice, ch, "/incident", "timebox 90 it is the cache, not the db")
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	if tb := got.Timebox; tb.Generation != 2 || tb.Length != 90*time.Minute || tb.Restarts != 1 || len(tb.Earlier) != 1 ||
		tb.Earlier[0].Ended != "restarted: it is the cache, not the db" || tb.Earlier[0].EndedAt.Sub(tb.Earlier[0].StartedAt) != 8*time.Minute {
		t.Errorf("after the restart: %+v", tb)
	}
	restart := h.lastWith(ch, "Diagnosis timebox restarted")
	if want := "INC-1: Diagnosis timebox restarted after 8 min of 10 min: 1 h 30 min, restore by 04:42 UTC: it is the cache, not the db"; restart.Text != want {
		t.Errorf("restart line = %q\nwant %q", restart.Text, want)
	}
	golden(t, "timebox_restarted.json", indentJSON(t, restart.Blocks))

	// The old deadline passes quietly.
	h.clock.Advance(5 * time.Minute)
	h.sweep()
	if n := len(h.linesWith(ch, "Diagnosis time is up")); n != 0 {
		t.Errorf("%d expiries of the replaced box", n)
	}
	// Extend the new box, then let it run over before restoring.
	h.slash(alice, ch, "/incident", "extend 10m thread dump pending")
	h.clock.Set(epoch.Add(8*time.Minute + 100*time.Minute + 4*time.Minute)) // 4 min past the extended deadline
	h.sweep()
	h.slash(alice, ch, "/incident", "restore")
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	summary := h.lastWith(ch, "closed:")
	body := plainJSON(t, summary.Blocks)
	for _, want := range []string{
		"*Diagnosis timeboxes*\\n2 boxes: 1 restart, 1 extension, 1 overrun",
		"1. From <!date^", "used 8 min of 10 min (10 min as started, 0 extensions); restarted: it is the cache, not the db.",
		"2. From <!date^", "used 1 h 44 min of 1 h 40 min (1 h 30 min as started, 1 extension)",
		"Restoring began 4 min after the diagnosis time was up.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("close summary lacks %q:\n%s", want, body)
		}
	}
	if hdr := h.header(ch); !strings.Contains(hdr, "(box 1: 8 min of 10 min, within the timebox, restarted: it is the cache, not the db; box 2: 1 h 44 min of 1 h 40 min, 4 min over, 1 extension; 1 restart, 1 overrun)") {
		t.Errorf("header adherence: %s", hdr)
	}
}

func TestRaiseSeverityRetimesClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is slow systems:db") // sev3: the default's 45 min, restore by 03:49
	h.clock.Advance(5 * time.Minute)
	h.slash(alice, ch, "/incident", "sev 1 checkout fails for everyone")
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	if tb := got.Timebox; tb.Length != 10*time.Minute || !tb.Deadline.Equal(h.clock.Now().Add(10*time.Minute)) ||
		len(tb.Earlier) != 1 || tb.Earlier[0].Ended != "retimed for SEV1" {
		t.Errorf("after raising to sev1: %+v", tb)
	}
	if lines := h.linesWith(ch, "is now SEV1"); len(lines) != 1 {
		t.Fatalf("severity lines = %q", lines)
	}
	body := plainJSON(t, h.lastWith(ch, "is now SEV1").Blocks)
	if !strings.Contains(body, "checkout fails for everyone (diagnosis retimed to the SEV1 box of 10 min, restore by 03:19 UTC)") {
		t.Errorf("the room does not hear of the retime: %s", body)
	}
	if plan := plainJSON(t, h.plan(1).Blocks); !strings.Contains(plan, "|03:19 UTC>* (10 min)") {
		t.Errorf("the plan of attack keeps the SEV3 box: %s", plan)
	}
	// The SEV1 box fires; the SEV3 one does not.
	h.clock.Advance(10 * time.Minute)
	h.sweep()
	h.clock.Advance(time.Hour)
	h.sweep()
	if lines := h.linesWith(ch, "Diagnosis time is up"); len(lines) != 1 || !strings.Contains(lines[0], "after 10 min") {
		t.Errorf("expiries = %q, want the SEV1 box's alone", lines)
	}
}

func TestReopenStartsNewBox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.clock.Advance(6 * time.Minute)
	h.slash(alice, ch, "/incident", "status restored failed over")
	h.clock.Advance(20 * time.Minute)
	h.slash(alice, ch, "/incident", "status investigating errors are back")
	got, _ := h.store.IncidentByNumber(h.ctx, 1)
	tb := got.Timebox
	if !tb.Running() || tb.Length != 10*time.Minute || !tb.Deadline.Equal(h.clock.Now().Add(10*time.Minute)) || len(tb.Earlier) != 1 {
		t.Fatalf("after reopening: %+v", tb)
	}
	if hdr := h.header(ch); !strings.Contains(hdr, "diagnose until <!date^") {
		t.Errorf("the header shows no clock after reopening: %s", hdr)
	}
	if body := plainJSON(t, h.lastWith(ch, "is now Investigating").Blocks); !strings.Contains(body, "errors are back (new diagnosis timebox of 10 min, restore by 03:40 UTC)") {
		t.Errorf("the room does not hear of the new box: %s", body)
	}
	h.clock.Advance(10 * time.Minute)
	h.sweep()
	h.clock.Advance(2 * time.Minute)
	if lines := h.linesWith(ch, "Diagnosis time is up after 10 min"); len(lines) != 1 {
		t.Errorf("expiries of the new box = %q", lines)
	}
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	body := plainJSON(t, h.lastWith(ch, "closed:").Blocks)
	if !strings.Contains(body, "*Diagnosis timeboxes*\\n2 boxes: 0 restarts, 0 extensions, 1 overrun") ||
		!strings.Contains(body, "used 6 min of 10 min (10 min as started, 0 extensions); stopped.") {
		t.Errorf("close summary: %s", body)
	}
}

func TestLateDeadlineSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db") // restore by 03:14:05
	h.clock.Advance(8 * time.Minute)
	h.sweep() // the warning, on time
	h.stop()  // sitrep goes down before the deadline
	h.clock.Advance(6 * time.Minute)
	h.restart() // 03:18:05, four minutes late
	h.sweep()
	expiry := h.lastWith(ch, "Diagnosis time is up")
	if !strings.Contains(expiry.Text, "(fired 4 min late: sitrep was down at 03:14 UTC)") {
		t.Errorf("expiry = %q, want it to say it fired late", expiry.Text)
	}
	body := plainJSON(t, expiry.Blocks)
	if !strings.Contains(body, ":warning: This deadline fired 4 min late: sitrep was down at 03:14 UTC.") {
		t.Errorf("the room's expiry line does not say it is late: %s", body)
	}
	golden(t, "timebox_expired_late.json", indentJSON(t, expiry.Blocks))
	if w := h.lastWith(ch, "left, restore by"); strings.Contains(w.Text, "late") {
		t.Errorf("a warning on time says it is late: %q", w.Text)
	}
}
