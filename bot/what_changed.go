package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// postWhatChanged posts, in a new incident's room, the last changes to its
// systems before it opened, so the room starts from what changed.
func (b *Bot) postWhatChanged(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if b.changes == nil || room.ChangesTS != "" { // none, or carried by the header
		return nil
	}
	shown, err := b.collectChanges(ctx, inc, b.cfg.WhatChangedWindow)
	if err != nil {
		return err
	}
	text, blocks := whatChangedView(inc, shown, nil, b.cfg.WhatChangedWindow)
	ts, err := b.postOnce(ctx, room.ChannelID, onceAs(effectWhatChanged, inc.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		room.ChangesTS = ts
	}
	return err
}

// collectChanges picks the last changes to inc's systems in window before
// it opened; when they are fewer than the configured count, the latest
// changes elsewhere fill the list, marked as other systems. It records them
// as shown (the store first: lists re-render from it).
func (b *Bot) collectChanges(ctx context.Context, inc *incident.Incident, window time.Duration) ([]incident.ShownChange, error) {
	q := incident.ChangeQuery{
		Since: inc.OpenedAt.Add(-window),
		Until: inc.OpenedAt.Add(time.Second),
		Limit: b.cfg.WhatChangedCount,
	}
	var onSystems []incident.Change
	if len(inc.Systems) > 0 {
		sq := q
		sq.Systems = inc.Systems
		var err error
		if onSystems, err = b.changes.Recent(ctx, sq); err != nil {
			return nil, err
		}
	}
	var others []incident.Change
	if missing := b.cfg.WhatChangedCount - len(onSystems); missing > 0 {
		oq := q
		oq.Limit = b.cfg.WhatChangedCount + len(onSystems)
		all, err := b.changes.Recent(ctx, oq)
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, c := range onSystems {
			seen[c.ID] = true
		}
		for _, c := range all {
			if !seen[c.ID] && len(others) < missing {
				others = append(others, c)
			}
		}
	}
	var shown []incident.ShownChange
	for _, c := range onSystems {
		shown = append(shown, incident.ShownChange{Change: c})
	}
	for _, c := range others {
		shown = append(shown, incident.ShownChange{Change: c, Other: len(inc.Systems) > 0})
	}
	if len(shown) == 0 {
		return nil, nil // nothing to record
	}
	if err := b.changes.Show(ctx, inc.ID, shown); err != nil {
		return nil, err
	}
	return shown, nil
}

// onChanges handles /incident changes [window]: the list again, for
// another window, in the room for everyone or privately elsewhere.
func (b *Bot) onChanges(ctx context.Context, cmd slack.SlashCommand, c changesCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageChanges)
	if !ok || !b.maySee(ctx, cmd.ChannelID, cmd.UserID, inc, usageChanges) {
		return
	}
	w := c.Window
	if w == 0 {
		w = b.cfg.WhatChangedWindow
	}
	shown, err := b.collectChanges(ctx, inc, w)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the change log", err, ""), usageChanges)
		return
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the timeline", err, ""), usageChanges)
		return
	}
	text, blocks := whatChangedView(inc, shown, incident.Verdicts(timeline), w)
	if room, err := b.rooms.Room(ctx, inc.ID); err == nil && room.ChannelID == cmd.ChannelID {
		if err := b.post(ctx, cmd.ChannelID, commandEffect(effectAnswer, cmd, 0), text, blocks); err != nil {
			b.log.Error("posting changes", "incident", inc.Ref(), "err", err)
		}
		return
	}
	b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
}

// Buttons on each listed change.
const (
	actionSuspect   = "change_suspect"
	actionUnrelated = "change_unrelated"
)

// onChangeVerdict handles Suspect and Not related on a listed change.
func (b *Bot) onChangeVerdict(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	incID, changeID, ok := parseVerdictValue(a.Value)
	var inc *incident.Incident
	var err error
	if ok {
		inc, err = b.incidents.Incident(ctx, incID)
	}
	if !ok || err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to an incident sitrep cannot find.", "/incident list")
		return
	}
	if room, err := b.rooms.Room(ctx, inc.ID); err != nil || room.ChannelID != cb.Channel.ID {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "Judge changes in the incident's own channel.", "/incident help")
		return
	}
	shown, err := b.changes.Shown(ctx, inc.ID)
	if err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, b.couldNot("read the listed changes", err, ""), "/incident help")
		return
	}
	what := ""
	for _, c := range shown {
		if c.ID == changeID {
			what = strings.Join(c.Systems, ", ") + ": " + c.Summary
		}
	}
	if what == "" {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That change is not listed for "+inc.Ref()+".", "/incident help")
		return
	}
	verdict := incident.EntrySuspect
	if a.ActionID == actionUnrelated {
		verdict = incident.EntryUnrelated
	}
	changed, entry, err := b.incidents.MarkChange(ctx, inc.ID, changeID, cb.User.ID, verdict, what)
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, userProblem(err), "/incident help")
		return
	}
	if b.refused(ctx, slack.SlashCommand{ChannelID: cb.Channel.ID, UserID: cb.User.ID}, err, "record the verdict", "/incident help") {
		return
	}
	b.showChange(ctx, incident.JobChangeMarked, changed, entry)
}

// parseVerdictValue reads a verdict button's value, "<incident>:<change>".
func parseVerdictValue(v string) (incidentID, changeID int64, ok bool) {
	a, c, found := strings.Cut(v, ":")
	i, err1 := strconv.ParseInt(a, 10, 64)
	j, err2 := strconv.ParseInt(c, 10, 64)
	return i, j, found && err1 == nil && err2 == nil
}

// changeMarkedJob re-renders the header (which lists suspects) and the
// list of changes, both from the store.
func (b *Bot) changeMarkedJob(ctx context.Context, j jobs.Job) error {
	inc, room, _, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	if err := b.refreshRoom(ctx, inc, room); err != nil {
		return err
	}
	if room.ChangesTS == "" || mergedParts(room).changes { // the header carries it
		return nil
	}
	text, blocks, err := b.whatChangedNow(ctx, inc)
	if err != nil {
		return err
	}
	return b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, room.ChannelID, room.ChangesTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// suspectLines renders the shown changes judged suspect, as text lines.
func suspectLines(shown []incident.ShownChange, verdicts map[int64]incident.TimelineEntry) []string {
	var out []string
	for _, c := range shown {
		if v, ok := verdicts[c.ID]; ok && v.Kind == incident.EntrySuspect {
			out = append(out, fmt.Sprintf("*%s* %s (<@%s>)", escape(strings.Join(c.Systems, ", ")), escapeFit(c.Summary, 200), v.Actor))
		}
	}
	return out
}

// whatChangedView renders the "what changed?" message: each change with
// its verdict so far and Suspect / Not related buttons.
func whatChangedView(inc *incident.Incident, shown []incident.ShownChange, verdicts map[int64]incident.TimelineEntry, window time.Duration) (string, []slack.Block) {
	onSystems := 0
	for _, c := range shown {
		if !c.Other {
			onSystems++
		}
	}
	scope := "any system"
	if len(inc.Systems) > 0 {
		scope = escape(strings.Join(inc.Systems, ", "))
	}
	title := "What changed before " + inc.Ref() + "?"
	if len(shown) == 0 {
		text := fmt.Sprintf(":mag: *%s* No changes were logged to %s in the %s before it opened. Log changes as they happen (`%s`, the API or `sitrep change add`) and the next incident starts here.",
			title, scope, durationText(window), usageChange)
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title))}
	intro := fmt.Sprintf("The last changes to %s in the %s before %s opened, newest first.", scope, durationText(window), inc.Ref())
	if onSystems == 0 && len(inc.Systems) > 0 {
		intro = fmt.Sprintf("No changes to %s in the %s before %s opened; the latest changes elsewhere:", scope, durationText(window), inc.Ref())
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(intro)))
	for _, c := range shown {
		line := whatChangedLine(c.Change, inc.OpenedAt, c.Other)
		if v, ok := verdicts[c.ID]; ok {
			mark := ":warning: *Suspect*"
			if v.Kind == incident.EntryUnrelated {
				mark = ":heavy_minus_sign: Not related"
			}
			line += fmt.Sprintf("\n%s (<@%s>)", mark, v.Actor)
		}
		value := strconv.FormatInt(inc.ID, 10) + ":" + strconv.FormatInt(c.ID, 10)
		blocks = append(blocks,
			slack.NewSectionBlock(mrkdwn(line), nil, nil),
			slack.NewActionBlock("change_"+strconv.FormatInt(c.ID, 10),
				slack.NewButtonBlockElement(actionSuspect, value, plain("Suspect")),
				slack.NewButtonBlockElement(actionUnrelated, value, plain("Not related"))))
	}
	return title, blocks
}

// whatChangedLine renders one change relative to the opening.
func whatChangedLine(c incident.Change, opened time.Time, other bool) string {
	when := durationText(opened.Sub(c.OccurredAt)) + " before it opened"
	if c.OccurredAt.After(opened) {
		when = durationText(c.OccurredAt.Sub(opened)) + " after it opened"
	}
	line := fmt.Sprintf("*%s* · %s", escape(strings.Join(c.Systems, ", ")), when)
	if other {
		line += " · _other system_"
	}
	line += fmt.Sprintf("\n%s: %s", personRef(c.Person), escapeFit(c.Summary, 500))
	if c.Reason != "" {
		line += "\n_because_ " + escapeFit(c.Reason, 500)
	}
	if c.Link != "" {
		line += " <" + escape(c.Link) + "|link>"
	}
	return line
}

// changesLoggedJob tells the room of every open incident whose systems
// newly logged changes touch: the room hears of changes made while it
// works, but quietly. A batch (one API call, one CLI run) is one message
// per room, posted now; a change logged on its own waits up to a minute
// for others (see incident.ChangeLog.PendForRoom and roomChangesJob).
func (b *Bot) changesLoggedJob(ctx context.Context, j jobs.Job) error {
	var p incident.ChangesLoggedPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading changes job payload: %w", err))
	}
	changes, err := b.changes.ByID(ctx, p.ChangeIDs)
	if err != nil {
		return err
	}
	active, err := b.incidents.Active(ctx)
	if err != nil {
		return err
	}
	for _, inc := range active {
		if inc.Closed() {
			continue
		}
		hits := changesOn(&inc, changes)
		if len(hits) == 0 {
			continue
		}
		room, err := b.rooms.Room(ctx, inc.ID)
		if err != nil || !room.Ready {
			continue // its room is not there yet; what changed covers it at set-up
		}
		if len(p.ChangeIDs) == 1 {
			ids := []int64{hits[0].ID}
			if _, err := b.changes.PendForRoom(ctx, inc.ID, ids); err != nil {
				return err
			}
			continue
		}
		key := jobEffect(effectNewChange, j).key + ":incident:" + strconv.FormatInt(inc.ID, 10)
		if err := b.tellRoomOfChanges(ctx, &inc, room, hits, key); err != nil {
			return err
		}
	}
	return nil
}

// roomChangesJob tells an incident's room of the changes logged one by one
// in a window, in one message; the window is marked told after the post,
// and a retry finds the message by its key.
func (b *Bot) roomChangesJob(ctx context.Context, j jobs.Job) error {
	var p incident.RoomChangesPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading room changes job payload: %w", err))
	}
	changes, err := b.changes.PendingForRoom(ctx, p.Notice)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		inc, err := b.incidents.Incident(ctx, p.IncidentID)
		if err != nil {
			return err
		}
		room, err := b.rooms.Room(ctx, inc.ID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			return err
		}
		// Closed meanwhile, or its room gone: nobody is listening.
		if err == nil && !inc.Closed() {
			if err := b.tellRoomOfChanges(ctx, inc, room, changesOn(inc, changes), p.Notice); err != nil {
				return err
			}
		}
	}
	return b.changes.ToldRoom(ctx, p.Notice)
}

// changesOn returns the changes that touch inc's systems, in the order
// given.
func changesOn(inc *incident.Incident, changes []incident.Change) []incident.Change {
	var hits []incident.Change
	for _, c := range changes {
		if slices.ContainsFunc(c.Systems, func(s string) bool { return slices.Contains(inc.Systems, s) }) {
			hits = append(hits, c)
		}
	}
	return hits
}

// tellRoomOfChanges posts, once under key, one message in inc's room about
// changes (newest first) logged while it is open.
func (b *Bot) tellRoomOfChanges(ctx context.Context, inc *incident.Incident, room *incident.Room, changes []incident.Change, key string) error {
	if len(changes) == 0 {
		return nil
	}
	text, blocks := roomChangesView(inc, changes)
	return b.post(ctx, room.ChannelID, onceAs(effectNewChange, key), text, blocks)
}

// roomChangesShown is how many changes a room's change notice lists; the
// rest are counted, with the command that lists them.
const roomChangesShown = 3

// roomChangesView renders the notice of changes (newest first) to inc's
// systems logged while it is open: one change in full, several as the
// first few, oldest first, and how many more.
func roomChangesView(inc *incident.Incident, changes []incident.Change) (string, []slack.Block) {
	var systems []string
	for _, s := range inc.Systems {
		if slices.ContainsFunc(changes, func(c incident.Change) bool { return slices.Contains(c.Systems, s) }) {
			systems = append(systems, s)
		}
	}
	scope := strings.Join(systems, ", ")
	list := "`/change list " + strings.Join(systems, ",") + "`"
	if len(changes) == 1 {
		c := changes[0]
		line := fmt.Sprintf(":new: *New change on %s while %s is open*\n%s", escape(strings.Join(c.Systems, ", ")), inc.Ref(),
			whatChangedLine(c, inc.OpenedAt, false))
		return "New change while " + inc.Ref() + " is open", []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(line, 3000)), nil, nil)}
	}
	title := fmt.Sprintf("%d changes to %s while %s is open", len(changes), scope, inc.Ref())
	lines := []string{":new: *" + escape(title) + "*"}
	for i := len(changes) - 1; i >= 0 && len(lines) <= roomChangesShown; i-- {
		lines = append(lines, "• "+roomChangeLine(changes[i], inc.OpenedAt))
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil)}
	more := "All of them: " + list
	if n := len(changes) - roomChangesShown; n > 0 {
		more = fmt.Sprintf("… and %d more — %s", n, list)
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(more)))
	return title, blocks
}

// roomChangeLine renders one change of a room's notice on one line: its
// systems, who, what, when relative to the opening.
func roomChangeLine(c incident.Change, opened time.Time) string {
	when := durationText(opened.Sub(c.OccurredAt)) + " before it opened"
	if c.OccurredAt.After(opened) {
		when = durationText(c.OccurredAt.Sub(opened)) + " after it opened"
	}
	line := fmt.Sprintf("*%s* %s: %s", escape(strings.Join(c.Systems, ", ")), personRef(c.Person), escapeFit(c.Summary, 300))
	if c.Link != "" {
		line += " <" + escape(c.Link) + "|link>"
	}
	return line + " _(" + when + ")_"
}

// whatChangedNow is inc's "what changed?" message as it stands: the changes
// shown and the verdicts given.
func (b *Bot) whatChangedNow(ctx context.Context, inc *incident.Incident) (string, []slack.Block, error) {
	shown, err := b.changes.Shown(ctx, inc.ID)
	if err != nil {
		return "", nil, err
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return "", nil, err
	}
	text, blocks := whatChangedView(inc, shown, incident.Verdicts(timeline), b.cfg.WhatChangedWindow)
	return text, blocks, nil
}
