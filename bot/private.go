package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Private incidents. A private incident runs in a private channel named
// inc-<n>-private; everywhere else (the incidents channel, the review,
// lists, problem views, exports) it is shown as incident.Redacted unless the
// one who asks may see it: access.SeeIncident, which allows the members of
// its room, its TDO and commanders.
//
// An incident made private later cannot have its public channel converted:
// Slack's Web API converts a public channel to private only through
// admin.conversations.convertToPrivate, an Enterprise Grid admin method that
// an ordinary app cannot call. So sitrep moves it: a new private channel,
// the old room's members invited, the header (pinned), "what changed?" and
// plan posted there again; in the old channel a line without the title, its
// own messages, topic and name scrubbed (inc-<n>-moved), then archived; the
// announcement and the earlier status and severity updates in the incidents
// channel rewritten without the title. What people wrote in the old channel
// stays in its archive, readable by the workspace.

// canSee reports whether viewer, asking in channel, may see inc's details.
// Everyone may see a public incident's. It answers no one; if the
// permission model cannot be asked, the answer is no.
func (b *Bot) canSee(ctx context.Context, channel, viewer string, inc *incident.Incident) bool {
	if !inc.Private {
		return true
	}
	t, err := b.incidentTarget(ctx, inc)
	if err != nil {
		b.log.Warn("finding a private incident's room; its details stay hidden", "incident", inc.Ref(), "err", err)
		return false
	}
	err = b.policy.Check(ctx, access.Request{Actor: viewer, Channel: channel, Action: access.SeeIncident, Target: t})
	var refusal *access.Refusal
	if err != nil && !errors.As(err, &refusal) {
		b.log.Warn("checking who may see a private incident; its details stay hidden", "incident", inc.Ref(), "err", err)
	}
	return err == nil
}

// maySee is canSee that, when the answer is no, tells viewer why (and
// usage) where they asked.
func (b *Bot) maySee(ctx context.Context, channel, viewer string, inc *incident.Incident, usage string) bool {
	if !inc.Private {
		return true
	}
	return b.mayOnIncident(ctx, channel, viewer, access.SeeIncident, inc, usage)
}

// shownTo returns incs as viewer, asking in channel, may see them: private
// incidents they may not see are redacted. Order and count are kept.
func (b *Bot) shownTo(ctx context.Context, channel, viewer string, incs []incident.Incident) []incident.Incident {
	out := make([]incident.Incident, len(incs))
	for i := range incs {
		out[i] = incs[i]
		if incs[i].Private && !b.canSee(ctx, channel, viewer, &incs[i]) {
			out[i] = incs[i].Redacted()
		}
	}
	return out
}

// onMakePrivate handles /incident private: the TDO or a commander makes the
// incident private; the job moves it into a private room.
func (b *Bot) onMakePrivate(ctx context.Context, cmd slack.SlashCommand, c privateCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usagePrivate)
	if !ok {
		return
	}
	if inc.Private {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, inc.Ref()+" is private already.", "")
		return
	}
	if !b.mayOnIncident(ctx, cmd.ChannelID, cmd.UserID, access.MakePrivate, inc, usagePrivate) {
		return
	}
	changed, entry, err := b.incidents.MakePrivate(ctx, inc.ID, cmd.UserID)
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, inc.Ref()+" is private already.", "")
		return
	}
	if b.refused(ctx, cmd, err, "make the incident private", usagePrivate) {
		return
	}
	b.log.Info("incident made private", "incident", changed.Ref(), "by", cmd.UserID)
	b.reply(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf(":lock: %s is private now: sitrep is moving it to a private channel and inviting everyone in this one.", changed.Ref()), nil)
	b.showChange(ctx, incident.JobMadePrivate, changed, entry)
}

// The steps of moving an incident made private into a private room, each
// recorded in the room as it is done. stepMovedFrom is followed by the old
// channel's ID; stepPrivateRoom means the room's channel is private (also
// set when a private incident's room is created).
const (
	stepMovedFrom       = "moved_from:"
	stepPrivateRoom     = "private_room"
	stepPrivateInvite   = "private_invite"
	stepPrivateTopic    = "private_topic"
	stepPrivateHeader   = "private_header"
	stepPrivatePin      = "private_pin"
	stepPrivateIntro    = "private_intro"
	stepMovedNotice     = "moved_notice"
	stepMovedHeader     = "moved_header:"
	stepMovedChanges    = "moved_changes:"
	stepMovedPlan       = "moved_plan:"
	stepPrivateChanges  = "private_changes"
	stepPrivatePlan     = "private_plan"
	stepMovedScrub      = "moved_scrub"
	stepMovedArchive    = "moved_archive"
	stepPrivateAnnounce = "private_announce"
)

// The effects of the move, besides the header.
const (
	effectPrivateIntro = "sitrep_private_intro" // the first line of a private room an incident moved to, key the incident
	effectMoved        = "sitrep_moved"         // the notice in the public room it left, key the incident
	effectMadePrivate  = "sitrep_made_private"  // the line in the incidents channel, key the job
)

// movedFrom returns the channel a room moved from, if it moved.
func movedFrom(room *incident.Room) string { return stepValue(room, stepMovedFrom) }

// stepValue returns what follows prefix in the room's recorded step that
// begins with it, or "".
func stepValue(room *incident.Room, prefix string) string {
	for _, s := range room.Done {
		if v, ok := strings.CutPrefix(s, prefix); ok {
			return v
		}
	}
	return ""
}

// madePrivateJob runs the incident.JobMadePrivate job: it moves the
// incident's room into a private channel (see the package comment above),
// step by step, each recorded so that a retry repeats none.
func (b *Bot) madePrivateJob(ctx context.Context, j jobs.Job) error {
	inc, room, entry, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	if !room.Did(stepPrivateRoom) {
		// The room is the public channel: make the private one.
		fresh := &incident.Room{IncidentID: inc.ID}
		if err := b.createChannel(ctx, inc, fresh); err != nil {
			return fmt.Errorf("creating the private room of %s: %w", inc.Ref(), err)
		}
		old := room.ChannelID
		for prefix, ts := range map[string]string{stepMovedHeader: room.HeaderTS, stepMovedChanges: room.ChangesTS, stepMovedPlan: room.PlanTS} {
			if ts != "" {
				room.Mark(prefix + ts)
			}
		}
		room.ChannelID, room.ChannelName = fresh.ChannelID, fresh.ChannelName
		room.HeaderTS, room.ChangesTS, room.PlanTS = "", "", ""
		room.Mark(stepMovedFrom + old)
		room.Mark(stepPrivateRoom)
		if err := b.saveRoom(ctx, room); err != nil {
			return err
		}
		b.log.Info("incident moved to a private channel", "incident", inc.Ref(), "from", old, "to", room.ChannelID)
	}
	old := movedFrom(room)
	steps := []struct {
		name string
		do   func(context.Context) error
		// skip is set for steps that only a moved room needs.
		skip bool
	}{
		{stepPrivateInvite, func(ctx context.Context) error { return b.inviteFrom(ctx, inc, room, old) }, old == ""},
		{stepPrivateTopic, func(ctx context.Context) error { return b.setTopic(ctx, inc, room) }, old == ""},
		{stepPrivateHeader, func(ctx context.Context) error { return b.repostHeader(ctx, inc, room) }, old == ""},
		{stepPrivatePin, func(ctx context.Context) error { return b.pinHeader(ctx, inc, room) }, old == ""},
		{stepPrivateChanges, func(ctx context.Context) error { return b.repostChanges(ctx, inc, room) }, stepValue(room, stepMovedChanges) == ""},
		{stepPrivatePlan, func(ctx context.Context) error { return b.repostPlan(ctx, inc, room) }, stepValue(room, stepMovedPlan) == ""},
		{stepPrivateIntro, func(ctx context.Context) error {
			text, blocks := privateRoomIntroView(inc, entry.Actor, old)
			return b.post(ctx, room.ChannelID, onceAs(effectPrivateIntro, inc.Ref()), text, blocks)
		}, old == ""},
		{stepMovedNotice, func(ctx context.Context) error {
			text, blocks := movedNoticeView(inc, entry.Actor)
			return b.post(ctx, old, onceAs(effectMoved, inc.Ref()), text, blocks)
		}, old == ""},
		{stepMovedScrub, func(ctx context.Context) error { return b.scrubOld(ctx, inc, room, old) }, old == ""},
		{stepMovedArchive, func(ctx context.Context) error {
			err := b.slack.do(ctx, "conversations.archive", func(ctx context.Context) error {
				return b.api.ArchiveConversationContext(ctx, old)
			})
			if slackCode(err) == "already_archived" {
				return nil
			}
			return err
		}, old == ""},
		{stepPrivateAnnounce, func(ctx context.Context) error { return b.announcePrivate(ctx, inc, room, entry.Actor, j) }, false},
	}
	for _, s := range steps {
		if s.skip || room.Did(s.name) {
			continue
		}
		var err error
		settling(ctx, func() bool {
			err = s.do(ctx)
			return slackCode(err) == "channel_not_found"
		})
		if err != nil {
			return fmt.Errorf("making %s private (%s): %w", inc.Ref(), s.name, err)
		}
		room.Mark(s.name)
		if err := b.saveRoom(ctx, room); err != nil {
			return err
		}
	}
	return nil
}

// repostHeader posts the header again in the private room, as it stands,
// carrying the parts the old room had ("what changed?" with its verdicts,
// the plan of attack with its ticks) where they fit: in one message, as
// when the room was set up.
func (b *Bot) repostHeader(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	verdicts := incident.Verdicts(timeline)
	var shown []incident.ShownChange
	if b.changes != nil {
		if shown, err = b.changes.Shown(ctx, inc.ID); err != nil {
			return err
		}
	}
	var changes, plan []slack.Block
	if b.changes != nil && stepValue(room, stepMovedChanges) != "" {
		_, changes = whatChangedView(inc, shown, verdicts, b.cfg.WhatChangedWindow)
	}
	if stepValue(room, stepMovedPlan) != "" {
		_, plan = planView(inc, incident.Diagnostics(timeline))
	}
	return b.postHeaderWith(ctx, inc, room, suspectLines(shown, verdicts), changes, plan)
}

// repostChanges posts the room's "what changed?" list again in the private
// room, as it stands (the changes shown and the verdicts given), so that
// its buttons work there.
func (b *Bot) repostChanges(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if b.changes == nil || room.ChangesTS != "" { // none, or carried by the header
		return nil
	}
	text, blocks, err := b.whatChangedNow(ctx, inc)
	if err != nil {
		return err
	}
	ts, err := b.postOnce(ctx, room.ChannelID, onceAs(effectWhatChanged, inc.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		room.ChangesTS = ts
	}
	return err
}

// repostPlan posts the plan of attack again in the private room, with the
// diagnostics ticked so far.
func (b *Bot) repostPlan(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if room.PlanTS != "" { // carried by the header
		return nil
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	text, blocks := planView(inc, incident.Diagnostics(timeline))
	ts, err := b.postOnce(ctx, room.ChannelID, onceAs(effectPlan, inc.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		room.PlanTS = ts
	}
	return err
}

// scrubOld takes the title out of what sitrep wrote in the public room an
// incident left: its header (replaced by a notice, without buttons), its
// "what changed?" list and plan of attack (which name its systems), its
// topic, and its name, inc-<n>-<slug>, which becomes inc-<n>-moved (the
// bot created the channel, so Slack lets it rename it). What people wrote
// there stays.
func (b *Bot) scrubOld(ctx context.Context, inc *incident.Incident, room *incident.Room, old string) error {
	header, headerBlocks := movedHeaderView(inc)
	part, partBlocks := movedPartView(inc)
	for _, m := range []struct {
		ts     string
		text   string
		blocks []slack.Block
	}{
		{stepValue(room, stepMovedHeader), header, headerBlocks},
		{stepValue(room, stepMovedChanges), part, partBlocks},
		{stepValue(room, stepMovedPlan), part, partBlocks},
	} {
		if m.ts == "" || (m.ts == stepValue(room, stepMovedHeader) && m.text == part) {
			continue // none, or a part the header carried: replaced with it
		}
		err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, old, m.ts, slack.MsgOptionText(m.text, false), slack.MsgOptionBlocks(m.blocks...))
			return err
		})
		if err != nil && slackCode(err) != "message_not_found" {
			return fmt.Errorf("replacing a message of %s in its old room: %w", inc.Ref(), err)
		}
	}
	err := b.slack.do(ctx, "conversations.setTopic", func(ctx context.Context) error {
		_, err := b.api.SetTopicOfConversationContext(ctx, old, inc.Ref()+" moved to a private channel")
		return err
	})
	if err != nil {
		return fmt.Errorf("clearing the old topic of %s: %w", inc.Ref(), err)
	}
	var info *slack.Channel
	err = b.slack.do(ctx, "conversations.info", func(ctx context.Context) error {
		var err error
		info, err = b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: old})
		return err
	})
	if err != nil {
		return fmt.Errorf("reading the old room of %s: %w", inc.Ref(), err)
	}
	if strings.HasPrefix(info.Name, channelName(inc.Number, "moved", 1)) {
		return nil // renamed by an earlier try
	}
	for suffix := 1; suffix <= maxNameSuffix; suffix++ {
		name := channelName(inc.Number, "moved", suffix)
		err := b.slack.do(ctx, "conversations.rename", func(ctx context.Context) error {
			_, err := b.api.RenameConversationContext(ctx, old, name)
			return err
		})
		switch slackCode(err) {
		case "name_taken":
			continue
		case "not_authorized":
			// Not sitrep's channel (adopted, or made by a person): its name
			// stays; the room's members were told.
			b.log.Warn("could not rename the public room of an incident made private", "incident", inc.Ref(), "channel", old)
			return nil
		}
		return err
	}
	return nil
}

// inviteFrom invites into the private room everyone in the old one, the
// TDO, the reporter and the role holders (not the bot, which is in already).
func (b *Bot) inviteFrom(ctx context.Context, inc *incident.Incident, room *incident.Room, old string) error {
	users := []string{inc.TDOID, inc.ReporterID}
	for _, role := range incident.Roles() {
		users = append(users, inc.Roles[role])
	}
	members, err := b.channelMembers(ctx, old)
	if err != nil {
		return fmt.Errorf("listing who is in <#%s>: %w", old, err)
	}
	users = append(users, members...)
	self, err := b.self(ctx)
	if err != nil {
		return err
	}
	slices.Sort(users)
	users = slices.Compact(users)
	users = slices.DeleteFunc(users, func(u string) bool { return u == "" || u == self })
	if len(users) == 0 {
		return nil
	}
	invite := func(users ...string) error {
		err := b.slack.do(ctx, "conversations.invite", func(ctx context.Context) error {
			_, err := b.api.InviteUsersToConversationContext(ctx, room.ChannelID, users...)
			return err
		})
		if c := slackCode(err); c == "already_in_channel" || c == "cant_invite_self" {
			return nil
		}
		return err
	}
	err = invite(users...)
	if !uninvitable[slackCode(err)] || len(users) == 1 {
		return err
	}
	// Slack refuses the whole batch for one person it will not invite (a
	// deactivated account, a guest): invite each, and skip those.
	for _, u := range users {
		if err := invite(u); err != nil {
			if !uninvitable[slackCode(err)] {
				return err
			}
			b.log.Warn("not invited to the private room", "incident", inc.Ref(), "user", u, "err", err)
		}
	}
	return nil
}

// uninvitable are conversations.invite's refusals of one person (not of
// the call), after which the others can still be invited.
var uninvitable = map[string]bool{
	"cant_invite": true, "user_not_found": true, "user_is_restricted": true, "user_is_ultra_restricted": true,
	"ura_max_channels": true, "user_is_deactivated": true, "user_team_not_in_channel": true,
}

// announcePrivate rewrites the incident's announcement in the incidents
// channel without its title and says there that it was made private.
func (b *Bot) announcePrivate(ctx context.Context, inc *incident.Incident, room *incident.Room, actor string, j jobs.Job) error {
	channel, err := b.incidentsChannel(ctx)
	if err != nil {
		return err
	}
	if room.AnnouncementTS != "" {
		text, blocks := privateAnnouncementView(inc)
		err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, channel, room.AnnouncementTS,
				slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		})
		if err != nil && slackCode(err) != "message_not_found" {
			return fmt.Errorf("rewriting the announcement of %s: %w", inc.Ref(), err)
		}
	}
	if err := b.redactUpdates(ctx, inc, channel); err != nil {
		return err
	}
	text, blocks := madePrivateLineView(inc, actor)
	return b.post(ctx, channel, jobEffect(effectMadePrivate, j), text, blocks)
}

// redactUpdates rewrites, without the title, the status and severity
// updates the incidents channel heard about inc while it was public: each
// is sitrep's own message marked with its job's key (see postOnce).
func (b *Bot) redactUpdates(ctx context.Context, inc *incident.Incident, channel string) error {
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, e := range timeline {
		switch e.Kind {
		case incident.EntryStatus, incident.EntryReopen, incident.EntrySeverity:
			keys[incident.ChangeJob(incident.JobChanged, inc, e, e.At).Key] = true
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var found []string
	// The match collects every update of inc and answers false, so that
	// findOwn reads the whole history since the incident opened.
	_, err = b.findOwn(ctx, channel, "", inc.OpenedAt.Add(-lookBack), func(m slack.Message) bool {
		key, _ := m.Metadata.EventPayload["key"].(string)
		if m.Metadata.EventType == effectStatusUpdate && keys[key] {
			found = append(found, m.Timestamp)
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("finding the updates of %s in the incidents channel: %w", inc.Ref(), err)
	}
	text, blocks := redactedUpdateView(inc)
	for _, ts := range found {
		err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		})
		if err != nil && slackCode(err) != "message_not_found" {
			return fmt.Errorf("rewriting an update of %s: %w", inc.Ref(), err)
		}
	}
	return nil
}
