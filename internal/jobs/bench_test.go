package jobs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

// dueJobs is how many jobs fall due at once in the sweeper benchmark.
const dueJobs = 10_000

// sweepSpec is how often the sweeper looks for due jobs while idle: the
// bot's default (bot.Config.SweepSpec).
const sweepSpec = "@every 5s"

// BenchmarkSweep measures the sweeper with 10,000 jobs falling due at the
// same moment, the runners started as sitrep starts them (looking every 5 s
// while idle): jobs run per second from their due time (and from the first
// one running), and the lag from
// each job's due time to its handler running (p50, p99, max). That lag
// includes the wait for the sweeper's next look, as a real job's does. The
// jobs are enqueued ahead of their due time, which is set far enough ahead
// for the enqueueing to finish first. The handler does nothing, so the
// figures are the queue's own cost. On PostgreSQL it runs with one runner
// and with two on one database (SKIP LOCKED claims).
//
//	go test -run '^$' -bench Sweep -benchtime 3x ./internal/jobs
func BenchmarkSweep(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s := openBench(b, "sqlite:"+filepath.Join(b.TempDir(), "jobs.db"))
		benchSweep(b, []*storage.Store{s})
	})
	for _, runners := range []int{1, 2} {
		b.Run(fmt.Sprintf("postgres-%drunners", runners), func(b *testing.B) {
			url := pgtest.SchemaURL(b, pgtest.URL(b))
			var stores []*storage.Store
			for range runners {
				stores = append(stores, openBench(b, url))
			}
			benchSweep(b, stores)
		})
	}
}

func openBench(b *testing.B, url string) *storage.Store {
	b.Helper()
	s, err := storage.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchSweep(b *testing.B, stores []*storage.Store) {
	ctx := context.Background()
	var mu sync.Mutex
	var lags []time.Duration
	var first, last time.Time // when the first and the last job of a round ran
	for i, s := range stores {
		r := jobs.NewRunner(s, clock.Real{}, nil)
		r.Instance = fmt.Sprintf("bench-%d", i)
		r.Handle("bench", func(_ context.Context, j jobs.Job) error {
			now := time.Now()
			mu.Lock()
			lags = append(lags, now.Sub(j.DueAt))
			if first.IsZero() {
				first = now
			}
			last = later(last, now)
			mu.Unlock()
			return nil
		})
		if err := r.Start(ctx, sweepSpec); err != nil {
			b.Fatal(err)
		}
		defer r.Stop()
	}
	// Enqueueing takes a while: time a few, and set the due time so far
	// ahead that all are in the queue before it (with room for a machine
	// whose load changes meanwhile).
	const warm = 500
	t0 := time.Now()
	for i := range warm {
		if _, err := stores[0].Enqueue(ctx, jobs.Job{Kind: "bench", Key: fmt.Sprintf("warm-%d", i), DueAt: t0}); err != nil {
			b.Fatal(err)
		}
	}
	lead := time.Since(t0)*dueJobs/warm*3 + 2*time.Second
	var elapsed, running time.Duration
	ran := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(lags)
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(5 * time.Minute)
		for ran() < n {
			if time.Now().After(deadline) {
				b.Fatalf("%d jobs ran, want %d", ran(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(warm)
	mu.Lock()
	lags = lags[:0]
	mu.Unlock()
	for round := 0; b.Loop(); round++ {
		mu.Lock()
		first = time.Time{}
		mu.Unlock()
		due := time.Now().Add(lead)
		for i := range dueJobs {
			if _, err := stores[0].Enqueue(ctx, jobs.Job{Kind: "bench", Key: fmt.Sprintf("b%d-%d", round, i), DueAt: due}); err != nil {
				b.Fatal(err)
			}
		}
		if late := time.Since(due); late > 0 {
			b.Fatalf("enqueueing %d jobs took %s longer than the lead of %s", dueJobs, late, lead)
		}
		waitFor((round + 1) * dueJobs)
		mu.Lock()
		elapsed += last.Sub(due)
		running += last.Sub(first)
		mu.Unlock()
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lags)
	pct := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lags))/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(len(lags))/running.Seconds(), "jobs/s-once-started")
	b.ReportMetric(pct(0.5), "p50-lag-ms")
	b.ReportMetric(pct(0.99), "p99-lag-ms")
	b.ReportMetric(pct(1), "max-lag-ms")
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// BenchmarkDueWhileBlocked measures how late a due job runs while another
// job's handler is stuck in a call that does not return for 5 s: the lag
// from the job's due time to its handler starting, with the runner started
// as `sitrep run` starts it (sweeping every second). A sweep that waited for
// its whole batch made the due job wait for the stuck one; the worker pool
// runs it at the next look.
//
//	go test -run '^$' -bench DueWhileBlocked -benchtime 3x ./internal/jobs
func BenchmarkDueWhileBlocked(b *testing.B) {
	const stuck = 5 * time.Second
	s := openBench(b, "sqlite:"+filepath.Join(b.TempDir(), "jobs.db"))
	r := jobs.NewRunner(s, clock.Real{}, nil)
	started := make(chan struct{}, 1)
	r.Handle("stuck", func(ctx context.Context, _ jobs.Job) error {
		started <- struct{}{}
		select {
		case <-time.After(stuck):
		case <-ctx.Done():
		}
		return nil
	})
	lags := make(chan time.Duration, 1)
	r.Handle("due", func(_ context.Context, j jobs.Job) error { lags <- time.Since(j.DueAt); return nil })
	ctx := context.Background()
	if err := r.Start(ctx, "@every 1s"); err != nil {
		b.Fatal(err)
	}
	defer r.Stop()
	var all []time.Duration
	for round := 0; b.Loop(); round++ {
		if _, err := r.Enqueue(ctx, jobs.Job{Kind: "stuck", Key: fmt.Sprintf("stuck-%d", round)}); err != nil {
			b.Fatal(err)
		}
		<-started
		if _, err := r.Enqueue(ctx, jobs.Job{Kind: "due", Key: fmt.Sprintf("due-%d", round), DueAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		all = append(all, <-lags)
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Milliseconds()), "p50-lag-ms")
	b.ReportMetric(float64(all[len(all)-1].Milliseconds()), "max-lag-ms")
}
