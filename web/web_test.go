package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

const token = "s3cret-token"

// legacy is the token SITREP_API_TOKEN sets.
var legacy = web.Token{Name: "api", Secret: token}

// newServer serves the API over a new SQLite database, accepting tokens.
func newServer(t *testing.T, tokens ...web.Token) (*httptest.Server, *storage.Store) {
	t.Helper()
	return newServerOn(t, "sqlite:"+filepath.Join(t.TempDir(), "web.db"), tokens...)
}

// newServerOn serves the API over the database at url, migrated.
func newServerOn(t *testing.T, url string, tokens ...web.Token) (*httptest.Server, *storage.Store) {
	t.Helper()
	store, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(web.NewHandler(web.Deps{
		Changes: incident.NewChangeLog(store, clock.Real{}), Ping: store.Ping, Tokens: tokens,
	}))
	t.Cleanup(srv.Close)
	return srv, store
}

// call makes a request and decodes the JSON answer.
func call(t *testing.T, srv *httptest.Server, method, path, auth string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	} else {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

func count(t *testing.T, store *storage.Store) int {
	t.Helper()
	all, err := store.Changes(context.Background(), incident.ChangeQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

func TestPostChanges(t *testing.T) {
	t.Parallel()
	srv, store := newServer(t, legacy)
	bearer := "Bearer " + token
	one := []byte(`{"system":"web","person":"ci","summary":"deployed v2.14","reason":"release","kind":"deploy","link":"https://ci/9","external_id":"run-9","occurred_at":"2026-11-24T09:00:00Z"}`)

	tests := []struct {
		name, auth string
		body       []byte
		status     int
		field      string
	}{
		{"no token", "", one, 401, ""},
		{"wrong token", "Bearer nope", one, 401, ""},
		{"not bearer", token, one, 401, ""},
		{"bad JSON", bearer, []byte(`{"system":`), 400, ""},
		{"not an object", bearer, []byte(`"hello"`), 400, ""},
		{"unknown field", bearer, []byte(`{"system":"web","person":"ci","summary":"x","colour":"red"}`), 400, "colour"},
		{"missing system", bearer, []byte(`{"person":"ci","summary":"x"}`), 422, "systems"},
		{"missing summary", bearer, []byte(`{"system":"web","person":"ci"}`), 422, "summary"},
		{"wrong type", bearer, []byte(`{"systems":"web","person":"ci","summary":"x"}`), 400, "systems"},
		{"bad kind in a batch", bearer, []byte(`[{"system":"web","person":"ci","summary":"a"},{"system":"db","person":"ci","summary":"b","kind":"hotfix"}]`), 422, "kind"},
		{"too big", bearer, bytes.Repeat([]byte(" "), web.MaxBody+1), 413, ""},
	}
	for _, tc := range tests {
		status, body := call(t, srv, "POST", "/api/v1/changes", tc.auth, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, body)
		}
		if tc.field != "" && body["field"] != tc.field {
			t.Errorf("%s: field %v, want %q (%v)", tc.name, body["field"], tc.field, body)
		}
		if body["error"] == nil || body["error"] == "" {
			t.Errorf("%s: no error message in %v", tc.name, body)
		}
	}
	if n := count(t, store); n != 0 {
		t.Fatalf("refused requests stored %d changes (a bad batch must store nothing)", n)
	}

	status, body := call(t, srv, "POST", "/api/v1/changes", bearer, one)
	if status != 201 || body["added"] != float64(1) {
		t.Fatalf("post one = %d %v", status, body)
	}
	// The same external ID again is a no-op.
	if status, body := call(t, srv, "POST", "/api/v1/changes", bearer, one); status != 200 || body["added"] != float64(0) {
		t.Errorf("re-post = %d %v, want 200 with 0 added", status, body)
	}
	var batch []string
	for i := range 1000 {
		batch = append(batch, fmt.Sprintf(`{"systems":["db","cache"],"person":"ci","summary":"migration %d"}`, i))
	}
	if status, body := call(t, srv, "POST", "/api/v1/changes", bearer, []byte("["+strings.Join(batch, ",")+"]")); status != 201 || body["added"] != float64(1000) {
		t.Errorf("batch of 1000 = %d %v", status, body["added"])
	}
	batch = append(batch, `{"system":"db","person":"ci","summary":"one too many"}`)
	if status, body := call(t, srv, "POST", "/api/v1/changes", bearer, []byte("["+strings.Join(batch, ",")+"]")); status != 422 {
		t.Errorf("batch of 1001 = %d %v", status, body)
	}
	if n := count(t, store); n != 1001 {
		t.Errorf("store holds %d changes, want 1001", n)
	}

	status, body = call(t, srv, "GET", "/api/v1/changes?system=web&since=2026-11-24T00:00:00Z&limit=5", bearer, nil)
	list, _ := body["changes"].([]any)
	if status != 200 || len(list) != 1 || list[0].(map[string]any)["summary"] != "deployed v2.14" || list[0].(map[string]any)["source"] != "api" {
		t.Errorf("GET web = %d %v", status, body)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/changes?limit=0", bearer, nil); status != 400 {
		t.Errorf("limit=0 = %d, want 400", status)
	}
	if status, _ := call(t, srv, "GET", "/api/v1/changes", "", nil); status != 401 {
		t.Errorf("GET without a token = %d, want 401", status)
	}
}

func TestNoTokenRefusesTheAPI(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	status, body := call(t, srv, "POST", "/api/v1/changes", "Bearer anything", []byte(`{}`))
	if status != 403 || !strings.Contains(fmt.Sprint(body["error"]), "SITREP_API_TOKEN") {
		t.Errorf("without a token: %d %v", status, body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	srv, store := newServer(t, legacy)
	if status, body := call(t, srv, "GET", "/healthz", "", nil); status != 200 || body["status"] != "ok" {
		t.Errorf("healthz = %d %v", status, body)
	}
	call(t, srv, "POST", "/api/v1/changes", "Bearer "+token, []byte(`{"system":"web","person":"ci","summary":"x"}`))
	_, body := call(t, srv, "GET", "/metrics", "", nil)
	text := fmt.Sprint(body["raw"])
	for _, want := range []string{"sitrep_changes_logged_total 1", `sitrep_http_requests_total{code="201",route="post_changes"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	store.Close()
	if status, _ := call(t, srv, "GET", "/healthz", "", nil); status != 503 {
		t.Errorf("healthz with the database closed = %d, want 503", status)
	}
}

// TestPostChangesCleansText: control, bidi-override and zero-width
// characters sent to the API are not stored.
func TestPostChangesCleansText(t *testing.T) {
	t.Parallel()
	srv, store := newServer(t, legacy)
	body := []byte(`{"system":"web\u200b","person":"ci\u202e","summary":"deployed\u0000 v2\u001b[0m \u2066x\u2069","reason":"re\ufefflease","external_id":"run\u200e-9"}`)
	if status, out := call(t, srv, "POST", "/api/v1/changes", "Bearer "+token, body); status/100 != 2 {
		t.Fatalf("POST answered %d %v", status, out)
	}
	all, err := store.Changes(context.Background(), incident.ChangeQuery{Limit: 10})
	if err != nil || len(all) != 1 {
		t.Fatalf("stored %+v, %v", all, err)
	}
	c := all[0]
	if c.Systems[0] != "web" || c.Person != "ci" || c.Summary != "deployed v2[0m x" || c.Reason != "release" || c.ExternalID != "run-9" {
		t.Errorf("stored %+q", []string{c.Systems[0], c.Person, c.Summary, c.Reason, c.ExternalID})
	}
}
