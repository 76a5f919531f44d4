package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// lockedBuffer is a log sink the server's goroutines write while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// internalText matches what an HTTP caller must never read: drivers' and
// Go's words, addresses, file paths.
var internalText = regexp.MustCompile(`(?i)sql:|database is closed|pq:|sqlite|dial tcp|connection refused|Go struct|changeJSON|\.db\b|/tmp/|2006-01-02|goroutine|runtime error`)

// rawCall makes a request and returns the status, the X-Request-Id header
// and the body.
func rawCall(t *testing.T, srv *httptest.Server, method, path, auth string, body []byte) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set(web.RequestIDHeader, "caller-chosen")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get(web.RequestIDHeader), string(raw)
}

// TestInternalErrorsSayNothing breaks the database (and, for a panic, the
// handler's wiring) under the HTTP API and checks that callers read
// "internal error" and a request ID, and the log holds the detail under
// that ID; a mistake in the request still says what is wrong.
func TestInternalErrorsSayNothing(t *testing.T) {
	t.Parallel()
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var logged lockedBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	srv := httptest.NewServer(web.NewHandler(web.Deps{
		Changes: incident.NewChangeLog(store, clock.Real{}), Ping: store.Ping, Tokens: []web.Token{legacy}, Log: log,
	}))
	t.Cleanup(srv.Close)
	// Changes left out of the wiring: the handler panics on a nil change log.
	broken := httptest.NewServer(web.NewHandler(web.Deps{Ping: store.Ping, Tokens: []web.Token{legacy}, Log: log}))
	t.Cleanup(broken.Close)
	store.Close()
	bearer := "Bearer " + token
	change := []byte(`{"system":"web","person":"ci","summary":"deployed"}`)

	tests := []struct {
		name       string
		srv        *httptest.Server
		method     string
		path, auth string
		body       []byte
		status     int
		want       string // in the body
		wantLog    string // in the log, next to the request ID
	}{
		{"post, database closed", srv, "POST", "/api/v1/changes", bearer, change, 500, `"error":"internal error: nothing was stored"`, "database is closed"},
		{"get, database closed", srv, "GET", "/api/v1/changes?system=web", bearer, nil, 500, `"error":"internal error"`, "database is closed"},
		{"health, unauthenticated, database closed", srv, "GET", "/healthz", "", nil, 503, `{"status":"unavailable"}`, "database is closed"},
		{"handler panics", broken, "POST", "/api/v1/changes", bearer, change, 500, `"error":"internal error"`, "panicked"},
		{"wrong JSON type", srv, "POST", "/api/v1/changes", bearer, []byte(`{"systems":"web","person":"ci","summary":"x"}`), 400,
			`"error":"systems must be a list of strings, not a JSON string","field":"systems"`, ""},
		{"time that is not RFC 3339", srv, "POST", "/api/v1/changes", bearer, []byte(`{"system":"web","person":"ci","summary":"x","occurred_at":"yesterday"}`), 400,
			`"field":"occurred_at"`, ""},
		{"time that is not a string", srv, "POST", "/api/v1/changes", bearer, []byte(`{"system":"web","person":"ci","summary":"x","occurred_at":5}`), 400,
			`"field":"occurred_at"`, ""},
		{"truncated JSON", srv, "POST", "/api/v1/changes", bearer, []byte(`{"system":"web"`), 400, `"error":"invalid JSON: the body ends before its value does"`, ""},
		{"validation keeps its words", srv, "POST", "/api/v1/changes", bearer, []byte(`{"system":"web","person":"ci"}`), 422, `say what was done`, ""},
		{"unauthenticated", srv, "POST", "/api/v1/changes", "", change, 401, `SITREP_API_TOKEN`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, id, body := rawCall(t, tc.srv, tc.method, tc.path, tc.auth, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("body %s, want it to hold %s", body, tc.want)
			}
			if bad := internalText.FindString(body); bad != "" {
				t.Errorf("body %s shows %q", body, bad)
			}
			if id == "" || id == "caller-chosen" {
				t.Errorf("X-Request-Id = %q, want sitrep's own", id)
			}
			if status < 500 {
				return
			}
			// /healthz says only "unavailable"; its X-Request-Id names the
			// log line.
			if tc.path != "/healthz" && !strings.Contains(body, fmt.Sprintf(`"request_id":%q`, id)) {
				t.Errorf("body %s does not name request %s", body, id)
			}
			var line string
			for _, l := range strings.Split(logged.String(), "\n") {
				if strings.Contains(l, "request_id="+id) {
					line = l
				}
			}
			if !strings.Contains(line, tc.wantLog) {
				t.Errorf("the log line of request %s is %q, want it to hold %q", id, line, tc.wantLog)
			}
		})
	}
}
