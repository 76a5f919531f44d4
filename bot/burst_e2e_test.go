package bot_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// TestBurstIsRecordedAckedAndHandledOnce fires 200 /incident open commands
// at once through the real socketmode client: each is acked once, with no
// refusal, recorded in the inbox, handled exactly once (one incident per
// command, taken for handling once) and marked done. With a work queue
// of 8 behind 32 workers, most of the burst waits in the inbox for a slot
// and is handled all the same.
func TestBurstIsRecordedAckedAndHandledOnce(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, depth := range []int{0, 8} {
			t.Run(fmt.Sprintf("%s/queue=%d", dialect, depth), func(t *testing.T) {
				opts := []harnessOption{withBotConfig(bot.Config{QueueDepth: depth})}
				if dialect == "postgres" {
					url := os.Getenv("SITREP_TEST_DATABASE_URL")
					if url == "" {
						t.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL case")
					}
					opts = append(opts, withDatabase(pgtest.SchemaURL(t, url)))
				}
				h := newHarness(t, opts...)
				h.wait("the connections", func() bool { return h.sim.Connections() == 2 })
				fireBurst(t, h, "burst")
				// 200 rooms take a while under -race on a busy machine:
				// the bound only keeps a lost command from hanging.
				ctx, cancel := context.WithTimeout(h.ctx, 5*time.Minute)
				defer cancel()
				if err := h.sim.Wait(ctx, func() bool { return h.incidentCount() == burstSize }); err != nil {
					t.Fatalf("%d of %d incidents opened: %v", h.incidentCount(), burstSize, err)
				}
				if err := h.bot.WaitIdle(ctx); err != nil {
					t.Fatal(err)
				}
				checkBurst(t, h)
			})
		}
	}
}

func checkBurst(t *testing.T, h *harness) {
	t.Helper()
	ds := h.sim.Deliveries()
	if len(ds) != burstSize {
		t.Fatalf("%d envelopes sent, want %d", len(ds), burstSize)
	}
	for _, d := range ds {
		if !d.Acked || d.Late {
			t.Errorf("envelope %s: acked=%v late=%v", d.EnvelopeID, d.Acked, d.Late)
		}
		env, err := h.store.Envelope(h.ctx, "cmd:"+d.TriggerID)
		if err != nil {
			t.Errorf("envelope %s is not in the inbox: %v", d.EnvelopeID, err)
			continue
		}
		if env.State != inbox.StateDone || env.Attempts != 1 {
			t.Errorf("envelope %s in the inbox: %s after %d attempts, want done after 1", d.EnvelopeID, env.State, env.Attempts)
		}
	}
	if n := h.sim.StrayAcks(); n != 0 {
		t.Errorf("%d acks named an unknown or already acked envelope", n)
	}
	list, err := h.store.ListIncidents(h.ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]int{}
	for _, inc := range list {
		titles[inc.Title]++
	}
	for j := range burstSize {
		if title := fmt.Sprintf("burst-%d", j); titles[title] != 1 {
			t.Errorf("%d incidents titled %q, want 1", titles[title], title)
		}
	}
	if len(list) != burstSize {
		t.Errorf("%d incidents opened by %d commands", len(list), burstSize)
	}
}
