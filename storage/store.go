// Package storage keeps sitrep's state in a SQL database: PostgreSQL (lib/pq)
// for production and several replicas, or an embedded SQLite file (pure Go)
// by default. It satisfies the stores the domain packages define
// (incident.Store, jobs.Queue, inbox.Store). Where the two
// dialects differ, the difference lives here.
//
// Statements are prepared once and kept (see pool): on PostgreSQL each
// then costs one round trip, and writes that can be one statement are
// one. SQLite writes through one connection, as it allows one writer;
// reads go to a pool of read-only connections that read the write-ahead
// log in parallel with it.
package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // PostgreSQL driver "postgres"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // SQLite driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The dialects a Store speaks.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

//go:embed migrations
var migrations embed.FS

var bindOnce sync.Once

// Store is sitrep's database.
type Store struct {
	// db is the pool that writes (on SQLite its one connection); w runs
	// cached statements on it.
	db *sqlx.DB
	w  *pool
	// r runs the reads that need no transaction: on PostgreSQL it is w;
	// on SQLite a pool of its own, read-only connections that read the
	// write-ahead log in parallel while db writes.
	r       *pool
	dialect string
	// trends keeps the dashboard's trend rows by day (dashboard_trends.go).
	trends trendCache
	// where names the database in errors, without a password.
	where string
	// inbox commits concurrent envelope writes together, over inboxDB:
	// connections of their own, so that recording an envelope never
	// queues behind the work of the envelopes before it.
	inbox   groupCommit
	inboxDB *sqlx.DB
}

// Open connects to the database url names: postgres://… or postgresql://…
// for PostgreSQL; sqlite:PATH, a plain path, or "" (sqlite:sitrep.db) for
// SQLite. It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	bindOnce.Do(func() { sqlx.BindDriver("sqlite", sqlx.QUESTION) })
	s := &Store{}
	s.inbox.s = s
	var driver, dsn, readDSN, inboxDSN string
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		s.dialect, driver, dsn, s.where = DialectPostgres, "postgres", rawURL, redact(rawURL)
		inboxDSN = dsn
	case strings.Contains(rawURL, "://") && !strings.HasPrefix(rawURL, "sqlite:"):
		return nil, fmt.Errorf("database URL %s: use postgres://… or sqlite:PATH", redact(rawURL))
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			path = "sitrep.db"
		}
		s.dialect, driver, s.where = DialectSQLite, "sqlite", "sqlite:"+path
		const params = "?_time_format=sqlite&_txlock=immediate" +
			"&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		dsn = "file:" + path + params
		readDSN = "file:" + path + "?_time_format=sqlite&_pragma=busy_timeout(5000)&_query_only=1"
		// The inbox checkpoints its write-ahead log itself, between
		// bursts, not in the middle of a commit an ack waits for.
		inboxDSN = "file:" + inboxPath(path) + params + "&_pragma=wal_autocheckpoint(0)"
		for _, p := range []string{path, inboxPath(path)} {
			if err := prepareSQLiteFile(p); err != nil {
				return nil, err
			}
		}
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", s.where, err)
	}
	if s.dialect == DialectSQLite {
		// One writer at a time is all SQLite allows; one connection makes
		// Go queue the work instead of SQLite answering "busy".
		db.SetMaxOpenConns(1)
	} else {
		// Idle connections are kept, all of them: each holds the
		// statements prepared on it.
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	s.db, s.w = db, newPool(db)
	s.r = s.w
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if readDSN != "" {
		rdb, err := sqlx.Open(driver, readDSN)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("opening database %s: %w", s.where, err)
		}
		// Readers do not wait for each other or for the writer (WAL):
		// enough of them that the bot's workers rarely queue for one.
		n := max(4, 2*runtime.GOMAXPROCS(0))
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		s.r = newPool(rdb)
	}
	idb, err := sqlx.Open(driver, inboxDSN)
	if err != nil {
		s.closePools()
		return nil, fmt.Errorf("opening database %s: %w", s.where, err)
	}
	// Each committer keeps its connection: opening one to PostgreSQL costs
	// more than the commit it would carry.
	idb.SetMaxOpenConns(s.committers())
	idb.SetMaxIdleConns(s.committers())
	s.inboxDB = idb

	return s, nil
}

// inboxPath is where SQLite keeps the inbox: a file of its own beside the
// database (sitrep.db → sitrep.inbox.db). SQLite lets one connection write
// a file at a time; with the inbox in the database, recording an envelope
// would wait for the work of the envelopes before it, and its ack with it.
// The inbox shares no transaction with the rest, so nothing is lost by
// keeping it apart.
func inboxPath(path string) string {
	ext := filepath.Ext(path)
	if ext == "" || strings.ContainsAny(ext, "/\\") {
		return path + ".inbox"
	}
	return strings.TrimSuffix(path, ext) + ".inbox" + ext
}

// Close closes the database.
func (s *Store) Close() error {
	s.inbox.close()
	s.inboxDB.Close()
	return s.closePools()
}

// closePools closes the statement caches and the pools under them.
func (s *Store) closePools() error {
	if s.r != s.w {
		s.r.close()
		s.r.db.Close()
	}
	s.w.close()
	return s.db.Close()
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("reaching database %s: %w", s.where, err)
	}
	return nil
}

// Migrate applies the embedded migrations not yet applied, each in a
// transaction, recorded in goose's version table. On PostgreSQL a session
// lock makes replicas starting together migrate one at a time.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.MigrateUp(ctx)
	return err
}

// Migration is what MigrateUp did: how many migrations it applied, and
// the schema version the database is at now.
type Migration struct {
	Applied int
	Version int64
}

// MigrateUp is Migrate, telling what it did.
func (s *Store) MigrateUp(ctx context.Context) (Migration, error) {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == DialectPostgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		// One lock per schema: replicas sharing a schema take turns;
		// schemas (tests in parallel) do not wait on each other.
		var schema string
		if err := s.db.GetContext(ctx, &schema, "SELECT current_schema()"); err != nil {
			return Migration{}, fmt.Errorf("migrating %s: finding the schema: %w", s.where, err)
		}
		h := fnv.New64a()
		h.Write([]byte("sitrep migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300), // try every second for 5 minutes
		)
		if err != nil {
			return Migration{}, fmt.Errorf("migrating %s: %w", s.where, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return Migration{}, fmt.Errorf("migrating %s: %w", s.where, err)
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return Migration{}, fmt.Errorf("migrating %s: %w", s.where, err)
	}
	applied, err := p.Up(ctx)
	if err != nil {
		return Migration{}, fmt.Errorf("migrating %s: %w", s.where, err)
	}
	version, err := p.GetDBVersion(ctx)
	if err != nil {
		return Migration{}, fmt.Errorf("migrating %s: reading the version: %w", s.where, err)
	}
	if s.dialect == DialectSQLite {
		if _, err := s.inboxDB.ExecContext(ctx, sqliteInboxSchema); err != nil {
			return Migration{}, fmt.Errorf("migrating the inbox of %s: %w", s.where, err)
		}
	}
	return Migration{Applied: len(applied), Version: version}, nil
}

// redact hides the password of a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// ts prepares a time for storage: UTC, to the microsecond (PostgreSQL's
// precision), so it reads back equal on both dialects.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullString stores "" as NULL, for unique columns where empty means none.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// inTx runs f in a transaction on db, committing if it returns nil.
func inTx(ctx context.Context, db *sqlx.DB, f func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
