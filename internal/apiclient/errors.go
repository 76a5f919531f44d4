package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Kind is what sort of failure an Error is.
type Kind int

// The kinds of Error.
const (
	// KindUnreachable: the request never reached the server (connection
	// refused, no such host, no route, the request could not be written).
	KindUnreachable Kind = iota + 1
	// KindNoAnswer: the request was sent but no whole answer came back.
	KindNoAnswer
	// KindUnauthorized: the server refused the token (401).
	KindUnauthorized
	// KindForbidden: the server refused the call (403), e.g. its API is off.
	KindForbidden
	// KindRejected: the server refused what was sent (400, 413, 422): the
	// message, and the field when there is one, say what to change.
	KindRejected
	// KindServer: the server failed (5xx) or asked to slow down (429).
	KindServer
	// KindUnexpected: the answer is not the change API's: a wrong address,
	// a redirect, a proxy's page.
	KindUnexpected
)

// Error is a failed call of the change API. Its text says what was being
// done, at which address, and what went wrong; it never holds the token.
type Error struct {
	// Op is what was being done: "logging the change", "listing changes".
	Op string
	// URL is the base URL of the sitrep called.
	URL string
	// Kind is what sort of failure it is.
	Kind Kind
	// Status is the HTTP status of the answer, 0 without one.
	Status int
	// Message, Field, Index and RequestID are what the server's error
	// answer said: what is wrong, the field it is in, the position of the
	// change in a batch, the request's ID in the server's log.
	Message   string
	Field     string
	Index     *int
	RequestID string
	// MaybeStored is true when a change was sent and the server may have
	// logged it although no answer said so.
	MaybeStored bool
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the underlying network error, if any.
	Err error

	retryAfter time.Duration
}

// Error says what failed, where and why.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + ": ")
	switch e.Kind {
	case KindUnreachable:
		fmt.Fprintf(&b, "cannot reach sitrep at %s: %s", e.URL, cause(e.Err))
	case KindNoAnswer:
		fmt.Fprintf(&b, "sitrep at %s gave no answer: %s", e.URL, cause(e.Err))
	case KindUnauthorized:
		fmt.Fprintf(&b, "sitrep at %s refused the API token (%s)", e.URL, statusText(e.Status))
	case KindForbidden:
		fmt.Fprintf(&b, "sitrep at %s refused the call (%s)", e.URL, statusText(e.Status))
	case KindRejected:
		fmt.Fprintf(&b, "sitrep at %s refused it (%s)", e.URL, statusText(e.Status))
	case KindServer:
		fmt.Fprintf(&b, "sitrep at %s failed (%s", e.URL, statusText(e.Status))
		if e.RequestID != "" {
			fmt.Fprintf(&b, ", request ID %s", e.RequestID)
		}
		b.WriteString(")")
	default:
		fmt.Fprintf(&b, "unexpected answer from %s", e.URL)
		if e.Status != 0 {
			fmt.Fprintf(&b, " (%s)", statusText(e.Status))
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s", e.Field)
		if e.Index != nil {
			fmt.Fprintf(&b, ", change %d of the batch", *e.Index)
		}
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "; tried %d times", e.Attempts)
	}
	if e.MaybeStored {
		b.WriteString("; the change may or may not have been logged")
	}
	return b.String()
}

// Unwrap returns the underlying network error, if any.
func (e *Error) Unwrap() error { return e.Err }

// statusText writes a status as "401 Unauthorized".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// cause says what a network error was without the request's method and
// address, which the message has already: "connection refused", "no such
// host", "timed out".
func cause(err error) string {
	if err == nil {
		return "no answer"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return "no such host " + dns.Name
		}
		return dns.Error()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg := op.Err.Error()
		// "connect: connection refused" → "connection refused".
		if _, after, ok := strings.Cut(msg, ": "); ok {
			return after
		}
		return msg
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	msg := err.Error()
	// *url.Error: `Post "http://…": EOF` → "EOF".
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}
