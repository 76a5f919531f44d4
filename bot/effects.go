package bot

import (
	"context"
	"time"

	"github.com/sitrep/sitrep/internal/jobs"
)

// replayKey is the context key marking work replayed from the inbox: an
// envelope recorded by an earlier life of the process (or a lease that ran
// out) whose handling may have done part of its work already.
type replayKey struct{}

// replaying marks ctx as the replay of an envelope handled before.
func replaying(ctx context.Context) context.Context { return context.WithValue(ctx, replayKey{}, true) }

// beganKey is the context key of when the work running with ctx first
// began (see workBegan).
type beganKey struct{}

// replayingSince marks ctx as the replay of an envelope first received at
// received: a look for what its earlier handling did starts there rather
// than replayLookBack ago.
func replayingSince(ctx context.Context, received time.Time) context.Context {
	return context.WithValue(replaying(ctx), beganKey{}, received)
}

// earlierAttempt reports whether the work running with ctx may have been
// attempted before: a job claimed for the second time or later, or an
// envelope replayed from the inbox. A Slack effect (a post, an upload)
// that is not recorded as done must then look for its own earlier attempt
// in Slack before acting again. On a first attempt it cannot exist.
func earlierAttempt(ctx context.Context) bool {
	if ctx.Value(replayKey{}) != nil {
		return true
	}
	j, ok := jobs.Current(ctx)
	return ok && j.Attempts > 1
}
