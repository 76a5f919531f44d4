package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
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

const testAPIToken = "pipeline-secret-0123"

// fastRetries makes the API client's retries instant for one test.
func fastRetries(t *testing.T) {
	t.Helper()
	old := apiRetryDelays
	apiRetryDelays = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { apiRetryDelays = old })
}

// startChangeAPI serves sitrep's change API (web.NewHandler) over a real
// SQLite store on a real TCP port, accepting testAPIToken as the token
// named ci.
func startChangeAPI(t *testing.T) (url string, store *storage.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewHandler(web.Deps{Changes: incident.NewChangeLog(store, clock.Real{}), Ping: store.Ping,
		Tokens: []web.Token{{Name: "ci", Secret: testAPIToken}}}))
	t.Cleanup(srv.Close)
	return srv.URL, store
}

// emptyDir makes a fresh working directory with no sitrep.db and no
// sitrep.yaml, and returns it.
func emptyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s was created", path)
	}
}

func TestChangeThroughTheAPI(t *testing.T) {
	url, store := startChangeAPI(t)
	dir := emptyDir(t)
	env := map[string]string{"SITREP_URL": url, "SITREP_API_TOKEN": testAPIToken, "GITHUB_ACTOR": "octocat"}

	out, stderr, err := runCLI(t, env, "change", "add", "--system", "web", "--kind", "deploy", "--id", "run-9",
		"--at", "2026-11-24T09:30:00Z", "deployed v2.14.0")
	if err != nil || out != "logged change 1 to web at 2026-11-24 09:30 UTC: deployed v2.14.0\n" {
		t.Fatalf("change add: %q %q %v", out, stderr, err)
	}
	// A retry of the pipeline logs nothing. (What it prints after the ID
	// is what the server answers: the stored change, once the API answers
	// a retry with it, as TestLoggedSaysWhetherCreated checks.)
	out, stderr, err = runCLI(t, env, "change", "add", "--system", "web", "--id", "run-9", "deployed v2.14.0")
	if err != nil || !strings.HasPrefix(out, "already logged as change 1 (--id run-9) to web at ") || !strings.HasSuffix(out, ": deployed v2.14.0; nothing added\n") {
		t.Fatalf("change add again: %q %q %v", out, stderr, err)
	}
	out, stderr, err = runCLI(t, env, "change", "add", "--system", "db", "--reason", "p99", "raised the pool")
	if err != nil || !strings.HasPrefix(out, "logged change ") || !strings.Contains(out, " to db at ") {
		t.Fatalf("change add without --id: %q %q %v", out, stderr, err)
	}

	stored, err := incident.NewChangeLog(store, clock.Real{}).Recent(context.Background(), incident.ChangeQuery{})
	if err != nil || len(stored) != 2 {
		t.Fatalf("the server holds %d changes (%v), want 2", len(stored), err)
	}
	for _, c := range stored {
		if c.Person != "octocat" || c.Source != "api:ci" {
			t.Errorf("stored %+v, want person octocat (GITHUB_ACTOR), source api:ci", c)
		}
	}

	out, _, err = runCLI(t, env, "change", "list")
	if err != nil || !strings.Contains(out, "raised the pool") || strings.Contains(out, "v2.14.0") {
		t.Errorf("change list (24h): %q %v, want only today's change", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--since", "5000d", "--system", "web")
	if err != nil || !strings.Contains(out, "deployed v2.14.0") || !strings.Contains(out, "octocat") || strings.Contains(out, "raised the pool") {
		t.Errorf("change list --since 5000d --system web: %q %v", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--system", "billing", "--since", "2d")
	if err != nil || out != "no changes in the last 2 days\n" {
		t.Errorf("change list --since 2d: %q %v", out, err)
	}
	noFile(t, filepath.Join(dir, "sitrep.db"))
}

func TestChangeAPIFailures(t *testing.T) {
	fastRetries(t)
	url, _ := startChangeAPI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	// A server with rules the CLI does not know: its field is named by
	// the CLI's flag.
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"occurred_at is more than 24 h ahead: the limit is 24 h","field":"occurred_at","index":0}`)
	}))
	defer strict.Close()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"wrong token", map[string]string{"SITREP_URL": url, "SITREP_API_TOKEN": "not-the-token"},
			[]string{"change", "add", "--by", "ci", "--system", "web", "--id", "r1", "x"},
			[]string{"refused the API token (401 Unauthorized)", "Check SITREP_API_TOKEN"}},
		{"wrong token, list", map[string]string{"SITREP_URL": url, "SITREP_API_TOKEN": "not-the-token"},
			[]string{"change", "list"},
			[]string{"listing changes: sitrep at " + url + " refused the API token"}},
		{"server down", map[string]string{"SITREP_URL": down, "SITREP_API_TOKEN": testAPIToken},
			[]string{"change", "add", "--by", "ci", "--system", "web", "x"},
			[]string{"cannot reach sitrep at " + down + ": connection refused; tried 4 times", "Check SITREP_URL"}},
		{"server down, list", map[string]string{"SITREP_URL": down, "SITREP_API_TOKEN": testAPIToken},
			[]string{"change", "list"},
			[]string{"cannot reach sitrep at " + down}},
		{"URL without token", map[string]string{"SITREP_URL": url},
			[]string{"change", "add", "--by", "ci", "--system", "web", "x"},
			[]string{"SITREP_URL is set (" + url + ") but SITREP_API_TOKEN is not"}},
		{"not a URL", map[string]string{"SITREP_URL": "sitrep.example.com", "SITREP_API_TOKEN": testAPIToken},
			[]string{"change", "list"},
			[]string{"SITREP_URL: ", "https://sitrep.example.com or http://127.0.0.1:8080"}},
		{"field refused", map[string]string{"SITREP_URL": strict.URL, "SITREP_API_TOKEN": testAPIToken},
			[]string{"change", "add", "--by", "ci", "--system", "web", "--at", "2026-12-01T00:00:00Z", "x"},
			[]string{"--at: logging the change: sitrep at " + strict.URL + " refused it (400 Bad Request): occurred_at is more than 24 h ahead"}},
		{"wrong path", map[string]string{"SITREP_URL": url + "/api/v1", "SITREP_API_TOKEN": testAPIToken},
			[]string{"change", "list"},
			[]string{"404 Not Found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := emptyDir(t)
			out, _, err := runCLI(t, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("no error; out %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testAPIToken) {
				t.Errorf("error %q shows the token", err)
			}
			noFile(t, filepath.Join(dir, "sitrep.db"))
		})
	}
}

func TestByDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // stored person; "" for the error
	}{
		{"--by wins", map[string]string{"SITREP_USER": "s", "USER": "u"}, []string{"--by", "bob"}, "bob"},
		{"SITREP_USER first", map[string]string{"SITREP_USER": "sam", "GITHUB_ACTOR": "octocat", "USER": "root"}, nil, "sam"},
		{"GitHub Actions", map[string]string{"GITHUB_ACTOR": "octocat", "USER": "runner"}, nil, "octocat"},
		{"GitLab CI", map[string]string{"GITLAB_USER_LOGIN": "gl-user", "USER": "root"}, nil, "gl-user"},
		{"Buildkite", map[string]string{"BUILDKITE_BUILD_CREATOR": "Keith Pitt"}, nil, "Keith Pitt"},
		{"CircleCI", map[string]string{"CIRCLE_USERNAME": "circle-user"}, nil, "circle-user"},
		{"Azure Pipelines", map[string]string{"BUILD_REQUESTEDFOR": "Ada Lovelace"}, nil, "Ada Lovelace"},
		{"USER last", map[string]string{"USER": "alice"}, nil, "alice"},
		{"blank is unset", map[string]string{"SITREP_USER": "  ", "USER": "alice"}, nil, "alice"},
		{"none set", map[string]string{}, nil, ""},
		{"--by empty", map[string]string{"USER": "alice"}, []string{"--by", ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emptyDir(t)
			db := filepath.Join(t.TempDir(), "by.db")
			env := map[string]string{"SITREP_DATABASE_URL": "sqlite:" + db}
			for k, v := range tc.env {
				env[k] = v
			}
			args := append(append([]string{"change", "add", "--system", "web"}, tc.args...), "deployed")
			out, _, err := runCLI(t, env, args...)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "--by") {
					t.Fatalf("error %v, want --by named", err)
				}
				if len(tc.env) == 0 && !strings.Contains(err.Error(), "SITREP_USER, GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR, CIRCLE_USERNAME, BUILD_REQUESTEDFOR or USER") {
					t.Errorf("error %q does not list the variables read", err)
				}
				noFile(t, db)
				return
			}
			if err != nil {
				t.Fatalf("%q %v", out, err)
			}
			out, _, err = runCLI(t, env, "change", "list")
			if err != nil || !strings.Contains(out, "  "+tc.want+"  ") {
				t.Errorf("change list: %q %v, want %s as who", out, err, tc.want)
			}
		})
	}
}

// TestUsageListsByVariables keeps the usage true to defaultBy.
func TestUsageListsByVariables(t *testing.T) {
	for _, v := range byVars {
		if !strings.Contains(changeUsage, v) {
			t.Errorf("sitrep change's usage does not name %s", v)
		}
	}
	if !strings.Contains(changeUsage, "SITREP_URL") || !strings.Contains(usage, "SITREP_URL") {
		t.Error("the usage does not name SITREP_URL")
	}
}

func TestRefusesNewDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"change add, default", nil, []string{"change", "add", "--by", "ci", "--system", "web", "x"},
			[]string{"SITREP_DATABASE_URL is not set", "sitrep.db", "sitrep change add does not create a database: a change logged in a new one would be seen by no running sitrep",
				"SITREP_DATABASE_URL=sqlite:/path/to/sitrep.db", "--db /path/to/sitrep.db", "SITREP_URL=", "SITREP_API_TOKEN="}},
		{"change list, default", nil, []string{"change", "list"}, []string{"sitrep change list does not create a database: a new one would be empty", "SITREP_URL="}},
		{"report, default", nil, []string{"report"}, []string{"sitrep report does not create a database"}},
		{"postmortem export, default", nil, []string{"postmortem", "export", "INC-1"}, []string{"sitrep postmortem export does not create a database"}},
		{"change list, named", map[string]string{"SITREP_DATABASE_URL": "sqlite:gone.db"}, []string{"change", "list"},
			[]string{"there is no database at", "gone.db (SITREP_DATABASE_URL=sqlite:gone.db): sitrep change list reads an existing database"}},
		{"report, --db", nil, []string{"report", "--db", "gone.db"}, []string{"gone.db (--db): sitrep report reads an existing database"}},
		{"--db with a URL", nil, []string{"change", "list", "--db", "postgres://u:pw@h/db"},
			[]string{"--db postgres://…@h/db: give the path of an SQLite file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := emptyDir(t)
			_, _, err := runCLI(t, tc.env, tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error %q shows a password", err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				t.Errorf("%s was created", e.Name())
			}
		})
	}
}

func TestNamedDatabaseIsUsedOrCreated(t *testing.T) {
	dir := emptyDir(t)
	// Named, change add creates it (the user asked for it) ...
	out, _, err := runCLI(t, map[string]string{"USER": "ci"}, "change", "add", "--db", "new.db", "--system", "web", "deployed")
	if err != nil || !strings.HasPrefix(out, "logged change 1 to web at ") {
		t.Fatalf("change add --db new.db: %q %v", out, err)
	}
	// ... and the read commands then read it.
	out, _, err = runCLI(t, map[string]string{"SITREP_DATABASE_URL": "sqlite:new.db"}, "change", "list")
	if err != nil || !strings.Contains(out, "deployed") {
		t.Errorf("change list: %q %v", out, err)
	}
	if _, _, err := runCLI(t, nil, "report", "--db", "new.db", "--since", "2d"); err != nil {
		t.Errorf("report --db new.db --since 2d: %v", err)
	}
	// The default file is used once it exists; --db beats SITREP_URL.
	if err := os.Rename(filepath.Join(dir, "new.db"), filepath.Join(dir, "sitrep.db")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "new.inbox.db"))
	out, _, err = runCLI(t, nil, "change", "list")
	if err != nil || !strings.Contains(out, "deployed") {
		t.Errorf("change list with ./sitrep.db: %q %v", out, err)
	}
	out, _, err = runCLI(t, map[string]string{"SITREP_URL": "http://127.0.0.1:1", "SITREP_API_TOKEN": "t"}, "change", "list", "--db", "sitrep.db")
	if err != nil || !strings.Contains(out, "deployed") {
		t.Errorf("change list --db with SITREP_URL set: %q %v", out, err)
	}
	// run, migrate and demo create their database as before.
	other := t.TempDir()
	t.Chdir(other)
	if out, _, err := runCLI(t, nil, "migrate"); err != nil || !strings.Contains(out, "applied") {
		t.Errorf("migrate without SITREP_DATABASE_URL: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(other, "sitrep.db")); err != nil {
		t.Errorf("migrate did not create sitrep.db: %v", err)
	}
}

func TestDurationsReadDays(t *testing.T) {
	emptyDir(t)
	env := map[string]string{"SITREP_DATABASE_URL": "sqlite:d.db", "USER": "ci"}
	if _, _, err := runCLI(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string // stdout prefix, or the error when err is set
		err  bool
	}{
		{args: []string{"change", "list", "--since", "2d"}, want: "no changes in the last 2 days\n"},
		{args: []string{"change", "list", "--since", "1d12h"}, want: "no changes in the last 36 h\n"},
		{args: []string{"change", "list", "--since", "2w"}, want: "no changes in the last 14 days\n"},
		{args: []string{"change", "list", "--since", "90m"}, want: "no changes in the last 1 h 30 min\n"},
		{args: []string{"report", "--since", "7d"}, want: "# Operations review"},
		{args: []string{"change", "list", "--since", "0"}, err: true},
		{args: []string{"change", "list", "--since", "-2d"}, err: true},
		{args: []string{"change", "list", "--since", "2 days"}, err: true},
		{args: []string{"report", "--since", "yesterday"}, err: true},
		{args: []string{"change", "list", "--limit", "0"}, want: "--limit 0: give a number from 1 to 1000", err: true},
	} {
		out, stderr, err := runCLI(t, env, tc.args...)
		switch {
		case tc.err && err == nil:
			t.Errorf("%v: no error; out %q", tc.args, out)
		case tc.err && tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		case tc.err && tc.want == "" && !strings.Contains(stderr, "30m, 24h, 2d or 1d12h") && !strings.Contains(stderr, "more than zero"):
			t.Errorf("%v: stderr %q does not show how to write a duration", tc.args, stderr)
		case !tc.err && (err != nil || !strings.HasPrefix(out, tc.want)):
			t.Errorf("%v: %q %v, want %q", tc.args, out, err, tc.want)
		}
	}
}

func TestFlagsAfterTheTextAreRefused(t *testing.T) {
	emptyDir(t)
	env := map[string]string{"SITREP_DATABASE_URL": "sqlite:f.db", "USER": "ci"}
	_, _, err := runCLI(t, env, "change", "add", "--system", "web", "deployed", "v2", "--reason", "release")
	if err == nil || !strings.Contains(err.Error(), `--reason comes after the text "deployed": flags go before it`) {
		t.Errorf("flag after the text: %v", err)
	}
	noFile(t, "f.db")
	out, _, err := runCLI(t, env, "change", "add", "--system", "web", "--", "bumped", "--reason", "flag")
	if err != nil || !strings.HasSuffix(out, ": bumped --reason flag\n") {
		t.Errorf("after --: %q %v", out, err)
	}
	out, _, err = runCLI(t, env, "change", "add", "--system", "web", "set", "--timeout", "to 30s")
	if err != nil || !strings.HasSuffix(out, ": set --timeout to 30s\n") {
		t.Errorf("a word that is no flag: %q %v", out, err)
	}
}

// TestChangeOnPostgres logs and lists a change in PostgreSQL: a named
// PostgreSQL database is used as it is, never refused, and nothing is
// created in the working directory.
func TestChangeOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	dir := emptyDir(t)
	env := map[string]string{"SITREP_DATABASE_URL": url, "GITLAB_USER_LOGIN": "gl-user"}
	if _, _, err := runCLI(t, env, "migrate"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, env, "change", "add", "--system", "db", "--id", "pipe-1", "failed over")
	if err != nil || !strings.HasPrefix(out, "logged change 1 to db at ") {
		t.Fatalf("change add: %q %v", out, err)
	}
	out, _, err = runCLI(t, env, "change", "add", "--system", "db", "--id", "pipe-1", "failed over again")
	if err != nil || !strings.HasPrefix(out, "already logged as change 1 (--id pipe-1) to db at ") || !strings.HasSuffix(out, ": failed over; nothing added\n") {
		t.Fatalf("change add again: %q %v, want the stored change", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--since", "1d")
	if err != nil || !strings.Contains(out, "gl-user") || !strings.Contains(out, "failed over") {
		t.Errorf("change list: %q %v", out, err)
	}
	if _, _, err := runCLI(t, env, "report", "--since", "2d"); err != nil {
		t.Errorf("report: %v", err)
	}
	noFile(t, filepath.Join(dir, "sitrep.db"))
}
