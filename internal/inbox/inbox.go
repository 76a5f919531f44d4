// Package inbox is sitrep's record of Slack envelopes: every envelope is
// written here before it is acknowledged, and processed from here, so an
// acknowledged command survives a crash and a redelivered envelope is
// processed once.
//
// The package defines the Envelope and the Store interface that storage
// satisfies; the bot records, acknowledges, handles and finishes
// envelopes, and on start finishes what an earlier life left unfinished.
package inbox

import (
	"context"
	"time"
)

// State is where an envelope is in its handling.
type State string

// The states of a recorded envelope.
const (
	// StateReceived: recorded, not yet handled to the end. Its lease says
	// who handles it; an expired lease means its handler died.
	StateReceived State = "received"
	// StateDone: handled.
	StateDone State = "done"
	// StateFailed: its handler panicked, or it was tried MaxAttempts
	// times; kept for people to read, never tried again.
	StateFailed State = "failed"
)

// MaxAttempts is how many times an envelope is handled at most: a handler
// that dies on it every time must not take every restart down with it.
const MaxAttempts = 3

// Envelope is one Socket Mode envelope as recorded.
type Envelope struct {
	// Key identifies the envelope across Slack's redeliveries (the
	// trigger ID of a command or click, the event ID of an event, else the
	// envelope ID). It is unique in the inbox.
	Key string
	// EnvelopeID is Slack's envelope_id, for the logs.
	EnvelopeID string
	// Type is the envelope type: "slash_commands", "interactive",
	// "events_api".
	Type string
	// Payload is the envelope's payload exactly as Slack sent it.
	Payload []byte
	// ReceivedAt is when sitrep received it.
	ReceivedAt time.Time
	State      State
	// Attempts counts the times it was taken for handling, this one
	// included.
	Attempts int
}

// Record is one envelope to record: received and leased to Owner until
// LeaseUntil. A lease that ends no later than the envelope's ReceivedAt
// leaves it to the first sweeper that claims envelopes (any instance's),
// and is not counted as an attempt: that is how an envelope that found
// no room in its instance's work queue is handed over.
type Record struct {
	Envelope
	Owner      string
	LeaseUntil time.Time
}

// Store records envelopes. storage satisfies it on SQLite and PostgreSQL.
type Store interface {
	// RecordEnvelope stores e as received and leased to owner until
	// leaseUntil, unless an envelope with e.Key is stored already; first
	// reports whether e was new. Concurrent calls may be committed
	// together in one transaction (group commit); each returns only once
	// its envelope is durable, or with an error and nothing stored. A
	// caller gives up when ctx ends.
	RecordEnvelope(ctx context.Context, e Envelope, owner string, leaseUntil time.Time) (first bool, err error)
	// RecordEnvelopes stores each record as RecordEnvelope does, all in
	// one transaction: when it returns nil every one is durable, else
	// none is. first[i] reports whether records[i] was new; of records
	// sharing a key, only the first can be. A caller gives up when ctx
	// ends.
	RecordEnvelopes(ctx context.Context, records []Record) (first []bool, err error)
	// FinishEnvelope marks the envelope with key done, or failed with the
	// reason when failure is not empty.
	FinishEnvelope(ctx context.Context, key string, at time.Time, failure string) error
	// ClaimEnvelopes takes up to limit received envelopes whose lease ran
	// out by now, or, with own, every received envelope leased to
	// owner (an earlier life of this instance: call it only before this
	// life records any). They are leased to owner until leaseUntil, with
	// Attempts one higher, oldest first.
	ClaimEnvelopes(ctx context.Context, owner string, own bool, now, leaseUntil time.Time, limit int) ([]Envelope, error)
	// PruneEnvelopes forgets finished envelopes received before before,
	// and returns how many.
	PruneEnvelopes(ctx context.Context, before time.Time) (int64, error)
}

// Parallel is implemented by a Store that commits several recordings at
// once (PostgreSQL does; SQLite has one writer).
type Parallel interface {
	// RecordParallelism is how many recordings the store commits at once.
	RecordParallelism() int
}
