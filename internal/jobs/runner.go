package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/internal/clock"
)

// Handler runs one job. A nil error completes it; an error retries it later
// with back-off, unless wrapped by Permanent.
type Handler func(ctx context.Context, j Job) error

// Runner claims jobs from a Queue and runs them with the handler registered
// for their kind. Register handlers before calling Start or Sweep.
type Runner struct {
	queue    Queue
	clock    clock.Clock
	log      *slog.Logger
	handlers map[string]Handler

	// Lease is how long a claim holds a job before another runner may take
	// it over (its runner is presumed dead). Default one minute.
	Lease time.Duration
	// Batch is how many due jobs one sweep claims at most. Default 50.
	Batch int
	// Workers is how many jobs of a claimed batch run at once. Default 8:
	// handlers mostly wait on Slack, and a batch must finish inside its
	// lease. Jobs of a batch start in due order but may finish out of it.
	Workers int
	// Backoff says how long to wait before attempt n+1 after attempt n
	// failed. Default: 5s doubling, capped at 10 minutes.
	Backoff func(attempt int) time.Duration

	mu   sync.Mutex
	cron *cron.Cron
}

// NewRunner returns a Runner over q that takes its time from c.
func NewRunner(q Queue, c clock.Clock, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		queue:    q,
		clock:    c,
		log:      log,
		handlers: map[string]Handler{},
		Lease:    time.Minute,
		Batch:    50,
		Workers:  8,
		Backoff:  DefaultBackoff,
	}
}

// DefaultBackoff waits 5s after the first failure, doubling each time, at
// most 10 minutes.
func DefaultBackoff(attempt int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// Handle registers h for jobs of kind.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Enqueue stores j and returns its ID (the existing one if j.Key is taken).
func (r *Runner) Enqueue(ctx context.Context, j Job) (int64, error) {
	now := r.clock.Now()
	if j.DueAt.IsZero() {
		j.DueAt = now
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	return r.queue.Enqueue(ctx, j)
}

// RunNow claims the job with this ID and runs it at once, whether or not it
// is due. ran is false if another runner holds it or it is finished. The
// returned error is the handler's; the job is already retried or failed.
func (r *Runner) RunNow(ctx context.Context, id int64) (ran bool, err error) {
	j, ok, err := r.queue.Claim(ctx, id, r.clock.Now(), r.Lease)
	if err != nil {
		return false, fmt.Errorf("claiming job %d: %w", id, err)
	}
	if !ok {
		return false, nil
	}
	return true, r.run(ctx, j)
}

// RunJob runs j at once: it enqueues j (a no-op returning the stored job
// when j.Key exists, so j may already be in the queue) and then runs it as
// RunNow does. Use it to do durable work inline, with the queue as the
// fallback when it fails.
func (r *Runner) RunJob(ctx context.Context, j Job) (ran bool, err error) {
	id, err := r.Enqueue(ctx, j)
	if err != nil {
		return false, fmt.Errorf("enqueueing %s job: %w", j.Kind, err)
	}
	return r.RunNow(ctx, id)
}

// Sweep claims the jobs due now and runs them one after another. It returns
// how many it ran; handler errors are logged and the jobs retried, not
// returned.
func (r *Runner) Sweep(ctx context.Context) (int, error) {
	ran := 0
	for {
		batch, err := r.queue.ClaimDue(ctx, r.clock.Now(), r.Lease, r.Batch)
		if err != nil {
			return ran, fmt.Errorf("claiming due jobs: %w", err)
		}
		r.runBatch(ctx, batch)
		ran += len(batch)
		if len(batch) < r.Batch || ctx.Err() != nil {
			return ran, ctx.Err()
		}
	}
}

// runBatch runs claimed jobs, up to Workers at once, and returns when all
// are done.
func (r *Runner) runBatch(ctx context.Context, batch []Job) {
	if r.Workers <= 1 || len(batch) == 1 {
		for _, j := range batch {
			_ = r.run(ctx, j)
		}
		return
	}
	sem := make(chan struct{}, r.Workers)
	var wg sync.WaitGroup
	for _, j := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = r.run(ctx, j)
		})
	}
	wg.Wait()
}

func (r *Runner) run(ctx context.Context, j Job) error {
	h, ok := r.handlers[j.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("no handler for job kind %q", j.Kind)
	} else {
		err = safeCall(withJob(ctx, j), h, j)
	}
	// Record the outcome even if ctx is being cancelled (shutdown).
	rctx := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		if cerr := r.queue.Complete(rctx, j.ID, r.clock.Now()); cerr != nil {
			r.log.Error("job done but not recorded", "job", j.ID, "kind", j.Kind, "err", cerr)
		}
		return nil
	case IsPermanent(err):
		r.log.Error("job failed for good", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
		if ferr := r.queue.Fail(rctx, j.ID, r.clock.Now(), err.Error()); ferr != nil {
			r.log.Error("recording job failure", "job", j.ID, "err", ferr)
		}
		return err
	default:
		due := r.clock.Now().Add(r.Backoff(j.Attempts))
		r.log.Warn("job failed, will retry", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "retry_at", due, "err", err)
		if rerr := r.queue.Retry(rctx, j.ID, due, err.Error()); rerr != nil {
			r.log.Error("rescheduling job", "job", j.ID, "err", rerr)
		}
		return err
	}
}

// safeCall runs h, turning a panic into an error so one bad job cannot stop
// the sweeper.
func safeCall(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job handler panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// Start runs Sweep on the cron schedule spec (for example "@every 5s") until
// Stop. Runs never overlap, and a panic in one is recovered.
func (r *Runner) Start(ctx context.Context, spec string) error {
	logger := cron.PrintfLogger(slog.NewLogLogger(r.log.Handler(), slog.LevelError))
	c := cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	if _, err := c.AddFunc(spec, func() {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("sweeping jobs", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("job sweeper schedule %q: %w", spec, err)
	}
	r.mu.Lock()
	r.cron = c
	r.mu.Unlock()
	c.Start()
	return nil
}

// Stop stops the schedule and waits for a running sweep to finish.
func (r *Runner) Stop() {
	r.mu.Lock()
	c := r.cron
	r.cron = nil
	r.mu.Unlock()
	if c != nil {
		<-c.Stop().Done()
	}
}

// jobKey is the context key of the job a handler runs.
type jobKey struct{}

func withJob(ctx context.Context, j Job) context.Context { return context.WithValue(ctx, jobKey{}, j) }

// Current returns the job whose handler is running with ctx, as it was
// claimed (Attempts counts this claim). ok is false outside a job handler.
// An Attempts above 1 means an earlier attempt may have done part of the
// work before it died or failed.
func Current(ctx context.Context) (j Job, ok bool) {
	j, ok = ctx.Value(jobKey{}).(Job)
	return j, ok
}
