package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/human"
)

// slackCaller runs Slack Web API calls with retries: a 429 waits as long as
// Retry-After says; a 5xx, a network error or one of Slack's transient error
// codes backs off; anything else is returned at once. Slack limits a method,
// not one call: after a 429, every call of that method waits out the
// Retry-After before it goes out. It counts calls and retries for metrics.
type slackCaller struct {
	log *slog.Logger
	// attempts is how many times one call is tried at most.
	attempts int
	// maxWait is the longest Retry-After honoured inline; a longer one is
	// returned as an error for the durable job to retry later.
	maxWait time.Duration
	// backoff is the wait before retry n (1-based) of a transient error.
	backoff func(n int) time.Duration
	// attemptTimeout bounds one attempt: a call Slack does not answer in
	// time is abandoned and, like a network error, tried again. It holds
	// even for an HTTP client without timeouts; the job's deadline bounds
	// all attempts together.
	attemptTimeout time.Duration

	calls   atomic.Int64
	retries atomic.Int64
	// inFlight bounds the calls under way at once to the idle
	// connections the Slack HTTP clients keep (maxInFlight), so that a
	// burst reuses connections instead of opening more that are closed
	// again (on real Slack, each a TLS handshake).
	inFlight chan struct{}

	mu sync.Mutex
	// limited maps a method to when its Retry-After runs out.
	limited map[string]time.Time
}

func newSlackCaller(log *slog.Logger) *slackCaller {
	return &slackCaller{
		log:            log,
		attempts:       4,
		maxWait:        30 * time.Second,
		backoff:        func(n int) time.Duration { return time.Duration(1<<(n-1)) * 200 * time.Millisecond },
		attemptTimeout: 30 * time.Second,
		limited:        map[string]time.Time{},
		inFlight:       make(chan struct{}, maxInFlight),
	}
}

// maxInFlight is how many Slack calls are under way at once: as many as
// cmd/sitrep's Slack client keeps idle connections (slackhttp.go).
const maxInFlight = 64

// limitedFor returns how long calls of method must still wait after a 429.
func (c *slackCaller) limitedFor(method string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.limited[method]
	if !ok {
		return 0
	}
	wait := time.Until(until)
	if wait <= 0 {
		delete(c.limited, method)
		return 0
	}
	return wait
}

// limit holds every call of method back for wait.
func (c *slackCaller) limit(method string, wait time.Duration) {
	until := time.Now().Add(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.limited[method]) {
		c.limited[method] = until
	}
}

// noRateWaitKey marks a context whose Slack calls return a rate limit at
// once instead of waiting it out: the caller has better things to do
// meanwhile (see roomQueue).
type noRateWaitKey struct{}

// withoutRateWait returns ctx marked so that slackCaller.do returns a
// rate limit (a *slack.RateLimitedError) instead of waiting it out.
func withoutRateWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRateWaitKey{}, true)
}

func noRateWait(ctx context.Context) bool { return ctx.Value(noRateWaitKey{}) != nil }

// sleep waits d, or returns ctx's error if ctx ends first.
var sleep = clock.Sleep

// do runs f, the call of method, until it succeeds, fails for good, or runs
// out of attempts. The error names the method.
func (c *slackCaller) do(ctx context.Context, method string, f func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		if wait := c.limitedFor(method); wait > 0 {
			if noRateWait(ctx) {
				return fmt.Errorf("slack %s: %w", method, &slack.RateLimitedError{RetryAfter: wait})
			}
			if wait > c.maxWait {
				return fmt.Errorf("slack %s: rate limited for %s more, longer than we wait inline", method, human.Duration(wait))
			}
			if err := sleep(ctx, wait); err != nil {
				return fmt.Errorf("slack %s: %w (waiting out a rate limit)", method, err)
			}
		}
		select {
		case c.inFlight <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("slack %s: %w (waiting for a free connection)", method, ctx.Err())
		}
		c.calls.Add(1)
		actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
		err := f(actx)
		<-c.inFlight
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("slack %s: %w", method, err)
		}
		wait, retry := c.retryAfter(err, attempt)
		if timedOut {
			err = fmt.Errorf("no answer within %s: %w", c.attemptTimeout, err)
			wait, retry = c.backoff(attempt), true
		}
		retry = retry && !singleTry(ctx) // the caller retries itself (onlyOnce)
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			c.limit(method, wait)
			retry = retry && !noRateWait(ctx)
		}
		if !retry || attempt >= c.attempts {
			if retry {
				return fmt.Errorf("slack %s: gave up after %d attempts: %w", method, attempt, err)
			}
			return fmt.Errorf("slack %s: %w", method, err)
		}
		if wait > c.maxWait {
			return fmt.Errorf("slack %s: rate limited for %s, longer than we wait inline: %w", method, wait, err)
		}
		c.retries.Add(1)
		c.log.Warn("slack call failed, retrying", "method", method, "attempt", attempt, "wait", wait, "err", err)
		if rl != nil {
			continue // the wait is the method's, at the top of the loop
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("slack %s: %w (after %v)", method, serr, err)
		}
	}
}

// retryAfter says whether err is worth another try and how long to wait.
func (c *slackCaller) retryAfter(err error, attempt int) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, 100*time.Millisecond), true
	}
	if transient(err) {
		return c.backoff(attempt), true
	}
	return 0, false
}

// transient reports whether a failed Slack call may succeed if tried again:
// a rate limit, a 5xx, a network error, or one of Slack's own transient
// error codes. Anything else (name_taken, channel_not_found, …) is final.
func transient(err error) bool {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Code >= 500 || sc.Code == 429
	}
	if code := slackCode(err); code != "" {
		switch code {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited":
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// slackCode returns Slack's error code ("name_taken") if err carries one.
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
