package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// stepPlan posts the plan of attack in a new room.
const stepPlan = "plan"

// postPlan posts the plan of attack: the clock, the diagnostics to tick,
// the restore steps.
// An incident with no plan and no clock gets none.
func (b *Bot) postPlan(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if !hasPlan(inc) || room.PlanTS != "" { // none, or carried by the header
		return nil
	}
	text, blocks := planView(inc, nil)
	ts, err := b.postOnce(ctx, room.ChannelID, onceAs(effectPlan, inc.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		room.PlanTS = ts
	}
	return err
}

// hasPlan reports whether inc's room gets a plan of attack: it has steps
// or a clock.
func hasPlan(inc *incident.Incident) bool {
	p := inc.Plan
	return len(p.Diagnostics)+len(p.Restore)+len(p.Runbooks) > 0 || inc.Timebox.Generation != 0
}

// refreshPlanAfterHeader renders the plan of attack after refreshRoom has
// rendered the header: nothing is left to do when the header carries it.
func (b *Bot) refreshPlanAfterHeader(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if mergedParts(room).plan {
		return nil
	}
	return b.refreshPlan(ctx, inc, room)
}

// refreshPlan renders the plan of attack from the store. Like refreshRoom
// it renders again if the incident or its ticks changed meanwhile, so
// concurrent clicks end with Slack showing what the store holds.
func (b *Bot) refreshPlan(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if room.PlanTS == "" {
		return nil
	}
	if mergedParts(room).plan {
		return b.refreshHeader(ctx, inc, room, false)
	}
	timeline, err := b.incidents.Timeline(ctx, inc)
	if err != nil {
		return err
	}
	for round := 1; ; round++ {
		done := incident.Diagnostics(timeline)
		text, blocks := planView(inc, done)
		if err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, room.ChannelID, room.PlanTS,
				slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		}); err != nil {
			return err
		}
		nowInc, err := b.incidents.Incident(ctx, inc.ID)
		if err != nil {
			return err
		}
		nowTimeline, err := b.incidents.Timeline(ctx, nowInc)
		if err != nil {
			return err
		}
		if reflect.DeepEqual(nowInc, inc) && reflect.DeepEqual(incident.Diagnostics(nowTimeline), done) {
			return nil
		}
		if round == maxRefreshRounds {
			return fmt.Errorf("%s kept changing while its plan was updated", inc.Ref())
		}
		inc, timeline = nowInc, nowTimeline
	}
}

// clockDueJob runs a warning or expiry: it records the entry (a job of an
// old clock, or one that fired already, does nothing) and shows it.
func (b *Bot) clockDueJob(ctx context.Context, j jobs.Job) error {
	var p incident.TimeboxPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	inc, entry, err := b.incidents.ClockDue(ctx, j.Kind, p, j.DueAt, lateReason(j))
	switch {
	case errors.Is(err, incident.ErrNoChange), errors.Is(err, incident.ErrClosed):
		b.log.Debug("clock job has nothing to do", "job", j.Key, "why", err)
		return nil
	case errors.Is(err, incident.ErrNotFound):
		return jobs.Permanent(err)
	case err != nil:
		return err
	}
	b.log.Info("diagnosis clock", "incident", inc.Ref(), "event", entry.Kind, "late", b.clock.Now().Sub(j.DueAt))
	b.showChange(ctx, incident.JobTimebox, inc, entry)
	return nil
}

// lateReason says why job j, if it runs late, does: a job that failed
// before was retried; otherwise "" (the domain's default: sitrep was down).
func lateReason(j jobs.Job) string {
	if j.Attempts > 1 && j.LastError != "" {
		return "it failed at first and was retried"
	}
	return ""
}

// timeboxJob shows an entry of the clock: the header and the plan
// re-rendered, and a line in the room (at expiry, to the TDO, with Restore
// now and Extend).
func (b *Bot) timeboxJob(ctx context.Context, j jobs.Job) error {
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
	// The line shows the clock as the entry left it: a later change
	// (an extension right after expiry) has its own line.
	text, blocks := clockLineView(inc, entry)
	return b.post(ctx, room.ChannelID, jobEffect(effectTimebox, j), text, blocks)
}

// diagnosticJob re-renders the plan after a tick.
func (b *Bot) diagnosticJob(ctx context.Context, j jobs.Job) error {
	inc, room, _, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	return b.refreshPlan(ctx, inc, room)
}

// onTimebox handles /incident timebox [30m].
func (b *Bot) onTimebox(ctx context.Context, cmd slack.SlashCommand, c timeboxCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageTimebox)
	if !ok {
		return
	}
	changed, entry, err := b.incidents.StartTimebox(ctx, incident.TimeboxRequest{IncidentID: inc.ID, Actor: cmd.UserID, Length: c.Length, Reason: c.Reason})
	if b.refused(ctx, cmd, err, "start the timebox", usageTimebox) {
		return
	}
	b.log.Info("diagnosis timebox started", "incident", changed.Ref(), "length", changed.Timebox.Length, "by", cmd.UserID)
	b.showChange(ctx, incident.JobTimebox, changed, entry)
	b.doneElsewhere(ctx, cmd, changed, "the diagnosis clock restarted")
}

// onExtend handles /incident extend <10m> <reason>.
func (b *Bot) onExtend(ctx context.Context, cmd slack.SlashCommand, c extendCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageExtend)
	if !ok {
		return
	}
	if changed := b.extend(ctx, cmd.ChannelID, cmd.UserID, incident.ExtendRequest{IncidentID: inc.ID, Actor: cmd.UserID, By: c.By, Reason: c.Reason}); changed != nil {
		b.doneElsewhere(ctx, cmd, changed, "the diagnosis time is extended")
	}
}

// extend records an extension and shows it; it returns the changed
// incident, or nil if it was refused.
func (b *Bot) extend(ctx context.Context, channel, user string, req incident.ExtendRequest) *incident.Incident {
	changed, entry, err := b.incidents.ExtendTimebox(ctx, req)
	if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, err, "extend the timebox", usageExtend) {
		return nil
	}
	b.log.Info("diagnosis extended", "incident", changed.Ref(), "by", req.By, "deadline", changed.Timebox.Deadline, "who", user)
	b.showChange(ctx, incident.JobTimebox, changed, entry)
	return changed
}

// onRestore handles /incident restore.
func (b *Bot) onRestore(ctx context.Context, cmd slack.SlashCommand, c restoreCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageRestore)
	if !ok {
		return
	}
	if changed := b.beginRestore(ctx, cmd.ChannelID, cmd.UserID, inc); changed != nil {
		b.doneElsewhere(ctx, cmd, changed, "restoring has begun")
	}
}

// beginRestore records that restoring began and shows it; it returns the
// changed incident, or nil if nothing changed.
func (b *Bot) beginRestore(ctx context.Context, channel, user string, inc *incident.Incident) *incident.Incident {
	changed, entry, err := b.incidents.BeginRestore(ctx, inc.ID, user)
	if errors.Is(err, incident.ErrNoChange) {
		b.replyUsage(ctx, channel, user, userProblem(err), usageStatus)
		return nil
	}
	if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, err, "record the restore", usageRestore) {
		return nil
	}
	b.log.Info("restoration began", "incident", changed.Ref(), "by", user)
	b.showChange(ctx, incident.JobTimebox, changed, entry)
	return changed
}

// onClockButton handles Restore now and Extend.
func (b *Bot) onClockButton(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	inc, ok := b.headerIncident(ctx, cb, a)
	if !ok {
		return
	}
	if a.ActionID == actionRestoreNow {
		b.beginRestore(ctx, cb.Channel.ID, cb.User.ID, inc)
		return
	}
	if !inc.Timebox.Running() {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("Diagnosis of %s is not running, so there is nothing to extend.", inc.Ref()), usageTimebox)
		return
	}
	b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, extendModal(inc), "Type the command instead.", usageExtend)
}

// onExtendForm checks the extend form: minutes and a reason, both required.
func (b *Bot) onExtendForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, ok := formIncident(cb)
	minutesText := strings.TrimSpace(formField(cb, blockMinutes).Value)
	reason := strings.TrimSpace(formField(cb, blockReason).Value)
	problems := map[string]string{}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(minutesText, "m"), " min"))
	if err != nil || n < 1 || n > int(incident.MaxTimebox.Minutes()) {
		problems[blockMinutes] = "Write whole minutes, 1 to 1440: for example 10."
	}
	if reason == "" {
		problems[blockReason] = "Say why: what will the extra time find out?"
	}
	if !ok || len(problems) > 0 {
		if !ok {
			problems[blockMinutes] = "This form lost its incident; use /incident extend instead."
		}
		return slack.NewErrorsViewSubmissionResponse(problems), nil
	}
	return nil, func(ctx context.Context, _ string) {
		b.extend(ctx, b.roomChannel(ctx, id), cb.User.ID, incident.ExtendRequest{
			IncidentID: id, Actor: cb.User.ID, By: minutesOf(n), Reason: reason})
	}
}

// onDiagnostic handles Collected and Undo on a diagnostic of the plan.
func (b *Bot) onDiagnostic(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	parts := strings.Split(a.Value, ":")
	var step int
	var err error
	if len(parts) == 3 {
		step, err = strconv.Atoi(parts[1])
	}
	if len(parts) != 3 || err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to a plan sitrep cannot read.", "/incident help")
		return
	}
	inc, ok := b.headerIncident(ctx, cb, &slack.BlockAction{Value: parts[0]})
	if !ok {
		return
	}
	done := parts[2] == "1"
	changed, entry, err := b.incidents.MarkDiagnostic(ctx, inc.ID, cb.User.ID, step, done)
	if errors.Is(err, incident.ErrNoChange) {
		// Someone else clicked first: the message catches up.
		state := "collected"
		if !done {
			state = "not ticked"
		}
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("That diagnostic is %s already: the plan of attack shows who and when.", state), "")
		return
	}
	if b.refused(ctx, slack.SlashCommand{ChannelID: cb.Channel.ID, UserID: cb.User.ID}, err, "tick the diagnostic", "/incident help") {
		return
	}
	b.showChange(ctx, incident.JobDiagnostic, changed, entry)
}
