package alert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sitrep/sitrep/incident"
)

// DefaultRoute names the route a group takes when no configured route
// matches it: triage in the settings' channel.
const DefaultRoute = "default"

// MaxRouteName bounds a route's name; it is part of job keys and of the
// storm digest's title.
const MaxRouteName = 64

// Matches reports whether a matches m: every field set in m must match, so
// an empty Match matches every alert. Label values and the search name are
// compared exactly; the severity word case-insensitively.
func (m Match) Matches(a Alert) bool {
	if m.Source != "" && m.Source != a.Source {
		return false
	}
	for k, v := range m.Labels {
		got, ok := a.Labels[k]
		if !ok || got != v {
			return false
		}
	}
	if m.Severity != "" && !strings.EqualFold(strings.TrimSpace(m.Severity), strings.TrimSpace(a.Severity)) {
		return false
	}
	if m.SearchName != "" && m.SearchName != a.SearchName {
		return false
	}
	return true
}

// Route returns the route of a new group whose first alert is a: the first
// configured route that matches, or the default route (DefaultRoute,
// triage).
func (s Settings) Route(a Alert) Route {
	for _, r := range s.Routes {
		if r.Match.Matches(a) {
			if r.Action == "" {
				r.Action = ActionTriage
			}
			return r
		}
	}
	return Route{Name: DefaultRoute, Action: ActionTriage}
}

// Limit is how many new messages route r may post in one minute: its own
// PerMinute, else the settings', else DefaultPerMinute.
func (s Settings) Limit(r Route) int {
	switch {
	case r.PerMinute > 0:
		return r.PerMinute
	case s.PerMinute > 0:
		return s.PerMinute
	}
	return DefaultPerMinute
}

// Validate checks the settings: each route (Route.Validate), route names
// unique (in any case), the default limit not negative. An error names
// the route and the field.
func (s Settings) Validate() error {
	if s.PerMinute < 0 {
		return fmt.Errorf("per_minute %d: use a positive number of messages a minute, or leave it out for %d", s.PerMinute, DefaultPerMinute)
	}
	seen := map[string]int{}
	for i, r := range s.Routes {
		where := fmt.Sprintf("routes[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("route %q", r.Name)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if j, ok := seen[strings.ToLower(r.Name)]; ok {
			return fmt.Errorf("%s: name: used by routes[%d] and routes[%d]: give each route its own name", where, j, i)
		}
		seen[strings.ToLower(r.Name)] = i
	}
	return nil
}

// Validate checks one route: a name present, short, made of letters,
// digits and - _ .; the action one of triage (or unset), open and change;
// a change route names the systems its changes are logged against; the
// severity sev1..sev4 or unset; the limit not negative; a match's source
// one sitrep reads. An error starts with the field at fault.
func (r Route) Validate() error {
	if err := checkRouteName(r.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	switch r.Action {
	case ActionTriage, ActionOpen, "":
	case ActionChange:
		if len(r.Systems) == 0 {
			return errors.New("systems: a change route logs a change against systems: name them, e.g. systems: [web]")
		}
	default:
		return fmt.Errorf("action %q: use triage (a message with Declare, Attach and Not an incident), open (an incident at once) or change (a change logged)", r.Action)
	}
	if r.Severity != 0 && !r.Severity.Valid() {
		return fmt.Errorf("severity %d: use sev1 to sev4, or leave it out for the alert's own", r.Severity)
	}
	if r.PerMinute < 0 {
		return fmt.Errorf("per_minute %d: use a positive number of messages a minute, or leave it out for the default", r.PerMinute)
	}
	if r.Match.Source != "" {
		if _, ok := ParseSource(string(r.Match.Source)); !ok {
			return fmt.Errorf("match.source %q: use one of %s", r.Match.Source, sourceList())
		}
	}
	for k := range r.Match.Labels {
		if strings.TrimSpace(k) == "" {
			return errors.New("match.labels: a label name is empty")
		}
	}
	return nil
}

// checkRouteName checks a route's name.
func checkRouteName(name string) error {
	switch {
	case name == "":
		return errors.New("missing: name the route, e.g. critical-pages (logs, the store and the storm digest show it)")
	case len(name) > MaxRouteName:
		return fmt.Errorf("%q is longer than %d characters", name, MaxRouteName)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return fmt.Errorf("%q may hold only letters, digits and - _ . (starting with a letter or digit)", name)
		}
	}
	return nil
}

// sourceList names the sources for error messages.
func sourceList() string {
	names := make([]string, 0, 5)
	for _, s := range Sources() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// SeverityOf maps a source's severity word to an incident severity:
//
//	critical, crit, fatal, emergency, page, p1, sev1, 1  → sev1
//	high, error, major, p2, sev2, 2                      → sev2
//	warning, warn, medium, moderate, p3, sev3, 3         → sev3
//	info, informational, low, minor, p4, p5, sev4, 4     → sev4
//
// case-insensitively; "sev-1" reads as sev1. Anything else, and no word,
// is incident.DefaultSeverity.
func SeverityOf(word string) incident.Severity {
	w := strings.ToLower(strings.TrimSpace(word))
	w = strings.Replace(w, "sev-", "sev", 1)
	switch w {
	case "critical", "crit", "fatal", "emergency", "page", "p1", "sev1", "1":
		return incident.Sev1
	case "high", "error", "major", "p2", "sev2", "2":
		return incident.Sev2
	case "warning", "warn", "medium", "moderate", "p3", "sev3", "3":
		return incident.Sev3
	case "info", "informational", "low", "minor", "p4", "p5", "sev4", "4":
		return incident.Sev4
	}
	return incident.DefaultSeverity
}

// IncidentSeverity is the severity of an incident opened for g by route r:
// the route's, else the alert's own word mapped by SeverityOf.
func IncidentSeverity(g Group, r Route) incident.Severity {
	if r.Severity.Valid() {
		return r.Severity
	}
	return SeverityOf(g.Severity)
}

// RouteNamed returns the configured route of that name; the default route
// for DefaultRoute or a name no longer configured (a group routed before a
// restart with other settings), and false then.
func (s Settings) RouteNamed(name string) (Route, bool) {
	for _, r := range s.Routes {
		if r.Name == name {
			if r.Action == "" {
				r.Action = ActionTriage
			}
			return r, true
		}
	}
	return Route{Name: DefaultRoute, Action: ActionTriage}, false
}
