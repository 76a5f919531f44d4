package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

var t0 = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

func openStore(t *testing.T, path string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunnerRunsRetriesAndFails(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "jobs.db"))
	defer s.Close()
	clk := clock.NewFake(t0)
	r := jobs.NewRunner(s, clk, nil)
	ctx := context.Background()

	var flaky, ok, broken, panicky atomic.Int32
	r.Handle("ok", func(context.Context, jobs.Job) error { ok.Add(1); return nil })
	r.Handle("flaky", func(context.Context, jobs.Job) error {
		if flaky.Add(1) < 3 {
			return errors.New("slack is down")
		}
		return nil
	})
	r.Handle("broken", func(context.Context, jobs.Job) error {
		broken.Add(1)
		return jobs.Permanent(errors.New("incident gone"))
	})
	r.Handle("panicky", func(context.Context, jobs.Job) error { panicky.Add(1); panic("boom") })

	// RunJob runs at once, and a second RunJob with the same key is a no-op.
	if ran, err := r.RunJob(ctx, jobs.Job{Kind: "ok", Key: "ok-1"}); !ran || err != nil {
		t.Fatalf("RunJob = %v, %v", ran, err)
	}
	if ran, _ := r.RunJob(ctx, jobs.Job{Kind: "ok", Key: "ok-1"}); ran || ok.Load() != 1 {
		t.Fatalf("a done job ran again (ran=%v, count=%d)", ran, ok.Load())
	}

	flakyID, _ := r.Enqueue(ctx, jobs.Job{Kind: "flaky"})
	brokenID, _ := r.Enqueue(ctx, jobs.Job{Kind: "broken"})
	panicID, _ := r.Enqueue(ctx, jobs.Job{Kind: "panicky"})
	unknownID, _ := r.Enqueue(ctx, jobs.Job{Kind: "nobody-handles-this"})

	if n, err := r.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("first sweep ran %d (%v), want 4", n, err)
	}
	// Failed jobs wait for their back-off: nothing is due yet.
	if n, _ := r.Sweep(ctx); n != 0 {
		t.Fatalf("sweep during back-off ran %d jobs", n)
	}
	clk.Advance(jobs.DefaultBackoff(1))
	if n, _ := r.Sweep(ctx); n != 3 { // flaky, panicky, unknown
		t.Fatalf("second sweep ran %d, want 3", n)
	}
	clk.Advance(jobs.DefaultBackoff(2))
	r.Sweep(ctx)

	check := func(id int64, state jobs.State, attempts int, lastErr string) {
		t.Helper()
		j, err := s.Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != state || j.Attempts != attempts || (lastErr != "" && j.LastError != lastErr) {
			t.Errorf("job %d (%s) = state %s, attempts %d, last error %q; want %s, %d, %q",
				id, j.Kind, j.State, j.Attempts, j.LastError, state, attempts, lastErr)
		}
	}
	check(flakyID, jobs.StateDone, 3, "slack is down")
	check(brokenID, jobs.StateFailed, 1, "incident gone")
	check(panicID, jobs.StatePending, 3, "job handler panicked: boom")
	check(unknownID, jobs.StatePending, 3, `no handler for job kind "nobody-handles-this"`)
	if broken.Load() != 1 {
		t.Errorf("a permanently failed job ran %d times", broken.Load())
	}
}

// TestOverdueJobFiresOnceAfterRestart: a job due while no runner was up runs
// once when one comes back, and a runner that died holding a job loses it to
// another once the lease runs out.
func TestOverdueJobFiresOnceAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "restart.db")
	ctx := context.Background()

	s1 := openStore(t, path)
	clk := clock.NewFake(t0)
	r1 := jobs.NewRunner(s1, clk, nil)
	id, _ := r1.Enqueue(ctx, jobs.Job{Kind: "remind", DueAt: t0.Add(time.Minute)})
	lost, _ := r1.Enqueue(ctx, jobs.Job{Kind: "remind", DueAt: t0})
	// The first runner claims one job and dies before finishing it.
	if _, ok, err := s1.Claim(ctx, "crashed", lost, t0, time.Minute); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	s1.Close()

	clk.Advance(time.Hour) // down for an hour
	s2 := openStore(t, path)
	defer s2.Close()
	r2 := jobs.NewRunner(s2, clk, nil)
	var runs atomic.Int32
	var late time.Duration
	r2.Handle("remind", func(_ context.Context, j jobs.Job) error {
		runs.Add(1)
		if j.ID == id {
			late = clk.Now().Sub(j.DueAt)
		}
		return nil
	})
	if n, err := r2.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep after restart ran %d (%v), want 2", n, err)
	}
	if n, _ := r2.Sweep(ctx); n != 0 || runs.Load() != 2 {
		t.Fatalf("jobs ran %d times in all, want once each", runs.Load())
	}
	if late != 59*time.Minute {
		t.Errorf("handler saw the job %v late, want 59m (so it can say it is late)", late)
	}
}

func TestStartRejectsBadSchedule(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "cron.db"))
	defer s.Close()
	r := jobs.NewRunner(s, clock.Real{}, nil)
	if err := r.Start(context.Background(), "every now and then"); err == nil {
		r.Stop()
		t.Fatal("Start accepted a malformed cron spec")
	}
}

// TestTwoRunnersOnePostgresRunEachJobOnce runs two runners, each with its
// own connection pool, over one PostgreSQL database (as two sitrep run
// processes would) and counts: each of 1000 due jobs runs exactly once.
func TestTwoRunnersOnePostgresRunEachJobOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := context.Background()
	open := func() *storage.Store {
		s, err := storage.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	clk := clock.NewFake(t0)
	for i := range 1000 {
		if _, err := a.Enqueue(ctx, jobs.Job{Kind: "count", Key: fmt.Sprintf("job-%d", i), DueAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	runs := map[int64]int{}
	perRunner := [2]int{}
	var wg sync.WaitGroup
	for i, s := range []*storage.Store{a, b} {
		r := jobs.NewRunner(s, clk, nil)
		r.Workers = 4
		r.Handle("count", func(_ context.Context, j jobs.Job) error {
			mu.Lock()
			runs[j.ID]++
			perRunner[i]++
			mu.Unlock()
			return nil
		})
		wg.Go(func() {
			if _, err := r.Sweep(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(runs) != 1000 {
		t.Errorf("%d distinct jobs ran, want 1000", len(runs))
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("job %d ran %d times", id, n)
		}
	}
	t.Logf("runner A ran %d jobs, runner B %d", perRunner[0], perRunner[1])
}

// TestLaterRunsAgainWhenAsked: a handler returning Later sends its job back
// to pending, due when it asked (not after the failure back-off), with its
// reason; RunNow may run it before then, and the sweeper runs it then.
func TestLaterRunsAgainWhenAsked(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "jobs.db"))
	defer s.Close()
	clk := clock.NewFake(t0)
	r := jobs.NewRunner(s, clk, nil)
	ctx := context.Background()
	var runs atomic.Int32
	due := t0.Add(90 * time.Second)
	r.Handle("turn", func(context.Context, jobs.Job) error {
		if runs.Add(1) == 1 {
			return jobs.Later(due, "waiting its turn")
		}
		return nil
	})
	ran, err := r.RunJob(ctx, jobs.Job{Kind: "turn", Key: "turn-1"})
	if !ran || !jobs.IsLater(err) {
		t.Fatalf("RunJob = %v, %v; want it run and sent back for later", ran, err)
	}
	j, err := s.JobByKey(ctx, "turn-1")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StatePending || !j.DueAt.Equal(due) || j.LastError != "waiting its turn" {
		t.Fatalf("job after Later = %s due %v (%q), want pending due %v", j.State, j.DueAt, j.LastError, due)
	}
	clk.Advance(time.Minute)
	if n, _ := r.Sweep(ctx); n != 0 {
		t.Fatalf("the sweeper ran %d jobs before the asked time", n)
	}
	clk.Advance(time.Minute)
	if n, _ := r.Sweep(ctx); n != 1 || runs.Load() != 2 {
		t.Fatalf("the sweeper ran %d jobs at the asked time (handler ran %d times)", n, runs.Load())
	}
	if j, _ := s.JobByKey(ctx, "turn-1"); j.State != jobs.StateDone {
		t.Errorf("job = %s, want done", j.State)
	}
}

// TestWakeRunsDueJobsAtOnce starts a runner that looks for jobs once an
// hour: a job enqueued from outside runs only when Wake is called, and a
// job not yet due is left for later.
func TestWakeRunsDueJobsAtOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t, filepath.Join(t.TempDir(), "wake.db"))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(t0)
	r := jobs.NewRunner(s, clk, nil)
	ran := make(chan string, 2)
	r.Handle("alert", func(_ context.Context, j jobs.Job) error { ran <- j.Key; return nil })
	if err := r.Start(ctx, "@every 1h"); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if _, err := s.Enqueue(ctx, jobs.Job{Kind: "alert", Key: "now", DueAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, jobs.Job{Kind: "alert", Key: "later", DueAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-ran:
		t.Fatalf("job %q ran before Wake, with the next tick an hour away", k)
	case <-time.After(100 * time.Millisecond):
	}
	r.Wake()
	r.Wake() // a second wake while one is pending is the same wake
	select {
	case k := <-ran:
		if k != "now" {
			t.Fatalf("Wake ran %q, want the due job", k)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wake did not run the due job")
	}
	select {
	case k := <-ran:
		t.Fatalf("Wake ran %q, which is not due yet", k)
	case <-time.After(100 * time.Millisecond):
	}
}
