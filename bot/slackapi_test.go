package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// TestSlackCallerBoundsEachAttempt: a Web API call to a server that accepts
// the connection and never answers, through a client without any timeout,
// is abandoned after the caller's attempt timeout and retried as transient;
// the caller's own context (a job's deadline) ends it without a retry.
func TestSlackCallerBoundsEachAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		attemptTimeout time.Duration
		outer          time.Duration // the caller's deadline
		wantHits       int
		wantErr        string
	}{
		{"attempts time out and are retried", 100 * time.Millisecond, time.Hour, 3, "gave up after 3 attempts: no answer within 100ms"},
		{"the caller's deadline ends it", time.Hour, 150 * time.Millisecond, 1, "context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			end := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				select { // never answers
				case <-r.Context().Done():
				case <-end:
				}
			}))
			defer srv.Close()
			defer close(end)
			api := slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/"), slack.OptionHTTPClient(&http.Client{}))
			c := newSlackCaller(slog.New(slog.DiscardHandler))
			c.attempts, c.attemptTimeout = 3, tc.attemptTimeout
			c.backoff = func(int) time.Duration { return time.Millisecond }
			ctx, cancel := context.WithTimeout(context.Background(), tc.outer)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- c.do(ctx, "chat.postMessage", func(ctx context.Context) error {
					_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hello", false))
					return err
				})
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want it to say %q", err, tc.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a call to a server that never answers did not return")
			}
			if got := hits.Load(); int(got) != tc.wantHits {
				t.Errorf("the server saw %d attempts, want %d", got, tc.wantHits)
			}
		})
	}
}
