package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

// within bounds how long a test waits for something that should happen
// promptly; it fails the test instead of hanging it.
const within = 10 * time.Second

// dialects runs f on the SQLite store and, when SITREP_TEST_DATABASE_URL is
// set, on PostgreSQL; open opens another store (another process's
// connection pool) on the same database.
func dialects(t *testing.T, f func(t *testing.T, open func() *storage.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "jobs.db")
		f(t, func() *storage.Store {
			s := openStore(t, path)
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		f(t, func() *storage.Store {
			s, err := storage.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("%s did not happen within %s", what, within)
		var zero T
		return zero
	}
}

func jobState(t *testing.T, s *storage.Store, id int64) jobs.Job {
	t.Helper()
	j, err := s.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestSlowJobDoesNotDelayOthers: while one job's handler hangs, a job that
// falls due later still runs at the runner's next look, on another worker.
// (Before the worker pool, a sweep waited for its whole batch, so the
// second job waited for the first.)
func TestSlowJobDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, open func() *storage.Store) {
		s := open()
		r := jobs.NewRunner(s, clock.Real{}, nil)
		r.Workers = 2
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		r.Handle("slow", func(ctx context.Context, _ jobs.Job) error {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
		ran := make(chan int64, 4)
		r.Handle("quick", func(_ context.Context, j jobs.Job) error { ran <- j.ID; return nil })
		ctx := context.Background()
		if err := r.Start(ctx, "@every 1s"); err != nil {
			t.Fatal(err)
		}
		defer r.Stop()
		defer close(release)
		slow, _ := r.Enqueue(ctx, jobs.Job{Kind: "slow"})
		wait(t, started, "the slow job starting")
		quick, _ := r.Enqueue(ctx, jobs.Job{Kind: "quick"})
		if got := wait(t, ran, "the quick job running while the slow one hangs"); got != quick {
			t.Fatalf("ran job %d, want %d", got, quick)
		}
		if j := jobState(t, s, slow); j.State != jobs.StateRunning {
			t.Errorf("the slow job is %s, want still running (the quick one must not wait for it)", j.State)
		}
	})
}

// TestHungHandlerIsCancelledAtItsDeadline: a handler whose call never
// returns has its context cancelled at the deadline, the job goes back to
// the queue with the reason, and while it hangs the lease keeps a second
// runner from running it too. A handler that even ignores its context is
// abandoned, so it holds no worker for good.
func TestHungHandlerIsCancelledAtItsDeadline(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, open func() *storage.Store) {
		tests := []struct {
			name string
			// hang blocks as a stuck handler does; it returns when the test ends.
			hang func(ctx context.Context, end <-chan struct{})
			// reason is what the retried job's last error says.
			reason string
		}{
			{"honours its context", func(ctx context.Context, end <-chan struct{}) {
				select {
				case <-ctx.Done():
				case <-end:
				}
			}, "ran past its deadline"},
			{"ignores its context", func(_ context.Context, end <-chan struct{}) { <-end }, "abandoned"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a, b := open(), open()
				ctx := context.Background()
				end := make(chan struct{})
				defer close(end)
				var runs atomic.Int32
				handler := func(ctx context.Context, j jobs.Job) error {
					runs.Add(1)
					if j.Attempts == 1 {
						tc.hang(ctx, end)
						return ctx.Err()
					}
					return nil
				}
				newRunner := func(s *storage.Store, name string) *jobs.Runner {
					r := jobs.NewRunner(s, clock.Real{}, nil)
					r.Instance = name
					r.Lease, r.Deadline = 3*time.Second, 300*time.Millisecond
					r.Backoff = func(int) time.Duration { return time.Hour }
					r.Handle("hang", handler)
					return r
				}
				ra, rb := newRunner(a, "a"), newRunner(b, "b")
				id, _ := ra.Enqueue(ctx, jobs.Job{Kind: "hang", Key: "hang-" + tc.name})
				swept := make(chan int, 1)
				go func() {
					n, err := ra.Sweep(ctx)
					if err != nil {
						t.Error(err)
					}
					swept <- n
				}()
				// Until a gives the job up, b finds nothing to claim.
				var n int
			hanging:
				for {
					select {
					case n = <-swept:
						break hanging
					case <-time.After(within):
						t.Fatal("a's sweep did not return: the hung handler holds its worker")
					case <-time.After(20 * time.Millisecond):
					}
					if got, err := rb.Sweep(ctx); err != nil || got != 0 {
						t.Fatalf("b's sweep ran %d jobs (%v) while a holds the job", got, err)
					}
				}
				if n != 1 || runs.Load() != 1 {
					t.Fatalf("a's sweep ran %d jobs, the handler %d times; want 1", n, runs.Load())
				}
				j := jobState(t, a, id)
				if j.State != jobs.StatePending || !strings.Contains(j.LastError, tc.reason) {
					t.Fatalf("after the deadline the job is %s, last error %q; want pending, %q", j.State, j.LastError, tc.reason)
				}
				// The retry (here at once, not after its back-off) runs once.
				if ran, err := rb.RunNow(ctx, id); !ran || err != nil {
					t.Fatalf("retry: ran %v, %v", ran, err)
				}
				if j := jobState(t, a, id); j.State != jobs.StateDone || j.Attempts != 2 || runs.Load() != 2 {
					t.Errorf("job %s after %d attempts, %d runs; want done after 2", j.State, j.Attempts, runs.Load())
				}
			})
		}
	})
}

// TestLongJobKeepsItsLease: a job that runs well past its lease, asking for
// more time with Extend, is renewed by its runner and never claimed by a
// second one.
func TestLongJobKeepsItsLease(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, open func() *storage.Store) {
		a, b := open(), open()
		ctx := context.Background()
		ra := jobs.NewRunner(a, clock.Real{}, nil)
		ra.Instance = "a"
		ra.Lease, ra.Deadline, ra.MaxDeadline = 900*time.Millisecond, 200*time.Millisecond, 5*time.Second
		rb := jobs.NewRunner(b, clock.Real{}, nil)
		rb.Instance = "b"
		rb.Lease = 900 * time.Millisecond

		var runs atomic.Int32
		sweepsByB := make(chan int, 100)
		ra.Handle("long", func(ctx context.Context, _ jobs.Job) error {
			runs.Add(1)
			if jobs.Extend(ctx, time.Hour) {
				t.Error("Extend granted more than MaxDeadline")
			}
			if !jobs.Extend(ctx, 3*time.Second) {
				t.Error("Extend refused time within MaxDeadline")
			}
			// Work for two leases while b keeps looking for due jobs.
			for range 18 {
				select {
				case <-sweepsByB:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
			return nil
		})
		rb.Handle("long", func(context.Context, jobs.Job) error { runs.Add(1); return nil })
		id, _ := ra.Enqueue(ctx, jobs.Job{Kind: "long"})
		result := make(chan error, 1)
		go func() {
			ran, err := ra.RunNow(ctx, id)
			if !ran {
				err = errors.New("a did not run the job")
			}
			result <- err
		}()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if n, err := rb.Sweep(ctx); err != nil || n != 0 {
					t.Errorf("b's sweep ran %d jobs (%v) while a runs the job", n, err)
				}
				sweepsByB <- 1
			}
		}()
		if err := wait(t, result, "the long job finishing"); err != nil {
			t.Fatalf("the long job: %v", err)
		}
		if j := jobState(t, a, id); j.State != jobs.StateDone || j.Attempts != 1 || runs.Load() != 1 {
			t.Errorf("job %s after %d attempts and %d runs; want done, once", j.State, j.Attempts, runs.Load())
		}
		if jobs.Extend(ctx, time.Second) {
			t.Error("Extend outside a job handler succeeded")
		}
	})
}

// TestRestartReclaimsOwnJobsOnly: a runner starting as instance "a" runs at
// once the job "a" was running when it died, but leaves the job instance
// "b" is running alone until b's lease runs out.
func TestRestartReclaimsOwnJobsOnly(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, open func() *storage.Store) {
		s := open()
		ctx := context.Background()
		clk := clock.NewFake(t0)
		mine, _ := s.Enqueue(ctx, jobs.Job{Kind: "room", DueAt: t0})
		theirs, _ := s.Enqueue(ctx, jobs.Job{Kind: "room", DueAt: t0})
		for _, c := range []struct {
			by string
			id int64
		}{{"a", mine}, {"b", theirs}} {
			if _, ok, err := s.Claim(ctx, c.by, c.id, t0, time.Minute); !ok || err != nil {
				t.Fatalf("claim by %s: %v %v", c.by, ok, err)
			}
		}
		// a's process dies; ten seconds later it is back.
		clk.Advance(10 * time.Second)
		r := jobs.NewRunner(open(), clk, nil)
		r.Instance = "a"
		ran := make(chan jobs.Job, 2)
		r.Handle("room", func(_ context.Context, j jobs.Job) error { ran <- j; return nil })
		if err := r.Start(ctx, "@every 1s"); err != nil {
			t.Fatal(err)
		}
		got := wait(t, ran, "the reclaimed job running")
		r.Stop()
		if got.ID != mine || got.Attempts != 2 {
			t.Fatalf("after restart ran job %d attempt %d; want job %d, attempt 2 (so it knows an earlier one may have acted)", got.ID, got.Attempts, mine)
		}
		select {
		case j := <-ran:
			t.Fatalf("job %d ran while its lease was another instance's", j.ID)
		default:
		}
		if j := jobState(t, s, theirs); j.State != jobs.StateRunning || j.LockedBy != "b" {
			t.Errorf("b's job is %s, locked by %q; want left to b", j.State, j.LockedBy)
		}
		// b's lease runs out: b is presumed dead and its job is taken over.
		clk.Advance(time.Minute)
		if n, err := r.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep after b's lease ran %d (%v), want 1", n, err)
		}
		if j := <-ran; j.ID != theirs {
			t.Errorf("ran job %d, want b's %d", j.ID, theirs)
		}
	})
}

// TestLostLeaseCannotComplete: a runner whose lease was taken over (it was
// presumed dead) has its handler cancelled at its next renewal, and cannot
// record the job's outcome, even a success: the new holder's run counts.
func TestLostLeaseCannotComplete(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, open func() *storage.Store) {
		tests := []struct {
			name  string
			lease time.Duration
			// handler returns when released, or when its context ends.
			wantCancelled bool
		}{
			// The renewal notices the take-over and cancels the handler.
			{"noticed by the renewal", 3 * time.Second, true},
			// The handler finishes before the next renewal: its Complete
			// is refused.
			{"finished before a renewal", time.Hour, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a, b := open(), open()
				ctx := context.Background()
				clk := clock.NewFake(t0)
				ra := jobs.NewRunner(a, clk, nil)
				ra.Instance, ra.Lease, ra.Deadline = "a", tc.lease, tc.lease*29/30
				started, release := make(chan struct{}), make(chan struct{})
				cancelled := make(chan error, 1)
				ra.Handle("k", func(ctx context.Context, _ jobs.Job) error {
					close(started)
					select {
					case <-release:
						return nil
					case <-ctx.Done():
						cancelled <- context.Cause(ctx)
						return ctx.Err()
					}
				})
				id, _ := ra.Enqueue(ctx, jobs.Job{Kind: "k"})
				result := make(chan error, 1)
				go func() { _, err := ra.RunNow(ctx, id); result <- err }()
				wait(t, started, "a's handler starting")
				// a looks dead from b's side: b takes the job over.
				clk.Advance(2 * tc.lease)
				taken, ok, err := b.Claim(ctx, "b", id, clk.Now(), time.Hour)
				if !ok || err != nil {
					t.Fatalf("b's claim after a's lease: %v %v", ok, err)
				}
				if tc.wantCancelled {
					if cause := wait(t, cancelled, "a's handler being cancelled"); !errors.Is(cause, jobs.ErrLeaseLost) {
						t.Errorf("a's handler was cancelled by %v, want ErrLeaseLost", cause)
					}
				} else {
					close(release)
				}
				if err := wait(t, result, "a's run returning"); !errors.Is(err, jobs.ErrLeaseLost) {
					t.Errorf("a's run returned %v, want ErrLeaseLost", err)
				}
				if j := jobState(t, a, id); j.State != jobs.StateRunning || j.LockedBy != "b" || j.Attempts != taken.Attempts {
					t.Errorf("after a gave up the job is %s, locked by %q, attempt %d; want b's claim untouched", j.State, j.LockedBy, j.Attempts)
				}
				if err := b.Complete(ctx, taken, clk.Now()); err != nil {
					t.Errorf("b completing the job: %v", err)
				}
			})
		}
	})
}
