package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// eachDialect runs f on a migrated store of each dialect; PostgreSQL is
// skipped, saying so, without SITREP_TEST_DATABASE_URL.
func eachDialect(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if os.Getenv(pgtest.EnvVar) == "" {
			t.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
		}
		f(t, migrated(t, pgtest.URL(t)))
	})
}

func migrated(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func created(t *testing.T, s *Store, title string) *incident.Incident {
	t.Helper()
	inc := &incident.Incident{Title: title, Severity: incident.Sev2, Status: incident.StatusInvestigating,
		ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", OpenedAt: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)}
	if err := s.CreateIncident(context.Background(), inc, nil); err != nil {
		t.Fatal(err)
	}
	return inc
}

// settled waits until no statement of p is being prepared in the
// background, so that counting what is prepared next counts only that.
func settled(t *testing.T, p *pool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		busy := false
		p.preparing.Range(func(any, any) bool { busy = true; return false })
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("statements still being prepared after 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// cached is the statement the cache of p holds for query, or nil.
func cached(p *pool, query string) any {
	st, _ := p.stmts.Load(query)
	return st
}

const countIncidents = `SELECT COUNT(*) FROM incidents WHERE title = ?`

func TestStatementPreparedOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		created(t, s, "one")
		settled(t, s.r) // the create's own statements, prepared in the background
		before := s.r.prepared.Load()
		var first any
		for i := range 5 {
			var n int
			if err := s.r.get(ctx, &n, countIncidents, "one"); err != nil || n != 1 {
				t.Fatalf("run %d: count = %d, %v; want 1", i, n, err)
			}
			if i == 0 {
				first = cached(s.r, countIncidents)
			}
		}
		if got := s.r.prepared.Load() - before; got != 1 {
			t.Errorf("5 runs of one query prepared %d statements, want 1", got)
		}
		if first == nil || cached(s.r, countIncidents) != first {
			t.Errorf("the cached statement changed between runs (or none was cached)")
		}
	})
}

func TestFailingStatementDoesNotPoisonTheCache(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// A statement that cannot be prepared is not cached, and the
		// cache goes on working.
		const bad = `SELECT no_such_column FROM incidents WHERE id = ?`
		var x int
		for range 2 {
			if err := s.r.get(ctx, &x, bad, 1); err == nil {
				t.Fatal("a query of a missing column succeeded")
			}
			if cached(s.r, bad) != nil {
				t.Fatal("a statement that failed to prepare was cached")
			}
		}
		// One that fails as it runs (a unique key taken) stays cached
		// and usable, inside a transaction that failed and after it.
		const insert = `INSERT INTO counters (name, value) VALUES (?, 0)`
		if _, err := s.w.exec(ctx, insert, "c1"); err != nil {
			t.Fatal(err)
		}
		st := cached(s.w, insert)
		err := s.inTx(ctx, func(tx *txn) error {
			if _, err := tx.exec(ctx, insert, "c2"); err != nil {
				return err
			}
			_, err := tx.exec(ctx, insert, "c1")
			return err
		})
		if !isUniqueViolation(err) {
			t.Fatalf("inserting a taken name: %v, want a unique violation", err)
		}
		if cached(s.w, insert) != st {
			t.Error("a statement that failed as it ran was dropped from the cache")
		}
		if _, err := s.w.exec(ctx, insert, "c2"); err != nil {
			t.Fatalf("the statement after its failure (c2 was rolled back): %v", err)
		}
		if err := s.inTx(ctx, func(tx *txn) error { _, err := tx.exec(ctx, insert, "c3"); return err }); err != nil {
			t.Fatalf("the statement in a transaction after its failure: %v", err)
		}
		var names []string
		if err := s.r.sel(ctx, &names, `SELECT name FROM counters WHERE name LIKE 'c%' ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(names, ","); got != "c1,c2,c3" {
			t.Errorf("counters = %s, want c1,c2,c3 (the failed transaction's c2 rolled back, then added again)", got)
		}
	})
}

func TestCachedStatementRunsInTheTransaction(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		created(t, s, "warm")
		var n int
		// Cache both statements first, outside any transaction.
		if err := s.w.get(ctx, &n, countIncidents, "warm"); err != nil {
			t.Fatal(err)
		}
		const retitle = `UPDATE incidents SET title = ? WHERE title = ?`
		if _, err := s.w.exec(ctx, retitle, "warm", "warm"); err != nil {
			t.Fatal(err)
		}
		errRollback := errors.New("roll back")
		err := s.inTx(ctx, func(tx *txn) error {
			if _, err := tx.exec(ctx, retitle, "hot", "warm"); err != nil {
				return err
			}
			// The transaction sees its own write...
			if err := tx.get(ctx, &n, countIncidents, "hot"); err != nil || n != 1 {
				return fmt.Errorf("inside: %d hot, %v; want 1", n, err)
			}
			// ...and nothing else does yet.
			if err := s.r.get(ctx, &n, countIncidents, "hot"); err != nil || n != 0 {
				return fmt.Errorf("outside: %d hot, %v; want 0", n, err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if err := s.r.get(ctx, &n, countIncidents, "hot"); err != nil || n != 0 {
			t.Errorf("after the rollback: %d hot, %v; want 0", n, err)
		}
	})
}

func TestStatementFirstUsedInATransactionIsCachedLater(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		created(t, s, "first")
		const q = `SELECT COUNT(*) FROM incidents WHERE title <> ?`
		var n int
		if err := s.inTx(ctx, func(tx *txn) error { return tx.get(ctx, &n, q, "x") }); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
		// Prepared in the background once the transaction let go of its
		// connection (on SQLite, the only one that writes).
		deadline := time.Now().Add(10 * time.Second)
		for cached(s.w, q) == nil {
			if time.Now().After(deadline) {
				t.Fatal("a statement first run in a transaction was never cached")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// TestSQLiteReadsDuringALongWrite: reads go on while a transaction holds
// SQLite's one writing connection, and see what was committed before it.
func TestSQLiteReadsDuringALongWrite(t *testing.T) {
	s := migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	ctx := context.Background()
	inc := created(t, s, "before the write")
	writing, release := make(chan struct{}), make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		wrote <- s.inTx(ctx, func(tx *txn) error {
			if _, err := tx.exec(ctx, `UPDATE incidents SET title = 'during the write' WHERE id = ?`, inc.ID); err != nil {
				return err
			}
			close(writing)
			<-release
			return nil
		})
	}()
	<-writing
	const readers = 16
	read := make(chan error, readers)
	for range readers {
		go func() {
			got, err := s.Incident(ctx, inc.ID)
			if err == nil && got.Title != "before the write" {
				err = fmt.Errorf("read %q while the write was open, want the committed title", got.Title)
			}
			if err == nil {
				_, err = s.Timeline(ctx, inc.ID)
			}
			read <- err
		}()
	}
	timeout := time.After(10 * time.Second)
	for range readers {
		select {
		case err := <-read:
			if err != nil {
				t.Error(err)
			}
		case <-timeout:
			close(release)
			t.Fatal("reads waited for the open write transaction")
		}
	}
	close(release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if got, err := s.Incident(ctx, inc.ID); err != nil || got.Title != "during the write" {
		t.Errorf("after the commit: %+v, %v; want the new title", got, err)
	}
}

// TestSQLiteReadersWriters: 32 workers writing and reading at once meet
// no "database is locked", and every write is read back.
func TestSQLiteReadersWriters(t *testing.T) {
	s := migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	ctx := context.Background()
	const workers, rounds = 32, 20
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			errs <- func() error {
				inc := &incident.Incident{Title: fmt.Sprintf("w%d", w), Severity: incident.Sev3, Status: incident.StatusInvestigating,
					ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", OpenedAt: time.Now().UTC()}
				if err := s.CreateIncident(ctx, inc, nil); err != nil {
					return err
				}
				for r := range rounds {
					if _, _, err := s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
						return []incident.TimelineEntry{{At: time.Now(), Actor: "U1", Kind: incident.EntryNote, Text: fmt.Sprint(r)}}, nil
					}, nil); err != nil {
						return err
					}
					entries, err := s.Timeline(ctx, inc.ID)
					if err != nil {
						return err
					}
					if len(entries) != r+1 {
						return fmt.Errorf("worker %d read %d entries after writing %d", w, len(entries), r+1)
					}
					if _, err := s.UnresolvedIncidents(ctx); err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestSQLiteReadPoolIsReadOnly: the reading connections refuse to write,
// so a write sent to them by mistake fails instead of racing the writer.
func TestSQLiteReadPoolIsReadOnly(t *testing.T) {
	s := migrated(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	if _, err := s.r.exec(context.Background(), `INSERT INTO counters (name, value) VALUES ('x', 0)`); err == nil {
		t.Fatal("the read pool wrote")
	}
	if s.r == s.w || s.r.db == s.db {
		t.Fatal("SQLite reads share the writing pool")
	}
}
