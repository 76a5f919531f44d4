package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

func TestRotationHandOffsAndOnCall(t *testing.T) {
	t.Parallel()
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	// Alice went on duty yesterday 09:00; Bob takes over today 09:00.
	db := incident.Rotation{Name: "db", Members: []string{alice, bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Systems: []string{"db"}}
	h := newHarness(t, withRotations(db))

	// At 03:04 Alice has been on duty for 18 hours: nothing to announce.
	if n, err := h.bot.CheckRotations(h.ctx); err != nil || n != 0 {
		t.Fatalf("CheckRotations before the hand-off = %d, %v", n, err)
	}
	h.slash(bob, h.general, "/incident", "open replica lag systems:db")
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.TDOID != alice || inc.ReporterID != bob {
		t.Errorf("INC-1 TDO = %s, want the on-call alice (bob reported)", inc.TDOID)
	}

	h.clock.Set(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
	if n, err := h.bot.CheckRotations(h.ctx); err != nil || n != 1 {
		t.Fatalf("CheckRotations after the hand-off = %d, %v; want 1", n, err)
	}
	if n, _ := h.bot.CheckRotations(h.ctx); n != 0 {
		t.Errorf("the hand-off was announced %d more times", n)
	}
	ops := h.sim.ChannelByName("ops")
	if ops == nil {
		t.Fatal("no #ops channel")
	}
	msgs := h.sim.Messages(ops.ID)
	if len(msgs) != 1 || !strings.Contains(plainJSON(t, msgs[0].Blocks), "TDO on duty for *db* is now <@U0BOB>. Next: <@U0ALICE> from <!date^") {
		t.Errorf("#ops holds %+v", msgs)
	}

	h.slash(alice, h.general, "/incident", "open cache misses systems:db")
	if inc, _ := h.store.IncidentByNumber(h.ctx, 2); inc.TDOID != bob {
		t.Errorf("INC-2 TDO = %s, want the new on-call bob", inc.TDOID)
	}
	h.slash(alice, h.general, "/incident", "oncall")
	eph := h.sim.Ephemerals(alice)
	if got := plainJSON(t, eph[len(eph)-1].Blocks); !strings.Contains(got, "*db*: <@U0BOB> on duty since") || !strings.Contains(got, "next <@U0ALICE>") {
		t.Errorf("oncall answered %s", got)
	}
}

// TestOnCallWithoutRotations is an answer, not a usage error: how things
// stand and how to set rotations up.
func TestOnCallWithoutRotations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "oncall")
	golden(t, "oncall_none.json", h.lastEphemeralBlocks(alice))
	got := h.lastEphemeral(alice)
	if strings.Contains(got, ":warning:") || strings.Contains(got, "Write:") ||
		!strings.Contains(got, "No on-call rotations are set up, so whoever reports an incident leads it.") {
		t.Errorf("answered %q", got)
	}
}

// TestRotationHandOffSurvivesSlackFailing: Slack refuses the hand-off's
// post past the caller's retries; the hand-off stays queued and a sweep
// after its back-off posts it, once. A hand-off still unposted when the
// next one comes is dropped as old news, and the new one is posted.
func TestRotationHandOffSurvivesSlackFailing(t *testing.T) {
	t.Parallel()
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	db := incident.Rotation{Name: "db", Members: []string{alice, bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Systems: []string{"db"}}
	tests := []struct {
		name string
		// later is how long after the failure the sweep runs.
		later time.Duration
		// want is who the one message in #ops names as on duty.
		want string
	}{
		{"posted after the back-off", jobs.DefaultBackoff(1), "is now <@U0BOB>"},
		{"replaced by the next hand-off", 24 * time.Hour, "is now <@U0ALICE>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withRotations(db))
			h.clock.Set(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
			h.sim.FailNext("chat.postMessage", 4, 503) // every inline attempt
			if n, err := h.bot.CheckRotations(h.ctx); err != nil || n != 0 {
				t.Fatalf("CheckRotations while Slack fails = %d, %v; want 0 posted, no error", n, err)
			}
			ops := h.sim.ChannelByName("ops")
			if ops == nil || len(h.sim.Messages(ops.ID)) != 0 {
				t.Fatalf("#ops = %+v, want it made and empty", ops)
			}
			h.clock.Advance(tc.later)
			if n, err := h.runner.Sweep(h.ctx); err != nil || n != 1 {
				t.Fatalf("sweep ran %d jobs (%v), want the hand-off", n, err)
			}
			if _, err := h.bot.CheckRotations(h.ctx); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(time.Hour)
			if n, err := h.runner.Sweep(h.ctx); err != nil || n != 0 {
				t.Fatalf("a later sweep ran %d jobs (%v), want none", n, err)
			}
			msgs := h.sim.Messages(ops.ID)
			if len(msgs) != 1 || !strings.Contains(plainJSON(t, msgs[0].Blocks), tc.want) {
				t.Fatalf("#ops holds %d messages %+v, want one saying %q", len(msgs), msgs, tc.want)
			}
		})
	}
}
