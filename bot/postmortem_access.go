package bot

import (
	"context"
	"fmt"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
)

// Who may do what to a postmortem is the permission model's rule
// (internal/access); this file builds its targets and asks it before any
// postmortem change is written:
//
//   - start: people in the incident's room, its TDO, a commander;
//   - move phases, hand facilitation over: the facilitator, the TDO, a
//     commander;
//   - add or correct entries, issues and actions: people in the room, the
//     facilitator, the TDO, a commander;
//   - mark an action done: its owner, the facilitator, a commander.

// pmTarget is the postmortem of inc as the permission model sees it: the
// incident's room and TDO, and pm's facilitator (pm nil: not started).
func (b *Bot) pmTarget(ctx context.Context, inc *incident.Incident, pm *incident.Postmortem) (access.Target, error) {
	t, err := b.incidentTarget(ctx, inc)
	if err != nil {
		return t, fmt.Errorf("finding %s's room: %w", inc.Ref(), err)
	}
	if pm != nil {
		t.Facilitator = pm.Facilitator
	}
	return t, nil
}

// mayOnPostmortem checks that actor, asking in channel ("" for a form,
// which comes from no channel: their membership is asked of Slack), may do
// action to the postmortem pm of inc; if not, it answers them and reports
// false.
func (b *Bot) mayOnPostmortem(ctx context.Context, channel, actor string, action access.Action,
	inc *incident.Incident, pm *incident.Postmortem, usage string) bool {
	t, err := b.pmTarget(ctx, inc, pm)
	if err != nil {
		b.replyUsage(ctx, channel, actor, b.couldNot("check who may do that", err, "Nothing changed"), usage)
		return false
	}
	return b.allowed(ctx, access.Request{Actor: actor, Channel: channel, Action: action, Target: t}, usage)
}

// mayCompleteAction checks that actor, clicking in channel, may mark
// action a of pm done: its owner, the facilitator or a commander.
func (b *Bot) mayCompleteAction(ctx context.Context, channel, actor string, inc *incident.Incident,
	pm *incident.Postmortem, a *incident.Action) bool {
	t, err := b.pmTarget(ctx, inc, pm)
	if err != nil {
		b.replyUsage(ctx, channel, actor, b.couldNot("check who may do that", err, "Nothing changed"), "/postmortem actions")
		return false
	}
	t.Ref = fmt.Sprintf("action %d of the %s postmortem", a.ID, inc.Ref())
	t.Owner = a.Owner
	return b.allowed(ctx, access.Request{Actor: actor, Channel: channel, Action: access.CompleteAction, Target: t}, "/postmortem actions")
}
