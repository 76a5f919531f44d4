package config

import (
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// PlanConfig is a plan of attack as written in the file.
type PlanConfig struct {
	Diagnostics []string `yaml:"diagnostics"`
	// DiagnoseMinutes is how long diagnosis may run, by severity
	// ("sev1": 10).
	DiagnoseMinutes map[string]int `yaml:"diagnose_minutes"`
	Restore         []string       `yaml:"restore"`
	Runbook         string         `yaml:"runbook"`
}

// PlansConfig holds the default plan and the plans of systems.
type PlansConfig struct {
	Default *PlanConfig           `yaml:"default"`
	Systems map[string]PlanConfig `yaml:"systems"`
	// WarnAt is how far into the diagnosis timebox the warning comes, as
	// a fraction: 0.8 (the default) warns at 80%; 0 turns it off.
	WarnAt *float64 `yaml:"warn_at"`
}

// TimeboxWarning returns plans.warn_at, checked.
func (c *Config) TimeboxWarning() (float64, error) {
	if c.PlanConfigs.WarnAt == nil {
		return incident.DefaultWarnAt, nil
	}
	w := *c.PlanConfigs.WarnAt
	if w < 0 || w >= 1 {
		return 0, fmt.Errorf("%s: plans.warn_at %v: give a fraction of the timebox from 0 (no warning) to below 1, e.g. 0.8 for 80%%", c.where(), w)
	}
	return w, nil
}

// defaultPlan is used when the file names none: restore first, with a
// timebox that shrinks as severity rises.
var defaultPlan = incident.Plan{
	Diagnostics: []string{"note the first error and when it began", "save logs of the failing service"},
	Timebox: map[incident.Severity]time.Duration{
		incident.Sev1: 10 * time.Minute, incident.Sev2: 20 * time.Minute,
		incident.Sev3: 45 * time.Minute, incident.Sev4: 90 * time.Minute,
	},
}

// Plans turns the configured plans into the domain's, checking each: an
// error names the file, the plan and the field.
func (c *Config) Plans() (incident.Plans, error) {
	out := incident.Plans{Default: defaultPlan, Systems: map[string]incident.Plan{}}
	if c.PlanConfigs.Default != nil {
		p, err := c.PlanConfigs.Default.plan()
		if err != nil {
			return out, fmt.Errorf("%s: plans.default: %w", c.where(), err)
		}
		out.Default = p
	}
	names := make([]string, 0, len(c.PlanConfigs.Systems))
	for name := range c.PlanConfigs.Systems {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sys, err := incident.NormalizeSystem(name)
		if err != nil {
			return out, fmt.Errorf("%s: plans.systems.%s: %w", c.where(), name, err)
		}
		pc := c.PlanConfigs.Systems[name]
		p, err := pc.plan()
		if err != nil {
			return out, fmt.Errorf("%s: plans.systems.%s: %w", c.where(), name, err)
		}
		out.Systems[sys] = p
	}
	return out, nil
}

func (pc PlanConfig) plan() (incident.Plan, error) {
	p := incident.Plan{Diagnostics: pc.Diagnostics, Restore: pc.Restore, Timebox: map[incident.Severity]time.Duration{}}
	for key, minutes := range pc.DiagnoseMinutes {
		sev, err := incident.ParseSeverity(key)
		if err != nil {
			return p, fmt.Errorf("diagnose_minutes: %q is not sev1, sev2, sev3 or sev4", key)
		}
		p.Timebox[sev] = time.Duration(minutes) * time.Minute
	}
	if pc.Runbook != "" {
		u, err := url.Parse(pc.Runbook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return p, fmt.Errorf("runbook: %q is not an http(s) URL", pc.Runbook)
		}
		p.Runbooks = []string{pc.Runbook}
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	return p, nil
}
