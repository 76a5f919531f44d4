package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startSim(t testing.TB) *slacksim.Sim {
	t.Helper()
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell"})
	return sim
}

// TestRunServesAndDrains runs `sitrep run` against the simulator: it
// connects, opens an incident, and on cancel (what SIGINT/SIGTERM do) stops
// cleanly, with no token in its logs.
func TestRunServesAndDrains(t *testing.T) {
	sim := startSim(t)
	general := sim.AddChannel("general", "U0ALICE")
	env := map[string]string{
		"SLACK_BOT_TOKEN":     sim.BotToken(),
		"SLACK_APP_TOKEN":     sim.AppToken(),
		"SLACK_API_URL":       sim.APIURL(),
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "run.db"),
		"SITREP_LOG_LEVEL":    "debug",
		"SITREP_HTTP_ADDR":    "127.0.0.1:0",
		"SITREP_API_TOKEN":    "api-secret-token",
		"SITREP_TOKEN_CI":     "ci-secret-token",
		"SITREP_INSTANCE":     "replica-1",
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("sitrep.yaml", []byte("api:\n  tokens: [{name: ci, token_env: SITREP_TOKEN_CI}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := sim.Wait(wctx, func() bool { return sim.Connections() >= 1 }); err != nil {
		t.Fatalf("sitrep run did not connect: %v\nlogs:\n%s", err, logs.String())
	}
	if _, err := sim.SlashCommand(wctx, "U0ALICE", general, "/incident", "open run test sev2"); err != nil {
		t.Fatal(err)
	}
	if err := sim.Wait(wctx, func() bool { return len(sim.Ephemerals("U0ALICE")) == 1 }); err != nil {
		t.Fatalf("no answer to the reporter: %v\nlogs:\n%s", err, logs.String())
	}
	// The change API runs beside the bot.
	m := regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no HTTP address in the logs:\n%s", logs.String())
	}
	// SITREP_API_TOKEN and the token named ci in sitrep.yaml both log.
	for _, secret := range []string{"api-secret-token", "ci-secret-token"} {
		req, _ := http.NewRequest("POST", "http://"+m[1]+"/api/v1/changes", strings.NewReader(`{"system":"web","person":"ci","summary":"deployed"}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("POST /api/v1/changes through sitrep run: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if resp, err := http.Get("http://" + m[1] + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET /metrics: %v %v", resp, err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"sitrep_changes_logged_total 2", "sitrep_envelopes_total 1", "sitrep_acks_total 1"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sitrep run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sitrep run did not stop after cancel")
	}
	out := logs.String()
	for _, secret := range []string{sim.BotToken(), sim.AppToken(), "api-secret-token", "ci-secret-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("a token appears in the logs:\n%s", out)
		}
	}
	for _, want := range []string{"sitrep is running", "incident opened", "sitrep stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	// The job runner took its leases as SITREP_INSTANCE.
	store, err := storage.Open(context.Background(), env["SITREP_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if j, err := store.Job(context.Background(), 1); err != nil || j.LockedBy != "replica-1" {
		t.Errorf("the room's job was run by %q (%v), want SITREP_INSTANCE replica-1", j.LockedBy, err)
	}
	// Each change records the token it came with.
	changes, err := store.Changes(context.Background(), incident.ChangeQuery{Limit: 10})
	sources := map[incident.ChangeSource]bool{}
	for _, c := range changes {
		sources[c.Source] = true
	}
	if err != nil || len(changes) != 2 || !sources["api"] || !sources["api:ci"] {
		t.Errorf("changes logged through the API = %+v (%v), want sources api and api:ci", changes, err)
	}
}

// BenchmarkRunIdle builds the sitrep binary, runs `sitrep run` against the
// simulator and reports the time from exec to a Socket Mode connection and
// the resident memory after idling.
func BenchmarkRunIdle(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "sitrep")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	sim := startSim(b)
	var connect, rss float64
	for i := range b.N {
		cmd := exec.Command(bin, "run")
		cmd.Dir = b.TempDir()
		cmd.Env = append(os.Environ(),
			"SLACK_BOT_TOKEN="+sim.BotToken(), "SLACK_APP_TOKEN="+sim.AppToken(), "SLACK_API_URL="+sim.APIURL(),
			"SITREP_DATABASE_URL=sqlite:"+filepath.Join(cmd.Dir, "idle.db"), "SITREP_HTTP_ADDR=127.0.0.1:0")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := sim.Wait(ctx, func() bool { return sim.Connections() >= 1 }); err != nil {
			b.Fatalf("run %d did not connect: %v", i, err)
		}
		cancel()
		connect += float64(time.Since(start).Microseconds()) / 1000
		time.Sleep(2 * time.Second)
		rss += readRSS(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("sitrep run exited with %v after SIGTERM", err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		_ = sim.Wait(ctx, func() bool { return sim.Connections() == 0 })
		cancel()
	}
	b.ReportMetric(connect/float64(b.N), "connect-ms")
	b.ReportMetric(rss/float64(b.N), "rss-MB")
}

// readRSS returns a process's resident memory in MB, from /proc.
func readRSS(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}
