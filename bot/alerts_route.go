package bot

import (
	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

// What a group's route says, read through alert.Service.

// routeChannel is the channel route name names for its messages, else
// the alert settings' channel; "" when neither does.
func (b *Bot) routeChannel(name string) string {
	if ch := b.alerts.Route(name).Channel; ch != "" {
		return ch
	}
	return b.alerts.Settings().Channel
}

// alertSeverity is the severity of an incident opened or declared for g:
// its route's, else the alert's own word mapped (alert.SeverityOf).
func (b *Bot) alertSeverity(g alert.Group) incident.Severity {
	return alert.IncidentSeverity(g, b.alerts.Route(g.Route))
}

// alertSystems are the systems of an incident or change from g: its
// route's, else the alert's.
func (b *Bot) alertSystems(g alert.Group) []string {
	if r := b.alerts.Route(g.Route); len(r.Systems) > 0 {
		return r.Systems
	}
	return g.Systems
}

// declareKey is the request key of the incident opened or declared for
// group id.
func declareKey(id int64) string { return alert.DeclareKey(id) }
