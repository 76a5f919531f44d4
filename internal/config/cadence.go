package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// Cadence returns incidents.update_every, checked: how often an incident
// of each severity must post a status update before its TDO is nudged.
// The defaults (sev1 30m, sev2 60m, none for sev3 and sev4) hold for every
// severity the file does not name; "off" (or 0) turns one off. An error
// names the setting and says what to write.
func (c *Config) Cadence() (incident.Cadence, error) {
	out := incident.DefaultCadence()
	keys := make([]string, 0, len(c.Incidents.UpdateEvery))
	for k := range c.Incidents.UpdateEvery {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		value := strings.TrimSpace(c.Incidents.UpdateEvery[key])
		sev, err := incident.ParseSeverity(key)
		if err != nil {
			return nil, fmt.Errorf("%s: incidents.update_every.%s: name a severity, sev1 to sev4", c.where(), key)
		}
		setting := "incidents.update_every." + sev.String()
		if value == "off" || value == "0" {
			delete(out, sev)
			continue
		}
		d, err := time.ParseDuration(value)
		if err != nil || d < incident.MinUpdateEvery || d > incident.MaxUpdateEvery {
			return nil, fmt.Errorf("%s: %s %q: give a duration from 5m to 24h, such as 30m or 1h, or off", c.where(), setting, value)
		}
		out[sev] = d
	}
	return out, nil
}
