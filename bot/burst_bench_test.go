package bot_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/pgtest"
)

// burstSize is how many slash commands BenchmarkAckBurst fires at once.
const burstSize = 200

// BenchmarkAckBurst fires 200 /incident open commands at once through the
// simulator and the real socketmode client (the bot's default two
// connections), on SQLite and on PostgreSQL, and reports the time from
// each envelope leaving the simulator to its ack arriving there (the
// simulator's AckLatencies): p50, p99 and max in milliseconds over every
// command of every op. Each op is one burst, from idle to idle: the 200
// incidents are opened (rooms and all) before the next burst, but only
// the acks are measured. Every envelope is recorded in the inbox before
// its ack.
func BenchmarkAckBurst(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchBurst(b, newHarness(b)) })
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
		}
		benchBurst(b, newHarness(b, withDatabase(pgtest.SchemaURL(b, url))))
	})
}

func benchBurst(b *testing.B, h *harness) {
	h.wait("the connections", func() bool { return h.sim.Connections() == 2 })
	// Warm caches (the incidents channel, user names) outside the timing.
	h.slash(alice, h.general, "/incident", "open warm up")
	h.idle()
	before := len(h.sim.AckLatencies())
	b.ResetTimer()
	for i := range b.N {
		fireBurst(b, h, fmt.Sprintf("burst %d", i))
		b.StopTimer()
		h.idle()
		b.StartTimer()
	}
	b.StopTimer()
	lat := h.sim.AckLatencies()[before:]
	if len(lat) != b.N*burstSize {
		b.Fatalf("measured %d acks, want %d", len(lat), b.N*burstSize)
	}
	slices.Sort(lat)
	b.ReportMetric(msAt(lat, 0.50), "p50-ms")
	b.ReportMetric(msAt(lat, 0.99), "p99-ms")
	b.ReportMetric(msAt(lat, 1), "max-ms")
}

// fireBurst sends burstSize /incident open commands at once and waits for
// their acks; each must be acked with no payload (not refused).
func fireBurst(tb testing.TB, h *harness, label string) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for j := range burstSize {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			<-start
			d, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", fmt.Sprintf("open %s-%d", label, j))
			switch {
			case err != nil || d == nil || !d.Acked:
				tb.Errorf("command %s-%d was not acked: %v", label, j, err)
			case d.AckPayload != nil:
				tb.Errorf("command %s-%d was refused: %s", label, j, d.AckPayload)
			}
		})
	}
	close(start)
	wg.Wait()
}

// msAt returns the p-quantile of sorted durations, in milliseconds.
func msAt(sorted []time.Duration, p float64) float64 {
	i := min(len(sorted)-1, int(float64(len(sorted))*p))
	return float64(sorted[i].Microseconds()) / 1000
}
