package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/checklist"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "sqlite:sitrep.db" || cfg.Channels.Incidents != "incidents" || cfg.File != "" {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestLoadFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(path, []byte("channels:\n  incidents: \"#war-room\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(env(map[string]string{
		"SITREP_CONFIG":       path,
		"SITREP_DATABASE_URL": "postgres://db/x",
		"SLACK_BOT_TOKEN":     " xoxb-1 ",
		"SLACK_APP_TOKEN":     "xapp-1",
		"SLACK_API_URL":       "http://127.0.0.1:1/api/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Channels.Incidents != "war-room" || cfg.DatabaseURL != "postgres://db/x" || cfg.Slack.BotToken != "xoxb-1" || cfg.File != path {
		t.Errorf("loaded = %+v", cfg)
	}
	if err := cfg.Slack.CheckSlack(); err != nil {
		t.Errorf("CheckSlack: %v", err)
	}
}

func TestInstance(t *testing.T) {
	t.Chdir(t.TempDir())
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sitrep"
	}
	tests := []struct {
		name, env, want, wantErr string
	}{
		{"default is the host name", "", host, ""},
		{"set", "sitrep-0", "sitrep-0", ""},
		{"trimmed", "  pod/sitrep-7c9f:1 ", "pod/sitrep-7c9f:1", ""},
		{"spaces", "my laptop", "", `SITREP_INSTANCE "my laptop": use a name such as the host or pod name`},
		{"too long", strings.Repeat("x", 201), "", "at most 200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(env(map[string]string{"SITREP_INSTANCE": tc.env}))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Load error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.Instance != tc.want {
				t.Errorf("Instance = %q (%v), want %q", cfg.Instance, err, tc.want)
			}
		})
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"unknown key", write("typo.yaml", "channels:\n  incident: x\n"), "field incident not found"},
		{"bad channel", write("bad.yaml", "channels:\n  incidents: War Room\n"), "channels.incidents \"War Room\" is not a Slack channel name"},
		{"missing explicit file", filepath.Join(dir, "nope.yaml"), "SITREP_CONFIG: reading"},
		{"not yaml", write("junk.yaml", "channels: [\n"), "junk.yaml"},
		{"bad archive delay", write("arch.yaml", "incidents:\n  archive_after: tomorrow\n"), `incidents.archive_after "tomorrow" is not a duration`},
		{"bad what_changed count", write("wc.yaml", "what_changed:\n  count: 0\n"), "what_changed.count 0"},
		{"bad what_changed window", write("ww.yaml", "what_changed:\n  window: a day\n"), `what_changed.window "a day"`},
		{"bad handover", write("hand.yaml", "incidents:\n  handover: boss\n"), `incidents.handover "boss": use channel`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(map[string]string{"SITREP_CONFIG": tc.path}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) error = %v, want it to contain %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestCheckSlack(t *testing.T) {
	tests := []struct {
		name    string
		s       Slack
		want    []string
		notWant string
	}{
		{"both missing", Slack{}, []string{"SLACK_BOT_TOKEN is not set", "SLACK_APP_TOKEN is not set"}, ""},
		{"swapped", Slack{BotToken: "xapp-secret1", AppToken: "xoxb-secret2"}, []string{"SLACK_BOT_TOKEN does not start with xoxb-", "SLACK_APP_TOKEN does not start with xapp-"}, "secret"},
		{"user token", Slack{BotToken: "xoxp-secret", AppToken: "xapp-ok"}, []string{"not a user (xoxp-)"}, "secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.CheckSlack()
			if err == nil {
				t.Fatal("CheckSlack accepted bad tokens")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckSlack error %q lacks %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("CheckSlack error %q shows the token", err)
			}
		})
	}
}

func TestRotations(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`rotations:
  - name: db
    members: [U0ANA, U0BEN]
    handoff: "0 9 * * MON"
    timezone: Europe/London
    start: "2026-11-23 09:00"
    systems: [DB, cache]
  - name: ops
    members: [U0OPS]
    handoff: "0 9 * * *"
    start: "2026-01-01 09:00"
    default: true
`), 0o600)
	cfg, err := Load(env(map[string]string{"SITREP_CONFIG": good}))
	if err != nil {
		t.Fatal(err)
	}
	rots, err := cfg.Rotations()
	if err != nil || len(rots) != 2 {
		t.Fatalf("Rotations = %v, %v", rots, err)
	}
	db := rots[0]
	if db.Systems[0] != "db" || !db.Start.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("db rotation = %+v", db)
	}
	// Hand-offs are Mondays 09:00 London: the next after the start is a week on.
	if next := db.Schedule.Next(db.Start); !next.Equal(db.Start.AddDate(0, 0, 7)) {
		t.Errorf("next hand-off = %v", next)
	}
	if d := db.OnCall(db.Start.AddDate(0, 0, 8)); d.Member != "U0BEN" || d.Next != "U0ANA" {
		t.Errorf("on call a week and a day in = %+v", d)
	}

	base := "rotations:\n  - name: db\n    members: [U0ANA]\n    handoff: \"0 9 * * MON\"\n    start: \"2026-11-23 09:00\"\n"
	tests := []struct{ name, body, want string }{
		{"bad cron", strings.Replace(base, "0 9 * * MON", "every monday", 1), `rotation "db": handoff: "every monday" is not a cron spec`},
		{"missing cron", strings.Replace(base, "    handoff: \"0 9 * * MON\"\n", "", 1), `rotation "db": handoff: missing`},
		{"bad zone", base + "    timezone: Mars/Olympus\n", `rotation "db": timezone: "Mars/Olympus"`},
		{"bad start", strings.Replace(base, "2026-11-23 09:00", "next monday", 1), `rotation "db": start: "next monday"`},
		{"bad member", strings.Replace(base, "[U0ANA]", "[ana]", 1), `rotation "db": members: "ana" is not a Slack user ID`},
		{"no members", strings.Replace(base, "[U0ANA]", "[]", 1), `rotation "db" has no members`},
		{"bad system", base + "    systems: [\"we b\"]\n", `rotation "db": systems:`},
		{"two defaults", base + "    default: true\n  - name: ops\n    members: [U0X]\n    handoff: \"0 9 * * *\"\n    start: \"2026-01-01 09:00\"\n    default: true\n", "2 are marked default"},
		{"typo", base + "    memebers: [U1]\n", "field memebers not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			os.WriteFile(path, []byte(tc.body), 0o600)
			_, err := Load(env(map[string]string{"SITREP_CONFIG": path}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %v, want it to name %s and say %q", err, path, tc.want)
			}
		})
	}
}

func TestPlans(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "plans.yaml")
	os.WriteFile(good, []byte(`plans:
  default:
    diagnostics: ["grab logs"]
    diagnose_minutes: {sev1: 15, sev2: 30}
  systems:
    DB:
      diagnostics: ["copy slow-query log"]
      diagnose_minutes: {sev1: 10}
      restore: ["fail over to the replica"]
      runbook: https://wiki.example/db
`), 0o600)
	cfg, err := Load(env(map[string]string{"SITREP_CONFIG": good}))
	if err != nil {
		t.Fatal(err)
	}
	plans, err := cfg.Plans()
	if err != nil {
		t.Fatal(err)
	}
	db := plans.For([]string{"db"})
	if db.Timebox[1] != 10*time.Minute || db.Timebox[2] != 30*time.Minute || db.Runbooks[0] != "https://wiki.example/db" || db.Restore[0] != "fail over to the replica" {
		t.Errorf("db plan = %+v", db)
	}
	if d, _ := Load(env(nil)); d.PlanConfigs.Default != nil {
		t.Error("a default plan appeared from nowhere")
	}
	if p, _ := (&Config{}).Plans(); p.Default.Timebox[1] != 10*time.Minute {
		t.Errorf("built-in default plan = %+v", p.Default)
	}
	if w, err := cfg.TimeboxWarning(); w != 0.8 || err != nil {
		t.Errorf("default warning = %v, %v; want 0.8", w, err)
	}
	off := 0.0
	cfg.PlanConfigs.WarnAt = &off
	if w, err := cfg.TimeboxWarning(); w != 0 || err != nil {
		t.Errorf("warn_at 0 = %v, %v; want the warning off", w, err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"bad severity", "plans:\n  systems:\n    db:\n      diagnose_minutes: {sev9: 10}\n", `plans.systems.db: diagnose_minutes: "sev9" is not sev1`},
		{"zero minutes", "plans:\n  systems:\n    db:\n      diagnose_minutes: {sev1: 0}\n", "plans.systems.db: diagnose_minutes.sev1: 0s is not between 1 minute and 24 hours"},
		{"empty step", "plans:\n  default:\n    diagnostics: [\"\"]\n", "plans.default: diagnostics[0]: each step is 1 to 200 characters"},
		{"bad runbook", "plans:\n  systems:\n    api:\n      runbook: wiki/api\n", `plans.systems.api: runbook: "wiki/api" is not an http(s) URL`},
		{"bad system", "plans:\n  systems:\n    \"we b\":\n      diagnostics: [x]\n", "plans.systems.we b:"},
		{"typo", "plans:\n  systems:\n    db:\n      diagnostic: [x]\n", "field diagnostic not found"},
		{"warn at 100%", "plans:\n  warn_at: 1\n", "plans.warn_at 1: give a fraction of the timebox from 0"},
		{"warn at -0.5", "plans:\n  warn_at: -0.5\n", "plans.warn_at -0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			os.WriteFile(path, []byte(tc.body), 0o600)
			_, err := Load(env(map[string]string{"SITREP_CONFIG": path}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %v, want it to name %s and say %q", err, path, tc.want)
			}
		})
	}
}

func TestChecklistTemplates(t *testing.T) {
	dir := t.TempDir()
	tdir := filepath.Join(dir, "checklists")
	os.Mkdir(tdir, 0o755)
	os.WriteFile(filepath.Join(tdir, "db.yaml"), []byte("name: db-release\nsystem: db\nsteps:\n  - text: migrate\n  - text: Migrate\n"), 0o600)
	path := filepath.Join(dir, "sitrep.yaml")
	os.WriteFile(path, []byte("checklists:\n  dir: "+tdir+"\n"), 0o600)
	_, err := Load(env(map[string]string{"SITREP_CONFIG": path}))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(tdir, "db.yaml")+":5: step 2 repeats step 1") {
		t.Errorf("duplicate step: %v", err)
	}
	os.WriteFile(filepath.Join(tdir, "db.yaml"), []byte("name: db-release\nsystem: db\nsteps:\n  - text: migrate\n"), 0o600)
	cfg, err := Load(env(map[string]string{"SITREP_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := cfg.Templates()
	if len(ts) != 1 || ts["db-release"].System != "db" {
		t.Errorf("templates = %+v", ts)
	}
	if d, _ := Load(env(nil)); len(mustTemplates(t, d)) != 3 {
		t.Error("without checklists.dir the three shipped templates are not used")
	}
	os.WriteFile(path, []byte("checklists:\n  idle_reminder: 10s\n"), 0o600)
	if _, err := Load(env(map[string]string{"SITREP_CONFIG": path})); err == nil || !strings.Contains(err.Error(), "checklists.idle_reminder \"10s\"") {
		t.Errorf("idle 10s: %v", err)
	}
}

func mustTemplates(t *testing.T, c Config) map[string]checklist.Template {
	t.Helper()
	ts, err := c.Templates()
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
