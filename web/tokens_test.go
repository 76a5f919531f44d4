package web_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// TestNamedTokens posts through a real server with each of several tokens
// and reads back, from the database, the token's name as each change's
// source; a wrong or missing token is refused and stores nothing. It runs
// on SQLite, and on PostgreSQL when SITREP_TEST_DATABASE_URL is set.
func TestNamedTokens(t *testing.T) {
	t.Parallel()
	tokens := []web.Token{
		{Name: "ci", Secret: "ci-7f3a9c0e5b2d4a61"},
		{Name: "deploy-bot.v2", Secret: "deploy-0c1d2e3f4a5b"},
		legacy, // SITREP_API_TOKEN's, named api
	}
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "web.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			srv, store := newServerOn(t, db.url(t), tokens...)

			refused := []struct{ name, auth string }{
				{"no header", ""},
				{"wrong token", "Bearer nope"},
				{"a token's prefix", "Bearer " + tokens[0].Secret[:10]},
				{"a token and more", "Bearer " + tokens[0].Secret + "x"},
				{"no token after the scheme", "Bearer "},
				{"another scheme", "Basic " + tokens[0].Secret},
				{"no scheme", tokens[0].Secret},
				{"bearer glued to the token", "Bearer" + tokens[0].Secret},
			}
			for _, tc := range refused {
				t.Run("refused/"+tc.name, func(t *testing.T) {
					status, body := call(t, srv, "POST", "/api/v1/changes", tc.auth, []byte(`{"system":"web","person":"ci","summary":"refused"}`))
					msg := fmt.Sprint(body["error"])
					if status != http.StatusUnauthorized || !strings.Contains(msg, "Authorization: Bearer <token>") {
						t.Errorf("status %d, error %q; want 401 saying what to send", status, msg)
					}
					for _, tok := range tokens {
						if strings.Contains(msg, tok.Secret[:6]) {
							t.Errorf("the error %q shows a token", msg)
						}
					}
				})
			}
			if n := count(t, store); n != 0 {
				t.Fatalf("refused requests stored %d changes", n)
			}

			accepted := []struct {
				name, auth string
				source     incident.ChangeSource
			}{
				{"ci", "Bearer " + tokens[0].Secret, "api:ci"},
				{"deploy-bot", "Bearer " + tokens[1].Secret, "api:deploy-bot.v2"},
				{"SITREP_API_TOKEN", "Bearer " + token, incident.SourceAPI},
				{"lower-case scheme", "bearer " + tokens[0].Secret, "api:ci"},
				{"upper-case scheme, extra spaces", "  BEARER   " + tokens[1].Secret + " ", "api:deploy-bot.v2"},
			}
			for i, tc := range accepted {
				summary := fmt.Sprintf("change %d", i)
				status, body := call(t, srv, "POST", "/api/v1/changes", tc.auth, []byte(`{"system":"web","person":"ci","summary":"`+summary+`"}`))
				list, _ := body["changes"].([]any)
				if status != http.StatusCreated || len(list) != 1 || list[0].(map[string]any)["source"] != string(tc.source) {
					t.Errorf("%s: POST = %d %v, want 201 with source %s", tc.name, status, body, tc.source)
				}
				// Read back from the database, not the answer.
				if got := stored(t, store)[summary]; got != tc.source {
					t.Errorf("%s: %q stored with source %q, want %s", tc.name, summary, got, tc.source)
				}
			}
			if n := count(t, store); n != len(accepted) {
				t.Errorf("the store holds %d changes, want %d", n, len(accepted))
			}
			// Every token reads the log too, sources included.
			status, body := call(t, srv, "GET", "/api/v1/changes?since=1h", "bearer "+tokens[1].Secret, nil)
			list, _ := body["changes"].([]any)
			sources := map[any]int{}
			for _, c := range list {
				sources[c.(map[string]any)["source"]]++
			}
			if status != http.StatusOK || sources["api:ci"] != 2 || sources["api:deploy-bot.v2"] != 2 || sources["api"] != 1 {
				t.Errorf("GET = %d, sources %v", status, sources)
			}
		})
	}
}

// stored returns the source of every stored change, by summary.
func stored(t *testing.T, store *storage.Store) map[string]incident.ChangeSource {
	t.Helper()
	all, err := store.Changes(context.Background(), incident.ChangeQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]incident.ChangeSource{}
	for _, c := range all {
		out[c.Summary] = c.Source
	}
	return out
}
