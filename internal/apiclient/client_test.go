package apiclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/apiclient"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

const secret = "s3cret-token-value"

// fast is a backoff of three quick retries.
var fast = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}

// startAPI serves sitrep's real change API over a real SQLite store.
func startAPI(t testing.TB) (*httptest.Server, *incident.ChangeLog) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := incident.NewChangeLog(store, clock.Real{})
	srv := httptest.NewServer(web.NewHandler(web.Deps{Changes: log, Ping: store.Ping,
		Tokens: []web.Token{{Name: "ci", Secret: secret}}}))
	t.Cleanup(srv.Close)
	return srv, log
}

func newClient(t *testing.T, url, token string) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New(url, token)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = fast
	return c
}

func TestLogAndListThroughTheRealAPI(t *testing.T) {
	srv, log := startAPI(t)
	c := newClient(t, srv.URL+"/", secret)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	first, err := c.LogChange(ctx, apiclient.Change{OccurredAt: at, Systems: []string{"web"}, Person: "ci",
		Summary: "deployed v2.14.0", Kind: "deploy", ExternalID: "run-9"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Change.ID == 0 || !first.Change.OccurredAt.Equal(at) || first.Change.Source != "api:ci" {
		t.Errorf("first write: %+v, want created, with an ID, the time sent and source api:ci", first)
	}
	again, err := c.LogChange(ctx, apiclient.Change{Systems: []string{"web"}, Person: "ci", Summary: "deployed v2.14.0", ExternalID: "run-9"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Change.ID != first.Change.ID {
		t.Errorf("same external ID again: %+v, want not created, change %d", again, first.Change.ID)
	}
	if _, err := c.LogChange(ctx, apiclient.Change{Systems: []string{"db"}, Person: "ci", Summary: "raised the pool"}); err != nil {
		t.Fatal(err)
	}
	stored, err := log.Recent(ctx, incident.ChangeQuery{})
	if err != nil || len(stored) != 2 {
		t.Fatalf("store holds %d changes (%v), want 2", len(stored), err)
	}
	got, err := c.Changes(ctx, apiclient.Query{Systems: []string{"web"}, Since: at.Add(-time.Hour), Limit: 5})
	if err != nil || len(got) != 1 || got[0].Summary != "deployed v2.14.0" {
		t.Errorf("list web: %+v %v", got, err)
	}
	got, err = c.Changes(ctx, apiclient.Query{})
	if err != nil || len(got) != 2 {
		t.Errorf("list all: %d changes, %v", len(got), err)
	}
}

// hits counts the requests a handler serves.
type hits struct{ n atomic.Int32 }

func (h *hits) wrap(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.n.Add(1)
		io.Copy(io.Discard, r.Body)
		f(w, r)
	})
}

func jsonAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hangUp reads the request and closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

const stored = `{"added":1,"changes":[{"id":7,"systems":["web"],"person":"ci","summary":"x","occurred_at":"2026-11-24T09:30:00Z"}]}`

func TestFailures(t *testing.T) {
	withID := apiclient.Change{Systems: []string{"web"}, Person: "ci", Summary: "x", ExternalID: "run-1"}
	withoutID := apiclient.Change{Systems: []string{"web"}, Person: "ci", Summary: "x"}
	for _, tc := range []struct {
		name     string
		handler  func(calls int32) http.HandlerFunc
		change   apiclient.Change
		list     bool
		wantKind apiclient.Kind
		wantHits int32
		want     []string // in the error
		maybe    bool     // MaybeStored
	}{
		{name: "wrong token", change: withID, wantKind: apiclient.KindUnauthorized, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					jsonAnswer(w, 401, `{"error":"the token sent is not one this server accepts"}`)
				}
			},
			want: []string{"refused the API token (401 Unauthorized)", "the token sent is not one this server accepts"}},
		{name: "API off", change: withID, wantKind: apiclient.KindForbidden, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, 403, `{"error":"the API is off"}`) }
			},
			want: []string{"refused the call (403 Forbidden): the API is off"}},
		{name: "refused field", change: withID, wantKind: apiclient.KindRejected, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					jsonAnswer(w, 400, `{"error":"occurred_at is more than 24 h ahead","field":"occurred_at","index":0}`)
				}
			},
			want: []string{"refused it (400 Bad Request): occurred_at is more than 24 h ahead (field occurred_at, change 0 of the batch)"}},
		{name: "5xx with an ID is retried", change: withID, wantKind: apiclient.KindServer, wantHits: 4, maybe: true,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					jsonAnswer(w, 500, `{"error":"internal error: nothing was stored","request_id":"req-1"}`)
				}
			},
			want: []string{"failed (500 Internal Server Error, request ID req-1): internal error", "tried 4 times", "may or may not have been logged"}},
		{name: "5xx without an ID is not sent again", change: withoutID, wantKind: apiclient.KindServer, wantHits: 1, maybe: true,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, 502, `{}`) }
			},
			want: []string{"502 Bad Gateway"}},
		{name: "5xx then success", change: withID, wantHits: 2,
			handler: func(n int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					if n == 1 {
						jsonAnswer(w, 503, `{"error":"unavailable"}`)
						return
					}
					jsonAnswer(w, 201, stored)
				}
			}},
		{name: "429 without an ID is retried", change: withoutID, wantHits: 2,
			handler: func(n int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					if n == 1 {
						jsonAnswer(w, 429, `{"error":"slow down"}`)
						return
					}
					jsonAnswer(w, 201, stored)
				}
			}},
		{name: "hang-up with an ID is retried", change: withID, wantHits: 2,
			handler: func(n int32) http.HandlerFunc {
				if n == 1 {
					return hangUp
				}
				return func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, 200, stored) }
			}},
		{name: "hang-up without an ID may have stored it", change: withoutID, wantKind: apiclient.KindNoAnswer, wantHits: 1, maybe: true,
			handler: func(int32) http.HandlerFunc { return hangUp },
			want:    []string{"gave no answer", "may or may not have been logged"}},
		{name: "redirect is not followed", change: withID, wantKind: apiclient.KindUnexpected, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "https://sitrep.example.com/api/v1/changes", http.StatusMovedPermanently)
				}
			},
			want: []string{"(301 Moved Permanently): it answered with a redirect to https://sitrep.example.com/api/v1/changes"}},
		{name: "not sitrep", change: withID, wantKind: apiclient.KindUnexpected, wantHits: 1, maybe: true,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					io.WriteString(w, "<html>welcome</html>")
				}
			},
			want: []string{"is not the change API's JSON"}},
		{name: "no API here", change: withID, wantKind: apiclient.KindUnexpected, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
			},
			want: []string{"404 Not Found", "there is no change API at this address"}},
		{name: "list 5xx is retried", list: true, wantKind: apiclient.KindServer, wantHits: 4,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, 500, `{"error":"internal error"}`) }
			},
			want: []string{"listing changes: ", "tried 4 times"}},
		{name: "list refused", list: true, wantKind: apiclient.KindRejected, wantHits: 1,
			handler: func(int32) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					jsonAnswer(w, 400, `{"error":"limit is a number from 1 to 1000","field":"limit"}`)
				}
			},
			want: []string{"(field limit)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(h.wrap(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+secret {
					t.Errorf("Authorization %q", r.Header.Get("Authorization"))
				}
				tc.handler(h.n.Load())(w, r)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, secret)
			var err error
			if tc.list {
				_, err = c.Changes(context.Background(), apiclient.Query{Limit: 5})
			} else {
				var got apiclient.Logged
				got, err = c.LogChange(context.Background(), tc.change)
				if err == nil && got.Change.ID != 7 {
					t.Errorf("logged %+v, want change 7", got)
				}
			}
			if n := h.n.Load(); n != tc.wantHits {
				t.Errorf("server saw %d requests, want %d", n, tc.wantHits)
			}
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatalf("error %v, want success", err)
				}
				return
			}
			var e *apiclient.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *apiclient.Error", err, err)
			}
			if e.Kind != tc.wantKind || e.MaybeStored != tc.maybe {
				t.Errorf("kind %d maybe stored %v, want %d %v: %v", e.Kind, e.MaybeStored, tc.wantKind, tc.maybe, err)
			}
			msg := err.Error()
			for _, w := range append(tc.want, srv.URL) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q holds the token", msg)
			}
		})
	}
}

func TestUnreachableIsRetriedAndNamesTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	for _, ch := range []apiclient.Change{
		{Systems: []string{"web"}, Person: "ci", Summary: "x"}, // never reached the server: safe to resend
		{Systems: []string{"web"}, Person: "ci", Summary: "x", ExternalID: "run-1"},
	} {
		c := newClient(t, url, secret)
		_, err = c.LogChange(context.Background(), ch)
		var e *apiclient.Error
		if !errors.As(err, &e) || e.Kind != apiclient.KindUnreachable || e.Attempts != 4 || e.MaybeStored {
			t.Fatalf("error %v, want unreachable after 4 attempts, surely not stored", err)
		}
		if want := "logging the change: cannot reach sitrep at " + url + ": connection refused; tried 4 times"; err.Error() != want {
			t.Errorf("error %q\nwant      %q", err, want)
		}
	}
}

func TestNewRefusesBadAddresses(t *testing.T) {
	for _, bad := range []string{"", "sitrep.example.com", "ftp://x", "http://", "https://user:pw@sitrep.example.com", "http://x/?a=b"} {
		if _, err := apiclient.New(bad, secret); err == nil || !strings.Contains(err.Error(), "https://sitrep.example.com") {
			t.Errorf("New(%q): %v, want a refusal showing the form", bad, err)
		}
	}
	if _, err := apiclient.New("http://127.0.0.1:8080", " "); err == nil {
		t.Error("New with no token: no error")
	}
	c, err := apiclient.New("https://ops.example.com/sitrep/", secret)
	if err != nil || c.URL() != "https://ops.example.com/sitrep" {
		t.Errorf("path prefix: %v %v", c, err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	var h hits
	srv := httptest.NewServer(h.wrap(func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, 503, `{}`) }))
	defer srv.Close()
	c := newClient(t, srv.URL, secret)
	c.Backoff = []time.Duration{time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for h.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := c.Changes(ctx, apiclient.Query{}); err == nil {
		t.Fatal("no error")
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("%d requests, want 1: a cancelled wait sends nothing more", n)
	}
}

// TestLoggedSaysWhetherCreated reads each way the API tells a first write
// (201) from a change it held already (200, or "added": 0, or a change's
// "created": false), and reports the stored change.
func TestLoggedSaysWhetherCreated(t *testing.T) {
	const storedChange = `{"id":7,"systems":["web"],"person":"ci","summary":"stored text","occurred_at":"2026-11-24T09:30:00Z","external_id":"run-1"}`
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{201, `{"added":1,"changes":[` + storedChange + `]}`, true},
		{200, `{"added":0,"changes":[` + storedChange + `]}`, false},
		{200, `{"changes":[` + storedChange + `]}`, false},
		{201, `{"added":0,"changes":[` + storedChange + `]}`, false},
		{201, `{"changes":[` + strings.Replace(storedChange, `{`, `{"created":false,`, 1) + `]}`, false},
		{200, `{"changes":[` + strings.Replace(storedChange, `{`, `{"created":true,`, 1) + `]}`, true},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { jsonAnswer(w, tc.status, tc.body) }))
		got, err := newClient(t, srv.URL, secret).LogChange(context.Background(),
			apiclient.Change{Systems: []string{"web"}, Person: "ci", Summary: "sent text", ExternalID: "run-1"})
		srv.Close()
		if err != nil || got.Created != tc.want || got.Change.ID != 7 || got.Change.Summary != "stored text" ||
			!got.Change.OccurredAt.Equal(time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)) {
			t.Errorf("%d %s: %+v %v, want created=%v and the stored change", tc.status, tc.body, got, err, tc.want)
		}
	}
}

// BenchmarkLogChange logs changes through the real API into a real SQLite
// store over loopback TCP: what one `sitrep change add` costs once the
// process is up.
func BenchmarkLogChange(b *testing.B) {
	srv, _ := startAPI(b)
	c, err := apiclient.New(srv.URL, secret)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := c.LogChange(ctx, apiclient.Change{Systems: []string{"web"}, Person: "ci", Summary: "deployed",
			ExternalID: "bench-" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
