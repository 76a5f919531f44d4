// Package apiclient is a small client of a running sitrep's change API
// (POST and GET /api/v1/changes), so that a pipeline logs and lists
// changes with an API token instead of database credentials.
//
// Every failure is an *Error that says what was being done, where, and
// what went wrong, in words a person can act on; it never holds the token.
//
// # Retries
//
// A request that never reached the server (the connection was refused, the
// name did not resolve, the request could not be written) is sent again,
// after each wait of Client.Backoff. A request that may have reached it (it
// was written, then the connection failed or no answer came, or the server
// answered 5xx) is sent again only when sending it twice is harmless: a GET,
// or a change with an external ID, which the server logs once however often
// it is sent. A change without an external ID is then not sent again, since
// a second copy could be logged; the error says that it may or may not have
// been logged (Error.MaybeStored). A 429 (too many requests) is always
// retried: the server did not act on it.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ChangesPath is the change API's path under the base URL.
const ChangesPath = "/api/v1/changes"

// DefaultBackoff is the wait before each retry: three retries, about four
// seconds in all.
var DefaultBackoff = []time.Duration{250 * time.Millisecond, time.Second, 3 * time.Second}

// maxRetryAfter caps how long a Retry-After answer makes the client wait.
const maxRetryAfter = 30 * time.Second

// maxAnswer is the most of an answer's body the client reads.
const maxAnswer = 8 << 20

// Change is a change as the API reads and writes it.
type Change struct {
	// ID is the server's number for the change (in answers).
	ID int64 `json:"id,omitempty"`
	// OccurredAt is when it happened; zero means now.
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	// Systems are the systems changed.
	Systems []string `json:"systems,omitempty"`
	// Person is who made it.
	Person string `json:"person"`
	// Summary says what was done.
	Summary string `json:"summary"`
	// Reason says why.
	Reason string `json:"reason,omitempty"`
	// Kind is deploy, config, infra, feature, data or other.
	Kind string `json:"kind,omitempty"`
	// Link is an http(s) link: a pull request, a pipeline run.
	Link string `json:"link,omitempty"`
	// ExternalID makes the change idempotent: sent again, it is logged once.
	ExternalID string `json:"external_id,omitempty"`
	// Source is where the server recorded it came from (in answers).
	Source string `json:"source,omitempty"`
	// LoggedAt is when the server first stored it (in answers).
	LoggedAt time.Time `json:"logged_at,omitzero"`
}

// Logged is the server's answer to LogChange.
type Logged struct {
	// Change is the change as the server holds it: when it was logged
	// before (Created false), the stored one, which may differ from the
	// one sent.
	Change Change
	// Created is true when this request stored the change, false when the
	// server already held a change with its external ID.
	Created bool
}

// Query selects the changes Changes lists.
type Query struct {
	// Systems keeps the changes to any of these systems; none keeps all.
	Systems []string
	// Since keeps the changes that happened at or after it; zero keeps all.
	Since time.Time
	// Limit is the most changes listed; zero is the server's default.
	Limit int
}

// Client talks to one sitrep server. Its fields may be changed before the
// first call.
type Client struct {
	// HTTP sends the requests. New sets one with connect, TLS and
	// overall timeouts that follows no redirects.
	HTTP *http.Client
	// Backoff is the wait before each retry; its length is how many
	// retries there are. Nil or empty: no retries.
	Backoff []time.Duration
	// UserAgent is sent with each request.
	UserAgent string

	base  *url.URL
	token string
}

// New returns a client of the sitrep at baseURL (http or https, with any
// path prefix sitrep is served under) that sends token as its bearer
// token, retrying with DefaultBackoff.
func New(baseURL, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not the address of a sitrep: write it as https://sitrep.example.com or http://127.0.0.1:8080 (the scheme, host and port of its HTTP API, with no user, query or fragment)", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("no API token: the change API needs the token of the sitrep it calls")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 5 * time.Second
	transport.ResponseHeaderTimeout = 20 * time.Second
	return &Client{
		HTTP: &http.Client{
			Transport: transport,
			Timeout:   30 * time.Second,
			// A redirected POST may come back as a GET, whose answer
			// would read as a change logged: follow none, say where to.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Backoff:   DefaultBackoff,
		UserAgent: "sitrep-apiclient",
		base:      u,
		token:     strings.TrimSpace(token),
	}, nil
}

// URL is the base URL the client calls, as it names it in errors.
func (c *Client) URL() string { return c.base.String() }

// LogChange logs one change and returns it as the server holds it. A
// change with an external ID that the server already holds is not logged
// again: the answer is the stored change, with Created false.
func (c *Client) LogChange(ctx context.Context, ch Change) (Logged, error) {
	body, err := json.Marshal(ch)
	if err != nil {
		return Logged{}, fmt.Errorf("encoding the change: %w", err)
	}
	var out struct {
		Added   *int `json:"added"`
		Changes []struct {
			Change
			Created *bool `json:"created"`
		} `json:"changes"`
	}
	status, err := c.do(ctx, "logging the change", http.MethodPost, c.endpoint(nil), body, ch.ExternalID != "", &out)
	if err != nil {
		return Logged{}, err
	}
	if len(out.Changes) != 1 || out.Changes[0].ID == 0 {
		return Logged{}, &Error{Op: "logging the change", URL: c.URL(), Kind: KindUnexpected, Status: status,
			Message: fmt.Sprintf("the answer holds %d changes, not the one sent", len(out.Changes)), MaybeStored: true}
	}
	got := out.Changes[0]
	created := status == http.StatusCreated
	switch {
	case got.Created != nil:
		created = *got.Created
	case out.Added != nil && *out.Added == 0:
		created = false
	}
	return Logged{Change: got.Change, Created: created}, nil
}

// Changes lists the changes q selects, newest first.
func (c *Client) Changes(ctx context.Context, q Query) ([]Change, error) {
	v := url.Values{}
	for _, s := range q.Systems {
		v.Add("system", s)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Changes *[]Change `json:"changes"`
	}
	status, err := c.do(ctx, "listing changes", http.MethodGet, c.endpoint(v), nil, true, &out)
	if err != nil {
		return nil, err
	}
	if out.Changes == nil {
		return nil, &Error{Op: "listing changes", URL: c.URL(), Kind: KindUnexpected, Status: status,
			Message: "the answer holds no list of changes"}
	}
	return *out.Changes, nil
}

func (c *Client) endpoint(q url.Values) string {
	u := *c.base
	u.Path += ChangesPath
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends a request, retrying as the package comment says, and decodes a
// 2xx answer's JSON into out. idempotent says whether the request may be
// sent twice after it may have reached the server.
func (c *Client) do(ctx context.Context, op, method, target string, body []byte, idempotent bool, out any) (int, error) {
	for attempt := 1; ; attempt++ {
		status, retry, err := c.once(ctx, op, method, target, body, idempotent, out)
		if err == nil {
			return status, nil
		}
		var e *Error
		if errors.As(err, &e) {
			e.Attempts = attempt
		}
		if !retry || attempt > len(c.Backoff) || ctx.Err() != nil {
			return status, err
		}
		wait := c.Backoff[attempt-1]
		if e != nil && e.retryAfter > wait {
			wait = e.retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return status, err
		case <-t.C:
		}
	}
}

// once sends the request once. retry says whether sending it again may
// help and does no harm.
func (c *Client) once(ctx context.Context, op, method, target string, body []byte, idempotent bool, out any) (status int, retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// sent is set from the transport's writing goroutine.
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { sent.Store(i.Err == nil) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, target, rd)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		e := &Error{Op: op, URL: c.URL(), Err: err}
		if !sent.Load() {
			e.Kind = KindUnreachable
			return 0, ctx.Err() == nil, e
		}
		e.Kind = KindNoAnswer
		e.MaybeStored = method == http.MethodPost
		return 0, idempotent && ctx.Err() == nil, e
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if rerr != nil {
		e := &Error{Op: op, URL: c.URL(), Kind: KindNoAnswer, Status: resp.StatusCode, Err: rerr, MaybeStored: method == http.MethodPost}
		return resp.StatusCode, idempotent && ctx.Err() == nil, e
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !isJSON(resp.Header.Get("Content-Type")) || json.Unmarshal(data, out) != nil {
			return resp.StatusCode, false, &Error{Op: op, URL: c.URL(), Kind: KindUnexpected, Status: resp.StatusCode,
				Message:     "the answer is not the change API's JSON: is this the address of sitrep's HTTP API?",
				MaybeStored: method == http.MethodPost}
		}
		return resp.StatusCode, false, nil
	}
	e := &Error{Op: op, URL: c.URL(), Status: resp.StatusCode}
	var body2 struct {
		Error     string `json:"error"`
		Field     string `json:"field"`
		Index     *int   `json:"index"`
		RequestID string `json:"request_id"`
	}
	if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(data, &body2) == nil {
		e.Message, e.Field, e.Index, e.RequestID = body2.Error, body2.Field, body2.Index, body2.RequestID
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Request-Id")
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
	case code == http.StatusForbidden:
		e.Kind = KindForbidden
	case code == http.StatusTooManyRequests:
		e.Kind = KindServer
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		return code, true, e
	case code >= 300 && code < 400:
		e.Kind = KindUnexpected
		e.Message = "it answered with a redirect"
		if loc := resp.Header.Get("Location"); loc != "" {
			e.Message += " to " + loc + ": use that address"
		}
	case code >= 500:
		e.Kind = KindServer
		e.MaybeStored = method == http.MethodPost
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		return code, idempotent, e
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		e.Kind = KindUnexpected
		if e.Message == "" {
			e.Message = "there is no change API at this address: give the address sitrep's HTTP API listens on (SITREP_HTTP_ADDR), without /api/v1"
		}
	case code >= 400:
		e.Kind = KindRejected
	default:
		e.Kind = KindUnexpected
	}
	return resp.StatusCode, false, e
}

// isJSON says whether a Content-Type is JSON's.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// retryAfter reads a Retry-After of seconds, capped; 0 if there is none.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}
