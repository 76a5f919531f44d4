package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/internal/clock"
)

// Handler runs one job. A nil error completes it; an error retries it later
// with back-off, unless wrapped by Permanent. The context ends at the job's
// deadline (see Runner.Deadline and Extend) or when the runner loses the
// job's lease; a handler must stop then.
type Handler func(ctx context.Context, j Job) error

// Runner claims jobs from a Queue and runs them with the handler registered
// for their kind, on a bounded pool of workers: it claims a due job only
// when a worker is free, and keeps claiming as workers free up, so one slow
// job holds one worker and never delays the others. Register handlers
// before calling Start or Sweep; set the exported fields before too.
//
// A claim leases the job for Lease. While a handler runs, the runner renews
// the lease every Lease/3, so a job that legitimately runs long is not taken
// over; the handler's context ends at its Deadline, below the lease, so a
// call that never returns cannot hold a worker for good. The timings are
// real time; the lease's timestamps come from the runner's clock.
type Runner struct {
	queue    Queue
	clock    clock.Clock
	log      *slog.Logger
	handlers map[string]Handler

	// Instance names this runner on the leases it takes. It must be
	// stable across restarts of one deployment (a restarted process
	// reclaims at once the jobs its instance held when it died, instead of
	// waiting out their lease) and unique among the replicas sharing a
	// database (a replica would otherwise reclaim another's running jobs).
	// Default: the host name.
	Instance string
	// Lease is how long a claim holds a job before another runner may take
	// it over (its runner is presumed dead). The runner renews it every
	// Lease/3 while the handler runs. Default one minute.
	Lease time.Duration
	// Deadline is how long a handler may run before its context is
	// cancelled and the job retried. It must be below Lease (otherwise
	// 3/4 of Lease is used): a handler that ignores the cancellation is
	// abandoned after (Lease-Deadline)/2 more, and its job retried.
	// Default 45s.
	Deadline time.Duration
	// MaxDeadline bounds how far Extend may push a job's deadline, counted
	// from the claim. Default 10 minutes.
	MaxDeadline time.Duration
	// Workers is how many jobs run at once. Default 8: handlers mostly
	// wait on Slack, and more connections committing at once slowed a
	// PostgreSQL on two cores down (BenchmarkSweep). Jobs start in due
	// order but may finish out of it.
	Workers int
	// Backoff says how long to wait before attempt n+1 after attempt n
	// failed. Default: 5s doubling, capped at 10 minutes.
	Backoff func(attempt int) time.Duration

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
	// wake, signalled by Wake, makes the loop look for due jobs at once.
	wake chan struct{}
}

// NewRunner returns a Runner over q that takes its time from c.
func NewRunner(q Queue, c clock.Clock, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		queue:       q,
		clock:       c,
		log:         log,
		handlers:    map[string]Handler{},
		wake:        make(chan struct{}, 1),
		Instance:    DefaultInstance(),
		Lease:       time.Minute,
		Deadline:    45 * time.Second,
		MaxDeadline: 10 * time.Minute,
		Workers:     8,
		Backoff:     DefaultBackoff,
	}
}

// DefaultInstance is the instance name of a runner that was given none: the
// host name, or "sitrep" if it is unknown.
func DefaultInstance() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "sitrep"
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

// settings are a runner's timings with defaults filled in.
type settings struct {
	lease, deadline, maxDeadline time.Duration
	workers                      int
}

// grace is how long a handler whose context ended may take to return
// before it is abandoned: half the gap between deadline and lease, so the
// lease, even if last renewed at the claim, outlasts it.
func (s settings) grace() time.Duration { return (s.lease - s.deadline) / 2 }

func (r *Runner) settings() settings {
	s := settings{lease: r.Lease, deadline: r.Deadline, maxDeadline: r.MaxDeadline, workers: r.Workers}
	if s.lease <= 0 {
		s.lease = time.Minute
	}
	if s.deadline <= 0 || s.deadline >= s.lease {
		s.deadline = s.lease * 3 / 4
	}
	s.maxDeadline = max(s.maxDeadline, s.deadline)
	s.workers = max(s.workers, 1)
	return s
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
	j, ok, err := r.queue.Claim(ctx, r.Instance, id, r.clock.Now(), r.settings().lease)
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

// Reclaim makes the jobs this runner's instance held when its process
// stopped (still running, locked by Instance) due at once, and returns how
// many. Start calls it; call it only when no job of this instance is
// running, or a running job would be run twice.
func (r *Runner) Reclaim(ctx context.Context) (int, error) {
	n, err := r.queue.Reclaim(ctx, r.Instance, r.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("reclaiming the jobs instance %q held: %w", r.Instance, err)
	}
	return n, nil
}

// Sweep claims the jobs due now and runs them on the worker pool, claiming
// more as workers free up until none is due, and returns when all have
// finished. It returns how many it ran; handler errors are logged and the
// jobs retried, not returned.
func (r *Runner) Sweep(ctx context.Context) (int, error) {
	p := newPool(r.settings().workers)
	ran, full := 0, false
	for {
		n, more, err := r.fill(ctx, ctx, p, full)
		full = more
		ran += n
		if err != nil || !full {
			p.wait()
			if err == nil {
				err = ctx.Err()
			}
			return ran, err
		}
	}
}

// pool bounds how many claimed jobs run at once.
type pool struct {
	slots chan struct{}
	wg    sync.WaitGroup
}

func newPool(workers int) *pool { return &pool{slots: make(chan struct{}, workers)} }

func (p *pool) wait() { p.wg.Wait() }

// gatherWindow is how long a claim with jobs waiting waits for more
// workers to free up.
const gatherWindow = 2 * time.Millisecond

// fill waits for a free worker, then claims as many due jobs as there are
// free workers and starts them. With backlog (the last claim was full) it
// waits up to gatherWindow for more free workers first. It returns how many
// it claimed, and full when it claimed as many as it asked for (more may be
// due). Claiming stops with claimCtx; the jobs run with runCtx.
func (r *Runner) fill(claimCtx, runCtx context.Context, p *pool, backlog bool) (n int, full bool, err error) {
	select {
	case p.slots <- struct{}{}:
	case <-claimCtx.Done():
		return 0, false, claimCtx.Err()
	}
	free := 1
	// With jobs waiting (the last claim was full), give the workers that
	// are finishing a moment to free up, so that a backlog of quick jobs is
	// claimed a few at a time rather than one claim per job.
	var gather <-chan time.Time
	if backlog {
		t := time.NewTimer(gatherWindow)
		defer t.Stop()
		gather = t.C
	}
take:
	for free < cap(p.slots) {
		select {
		case p.slots <- struct{}{}:
			free++
			continue
		default:
		}
		if gather == nil {
			break
		}
		select {
		case p.slots <- struct{}{}:
			free++
		case <-gather:
			break take
		}
	}
	batch, err := r.queue.ClaimDue(claimCtx, r.Instance, r.clock.Now(), r.settings().lease, free)
	for range free - len(batch) {
		<-p.slots
	}
	for _, j := range batch {
		p.wg.Go(func() {
			defer func() { <-p.slots }()
			_ = r.run(runCtx, j)
		})
	}
	if err != nil {
		return len(batch), false, fmt.Errorf("claiming due jobs: %w", err)
	}
	return len(batch), len(batch) == free, nil
}

// errDeadline ends a handler's context at its deadline; context.Cause
// returns it, and it matches context.DeadlineExceeded. A handler's context
// ended because the lease was lost has the cause ErrLeaseLost.
var errDeadline = fmt.Errorf("the job ran past its deadline: %w", context.DeadlineExceeded)

// control is the running job's deadline, which Extend moves.
type control struct {
	mu       sync.Mutex
	deadline time.Time // real time
	limit    time.Time // Extend goes no further
	changed  chan struct{}
}

func (c *control) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline
}

type controlKey struct{}

// Extend asks for more time for the job whose handler runs with ctx: its
// deadline becomes at least d from now, but no later than the runner's
// MaxDeadline after the claim. It reports whether the handler now has d
// from now; false outside a job handler or when the bound cut it short.
// The lease is renewed while the handler runs, so a job that asked for
// more time is not taken over.
func Extend(ctx context.Context, d time.Duration) bool {
	c, ok := ctx.Value(controlKey{}).(*control)
	if !ok {
		return false
	}
	want := time.Now().Add(d)
	c.mu.Lock()
	at := want
	if at.After(c.limit) {
		at = c.limit
	}
	moved := at.After(c.deadline)
	if moved {
		c.deadline = at
	}
	c.mu.Unlock()
	if moved {
		select {
		case c.changed <- struct{}{}:
		default:
		}
	}
	return !want.After(c.limit)
}

// run runs the claimed job j under its deadline, renews its lease while it
// runs, and records the outcome unless the lease was lost.
func (r *Runner) run(ctx context.Context, j Job) error {
	h, ok := r.handlers[j.Kind]
	if !ok {
		return r.record(ctx, j, fmt.Errorf("no handler for job kind %q", j.Kind))
	}
	s := r.settings()
	start := time.Now()
	ctl := &control{deadline: start.Add(s.deadline), limit: start.Add(s.maxDeadline), changed: make(chan struct{}, 1)}
	hctx, cancel := context.WithCancelCause(context.WithValue(withJob(ctx, j), controlKey{}, ctl))
	defer cancel(nil)
	result := make(chan error, 1)
	go func() { result <- safeCall(hctx, h, j) }()

	deadline := time.NewTimer(s.deadline)
	defer deadline.Stop()
	heartbeat := time.NewTicker(s.lease / 3)
	defer heartbeat.Stop()
	// Once the handler's context has ended (deadline or lost lease), these
	// are nil: no more renewals or extensions, only the grace to return.
	beat, due, extended := heartbeat.C, deadline.C, ctl.changed
	var grace <-chan time.Time
	lost := false
	until := j.LockedUntil // the lease as the clock sees it
	for {
		select {
		case err := <-result:
			switch cause := context.Cause(hctx); {
			case lost:
				r.log.Warn("job stopped: another runner took it over", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
				return fmt.Errorf("job %d: %w", j.ID, ErrLeaseLost)
			case err != nil && errors.Is(cause, errDeadline):
				err = fmt.Errorf("the job ran past its deadline, %s after it started: %w", time.Since(start).Round(time.Millisecond), err)
			}
			return r.record(ctx, j, err)
		case <-extended:
			deadline.Reset(time.Until(ctl.get()))
		case <-due:
			if left := time.Until(ctl.get()); left > 0 { // extended meanwhile
				deadline.Reset(left)
				continue
			}
			cancel(errDeadline)
			// The lease as last renewed covers the grace.
			beat, due, extended = nil, nil, nil
			grace = time.After(s.grace())
		case <-beat:
			next := r.clock.Now().Add(s.lease)
			rctx, done := context.WithTimeout(context.WithoutCancel(ctx), s.lease/3)
			err := r.queue.Renew(rctx, j, next)
			done()
			switch {
			case err == nil:
				until = next
			case errors.Is(err, ErrLeaseLost):
				lost, beat, due, extended = true, nil, nil, nil
				cancel(ErrLeaseLost)
				grace = time.After(s.grace())
			default:
				r.log.Warn("renewing a job's lease", "job", j.ID, "kind", j.Kind, "err", err)
				if !until.IsZero() && !r.clock.Now().Add(s.lease/3).Before(until) {
					// The lease runs out before the next try: another
					// runner may take the job over, so stop.
					lost, beat, due, extended = true, nil, nil, nil
					cancel(ErrLeaseLost)
					grace = time.After(s.grace())
				}
			}
		case <-grace:
			if lost {
				r.log.Error("job handler did not stop after losing its lease; abandoned", "job", j.ID, "kind", j.Kind)
				return fmt.Errorf("job %d: %w", j.ID, ErrLeaseLost)
			}
			err := fmt.Errorf("the job's handler did not stop within %s of its deadline and was abandoned", s.grace())
			r.log.Error("abandoning a job handler that ignores its deadline", "job", j.ID, "kind", j.Kind)
			return r.record(ctx, j, err)
		}
	}
}

// record stores the outcome of the claimed job j: done, retried with
// back-off, or failed for good. It returns err.
func (r *Runner) record(ctx context.Context, j Job, err error) error {
	// Record the outcome even if ctx is being cancelled (shutdown).
	rctx := context.WithoutCancel(ctx)
	var qerr error
	switch {
	case err == nil:
		qerr = r.queue.Complete(rctx, j, r.clock.Now())
	case IsLater(err):
		var l laterError
		errors.As(err, &l)
		r.log.Debug("job runs again later", "job", j.ID, "kind", j.Kind, "at", l.due, "why", l.why)
		qerr = r.queue.Retry(rctx, j, l.due, l.why)
	case IsPermanent(err):
		r.log.Error("job failed for good", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
		qerr = r.queue.Fail(rctx, j, r.clock.Now(), err.Error())
	default:
		due := r.clock.Now().Add(r.Backoff(j.Attempts))
		r.log.Warn("job failed, will retry", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "retry_at", due, "err", err)
		qerr = r.queue.Retry(rctx, j, due, err.Error())
	}
	switch {
	case errors.Is(qerr, ErrLeaseLost):
		r.log.Warn("job finished after another runner took it over; its outcome is not recorded", "job", j.ID, "kind", j.Kind, "err", err)
		if err == nil {
			return fmt.Errorf("job %d: %w", j.ID, ErrLeaseLost)
		}
		return fmt.Errorf("job %d: %w (its outcome: %w)", j.ID, ErrLeaseLost, err)
	case qerr != nil:
		r.log.Error("recording a job's outcome", "job", j.ID, "kind", j.Kind, "err", qerr)
	}
	return err
}

// safeCall runs h, turning a panic into an error so one bad job cannot stop
// the runner.
func safeCall(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job handler panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// Start reclaims the jobs this instance held when its process stopped and
// then, until Stop, runs due jobs on the worker pool. It looks for due jobs
// on the cron schedule spec (for example "@every 5s") while it is idle,
// and as soon as a worker frees up while jobs are waiting. Running jobs
// keep ctx; Stop stops the claiming.
func (r *Runner) Start(ctx context.Context, spec string) error {
	sched, err := parseSpec(spec)
	if err != nil {
		return err
	}
	if n, err := r.Reclaim(ctx); err != nil {
		r.log.Error("reclaiming jobs at start; they run once their lease runs out", "err", err)
	} else if n > 0 {
		r.log.Info("reclaimed jobs this instance was running when it stopped", "instance", r.Instance, "jobs", n)
	}
	claimCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	r.mu.Lock()
	r.stop, r.done = stop, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		r.loop(claimCtx, ctx, sched)
	}()
	return nil
}

// Wake makes a started runner look for due jobs now instead of at its next
// tick: work that arrives from outside a handler (an alert's webhook)
// starts at once. It never blocks; wakes while one is pending are one.
// Jobs not yet due are left alone.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// parseSpec parses a cron spec, turning a parser panic into an error.
func parseSpec(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job sweeper schedule %q: %v", spec, p)
		}
	}()
	sched, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("job sweeper schedule %q: %w", spec, err)
	}
	return sched, nil
}

// loop is the dispatcher: after each tick of sched it claims due jobs as
// long as some are left, one worker's worth at a time.
func (r *Runner) loop(claimCtx, runCtx context.Context, sched cron.Schedule) {
	p := newPool(r.settings().workers)
	defer p.wait()
	for {
		now := time.Now()
		t := time.NewTimer(sched.Next(now).Sub(now))
		select {
		case <-claimCtx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.wake:
			t.Stop()
		}
		full := false
		for {
			var err error
			_, full, err = r.fill(claimCtx, runCtx, p, full)
			if claimCtx.Err() != nil {
				return
			}
			if err != nil {
				r.log.Error("sweeping jobs", "err", err)
			}
			if !full || err != nil {
				break
			}
		}
	}
}

// Stop stops claiming jobs and waits for the running ones to finish (each
// within its deadline).
func (r *Runner) Stop() {
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.stop, r.done = nil, nil
	r.mu.Unlock()
	if stop != nil {
		stop()
		<-done
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
