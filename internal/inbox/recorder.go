package inbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStopped is the outcome of an arrival that the Recorder stopped
// before recording (Run's ctx ended), and the error of Submit once it is
// closed.
var ErrStopped = errors.New("the inbox recorder has stopped")

// minShare is the smallest group a Recorder running on several goroutines
// splits the waiting arrivals into.
const minShare = 16

// Arrival is an envelope to record, with the caller's tag (what it needs
// to acknowledge and handle the envelope), handed back in its Outcome.
type Arrival struct {
	Record
	Tag any
	// submitted is when the Recorder took it, for its deadline.
	submitted time.Time
}

// Outcome is what became of an Arrival: recorded (Err nil; First if no
// envelope with its key was recorded before), or not recorded at all.
type Outcome struct {
	Arrival
	First bool
	Err   error
}

// Recorder records envelopes as they arrive, in groups: each of its
// goroutines takes every arrival waiting (up to Max) and records them with
// one Store.RecordEnvelopes, so that a burst of envelopes costs a few
// transactions, not one each, and then hands the group's outcomes, in
// order of arrival, to its handler. Arrivals queue in a bounded channel:
// Submit waits for room, which slows the reading of the socket rather
// than the recording.
type Recorder struct {
	store  Store
	handle func([]Outcome)
	// max bounds a group; budget bounds how long an arrival may wait to
	// be recorded, from Submit.
	max    int
	budget time.Duration

	in     chan Arrival
	mu     sync.RWMutex
	closed bool
	// halt is closed when Run's ctx ended, releasing waiting Submits.
	halt     chan struct{}
	haltOnce sync.Once
	// batches counts the calls to RecordEnvelopes.
	batches atomic.Int64
}

// NewRecorder returns a Recorder over store that queues up to queue
// arrivals, records up to max at once, gives each at most budget from
// Submit to be recorded, and hands every group's outcomes to handle (on
// the recording goroutine: handle must not wait long).
func NewRecorder(store Store, queue, max int, budget time.Duration, handle func([]Outcome)) *Recorder {
	return &Recorder{store: store, handle: handle, max: max, budget: budget, in: make(chan Arrival, queue), halt: make(chan struct{})}
}

// Submit queues a for recording. It waits for room in the queue until ctx
// ends, and fails once the Recorder is closed; an arrival it accepted
// always gets its Outcome.
func (r *Recorder) Submit(ctx context.Context, a Arrival) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return ErrStopped
	}
	a.submitted = time.Now()
	select {
	case r.in <- a:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.halt:
		return ErrStopped
	}
}

// Close stops taking arrivals; Run records those queued and returns.
func (r *Recorder) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.in)
	}
}

// Batches returns how many groups were recorded (or tried).
func (r *Recorder) Batches() int64 { return r.batches.Load() }

// Run records arrivals on n goroutines until the Recorder is closed and
// its queue is empty, or ctx ends: then the arrivals still queued get
// ErrStopped, and a group being recorded gives up. With several
// goroutines, each takes its share of the arrivals waiting, so that a
// burst is recorded in parallel transactions, and a power of two of them:
// a store that prepares its statements by size (storage does) then records
// the group with one statement, one round trip.
func (r *Recorder) Run(ctx context.Context, n int) {
	n = max(n, 1)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { r.loop(ctx, n) })
	}
	wg.Wait()
}

func (r *Recorder) loop(ctx context.Context, n int) {
	group := make([]Arrival, 0, r.max)
	for {
		group = group[:0]
		select {
		case a, ok := <-r.in:
			if !ok {
				return
			}
			group = append(group, a)
		case <-ctx.Done():
			r.stop()
			return
		}
		limit := r.max
		if n > 1 {
			limit = floorPow2(min(limit, max(minShare, (len(r.in)+n)/n), len(r.in)+1))
		}
	gather:
		for len(group) < limit {
			select {
			case a, ok := <-r.in:
				if !ok {
					break gather
				}
				group = append(group, a)
			default:
				break gather
			}
		}
		if ctx.Err() != nil {
			r.fail(group, ErrStopped)
			r.stop()
			return
		}
		r.record(ctx, group)
	}
}

// record records one group and hands over its outcomes.
func (r *Recorder) record(ctx context.Context, group []Arrival) {
	deadline := group[0].submitted.Add(r.budget)
	records := make([]Record, len(group))
	for i, a := range group {
		records[i] = a.Record
		deadline = minTime(deadline, a.submitted.Add(r.budget))
	}
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	r.batches.Add(1)
	first, err := r.store.RecordEnvelopes(rctx, records)
	if err == nil && len(first) != len(group) {
		err = errors.New("the inbox answered for a different number of envelopes than it was given")
	}
	if err != nil {
		r.fail(group, err)
		return
	}
	out := make([]Outcome, len(group))
	for i, a := range group {
		out[i] = Outcome{Arrival: a, First: first[i]}
	}
	r.handle(out)
}

// fail hands over group as not recorded, because of err.
func (r *Recorder) fail(group []Arrival, err error) {
	if len(group) == 0 {
		return
	}
	out := make([]Outcome, len(group))
	for i, a := range group {
		out[i] = Outcome{Arrival: a, Err: err}
	}
	r.handle(out)
}

// stop closes the Recorder once Run's ctx ended and fails every arrival
// still queued.
func (r *Recorder) stop() {
	r.haltOnce.Do(func() { close(r.halt) })
	r.Close()
	var rest []Arrival
	for a := range r.in {
		rest = append(rest, a)
	}
	r.fail(rest, ErrStopped)
}

// floorPow2 is the largest power of two up to n (n ≥ 1).
func floorPow2(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
