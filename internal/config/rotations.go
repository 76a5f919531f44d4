package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/incident"
)

// RotationConfig is an on-call rotation as written in the file.
type RotationConfig struct {
	Name string `yaml:"name"`
	// Members are Slack user IDs, in order of duty.
	Members []string `yaml:"members"`
	// Handoff is a cron spec ("0 9 * * MON") in TimeZone.
	Handoff string `yaml:"handoff"`
	// TimeZone is an IANA zone; default UTC.
	TimeZone string `yaml:"timezone"`
	// Start is when the first member went on duty, "2026-11-23 09:00" in
	// TimeZone.
	Start string `yaml:"start"`
	// Systems whose incidents this rotation leads.
	Systems []string `yaml:"systems"`
	// Default: this rotation leads incidents no other rotation covers.
	Default bool `yaml:"default"`
}

// startLayout is how Start is written.
const startLayout = "2006-01-02 15:04"

// Rotations turns the configured rotations into the domain's, checking
// each: an error names the file, the rotation and the field.
func (c *Config) Rotations() ([]incident.Rotation, error) {
	var out []incident.Rotation
	seen := map[string]bool{}
	defaults := 0
	for i, rc := range c.RotationConfigs {
		where := fmt.Sprintf("%s: rotations[%d]", c.where(), i)
		if rc.Name != "" {
			where = fmt.Sprintf("%s: rotation %q", c.where(), rc.Name)
		}
		if seen[rc.Name] {
			return nil, fmt.Errorf("%s: name: used by two rotations", where)
		}
		seen[rc.Name] = true
		loc := time.UTC
		if rc.TimeZone != "" {
			var err error
			if loc, err = time.LoadLocation(rc.TimeZone); err != nil {
				return nil, fmt.Errorf("%s: timezone: %q is not an IANA time zone such as Europe/London", where, rc.TimeZone)
			}
		}
		sched, err := parseSpec(rc.Handoff, loc)
		if err != nil {
			return nil, fmt.Errorf("%s: handoff: %w", where, err)
		}
		start, err := time.ParseInLocation(startLayout, strings.TrimSpace(rc.Start), loc)
		if err != nil {
			return nil, fmt.Errorf("%s: start: %q is not a time written as %q", where, rc.Start, startLayout)
		}
		for _, m := range rc.Members {
			if !strings.HasPrefix(m, "U") && !strings.HasPrefix(m, "W") {
				return nil, fmt.Errorf("%s: members: %q is not a Slack user ID (U…): find it in the person's profile, under ⋮ → Copy member ID", where, m)
			}
		}
		var systems []string
		for _, s := range rc.Systems {
			n, err := incident.NormalizeSystem(s)
			if err != nil {
				return nil, fmt.Errorf("%s: systems: %w", where, err)
			}
			systems = append(systems, n)
		}
		r := incident.Rotation{Name: rc.Name, Members: rc.Members, Schedule: sched, Start: start.UTC(), Systems: systems, Default: rc.Default}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if rc.Default {
			defaults++
		}
		out = append(out, r)
	}
	if defaults > 1 {
		return nil, fmt.Errorf("%s: rotations: %d are marked default; mark one", c.where(), defaults)
	}
	return out, nil
}

// parseSpec parses a five-field cron spec in loc. robfig/cron can panic on
// some malformed specs; that is reported as an error.
func parseSpec(spec string, loc *time.Location) (s cron.Schedule, err error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("missing: write a cron spec such as \"0 9 * * MON\" (Mondays 09:00)")
	}
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%q is not a cron spec: %v", spec, p)
		}
	}()
	s, err = cron.ParseStandard("CRON_TZ=" + loc.String() + " " + strings.TrimSpace(spec))
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron spec such as \"0 9 * * MON\": %w", spec, err)
	}
	return s, nil
}
