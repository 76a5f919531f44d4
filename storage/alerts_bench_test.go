package storage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/clock"
)

// BenchmarkAlertIntake is sustained alert intake with grouping, as the
// webhooks make it: alert.Service.Receive on the store, from 8 callers at
// once (32 in the last case: a webhook storm's concurrent requests; the
// service commits calls that wait together), on the wall clock (so refresh jobs are coalesced per 5 s bucket as
// in production). The alerts fall on 1,000 groups, all known before the
// timer starts (a storm is over; its repeats go on); one alert in 10
// resolves its fingerprint, and a later one fires it again. Each alert is
// stored, its fingerprint's status kept, its group updated and the jobs
// it sets off enqueued.
//
//   - batch=1: one alert a request (Grafana, PagerDuty, a generic call);
//     3 fingerprints a group.
//   - batch=20: an Alertmanager notification: 20 alerts of one group
//     (its 20 fingerprints) a request.
//   - mixed=20: 20 alerts of 20 different groups a request.
//
// It reports alerts/s (the issue asks for 2,000 on PostgreSQL).
func BenchmarkAlertIntake(b *testing.B) {
	const groups = 1000
	cases := []struct {
		name    string
		callers int
		batch   int
		prints  int
		// at is the group and fingerprint of the i-th alert.
		at func(i int) (group, print int)
	}{
		{"batch=1", 8, 1, 3, func(i int) (int, int) { return (i * 7919) % groups, (i / groups) % 3 }},
		{"batch=20", 8, 20, 20, func(i int) (int, int) { return ((i / 20) * 7919) % groups, i % 20 }},
		{"mixed=20", 8, 20, 3, func(i int) (int, int) { return (i * 7919) % groups, (i / groups) % 3 }},
		{"batch=1/callers=32", 32, 1, 3, func(i int) (int, int) { return (i * 7919) % groups, (i / groups) % 3 }},
	}
	for _, d := range dialects {
		for _, tc := range cases {
			b.Run(d.name+"/"+tc.name, func(b *testing.B) {
				s := d.open(b)
				ctx := context.Background()
				svc := alert.NewService(s, clock.Real{}, alert.Settings{PerMinute: 50})
				mk := func(g, p int, st alert.Status) alert.Alert {
					return amAlert(fmt.Sprintf("{}:{alertname=\"A%d\"}", g), fmt.Sprintf("fp%d", p), st)
				}
				var warm []alert.Alert
				for g := range groups {
					for p := range tc.prints {
						warm = append(warm, mk(g, p, alert.StatusFiring))
					}
				}
				for i := 0; i < len(warm); i += 100 {
					if _, err := svc.Receive(ctx, warm[i:min(i+100, len(warm))]); err != nil {
						b.Fatal(err)
					}
				}
				var next, failed atomic.Int64
				var firstErr atomic.Value
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for range tc.callers {
					wg.Go(func() {
						buf := make([]alert.Alert, 0, tc.batch)
						for {
							end := int(next.Add(int64(tc.batch)))
							first := end - tc.batch
							if first >= b.N {
								return
							}
							buf = buf[:0]
							for i := first; i < min(end, b.N); i++ {
								g, p := tc.at(i)
								st := alert.StatusFiring
								if (i/tc.batch)%10 == 9 {
									st = alert.StatusResolved
								}
								buf = append(buf, mk(g, p, st))
							}
							if _, err := svc.Receive(ctx, buf); err != nil && failed.Add(1) == 1 {
								firstErr.Store(err)
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				if failed.Load() > 0 {
					b.Fatalf("%d intakes failed, the first: %v", failed.Load(), firstErr.Load())
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "alerts/s")
				if n, err := s.CountAlerts(ctx, time.Time{}); err != nil || n != int64(b.N+len(warm)) {
					b.Fatalf("%d alerts stored (%v), want %d", n, err, b.N+len(warm))
				}
			})
		}
	}
}
