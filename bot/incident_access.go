package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
)

// This file puts every /incident command, header button and incident form
// through the permission model (internal/access) before its handler runs,
// so that nothing is written for a request the model refuses. The tables
// below are the whole list: a command, button or form that changes an
// incident and is missing from them is a hole.

// commandAccess is what an /incident command asks of the permission model:
// the incident it names (0: the room's), the action and the usage to show
// with a refusal. An empty action is a command that changes no incident
// (help, open, list, timeline, changes, oncall): it needs no right.
func commandAccess(c incidentCommand) (number int64, action access.Action, usage string) {
	switch c := c.(type) {
	case statusCommand:
		return c.Number, access.ChangeIncident, usageStatus
	case noteCommand:
		return c.Number, access.ChangeIncident, usageNote
	case severityCommand:
		// Lowering needs more: see severityAction.
		return c.Number, access.ChangeIncident, usageSeverity
	case closeCommand:
		return c.Number, access.CloseIncident, usageClose
	case tdoCommand:
		return c.Number, access.HandOver, usageTDO
	case roleCommand:
		// A role invites its holder, who may then take command: giving
		// one needs the right to hand over (access.GiveRole).
		return c.Number, access.GiveRole, usageRole
	case timeboxCommand:
		return c.Number, access.ChangeIncident, usageTimebox
	case extendCommand:
		return c.Number, access.ChangeIncident, usageExtend
	case restoreCommand:
		return c.Number, access.ChangeIncident, usageRestore
	case linkCommand:
		if c.Unlink {
			return c.Number, access.ChangeIncident, usageUnlink
		}
		return c.Number, access.ChangeIncident, usageLink
	case costCommand:
		return c.Number, access.ChangeIncident, usageCost
	}
	return 0, "", ""
}

// severityAction is the action of setting inc's severity to to: lowering
// it (sev1 → sev3) is LowerSeverity, raising it ChangeIncident.
func severityAction(inc *incident.Incident, to incident.Severity) access.Action {
	if to > inc.Severity {
		return access.LowerSeverity
	}
	return access.ChangeIncident
}

// incidentCommandAllowed reports whether the /incident command may run.
// A command that changes an incident is checked against the permission
// model before anything is written; a refusal, like an incident that
// cannot be found, is answered here and the command goes no further. Text
// that does not parse is left to the handler, which explains it.
func (b *Bot) incidentCommandAllowed(ctx context.Context, cmd slack.SlashCommand) bool {
	parsed, err := parseIncident(cmd.Text)
	if err != nil {
		return true
	}
	number, action, usage := commandAccess(parsed)
	if action == "" {
		return true
	}
	inc, ok := b.findIncident(ctx, cmd, number, usage)
	if !ok {
		return false
	}
	if sev, isSev := parsed.(severityCommand); isSev {
		action = severityAction(inc, sev.Severity)
	}
	return b.mayOnIncident(ctx, cmd.ChannelID, cmd.UserID, action, inc, usage)
}

// buttonAccess is what an incident button asks of the permission model:
// the incident its value names and the action; ok is false for a button
// that is not an incident's (checklists, postmortems: their own handlers
// check) or whose value does not read (its handler answers that).
func buttonAccess(a *slack.BlockAction) (incidentID int64, action access.Action, ok bool) {
	value := a.Value
	switch a.ActionID {
	case actionTakeCommand:
		action = access.HandOver
	case actionUpdateStatus, actionAddNote, actionRestoreNow, actionExtend, actionCost, actionLinkProblem:
		action = access.ChangeIncident
	case actionSuspect, actionUnrelated, actionDiagnostic:
		// "<incident>:<change>", "<incident>:<step>:<done>".
		value, _, _ = strings.Cut(value, ":")
		action = access.ChangeIncident
	default:
		return 0, "", false
	}
	id, err := strconv.ParseInt(value, 10, 64)
	return id, action, err == nil
}

// buttonAllowed reports whether a click on an incident's button may be
// handled, answering the clicker if not. A click that is not on an
// incident's button, or on one whose incident cannot be read, is left to
// its handler.
func (b *Bot) buttonAllowed(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) bool {
	id, action, ok := buttonAccess(a)
	if !ok {
		return true
	}
	inc, err := b.incidents.Incident(ctx, id)
	if err != nil {
		return true // the handler says it cannot find it
	}
	// Unlike typing, seeing a message (a public channel's preview) does
	// not make a member: the clicker's membership is read from Slack.
	return b.mayOnIncidentAnswering(ctx, "", cb.Channel.ID, cb.User.ID, action, inc, "/incident help")
}

// mayOnIncidentAnswering is mayOnIncident for a request made in channel
// (empty: no channel shows membership) and answered in answerIn (empty: by
// direct message).
func (b *Bot) mayOnIncidentAnswering(ctx context.Context, channel, answerIn, actor string, action access.Action, inc *incident.Incident, usage string) bool {
	if answerIn == "" {
		answerIn = actor // reply falls back to a direct message
	}
	t, err := b.incidentTarget(ctx, inc)
	if err != nil {
		b.replyUsage(ctx, answerIn, actor, b.couldNot("find "+inc.Ref()+"'s room", err, "Nothing changed"), usage)
		return false
	}
	return b.allowedAnswering(ctx, access.Request{Actor: actor, Channel: channel, Action: action, Target: t}, answerIn, usage)
}

// formAccess lists the forms that change an incident (the incident's ID
// is their private metadata), with the usage shown with a refusal.
var formAccess = map[string]string{
	callbackStatus: usageStatus,
	callbackNote:   usageNote,
	callbackExtend: usageExtend,
	callbackCost:   usageCost,
	callbackLink:   usageLink,
}

// guardForm wraps the work of a submitted incident form in the permission
// check: the form was opened by someone who was allowed then, but what
// counts is who submits it, now. A form has no channel of its own, so the
// submitter's membership of the room is read from Slack, and a refusal is
// answered by direct message.
func (b *Bot) guardForm(cb slack.InteractionCallback, work func(context.Context, string)) func(context.Context, string) {
	usage, guarded := formAccess[cb.View.CallbackID]
	id, ok := formIncident(cb)
	if work == nil || !guarded || !ok {
		return work
	}
	return func(ctx context.Context, key string) {
		inc, err := b.incidents.Incident(ctx, id)
		if errors.Is(err, incident.ErrNotFound) {
			b.replyUsage(ctx, cb.User.ID, cb.User.ID, "That form belongs to an incident sitrep cannot find.", "/incident list")
			return
		}
		if err != nil {
			b.replyUsage(ctx, cb.User.ID, cb.User.ID, b.couldNot("read the incident", err, "Nothing changed"), usage)
			return
		}
		if !b.mayOnIncidentAnswering(ctx, "", "", cb.User.ID, access.ChangeIncident, inc, usage) {
			return
		}
		work(ctx, key)
	}
}
