package bot_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// reviewMessages returns the top-level messages of #ops-review.
func (h *harness) reviewMessages() []slacksim.Message {
	ch := h.sim.ChannelByName("ops-review")
	if ch == nil {
		return nil
	}
	var out []slacksim.Message
	for _, m := range h.sim.Messages(ch.ID) {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

func TestOpsReviewOnSchedule(t *testing.T) {
	t.Parallel()
	weekdays, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * 1-5")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withBotConfig(bot.Config{OpsReviewSchedule: weekdays}))
	// The clock starts on Tuesday at 03:04 UTC.
	ch := h.openIncident("checkout <!channel> slow sev2 systems:web")
	h.slash(alice, ch, "/incident", "status restored")
	h.slash(alice, h.general, "/problem", "new Pool too small")
	h.slash(alice, ch, "/incident", "link PRB-1")
	h.slash(alice, ch, "/incident", "cost")
	h.submit(alice, h.openView(alice, "incident_cost").ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": "2500"}})

	check := func() bool {
		t.Helper()
		due, err := h.bot.CheckOpsReview(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		h.sweep()
		return due
	}
	if check() || len(h.reviewMessages()) != 0 {
		t.Fatalf("a review before its time: %+v", h.reviewMessages())
	}

	h.clock.Set(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
	if !check() {
		t.Fatal("09:00 on a weekday is not due")
	}
	msgs := h.reviewMessages()
	if len(msgs) != 1 {
		t.Fatalf("#ops-review holds %d messages, want the review", len(msgs))
	}
	golden(t, "ops_review.json", indentJSON(t, msgs[0].Blocks))
	body := plainJSON(t, msgs[0].Blocks)
	for _, want := range []string{"Operations review, Tue 24 Nov", "*INC-1* SEV2 checkout &lt;!channel&gt; slow", "USD 2,500 (C3)",
		"restored in", "TDO <@U0ALICE>", "PRB-1", "1 of 1 problem (100%) drives 100% of customer cost", "0 changes logged"} {
		if !strings.Contains(body, want) {
			t.Errorf("the review lacks %q:\n%s", want, body)
		}
	}
	files := h.sim.Files(h.sim.ChannelByName("ops-review").ID)
	if len(files) != 2 || files[0].Name != "pareto.png" || files[1].Name != "weekly.png" || files[0].ThreadTS != msgs[0].TS {
		t.Fatalf("review charts = %+v", files)
	}
	for _, f := range files {
		if _, err := png.Decode(bytes.NewReader(f.Content)); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}

	// The same slot again, and after a restart: nothing more.
	check()
	h.restart()
	h.clock.Advance(time.Minute)
	check()
	if n := len(h.reviewMessages()); n != 1 || len(h.sim.Files(h.sim.ChannelByName("ops-review").ID)) != 2 {
		t.Errorf("after re-checks and a restart: %d reviews, %d files", n, len(h.sim.Files(h.sim.ChannelByName("ops-review").ID)))
	}

	// Too late for a slot (the bot was down past the grace): skipped.
	h.clock.Set(time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC))
	if check() {
		t.Error("a slot 90 minutes old was still due")
	}
	// Thursday's slot is posted; Saturday has none.
	h.clock.Set(time.Date(2026, 11, 26, 9, 5, 0, 0, time.UTC))
	check()
	h.clock.Set(time.Date(2026, 11, 28, 9, 5, 0, 0, time.UTC))
	if check() {
		t.Error("Saturday is due")
	}
	msgs = h.reviewMessages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "Operations review, Thu 26 Nov: 0 incidents") {
		t.Errorf("reviews = %d, last %q", len(msgs), msgs[len(msgs)-1].Text)
	}
}
