package bot_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// BenchmarkOpenIncident opens incidents one after another through the
// simulator: each op is a full /incident open, from the slash command to the
// room being ready (channel, invite, topic, header, pin, announcement,
// answer). Allocations count the simulator's too.
func BenchmarkOpenIncident(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchOpen(b, newHarness(b)) })
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
		}
		benchOpen(b, newHarness(b, withDatabase(pgtest.SchemaURL(b, url))))
	})
}

func benchOpen(b *testing.B, h *harness) {
	// Warm caches (the incidents channel, user names) outside the timing.
	h.slash(alice, h.general, "/incident", "open warm up")
	callsBefore := h.sim.TotalCalls()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.slash(alice, h.general, "/incident", fmt.Sprintf("open bench incident %d sev2 systems:web", i))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(h.sim.TotalCalls()-callsBefore)/float64(b.N), "slack-calls/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "opens/s")
}

// BenchmarkAckLatency fires 200 /incident open commands at once, on
// SQLite and PostgreSQL, with one and with two Socket Mode connections
// open, and reports the time from each envelope leaving the simulator to
// its ack arriving (the simulator's AckLatencies): p50 and p99 in
// milliseconds over all ops. Each envelope is recorded in the inbox
// before its ack.
func BenchmarkAckLatency(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, conns := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/conns=%d", dialect, conns), func(b *testing.B) {
				opts := []harnessOption{withBotConfig(bot.Config{Connections: conns})}
				if dialect == "postgres" {
					url := os.Getenv("SITREP_TEST_DATABASE_URL")
					if url == "" {
						b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
					}
					opts = append(opts, withDatabase(pgtest.SchemaURL(b, url)))
				}
				benchAcks(b, newHarness(b, opts...), conns)
			})
		}
	}
}

func benchAcks(b *testing.B, h *harness, conns int) {
	h.wait("the connections", func() bool { return h.sim.Connections() == conns })
	const burst = 200
	before := len(h.sim.AckLatencies())
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		for j := range burst {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				d, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", fmt.Sprintf("open burst %d-%d", i, j))
				if err != nil || !d.Acked {
					b.Errorf("command %d-%d: %v", i, j, err)
				} else if d.AckPayload != nil {
					b.Errorf("command %d-%d was refused: %s", i, j, d.AckPayload)
				}
			})
		}
		wg.Wait()
		h.idle()
	}
	b.StopTimer()
	lat := h.sim.AckLatencies()[before:]
	if len(lat) == 0 {
		b.Fatal("no acks measured")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkStatusChange changes an incident's status through the simulator:
// store update, timeline entry, header re-rendered from the store
// (chat.update), topic, a line in the room, an update in #incidents.
func BenchmarkStatusChange(b *testing.B) {
	h := newHarness(b)
	h.slash(alice, h.general, "/incident", "open bench status sev2")
	ch := h.room(1).ChannelID
	states := []string{"identified", "monitoring", "restored", "investigating"}
	callsBefore := h.sim.TotalCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.slash(alice, ch, "/incident", "status "+states[i%len(states)])
	}
	b.StopTimer()
	b.ReportMetric(float64(h.sim.TotalCalls()-callsBefore)/float64(b.N), "slack-calls/op")
}

// BenchmarkChecklistClick ticks and unticks steps of a 40-step checklist
// through the simulator, one click after another: each op is a checkbox
// click acked, recorded and the message re-rendered with chat.update. It
// reports clicks per second and chat.update calls per click.
func BenchmarkChecklistClick(b *testing.B) {
	h := newHarness(b, withTemplates(bigTemplate(40)))
	h.slash(alice, h.general, "/checklist", "start big-40 bench")
	updates := h.sim.Calls("chat.update")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.tickBoxes(bob, 1, (i/2)%40) // tick, then untick, so it never completes
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "clicks/s")
	b.ReportMetric(float64(h.sim.Calls("chat.update")-updates)/float64(b.N), "updates/click")
}
