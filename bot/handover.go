package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// actionTakeCommand is the header button that makes the clicker the TDO.
const actionTakeCommand = "incident_take_command"

// briefEntries is how many timeline entries the brief to a new TDO shows.
const briefEntries = 10

// knownPerson checks that user exists and is a person, not a bot, who can
// be role (e.g. "technical duty officer"), answering the asker if not.
func (b *Bot) knownPerson(ctx context.Context, cmd slack.SlashCommand, user, role, usage string) bool {
	if _, err := b.lookupUser(ctx, user); err != nil {
		problem := "There is no such user in this workspace."
		if slackCode(err) != "user_not_found" {
			problem = b.couldNot("look that person up", err, "")
		}
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, problem, usage)
		return false
	}
	if why := b.notAPerson(ctx, user, role); why != "" {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, why, usage)
		return false
	}
	return true
}

// onRole handles /incident role <comms|scribe> @user.
func (b *Bot) onRole(ctx context.Context, cmd slack.SlashCommand, c roleCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageRole)
	if !ok || !b.knownPerson(ctx, cmd, c.User, string(c.Role), usageRole) {
		return
	}
	changed, entry, err := b.incidents.AssignRole(ctx, incident.RoleRequest{IncidentID: inc.ID, Actor: cmd.UserID, Role: c.Role, User: c.User})
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("<@%s> is %s of %s already.", c.User, c.Role, inc.Ref()), usageRole)
		return
	}
	if b.refused(ctx, cmd, err, "give the role", usageRole) {
		return
	}
	b.showChange(ctx, incident.JobRoleAssigned, changed, entry)
	b.doneElsewhere(ctx, cmd, changed, fmt.Sprintf("<@%s> is %s", c.User, c.Role))
}

// onHandOver handles /incident tdo @user [reason].
func (b *Bot) onHandOver(ctx context.Context, cmd slack.SlashCommand, c tdoCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageTDO)
	if !ok || !b.knownPerson(ctx, cmd, c.User, "technical duty officer", usageTDO) {
		return
	}
	if changed := b.handOver(ctx, cmd.ChannelID, cmd.UserID, incident.HandOverRequest{
		IncidentID: inc.ID, Actor: cmd.UserID, To: c.User, Reason: c.Reason,
	}, inc); changed != nil {
		b.doneElsewhere(ctx, cmd, changed, fmt.Sprintf("<@%s> leads it", c.User))
	}
}

// handOver records a hand-off and shows it, answering actor privately in
// channel when the incident refuses it (closed, no change). The permission
// model allowed it already (incident_access.go). It returns the changed
// incident, or nil if nothing changed.
func (b *Bot) handOver(ctx context.Context, channel, actor string, req incident.HandOverRequest, inc *incident.Incident) *incident.Incident {
	changed, entry, err := b.incidents.HandOver(ctx, req)
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, channel, actor, fmt.Sprintf("<@%s> leads %s already.", req.To, inc.Ref()), usageTDO)
		return nil
	}
	if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: actor}, err, "hand over", usageTDO) {
		return nil
	}
	b.log.Info("TDO handed over", "incident", changed.Ref(), "to", req.To, "by", actor)
	b.showChange(ctx, incident.JobHandedOver, changed, entry)
	return changed
}

// onTakeCommand handles the Take command button: the clicker becomes TDO.
func (b *Bot) onTakeCommand(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	id, err := strconv.ParseInt(a.Value, 10, 64)
	var inc *incident.Incident
	if err == nil {
		inc, err = b.incidents.Incident(ctx, id)
	}
	if err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to an incident sitrep cannot find.", "/incident list")
		return
	}
	if room, err := b.rooms.Room(ctx, inc.ID); err != nil || room.ChannelID != cb.Channel.ID {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "Take command from the header in the incident's own channel.", usageTDO)
		return
	}
	b.handOver(ctx, cb.Channel.ID, cb.User.ID, incident.HandOverRequest{
		IncidentID: inc.ID, Actor: cb.User.ID, To: cb.User.ID, Reason: "took command",
	}, inc)
}

// briefAtOpen briefs the first TDO of an incident by direct message when
// a rotation named them and someone else reported it: they learn of it
// from sitrep, not from an invitation alone. The brief is posted once
// (found again by its metadata on a retry).
func (b *Bot) briefAtOpen(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if inc.TDOID == "" || inc.TDOID == inc.ReporterID {
		return nil
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	text, blocks := briefView(inc, openingWhy(inc), room.ChannelID, timeline, b.clock.Now())
	return b.post(ctx, inc.TDOID, onceAs(effectBrief, "open:"+strconv.FormatInt(inc.ID, 10)), text, blocks)
}

// peopleChangedJob shows a hand-off or a role given: the person is invited,
// the header and topic re-rendered, the room told; a new TDO is also briefed
// by direct message.
func (b *Bot) peopleChangedJob(ctx context.Context, j jobs.Job) error {
	inc, room, entry, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	err = b.slack.do(ctx, "conversations.invite", func(ctx context.Context) error {
		_, err := b.api.InviteUsersToConversationContext(ctx, room.ChannelID, entry.Subject)
		return err
	})
	if c := slackCode(err); err != nil && c != "already_in_channel" && c != "cant_invite_self" {
		return err
	}
	b.members.memberChanged(room.ChannelID, entry.Subject, true)
	if err := b.refreshRoom(ctx, inc, room); err != nil {
		return err
	}
	if entry.Kind == incident.EntryRole {
		line := fmt.Sprintf(":busts_in_silhouette: <@%s> is now *%s* for %s (set by <@%s>)", entry.Subject, entry.Text, inc.Ref(), entry.Actor)
		return b.post(ctx, room.ChannelID, jobEffect(effectPeople, j), line, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)})
	}
	text, blocks := handOffLineView(inc, entry)
	if err := b.post(ctx, room.ChannelID, jobEffect(effectPeople, j), text, blocks); err != nil {
		return err
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	text, blocks = briefView(inc, handOffWhy(entry), room.ChannelID, timeline, b.clock.Now())
	return b.post(ctx, entry.Subject, jobEffect(effectBrief, j), text, blocks) // a user ID posts to the direct message
}
