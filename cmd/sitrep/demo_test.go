package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/demo"
)

// TestDemoTourGolden drives `sitrep demo --config --script` through what the
// demo could not show before: a rotation from a config file (bob is on
// call for db, so he leads the db incident), a message pinned with a
// :pushpin: reaction, @name in a command, a release checklist ticked to
// completion with one step skipped, and the diagnosis deadline and the
// checklist's idle reminder arriving during :wait. A script's clock stands
// still but for :wait, so the transcript is compared whole with its golden
// file (go test -run TestDemoTourGolden -update rewrites it).
func TestDemoTourGolden(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	out, errOut, err := runCLI(t, nil, "demo", "--config", "testdata/demo-config.yaml", "--script", "testdata/demo-tour.script", "--db", db)
	if err != nil {
		t.Fatalf("sitrep demo: %v\nstderr:\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "Config: testdata/demo-config.yaml (people: U0ALICE alice, U0BOB bob, U0CAROL carol).") {
		t.Errorf("the demo does not say which config it read:\n%s", errOut)
	}
	// What the tour is for, spelled out so that a golden file rewritten
	// with -update cannot quietly lose it.
	for _, want := range []string{
		"Join #inc-1-replication-lag-on-db · TDO @bob · reported by @alice · systems: db",
		"Why you: on call for the *db on-call* rotation",
		"Diagnosis: diagnose until 10:45 UTC (15 min)",
		"(alice reacted :pushpin: to msg 1 in #inc-1-replication-lag-on-db)\n(only alice sees, in #inc-1-replication-lag-on-db)\n  :pushpin: Added to the timeline of INC-1.",
		"! no message 7: the output shows msg 1 to msg 1",
		`! "push-pin!" is not an emoji name`,
		":busts_in_silhouette: @carol is now *comms* for INC-1 (set by @alice)",
		"[x] 1. Announce the release window in #releases — @alice · 10:30 UTC",
		"! step 1 is ticked already (:untick 1 clears it)",
		"! the checklist shown last has steps 1 to 10; there is no step 11",
		"Step: step=… one of:\n        9. Post the release notes\n        10. Close the release ticket",
		"[ ] 9. Post the release notes — skipped by @alice: notes go out with the newsletter",
		":hourglass_flowing_sand: @bob *3 min of diagnosis left*",
		":alarm_clock: @bob *Diagnosis time is up: restore service now.*",
		":alarm_clock: @alice CL-1 has been idle for 20 min at 3 of 10 · 6 critical left.",
		"(20 min later)",
		":white_check_mark: *CL-1 completed*: Web release · v2.14.0, in 20 min.",
		"@alice ticked 1, 2, 3, 4, 5, 6, 7, 8, 10",
		"Step 9 skipped by @alice: notes go out with the newsletter",
		"! the checklist shown last has no boxes left to tick: it is finished",
		"*pin* @alice pinned @alice: the replica is 40 s behind since the 10:20 deploy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	golden, err := filepath.Abs(filepath.Join("testdata", "demo-tour.golden"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, golden, out)
}

func TestDemoConfigRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rotations:\n  - name: db\n    members: [bob]\n    handoff: \"0 9 * * MON\"\n    start: \"2026-03-02 09:00\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("rotation: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), []string{"demo config", "nope.yaml", "no such file"}},
		{"a name, not a user ID", bad, []string{"bad.yaml", `rotation "db"`, `"bob" is not a Slack user ID`}},
		{"unknown field", typo, []string{"typo.yaml", "rotation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, nil, "demo", "--config", tc.path, "--script", "testdata/demo-tour.script")
			if err == nil {
				t.Fatal("the demo started with a bad config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestDemoReadsSitrepYAML: without --config, ./sitrep.yaml is read when
// present, and the demo says so.
func TestDemoReadsSitrepYAML(t *testing.T) {
	cfg, err := os.ReadFile("testdata/demo-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("sitrep.yaml", cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("open.script", []byte("/incident open replication lag sev1 systems:db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, nil, "demo", "--script", "open.script", "--db", filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatalf("sitrep demo: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "Config: sitrep.yaml (people: U0ALICE alice") {
		t.Errorf("the demo does not say it read sitrep.yaml:\n%s", errOut)
	}
	if !strings.Contains(out, "TDO @bob · reported by @alice · systems: db") {
		t.Errorf("the rotation of sitrep.yaml did not lead the incident:\n%s", out)
	}
}

// TestDemoServesTheChangeAPI runs the demo as a person would, typing into
// it, and logs a change through the API address and token it printed: the
// change reaches the open incident's room like any other.
func TestDemoServesTheChangeAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--db", filepath.Join(t.TempDir(), "demo.db")}, func(string) string { return "" }, inR, &out, &errOut)
	}()
	t.Cleanup(func() {
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("sitrep demo: %v\nstderr:\n%s", err, errOut.String())
		}
	})
	waitOut := func(what string, ok func(string) bool) string {
		t.Helper()
		for ctx.Err() == nil {
			if s := out.String(); ok(s) {
				return s
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the demo never showed %s:\n%s\nstderr:\n%s", what, out.String(), errOut.String())
		return ""
	}
	apiLine := regexp.MustCompile(`API: (http://127\.0\.0\.1:[0-9]+)  token: (demo-[0-9a-f]{32})\n`)
	m := apiLine.FindStringSubmatch(waitOut("the API line", apiLine.MatchString))
	base, token := m[1], m[2]

	type_ := func(line string) {
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	type_("/incident open db is down sev1 systems:db")
	waitOut("the incident's room", func(s string) bool { return strings.Contains(s, "INC-1 is open: #inc-1-db-is-down") })

	post := func(auth string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/changes",
			strings.NewReader(`{"system":"db","person":"bob","summary":"raised the pool size to 200"}`))
		if err != nil {
			t.Fatal(err)
		}
		// As the curl line printed at start sends it (-d).
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong-token"); code != http.StatusUnauthorized {
		t.Errorf("a wrong token answered %d, want 401", code)
	}
	if code := post(token); code != http.StatusCreated {
		t.Fatalf("logging a change answered %d, want 201", code)
	}
	// The room hears of changes a minute after the first: let it pass.
	before := len(out.String())
	type_(":wait 2m")
	got := waitOut("the change in the room", func(s string) bool { return strings.Contains(s[before:], "(2 min later)") })[before:]
	if !strings.Contains(got, "#inc-1-db-is-down · ") || !strings.Contains(got, "raised the pool size to 200") {
		t.Errorf("the change logged through the API did not reach the room:\n%s", got)
	}
	type_(":quit")
}

// TestDemoLiveClock: interactive, what falls due comes while nobody types,
// from the sweeper that runs in the background against the demo's clock,
// and is shown on a line of its own after the waiting prompt.
func TestDemoLiveClock(t *testing.T) {
	var clk *demo.Clock
	ready := make(chan struct{})
	demoClockHook = func(c *demo.Clock) { clk = c; close(ready) }
	t.Cleanup(func() { demoClockHook = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--db", filepath.Join(t.TempDir(), "demo.db")}, func(string) string { return "" }, inR, &out, &errOut)
	}()
	defer func() {
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("sitrep demo: %v", err)
		}
	}()
	<-ready
	w := bufio.NewWriter(inW)
	for _, l := range []string{"/incident open db is down sev1 systems:db", ":in #inc-1-db-is-down"} {
		w.WriteString(l + "\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil && !strings.HasSuffix(out.String(), "alice in #inc-1-db-is-down> ") {
		time.Sleep(20 * time.Millisecond)
	}
	// Ten minutes pass, as on the wall clock, with nothing typed.
	clk.Advance(10 * time.Minute)
	for ctx.Err() == nil && !strings.Contains(out.String(), "Diagnosis time is up: restore service now.") {
		time.Sleep(50 * time.Millisecond)
	}
	got := out.String()
	i := strings.Index(got, "alice in #inc-1-db-is-down> \n#inc-1-db-is-down · ")
	if i < 0 || !strings.Contains(got[i:], ":alarm_clock: @alice *Diagnosis time is up") {
		t.Fatalf("the deadline did not come on its own, after the prompt, on a line of its own:\n%s", got)
	}
	io.WriteString(inW, ":quit\n")
}

// BenchmarkDemoWaitDay measures `:wait 1d` in a script with an open SEV1
// incident (a status nudge every 30 min): 2,880 steps of 30 s, each
// sweeping the job queue and showing what changed.
func BenchmarkDemoWaitDay(b *testing.B) {
	script := filepath.Join(b.TempDir(), "wait.script")
	if err := os.WriteFile(script, []byte("/incident open db is down sev1 systems:db\n:wait 1d\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var out, errOut strings.Builder
		db := filepath.Join(b.TempDir(), "demo.db")
		if err := run(context.Background(), []string{"demo", "--script", script, "--db", db}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
			b.Fatalf("%v\n%s", err, errOut.String())
		}
	}
}
