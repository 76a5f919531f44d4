package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestRunAppliesPermissions runs `sitrep run` with a permissions: block:
// a commander of the configured user group changes an incident from
// outside its room; an outsider's close is refused, answered, logged with
// user, action and incident, and counted in /metrics.
func TestRunAppliesPermissions(t *testing.T) {
	sim := startSim(t)
	for _, u := range []slacksim.User{{ID: "U0BOB", Name: "bob"}, {ID: "U0ERIN", Name: "erin"}} {
		sim.AddUser(u)
	}
	sim.AddUserGroup(slacksim.UserGroup{ID: "S0CMD", Handle: "commanders", Users: []string{"U0ERIN"}})
	general := sim.AddChannel("general", "U0ALICE")
	random := sim.AddChannel("random", "U0BOB", "U0ERIN")
	dir := t.TempDir()
	conf := filepath.Join(dir, "sitrep.yaml")
	if err := os.WriteFile(conf, []byte("permissions:\n  commanders: [\"<!subteam^S0CMD|@commanders>\"]\n  handover: tdo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_BOT_TOKEN":     sim.BotToken(),
		"SLACK_APP_TOKEN":     sim.AppToken(),
		"SLACK_API_URL":       sim.APIURL(),
		"SITREP_CONFIG":       conf,
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "run.db"),
		"SITREP_HTTP_ADDR":    "127.0.0.1:0",
	}
	t.Chdir(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sitrep run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("sitrep run did not stop after cancel")
		}
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := sim.Wait(wctx, func() bool { return sim.Connections() >= 1 }); err != nil {
		t.Fatalf("sitrep run did not connect: %v\nlogs:\n%s", err, logs.String())
	}
	slash := func(user, channel, text string) {
		t.Helper()
		if _, err := sim.SlashCommand(wctx, user, channel, "/incident", text); err != nil {
			t.Fatal(err)
		}
	}
	slash("U0ALICE", general, "open permissions test sev2")
	if err := sim.Wait(wctx, func() bool { return len(sim.Ephemerals("U0ALICE")) == 1 }); err != nil {
		t.Fatalf("no answer to the reporter: %v\nlogs:\n%s", err, logs.String())
	}
	slash("U0BOB", random, "close INC-1")
	if err := sim.Wait(wctx, func() bool { return len(sim.Ephemerals("U0BOB")) == 1 }); err != nil {
		t.Fatalf("no answer to the outsider: %v\nlogs:\n%s", err, logs.String())
	}
	if got := sim.Ephemerals("U0BOB")[0].Text; !strings.Contains(got, "Only the technical duty officer of INC-1 <@U0ALICE> or a commander can close INC-1") {
		t.Errorf("the outsider was answered %q", got)
	}
	// erin, a commander through the group, takes command from #random
	// although only the TDO may hand over.
	slash("U0ERIN", random, "tdo INC-1 <@U0ERIN>")
	if err := sim.Wait(wctx, func() bool { return strings.Contains(logs.String(), "TDO handed over") }); err != nil {
		t.Fatalf("the commander's hand-over: %v\nlogs:\n%s", err, logs.String())
	}
	if !regexp.MustCompile(`msg=refused .*user=U0BOB action=incident.close target=INC-1 rule=tdo`).MatchString(logs.String()) {
		t.Errorf("no refusal logged with user, action and incident:\n%s", logs.String())
	}
	m := regexp.MustCompile(`msg="HTTP API listening" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no HTTP address in the logs:\n%s", logs.String())
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "sitrep_refusals_total 1\n") {
		t.Errorf("metrics lack sitrep_refusals_total 1:\n%s", body)
	}
}

// TestRunRefusesConflictingHandover: permissions.handover and
// incidents.handover set to different policies stop sitrep at start,
// naming both.
func TestRunRefusesConflictingHandover(t *testing.T) {
	sim := startSim(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sitrep.yaml")
	if err := os.WriteFile(conf, []byte("incidents:\n  handover: anyone\npermissions:\n  handover: tdo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_BOT_TOKEN":     sim.BotToken(),
		"SLACK_APP_TOKEN":     sim.AppToken(),
		"SLACK_API_URL":       sim.APIURL(),
		"SITREP_CONFIG":       conf,
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "run.db"),
		"SITREP_HTTP_ADDR":    "127.0.0.1:0",
	}
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logs syncBuffer
	err := run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	if err == nil || !strings.Contains(err.Error(), "permissions.handover") || !strings.Contains(err.Error(), "incidents.handover") {
		t.Errorf("run = %v, want the conflict named", err)
	}
}
