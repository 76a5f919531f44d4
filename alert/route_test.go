package alert_test

import (
	"strings"
	"testing"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

func TestMatches(t *testing.T) {
	a := alert.Alert{Source: alert.SourceAlertmanager, Severity: "Critical", SearchName: "",
		Labels: map[string]string{"severity": "critical", "team": "payments"}}
	s := alert.Alert{Source: alert.SourceSplunk, SearchName: "Files changed in /opt/deploy"}
	tests := []struct {
		name  string
		match alert.Match
		alert alert.Alert
		want  bool
	}{
		{"empty matches all", alert.Match{}, a, true},
		{"source", alert.Match{Source: alert.SourceAlertmanager}, a, true},
		{"other source", alert.Match{Source: alert.SourceGrafana}, a, false},
		{"one label", alert.Match{Labels: map[string]string{"team": "payments"}}, a, true},
		{"every label", alert.Match{Labels: map[string]string{"team": "payments", "severity": "critical"}}, a, true},
		{"a label differs", alert.Match{Labels: map[string]string{"team": "payments", "severity": "warning"}}, a, false},
		{"a label missing", alert.Match{Labels: map[string]string{"region": "eu"}}, a, false},
		{"label values are exact", alert.Match{Labels: map[string]string{"team": "Payments"}}, a, false},
		{"empty label value is not absent", alert.Match{Labels: map[string]string{"region": ""}}, a, false},
		{"severity any case", alert.Match{Severity: "CRITICAL"}, a, true},
		{"severity differs", alert.Match{Severity: "warning"}, a, false},
		{"search name", alert.Match{SearchName: "Files changed in /opt/deploy"}, s, true},
		{"search name exact", alert.Match{SearchName: "files changed in /opt/deploy"}, s, false},
		{"search name and source", alert.Match{Source: alert.SourceSplunk, SearchName: "Files changed in /opt/deploy"}, s, true},
		{"search name, no search", alert.Match{SearchName: "x"}, a, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.match.Matches(tc.alert); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSeverityOf(t *testing.T) {
	tests := []struct {
		word string
		want incident.Severity
	}{
		{"critical", incident.Sev1}, {"CRITICAL", incident.Sev1}, {"P1", incident.Sev1}, {"sev-1", incident.Sev1}, {"page", incident.Sev1},
		{"high", incident.Sev2}, {"error", incident.Sev2}, {"p2", incident.Sev2}, {"SEV2", incident.Sev2},
		{"warning", incident.Sev3}, {" medium ", incident.Sev3}, {"p3", incident.Sev3},
		{"info", incident.Sev4}, {"low", incident.Sev4}, {"P4", incident.Sev4}, {"p5", incident.Sev4},
		{"", incident.DefaultSeverity}, {"bananas", incident.DefaultSeverity}, {"sev9", incident.DefaultSeverity},
	}
	for _, tc := range tests {
		if got := alert.SeverityOf(tc.word); got != tc.want {
			t.Errorf("SeverityOf(%q) = %v, want %v", tc.word, got, tc.want)
		}
	}
	if got := alert.IncidentSeverity(alert.Group{Severity: "info"}, alert.Route{Severity: incident.Sev1}); got != incident.Sev1 {
		t.Errorf("a route's severity loses to the alert's: %v", got)
	}
	if got := alert.IncidentSeverity(alert.Group{Severity: "high"}, alert.Route{}); got != incident.Sev2 {
		t.Errorf("the alert's severity: %v", got)
	}
}

func TestValidate(t *testing.T) {
	ok := alert.Route{Name: "ok", Action: alert.ActionTriage}
	tests := []struct {
		name     string
		settings alert.Settings
		want     string // "" means valid
	}{
		{"none", alert.Settings{}, ""},
		{"full", alert.Settings{PerMinute: 3, Routes: []alert.Route{
			{Name: "critical-pages", Match: alert.Match{Source: alert.SourceAlertmanager}, Action: alert.ActionOpen, Severity: incident.Sev1},
			{Name: "deploy-files", Action: alert.ActionChange, Systems: []string{"web"}},
			{Name: "rest"}}}, ""},
		{"no name", alert.Settings{Routes: []alert.Route{{Action: alert.ActionTriage}}}, "routes[0]: name: missing"},
		{"bad name", alert.Settings{Routes: []alert.Route{{Name: "a b"}}}, `route "a b": name`},
		{"long name", alert.Settings{Routes: []alert.Route{{Name: strings.Repeat("a", alert.MaxRouteName+1)}}}, "longer than"},
		{"duplicate", alert.Settings{Routes: []alert.Route{ok, {Name: "OK"}}}, `route "OK": name: used by routes[0] and routes[1]`},
		{"action", alert.Settings{Routes: []alert.Route{{Name: "x", Action: "page"}}}, `route "x": action "page"`},
		{"change without systems", alert.Settings{Routes: []alert.Route{{Name: "x", Action: alert.ActionChange}}}, `route "x": systems`},
		{"severity", alert.Settings{Routes: []alert.Route{{Name: "x", Severity: 7}}}, `route "x": severity 7`},
		{"per minute", alert.Settings{Routes: []alert.Route{{Name: "x", PerMinute: -1}}}, `route "x": per_minute -1`},
		{"settings per minute", alert.Settings{PerMinute: -2}, "per_minute -2"},
		{"source", alert.Settings{Routes: []alert.Route{{Name: "x", Match: alert.Match{Source: "nagios"}}}}, `match.source "nagios"`},
		{"empty label", alert.Settings{Routes: []alert.Route{{Name: "x", Match: alert.Match{Labels: map[string]string{"": "v"}}}}}, "label name is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.settings.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestLimitAndRouteNamed(t *testing.T) {
	s := alert.Settings{Routes: []alert.Route{{Name: "a", PerMinute: 3}, {Name: "b"}}}
	if s.Limit(s.Routes[0]) != 3 || s.Limit(s.Routes[1]) != alert.DefaultPerMinute {
		t.Errorf("limits %d %d", s.Limit(s.Routes[0]), s.Limit(s.Routes[1]))
	}
	s.PerMinute = 4
	if s.Limit(s.Routes[1]) != 4 {
		t.Errorf("settings' per_minute not used: %d", s.Limit(s.Routes[1]))
	}
	if r, ok := s.RouteNamed("b"); !ok || r.Action != alert.ActionTriage {
		t.Errorf("RouteNamed(b) = %+v %v", r, ok)
	}
	if r, ok := s.RouteNamed("gone"); ok || r.Name != alert.DefaultRoute {
		t.Errorf("RouteNamed(gone) = %+v %v", r, ok)
	}
}
