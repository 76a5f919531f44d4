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

// BenchmarkSweep measures the sweeper with 10,000 jobs due at the same
// moment: claimed and run per second, and the lag from each job's due time
// to its handler running (p50, p99, max). The handler does nothing, so the
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
	runners := make([]*jobs.Runner, len(stores))
	for i, s := range stores {
		r := jobs.NewRunner(s, clock.Real{}, nil)
		r.Handle("bench", func(_ context.Context, j jobs.Job) error {
			lag := time.Since(j.DueAt)
			mu.Lock()
			lags = append(lags, lag)
			mu.Unlock()
			return nil
		})
		runners[i] = r
	}
	var elapsed time.Duration
	for round := 0; b.Loop(); round++ {
		b.StopTimer()
		due := time.Now()
		for i := range dueJobs {
			if _, err := stores[0].Enqueue(ctx, jobs.Job{Kind: "bench", Key: fmt.Sprintf("b%d-%d", round, i), DueAt: due}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		mu.Lock()
		base := len(lags)
		mu.Unlock()
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() {
				if _, err := r.Sweep(ctx); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		mu.Lock()
		if got := len(lags) - base; got != dueJobs {
			b.Fatalf("ran %d jobs, want %d", got, dueJobs)
		}
		// Count lag from the sweep's start: the jobs were due then.
		shift := start.Sub(due)
		for i := base; i < len(lags); i++ {
			lags[i] -= shift
		}
		mu.Unlock()
	}
	slices.Sort(lags)
	pct := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lags))/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(pct(0.5), "p50-lag-ms")
	b.ReportMetric(pct(0.99), "p99-lag-ms")
	b.ReportMetric(pct(1), "max-lag-ms")
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
