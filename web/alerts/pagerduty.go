package alerts

import (
	"strings"

	"github.com/sitrep/sitrep/alert"
)

// pagerDutyStatus maps the incident event types of PagerDuty's V3
// webhooks that sitrep reads to an alert's status. A reopened or
// unacknowledged incident is firing again.
var pagerDutyStatus = map[string]alert.Status{
	"incident.triggered":      alert.StatusFiring,
	"incident.reopened":       alert.StatusFiring,
	"incident.unacknowledged": alert.StatusFiring,
	"incident.acknowledged":   alert.StatusAcknowledged,
	"incident.resolved":       alert.StatusResolved,
}

// parsePagerDuty reads a PagerDuty V3 webhook: {"event": {"id",
// "event_type", "resource_type", "occurred_at", "agent", "client", "data"}}
// where, for incident events, data is the incident (id, number, status,
// incident_key, created_at, title, html_url, service, assignees,
// escalation_policy, teams, priority, urgency...). An incident event of a
// type in pagerDutyStatus is one Alert grouped by the incident's ID; any
// other event (incident.annotated, incident.priority_updated, service.*,
// pagey.ping...) is accepted and read as nothing, saying so.
func parsePagerDuty(body []byte) (parsed, error) {
	root, err := readObject("", body)
	if err != nil {
		return parsed{}, err
	}
	ev, ok, err := root.obj("event")
	if err != nil {
		return parsed{}, err
	}
	if !ok {
		return parsed{}, bad("event", "is missing: sitrep reads PagerDuty's V3 webhooks, whose body is {\"event\": {...}}")
	}
	typ, err := ev.required("event_type", "PagerDuty names the event, as incident.triggered")
	if err != nil {
		return parsed{}, err
	}
	st, read := pagerDutyStatus[typ]
	if !read {
		return parsed{ignored: "PagerDuty event " + cut(line(typ, 60), 60) + " is not one sitrep reads (it reads incident.triggered, .acknowledged, .unacknowledged, .reopened and .resolved)"}, nil
	}
	data, ok, err := ev.obj("data")
	if err != nil {
		return parsed{}, err
	}
	if !ok {
		return parsed{}, bad("event.data", "is missing: an incident event carries the incident")
	}
	id, err := data.required("id", "the incident's ID groups its events")
	if err != nil {
		return parsed{}, err
	}
	title, err := data.str("title")
	if err != nil {
		return parsed{}, err
	}
	number, err := data.scalar("number")
	if err != nil {
		return parsed{}, err
	}
	htmlURL, err := data.str("html_url")
	if err != nil {
		return parsed{}, err
	}
	urgency, err := data.str("urgency")
	if err != nil {
		return parsed{}, err
	}
	incidentKey, err := data.str("incident_key")
	if err != nil {
		return parsed{}, err
	}
	service, err := summary(data, "service")
	if err != nil {
		return parsed{}, err
	}
	priority, err := summary(data, "priority")
	if err != nil {
		return parsed{}, err
	}
	policy, err := summary(data, "escalation_policy")
	if err != nil {
		return parsed{}, err
	}
	assignees, err := summaries(data, "assignees")
	if err != nil {
		return parsed{}, err
	}
	teams, err := summaries(data, "teams")
	if err != nil {
		return parsed{}, err
	}
	a := alert.Alert{
		Source:   alert.SourcePagerDuty,
		GroupKey: key(id),
		Status:   st,
		Title:    line(title, MaxTitle),
		Link:     link(htmlURL),
	}
	if a.Title == "" {
		a.Title = line("PagerDuty incident "+orDefault(number, id), MaxTitle)
	}
	a.Severity = line(orDefault(priority, urgency), MaxSeverity)
	lbls := map[string]string{}
	for k, v := range map[string]string{"service": service, "urgency": urgency, "priority": priority, "escalation_policy": policy} {
		if v != "" {
			lbls[k] = v
		}
	}
	a.Labels = labels(lbls)
	a.Systems = systems(service)
	if a.StartsAt, err = data.time("created_at"); err != nil {
		return parsed{}, err
	}
	if st == alert.StatusResolved {
		if a.EndsAt, err = ev.time("occurred_at"); err != nil {
			return parsed{}, err
		}
	}
	var d details
	if number != "" {
		d.field("PagerDuty incident", "#"+number)
	}
	d.field("service", service)
	d.field("assigned to", strings.Join(assignees, ", "))
	d.field("escalation policy", policy)
	d.field("teams", strings.Join(teams, ", "))
	d.field("incident key", incidentKey)
	a.Details = d.String()
	return parsed{alerts: []alert.Alert{a}}, nil
}

// summary reads the summary of a PagerDuty reference (service, priority):
// {"id", "type", "summary", ...}; absent or null is "".
func summary(o object, name string) (string, error) {
	ref, ok, err := o.obj(name)
	if err != nil || !ok {
		return "", err
	}
	return ref.str("summary")
}

// summaries reads the summaries of a list of references (assignees,
// teams).
func summaries(o object, name string) ([]string, error) {
	items, err := o.list(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, raw := range items {
		ref, err := readObject(item(o.at(name), i), raw)
		if err != nil {
			return nil, err
		}
		s, err := ref.str("summary")
		if err != nil {
			return nil, err
		}
		if s != "" && len(out) < 20 {
			out = append(out, s)
		}
	}
	return out, nil
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
