package bot

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

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

// GroupMembers implements access.Directory with usergroups.users.list,
// cached for a minute.
func (d directory) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return d.b.groupMembers(ctx, group)
}

// allowed asks the permission model whether req may be done. If not, it
// answers the actor privately where they asked (by direct message when
// req.Channel is empty, as for a form), with the rule and who may, logs
// the refusal and counts it; it reports whether req is allowed. If the
// model could not be asked, the actor is told so and nothing is done.
func (b *Bot) allowed(ctx context.Context, req access.Request, usage string) bool {
	return b.allowedAnswering(ctx, req, req.Channel, usage)
}

// allowedAnswering is allowed, answering in answerIn (empty: by direct
// message), for a request whose Channel is not where the actor is.
func (b *Bot) allowedAnswering(ctx context.Context, req access.Request, answerIn, usage string) bool {
	err := b.policy.Check(ctx, req)
	if err == nil {
		return true
	}
	if answerIn == "" {
		answerIn = req.Actor // no channel to answer in: reply falls back to a direct message
	}
	var refusal *access.Refusal
	if !errors.As(err, &refusal) {
		b.replyUsage(ctx, answerIn, req.Actor, b.couldNot("check who may do that", err, "Nothing changed"), usage)
		return false
	}
	b.refusals.Add(1)
	b.log.Info("refused", "user", req.Actor, "action", string(req.Action), "target", req.Target.Ref,
		"rule", refusal.Rule, "channel", req.Channel)
	// Not a mistake in what they typed: the rule and who may, no usage.
	text := ":no_entry: " + refusal.Text
	b.reply(ctx, answerIn, req.Actor, text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)})
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
