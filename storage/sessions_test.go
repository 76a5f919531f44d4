package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/internal/session"
	"github.com/sitrep/sitrep/storage"
)

func TestSessionsSQLite(t *testing.T)   { t.Parallel(); testSessions(t, openSQLite(t)) }
func TestSessionsPostgres(t *testing.T) { t.Parallel(); testSessions(t, openPostgres(t)) }

// testSessions: a session is read back as written, touched, ended, and
// pruned only once expired.
func testSessions(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := session.Session{IDHash: "aa11", User: session.User{ID: "U0ALICE", TeamID: "T0SIM", Name: "Alice Liddell"},
		CSRF: "tok-a", Created: t0, LastSeen: t0, Expires: t0.Add(12 * time.Hour)}
	b := session.Session{IDHash: "bb22", User: session.User{ID: "U0BOB", TeamID: "T0SIM", Name: "Bob"},
		CSRF: "tok-b", Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)}
	for _, ss := range []session.Session{a, b} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, a); err == nil {
		t.Error("CreateSession accepted a second session with the same ID")
	}
	got, err := s.Session(ctx, "aa11")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("Session read back (-want +got):\n%s", d)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Session(unknown) = %v, want ErrNoSession", err)
	}

	seen := t0.Add(2 * time.Hour)
	if err := s.TouchSession(ctx, "aa11", seen, seen.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Session(ctx, "aa11")
	if !got.LastSeen.Equal(seen) || !got.Expires.Equal(seen.Add(12*time.Hour)) {
		t.Errorf("after TouchSession: last seen %v, expires %v; want %v, %v", got.LastSeen, got.Expires, seen, seen.Add(12*time.Hour))
	}

	// At t0+1h b has expired (its expiry is not after now), a has not.
	n, err := s.PruneSessions(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneSessions = %d, %v; want 1 pruned", n, err)
	}
	if _, err := s.Session(ctx, "bb22"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("expired session still there after pruning: %v", err)
	}
	if _, err := s.Session(ctx, "aa11"); err != nil {
		t.Errorf("live session pruned: %v", err)
	}

	if err := s.DeleteSession(ctx, "aa11"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "aa11"); err != nil {
		t.Errorf("ending a session twice: %v", err)
	}
	if _, err := s.Session(ctx, "aa11"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("ended session still there: %v", err)
	}
}
