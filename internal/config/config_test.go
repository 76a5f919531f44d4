package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
