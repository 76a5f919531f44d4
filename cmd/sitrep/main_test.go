package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestDemoScriptTranscript(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	out, errOut, err := runCLI(t, nil, "demo", "--script", "testdata/demo.script", "--db", db)
	if err != nil {
		t.Fatalf("sitrep demo: %v\nstderr:\n%s", err, errOut)
	}
	for _, want := range []string{
		"alice in #general> /incident open db is down sev1 systems:db,api",
		"#inc-1-db-is-down topic: SEV1 · Investigating · TDO: Alice Liddell · db is down",
		"== INC-1: db is down ==",
		"Severity: SEV1",
		"Technical duty officer: @alice",
		"Systems: db, api",
		"(pinned)",
		"#incidents · ",
		"Join #inc-1-db-is-down",
		"== Plan of attack for INC-1: restore first ==",
		"Diagnosis: diagnose until ",
		"note the first error and when it began  [",
		"@alice extended diagnosis: *restore by ",
		"asked @bob & the db team to look at <pool> sizes",
		"(only alice sees, in #general)",
		"INC-1 is open: #inc-1-db-is-down",
		"alice in #inc-1-db-is-down> :as bob",
		"`sev7` is not a severity",
		"(only bob sees, in #inc-1-db-is-down)\n  INC-2 is open", // typing there, bob joined it
		"(form for bob) fill it with :submit",
		"== INC-2: checkout fails <!channel> ==",
		"#inc-2-checkout-fails-channel",
		"Recorded *PRB-1*: Connection pool too small on db-2",
		"Linked problem PRB-1: Connection pool too small on db-2",
		"Customer cost USD 5,375 (C3)",
		"1 of 1 problem (100%) drives 100% of customer cost",
		"📎 pareto.png (image/png,",
		"== Postmortem of INC-1: db is down ==",
		"Phase 1 is about the timeline only",
		"1. nobody was paged for the disk alarm — @bob",
		"direct message @carol",
		":memo: @bob gave you an action from the postmortem of *INC-1*",
		"*Complete* since",
		"📎 postmortem-INC-1.md (text/markdown,",
		// A rotation-led incident: a restart with a reason, a warning
		// when due, a deadline and a nudge that fire late, Post update.
		"Join #inc-3-checkout-errors · TDO @carol · reported by @alice · systems: web",
		"restarting it needs a reason, e.g. `/incident timebox 30m <reason>`",
		":stopwatch: @carol restarted the diagnosis clock: *diagnose until ",
		"(restarted: the errors come from the payment provider, not from us)",
		":hourglass_flowing_sand: @carol *6 min of diagnosis left*",
		"(sitrep is down for 7 min)\n(sitrep is back)",
		":mega: @carol *No status update on INC-3 for 32 min.* SEV1 asks for one every 30 min",
		":warning: This nudge fired 2 min late: sitrep was down at ",
		":warning: This deadline fired 2 min late: sitrep was down at ",
		"(form for carol) fill it with :submit",
		"checkout errors is now *Identified* · #inc-3-checkout-errors\n  >payment provider fails over to its second region",
		"Diagnosis timeboxes: 2 boxes: 1 restart, 0 extensions, 1 overrun",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("transcript:\n%s\nstderr:\n%s", out, errOut)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("--db file not kept: %v", err)
	}
}

func TestRunRefusesMissingTokens(t *testing.T) {
	t.Chdir(t.TempDir())
	_, _, err := runCLI(t, map[string]string{"SLACK_APP_TOKEN": "xoxb-wrong-kind-secret"}, "run")
	if err == nil {
		t.Fatal("sitrep run started without tokens")
	}
	msg := err.Error()
	for _, want := range []string{"SLACK_BOT_TOKEN is not set", "SLACK_APP_TOKEN does not start with xapp-"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("error %q shows the token", msg)
	}
}

// TestRunRefusesUnsetAPIToken: a token configured in sitrep.yaml whose
// variable is unset stops sitrep run before it connects, naming the
// variable, rather than serving the API without it.
func TestRunRefusesUnsetAPIToken(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("sitrep.yaml", []byte("api:\n  tokens: [{name: ci, token_env: SITREP_TOKEN_CI}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_API_URL": "http://127.0.0.1:1/api/",
		"SITREP_API_TOKEN": "legacy-secret"}
	_, _, err := runCLI(t, env, "run")
	if err == nil || !strings.Contains(err.Error(), `cannot serve the change API:
sitrep.yaml: api token "ci": SITREP_TOKEN_CI is not set`) {
		t.Errorf("sitrep run with SITREP_TOKEN_CI unset: %v, want it named", err)
	}
	// Other commands need no API token.
	env["SITREP_DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	if out, _, err := runCLI(t, env, "migrate"); err != nil {
		t.Errorf("migrate with SITREP_TOKEN_CI unset: %q %v", out, err)
	}
}

func TestUsage(t *testing.T) {
	if _, stderr, err := runCLI(t, nil); err == nil || !strings.Contains(stderr, "sitrep demo") {
		t.Errorf("no arguments: err=%v, stderr=%q; want usage", err, stderr)
	}
	if _, stderr, err := runCLI(t, nil, "frob"); err == nil || !strings.Contains(stderr, `unknown command "frob"`) {
		t.Errorf("unknown command: err=%v, stderr=%q", err, stderr)
	}
	if out, _, err := runCLI(t, nil, "version"); err != nil || !strings.HasPrefix(out, "sitrep ") {
		t.Errorf("version: %q, %v", out, err)
	}
}

func TestMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	env := map[string]string{"SITREP_DATABASE_URL": "sqlite:" + db, "SITREP_CONFIG": filepath.Join(t.TempDir(), "none.yaml")}
	if _, _, err := runCLI(t, env, "migrate"); err == nil || !strings.Contains(err.Error(), "SITREP_CONFIG") {
		t.Errorf("migrate with a missing config file: %v, want SITREP_CONFIG named", err)
	}
	delete(env, "SITREP_CONFIG")
	files, err := filepath.Glob("../../storage/migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	last := filepath.Base(files[len(files)-1])
	version := strings.TrimLeft(last[:strings.IndexByte(last, '_')], "0")
	t.Chdir(t.TempDir())
	for i, want := range []string{
		fmt.Sprintf("database sqlite: applied %d migrations; now at version %s\n", len(files), version),
		fmt.Sprintf("database sqlite is already up to date at version %s\n", version),
	} {
		out, stderr, err := runCLI(t, env, "migrate")
		if err != nil || out != want {
			t.Fatalf("migrate #%d: %q %q %v, want %q", i+1, out, stderr, err, want)
		}
	}
}

func TestChangeCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "changes.db")
	t.Chdir(t.TempDir())
	env := map[string]string{"SITREP_DATABASE_URL": "sqlite:" + db, "USER": "ci-bot"}
	out, stderr, err := runCLI(t, env, "change", "add", "--system", "web,DB", "--reason", "p99 latency", "--kind", "config",
		"--link", "https://ci.example/9", "--id", "run-9", "raised", "pool", "to", "50")
	if err != nil || !strings.HasPrefix(out, "logged change 1 to web,db at ") || !strings.HasSuffix(out, " UTC: raised pool to 50\n") {
		t.Fatalf("change add: %q %q %v", out, stderr, err)
	}
	out, _, err = runCLI(t, env, "change", "add", "--system", "web", "--id", "run-9", "raised pool to 50")
	if err != nil || !strings.Contains(out, "already logged as change 1 (--id run-9) to web,db at ") {
		t.Errorf("re-sent change: %q %v", out, err)
	}
	runCLI(t, env, "change", "add", "--system", "api", "deployed v2")
	// Control, bidi-override and zero-width characters are not stored.
	runCLI(t, env, "change", "add", "--system", "cache\u200b", "--reason", "leak\u202e", "flushed\x1b\u2066 all\x00")
	out, _, err = runCLI(t, env, "change", "list", "--system", "cache")
	if err != nil || !strings.Contains(out, "flushed all") || !strings.Contains(out, "leak\n") || strings.ContainsAny(out, "\u200b\u202e\x1b\u2066\x00") {
		t.Errorf("change list --system cache: %q %v, want the text without hidden characters", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--system", "billing")
	if err != nil || out != "no changes in the last 24 h\n" {
		t.Errorf("change list --system billing: %q %v, want the window in words", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--system", "billing", "--since", "168h")
	if err != nil || out != "no changes in the last 7 days\n" {
		t.Errorf("change list --since 168h: %q %v, want the window in days", out, err)
	}
	out, _, err = runCLI(t, env, "change", "list", "--system", "db")
	if err != nil || !strings.Contains(out, "web,db") || !strings.Contains(out, "ci-bot") || !strings.Contains(out, "config") ||
		!strings.Contains(out, "p99 latency") || strings.Contains(out, "deployed v2") {
		t.Errorf("change list --system db:\n%s (%v)", out, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"change", "add", "deployed"}, "--system: name the system changed"},
		{[]string{"change", "add", "--system", "web"}, "the text (what was done): say what was done"},
		{[]string{"change", "add", "--system", "web", "--kind", "hotfix", "x"}, `--kind: "hotfix" is not a kind`},
		{[]string{"change", "add", "--system", "web", "--at", "yesterday", "x"}, `--at "yesterday" is not an RFC 3339 time`},
		{[]string{"change", "add", "--system", "web", "--at", "2099-01-01T00:00:00Z", "x"}, "ahead of sitrep's clock"},
		{[]string{"change", "add", "--system", "web", "--at", "0001-01-01T00:00:00Z", "x"}, "is before 2000"},
		{[]string{"change", "frob"}, ""},
	} {
		_, stderr, err := runCLI(t, env, tc.args...)
		if err == nil || (tc.want != "" && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: error %v (stderr %q), want %q", tc.args, err, stderr, tc.want)
		}
	}
}

// withSlackNames starts a Slack simulator that knows alice and bob, and
// points env at it, so that documents written from the shell name them.
func withSlackNames(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatalf("starting the simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell"})
	sim.AddUser(slacksim.User{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs"})
	env["SLACK_BOT_TOKEN"] = sim.BotToken()
	env["SLACK_API_URL"] = sim.APIURL()
	return env
}
