package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/report"
)

// onPostmortemCommand handles /postmortem.
func (b *Bot) onPostmortemCommand(ctx context.Context, cmd slack.SlashCommand) {
	if b.postmortems == nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Postmortems are not enabled in this sitrep.", "/incident help")
		return
	}
	parsed, err := parsePostmortem(cmd.Text)
	var ue *usageError
	if errors.As(err, &ue) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, ue.Problem, ue.Usage)
		return
	}
	switch c := parsed.(type) {
	case pmHelp:
		text, blocks := postmortemHelpView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case pmActions:
		b.onMyActions(ctx, cmd.ChannelID, cmd.UserID)
	case pmStart:
		inc, ok := b.findIncident(ctx, cmd, c.Number, usagePMStart)
		if !ok || !b.mayOnPostmortem(ctx, cmd.ChannelID, cmd.UserID, access.StartPostmortem, inc, nil, usagePMStart) {
			return
		}
		// The postmortem runs in the incident's room, wherever it was
		// started from; the caller is told where.
		pm, err := b.postmortems.Start(ctx, inc.ID, cmd.UserID, b.actingRoom(ctx, cmd, inc))
		if errors.Is(err, incident.ErrNoChange) {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, userProblem(err), "/postmortem help")
			return
		}
		if b.refused(ctx, cmd, err, "start the postmortem", usagePMStart) {
			return
		}
		b.log.Info("postmortem started", "incident", inc.Ref(), "facilitator", cmd.UserID, "channel", pm.ChannelID)
		b.showPostmortem(ctx, pm)
		b.pmDoneElsewhere(ctx, cmd, inc, pm, "the postmortem started")
	case pmNext:
		b.pmChange(ctx, cmd, c.Number, access.MovePostmortem, usagePMNext, func(inc *incident.Incident) (*incident.Postmortem, error) {
			return b.postmortems.Next(ctx, inc.ID, cmd.UserID)
		})
	case pmFacilitator:
		if !b.knownPerson(ctx, cmd, c.User, "facilitator", usagePMFacilitator) {
			return
		}
		b.pmChange(ctx, cmd, c.Number, access.HandFacilitation, usagePMFacilitator, func(inc *incident.Incident) (*incident.Postmortem, error) {
			pm, err := b.postmortems.SetFacilitator(ctx, inc.ID, cmd.UserID, c.User)
			if errors.Is(err, incident.ErrNoChange) {
				// Said here with a mention, which Slack shows as the name.
				b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("<@%s> facilitates the postmortem of %s already.", c.User, inc.Ref()), usagePMFacilitator)
				return nil, errAnswered
			}
			return pm, err
		})
	case pmIssue:
		b.pmChange(ctx, cmd, c.Number, access.AddPostmortemEntry, usagePMIssue, func(inc *incident.Incident) (*incident.Postmortem, error) {
			return b.postmortems.AddIssue(ctx, inc.ID, cmd.UserID, c.Text, 0)
		})
	case pmEntry:
		// Times are read in the caller's own time zone (users.info tz).
		loc, theirs := b.userLocation(ctx, cmd.UserID, b.postmortems.Location())
		if c.Text == "" {
			if inc, _, ok := b.pmFor(ctx, cmd, c.Number, usagePMEntry, incident.PhaseTimeline); ok {
				b.openForm(ctx, cmd.ChannelID, cmd.UserID, cmd.TriggerID, entryModal(inc, nil, loc, theirs), "", usagePMEntry)
			}
			return
		}
		var added *incident.Incident
		var at time.Time
		b.pmChange(ctx, cmd, c.Number, access.AddPostmortemEntry, usagePMEntry, func(inc *incident.Incident) (*incident.Postmortem, error) {
			var err error
			if at, err = parseEntryTime(c.At, inc.OpenedAt, loc); err != nil {
				return nil, &incident.FieldError{Field: "time", Problem: err.Error() + " (times are " + zoneText(loc, theirs) + ")"}
			}
			pm, err := b.postmortems.AddEntry(ctx, inc.ID, cmd.UserID, at, c.Text)
			if err == nil {
				added = inc
			}
			return pm, err
		})
		if added != nil {
			b.entryAdded(ctx, cmd.ChannelID, cmd.UserID, added, at, loc, theirs)
		}
	case pmAction:
		if inc, pm, ok := b.pmFor(ctx, cmd, c.Number, usagePMAction, incident.PhaseActions); ok {
			b.openForm(ctx, cmd.ChannelID, cmd.UserID, cmd.TriggerID, actionModal(inc, pm, b.clock.Now().In(b.postmortems.Location())), "", usagePMAction)
		}
	case pmExport:
		inc, ok := b.findIncident(ctx, cmd, c.Number, usagePMExport)
		if !ok || !b.mayExport(ctx, cmd, inc) {
			return
		}
		b.exportPostmortem(ctx, cmd, inc)
	}
}

// entryAdded tells user the time their postmortem entry was stored at,
// in their zone and in UTC, so a time read in the wrong zone is seen.
func (b *Bot) entryAdded(ctx context.Context, channel, user string, inc *incident.Incident, at time.Time, loc *time.Location, theirs bool) {
	b.reply(ctx, channel, user, fmt.Sprintf(":spiral_calendar_pad: Entry of the %s postmortem at %s.", inc.Ref(), entryTimeText(at, loc, theirs)), nil)
}

// pmFor finds the incident and its postmortem, which the caller must be
// allowed to add to, in phase want; otherwise it answers why and ok is
// false.
func (b *Bot) pmFor(ctx context.Context, cmd slack.SlashCommand, number int64, usage string, want incident.Phase) (*incident.Incident, *incident.Postmortem, bool) {
	inc, pm, ok := b.pmAllowed(ctx, cmd, number, access.AddPostmortemEntry, usage)
	if !ok {
		return nil, nil, false
	}
	if pm.Phase != want && b.pmRefused(ctx, cmd.ChannelID, cmd.UserID, &incident.PhaseError{Phase: pm.Phase, Want: want}, usage) {
		return nil, nil, false
	}
	return inc, pm, true
}

// pmAllowed finds the incident and its postmortem and checks that the
// caller may do action to it; otherwise it answers why and ok is false.
func (b *Bot) pmAllowed(ctx context.Context, cmd slack.SlashCommand, number int64, action access.Action, usage string) (*incident.Incident, *incident.Postmortem, bool) {
	inc, ok := b.findIncident(ctx, cmd, number, usage)
	if !ok {
		return nil, nil, false
	}
	pm, err := b.postmortems.Get(ctx, inc.ID)
	if b.pmRefused(ctx, cmd.ChannelID, cmd.UserID, err, usage) {
		return nil, nil, false
	}
	if !b.mayOnPostmortem(ctx, cmd.ChannelID, cmd.UserID, action, inc, pm, usage) {
		return nil, nil, false
	}
	return inc, pm, true
}

// pmChange finds the incident, checks that the caller may do action to
// its postmortem, runs change and shows the result, or answers why it was
// refused.
func (b *Bot) pmChange(ctx context.Context, cmd slack.SlashCommand, number int64, action access.Action, usage string,
	change func(*incident.Incident) (*incident.Postmortem, error)) {
	inc, _, ok := b.pmAllowed(ctx, cmd, number, action, usage)
	if !ok {
		return
	}
	pm, err := change(inc)
	if errors.Is(err, errAnswered) {
		return
	}
	if b.pmRefused(ctx, cmd.ChannelID, cmd.UserID, err, usage) {
		return
	}
	b.showPostmortem(ctx, pm)
	b.pmDoneElsewhere(ctx, cmd, inc, pm, "the postmortem is updated ("+pm.Phase.Label()+")")
}

// pmDoneElsewhere tells the caller of a /postmortem command typed outside
// the channel where pm is shown (the incident's room) where it took effect.
func (b *Bot) pmDoneElsewhere(ctx context.Context, cmd slack.SlashCommand, inc *incident.Incident, pm *incident.Postmortem, what string) {
	if pm.ChannelID == "" || pm.ChannelID == cmd.ChannelID {
		return
	}
	where := "<#" + pm.ChannelID + ">"
	if room, err := b.rooms.Room(ctx, inc.ID); err == nil && room.ChannelID == pm.ChannelID {
		where = "<#" + room.ChannelID + "|" + room.ChannelName + ">"
	}
	b.doneIn(ctx, cmd, where, what, inc)
}

// errAnswered means a change's refusal was answered already.
var errAnswered = errors.New("answered already")

// pmRefused answers a refused postmortem change and reports whether it
// was refused.
func (b *Bot) pmRefused(ctx context.Context, channel, user string, err error, usage string) bool {
	var pe *incident.PhaseError
	var ae *incident.ActionError
	switch {
	case err == nil:
		return false
	case errors.As(err, &pe), errors.Is(err, incident.ErrNoChange), errors.Is(err, incident.ErrNoPostmortem):
		b.replyUsage(ctx, channel, user, userProblem(err), "/postmortem help")
	case errors.As(err, &ae):
		b.replyUsage(ctx, channel, user, escape(err.Error()), usagePMAction)
	default:
		return b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, err, "change the postmortem", usage)
	}
	return true
}

// showPostmortem runs the job that shows pm's latest version.
func (b *Bot) showPostmortem(ctx context.Context, pm *incident.Postmortem) {
	if _, err := b.jobs.RunJob(ctx, incident.PostmortemJob(pm, b.clock.Now())); err != nil {
		b.log.Warn("postmortem not shown in Slack yet; the job queue will retry", "incident", pm.IncidentID, "err", err)
	}
}

// postmortemJob posts the postmortem's message, or updates it to the
// latest version; like refreshRoom it renders again if the postmortem
// changed meanwhile.
func (b *Bot) postmortemJob(ctx context.Context, j jobs.Job) error {
	var p incident.ActionPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	inc, err := b.incidents.Incident(ctx, p.IncidentID)
	if err != nil {
		return err
	}
	for round := 1; ; round++ {
		pm, err := b.postmortems.Get(ctx, p.IncidentID)
		if err != nil {
			return err
		}
		text, blocks := postmortemView(inc, pm, b.postmortems.Location())
		if pm.MessageTS == "" {
			if p.Version > 1 {
				return fmt.Errorf("the postmortem of %s is not posted yet; its first job posts it", inc.Ref())
			}
			ts, err := b.postOnce(ctx, pm.ChannelID, onceAs(effectPostmortem, inc.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			if err != nil {
				return err
			}
			return b.postmortems.Posted(ctx, pm.IncidentID, pm.ChannelID, ts)
		}
		if err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, pm.ChannelID, pm.MessageTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		}); err != nil {
			return err
		}
		now, err := b.postmortems.Get(ctx, p.IncidentID)
		if err != nil {
			return err
		}
		if now.Version == pm.Version {
			return nil
		}
		if round == maxRefreshRounds {
			return fmt.Errorf("the postmortem of %s kept changing while it was shown", inc.Ref())
		}
	}
}

// actionNoticeJob sends an action's owner the assignment, the reminder or
// the overdue notice; nothing once the action is done.
func (b *Bot) actionNoticeJob(ctx context.Context, j jobs.Job) error {
	var p incident.ActionPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	pm, a, send, err := b.postmortems.ActionDue(ctx, p)
	if err != nil || !send {
		return err
	}
	inc, err := b.incidents.Incident(ctx, p.IncidentID)
	if err != nil {
		return err
	}
	text, blocks := actionNoticeView(j.Kind, inc, pm, a, b.postmortems.Location())
	b.log.Info("action notice", "kind", j.Kind, "incident", inc.Ref(), "action", a.ID, "owner", a.Owner)
	return b.post(ctx, a.Owner, jobEffect(effectActionNotice, j), text, blocks)
}

// onPMButton handles the postmortem message's buttons.
func (b *Bot) onPMButton(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	id, item, ok := parsePMRef(a.Value)
	if !ok {
		n, err := strconv.ParseInt(a.Value, 10, 64)
		id, ok = n, err == nil
	}
	var inc *incident.Incident
	var pm *incident.Postmortem
	var err error
	if ok {
		if inc, err = b.incidents.Incident(ctx, id); err == nil {
			pm, err = b.postmortems.Get(ctx, id)
		}
	}
	if !ok || err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to a postmortem sitrep cannot find.", "/postmortem help")
		return
	}
	loc, theirs := b.userLocation(ctx, cb.User.ID, b.postmortems.Location())
	switch a.ActionID {
	case actionPMNext:
		if !b.mayOnPostmortem(ctx, cb.Channel.ID, cb.User.ID, access.MovePostmortem, inc, pm, usagePMNext) {
			return
		}
	case actionPMDone:
		// Checked in onActionDone, against the action's owner.
	default:
		if !b.mayOnPostmortem(ctx, cb.Channel.ID, cb.User.ID, access.AddPostmortemEntry, inc, pm, "/postmortem help") {
			return
		}
	}
	switch a.ActionID {
	case actionPMAddEntry:
		b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, entryModal(inc, nil, loc, theirs), "", usagePMEntry)
	case actionPMEditEntry:
		if e := pm.Entry(item); e != nil && b.pmPhase(ctx, cb, pm, incident.PhaseTimeline) {
			b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, entryModal(inc, e, loc, theirs), "", usagePMEntry)
		}
	case actionPMRaise, actionPMAddIssue:
		if b.pmPhase(ctx, cb, pm, incident.PhaseIssues) {
			b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, issueModal(inc, pm.Entry(item)), "", usagePMIssue)
		}
	case actionPMAddAction:
		if b.pmPhase(ctx, cb, pm, incident.PhaseActions) {
			b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, actionModal(inc, pm, b.clock.Now().In(loc)), "", usagePMAction)
		}
	case actionPMNext:
		pm, err := b.postmortems.Next(ctx, id, cb.User.ID)
		if !b.pmRefused(ctx, cb.Channel.ID, cb.User.ID, err, usagePMNext) {
			b.showPostmortem(ctx, pm)
		}
	case actionPMDone:
		b.onActionDone(ctx, cb, inc, pm, item)
	}
}

// pmPhase answers the clicker unless pm is in phase want.
func (b *Bot) pmPhase(ctx context.Context, cb slack.InteractionCallback, pm *incident.Postmortem, want incident.Phase) bool {
	if pm.Phase == want {
		return true
	}
	return !b.pmRefused(ctx, cb.Channel.ID, cb.User.ID, &incident.PhaseError{Phase: pm.Phase, Want: want}, "/postmortem help")
}

// onActionDone marks an action done from a reminder or the list, if the
// clicker may: its owner, the facilitator or a commander.
func (b *Bot) onActionDone(ctx context.Context, cb slack.InteractionCallback, inc *incident.Incident, pm *incident.Postmortem, action int) {
	if a := pm.Action(action); a != nil && !b.mayCompleteAction(ctx, cb.Channel.ID, cb.User.ID, inc, pm, a) {
		return
	}
	pm, a, err := b.postmortems.MarkDone(ctx, inc.ID, action, cb.User.ID)
	if b.pmRefused(ctx, cb.Channel.ID, cb.User.ID, err, "/postmortem actions") {
		return
	}
	b.log.Info("action done", "incident", inc.Ref(), "action", a.ID, "by", cb.User.ID)
	b.showPostmortem(ctx, pm)
	line := fmt.Sprintf(":white_check_mark: Done: action %d of the %s postmortem (%s).", a.ID, inc.Ref(), escapeFit(a.Expected, 300))
	b.reply(ctx, cb.Channel.ID, cb.User.ID, line, nil)
}

// onMyActions lists the caller's open actions.
func (b *Bot) onMyActions(ctx context.Context, channel, user string) {
	actions, err := b.postmortems.OpenActions(ctx, user)
	if err != nil {
		b.replyUsage(ctx, channel, user, b.couldNot("list your actions", err, ""), "/postmortem actions")
		return
	}
	refs := map[int64]string{}
	for _, oa := range actions {
		if _, ok := refs[oa.IncidentID]; !ok {
			if inc, err := b.incidents.Incident(ctx, oa.IncidentID); err == nil {
				if inc.Private && !b.canSee(ctx, channel, user, inc) {
					redacted := inc.Redacted()
					inc = &redacted
				}
				refs[oa.IncidentID] = inc.Ref() + ": " + escapeFit(inc.Title, 80)
			}
		}
	}
	text, blocks := myActionsView(actions, refs, b.clock.Now(), b.postmortems.Location())
	b.reply(ctx, channel, user, text, blocks)
}

// mayExport checks that the postmortem of inc may be uploaded where cmd
// was typed: anywhere for a public incident; for a private one only in its
// own room, since a file shared in a channel is seen by all its members.
func (b *Bot) mayExport(ctx context.Context, cmd slack.SlashCommand, inc *incident.Incident) bool {
	if !inc.Private {
		return true
	}
	if !b.maySee(ctx, cmd.ChannelID, cmd.UserID, inc, usagePMExport) {
		return false
	}
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil || room.ChannelID != cmd.ChannelID {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, inc.Ref()+" is private: export its postmortem in its own room, where the file is seen only by its members.", usagePMExport)
		return false
	}
	return true
}

// exportPostmortem uploads the postmortem document as Markdown.
func (b *Bot) exportPostmortem(ctx context.Context, cmd slack.SlashCommand, inc *incident.Incident) {
	doc, err := b.postmortems.Document(ctx, inc.ID)
	if b.pmRefused(ctx, cmd.ChannelID, cmd.UserID, err, usagePMExport) {
		return
	}
	md := report.PostmortemMarkdown(doc)
	// The title names the version: a replayed export that may have
	// uploaded it already finds it by name and title, and a later version
	// is uploaded anew.
	name := "postmortem-" + inc.Ref() + ".md"
	title := fmt.Sprintf("Postmortem of %s (version %d)", inc.Ref(), doc.Postmortem.Version)
	err = b.upload(ctx, cmd.ChannelID, "", name, title, "", []byte(md))
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("upload the document", err, "`sitrep postmortem export "+inc.Ref()+"` writes it from a shell"), usagePMExport)
	}
}

// formPM reads the incident and item of a postmortem form.
func formPM(cb slack.InteractionCallback) (int64, int, bool) {
	return parsePMRef(cb.View.PrivateMetadata)
}

// onPMEntryForm adds or corrects a timeline entry.
func (b *Bot) onPMEntryForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, entry, ok := formPM(cb)
	when := formField(cb, blockPMTime).Value
	text := strings.TrimSpace(formField(cb, blockPMText).Value)
	if !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockPMText: "This form lost its postmortem; open it again."}), nil
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.pmChannel(ctx, id)
		inc, ok := b.pmFormIncident(ctx, channel, cb.User.ID, id, usagePMEntry)
		if !ok {
			return
		}
		if !b.formMayAdd(ctx, channel, cb.User.ID, inc, usagePMEntry) {
			return
		}
		loc, theirs := b.userLocation(ctx, cb.User.ID, b.postmortems.Location())
		at, err := parseEntryTime(when, inc.OpenedAt, loc)
		if err != nil {
			b.replyUsage(ctx, channel, cb.User.ID, err.Error()+" (times are "+zoneText(loc, theirs)+")", usagePMEntry)
			return
		}
		var pm *incident.Postmortem
		if entry == 0 {
			pm, err = b.postmortems.AddEntry(ctx, id, cb.User.ID, at, text)
		} else {
			pm, err = b.postmortems.EditEntry(ctx, id, cb.User.ID, entry, at, text)
		}
		if !b.pmRefused(ctx, channel, cb.User.ID, err, usagePMEntry) {
			b.showPostmortem(ctx, pm)
			b.entryAdded(ctx, channel, cb.User.ID, inc, at, loc, theirs)
		}
	}
}

// onPMIssueForm raises an issue.
func (b *Bot) onPMIssueForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, entry, ok := formPM(cb)
	text := formField(cb, blockPMText).Value
	if !ok {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockPMText: "This form lost its postmortem; open it again."}), nil
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.pmChannel(ctx, id)
		inc, ok := b.pmFormIncident(ctx, channel, cb.User.ID, id, usagePMIssue)
		if !ok || !b.formMayAdd(ctx, channel, cb.User.ID, inc, usagePMIssue) {
			return
		}
		pm, err := b.postmortems.AddIssue(ctx, id, cb.User.ID, text, entry)
		if !b.pmRefused(ctx, channel, cb.User.ID, err, usagePMIssue) {
			b.showPostmortem(ctx, pm)
		}
	}
}

// onPMActionForm checks the action form field by field.
func (b *Bot) onPMActionForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	values := formValues(cb)
	req := incident.ActionRequest{
		Owner:    values[blockPMOwner][blockPMOwner].SelectedUser,
		Expected: values[blockPMExpected][blockPMExpected].Value,
	}
	req.Issue, _ = strconv.Atoi(values[blockPMIssue][blockPMIssue].SelectedOption.Value)
	if d := values[blockPMDue][blockPMDue].SelectedDate; d != "" {
		req.Due, _ = time.ParseInLocation("2006-01-02", d, b.postmortems.Location())
	}
	problems := b.postmortems.ValidateAction(req)
	if err != nil {
		problems["issue"] = "This form lost its postmortem; open it again."
	}
	if b.isSelf(req.Owner) {
		problems["owner"] = "sitrep cannot own an action: choose a person."
	}
	if len(problems) > 0 {
		out := map[string]string{}
		for field, block := range map[string]string{"issue": blockPMIssue, "owner": blockPMOwner, "expected": blockPMExpected, "due": blockPMDue} {
			if msg, ok := problems[field]; ok {
				out[block] = msg
			}
		}
		return slack.NewErrorsViewSubmissionResponse(out), nil
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.pmChannel(ctx, id)
		inc, ok := b.pmFormIncident(ctx, channel, cb.User.ID, id, usagePMAction)
		if !ok || !b.formMayAdd(ctx, channel, cb.User.ID, inc, usagePMAction) {
			return
		}
		if why := b.notAPerson(ctx, req.Owner, "the owner of an action"); why != "" {
			b.replyUsage(ctx, channel, cb.User.ID, why+" The action was not added; add it again with a person as owner.", usagePMAction)
			return
		}
		pm, a, err := b.postmortems.AddAction(ctx, id, cb.User.ID, req)
		if b.pmRefused(ctx, channel, cb.User.ID, err, usagePMAction) {
			return
		}
		b.log.Info("action added", "incident", id, "action", a.ID, "owner", a.Owner, "due", a.Due)
		b.showPostmortem(ctx, pm)
		b.runActionJob(ctx, incident.JobActionAssigned, id, a.ID)
	}
}

// pmFormIncident reads the incident of a postmortem form, or answers user
// in channel why it cannot.
func (b *Bot) pmFormIncident(ctx context.Context, channel, user string, id int64, usage string) (*incident.Incident, bool) {
	inc, err := b.incidents.Incident(ctx, id)
	if err != nil {
		problem := "sitrep cannot find the incident of this form."
		if !errors.Is(err, incident.ErrNotFound) {
			problem = b.couldNot("read the incident of this form", err, "Nothing was added")
		}
		b.replyUsage(ctx, channel, user, problem, usage)
		return nil, false
	}
	return inc, true
}

// formMayAdd checks, when a postmortem form is submitted, that user may
// still add to the postmortem of inc. A form comes from no channel, so
// their membership of the room is asked of Slack; a refusal is answered
// privately (a direct message: a form has no channel to answer in).
func (b *Bot) formMayAdd(ctx context.Context, channel, user string, inc *incident.Incident, usage string) bool {
	pm, err := b.postmortems.Get(ctx, inc.ID)
	if b.pmRefused(ctx, channel, user, err, usage) {
		return false
	}
	return b.mayOnPostmortem(ctx, "", user, access.AddPostmortemEntry, inc, pm, usage)
}

// runActionJob runs the notice job of an action now. The job was queued
// with the action, so this finds it by key; it only saves waiting for the
// sweeper.
func (b *Bot) runActionJob(ctx context.Context, kind string, incidentID int64, action int) {
	j := jobs.Job{Kind: kind, Key: incident.ActionJobKey(kind, incidentID, action), DueAt: b.clock.Now()}
	if _, err := b.jobs.RunJob(ctx, j); err != nil {
		b.log.Warn("action notice not sent yet; the job queue will retry", "err", err)
	}
}

// pmChannel is where a postmortem is shown, to answer there.
func (b *Bot) pmChannel(ctx context.Context, incidentID int64) string {
	if pm, err := b.postmortems.Get(ctx, incidentID); err == nil {
		return pm.ChannelID
	}
	return b.roomChannel(ctx, incidentID)
}
