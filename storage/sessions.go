package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sitrep/sitrep/internal/session"
)

// Store satisfies session.Store: the web dashboard's sessions (table
// web_sessions, migration 00024).
var _ session.Store = (*Store)(nil)

type sessionRow struct {
	IDHash   string    `db:"id_hash"`
	UserID   string    `db:"user_id"`
	TeamID   string    `db:"team_id"`
	Name     string    `db:"name"`
	CSRF     string    `db:"csrf_token"`
	Created  time.Time `db:"created_at"`
	LastSeen time.Time `db:"last_seen_at"`
	Expires  time.Time `db:"expires_at"`
}

// CreateSession implements session.Store.
func (s *Store) CreateSession(ctx context.Context, ss session.Session) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO web_sessions
		(id_hash, user_id, team_id, name, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		ss.IDHash, ss.User.ID, ss.User.TeamID, ss.User.Name, ss.CSRF, ts(ss.Created), ts(ss.LastSeen), ts(ss.Expires))
	if err != nil {
		return fmt.Errorf("recording the web session of %s: %w", ss.User.ID, err)
	}
	return nil
}

// Session implements session.Store.
func (s *Store) Session(ctx context.Context, idHash string) (session.Session, error) {
	var r sessionRow
	err := s.db.GetContext(ctx, &r, s.db.Rebind(`SELECT id_hash, user_id, team_id, name, csrf_token,
		created_at, last_seen_at, expires_at FROM web_sessions WHERE id_hash = ?`), idHash)
	if errors.Is(err, sql.ErrNoRows) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		return session.Session{}, fmt.Errorf("reading a web session: %w", err)
	}
	return session.Session{
		IDHash: r.IDHash, User: session.User{ID: r.UserID, TeamID: r.TeamID, Name: r.Name}, CSRF: r.CSRF,
		Created: r.Created.UTC(), LastSeen: r.LastSeen.UTC(), Expires: r.Expires.UTC(),
	}, nil
}

// TouchSession implements session.Store.
func (s *Store) TouchSession(ctx context.Context, idHash string, lastSeen, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`),
		ts(lastSeen), ts(expires), idHash)
	if err != nil {
		return fmt.Errorf("extending a web session: %w", err)
	}
	return nil
}

// DeleteSession implements session.Store.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM web_sessions WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("ending a web session: %w", err)
	}
	return nil
}

// PruneSessions implements session.Store.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM web_sessions WHERE expires_at <= ?`), ts(now))
	if err != nil {
		return 0, fmt.Errorf("pruning expired web sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("pruning expired web sessions: %w", err)
	}
	return n, nil
}
