package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

const alertsFile = `
alerts:
  channel: "#alerts"
  per_minute: 10
  sources:
    alertmanager: {token_env: SITREP_ALERTMANAGER_TOKEN}
    grafana: {token_env: SITREP_GRAFANA_TOKEN}
    splunk: {token_env: SITREP_SPLUNK_TOKEN}        # sent as ?token=
    pagerduty: {secret_env: SITREP_PAGERDUTY_SECRET} # HMAC secret(s); a comma-separated list while rotating
    generic: {token_env: SITREP_ALERT_TOKEN}
  routes:
    - name: critical-pages
      match: {source: alertmanager, labels: {severity: critical}}
      action: open
      severity: sev1
      systems: [checkout]
    - name: deploy-files
      match: {source: splunk, search_name: "Files changed in /opt/deploy"}
      action: change
      systems: [Web]
      per_minute: 3
    - name: everything-else
      channel: alerts-low
`

var alertSecrets = map[string]string{
	"SITREP_ALERTMANAGER_TOKEN": "am-secret-1", "SITREP_GRAFANA_TOKEN": " gf-secret-2 ", "SITREP_SPLUNK_TOKEN": "sp-secret-3",
	"SITREP_PAGERDUTY_SECRET": "pd-old-4, pd-new-5,", "SITREP_ALERT_TOKEN": "gen-secret-6",
}

// loadFile loads file as sitrep.yaml with env; errors name the file
// sitrep.yaml.
func loadFile(t *testing.T, file string, vars map[string]string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{"SITREP_CONFIG": path}
	for k, v := range vars {
		e[k] = v
	}
	cfg, err := Load(func(k string) string { return e[k] })
	if err != nil {
		err = fmt.Errorf("%s", strings.ReplaceAll(err.Error(), path, "sitrep.yaml"))
	}
	return cfg, err
}

func TestAlertSettings(t *testing.T) {
	t.Parallel()
	cfg, err := loadFile(t, alertsFile, alertSecrets)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.AlertSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := alert.Settings{Channel: "alerts", PerMinute: 10, Routes: []alert.Route{
		{Name: "critical-pages", Match: alert.Match{Source: alert.SourceAlertmanager, Labels: map[string]string{"severity": "critical"}},
			Action: alert.ActionOpen, Severity: incident.Sev1, Systems: []string{"checkout"}},
		{Name: "deploy-files", Match: alert.Match{Source: alert.SourceSplunk, SearchName: "Files changed in /opt/deploy"},
			Action: alert.ActionChange, Systems: []string{"web"}, PerMinute: 3},
		{Name: "everything-else", Action: alert.ActionTriage, Channel: "alerts-low"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	sources, err := cfg.AlertSources()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range sources {
		lines = append(lines, fmt.Sprintf("%s %s %q", s.Source, s.Env, s.Secrets))
	}
	wantLines := []string{
		`alertmanager SITREP_ALERTMANAGER_TOKEN ["am-secret-1"]`,
		`grafana SITREP_GRAFANA_TOKEN ["gf-secret-2"]`,
		`splunk SITREP_SPLUNK_TOKEN ["sp-secret-3"]`,
		`pagerduty SITREP_PAGERDUTY_SECRET ["pd-old-4" "pd-new-5"]`,
		`generic SITREP_ALERT_TOKEN ["gen-secret-6"]`,
	}
	if diff := cmp.Diff(wantLines, lines); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	printed := fmt.Sprintf("%v %+v %#v %+v %v", sources, sources, sources, cfg.Alerts, cfg)
	for _, secret := range []string{"am-secret-1", "gf-secret-2", "sp-secret-3", "pd-old-4", "pd-new-5", "gen-secret-6"} {
		if strings.Contains(printed, secret) {
			t.Errorf("printing the configuration shows the secret %s: %s", secret, printed)
		}
	}
}

func TestAlertDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadFile(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.AlertSettings()
	if err != nil || s.Channel != DefaultAlertChannel || s.PerMinute != 0 || len(s.Routes) != 0 {
		t.Errorf("defaults = %+v, %v", s, err)
	}
	if src, err := cfg.AlertSources(); err != nil || len(src) != 0 {
		t.Errorf("no sources configured = %v, %v", src, err)
	}
}

func TestAlertConfigErrors(t *testing.T) {
	t.Parallel()
	route := func(body string) string {
		return "alerts:\n  routes:\n    - name: r1\n      action: triage\n    - " + body + "\n"
	}
	src := func(body string) string { return "alerts:\n  sources:\n    " + body + "\n" }
	tests := []struct {
		name, file string
		env        map[string]string
		// wantLoad is in Load's error; wantSources in AlertSources'.
		wantLoad, wantSources string
	}{
		{name: "channel", file: "alerts:\n  channel: \"#Alerts Room\"\n", wantLoad: `sitrep.yaml: alerts.channel "#Alerts Room" is not a Slack channel name`},
		{name: "per minute", file: "alerts:\n  per_minute: -1\n", wantLoad: "sitrep.yaml: alerts.per_minute -1"},
		{name: "unknown key", file: "alerts:\n  chanel: x\n", wantLoad: "field chanel not found"},
		{name: "route unknown key", file: route("{name: r2, acton: open}"), wantLoad: "line 5: alerts.routes[].acton is not a setting"},
		{name: "match unknown key", file: route("{name: r2, match: {lables: {a: b}}}"), wantLoad: "alerts.routes[].match.lables is not a setting: use source, labels, severity, search_name"},
		{name: "route without name", file: route("{action: open}"), wantLoad: "sitrep.yaml:5: alerts.routes[1]: name: missing"},
		{name: "duplicate name", file: route("{name: R1}"), wantLoad: `alerts: route "R1": name: used by routes[0] and routes[1]`},
		{name: "action", file: route("{name: r2, action: page}"), wantLoad: `sitrep.yaml:5: alerts.routes[1] "r2": action "page": use triage`},
		{name: "change without systems", file: route("{name: r2, action: change}"), wantLoad: `sitrep.yaml:5: alerts.routes[1] "r2": systems: a change route`},
		{name: "severity", file: route("{name: r2, severity: urgent}"), wantLoad: `alerts.routes[1] "r2": severity: severity "urgent" is not one of sev1`},
		{name: "system", file: route("{name: r2, systems: [\"web app\"]}"), wantLoad: `alerts.routes[1] "r2": systems: system name "web app"`},
		{name: "match source", file: route("{name: r2, match: {source: nagios}}"), wantLoad: `alerts.routes[1] "r2": match.source "nagios": use one of alertmanager`},
		{name: "route channel", file: route("{name: r2, channel: \"#A B\"}"), wantLoad: `alerts.routes[1] "r2": channel "#A B"`},
		{name: "route per minute", file: route("{name: r2, per_minute: -5}"), wantLoad: `alerts.routes[1] "r2": per_minute -5`},

		{name: "unknown source", file: src("nagios: {token_env: X_TOKEN}"), wantLoad: "sitrep.yaml:3: alerts.sources.nagios: not a source sitrep reads"},
		{name: "source unknown key", file: src("grafana: {token: s3cr3t}"), wantLoad: "alerts.sources.<source>.token is not a setting: use token_env, secret_env"},
		{name: "token_env missing", file: src("grafana: {}"), wantLoad: "alerts.sources.grafana: token_env: missing: name the environment variable that holds the webhook's token, e.g. SITREP_GRAFANA_TOKEN"},
		{name: "secret_env missing", file: src("pagerduty: {}"), wantLoad: "alerts.sources.pagerduty: secret_env: missing"},
		{name: "pagerduty with a token", file: src("pagerduty: {token_env: PD_TOKEN}"), wantLoad: "alerts.sources.pagerduty: token_env: PagerDuty signs its webhooks"},
		{name: "grafana with a secret", file: src("grafana: {secret_env: GF}"), wantLoad: "alerts.sources.grafana: secret_env: Grafana sends a token"},
		{name: "not a variable name", file: src("grafana: {token_env: 9-s3cr3t}"), wantLoad: "alerts.sources.grafana: token_env is not an environment variable name"},
		{name: "a Slack token", file: src("grafana: {token_env: SLACK_BOT_TOKEN}"), wantLoad: "alerts.sources.grafana: token_env SLACK_BOT_TOKEN holds the Slack bot token"},
		{name: "the API's token", file: src("grafana: {token_env: SITREP_API_TOKEN}"), wantLoad: "token_env SITREP_API_TOKEN: also read by the change API"},
		{name: "two sources one variable", file: "alerts:\n  sources:\n    grafana: {token_env: T1}\n    splunk: {token_env: T1}\n",
			wantLoad: "alerts.sources.splunk: token_env T1: also read by alerts.sources.grafana"},

		{name: "unset", file: src("grafana: {token_env: GF_TOKEN}"), env: map[string]string{"GF_TOKEN": "  "},
			wantSources: ":3: alerts.sources.grafana: GF_TOKEN is not set: set it to the webhook's token"},
		{name: "secrets unset", file: src("pagerduty: {secret_env: PD}"), env: map[string]string{"PD": " ,, "},
			wantSources: "alerts.sources.pagerduty: PD is not set: set it to the webhook's signing secret"},
		{name: "one secret twice", file: "alerts:\n  sources:\n    grafana: {token_env: T1}\n    pagerduty: {secret_env: T2}\n",
			env: map[string]string{"T1": "same-secret", "T2": "other,same-secret"}, wantSources: "T1 and T2 hold the same secret (sources grafana and pagerduty)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadFile(t, tc.file, tc.env)
			if tc.wantLoad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantLoad) {
					t.Fatalf("Load error = %v, want %q", err, tc.wantLoad)
				}
				assertNoSecret(t, err.Error(), tc.env)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			srcs, err := cfg.AlertSources()
			if err == nil || !strings.Contains(err.Error(), tc.wantSources) || srcs != nil {
				t.Fatalf("AlertSources = %v, %v; want the error %q", srcs, err, tc.wantSources)
			}
			assertNoSecret(t, err.Error(), tc.env)
		})
	}
}
