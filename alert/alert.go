// Package alert is sitrep's alert intake, as domain: the alerts monitoring
// sends (Alertmanager, Grafana, Splunk, PagerDuty, a generic JSON), the
// groups that fold repeats of one alert together, the routes that say what
// each group sets off (a triage message, an incident opened at once, a
// change logged), and the storm control that keeps a flood of alerts from
// flooding Slack. It knows neither HTTP, Slack nor SQL: web parses the
// products' payloads into Alerts, storage keeps them, bot runs the jobs.
package alert

import (
	"fmt"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// Source is the product an alert came from. It names the webhook
// endpoint: POST /api/v1/alerts/{source}.
type Source string

// The sources sitrep reads.
const (
	SourceAlertmanager Source = "alertmanager"
	SourceGrafana      Source = "grafana"
	SourceSplunk       Source = "splunk"
	SourcePagerDuty    Source = "pagerduty"
	SourceGeneric      Source = "generic"
)

// Sources lists the sources in the order help and docs name them.
func Sources() []Source {
	return []Source{SourceAlertmanager, SourceGrafana, SourceSplunk, SourcePagerDuty, SourceGeneric}
}

// ParseSource reads a source as written in a URL or in sitrep.yaml.
func ParseSource(s string) (Source, bool) {
	for _, src := range Sources() {
		if string(src) == s {
			return src, true
		}
	}
	return "", false
}

// Name is the product's name as people write it: "Alertmanager",
// "PagerDuty". An incident opened by an alert is reported by this name.
func (s Source) Name() string {
	switch s {
	case SourceAlertmanager:
		return "Alertmanager"
	case SourceGrafana:
		return "Grafana"
	case SourceSplunk:
		return "Splunk"
	case SourcePagerDuty:
		return "PagerDuty"
	case SourceGeneric:
		return "Webhook"
	}
	return string(s)
}

// Status is where an alert is, as its source says.
type Status string

// The statuses. Acknowledged is PagerDuty's: someone took it; it is still
// firing as far as grouping goes.
const (
	StatusFiring       Status = "firing"
	StatusAcknowledged Status = "acknowledged"
	StatusResolved     Status = "resolved"
)

// Alert is one alert as received: one element of an Alertmanager
// notification's alerts, one Grafana alert, one Splunk search result, one
// PagerDuty event, one generic JSON object.
type Alert struct {
	// ID is the store's, once stored.
	ID     int64
	Source Source
	// GroupKey folds repeats together: Alertmanager's groupKey, Grafana's
	// fingerprint, Splunk's search name, PagerDuty's incident ID, the
	// generic key. Never empty once parsed.
	GroupKey string
	// Fingerprint names one alert within its group (Alertmanager's
	// fingerprint, when a group holds several); "" when the group is the
	// alert itself. A group is resolved when every fingerprint seen in it
	// is.
	Fingerprint string
	Status      Status
	// Title is one line: the alertname and summary, the rule's title, the
	// search name, the PagerDuty incident's title.
	Title string
	// Severity is the source's own word ("critical", "warning", "P1",
	// "high"), "" when it gave none; SeverityOf maps it.
	Severity string
	// Labels are the source's labels (Alertmanager's and Grafana's labels,
	// Splunk's app and owner, PagerDuty's service and urgency).
	Labels map[string]string
	// Systems the alert names (a "system" or "service" label, generic
	// systems); a route may add or replace them.
	Systems []string
	// SearchName is Splunk's saved search name; "" elsewhere.
	SearchName string
	// Link leads back to the source: generatorURL, results_link, html_url.
	Link string
	// Details is free text: annotations, the description, a Splunk result's
	// fields, as the source gave them (bounded by the parser).
	Details string
	// StartsAt is when the source says it began firing; EndsAt when it
	// resolved. Zero when the source does not say.
	StartsAt time.Time
	EndsAt   time.Time
	// ReceivedAt is when sitrep accepted it (set by Service.Receive).
	ReceivedAt time.Time
}

// Action is what a route does with a new group.
type Action string

// The actions of a route. Triage is the default.
const (
	// ActionTriage posts a message in the alerts channel with Declare
	// incident, Attach to incident and Not an incident.
	ActionTriage Action = "triage"
	// ActionOpen opens an incident at once.
	ActionOpen Action = "open"
	// ActionChange logs a change instead (a deploy a search noticed).
	ActionChange Action = "change"
)

// Match is what a route matches; every field set must match, and an empty
// Match matches every alert.
type Match struct {
	Source Source
	// Labels must all be present with these values.
	Labels map[string]string
	// Severity matches the alert's own severity word, case-insensitively.
	Severity string
	// SearchName matches Splunk's search name exactly.
	SearchName string
}

// Route says what a new group of alerts sets off. Routes are tried in
// order; the first that matches wins; with none, the group is triaged.
type Route struct {
	// Name names the route in logs, the store and the storm digest; unique.
	Name   string
	Match  Match
	Action Action
	// Severity is the incident's severity for ActionOpen (and the one the
	// Declare form proposes); 0 means the alert's, mapped by SeverityOf.
	Severity incident.Severity
	// Systems are the incident's systems (ActionOpen, the Declare form) or
	// the change's (ActionChange); empty means the alert's.
	Systems []string
	// Channel is where triage messages and the storm digest go; "" means
	// the alerts channel of the settings.
	Channel string
	// PerMinute bounds the new messages the route posts in one minute
	// (triage messages, or incidents opened); beyond it, new groups go into
	// the storm digest. 0 means the settings' default.
	PerMinute int
}

// DefaultPerMinute is the new messages a route posts per minute when
// neither it nor the settings say.
const DefaultPerMinute = 10

// Decision is what people (or the route) made of a group.
type Decision string

// The decisions. None means a triage message is waiting for one.
const (
	DecisionNone      Decision = ""
	DecisionDeclared  Decision = "declared"
	DecisionAttached  Decision = "attached"
	DecisionDismissed Decision = "dismissed"
	// DecisionOpened is an incident the route opened at once; DecisionLogged
	// a change the route logged.
	DecisionOpened Decision = "opened"
	DecisionLogged Decision = "logged"
)

// Group is one alert and its repeats: what a triage message, an incident's
// alert list and the storm digest show.
type Group struct {
	ID     int64
	Source Source
	Key    string
	// Route is the name of the route that matched the group's first alert;
	// Action is that route's action.
	Route  string
	Action Action
	// Title, Severity, Labels, Systems, Link and Details are the latest
	// alert's.
	Title    string
	Severity string
	Labels   map[string]string
	Systems  []string
	Link     string
	Details  string
	// Status is firing while any fingerprint seen in the group is firing
	// (or acknowledged), resolved once all are.
	Status Status
	// Received counts the alerts received, repeats and resolutions
	// included; Firing the fingerprints firing now.
	Received int
	Firing   int
	// FirstSeen and LastSeen are when the first and the latest alert were
	// received; ResolvedAt when the group last became resolved (zero while
	// firing).
	FirstSeen  time.Time
	LastSeen   time.Time
	ResolvedAt time.Time
	// Storm is set when the group arrived over its route's PerMinute: it
	// has no message of its own and is counted in the storm digest of
	// StormMinute.
	Storm       bool
	StormMinute time.Time
	// TriageChannel and TriageTS locate the group's triage message once
	// posted.
	TriageChannel string
	TriageTS      string
	// IncidentID is the incident the group opened or joined; ChangeID the
	// change it logged.
	IncidentID int64
	ChangeID   int64
	Decision   Decision
	DecidedBy  string
	DecidedAt  time.Time
	// Reason is why it is not an incident (DecisionDismissed).
	Reason string
	// Version counts the group's changes; jobs that refresh what shows
	// it are keyed by it.
	Version int64
	// Refreshed is the start of the latest RefreshEvery bucket in which
	// Receive scheduled the refresh of what shows the group: later repeats
	// in that bucket need not schedule it again.
	Refreshed time.Time
}

// Ref names a group in messages: "ALR-12".
func (g Group) Ref() string { return fmt.Sprintf("ALR-%d", g.ID) }
