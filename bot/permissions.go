package bot

import (
	"context"
	"errors"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
)

// directory answers the permission model's questions (who is in a channel,
// who is in a user group) from Slack, never from a payload's word.
type directory struct{ b *Bot }

// IsMember implements access.Directory.
func (d directory) IsMember(ctx context.Context, channel, user string) (bool, error) {
	return d.b.isMember(ctx, channel, user)
}

// GroupMembers implements access.Directory with usergroups.users.list.
func (d directory) GroupMembers(ctx context.Context, group string) ([]string, error) {
	var users []string
	err := d.b.slack.do(ctx, "usergroups.users.list", func(ctx context.Context) error {
		var err error
		users, err = d.b.api.GetUserGroupMembersContext(ctx, group)
		return err
	})
	return users, err
}

// allowed asks the permission model whether req may be done. If not, it
// answers the actor privately where they asked, with the rule and who may
// (then usage, if any), logs the refusal and counts it; it reports whether
// req is allowed. If the model could not be asked, the actor is told so and
// nothing is done.
func (b *Bot) allowed(ctx context.Context, req access.Request, usage string) bool {
	err := b.policy.Check(ctx, req)
	if err == nil {
		return true
	}
	var refusal *access.Refusal
	if !errors.As(err, &refusal) {
		b.replyUsage(ctx, req.Channel, req.Actor, b.couldNot("check who may do that", err, "Nothing changed"), usage)
		return false
	}
	b.refusals.Add(1)
	b.log.Info("refused", "user", req.Actor, "action", string(req.Action), "target", req.Target.Ref,
		"rule", refusal.Rule, "channel", req.Channel)
	b.replyUsage(ctx, req.Channel, req.Actor, ":no_entry: "+refusal.Text, usage)
	return false
}

// incidentTarget is inc as the permission model sees it: with its room, if
// it has one yet.
func (b *Bot) incidentTarget(ctx context.Context, inc *incident.Incident) (access.Target, error) {
	t := access.Target{Ref: inc.Ref(), TDO: inc.TDOID, Private: inc.Private}
	room, err := b.rooms.Room(ctx, inc.ID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
	case err != nil:
		return t, err
	default:
		t.Room = room.ChannelID
	}
	return t, nil
}

// mayOnIncident checks that actor, asking in channel, may do action to inc,
// answering them if not.
func (b *Bot) mayOnIncident(ctx context.Context, channel, actor string, action access.Action, inc *incident.Incident, usage string) bool {
	t, err := b.incidentTarget(ctx, inc)
	if err != nil {
		b.replyUsage(ctx, channel, actor, b.couldNot("find "+inc.Ref()+"'s room", err, "Nothing changed"), usage)
		return false
	}
	return b.allowed(ctx, access.Request{Actor: actor, Channel: channel, Action: action, Target: t}, usage)
}
