package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSiteFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		on      bool
		missing string // named in the error
	}{
		{"none: off", nil, false, ""},
		{"all three: on", map[string]string{envClientID: "1.2", envClientSecret: "s", envBaseURL: "https://sitrep.example.com"}, true, ""},
		{"no secret", map[string]string{envClientID: "1.2", envBaseURL: "https://sitrep.example.com"}, false, envClientSecret + " missing"},
		{"only the base URL", map[string]string{envBaseURL: "https://sitrep.example.com"}, false, envClientID + " and " + envClientSecret + " missing"},
	} {
		site, err := siteFromEnv(func(k string) string { return tc.env[k] })
		switch {
		case tc.missing != "":
			if err == nil || !strings.Contains(err.Error(), tc.missing) {
				t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.missing)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case (site != nil) != tc.on:
			t.Errorf("%s: dashboard on = %v, want %v", tc.name, site != nil, tc.on)
		}
	}
	if got := issuerFor(""); got != "https://slack.com" {
		t.Errorf("issuerFor(no SLACK_API_URL) = %q", got)
	}
	if got := issuerFor("http://127.0.0.1:3210/api/"); got != "http://127.0.0.1:3210" {
		t.Errorf("issuerFor(a simulator) = %q", got)
	}
}

// TestRunRefusesHalfADashboard: one of the three settings alone stops
// `sitrep run` at start, naming the others; none logs that it is off.
func TestRunRefusesHalfADashboard(t *testing.T) {
	sim := startSim(t)
	env := map[string]string{
		"SLACK_BOT_TOKEN": sim.BotToken(), "SLACK_APP_TOKEN": sim.AppToken(), "SLACK_API_URL": sim.APIURL(),
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "run.db"), "SITREP_HTTP_ADDR": "127.0.0.1:0",
		"SLACK_CLIENT_ID": sim.ClientID(),
	}
	t.Chdir(t.TempDir())
	var logs syncBuffer
	err := run(context.Background(), []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	if err == nil || !strings.Contains(err.Error(), "SLACK_CLIENT_SECRET and SITREP_BASE_URL missing") {
		t.Errorf("run with only SLACK_CLIENT_ID: %v, want an error naming the missing settings", err)
	}

	delete(env, "SLACK_CLIENT_ID")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := sim.Wait(wctx, func() bool { return sim.Connections() >= 1 }); err != nil {
		t.Fatalf("sitrep run did not connect: %v\nlogs:\n%s", err, logs.String())
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "the web dashboard is off") {
		t.Errorf("run without the dashboard's settings does not say it is off:\n%s", logs.String())
	}
}

// TestDemoServesTheDashboard: `sitrep demo` prints the dashboard's address
// and signs the visitor in as the console's user, with no secret set.
func TestDemoServesTheDashboard(t *testing.T) {
	in, feed := io.Pipe()
	out, stdout := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"demo", "--db", filepath.Join(t.TempDir(), "demo.db")}, func(string) string { return "" }, in, stdout, &stderr)
		stdout.Close()
	}()
	dash := regexp.MustCompile(`Dashboard: (http://\S+)/ `)
	var base string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := dash.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, out)
	if base == "" {
		t.Fatalf("the demo printed no dashboard address\nstderr:\n%s", stderr.String())
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/signin/slack?next=/account")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/account" || !strings.Contains(string(body), "(U0ALICE)") {
		t.Errorf("signing in to the demo's dashboard ended at %s: %s", resp.Request.URL, body)
	}
	feed.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("the demo did not end when its input did")
	}
}
