package bot

import (
	"context"

	"github.com/sitrep/sitrep/internal/jobs"
)

// replayKey is the context key marking work replayed from the inbox: an
// envelope recorded by an earlier life of the process (or a lease that ran
// out) whose handling may have done part of its work already.
type replayKey struct{}

// replaying marks ctx as the replay of an envelope handled before.
func replaying(ctx context.Context) context.Context { return context.WithValue(ctx, replayKey{}, true) }

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
