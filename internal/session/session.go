// Package session is what a visit signed in to sitrep's web pages is:
// the person (User), the Session as it is kept, and the Store interface
// that keeps it. Package signin (the web layer) signs people in and
// guards pages with it; storage satisfies Store on SQLite and PostgreSQL.
// It knows neither HTTP nor SQL, so both may import it.
package session

import (
	"context"
	"errors"
	"time"
)

// User is a person signed in with Slack.
type User struct {
	// ID is their Slack user ID ("U0ALICE"); TeamID their workspace's.
	ID, TeamID string
	// Name is how they are shown: their Slack display or real name.
	Name string
}

// Session is one signed-in visit as the store keeps it. The cookie holds
// a random secret; the store holds only its hash (IDHash), so a copy of
// the table signs no one in.
type Session struct {
	// IDHash is the hex SHA-256 of the cookie's secret.
	IDHash string
	// User is who signed in.
	User User
	// CSRF is the token every form of this session carries.
	CSRF string
	// Created is when they signed in; LastSeen their last request.
	Created, LastSeen time.Time
	// Expires is when the session ends unless used again (sliding, never
	// later than Created plus the longest life).
	Expires time.Time
}

// ErrNotFound is what a Store answers for a session it does not hold.
var ErrNotFound = errors.New("no such session")

// Store keeps sessions; storage.Store satisfies it on SQLite and
// PostgreSQL.
type Store interface {
	// CreateSession records a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session whose secret hashes to idHash, expired
	// or not, or ErrNotFound.
	Session(ctx context.Context, idHash string) (Session, error)
	// TouchSession records a request at lastSeen and moves the expiry.
	TouchSession(ctx context.Context, idHash string, lastSeen, expires time.Time) error
	// DeleteSession ends a session; ending one already gone is no error.
	DeleteSession(ctx context.Context, idHash string) error
	// PruneSessions deletes sessions expired before now and tells how many.
	PruneSessions(ctx context.Context, now time.Time) (int64, error)
}
