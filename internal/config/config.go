// Package config reads sitrep's settings: defaults, then an optional YAML
// file, then the environment. Secrets and addresses come from the
// environment; channels and other team settings from the file. A wrong
// setting is an error that names it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is sitrep's whole configuration.
type Config struct {
	// Slack holds the tokens and API address (environment only).
	Slack Slack `yaml:"-"`
	// DatabaseURL is postgres://… for PostgreSQL, or sqlite:PATH (default
	// sqlite:sitrep.db) for the embedded database. SITREP_DATABASE_URL.
	DatabaseURL string `yaml:"-"`
	// DatabaseURLSet is true when SITREP_DATABASE_URL named the database,
	// false when DatabaseURL is DefaultDatabaseURL. Commands that only
	// read or add to an existing database refuse to create the default
	// one where no running sitrep would read it.
	DatabaseURLSet bool `yaml:"-"`
	// HTTPAddr is where the change API, /healthz and /metrics listen.
	// SITREP_HTTP_ADDR, default 127.0.0.1:8080.
	HTTPAddr string `yaml:"-"`
	// APIToken authorises change API calls. SITREP_API_TOKEN; without it
	// the API refuses calls.
	APIToken string `yaml:"-"`
	// API holds the change API's named tokens; see API and APITokens.
	API API `yaml:"api"`
	// Instance names this process on the job leases it takes.
	// SITREP_INSTANCE, default the host name. It must stay the same across
	// restarts of one deployment (a restarted process then takes back at
	// once the jobs it was running when it died) and differ between
	// replicas sharing a database. Environment only: the file is usually
	// shared by every replica.
	Instance string `yaml:"-"`
	// File is the configuration file read, if any.
	File string `yaml:"-"`

	Channels Channels `yaml:"channels"`
	// Incidents holds how incidents are run.
	Incidents IncidentSettings `yaml:"incidents"`
	// WhatChanged sets the "what changed?" message of a new incident.
	WhatChanged WhatChanged `yaml:"what_changed"`
	// PlanConfigs are the plans of attack; see Plans.
	PlanConfigs PlansConfig `yaml:"plans"`
	// Checklists sets the release checklists.
	Checklists Checklists `yaml:"checklists"`
	// RotationConfigs are the on-call rotations; see Rotations.
	RotationConfigs []RotationConfig `yaml:"rotations"`
	// Costs is the cost model; see CostModel.
	Costs CostConfig `yaml:"cost"`
	// Reports sets the scheduled reports; see OpsReview.
	Reports Reports `yaml:"reports"`
	// PermissionConfig says who may do what; see Permissions.
	PermissionConfig PermissionsConfig `yaml:"permissions"`
	// Alerts sets alert intake; see AlertSettings and AlertSources.
	Alerts Alerts `yaml:"alerts"`
}

// Slack holds what sitrep needs to reach a Slack workspace.
type Slack struct {
	// BotToken (xoxb-…) calls the Web API. SLACK_BOT_TOKEN.
	BotToken string
	// AppToken (xapp-…) opens Socket Mode connections. SLACK_APP_TOKEN.
	AppToken string
	// APIURL overrides Slack's API base, e.g. a simulator. SLACK_API_URL.
	APIURL string
}

// Channels names the channels sitrep posts to.
type Channels struct {
	// Incidents is where new incidents are announced. Default "incidents".
	Incidents string `yaml:"incidents"`
	// Ops is where rotation hand-offs are posted. Default "ops".
	Ops string `yaml:"ops"`
}

// IncidentSettings are the settings of how incidents are run.
type IncidentSettings struct {
	// ArchiveAfter archives a closed incident's channel after this long
	// ("24h"); empty or "0" keeps it.
	ArchiveAfter string `yaml:"archive_after"`
	// Handover says who may hand leadership over: "channel" (anyone in
	// the incident channel, the default), "tdo" (only the current TDO),
	// or "anyone".
	Handover string `yaml:"handover"`
	// UpdateEvery is the status update cadence by severity; see Cadence.
	UpdateEvery map[string]string `yaml:"update_every"`
}

// ArchiveDelay parses ArchiveAfter; 0 means never archive.
func (s IncidentSettings) ArchiveDelay() (time.Duration, error) {
	if strings.TrimSpace(s.ArchiveAfter) == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s.ArchiveAfter))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("incidents.archive_after %q is not a duration such as 24h or 30m", s.ArchiveAfter)
	}
	return d, nil
}

// WhatChanged sets how many changes, from how far back, a new incident's
// room is shown.
type WhatChanged struct {
	// Count is how many changes; default 4.
	Count int `yaml:"count"`
	// Window is how far before the opening, e.g. "24h"; default 24h.
	Window string `yaml:"window"`
}

// WindowDuration parses Window.
func (w WhatChanged) WindowDuration() (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(w.Window))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("what_changed.window %q is not a duration such as 24h or 90m", w.Window)
	}
	return d, nil
}

// DefaultFile is the configuration file read when SITREP_CONFIG is unset; it
// may be absent.
const DefaultFile = "sitrep.yaml"

// DefaultDatabaseURL is the database used when SITREP_DATABASE_URL is
// unset: sitrep.db in the working directory.
const DefaultDatabaseURL = "sqlite:sitrep.db"

// Default returns the configuration with every default set.
func Default() Config {
	return Config{
		DatabaseURL: DefaultDatabaseURL,
		HTTPAddr:    "127.0.0.1:8080",
		Channels:    Channels{Incidents: "incidents", Ops: "ops"},
		Incidents:   IncidentSettings{Handover: "channel"},
		WhatChanged: WhatChanged{Count: 4, Window: "24h"},
	}
}

// Load builds the configuration from defaults, the file named by
// SITREP_CONFIG (or sitrep.yaml if it exists) and the environment.
func Load(getenv func(string) string) (Config, error) {
	cfg := Default()
	path, explicit := getenv("SITREP_CONFIG"), true
	if path == "" {
		path, explicit = DefaultFile, false
	}
	f, err := os.Open(path)
	switch {
	case err == nil:
		defer f.Close()
		if err := cfg.readFile(path, f); err != nil {
			return cfg, err
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No file: defaults and environment only.
	default:
		return cfg, fmt.Errorf("SITREP_CONFIG: reading %s: %w", path, err)
	}
	if v := getenv("SITREP_DATABASE_URL"); v != "" {
		cfg.DatabaseURL, cfg.DatabaseURLSet = v, true
	}
	if v := strings.TrimSpace(getenv("SITREP_HTTP_ADDR")); v != "" {
		cfg.HTTPAddr = v
	}
	cfg.APIToken = strings.TrimSpace(getenv("SITREP_API_TOKEN"))
	if err := cfg.loadAPI(getenv); err != nil {
		return cfg, err
	}
	if err := cfg.loadAlerts(getenv); err != nil {
		return cfg, err
	}
	cfg.Instance = strings.TrimSpace(getenv("SITREP_INSTANCE"))
	if cfg.Instance == "" {
		cfg.Instance = hostname()
	}
	cfg.Slack = Slack{
		BotToken: strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken: strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		APIURL:   strings.TrimSpace(getenv("SLACK_API_URL")),
	}
	return cfg, cfg.validate()
}

func (c *Config) readFile(path string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.File = path
	return nil
}

var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,79}$`)

// instanceName is what SITREP_INSTANCE may hold: a host or pod name.
var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$`)

// hostname is the default instance name: the host name, or "sitrep".
func hostname() string {
	if h, err := os.Hostname(); err == nil && instanceName.MatchString(h) {
		return h
	}
	return "sitrep"
}

func (c *Config) validate() error {
	for _, ch := range []struct {
		name string
		v    *string
	}{{"incidents", &c.Channels.Incidents}, {"ops", &c.Channels.Ops}} {
		*ch.v = strings.TrimPrefix(strings.TrimSpace(*ch.v), "#")
		if !channelName.MatchString(*ch.v) {
			return fmt.Errorf("%s: channels.%s %q is not a Slack channel name (lowercase letters, digits, - and _, at most 80)", c.where(), ch.name, *ch.v)
		}
	}
	if c.Instance != "" && !instanceName.MatchString(c.Instance) {
		return fmt.Errorf("SITREP_INSTANCE %q: use a name such as the host or pod name (letters, digits and . _ : @ / -, at most 200), the same across restarts and different for each replica", c.Instance)
	}
	if c.WhatChanged.Count < 1 || c.WhatChanged.Count > 20 {
		return fmt.Errorf("%s: what_changed.count %d: show between 1 and 20 changes", c.where(), c.WhatChanged.Count)
	}
	if _, err := c.WhatChanged.WindowDuration(); err != nil {
		return fmt.Errorf("%s: %w", c.where(), err)
	}
	if _, err := c.Incidents.ArchiveDelay(); err != nil {
		return fmt.Errorf("%s: %w", c.where(), err)
	}
	switch c.Incidents.Handover {
	case "channel", "tdo", "anyone":
	case "":
		c.Incidents.Handover = "channel"
	default:
		return fmt.Errorf("%s: incidents.handover %q: use channel (anyone in the incident channel), tdo (only the current TDO) or anyone", c.where(), c.Incidents.Handover)
	}
	if _, err := c.Plans(); err != nil {
		return err
	}
	if _, err := c.TimeboxWarning(); err != nil {
		return err
	}
	if _, err := c.Templates(); err != nil {
		return err
	}
	if _, err := c.ChecklistIdle(); err != nil {
		return err
	}
	if _, err := c.CostModel(); err != nil {
		return err
	}
	if _, err := c.OpsReview(); err != nil {
		return err
	}
	_, err := c.Rotations()
	return err
}

func (c *Config) where() string {
	if c.File == "" {
		return "configuration"
	}
	return c.File
}

// CheckSlack reports, in words a person can act on, what is wrong with the
// Slack tokens: missing, or not the right kind. It never prints a token.
func (s Slack) CheckSlack() error {
	var problems []string
	switch {
	case s.BotToken == "":
		problems = append(problems, "SLACK_BOT_TOKEN is not set: install the app (see slack-app-manifest.yaml and the README's \"Connect your workspace\") and copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")
	case !strings.HasPrefix(s.BotToken, "xoxb-"):
		problems = append(problems, "SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token from OAuth & Permissions, not a user (xoxp-) or app-level (xapp-) token")
	}
	switch {
	case s.AppToken == "":
		problems = append(problems, "SLACK_APP_TOKEN is not set: in the app's Basic Information, under App-Level Tokens, generate one with the connections:write scope (xapp-…)")
	case !strings.HasPrefix(s.AppToken, "xapp-"):
		problems = append(problems, "SLACK_APP_TOKEN does not start with xapp-: use an App-Level Token with the connections:write scope")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}
