package signin

import "github.com/sitrep/sitrep/internal/session"

// Session is one signed-in visit as the store keeps it (session.Session).
type Session = session.Session

// Store keeps sessions (session.Store); storage.Store satisfies it.
type Store = session.Store

// ErrNoSession is what a Store answers for a session it does not hold.
var ErrNoSession = session.ErrNotFound
