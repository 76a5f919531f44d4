package bot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
)

// BenchmarkAckLatencyConnections fires 200 /incident open commands at once
// with one and with two Socket Mode connections open, and reports the time
// from each envelope leaving the simulator to its ack arriving (the
// simulator's AckLatencies): p50 and p99 in milliseconds over all ops.
func BenchmarkAckLatencyConnections(b *testing.B) {
	for _, conns := range []int{1, 2} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			h := newHarness(b, withBotConfig(bot.Config{Connections: conns}))
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
		})
	}
}
