package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// findIncident returns the incident a command is about: INC-number when
// number is not 0, else the incident whose channel the command was typed in.
// When there is none it answers the user, naming the mistake, and ok is
// false.
func (b *Bot) findIncident(ctx context.Context, cmd slack.SlashCommand, number int64, usage string) (inc *incident.Incident, ok bool) {
	var err error
	if number != 0 {
		inc, err = b.incidents.ByNumber(ctx, number)
		if errors.Is(err, incident.ErrNotFound) {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("There is no INC-%d.", number), usage)
			return nil, false
		}
	} else {
		var room *incident.Room
		room, err = b.rooms.RoomByChannel(ctx, cmd.ChannelID)
		if errors.Is(err, incident.ErrNotFound) {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID,
				"This is not an incident channel: type the command in the incident's channel, or name the incident (INC-12).", usage)
			return nil, false
		}
		if err == nil {
			inc, err = b.incidents.Incident(ctx, room.IncidentID)
		}
	}
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the incident", err, "Nothing changed"), usage)
		return nil, false
	}
	return inc, true
}

// onStatus handles /incident status.
func (b *Bot) onStatus(ctx context.Context, cmd slack.SlashCommand, c statusCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageStatus)
	if !ok {
		return
	}
	changed, entry, err := b.incidents.SetStatus(ctx, incident.StatusRequest{
		IncidentID: inc.ID, Actor: cmd.UserID, Status: c.Status, Message: c.Message,
	})
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("%s is %s already. To post an update, say what changed: `/incident status %s <message>`.",
			inc.Ref(), c.Status, c.Status), usageStatus)
		return
	}
	if b.refused(ctx, cmd, err, "change the status", usageStatus) {
		return
	}
	b.log.Info("status changed", "incident", changed.Ref(), "status", changed.Status, "by", cmd.UserID)
	b.showChange(ctx, incident.JobChanged, changed, entry)
	b.doneElsewhere(ctx, cmd, changed, "the status is "+string(changed.Status))
}

// doneElsewhere tells the caller of a command typed outside inc's room
// where it took effect: in the room, with a link to it. Typed in the room,
// the room's own message is the answer and nothing more is said.
func (b *Bot) doneElsewhere(ctx context.Context, cmd slack.SlashCommand, inc *incident.Incident, what string) {
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil || room.ChannelID == "" || room.ChannelID == cmd.ChannelID {
		return
	}
	b.doneIn(ctx, cmd, "<#"+room.ChannelID+"|"+room.ChannelName+">", what, inc)
}

// doneIn tells the caller of cmd that what was done for inc in where (a
// channel link).
func (b *Bot) doneIn(ctx context.Context, cmd slack.SlashCommand, where, what string, inc *incident.Incident) {
	b.reply(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf(":white_check_mark: Done in %s: %s for %s.", where, what, inc.Ref()), nil)
}

// actingRoom returns the channel where a command about inc acts: the
// incident's room while it is there (not archived), else where the
// command was typed.
func (b *Bot) actingRoom(ctx context.Context, cmd slack.SlashCommand, inc *incident.Incident) string {
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil || !room.Ready || room.ChannelID == "" || room.Did(stepArchived) {
		return cmd.ChannelID
	}
	return room.ChannelID
}

// refused answers the user when a change was refused or failed, and
// reports whether it was. what is the change ("change the status").
func (b *Bot) refused(ctx context.Context, cmd slack.SlashCommand, err error, what, usage string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, incident.ErrClosed):
		text := closedText(err, what)
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(text, 3000)), nil, nil)})
	default:
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot(what, err, "Nothing changed"), usage)
	}
	return true
}

// onClose handles /incident close.
func (b *Bot) onClose(ctx context.Context, cmd slack.SlashCommand, c closeCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageClose)
	if !ok {
		return
	}
	closed, entry, err := b.incidents.Close(ctx, inc.ID, cmd.UserID)
	if b.refused(ctx, cmd, err, "close the incident", usageClose) {
		return
	}
	b.log.Info("incident closed", "incident", closed.Ref(), "by", cmd.UserID)
	b.showChange(ctx, incident.JobClosed, closed, entry)
	b.doneElsewhere(ctx, cmd, closed, "closed")
}

// closedJob shows a closed incident: the header, its summary in the room,
// and a line in the incidents channel.
func (b *Bot) closedJob(ctx context.Context, j jobs.Job) error {
	inc, room, _, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	if b.cfg.ArchiveAfter > 0 {
		// Scheduled before anything is posted (a no-op if it exists), so
		// a retry of this job never loses it.
		payload, _ := json.Marshal(incident.ProvisionPayload{IncidentID: inc.ID})
		if _, err := b.jobs.Enqueue(ctx, jobs.Job{Kind: jobArchive, Key: jobArchive + ":" + strconv.FormatInt(inc.ID, 10),
			Payload: payload, DueAt: inc.ClosedAt.Add(b.cfg.ArchiveAfter)}); err != nil {
			return err
		}
	}
	if err := b.refreshRoom(ctx, inc, room); err != nil {
		return err
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	text, blocks := summaryView(inc, incident.Summarize(inc, timeline))
	if err := b.post(ctx, room.ChannelID, jobEffect(effectSummary, j), text, blocks); err != nil {
		return err
	}
	channel, err := b.incidentsChannel(ctx)
	if err != nil {
		return err
	}
	text, blocks = closedLineView(inc, room.ChannelID)
	return b.post(ctx, channel, jobEffect(effectClosed, j), text, blocks)
}

// jobArchive archives a closed incident's channel, ArchiveAfter after the
// close. Its payload names the incident.
const jobArchive = "bot.archive_channel"

// stepArchived marks a room whose channel is archived.
const stepArchived = "archived"

// archiveJob archives a closed incident's channel.
func (b *Bot) archiveJob(ctx context.Context, j jobs.Job) error {
	var p incident.ProvisionPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading archive job payload: %w", err))
	}
	room, err := b.rooms.Room(ctx, p.IncidentID)
	if errors.Is(err, incident.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	if room.Did(stepArchived) {
		return nil
	}
	err = b.slack.do(ctx, "conversations.archive", func(ctx context.Context) error {
		return b.api.ArchiveConversationContext(ctx, room.ChannelID)
	})
	if err != nil && slackCode(err) != "already_archived" {
		return err
	}
	room.Mark(stepArchived)
	b.log.Info("archived incident channel", "incident", p.IncidentID, "channel", room.ChannelName)
	return b.saveRoom(ctx, room)
}

// showChange runs the job of kind that shows a change in Slack, now; if
// Slack fails, the job queue retries it.
func (b *Bot) showChange(ctx context.Context, kind string, inc *incident.Incident, entry incident.TimelineEntry) {
	if _, err := b.jobs.RunJob(ctx, incident.ChangeJob(kind, inc, entry, b.clock.Now())); err != nil {
		b.log.Warn("change not shown in Slack yet; the job queue will retry", "incident", inc.Ref(), "job", kind, "err", err)
	}
}

// onSeverity handles /incident sev.
func (b *Bot) onSeverity(ctx context.Context, cmd slack.SlashCommand, c severityCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageSeverity)
	if !ok {
		return
	}
	changed, entry, err := b.incidents.SetSeverity(ctx, incident.SeverityRequest{
		IncidentID: inc.ID, Actor: cmd.UserID, Severity: c.Severity, Reason: c.Reason,
	})
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("%s is %s already.", inc.Ref(), c.Severity.Label()), usageSeverity)
		return
	}
	if b.refused(ctx, cmd, err, "change the severity", usageSeverity) {
		return
	}
	b.log.Info("severity changed", "incident", changed.Ref(), "severity", changed.Severity.String(), "by", cmd.UserID)
	b.showChange(ctx, incident.JobChanged, changed, entry)
	b.doneElsewhere(ctx, cmd, changed, "the severity is "+changed.Severity.Label())
}

// onList handles /incident list: the incidents not yet resolved.
func (b *Bot) onList(ctx context.Context, cmd slack.SlashCommand) {
	active, err := b.incidents.Active(ctx)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("list incidents", err, ""), "/incident list")
		return
	}
	active = b.shownTo(ctx, cmd.ChannelID, cmd.UserID, active)
	ids := make([]int64, len(active))
	for i, inc := range active {
		ids[i] = inc.ID
	}
	channels := map[int64]string{}
	rooms, err := b.rooms.RoomsOf(ctx, ids)
	if err != nil {
		b.log.Warn("reading the rooms of open incidents", "err", err) // listed without their channels
	}
	for id, room := range rooms {
		channels[id] = room.ChannelID
	}
	text, blocks := listView(active, channels, b.clock.Now())
	b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
}

// changedJob shows a change of status or severity: the header, topic and
// plan of attack (whose clock a reopening or a higher severity retimes)
// re-rendered from the store, a line in the incident channel, an update in
// the incidents channel.
func (b *Bot) changedJob(ctx context.Context, j jobs.Job) error {
	inc, room, entry, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	if err := b.refreshRoom(ctx, inc, room); err != nil {
		return err
	}
	if err := b.refreshPlanAfterHeader(ctx, inc, room); err != nil {
		return err
	}
	text, blocks := changeLineView(inc, entry)
	if err := b.post(ctx, room.ChannelID, jobEffect(effectStatus, j), text, blocks); err != nil {
		return err
	}
	channel, err := b.incidentsChannel(ctx)
	if err != nil {
		return err
	}
	text, blocks = changeUpdateView(inc, entry, room.ChannelID)
	return b.post(ctx, channel, jobEffect(effectStatusUpdate, j), text, blocks)
}

// maxRefreshRounds bounds how often refreshRoom renders again because the
// incident changed while it was updating Slack.
const maxRefreshRounds = 5

// changeTarget loads what a change job is about: the incident, its room
// (which must be ready: the job waits for set-up to finish) and the timeline
// entry. An incident or entry that is gone fails the job for good.
func (b *Bot) changeTarget(ctx context.Context, j jobs.Job) (*incident.Incident, *incident.Room, incident.TimelineEntry, error) {
	var none incident.TimelineEntry
	var p incident.ChangePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return nil, nil, none, jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	inc, err := b.incidents.Incident(ctx, p.IncidentID)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, nil, none, jobs.Permanent(err)
	}
	if err != nil {
		return nil, nil, none, err
	}
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil || !room.Ready {
		return nil, nil, none, fmt.Errorf("%s has no room yet; showing the change later", inc.Ref())
	}
	entry, err := b.entry(ctx, inc, p.EntryID)
	if err != nil {
		return nil, nil, none, err
	}
	return inc, room, entry, nil
}

// refreshRoom renders the header and topic from the store. Changes shown at
// the same time can reach Slack out of order, so after each update it reads
// the incident again and renders once more if it changed: whichever update
// lands last is followed by such a check, and Slack ends up showing what the
// store holds.
func (b *Bot) refreshRoom(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	return b.refreshHeader(ctx, inc, room, true)
}

// entry returns timeline entry id of inc.
func (b *Bot) entry(ctx context.Context, inc *incident.Incident, id int64) (incident.TimelineEntry, error) {
	e, err := b.incidents.Entry(ctx, id)
	if errors.Is(err, incident.ErrNotFound) || err == nil && e.IncidentID != inc.ID {
		return incident.TimelineEntry{}, jobs.Permanent(fmt.Errorf("%s has no timeline entry %d", inc.Ref(), id))
	}
	return e, err
}

// post posts a message in channel (a user ID: the direct message with
// them), once: e names it (see postOnce).
func (b *Bot) post(ctx context.Context, channel string, e effect, text string, blocks []slack.Block) error {
	_, err := b.postOnce(ctx, channel, e, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	return err
}

// onNote handles /incident note.
func (b *Bot) onNote(ctx context.Context, cmd slack.SlashCommand, c noteCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageNote)
	if !ok {
		return
	}
	inc, entry, err := b.incidents.AddNote(ctx, inc.ID, cmd.UserID, c.Text)
	if b.refused(ctx, cmd, err, "add the note", usageNote) {
		return
	}
	if !b.noteToRoom(ctx, inc, entry) {
		b.reply(ctx, cmd.ChannelID, cmd.UserID, ":memo: Noted on the timeline of "+inc.Ref()+".", nil)
		return
	}
	b.doneElsewhere(ctx, cmd, inc, "noted on the timeline")
}

// noteToRoom tells inc's room, in one short line posted once, of a note
// added to its timeline, so everyone working the incident sees it, not only
// its author. It reports whether the room was told.
func (b *Bot) noteToRoom(ctx context.Context, inc *incident.Incident, entry incident.TimelineEntry) bool {
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil || !room.Ready || room.ChannelID == "" {
		return false
	}
	line := fmt.Sprintf(":memo: <@%s> noted on the timeline of %s: %s", entry.Actor, inc.Ref(), escapeFit(entry.Text, 500))
	e := onceAs(effectNote, "entry:"+strconv.FormatInt(entry.ID, 10))
	if err := b.post(ctx, room.ChannelID, e, line, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}); err != nil {
		b.log.Error("telling the room of a note", "incident", inc.Ref(), "err", err)
		return false
	}
	return true
}

// onTimeline handles /incident timeline: in the incident's channel it posts
// the timeline for everyone; elsewhere it answers the asker alone.
func (b *Bot) onTimeline(ctx context.Context, cmd slack.SlashCommand, c timelineCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageTimeline)
	if !ok || !b.maySee(ctx, cmd.ChannelID, cmd.UserID, inc, usageTimeline) {
		return
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the timeline", err, ""), usageTimeline)
		return
	}
	inChannel := false
	if room, err := b.rooms.Room(ctx, inc.ID); err == nil && room.ChannelID == cmd.ChannelID {
		inChannel = true
	}
	for i, page := range timelineView(inc, timeline, b.clock.Now()) {
		if inChannel {
			if err := b.post(ctx, cmd.ChannelID, commandEffect(effectAnswer, cmd, i), page.text, page.blocks); err != nil {
				b.log.Error("posting the timeline", "incident", inc.Ref(), "err", err)
				return
			}
			continue
		}
		b.reply(ctx, cmd.ChannelID, cmd.UserID, page.text, page.blocks)
	}
}

// closedText answers an attempt to what ("add the note") on a closed
// incident, err wrapping incident.ErrClosed: nothing is wrong with what the
// person wrote, so it says where late findings go instead of a usage line.
func closedText(err error, what string) string {
	// err reads "INC-3 was closed on 2026-11-24 05:04 UTC: the incident is
	// closed"; the first half says it all.
	when := strings.TrimSuffix(err.Error(), ": "+incident.ErrClosed.Error())
	ref, _, _ := strings.Cut(when, " ")
	return fmt.Sprintf(":lock: %s, so sitrep did not %s: a closed incident takes no more changes and cannot be reopened. "+
		"Late findings go in its postmortem (`/postmortem entry %s <time> <what happened>`); "+
		"if the trouble is back, open a new incident with `/incident open <title>` and mention %s.",
		escape(when), what, escape(ref), escape(ref))
}
