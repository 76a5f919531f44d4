package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/storage"
)

// TestWorkBegan checks where a look for an earlier attempt starts: a job's
// creation or due time (whichever is earlier), a replayed envelope's
// reception, else now. Jobs run through a real runner on the SQLite store.
func TestWorkBegan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	runner := jobs.NewRunner(store, clock.NewFake(now), nil)
	type seen struct {
		began   time.Time
		earlier bool
	}
	got := make(chan seen, 1)
	runner.Handle("test", func(ctx context.Context, _ jobs.Job) error {
		got <- seen{workBegan(ctx, now), earlierAttempt(ctx)}
		return nil
	})
	inJob := func(j jobs.Job) seen {
		t.Helper()
		j.Kind = "test"
		if _, err := runner.RunJob(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		return <-got
	}
	for _, tc := range []struct {
		name        string
		began       func() seen
		want        time.Time
		wantEarlier bool
	}{
		{"job created now", func() seen { return inJob(jobs.Job{Key: "a", CreatedAt: now.Add(-time.Minute), DueAt: now}) },
			now.Add(-time.Minute), false},
		{"job due before it was stored", func() seen {
			return inJob(jobs.Job{Key: "b", CreatedAt: now, DueAt: now.Add(-time.Hour)})
		}, now.Add(-time.Hour), false},
		{"job created long before it is due", func() seen {
			return inJob(jobs.Job{Key: "c", CreatedAt: now.Add(-2 * time.Hour), DueAt: now.Add(time.Hour)})
		}, now.Add(-2 * time.Hour), false},
		{"replay received earlier", func() seen {
			ctx := replayingSince(context.Background(), now.Add(-3*time.Minute))
			return seen{workBegan(ctx, now), earlierAttempt(ctx)}
		}, now.Add(-3 * time.Minute), true},
		{"replay of unknown age", func() seen {
			ctx := replaying(context.Background())
			return seen{workBegan(ctx, now), earlierAttempt(ctx)}
		}, now.Add(-replayLookBack), true},
		{"neither", func() seen { return seen{workBegan(context.Background(), now), earlierAttempt(context.Background())} },
			now, false},
	} {
		s := tc.began()
		if !s.began.Equal(tc.want) || s.earlier != tc.wantEarlier {
			t.Errorf("%s: began %v (earlier attempt %v), want %v (%v)", tc.name, s.began, s.earlier, tc.want, tc.wantEarlier)
		}
	}
}

func TestEffectMarks(t *testing.T) {
	t.Parallel()
	e := onceAs(effectHeader, "INC-7")
	msg := func(md slack.SlackMetadata) slack.Message {
		return slack.Message{Msg: slack.Msg{Metadata: md}}
	}
	for _, tc := range []struct {
		name string
		m    slack.Message
		want bool
	}{
		{"its own", msg(e.metadata()), true},
		{"as Slack returns it", msg(slack.SlackMetadata{EventType: "sitrep_header", EventPayload: map[string]any{"key": "INC-7", "extra": 1.0}}), true},
		{"another incident", msg(onceAs(effectHeader, "INC-70").metadata()), false},
		{"another kind", msg(onceAs(effectPlan, "INC-7").metadata()), false},
		{"a key that is not text", msg(slack.SlackMetadata{EventType: "sitrep_header", EventPayload: map[string]any{"key": 7.0}}), false},
		{"no metadata", slack.Message{}, false},
	} {
		if got := e.marks(tc.m); got != tc.want {
			t.Errorf("%s: marks = %v, want %v", tc.name, got, tc.want)
		}
	}
	if p := (effect{kind: effectAnswer}).metadata().EventPayload; p == nil {
		t.Error("an effect without a key sends a null event_payload, which Slack refuses")
	}
}

func TestMayHaveActed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		err         error
		acted, rate bool
	}{
		{"gateway timeout", fmt.Errorf("posting: %w", slack.StatusCodeError{Code: 504, Status: "504 Gateway Timeout"}), true, false},
		{"internal error", slack.SlackErrorResponse{Err: "internal_error"}, true, false},
		{"connection reset", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true, false},
		{"rate limited", &slack.RateLimitedError{RetryAfter: time.Second}, false, true},
		{"429 status", slack.StatusCodeError{Code: 429}, false, true},
		{"refused", slack.SlackErrorResponse{Err: "channel_not_found"}, false, false},
		{"bad request", slack.StatusCodeError{Code: 400}, false, false},
	} {
		if acted, rate := mayHaveActed(tc.err), rateLimited(tc.err); acted != tc.acted || rate != tc.rate {
			t.Errorf("%s: mayHaveActed %v, rateLimited %v; want %v, %v", tc.name, acted, rate, tc.acted, tc.rate)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if !timedOut(ctx, fmt.Errorf("post: %w", context.DeadlineExceeded)) {
		t.Error("a call past its own deadline is not seen as timed out")
	}
	cancel()
	if timedOut(ctx, fmt.Errorf("post: %w", context.DeadlineExceeded)) {
		t.Error("a call whose work was cancelled is seen as timed out")
	}
}
