// Package signin signs people in to sitrep's web pages with Slack
// (OpenID Connect), keeps their sessions and guards forms against
// cross-site requests. Pages learn who is signed in with UserFrom.
package signin

import (
	"context"

	"github.com/sitrep/sitrep/internal/session"
)

// User is a person signed in with Slack (session.User).
type User = session.User

type userKey struct{}

// WithUser returns ctx carrying u as the signed-in user. The sign-in
// middleware calls it; tests of pages call it to stand for a session.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user of ctx; ok is false for a visitor
// who has not signed in.
func UserFrom(ctx context.Context) (u User, ok bool) {
	u, ok = ctx.Value(userKey{}).(User)
	return u, ok
}

type csrfKey struct{}

// WithCSRFToken returns ctx carrying the session's CSRF token, for forms.
func WithCSRFToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// CSRFToken returns the token a form of this request must carry in its
// hidden "csrf" field, or "" when no session is signed in.
func CSRFToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}
