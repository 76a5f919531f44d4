// Package jobs is sitrep's durable work queue: work that must happen even if
// the process dies half-way (a channel not yet created, a deadline that will
// pass) is a row in the store, claimed and run by a sweeper.
//
// The package defines the Job, the Queue interface that storage satisfies, and
// the Runner that claims due jobs and hands them to handlers by kind.
package jobs

import (
	"context"
	"errors"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job. A job is never dropped: a failing handler sends it back
// to pending with a later due time; only a permanent error marks it failed,
// and a failed job stays in the table for people to read.
const (
	StatePending State = "pending"
	StateRunning State = "running"
	StateDone    State = "done"
	StateFailed  State = "failed"
	// StateCancelled is a pending job called off before it ran (a
	// deadline that no longer applies). It stays in the table.
	StateCancelled State = "cancelled"
)

// Cancel returns a job that, enqueued, calls off the pending job with this
// key instead of adding one: the job is marked cancelled if it has not run
// yet, and nothing happens if it ran, runs now, or never existed. Enqueued
// in the same transaction as the change that makes a job moot, it cannot
// be lost or half-applied. at is when it was called off.
func Cancel(key string, at time.Time) Job { return Job{Key: key, State: StateCancelled, DueAt: at} }

// Job is one unit of durable work.
type Job struct {
	ID int64
	// Kind names the handler that runs the job, e.g. "incident.provision".
	Kind string
	// Key, when not empty, is unique among jobs: enqueueing a job whose key
	// exists already is a no-op, so retried requests do not double the work.
	Key string
	// Payload is the handler's input, usually JSON.
	Payload []byte
	// DueAt is the earliest time the job may run (UTC).
	DueAt time.Time
	State State
	// Attempts counts the claims so far, including the current one.
	Attempts int
	// LastError is the error of the last failed attempt, if any.
	LastError string
	// LockedBy is the instance of the runner that claimed the job last
	// (Runner.Instance); with ID and Attempts it names one claim.
	LockedBy string
	// LockedUntil is when the current claim's lease runs out, if the job
	// is running.
	LockedUntil time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ErrLeaseLost is returned by the Queue methods that act on a claim (Renew,
// Complete, Retry, Fail) when the job is no longer held by that claim: its
// lease ran out and another runner, or a later claim, took it over. The
// holder must stop and leave the job to the new claim.
var ErrLeaseLost = errors.New("the job's lease was taken over by another runner")

// Queue stores jobs. storage satisfies it on SQLite and PostgreSQL; each
// claim is atomic, so a job is claimed by one runner at a time even with
// several processes on one database.
//
// A claim is named by the claimed job's ID, LockedBy and Attempts: the
// methods that act on a claim take the Job as claimed and touch the row only
// while that claim still holds it, so a runner whose lease was taken over
// can neither renew nor finish the job.
type Queue interface {
	// Enqueue stores j as pending and returns its ID. If j.Key is not empty
	// and a job with that key exists, Enqueue stores nothing and returns the
	// existing job's ID. A job made by Cancel cancels the pending job with
	// its key instead, and returns 0.
	Enqueue(ctx context.Context, j Job) (int64, error)
	// ClaimDue claims, for the runner instance by, up to limit jobs that
	// are pending and due at now, or running with an expired lease (their
	// runner died), oldest due first. A claimed job is running, locked by
	// by until now+lease, with Attempts one higher.
	ClaimDue(ctx context.Context, by string, now time.Time, lease time.Duration, limit int) ([]Job, error)
	// Claim claims the job with this ID under the same rules as ClaimDue,
	// except that a pending job need not be due yet. ok is false if the job
	// is done, failed, or leased by another runner.
	Claim(ctx context.Context, by string, id int64, now time.Time, lease time.Duration) (j Job, ok bool, err error)
	// Renew extends the lease of the claimed job j until until. It returns
	// ErrLeaseLost if the claim no longer holds the job.
	Renew(ctx context.Context, j Job, until time.Time) error
	// Complete marks the claimed job j done, or returns ErrLeaseLost.
	Complete(ctx context.Context, j Job, now time.Time) error
	// Retry sends the claimed job j back to pending, due at due, recording
	// why, or returns ErrLeaseLost.
	Retry(ctx context.Context, j Job, due time.Time, reason string) error
	// Fail marks the claimed job j failed for good, recording why, or
	// returns ErrLeaseLost. A failed job stays in the table.
	Fail(ctx context.Context, j Job, now time.Time, reason string) error
	// Reclaim makes every job still running under instance by pending and
	// due at once (at now, unless it was due earlier), keeping its
	// attempts, and returns how many. A runner calls it as it starts, before
	// it claims anything: such jobs were held by this instance's previous
	// process, which died, so nobody runs them.
	Reclaim(ctx context.Context, by string, now time.Time) (int, error)
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that the Runner marks the job failed instead of
// retrying it. Use it only when a retry can never succeed (the incident the
// job was about no longer exists).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// laterError asks for a job to run again at a set time.
type laterError struct {
	due time.Time
	why string
}

func (l laterError) Error() string { return "run again later: " + l.why }

// Later returns an error that sends the job back to pending, due at due,
// with why as its last error, instead of the back-off of a failure: the
// handler did no harm and has a better idea of when to run again (its turn
// in a queue, a rate limit's end). The job may still be run earlier with
// RunNow.
func Later(due time.Time, why string) error { return laterError{due: due, why: why} }

// IsLater reports whether err was made by Later.
func IsLater(err error) bool {
	var l laterError
	return errors.As(err, &l)
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
