package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestDemoKeepsWorkspace runs `sitrep demo --db PATH` twice on the same
// PATH: the second run finds the first run's channels and incident, opens
// a new incident in a channel with a new ID, and writes the Pareto chart to
// PATH.files/, printing where.
func TestDemoKeepsWorkspace(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	script := func(lines ...string) string {
		path := filepath.Join(dir, "script")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	_, errOut, err := runCLI(t, nil, "demo", "--db", db, "--script", script("/incident open db is down sev1 systems:db", ":quit"))
	if err != nil {
		t.Fatalf("first run: %v\nstderr:\n%s", err, errOut)
	}
	first := loadWorkspace(t, db+".slack.json")
	inc1 := first.ChannelByName("inc-1-db-is-down")
	if inc1 == nil {
		t.Fatalf("the first run's workspace has no #inc-1-db-is-down: %+v", first.Channels())
	}

	out, errOut, err := runCLI(t, nil, "demo", "--db", db, "--script", script(
		"/incident open api is slow sev2", "/incident list", "/problem pareto", ":quit"))
	if err != nil {
		t.Fatalf("second run: %v\nstderr:\n%s", err, errOut)
	}
	chart := filepath.Join(db+".files", "F0001-pareto.png")
	for _, want := range []string{
		"#inc-2-api-is-slow topic: SEV2",
		"== 2 open incidents ==",
		"*INC-1* · SEV1 · Investigating · #inc-1-db-is-down",
		"*INC-2* · SEV2 · Investigating · #inc-2-api-is-slow",
		"📎 pareto.png (image/png,",
		"  file: " + chart + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second run's transcript lacks %q:\n%s", want, out)
		}
	}
	// Nothing went wrong underneath: no room saved twice under one channel
	// ID, no job retrying a channel that is gone.
	for _, bad := range []string{"UNIQUE", "channel_not_found", "job failed", "level=ERROR"} {
		if strings.Contains(errOut, bad) {
			t.Errorf("second run logged %q:\n%s", bad, errOut)
		}
	}
	second := loadWorkspace(t, db+".slack.json")
	inc2 := second.ChannelByName("inc-2-api-is-slow")
	if inc2 == nil || inc2.ID == inc1.ID || slices.ContainsFunc(first.Channels(), func(c slacksim.Channel) bool { return c.ID == inc2.ID }) {
		t.Errorf("the second incident's channel %+v does not have a new ID (first run: %+v)", inc2, first.Channels())
	}
	if got := second.ChannelByName("inc-1-db-is-down"); got == nil || got.ID != inc1.ID || len(second.Messages(got.ID)) != len(first.Messages(inc1.ID)) {
		t.Errorf("#inc-1-db-is-down after the second run = %+v, want it as the first left it", got)
	}
	png, err := os.ReadFile(chart)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("the chart at %s: %d bytes, %v; want a PNG", chart, len(png), err)
	}
}

// TestDemoWarnsOfDatabaseWithoutWorkspace: a database kept from before the
// workspace was kept beside it gets a new workspace, and a warning that
// says why its incidents have no channels.
func TestDemoWarnsOfDatabaseWithoutWorkspace(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	script := filepath.Join(dir, "script")
	// A command before :quit: bot.Run's lookup of its own user outlives
	// Run and would log into the buffer after a run that quit at once.
	if err := os.WriteFile(script, []byte("/incident help\n:quit\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runCLI(t, nil, "demo", "--db", db, "--script", script); err != nil || strings.Contains(errOut, "no saved workspace") {
		t.Fatalf("first run: %v\n%s", err, errOut)
	}
	if err := os.Remove(db + ".slack.json"); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCLI(t, nil, "demo", "--db", db, "--script", script)
	if err != nil || !strings.Contains(errOut, "the database has no saved workspace beside it") {
		t.Errorf("run on a database without its workspace: %v, stderr:\n%s", err, errOut)
	}
}

func TestDemoRefusesCorruptWorkspace(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	if err := os.WriteFile(db+".slack.json", []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(t, nil, "demo", "--db", db, "--script", "testdata/demo.script")
	if err == nil || !strings.Contains(err.Error(), db+".slack.json is not a workspace") ||
		!strings.Contains(err.Error(), "move it away to start a new workspace") {
		t.Errorf("demo on a corrupt workspace file: %v", err)
	}
	if data, _ := os.ReadFile(db + ".slack.json"); string(data) != "{not json" {
		t.Error("the corrupt file was overwritten")
	}
}

// loadWorkspace loads a saved workspace to read it back.
func loadWorkspace(t *testing.T, path string) *slacksim.Sim {
	t.Helper()
	sim, err := slacksim.Load(slacksim.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// TestSimulatorServesRun starts `sitrep simulator` and `sitrep run`
// against it, both in-process through the CLI's run function, types
// /incident open into the simulator's console and sees the incident's
// channel made; the workspace is kept in --state.
func TestSimulatorServesRun(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "ws.json")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	stdin, typed := io.Pipe()
	defer typed.Close()
	var simOut, simErr syncBuffer
	simDone := make(chan error, 1)
	go func() {
		simDone <- run(ctx, []string{"simulator", "--addr", "127.0.0.1:0", "--state", state}, func(string) string { return "" },
			stdin, &simOut, &simErr)
	}()
	waitOutput := func(what string, b *syncBuffer, re *regexp.Regexp) []string {
		t.Helper()
		for ctx.Err() == nil {
			if m := re.FindStringSubmatch(b.String()); m != nil {
				return m
			}
			select {
			case err := <-simDone:
				t.Fatalf("sitrep simulator stopped: %v\nstdout:\n%s\nstderr:\n%s", err, simOut.String(), simErr.String())
			case <-time.After(20 * time.Millisecond):
			}
		}
		t.Fatalf("no %s:\nsimulator stdout:\n%s\nstderr:\n%s", what, simOut.String(), simErr.String())
		return nil
	}
	settings := waitOutput("settings for sitrep run", &simOut, regexp.MustCompile(
		`SLACK_BOT_TOKEN=(\S+) \\\n\s+SLACK_APP_TOKEN=(\S+) \\\n\s+SLACK_API_URL=(http://127\.0\.0\.1:\d+/api/) \\\n\s+sitrep run`))
	env := map[string]string{
		"SLACK_BOT_TOKEN":     settings[1],
		"SLACK_APP_TOKEN":     settings[2],
		"SLACK_API_URL":       settings[3],
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "run.db"),
		"SITREP_HTTP_ADDR":    "127.0.0.1:0",
	}
	t.Chdir(dir)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var runLogs syncBuffer
	runDone := make(chan error, 1)
	go func() {
		runDone <- run(runCtx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &runLogs, &runLogs)
	}()
	waitOutput("connection from sitrep run", &simOut, regexp.MustCompile(`\(an app connected\)`))
	if !strings.Contains(runLogs.String(), `msg="using the Slack API at SLACK_API_URL instead of Slack's own" url=`+settings[3]) {
		t.Errorf("sitrep run does not say which Slack API it uses:\n%s", runLogs.String())
	}

	if _, err := io.WriteString(typed, "/incident open db is down sev1 systems:db\n"); err != nil {
		t.Fatal(err)
	}
	waitOutput("incident channel", &simOut, regexp.MustCompile(`#inc-1-db-is-down topic: SEV1 · Investigating`))
	waitOutput("answer to alice", &simOut, regexp.MustCompile(`\(only alice sees, in #general\)\n\s+INC-1 is open: #inc-1-db-is-down`))
	if _, err := io.WriteString(typed, ":quit\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-simDone:
		if err != nil {
			t.Errorf("sitrep simulator: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("sitrep simulator did not stop at :quit")
	}
	stopRun()
	if err := <-runDone; err != nil {
		t.Errorf("sitrep run: %v\n%s", err, runLogs.String())
	}
	if out := runLogs.String(); !strings.Contains(out, "incident opened") || strings.Contains(out, settings[1]) || strings.Contains(out, settings[2]) {
		t.Errorf("sitrep run's logs lack the incident or show a token:\n%s", out)
	}
	kept := loadWorkspace(t, state)
	if kept.ChannelByName("inc-1-db-is-down") == nil {
		t.Errorf("the workspace kept in %s lacks #inc-1-db-is-down: %+v", state, kept.Channels())
	}
}

func TestSimulatorRefuses(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte(`{"Version": 9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad address", []string{"--addr", "nowhere"}, "slacksim: listening on nowhere"},
		{"corrupt state", []string{"--addr", "127.0.0.1:0", "--state", corrupt}, "format version 9"},
		{"argument", []string{"extra"}, "usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, nil, append([]string{"simulator"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("sitrep simulator %v: %v, want %q", tc.args, err, tc.want)
			}
		})
	}
	// A slash command with no app connected is refused at once, and the
	// console goes on to the next line.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"simulator", "--addr", "127.0.0.1:0"}, func(string) string { return "" },
		strings.NewReader("/incident open db is down\n:quit\n"), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "alice in #general> /incident open db is down\n! no app is connected to receive it") ||
		!strings.Contains(out.String(), "alice in #general> :quit") {
		t.Errorf("a command with no app connected: %v\n%s", err, out.String())
	}
}
