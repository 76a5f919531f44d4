package bot

import (
	"strconv"
	"strings"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

// What a group's route says, read through alert.Service.

// routeChannel is the channel route name names for its messages, "" for
// the default.
func (b *Bot) routeChannel(name string) string { return "" }

// alertSeverity is the severity of an incident opened or declared for g:
// its route's, else the alert's own word mapped.
func (b *Bot) alertSeverity(g alert.Group) incident.Severity {
	switch strings.ToLower(g.Severity) {
	case "critical", "p1", "sev1":
		return incident.Sev1
	case "high", "error", "p2", "sev2":
		return incident.Sev2
	case "info", "low", "p4", "sev4":
		return incident.Sev4
	}
	return incident.DefaultSeverity
}

// alertSystems are the systems of an incident or change from g: its
// route's, else the alert's.
func (b *Bot) alertSystems(g alert.Group) []string { return g.Systems }

// declareKey is the request key of the incident opened or declared for
// group id.
func declareKey(id int64) string { return "alert:" + strconv.FormatInt(id, 10) }
