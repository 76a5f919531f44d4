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

// maxGroup bounds how many writes one transaction commits, and maxRows
// how many envelopes (beyond one write's).
const (
	maxGroup = 128
	maxRows  = 512
)

// recordBudget bounds how long a recording waits when its caller set no
// deadline: an envelope must be acknowledged within Slack's 3 s.
const recordBudget = 2 * time.Second

// inboxWrite is one write waiting for its group's commit: envelopes to
// record, or one to finish.
type inboxWrite struct {
	records []inbox.Record
	first   []bool // per record, once recorded

	finishKey string
	finishAt  time.Time
	failure   string

	// deadline is when the caller gives up; the group's transaction is
	// bounded by its earliest, so no caller is told "not recorded" about
	// a write that commits afterwards.
	deadline time.Time
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

// groupCommit writes concurrent envelope writes together: a committing
// goroutine takes whatever writes are waiting and commits them in one
// transaction, while the next group gathers. Recordings go first: an ack
// waits for each, while a finish only keeps its envelope from being
// handled again, so finishes are committed only when no recording is
// waiting. Under a burst each transaction carries many envelopes; alone,
// one write is one transaction with no added wait.
type groupCommit struct {
	s        *Store
	once     sync.Once
	records  chan *inboxWrite
	finishes chan *inboxWrite
	stop     chan struct{}
	// exited is closed when the committing goroutines have returned.
	exited chan struct{}
	// commits counts the transactions that recorded envelopes, for
	// benchmarks and tests.
	commits atomic.Int64

	// stmts holds the statements prepared once: the inserts by size
	// (see maxChunk), and the finish of one envelope (key 0).
	stmtMu sync.Mutex
	stmts  map[int]*sqlx.Stmt
}

// finishQuery marks one envelope done or failed.
const finishQuery = `UPDATE inbox SET state = ?, finished_at = ?, last_error = ?, locked_until = NULL WHERE key = ?`

// maxChunk is the largest insert statement, in envelopes. A group is
// recorded in statements of power-of-two sizes up to it (119 envelopes:
// 64+32+16+4+2+1), each prepared once: parsing and planning an insert of
// a hundred rows costs PostgreSQL about as much as running it, and SQLite
// a quarter.
const maxChunk = 256

// stmt returns the prepared insert of n envelopes, or with n 0 the
// finish of one.
func (g *groupCommit) stmt(ctx context.Context, n int) (*sqlx.Stmt, error) {
	g.stmtMu.Lock()
	defer g.stmtMu.Unlock()
	if st, ok := g.stmts[n]; ok {
		return st, nil
	}
	query := finishQuery
	if n > 0 {
		query = insertQuery(n)
	}
	st, err := g.s.inboxDB.PreparexContext(ctx, g.s.inboxDB.Rebind(query))
	if err != nil {
		return nil, err
	}
	if g.stmts == nil {
		g.stmts = map[int]*sqlx.Stmt{}
	}
	g.stmts[n] = st
	return st, nil
}

func (g *groupCommit) start() {
	g.once.Do(func() {
		g.records = make(chan *inboxWrite, 4*maxGroup)
		g.finishes = make(chan *inboxWrite, 4*maxGroup)
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

// RecordParallelism implements inbox.Parallel: how many recordings the
// store commits at once.
func (s *Store) RecordParallelism() int { return s.committers() }

// close stops the committing goroutines; writes still queued fail.
func (g *groupCommit) close() {
	if g.records == nil {
		return
	}
	close(g.stop)
	<-g.exited
	g.stmtMu.Lock()
	defer g.stmtMu.Unlock()
	for _, st := range g.stmts {
		st.Close()
	}
}

var errClosed = errors.New("the store is closed")

// checkpointEvery is how often, at most, the SQLite inbox's write-ahead
// log is copied back into its file, when no envelope is waiting.
const checkpointEvery = time.Second

func (g *groupCommit) loop() {
	lastCheckpoint := time.Now()
	var recs, fins []*inboxWrite
	for {
		recs = gather(g.records, recs, true)
		if len(recs) > 0 {
			g.commitRecords(recs)
			recs = recs[:0]
			continue
		}
		fins = gather(g.finishes, fins, false)
		if len(fins) > 0 {
			g.commitFinishes(fins)
			fins = fins[:0]
			continue
		}
		if g.s.dialect == DialectSQLite && time.Since(lastCheckpoint) > checkpointEvery {
			g.checkpoint()
			lastCheckpoint = time.Now()
		}
		select {
		case w := <-g.records:
			recs = append(recs, w)
		case w := <-g.finishes:
			fins = append(fins, w)
		case <-g.stop:
			g.drain()
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// gather adds the writes waiting on q to group, without waiting, up to
// maxGroup writes (and, for recordings, maxRows envelopes).
func gather(q chan *inboxWrite, group []*inboxWrite, rows bool) []*inboxWrite {
	n := 0
	for _, w := range group {
		n += len(w.records)
	}
	for len(group) < maxGroup && (!rows || n < maxRows) {
		select {
		case w := <-q:
			group = append(group, w)
			n += len(w.records)
		default:
			return group
		}
	}
	return group
}

// drain fails the writes still queued when the store closes.
func (g *groupCommit) drain() {
	for {
		select {
		case w := <-g.records:
			w.answer(errClosed)
		case w := <-g.finishes:
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

// live answers the writes whose caller has already given up (they are
// dropped unwritten) and returns the others, with the earliest deadline
// among them.
func live(group []*inboxWrite) ([]*inboxWrite, time.Time) {
	now := time.Now()
	var out []*inboxWrite
	var deadline time.Time
	for _, w := range group {
		if !w.deadline.After(now) {
			w.answer(context.DeadlineExceeded)
			continue
		}
		if deadline.IsZero() || w.deadline.Before(deadline) {
			deadline = w.deadline
		}
		out = append(out, w)
	}
	return out, deadline
}

// commitRecords records a group of envelopes in one transaction and
// answers each write.
func (g *groupCommit) commitRecords(group []*inboxWrite) {
	group, deadline := live(group)
	if len(group) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	g.commits.Add(1)
	err := g.s.insertEnvelopes(ctx, group)
	for _, w := range group {
		if w.answer(err) || err != nil {
			continue
		}
		// Recorded, but its caller had given up and answered the person
		// that nothing was done: it must never be handled.
		for i, r := range w.records {
			if w.first[i] {
				go g.s.abandon(r.Key)
			}
		}
	}
}

// commitFinishes marks a group of envelopes handled, with one statement,
// and answers each write.
func (g *groupCommit) commitFinishes(group []*inboxWrite) {
	group, deadline := live(group)
	if len(group) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	err := g.s.finishEnvelopes(ctx, group)
	for _, w := range group {
		w.answer(err)
	}
}

// insertEnvelopes records the envelopes of group, noting which were new:
// one multi-row insert, or several in one transaction past maxRows.
func (s *Store) insertEnvelopes(ctx context.Context, group []*inboxWrite) error {
	type row struct {
		w *inboxWrite
		i int
	}
	var rows []row
	seen := map[string]bool{}
	for _, w := range group {
		w.first = make([]bool, len(w.records))
		for i, r := range w.records {
			if seen[r.Key] {
				continue // a redelivery in the same group: not first
			}
			seen[r.Key] = true
			rows = append(rows, row{w, i})
		}
	}
	recs := make([]*inbox.Record, len(rows))
	for i, r := range rows {
		recs[i] = &r.w.records[r.i]
	}
	// The statements are prepared before any transaction begins: on
	// SQLite the transaction holds the inbox's only connection.
	var stmts []*sqlx.Stmt
	for rest := len(recs); rest > 0; {
		n := chunk(rest)
		st, err := s.inbox.stmt(ctx, n)
		if err != nil {
			return fmt.Errorf("recording %d envelopes: %w", len(recs), err)
		}
		stmts = append(stmts, st)
		rest -= n
	}
	isNew := map[string]bool{}
	insert := func(tx *sqlx.Tx) error {
		rest := recs
		for _, st := range stmts {
			n := chunk(len(rest))
			if tx != nil {
				st = tx.StmtxContext(ctx, st)
			}
			var inserted []string
			if err := st.SelectContext(ctx, &inserted, insertArgs(rest[:n])...); err != nil {
				return err
			}
			for _, k := range inserted {
				isNew[k] = true
			}
			rest = rest[n:]
		}
		return nil
	}
	var err error
	if chunk(len(recs)) == len(recs) {
		err = insert(nil) // one statement: a transaction of its own
	} else {
		err = inTx(ctx, s.inboxDB, insert)
	}
	if err != nil {
		return fmt.Errorf("recording %d envelopes: %w", len(recs), err)
	}
	for _, r := range rows {
		r.w.first[r.i] = isNew[r.w.records[r.i].Key]
	}
	return nil
}

// chunk is the size of the first statement that records n envelopes:
// the largest power of two up to n and maxChunk.
func chunk(n int) int {
	c := 1
	for c*2 <= min(n, maxChunk) {
		c *= 2
	}
	return c
}

// insertQuery is the statement that records n envelopes: one multi-row
// insert. (Arrays unnested on PostgreSQL measured no faster, prepared
// or not.)
func insertQuery(n int) string {
	const returning = ` ON CONFLICT (key) DO NOTHING RETURNING key`
	var sb strings.Builder
	sb.Grow(150 + 43*n + len(returning))
	sb.WriteString(`INSERT INTO inbox (key, envelope_id, type, payload, received_at, state, attempts, locked_by, locked_until, last_error) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`(?, ?, ?, ?, ?, 'received', ?, ?, ?, '')`)
	}
	sb.WriteString(returning)
	return sb.String()
}

// insertArgs are the arguments of insertQuery(len(records)). A record
// whose lease has already run out is left for any sweeper, and counts no
// attempt.
func insertArgs(records []*inbox.Record) []any {
	args := make([]any, 0, 8*len(records))
	for _, r := range records {
		attempts := 1
		if !r.LeaseUntil.After(r.ReceivedAt) {
			attempts = 0
		}
		// The payload is JSON: as text it travels as it is, where bytes
		// would be hex-encoded both ways.
		args = append(args, r.Key, r.EnvelopeID, r.Type, string(r.Payload), ts(r.ReceivedAt), attempts, r.Owner, ts(r.LeaseUntil))
	}
	return args
}

// finishEnvelopes marks envelopes done or failed: on SQLite with the
// one-envelope statement, prepared once, for each (statements cost no
// round trip there), in one transaction; on PostgreSQL, more than one
// with a single statement.
func (s *Store) finishEnvelopes(ctx context.Context, group []*inboxWrite) error {
	var err error
	if len(group) == 1 || s.dialect == DialectSQLite {
		err = s.finishEach(ctx, group)
	} else {
		err = s.finishAll(ctx, group)
	}
	if err != nil {
		return fmt.Errorf("finishing %d envelopes: %w", len(group), err)
	}
	return nil
}

// finishArgs are the arguments of finishQuery for w.
func finishArgs(w *inboxWrite) []any {
	state := inbox.StateDone
	if w.failure != "" {
		state = inbox.StateFailed
	}
	return []any{string(state), ts(w.finishAt), w.failure, w.finishKey}
}

// finishEach runs finishQuery for each write of group, in one
// transaction if there are several.
func (s *Store) finishEach(ctx context.Context, group []*inboxWrite) error {
	st, err := s.inbox.stmt(ctx, 0) // before the transaction takes SQLite's connection
	if err != nil {
		return err
	}
	if len(group) == 1 {
		_, err := st.ExecContext(ctx, finishArgs(group[0])...)
		return err
	}
	return inTx(ctx, s.inboxDB, func(tx *sqlx.Tx) error {
		txst := tx.StmtxContext(ctx, st)
		for _, w := range group {
			if _, err := txst.ExecContext(ctx, finishArgs(w)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// finishAll marks the writes of group with one statement.
func (s *Store) finishAll(ctx context.Context, group []*inboxWrite) error {
	var sb strings.Builder
	sb.WriteString(`WITH v (k, st, at, err) AS (VALUES `)
	args := make([]any, 0, 4*len(group))
	for i, w := range group {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`(?, ?, CAST(? AS TIMESTAMPTZ), ?)`)
		a := finishArgs(w)
		args = append(args, a[3], a[0], a[1], a[2])
	}
	sb.WriteString(`) UPDATE inbox SET state = v.st, finished_at = v.at, last_error = v.err, locked_until = NULL FROM v WHERE inbox.key = v.k`)
	_, err := s.inboxDB.ExecContext(ctx, s.inboxDB.Rebind(sb.String()), args...)
	return err
}

// write queues w for the next group and waits for its commit, or for ctx.
func (s *Store) write(ctx context.Context, w *inboxWrite) error {
	s.inbox.start()
	w.deadline = time.Now().Add(recordBudget)
	if d, ok := ctx.Deadline(); ok && d.Before(w.deadline) {
		w.deadline = d
	}
	w.done = make(chan error, 1)
	q := s.inbox.finishes
	if w.records != nil {
		q = s.inbox.records
	}
	select {
	case q <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.inbox.stop:
		return errClosed
	}
	t := time.NewTimer(time.Until(w.deadline))
	defer t.Stop()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
	case <-t.C:
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
	first, err := s.RecordEnvelopes(ctx, []inbox.Record{{Envelope: e, Owner: owner, LeaseUntil: leaseUntil}})
	if err != nil {
		return false, err
	}
	return first[0], nil
}

// RecordEnvelopes implements inbox.Store, committing concurrent calls
// together.
func (s *Store) RecordEnvelopes(ctx context.Context, records []inbox.Record) ([]bool, error) {
	if len(records) == 0 {
		return nil, nil
	}
	w := &inboxWrite{records: records}
	if err := s.write(ctx, w); err != nil {
		if len(records) == 1 {
			return nil, fmt.Errorf("recording envelope %s: %w", records[0].Key, err)
		}
		return nil, fmt.Errorf("recording %d envelopes: %w", len(records), err)
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
			WHERE state = 'received' AND (locked_until <= ? OR (? AND locked_by = ?))
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
