package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"rate limited", &slack.RateLimitedError{RetryAfter: time.Second}, true},
		{"503", slack.StatusCodeError{Code: 503}, true},
		{"500 wrapped", fmt.Errorf("x: %w", slack.StatusCodeError{Code: 500}), true},
		{"404", slack.StatusCodeError{Code: 404}, false},
		{"slack internal_error", slack.SlackErrorResponse{Err: "internal_error"}, true},
		{"name taken", slack.SlackErrorResponse{Err: "name_taken"}, false},
		{"channel not found", slack.SlackErrorResponse{Err: "channel_not_found"}, false},
		{"invalid auth", slack.SlackErrorResponse{Err: "invalid_auth"}, false},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"eof", io.ErrUnexpectedEOF, true},
		{"other", errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSlackCallerRetries(t *testing.T) {
	t.Parallel()
	c := newSlackCaller(slog.New(slog.DiscardHandler))
	c.backoff = func(int) time.Duration { return time.Millisecond }
	ctx := context.Background()

	calls := 0
	err := c.do(ctx, "conversations.create", func(context.Context) error {
		calls++
		if calls < 3 {
			return slack.StatusCodeError{Code: 502}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("transient failures: err=%v after %d calls, want success on the 3rd", err, calls)
	}

	calls = 0
	err = c.do(ctx, "conversations.create", func(context.Context) error {
		calls++
		return slack.SlackErrorResponse{Err: "name_taken"}
	})
	if calls != 1 || slackCode(err) != "name_taken" {
		t.Errorf("final error: %d calls, err=%v; want 1 call and name_taken kept", calls, err)
	}

	calls = 0
	err = c.do(ctx, "chat.postMessage", func(context.Context) error {
		calls++
		return slack.StatusCodeError{Code: 500}
	})
	if calls != c.attempts || err == nil {
		t.Errorf("persistent 500: %d calls, err=%v; want %d attempts then an error", calls, err, c.attempts)
	}

	calls = 0
	err = c.do(ctx, "chat.postMessage", func(context.Context) error {
		calls++
		return &slack.RateLimitedError{RetryAfter: time.Hour}
	})
	if calls != 1 || err == nil {
		t.Errorf("Retry-After of an hour: %d calls, err=%v; want no inline wait, the error returned", calls, err)
	}
	if got, retries := c.calls.Load(), c.retries.Load(); got != 3+1+4+1 || retries != 2+3 {
		t.Errorf("counted %d calls and %d retries, want 9 and 5", got, retries)
	}
}

// After a 429 on a method, every caller of that method waits out the
// Retry-After; callers of other methods do not.
func TestSlackCallerRateLimitIsPerMethod(t *testing.T) {
	t.Parallel()
	c := newSlackCaller(slog.New(slog.DiscardHandler))
	ctx := context.Background()
	var limitedAt time.Time
	first := true
	err := c.do(ctx, "chat.update", func(context.Context) error {
		if first {
			first = false
			limitedAt = time.Now()
			return &slack.RateLimitedError{RetryAfter: 300 * time.Millisecond}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second caller that arrives inside the window goes out only after it.
	c.limit("chat.update", 300*time.Millisecond)
	window := time.Now().Add(300 * time.Millisecond)
	var otherAt, updateAt time.Time
	if err := c.do(ctx, "chat.postMessage", func(context.Context) error { otherAt = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.do(ctx, "chat.update", func(context.Context) error { updateAt = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	if updateAt.Before(window) {
		t.Errorf("chat.update went out %v before its method's Retry-After ran out", window.Sub(updateAt))
	}
	if !otherAt.Before(window) {
		t.Errorf("chat.postMessage was held back by chat.update's rate limit")
	}
	if limitedAt.IsZero() {
		t.Error("the first call never ran")
	}
	// A limit longer than the caller waits inline is returned at once.
	c.limit("pins.add", time.Hour)
	calls := 0
	if err := c.do(ctx, "pins.add", func(context.Context) error { calls++; return nil }); err == nil || calls != 0 {
		t.Errorf("an hour's rate limit: err=%v after %d calls, want an error and no call", err, calls)
	}
}
