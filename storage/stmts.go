package storage

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// pool is a connection pool with its statement cache: each query is
// prepared once, on first use, and kept. database/sql then prepares it
// once on each connection that runs it and reuses it there, inside
// transactions too. On PostgreSQL that makes a statement one round trip
// instead of two (lib/pq parses and describes an unprepared statement
// before it binds it) and spares the server parsing and planning it again;
// on SQLite it spares compiling the statement each time.
//
// Only queries of fixed text go through the cache: a query built for a
// number of rows or IDs would fill it. Those run on db directly.
type pool struct {
	db    *sqlx.DB
	stmts sync.Map // query as written, with ? placeholders → *sqlx.Stmt
	// prepared counts the statements prepared into the cache.
	prepared atomic.Int64
	// preparing holds the queries being prepared in the background.
	preparing sync.Map
}

func newPool(db *sqlx.DB) *pool { return &pool{db: db} }

// stmt returns the cached statement of query (written with ?
// placeholders), preparing it if it is not cached. A statement that fails
// to prepare is not cached: the next call tries again.
func (p *pool) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := p.db.PreparexContext(ctx, p.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		// Another caller prepared it at the same time: keep theirs.
		st.Close()
		return prev.(*sqlx.Stmt), nil
	}
	p.prepared.Add(1)
	return st, nil
}

// prepareLater prepares query for the cache in the background, once a
// connection is free; a failure leaves it uncached, to be tried again on
// its next use.
func (p *pool) prepareLater(query string) {
	if _, busy := p.preparing.LoadOrStore(query, true); busy {
		return
	}
	go func() {
		defer p.preparing.Delete(query)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = p.stmt(ctx, query)
	}()
}

// check forgets query's statement if err says the database can no longer
// run it as prepared (PostgreSQL's "cached plan must not change result
// type", after a table it reads changed shape), so the next call prepares
// it again. It returns err.
func (p *pool) check(query string, st *sqlx.Stmt, err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "0A000" {
		if p.stmts.CompareAndDelete(query, st) {
			st.Close()
		}
	}
	return err
}

// close closes the cached statements.
func (p *pool) close() {
	p.stmts.Range(func(k, v any) bool {
		v.(*sqlx.Stmt).Close()
		p.stmts.Delete(k)
		return true
	})
}

// querier runs statements of fixed text, cached: on a pool, or inside a
// transaction.
type querier interface {
	// get scans the one row query returns into dest; sql.ErrNoRows if none.
	get(ctx context.Context, dest any, query string, args ...any) error
	// sel scans every row query returns into dest, a slice.
	sel(ctx context.Context, dest any, query string, args ...any) error
	// exec runs query.
	exec(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (p *pool) get(ctx context.Context, dest any, query string, args ...any) error {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return err
	}
	return p.check(query, st, st.GetContext(ctx, dest, args...))
}

func (p *pool) sel(ctx context.Context, dest any, query string, args ...any) error {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return err
	}
	return p.check(query, st, st.SelectContext(ctx, dest, args...))
}

func (p *pool) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, p.check(query, st, err)
}

// txn is a transaction on the writing pool that runs its statements
// from that pool's cache.
type txn struct {
	*sqlx.Tx
	p *pool
	// bound holds the cached statements bound to the transaction so far,
	// so that a statement run in a loop is bound once.
	bound map[string]*sqlx.Stmt
}

// stmt is query's cached statement bound to the transaction, or nil if
// it is not cached yet. It is then prepared for the cache in the
// background: preparing it on the pool here would wait for a free
// connection while the transaction holds one, forever on SQLite's one.
func (t *txn) stmt(ctx context.Context, query string) (cached, bound *sqlx.Stmt) {
	st, ok := t.p.stmts.Load(query)
	if !ok {
		t.p.prepareLater(query)
		return nil, nil
	}
	cached = st.(*sqlx.Stmt)
	if bound = t.bound[query]; bound == nil {
		if t.bound == nil {
			t.bound = map[string]*sqlx.Stmt{}
		}
		bound = t.StmtxContext(ctx, cached)
		t.bound[query] = bound
	}
	return cached, bound
}

func (t *txn) get(ctx context.Context, dest any, query string, args ...any) error {
	st, in := t.stmt(ctx, query)
	if st == nil {
		return t.GetContext(ctx, dest, t.Rebind(query), args...)
	}
	return t.p.check(query, st, in.GetContext(ctx, dest, args...))
}

func (t *txn) sel(ctx context.Context, dest any, query string, args ...any) error {
	st, in := t.stmt(ctx, query)
	if st == nil {
		return t.SelectContext(ctx, dest, t.Rebind(query), args...)
	}
	return t.p.check(query, st, in.SelectContext(ctx, dest, args...))
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, in := t.stmt(ctx, query)
	if st == nil {
		return t.ExecContext(ctx, t.Rebind(query), args...)
	}
	res, err := in.ExecContext(ctx, args...)
	return res, t.p.check(query, st, err)
}

// inTx runs f in a transaction on the writing pool, committing if it
// returns nil.
func (s *Store) inTx(ctx context.Context, f func(tx *txn) error) error {
	return inTx(ctx, s.db, func(tx *sqlx.Tx) error { return f(&txn{Tx: tx, p: s.w}) })
}

// inIDs is a condition that column is one of ids, and its one argument:
// the same text for any number of IDs, so that it is prepared once.
func (s *Store) inIDs(column string, ids []int64) (string, any) {
	if s.dialect == DialectPostgres {
		return column + ` = ANY(?::bigint[])`, pq.Array(ids)
	}
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return column + ` IN (SELECT value FROM json_each(?))`, string(append(b, ']'))
}
