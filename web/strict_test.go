package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// serverNow is the server's clock in the tests that need one.
var serverNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// databases are the databases the API's tests run on: SQLite always,
// PostgreSQL when SITREP_TEST_DATABASE_URL is set.
var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "web.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// newClockedServer serves the API over the database at url with the
// server's clock at serverNow.
func newClockedServer(t *testing.T, url string) (*httptest.Server, *storage.Store) {
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
		Changes: incident.NewChangeLog(store, clock.NewFake(serverNow)), Ping: store.Ping,
		Tokens: []web.Token{legacy}, Now: func() time.Time { return serverNow },
	}))
	t.Cleanup(srv.Close)
	return srv, store
}

// postResult is a POST's answer.
type postResult struct {
	Added   int           `json:"added"`
	Changes []changeReply `json:"changes"`
	Error   string        `json:"error"`
	Field   string        `json:"field"`
	Index   *int          `json:"index"`
}

// changeReply is a change in an answer.
type changeReply struct {
	ID         int64     `json:"id"`
	OccurredAt time.Time `json:"occurred_at"`
	Systems    []string  `json:"systems"`
	Summary    string    `json:"summary"`
	ExternalID string    `json:"external_id"`
	LoggedAt   time.Time `json:"logged_at"`
	Created    *bool     `json:"created"`
}

// post sends body to POST /api/v1/changes with the legacy token.
func post(t *testing.T, srv *httptest.Server, body string) (int, postResult) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/changes", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out postResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: answer %s: %v", body, raw, err)
	}
	return resp.StatusCode, out
}

// created lists each answered change's created flag.
func created(t *testing.T, r postResult) []bool {
	t.Helper()
	out := make([]bool, len(r.Changes))
	for i, c := range r.Changes {
		if c.Created == nil {
			t.Fatalf("change %d of the answer has no created: %+v", i, r)
		}
		out[i] = *c.Created
	}
	return out
}

// TestRetriesAnswerTheStoredChange sends a change with an external_id, then
// the same external_id again with other values (a retry whose pipeline
// re-read its clock), alone and in batches: the first write answers 201, a
// retry 200 with the change as first stored (its ID, its occurred_at, its
// summary), and a batch mixing both 201 with "created" per change. The
// store is read back to show no retry changed or added anything.
func TestRetriesAnswerTheStoredChange(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			srv, store := newClockedServer(t, db.url(t))
			first := `{"system":"web","person":"ci","summary":"deployed v2.14","external_id":"run-9","occurred_at":"2026-11-24T11:00:00.123456789+02:00"}`
			status, r := post(t, srv, first)
			if status != http.StatusCreated || r.Added != 1 || len(r.Changes) != 1 || !*r.Changes[0].Created {
				t.Fatalf("first POST = %d %+v, want 201 with the change created", status, r)
			}
			stored := r.Changes[0]
			// The time as stored: UTC, to the microsecond.
			if !stored.OccurredAt.Equal(time.Date(2026, 11, 24, 9, 0, 0, 123456000, time.UTC)) || stored.ID == 0 || !stored.LoggedAt.Equal(serverNow) {
				t.Errorf("first POST answered %+v", stored)
			}

			retry := `{"system":"db","person":"ci","summary":"deployed v2.14 (retried)","external_id":"run-9","occurred_at":"2026-11-24T09:05:00Z"}`
			status, r = post(t, srv, retry)
			if status != http.StatusOK || r.Added != 0 || len(r.Changes) != 1 {
				t.Fatalf("retry = %d %+v, want 200 with nothing added", status, r)
			}
			got := r.Changes[0]
			if got.ID != stored.ID || got.OccurredAt.String() != stored.OccurredAt.String() || got.LoggedAt.String() != stored.LoggedAt.String() || got.Summary != "deployed v2.14" ||
				fmt.Sprint(got.Systems) != "[web]" || *got.Created {
				t.Errorf("retry answered %+v, want the stored change %+v with created false", got, stored)
			}

			// The stored one under a spelling of its external_id that is the
			// same once cleaned, as it is stored.
			status, r = post(t, srv, `{"system":"web","person":"ci","summary":"x","external_id":" run-9\u200b "}`)
			if status != http.StatusOK || len(r.Changes) != 1 || r.Changes[0].ID != stored.ID || r.Changes[0].ExternalID != "run-9" {
				t.Errorf("retry spelt otherwise = %d %+v, want 200 with the stored change", status, r)
			}

			// A batch: the stored one and a new one.
			status, r = post(t, srv, `[`+retry+`,{"system":"web","person":"ci","summary":"flag on","external_id":"run-10"}]`)
			if status != http.StatusCreated || r.Added != 1 || fmt.Sprint(created(t, r)) != "[false true]" {
				t.Fatalf("mixed batch = %d %+v, want 201, 1 added, created [false true]", status, r)
			}
			if r.Changes[0].ID != stored.ID || r.Changes[0].Summary != "deployed v2.14" ||
				r.Changes[1].Summary != "flag on" || r.Changes[1].ID == stored.ID {
				t.Errorf("mixed batch answered %+v", r.Changes)
			}

			// All stored already: 200.
			status, r = post(t, srv, `[`+retry+`,{"system":"web","person":"ci","summary":"other","external_id":"run-10"}]`)
			if status != http.StatusOK || r.Added != 0 || fmt.Sprint(created(t, r)) != "[false false]" || r.Changes[1].Summary != "flag on" {
				t.Errorf("batch stored already = %d %+v, want 200 with both as stored", status, r)
			}

			all, err := store.Changes(context.Background(), incident.ChangeQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Fatalf("the store holds %d changes, want 2: %+v", len(all), all)
			}
			for _, c := range all {
				if c.ExternalID == "run-9" && (c.Summary != "deployed v2.14" || !c.OccurredAt.Equal(stored.OccurredAt)) {
					t.Errorf("a retry changed the stored change: %+v", c)
				}
			}
		})
	}
}

// TestPostRefusals sends what the API refuses before storing anything:
// occurred_at out of bounds, too many systems, an external_id repeated in
// a batch. Each answer is 400, names the field and the change, and says
// the rule; the store holds nothing after.
func TestPostRefusals(t *testing.T) {
	t.Parallel()
	srv, store := newClockedServer(t, "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	change := func(extra string) string {
		return `{"system":"web","person":"ci","summary":"deployed"` + extra + `}`
	}
	systems := func(n int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("%q", fmt.Sprintf("s%d", i))
		}
		return `,"systems":[` + strings.Join(names, ",") + `]`
	}
	tests := []struct {
		name, body string
		field      string
		index      int
		want       []string // in the error
	}{
		{"a day and a second ahead", change(`,"occurred_at":"2026-11-25T12:00:01Z"`), "occurred_at", 0,
			[]string{"occurred_at is 2026-11-25T12:00:01Z", "more than 24 h ahead", "2026-11-24T12:00:00Z", "leave occurred_at out"}},
		{"in 2030", change(`,"occurred_at":"2030-01-01T00:00:00Z"`), "occurred_at", 0, []string{"24 h"}},
		{"in 9999", change(`,"occurred_at":"9999-12-31T23:59:59Z"`), "occurred_at", 0, []string{"24 h"}},
		{"ahead in another zone", change(`,"occurred_at":"2026-11-26T01:00:00+10:00"`), "occurred_at", 0, []string{"24 h"}},
		{"the zero time", change(`,"occurred_at":"0001-01-01T00:00:00Z"`), "occurred_at", 0,
			[]string{"occurred_at is 0001-01-01T00:00:00Z, before 2000", "leave occurred_at out to mean now"}},
		{"Unix time 0", change(`,"occurred_at":"1970-01-01T00:00:00Z"`), "occurred_at", 0, []string{"before 2000"}},
		{"in a batch", `[` + change(``) + `,` + change(`,"occurred_at":"2031-06-01T00:00:00Z"`) + `]`, "occurred_at", 1,
			[]string{"changes[1].occurred_at is 2031-06-01T00:00:00Z"}},
		{"11 systems", change(systems(11)), "systems", 0, []string{"systems names more than 10 systems", "at most 10"}},
		{"11 systems, all one", `{"systems":["web","web","web","web","web","web","web","web","web","web","web"],"person":"ci","summary":"x"}`,
			"systems", 0, []string{"names more than 10 systems", "at most 10, each once"}},
		{"system and 10 systems", change(systems(10)), "systems", 0, []string{"names more than 10 systems"}},
		{"100000 systems", change(systems(100000)), "systems", 0, []string{"names more than 10 systems"}},
		{"external_id repeated", `[` + change(`,"external_id":"a"`) + `,` + change(`,"external_id":"b"`) + `,` +
			change(``) + `,` + change(`,"external_id":"a"`) + `]`, "external_id", 3,
			[]string{`changes[3].external_id repeats changes[0] ("a")`, "its own external_id"}},
		{"external_id repeated once cleaned", `[` + change(`,"external_id":"run-9"`) + `,` + change(`,"external_id":"run\u200b-9 "`) + `]`,
			"external_id", 1, []string{"changes[1].external_id repeats changes[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, r := post(t, srv, tc.body)
			if status != http.StatusBadRequest || r.Field != tc.field || r.Index == nil || *r.Index != tc.index {
				t.Errorf("= %d field %q index %v (%s), want 400 naming %s of change %d", status, r.Field, r.Index, r.Error, tc.field, tc.index)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Error, w) {
					t.Errorf("error %q, want it to say %q", r.Error, w)
				}
			}
		})
	}
	for body, want := range map[string]string{
		`{"systems":["web",5],"person":"ci","summary":"x"}`:      "systems must be a list of strings, not a JSON array holding a number",
		`{"systems":"web","person":"ci","summary":"x"}`:          "systems must be a list of strings, not a JSON string",
		`[{"systems":{"a":1},"person":"ci","summary":"x"}]`:      "systems must be a list of strings, not a JSON object",
		`{"systems":["web",["db"]],"person":"ci","summary":"x"}`: "systems must be a list of strings, not a JSON array holding an array",
	} {
		if status, r := post(t, srv, body); status != http.StatusBadRequest || r.Field != "systems" || r.Error != want {
			t.Errorf("%s = %d %q (field %q), want 400 %q", body, status, r.Error, r.Field, want)
		}
	}
	if n := count(t, store); n != 0 {
		t.Fatalf("refused requests stored %d changes", n)
	}

	accepted := []struct {
		name, extra string
		at          time.Time
	}{
		{"exactly 24 h ahead", `,"occurred_at":"2026-11-25T12:00:00Z","summary":"a"`, serverNow.Add(24 * time.Hour)},
		{"in 2000", `,"occurred_at":"2000-01-01T00:00:00Z","summary":"b"`, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"no occurred_at: now", `,"summary":"c"`, serverNow},
		{"null occurred_at: now", `,"occurred_at":null,"summary":"d"`, serverNow},
	}
	for _, tc := range accepted {
		body := `{"system":"web","person":"ci"` + tc.extra + `}`
		status, r := post(t, srv, body)
		if status != http.StatusCreated || len(r.Changes) != 1 || !r.Changes[0].OccurredAt.Equal(tc.at) {
			t.Errorf("%s: = %d %+v, want 201 at %s", tc.name, status, r, tc.at)
		}
	}
	status, r := post(t, srv, change(systems(9)))
	if status != http.StatusCreated || len(r.Changes) != 1 || len(r.Changes[0].Systems) != 10 {
		t.Errorf("10 systems = %d %+v, want 201", status, r)
	}
	status, r = post(t, srv, `{"systems":["web","WEB","db"],"person":"ci","summary":"x"}`)
	if status != http.StatusCreated || fmt.Sprint(r.Changes[0].Systems) != "[web db]" {
		t.Errorf("systems repeated in other case = %d %+v, want 201 with [web db]", status, r)
	}
}

// TestGetSince lists changes since durations as people type them and RFC
// 3339 times, against a server clock at serverNow.
func TestGetSince(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t, "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	for _, ago := range []time.Duration{time.Hour, 36 * time.Hour, 6 * 24 * time.Hour, 8 * 24 * time.Hour, 20 * 24 * time.Hour} {
		at := serverNow.Add(-ago).Format(time.RFC3339)
		if status, r := post(t, srv, `{"system":"web","person":"ci","summary":"`+at+`","occurred_at":"`+at+`"}`); status != http.StatusCreated {
			t.Fatalf("seeding: %d %+v", status, r)
		}
	}
	tests := []struct {
		query string
		want  int // changes listed
		field string
	}{
		{"since=90m", 1, ""},
		{"since=24h", 1, ""},
		{"since=1d12h", 2, ""},
		{"since=2d", 2, ""},
		{"since=7d", 3, ""},
		{"since=1w", 3, ""},
		{"since=2w", 4, ""},
		{"since=7D", 3, ""},
		{"since=2026-11-17T00:00:00Z", 3, ""},
		{"since=30d&until=7d", 2, ""},
		{"since=yesterday", 0, "since"},
		{"since=-7d", 0, "since"},
		{"until=7", 0, "until"},
		{"system=" + strings.Repeat("web,", 10) + "db", 0, "system"},
		{"system=web,WEB,web", 5, ""},
	}
	for _, tc := range tests {
		status, body := call(t, srv, "GET", "/api/v1/changes?"+tc.query, "Bearer "+token, nil)
		if tc.field != "" {
			msg := fmt.Sprint(body["error"])
			if status != http.StatusBadRequest || body["field"] != tc.field || !strings.Contains(msg, tc.field) {
				t.Errorf("%s: = %d %v, want 400 naming %s", tc.query, status, body, tc.field)
			}
			if tc.field != "system" && !strings.Contains(msg, "7d") {
				t.Errorf("%s: error %q does not show the forms read", tc.query, msg)
			}
			continue
		}
		list, _ := body["changes"].([]any)
		if status != http.StatusOK || len(list) != tc.want {
			t.Errorf("%s: = %d with %d changes, want %d: %v", tc.query, status, len(list), tc.want, body)
		}
	}
}

// TestHealthSaysOnlyUnavailable fails /healthz's database check with an
// error that holds a user, a password, a host, a port and a database name:
// the caller reads {"status":"unavailable"} and nothing else, and the log
// holds the error without the password.
func TestHealthSaysOnlyUnavailable(t *testing.T) {
	t.Parallel()
	secrets := []string{"alice", "hunter2", "db.internal.example", "5433", "prod_sitrep", "s3cr3t-kv"}
	var logged lockedBuffer
	srv := httptest.NewServer(web.NewHandler(web.Deps{
		Ping: func(context.Context) error {
			return fmt.Errorf("reaching database postgres://alice:hunter2@db.internal.example:5433/prod_sitrep: %w",
				fmt.Errorf(`pq: password authentication failed for user "alice" (host=db.internal.example port=5433 dbname=prod_sitrep password=s3cr3t-kv)`))
		},
		Log: slog.New(slog.NewTextHandler(&logged, nil)),
	}))
	t.Cleanup(srv.Close)
	status, id, body := rawCall(t, srv, "GET", "/healthz", "", nil)
	if status != http.StatusServiceUnavailable || strings.TrimSpace(body) != `{"status":"unavailable"}` {
		t.Errorf("healthz = %d %s, want 503 {\"status\":\"unavailable\"}", status, body)
	}
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("healthz answered %s, which shows %q", body, s)
		}
	}
	log := logged.String()
	if !strings.Contains(log, "request_id="+id) || !strings.Contains(log, "password authentication failed") {
		t.Errorf("the log does not hold the error under request %s: %s", id, log)
	}
	for _, s := range []string{"hunter2", "s3cr3t-kv"} {
		if strings.Contains(log, s) {
			t.Errorf("the log shows the password %q: %s", s, log)
		}
	}

	ok := httptest.NewServer(web.NewHandler(web.Deps{Ping: func(context.Context) error { return nil }}))
	t.Cleanup(ok.Close)
	if status, _, body := rawCall(t, ok, "GET", "/healthz", "", nil); status != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("healthz = %d %s, want 200 {\"status\":\"ok\"}", status, body)
	}
}
