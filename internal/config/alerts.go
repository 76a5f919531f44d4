package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

// Alerts sets alert intake (package alert): where triage messages go, how
// many a route may post a minute, the credentials of each source's
// webhook, and the routes. In the file:
//
//	alerts:
//	  channel: "#alerts"
//	  per_minute: 10
//	  sources:
//	    alertmanager: {token_env: SITREP_ALERTMANAGER_TOKEN}
//	    grafana: {token_env: SITREP_GRAFANA_TOKEN}
//	    splunk: {token_env: SITREP_SPLUNK_TOKEN}        # sent as ?token=
//	    pagerduty: {secret_env: SITREP_PAGERDUTY_SECRET} # HMAC secret(s), comma-separated while rotating
//	    generic: {token_env: SITREP_ALERT_TOKEN}
//	  routes:
//	    - name: critical-pages
//	      match: {source: alertmanager, labels: {severity: critical}}
//	      action: open
//	      severity: sev1
//	      systems: [checkout]
//	    - name: everything-else
//	      action: triage
//
// Secrets are read from the environment variables named here, never from
// the file. A source not listed has no credentials: its webhook refuses
// every call.
type Alerts struct {
	// Channel is where triage messages and storm digests go; default
	// "alerts".
	Channel string `yaml:"channel"`
	// PerMinute bounds the new messages each route posts a minute;
	// default alert.DefaultPerMinute.
	PerMinute int `yaml:"per_minute"`
	// Sources are the webhooks' credentials by source name.
	Sources map[string]AlertSourceConfig `yaml:"sources"`
	// Routes are tried in order; the first that matches a new group wins.
	Routes []AlertRouteConfig `yaml:"routes"`

	// secrets holds what each source's variable held at Load.
	secrets *secrets
}

// AlertSourceConfig is one source's credentials as written in the file:
// the variable that holds its bearer (or, for Splunk, query) token, or,
// for PagerDuty, its signing secrets.
type AlertSourceConfig struct {
	// TokenEnv names the variable holding the token: alertmanager,
	// grafana and generic send it as a bearer token, splunk as ?token=.
	TokenEnv string `yaml:"token_env"`
	// SecretEnv names the variable holding PagerDuty's webhook signing
	// secret; several, comma-separated, while one is rotated.
	SecretEnv string `yaml:"secret_env"`

	line int
}

// UnmarshalYAML reads a source, remembering its line, and refuses keys it
// does not know (a custom decoder does not inherit KnownFields).
func (s *AlertSourceConfig) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "alerts.sources.<source>", "token_env", "secret_env"); err != nil {
		return err
	}
	type plain AlertSourceConfig
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*s = AlertSourceConfig(v)
	s.line = n.Line
	return nil
}

// AlertRouteConfig is a route as written in the file; see alert.Route.
type AlertRouteConfig struct {
	Name  string           `yaml:"name"`
	Match AlertMatchConfig `yaml:"match"`
	// Action is triage (the default), open or change.
	Action string `yaml:"action"`
	// Severity (sev1..sev4) is the severity of the incident an open
	// route opens, and the one the Declare form proposes.
	Severity string `yaml:"severity"`
	// Systems are the incident's (open) or the change's (change).
	Systems []string `yaml:"systems"`
	// Channel overrides alerts.channel for this route's messages.
	Channel string `yaml:"channel"`
	// PerMinute overrides alerts.per_minute for this route.
	PerMinute int `yaml:"per_minute"`

	line int
}

// AlertMatchConfig is what a route matches; see alert.Match.
type AlertMatchConfig struct {
	Source     string            `yaml:"source"`
	Labels     map[string]string `yaml:"labels"`
	Severity   string            `yaml:"severity"`
	SearchName string            `yaml:"search_name"`
}

// UnmarshalYAML reads a route, remembering its line, and refuses keys it
// does not know, in the route and in its match.
func (r *AlertRouteConfig) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "alerts.routes[]", "name", "match", "action", "severity", "systems", "channel", "per_minute"); err != nil {
		return err
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "match" {
				if err := knownKeys(n.Content[i+1], "alerts.routes[].match", "source", "labels", "severity", "search_name"); err != nil {
					return err
				}
			}
		}
	}
	type plain AlertRouteConfig
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*r = AlertRouteConfig(v)
	r.line = n.Line
	return nil
}

// knownKeys refuses a mapping key of n that is not one of keys.
func knownKeys(n *yaml.Node, where string, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(keys, k) {
			return fmt.Errorf("line %d: %s.%s is not a setting: use %s", n.Content[i].Line, where, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// AlertSource is a source's credentials, with their secrets. It prints as
// its source and variable, never its secrets.
type AlertSource struct {
	Source alert.Source
	// Env is the environment variable the secrets came from.
	Env string
	// Secrets are the tokens a call may carry (one), or PagerDuty's
	// signing secrets (one, or several while rotating).
	Secrets []string
}

// String names the source's credentials without their secrets.
func (s AlertSource) String() string { return string(s.Source) + " (" + s.Env + ")" }

// GoString is String: %#v shows no secret either.
func (s AlertSource) GoString() string { return s.String() }

// DefaultAlertChannel is where triage messages go unless alerts.channel
// says otherwise.
const DefaultAlertChannel = "alerts"

// loadAlerts checks the alerts section and reads each source's secret
// with getenv. Whether every secret is set is checked by AlertSources,
// when the webhooks are about to serve.
func (c *Config) loadAlerts(getenv func(string) string) error {
	a := &c.Alerts
	a.secrets = &secrets{byEnv: map[string]string{}}
	envs := map[string]string{} // variable → source
	for _, tc := range c.API.Tokens {
		envs[tc.TokenEnv] = "api token " + tc.Name
	}
	envs[apiTokenEnv] = "the change API (SITREP_API_TOKEN)"
	names := make([]string, 0, len(a.Sources))
	for name := range a.Sources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sc := a.Sources[name]
		where := c.alertsWhere(sc.line, "alerts.sources."+name)
		src, ok := alert.ParseSource(name)
		if !ok {
			return fmt.Errorf("%s: not a source sitrep reads: use %s", where, alertSourceNames())
		}
		field, env, other := "token_env", strings.TrimSpace(sc.TokenEnv), strings.TrimSpace(sc.SecretEnv)
		if src == alert.SourcePagerDuty {
			field, env, other = "secret_env", other, env
		}
		switch {
		case other != "" && field == "secret_env":
			return fmt.Errorf("%s: token_env: PagerDuty signs its webhooks with a shared secret instead of sending a token: name the secret's variable in secret_env", where)
		case other != "":
			return fmt.Errorf("%s: secret_env: %s sends a token, not a signature: name the token's variable in token_env", where, src.Name())
		}
		example := "SITREP_" + strings.ToUpper(name) + "_TOKEN"
		if field == "secret_env" {
			example = "SITREP_PAGERDUTY_SECRET"
		}
		switch {
		case env == "":
			return fmt.Errorf("%s: %s: missing: name the environment variable that holds the %s, e.g. %s (the secret never goes in the file)", where, field, secretWord(field), example)
		case !envName.MatchString(env):
			// Not quoted: it may be the secret itself, written in by mistake.
			return fmt.Errorf("%s: %s is not an environment variable name (letters, digits and _, not starting with a digit), e.g. %s: write the variable's name there and put the secret in that variable", where, field, example)
		case otherSecrets[env] != "":
			return fmt.Errorf("%s: %s %s holds %s: give the source a variable of its own", where, field, env, otherSecrets[env])
		}
		if o, ok := envs[env]; ok {
			return fmt.Errorf("%s: %s %s: also read by %s: give each source its own variable, so a leaked secret opens one door", where, field, env, o)
		}
		envs[env] = "alerts.sources." + name
		if field == "secret_env" {
			sc.SecretEnv, sc.TokenEnv = env, ""
		} else {
			sc.TokenEnv, sc.SecretEnv = env, ""
		}
		a.Sources[name] = sc
		a.secrets.byEnv[env] = getenv(env)
	}
	_, err := c.AlertSettings()
	return err
}

// secretWord is what a field's variable holds, in words.
func secretWord(field string) string {
	if field == "secret_env" {
		return "webhook's signing secret"
	}
	return "webhook's token"
}

// alertSourceNames lists the sources for error messages.
func alertSourceNames() string {
	var names []string
	for _, s := range alert.Sources() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// alertsWhere names a setting, with the file and line when known.
func (c *Config) alertsWhere(line int, setting string) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d: %s", c.where(), line, setting)
	}
	return fmt.Sprintf("%s: %s", c.where(), setting)
}

// AlertSettings turns the alerts section into the domain's settings,
// checking each route: an error names the file, the line, the route and
// the field.
func (c *Config) AlertSettings() (alert.Settings, error) {
	a := c.Alerts
	s := alert.Settings{Channel: DefaultAlertChannel, PerMinute: a.PerMinute}
	if ch := strings.TrimSpace(a.Channel); ch != "" {
		s.Channel = strings.TrimPrefix(ch, "#")
	}
	if !channelName.MatchString(s.Channel) {
		return alert.Settings{}, fmt.Errorf("%s: alerts.channel %q is not a Slack channel name (lowercase letters, digits, - and _, at most 80)", c.where(), a.Channel)
	}
	if a.PerMinute < 0 {
		return alert.Settings{}, fmt.Errorf("%s: alerts.per_minute %d: use a positive number of messages a minute, or leave it out for %d", c.where(), a.PerMinute, alert.DefaultPerMinute)
	}
	for i, rc := range a.Routes {
		where := c.alertsWhere(rc.line, fmt.Sprintf("alerts.routes[%d]", i))
		if rc.Name != "" {
			where = fmt.Sprintf("%s %q", where, rc.Name)
		}
		r := alert.Route{Name: strings.TrimSpace(rc.Name), Action: alert.Action(strings.ToLower(strings.TrimSpace(rc.Action))),
			PerMinute: rc.PerMinute,
			Match: alert.Match{Source: alert.Source(strings.ToLower(strings.TrimSpace(rc.Match.Source))), Labels: rc.Match.Labels,
				Severity: strings.TrimSpace(rc.Match.Severity), SearchName: rc.Match.SearchName}}
		if r.Action == "" {
			r.Action = alert.ActionTriage
		}
		if v := strings.TrimSpace(rc.Severity); v != "" {
			sev, err := incident.ParseSeverity(v)
			if err != nil {
				return alert.Settings{}, fmt.Errorf("%s: severity: %w", where, err)
			}
			r.Severity = sev
		}
		for _, sys := range rc.Systems {
			n, err := incident.NormalizeSystem(sys)
			if err != nil {
				return alert.Settings{}, fmt.Errorf("%s: systems: %w", where, err)
			}
			r.Systems = append(r.Systems, n)
		}
		if ch := strings.TrimSpace(rc.Channel); ch != "" {
			r.Channel = strings.TrimPrefix(ch, "#")
			if !channelName.MatchString(r.Channel) {
				return alert.Settings{}, fmt.Errorf("%s: channel %q is not a Slack channel name (lowercase letters, digits, - and _, at most 80)", where, rc.Channel)
			}
		}
		if err := r.Validate(); err != nil {
			return alert.Settings{}, fmt.Errorf("%s: %w", where, err)
		}
		s.Routes = append(s.Routes, r)
	}
	if err := s.Validate(); err != nil {
		return alert.Settings{}, fmt.Errorf("%s: alerts: %w", c.where(), err)
	}
	return s, nil
}

// AlertSources returns the configured sources' credentials, each with its
// secrets, in the order of alert.Sources. A configured source whose
// variable is unset or empty is an error that names the setting and the
// variable, never a secret, as are two sources with one secret.
func (c *Config) AlertSources() ([]AlertSource, error) {
	var out []AlertSource
	var problems []error
	for _, src := range alert.Sources() {
		sc, ok := c.Alerts.Sources[string(src)]
		if !ok {
			continue
		}
		where := c.alertsWhere(sc.line, "alerts.sources."+string(src))
		env, field := sc.TokenEnv, "token"
		if src == alert.SourcePagerDuty {
			env, field = sc.SecretEnv, "signing secret"
		}
		raw := strings.TrimSpace(c.Alerts.secrets.get(env))
		var list []string
		if src == alert.SourcePagerDuty {
			for _, part := range strings.Split(raw, ",") {
				if p := strings.TrimSpace(part); p != "" && !slices.Contains(list, p) {
					list = append(list, p)
				}
			}
		} else if raw != "" {
			list = []string{raw}
		}
		if len(list) == 0 {
			problems = append(problems, fmt.Errorf("%s: %s is not set: set it to the webhook's %s (e.g. the output of openssl rand -hex 32), or remove the source", where, env, field))
			continue
		}
		out = append(out, AlertSource{Source: src, Env: env, Secrets: list})
	}
	for i := range out {
		for j := range i {
			for _, s := range out[i].Secrets {
				if slices.Contains(out[j].Secrets, s) {
					problems = append(problems, fmt.Errorf("%s and %s hold the same secret (sources %s and %s): give each source its own", out[j].Env, out[i].Env, out[j].Source, out[i].Source))
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}
