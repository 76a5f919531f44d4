package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/incident"
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

func TestOnCallWithoutRotations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "oncall")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "No on-call rotations are set up") {
		t.Errorf("oncall answered %q", got)
	}
}
