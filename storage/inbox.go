package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/inbox"
)

// Store satisfies inbox.Store.
var _ inbox.Store = (*Store)(nil)

// sqliteInboxSchema is the inbox's schema on SQLite, in its own file (see
// inboxPath); on PostgreSQL migration 00013 makes the same table. The
// inbox is a log with one table, so it is made here, not migrated.
const sqliteInboxSchema = `
CREATE TABLE IF NOT EXISTS inbox (
    key          TEXT PRIMARY KEY,
    envelope_id  TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    locked_by    TEXT NOT NULL,
    locked_until TIMESTAMP,
    finished_at  TIMESTAMP,
    last_error   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (locked_until) WHERE state = 'received';`

// maxGroup bounds how many envelope writes one transaction commits.
const maxGroup = 128

// recordBudget bounds how long a recording waits when its caller set no
// deadline: an envelope must be acknowledged within Slack's 3 s.
const recordBudget = 2 * time.Second

// inboxWrite is one envelope write waiting for its group's commit: a new
// envelope to record, or one to finish.
type inboxWrite struct {
	record *inbox.Envelope
	owner  string
	until  time.Time

	finishKey string
	finishAt  time.Time
	failure   string

	// deadline is when the caller gives up; the group's transaction is
	// bounded by its earliest, so no caller is told "not recorded" about
	// a write that commits afterwards.
	deadline time.Time
	first    bool
	done     chan error
	// state is 0 while the caller waits, 1 once answered, 2 once the
	// caller gave up (its ctx ended first).
	state atomic.Int32
}

// answer gives the caller its outcome, unless it gave up waiting; it
// reports whether the caller took it.
func (w *inboxWrite) answer(err error) bool {
	if !w.state.CompareAndSwap(0, 1) {
		return false
	}
	w.done <- err
	return true
}

// groupCommit writes concurrent envelope writes together: a single
// goroutine takes whatever writes are waiting, up to maxGroup, and commits
// them in one transaction, while the next group gathers. Under a burst of
// envelopes each transaction carries many; alone, one write is one
// transaction with no added wait.
type groupCommit struct {
	s     *Store
	once  sync.Once
	queue chan *inboxWrite
	stop  chan struct{}
	// exited is closed when the committing goroutine has returned.
	exited chan struct{}
	// commits counts the transactions, for benchmarks.
	commits atomic.Int64
}

func (g *groupCommit) start() {
	g.once.Do(func() {
		g.queue = make(chan *inboxWrite, 4*maxGroup)
		g.stop = make(chan struct{})
		g.exited = make(chan struct{})
		var wg sync.WaitGroup
		for range g.s.committers() {
			wg.Go(g.loop)
		}
		go func() {
			wg.Wait()
			close(g.exited)
		}()
	})
}

// committers is how many groups may be committing at once: SQLite has
// one writer; PostgreSQL commits several at once, so a group need not
// wait for the one before it to reach the disk.
func (s *Store) committers() int {
	if s.dialect == DialectPostgres {
		return 3
	}
	return 1
}

// close stops the committing goroutine; writes still queued fail.
func (g *groupCommit) close() {
	if g.queue == nil {
		return
	}
	close(g.stop)
	<-g.exited
}

var errClosed = errors.New("the store is closed")

// checkpointEvery is how often, at most, the SQLite inbox's write-ahead
// log is copied back into its file, when no envelope is waiting.
const checkpointEvery = time.Second

func (g *groupCommit) loop() {
	lastCheckpoint := time.Now()
	for {
		var w *inboxWrite
		select {
		case w = <-g.queue:
		default:
			if g.s.dialect == DialectSQLite && time.Since(lastCheckpoint) > checkpointEvery {
				g.checkpoint()
				lastCheckpoint = time.Now()
			}
		}
		if w == nil {
			select {
			case w = <-g.queue:
			case <-g.stop:
				g.drain()
				return
			case <-time.After(checkpointEvery):
				continue
			}
		}
		group := []*inboxWrite{w}
	gather:
		for len(group) < maxGroup {
			select {
			case w := <-g.queue:
				group = append(group, w)
			default:
				break gather
			}
		}
		g.commit(group)
	}
}

// drain fails the writes still queued when the store closes.
func (g *groupCommit) drain() {
	for {
		select {
		case w := <-g.queue:
			w.answer(errClosed)
		default:
			return
		}
	}
}

// checkpoint copies the SQLite inbox's write-ahead log back into its file
// (the inbox turns SQLite's own checkpoints off so that none lands in the
// middle of a commit an ack waits for).
func (g *groupCommit) checkpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = g.s.inboxDB.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
}

// commit writes a group and answers each write: the new envelopes with
// one multi-row insert (a statement on its own, so that their acks wait
// for nothing else), then the finished ones. Writes whose caller has
// already given up are dropped unwritten.
func (g *groupCommit) commit(group []*inboxWrite) {
	now := time.Now()
	var records, finishes []*inboxWrite
	deadline := time.Time{}
	for _, w := range group {
		if !w.deadline.After(now) {
			w.answer(context.DeadlineExceeded)
			continue
		}
		if deadline.IsZero() || w.deadline.Before(deadline) {
			deadline = w.deadline
		}
		if w.record != nil {
			records = append(records, w)
		} else {
			finishes = append(finishes, w)
		}
	}
	if len(records)+len(finishes) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	g.commits.Add(1)
	if len(records) > 0 {
		err := g.s.insertEnvelopes(ctx, records)
		for _, w := range records {
			if !w.answer(err) && err == nil && w.first {
				// Recorded, but its caller had given up and answered the
				// person that nothing was done: it must never be handled.
				go g.s.abandon(w.record.Key)
			}
		}
	}
	if len(finishes) > 0 {
		err := inTx(ctx, g.s.inboxDB, func(tx *sqlx.Tx) error { return finishEnvelopes(ctx, tx, finishes) })
		for _, w := range finishes {
			w.answer(err)
		}
	}
}

// insertEnvelopes records new envelopes with one statement, noting which
// were new.
func (s *Store) insertEnvelopes(ctx context.Context, group []*inboxWrite) error {
	var records []*inboxWrite
	seen := map[string]bool{}
	for _, w := range group {
		if seen[w.record.Key] {
			continue // a redelivery in the same group: not first
		}
		seen[w.record.Key] = true
		records = append(records, w)
	}
	query, args := s.insertQuery(records)
	var inserted []string
	if err := s.inboxDB.SelectContext(ctx, &inserted, s.inboxDB.Rebind(query), args...); err != nil {
		return fmt.Errorf("recording %d envelopes: %w", len(records), err)
	}
	isNew := map[string]bool{}
	for _, k := range inserted {
		isNew[k] = true
	}
	for _, w := range records {
		w.first = isNew[w.record.Key]
	}
	return nil
}

// insertQuery is the statement that records a group: one multi-row
// insert. (Arrays unnested on PostgreSQL measured no faster.)
func (s *Store) insertQuery(records []*inboxWrite) (string, []any) {
	const returning = ` ON CONFLICT (key) DO NOTHING RETURNING key`
	var sb strings.Builder
	sb.WriteString(`INSERT INTO inbox (key, envelope_id, type, payload, received_at, state, attempts, locked_by, locked_until, last_error) VALUES `)
	args := make([]any, 0, 7*len(records))
	for i, w := range records {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`(?, ?, ?, ?, ?, 'received', 1, ?, ?, '')`)
		e := w.record
		// The payload is JSON: as text it travels as it is, where bytes
		// would be hex-encoded both ways.
		args = append(args, e.Key, e.EnvelopeID, e.Type, string(e.Payload), ts(e.ReceivedAt), w.owner, ts(w.until))
	}
	sb.WriteString(returning)
	return sb.String(), args
}

// finishEnvelopes marks envelopes done or failed.
func finishEnvelopes(ctx context.Context, tx *sqlx.Tx, group []*inboxWrite) error {
	for _, w := range group {
		state := inbox.StateDone
		if w.failure != "" {
			state = inbox.StateFailed
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE inbox SET state = ?, finished_at = ?, last_error = ?, locked_until = NULL
			WHERE key = ?`), string(state), ts(w.finishAt), w.failure, w.finishKey); err != nil {
			return fmt.Errorf("finishing envelope %s: %w", w.finishKey, err)
		}
	}
	return nil
}

// write queues w for the next group and waits for its commit, or for ctx.
func (s *Store) write(ctx context.Context, w *inboxWrite) error {
	s.inbox.start()
	w.deadline = time.Now().Add(recordBudget)
	if d, ok := ctx.Deadline(); ok && d.Before(w.deadline) {
		w.deadline = d
	}
	w.done = make(chan error, 1)
	select {
	case s.inbox.queue <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.inbox.stop:
		return errClosed
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
	case <-time.After(time.Until(w.deadline)):
	case <-s.inbox.exited:
	}
	if w.state.CompareAndSwap(0, 2) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.DeadlineExceeded
	}
	return <-w.done // answered meanwhile
}

// abandon marks failed an envelope recorded after its caller gave up
// waiting (and so told the person nothing was done), so that no instance
// ever handles it.
func (s *Store) abandon(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		if err := s.FinishEnvelope(ctx, key, time.Now(), "recorded after its sender stopped waiting; the person was told nothing was done"); err == nil {
			return
		}
		_ = clock.Sleep(ctx, time.Second)
	}
}

// RecordEnvelope implements inbox.Store, committing concurrent calls
// together.
func (s *Store) RecordEnvelope(ctx context.Context, e inbox.Envelope, owner string, leaseUntil time.Time) (bool, error) {
	w := &inboxWrite{record: &e, owner: owner, until: leaseUntil}
	if err := s.write(ctx, w); err != nil {
		return false, fmt.Errorf("recording envelope %s: %w", e.Key, err)
	}
	return w.first, nil
}

// FinishEnvelope implements inbox.Store, committing concurrent calls
// together.
func (s *Store) FinishEnvelope(ctx context.Context, key string, at time.Time, failure string) error {
	if err := s.write(ctx, &inboxWrite{finishKey: key, finishAt: at, failure: failure}); err != nil {
		return fmt.Errorf("finishing envelope %s: %w", key, err)
	}
	return nil
}

type envelopeRow struct {
	Key        string    `db:"key"`
	EnvelopeID string    `db:"envelope_id"`
	Type       string    `db:"type"`
	Payload    []byte    `db:"payload"`
	ReceivedAt time.Time `db:"received_at"`
	State      string    `db:"state"`
	Attempts   int       `db:"attempts"`
}

// ClaimEnvelopes implements inbox.Store. On PostgreSQL the candidates are
// locked with FOR UPDATE SKIP LOCKED, so replicas take disjoint ones.
func (s *Store) ClaimEnvelopes(ctx context.Context, owner string, own bool, now, leaseUntil time.Time, limit int) ([]inbox.Envelope, error) {
	skipLocked := ""
	if s.dialect == DialectPostgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	var rows []envelopeRow
	err := s.inboxDB.SelectContext(ctx, &rows, s.inboxDB.Rebind(`UPDATE inbox
		SET locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE key IN (
			SELECT key FROM inbox
			WHERE state = 'received' AND (locked_until < ? OR (? AND locked_by = ?))
			ORDER BY received_at, key LIMIT ?`+skipLocked+`)
		RETURNING key, envelope_id, type, payload, received_at, state, attempts`),
		owner, ts(leaseUntil), ts(now), own, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("claiming unfinished envelopes: %w", err)
	}
	out := make([]inbox.Envelope, len(rows))
	for i, r := range rows {
		out[i] = inbox.Envelope{Key: r.Key, EnvelopeID: r.EnvelopeID, Type: r.Type, Payload: r.Payload,
			ReceivedAt: r.ReceivedAt.UTC(), State: inbox.State(r.State), Attempts: r.Attempts}
	}
	// RETURNING keeps no order.
	slices.SortFunc(out, func(a, b inbox.Envelope) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return out, nil
}

// Envelope returns the recorded envelope with key.
func (s *Store) Envelope(ctx context.Context, key string) (inbox.Envelope, error) {
	var r envelopeRow
	if err := s.inboxDB.GetContext(ctx, &r, s.inboxDB.Rebind(`SELECT key, envelope_id, type, payload, received_at, state, attempts
		FROM inbox WHERE key = ?`), key); err != nil {
		return inbox.Envelope{}, fmt.Errorf("reading envelope %s: %w", key, err)
	}
	return inbox.Envelope{Key: r.Key, EnvelopeID: r.EnvelopeID, Type: r.Type, Payload: r.Payload,
		ReceivedAt: r.ReceivedAt.UTC(), State: inbox.State(r.State), Attempts: r.Attempts}, nil
}

// PruneEnvelopes implements inbox.Store.
func (s *Store) PruneEnvelopes(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.inboxDB.ExecContext(ctx, s.inboxDB.Rebind(`DELETE FROM inbox WHERE state <> 'received' AND received_at < ?`), ts(before))
	if err != nil {
		return 0, fmt.Errorf("pruning the inbox: %w", err)
	}
	return res.RowsAffected()
}
