package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/jobs"
)

const (
	usageChecklistStart = "/checklist start <name> [label]"
	usageChecklistAbort = "/checklist abort [CL-n] <reason>"
)

// clWord is a run reference, "CL-7".
var clWord = regexp.MustCompile(`(?i)^cl-([0-9]{1,12})$`)

// onChecklistCommand handles /checklist.
func (b *Bot) onChecklistCommand(ctx context.Context, key string, cmd slack.SlashCommand) {
	if b.checklists == nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Checklists are not set up in this sitrep.", "/incident help")
		return
	}
	verb, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "", "help":
		text, blocks := checklistHelpView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case "list", "ls":
		text, blocks := checklistListView(b.checklists.Templates())
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case "start", "run":
		name, label, _ := strings.Cut(rest, " ")
		if name == "" {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Name the checklist to start; `/checklist list` shows them.", usageChecklistStart)
			return
		}
		b.startChecklist(ctx, key, cmd, name, label)
	case "status":
		b.checklistStatus(ctx, cmd)
	case "abort", "cancel":
		b.abortChecklist(ctx, cmd, rest)
	default:
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("`%s` is not a /checklist command.", plainFit(verb, 40)), "/checklist help")
	}
}

// startChecklist records a run, then posts its message.
func (b *Bot) startChecklist(ctx context.Context, key string, cmd slack.SlashCommand, name, label string) {
	run, created, err := b.checklists.Start(ctx, checklist.StartRequest{
		Template: name, Label: label, Actor: cmd.UserID, ChannelID: cmd.ChannelID, RequestKey: key})
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, capitalize(escape(fe.Problem))+".", usageChecklistStart)
		return
	}
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("start the checklist", err, "Nothing was started"), usageChecklistStart)
		return
	}
	if created {
		b.log.Info("checklist started", "run", run.Ref(), "template", run.Template, "by", cmd.UserID)
	}
	if _, err := b.jobs.RunJob(ctx, checklist.RunJob(checklist.JobPost, run, 0, b.clock.Now())); err != nil {
		b.log.Warn("checklist not posted yet; the job queue will retry", "run", run.Ref(), "err", err)
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, run.Ref()+" is recorded, but Slack would not take its message yet; sitrep keeps trying.", "")
	}
}

// checklistStatus lists the runs going on.
func (b *Bot) checklistStatus(ctx context.Context, cmd slack.SlashCommand) {
	runs, err := b.checklists.Active(ctx)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("list the checklists", err, ""), "/checklist status")
		return
	}
	progress := map[int64]checklist.Progress{}
	for _, r := range runs {
		_, events, err := b.checklists.Run(ctx, r.ID)
		if err != nil {
			continue
		}
		progress[r.ID] = checklist.Measure(r.Steps, checklist.States(r.Steps, events))
	}
	text, blocks := checklistStatusView(runs, progress)
	b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
}

// abortChecklist ends CL-n, or the run going on in this channel.
func (b *Bot) abortChecklist(ctx context.Context, cmd slack.SlashCommand, rest string) {
	first, reason, _ := strings.Cut(rest, " ")
	var id int64
	if m := clWord.FindStringSubmatch(first); m != nil {
		id, _ = strconv.ParseInt(m[1], 10, 64)
	} else {
		reason = rest
		runs, err := b.checklists.Active(ctx)
		if err != nil {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("list the checklists", err, ""), usageChecklistAbort)
			return
		}
		for _, r := range runs {
			if r.ChannelID == cmd.ChannelID {
				id = r.ID
				break
			}
		}
		if id == 0 {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "No checklist is running in this channel: name one (CL-7), or see `/checklist status`.", usageChecklistAbort)
			return
		}
	}
	if strings.TrimSpace(reason) == "" {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Say why the checklist is aborted: it goes on the record.", usageChecklistAbort)
		return
	}
	run, _, err := b.checklists.Run(ctx, id)
	if b.checklistRefused(ctx, cmd.ChannelID, cmd.UserID, err, usageChecklistAbort) {
		return
	}
	if !b.allowed(ctx, access.Request{Actor: cmd.UserID, Channel: cmd.ChannelID, Action: access.AbortChecklist, Target: runTarget(run)}, usageChecklistAbort) {
		return
	}
	run, _, err = b.checklists.Abort(ctx, id, cmd.UserID, reason)
	if !b.checklistRefused(ctx, cmd.ChannelID, cmd.UserID, err, usageChecklistAbort) {
		b.log.Info("checklist aborted", "run", run.Ref(), "by", cmd.UserID)
		b.showRun(ctx, run)
	}
}

// checklistRefused answers a refused change and reports whether it was.
func (b *Bot) checklistRefused(ctx context.Context, channel, user string, err error, usage string) bool {
	var fe *incident.FieldError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		b.replyUsage(ctx, channel, user, capitalize(escape(fe.Problem))+".", usage)
	case errors.Is(err, checklist.ErrNotFound):
		b.replyUsage(ctx, channel, user, "There is no such checklist run; `/checklist status` lists them.", usage)
	case errors.Is(err, checklist.ErrFinished), errors.Is(err, checklist.ErrNoChange):
		b.replyUsage(ctx, channel, user, userProblem(err), "")
	default:
		b.replyUsage(ctx, channel, user, b.couldNot("record that", err, "Nothing changed"), usage)
	}
	return true
}

// showRun re-renders a run's message now and, if it finished, posts its
// summary; if Slack fails, the job queue retries.
func (b *Bot) showRun(ctx context.Context, run *checklist.Run) {
	jobsToRun := []jobs.Job{checklist.RunJob(checklist.JobRefresh, run, run.Version, b.clock.Now())}
	if run.Finished() {
		jobsToRun = append(jobsToRun, checklist.RunJob(checklist.JobFinished, run, 0, b.clock.Now()))
	}
	for _, j := range jobsToRun {
		if _, err := b.jobs.RunJob(ctx, j); err != nil {
			b.log.Warn("checklist not shown yet; the job queue will retry", "run", run.Ref(), "job", j.Kind, "err", err)
		}
	}
}

// onChecklistSteps handles a click on a group of checkboxes. The block ID
// says which version the clicker saw; the step whose box changed from that
// version is ticked or unticked, so clicks on stale copies never undo
// what others did.
func (b *Bot) onChecklistSteps(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	runID, group, seen, ok := parseStepsBlockID(a.BlockID)
	if !ok || b.checklists == nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That checklist belongs to a run sitrep cannot read.", "/checklist status")
		return
	}
	run, events, err := b.checklists.Run(ctx, runID)
	if b.checklistRefused(ctx, cb.Channel.ID, cb.User.ID, err, "/checklist status") {
		return
	}
	if !b.mayTick(ctx, cb, run) {
		return
	}
	if run.Finished() {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("%s is %s: its steps take no more ticks.", run.Ref(), run.State), "/checklist status")
		b.showRun(ctx, run)
		return
	}
	before := checklist.States(run.Steps, events[:min(seen, len(events))])
	selected := map[int]bool{}
	for _, o := range a.SelectedOptions {
		if i, err := strconv.Atoi(o.Value); err == nil {
			selected[i] = true
		}
	}
	var changed []int
	for i := group * stepsPerGroup; i < min((group+1)*stepsPerGroup, len(run.Steps)); i++ {
		if selected[i] != before[i].Done {
			changed = append(changed, i)
		}
	}
	if len(changed) == 0 {
		b.showRun(ctx, run)
		return
	}
	for _, i := range changed {
		action := checklist.ActionUntick
		if selected[i] {
			action = checklist.ActionTick
		}
		updated, _, err := b.checklists.Mark(ctx, checklist.MarkRequest{RunID: run.ID, Actor: cb.User.ID, Step: i, Action: action})
		if errors.Is(err, checklist.ErrNoChange) {
			continue // someone else did the same meanwhile
		}
		if b.checklistRefused(ctx, cb.Channel.ID, cb.User.ID, err, "/checklist status") {
			break
		}
		run = updated
	}
	b.showRun(ctx, run)
}

// onSkipButton opens the skip form.
func (b *Bot) onSkipButton(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || b.checklists == nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to a run sitrep cannot read.", "/checklist status")
		return
	}
	run, events, err := b.checklists.Run(ctx, id)
	if b.checklistRefused(ctx, cb.Channel.ID, cb.User.ID, err, "/checklist status") {
		return
	}
	if !b.mayTick(ctx, cb, run) {
		return
	}
	if run.Finished() {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("%s is %s: nothing to skip.", run.Ref(), run.State), "/checklist status")
		return
	}
	states := checklist.States(run.Steps, events)
	if len(checklist.Skippable(run.Steps, states)) == 0 {
		// A stale button: every step that may be skipped is done or
		// skipped (critical steps never can be), and the form would be empty.
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "No step of "+run.Ref()+" is left to skip: critical steps must be ticked, the others are done or skipped.", "")
		return
	}
	b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, skipModal(run, states), "Please try again.", "")
}

// runTarget is run as the permission model sees it: its channel, its
// message and who started it.
func runTarget(run *checklist.Run) access.Target {
	return access.Target{Ref: run.Ref(), Room: run.ChannelID, Message: run.MessageTS, Starter: run.StartedBy}
}

// clickedOn is the channel and message a click came from.
func clickedOn(cb slack.InteractionCallback) (channel, ts string) {
	channel, ts = cb.Container.ChannelID, cb.Container.MessageTs
	if channel == "" {
		channel = cb.Channel.ID
	}
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	return channel, ts
}

// mayTick checks that a click on a run's steps or buttons came from the
// run's own message, in its own channel. If not, the clicker is answered
// and, if they clicked another run's message, that message is drawn again
// from the store, so the box they clicked does not stay ticked.
func (b *Bot) mayTick(ctx context.Context, cb slack.InteractionCallback, run *checklist.Run) bool {
	channel, ts := clickedOn(cb)
	req := access.Request{Actor: cb.User.ID, Channel: channel, Message: ts, Action: access.TickChecklist, Target: runTarget(run)}
	if b.allowed(ctx, req, "/checklist status") {
		return true
	}
	runs, err := b.checklists.Active(ctx)
	if err != nil {
		b.log.Warn("the clicked checklist message is not drawn again", "channel", channel, "ts", ts, "err", err)
		return false
	}
	for _, r := range runs {
		if r.ChannelID == channel && r.MessageTS == ts && r.ID != run.ID {
			if err := b.refreshChecklist(ctx, r.ID, -1); err != nil {
				b.log.Warn("the clicked checklist message is not drawn again", "run", r.Ref(), "err", err)
			}
		}
	}
	return false
}

// onSkipForm checks the skip form: a step and a reason, both required.
// It is opened only by a Skip button whose click mayTick allowed, for the
// clicker alone, and its run comes from the form's metadata, which only
// sitrep writes.
func (b *Bot) onSkipForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, errID := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	step, errStep := strconv.Atoi(formField(cb, blockSkipStep).SelectedOption.Value)
	reason := strings.TrimSpace(formField(cb, blockSkipReason).Value)
	problems := map[string]string{}
	if errStep != nil || errID != nil {
		problems[blockSkipStep] = "Choose the step to skip."
	}
	if reason == "" {
		problems[blockSkipReason] = "Say why the step is not needed this time."
	}
	if len(problems) > 0 {
		return slack.NewErrorsViewSubmissionResponse(problems), nil
	}
	return nil, func(ctx context.Context, _ string) {
		run, _, err := b.checklists.Mark(ctx, checklist.MarkRequest{RunID: id, Actor: cb.User.ID, Step: step, Action: checklist.ActionSkip, Reason: reason})
		channel := cb.User.ID
		if r, _, rerr := b.checklists.Run(ctx, id); rerr == nil {
			channel = r.ChannelID
		}
		if b.checklistRefused(ctx, channel, cb.User.ID, err, "") {
			return
		}
		b.showRun(ctx, run)
	}
}

// runPayload reads a checklist job's payload; a bad one fails for good.
func runPayload(j jobs.Job) (checklist.JobPayload, error) {
	var p checklist.JobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	return p, nil
}

// checklistTarget loads the run a checklist job is about.
func (b *Bot) checklistTarget(ctx context.Context, j jobs.Job) (*checklist.Run, []checklist.Event, error) {
	p, err := runPayload(j)
	if err != nil {
		return nil, nil, err
	}
	run, events, err := b.checklists.Run(ctx, p.RunID)
	if errors.Is(err, checklist.ErrNotFound) {
		return nil, nil, jobs.Permanent(err)
	}
	return run, events, err
}

// checklistPostJob posts a run's message, once.
func (b *Bot) checklistPostJob(ctx context.Context, j jobs.Job) error {
	run, events, err := b.checklistTarget(ctx, j)
	if err != nil || run.MessageTS != "" {
		return err
	}
	text, blocks := checklistView(run, checklist.States(run.Steps, events))
	ts, err := b.postOnce(ctx, run.ChannelID, onceAs(effectChecklist, run.Ref()), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return err
	}
	if err := b.checklists.Posted(ctx, run, run.ChannelID, ts); err != nil {
		return err
	}
	// A retry may post late, after clicks on nothing: catch up if the
	// run moved on since it was rendered.
	return b.refreshChecklist(ctx, run.ID, run.Version)
}

// checklistRefreshJob re-renders a run's message from the store.
func (b *Bot) checklistRefreshJob(ctx context.Context, j jobs.Job) error {
	p, err := runPayload(j)
	if err != nil {
		return err
	}
	return b.refreshChecklist(ctx, p.RunID, -1)
}

// refreshChecklist renders run id from the store until what it rendered is
// still the latest version: concurrent clicks end with Slack showing every
// one of them. shown is the version the message shows already (-1: not
// known), which is not rendered again.
func (b *Bot) refreshChecklist(ctx context.Context, id int64, shown int) error {
	run, events, err := b.checklists.Run(ctx, id)
	if errors.Is(err, checklist.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil || run.MessageTS == "" {
		return err // without a message, the post job renders it
	}
	for round := 1; run.Version != shown; round++ {
		if round > maxRefreshRounds*4 {
			return fmt.Errorf("%s kept changing while its message was updated", run.Ref())
		}
		text, blocks := checklistView(run, checklist.States(run.Steps, events))
		if err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, run.ChannelID, run.MessageTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		}); err != nil {
			return err
		}
		shown = run.Version
		if run, events, err = b.checklists.Run(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// checklistFinishedJob posts the summary of a finished run and, for a
// completed release, logs the change (once: its external ID is the run's).
func (b *Bot) checklistFinishedJob(ctx context.Context, j jobs.Job) error {
	run, events, err := b.checklistTarget(ctx, j)
	if err != nil {
		return err
	}
	logged := false
	if c, ok := checklist.Change(run); ok && b.changes != nil {
		if _, err := b.changes.Log(ctx, []incident.Change{c}); err != nil {
			return fmt.Errorf("logging %s as a change: %w", run.Ref(), err)
		}
		logged = true
	}
	text, blocks := checklistSummaryView(run, checklist.Summarize(run, events), logged)
	e := onceAs(effectChecklistSummary, run.Ref())
	e.thread = run.MessageTS
	_, err = b.postOnce(ctx, run.ChannelID, e, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionBroadcast())
	return err
}

// checklistRemindJob reminds an idle run, in its thread.
func (b *Bot) checklistRemindJob(ctx context.Context, j jobs.Job) error {
	p, err := runPayload(j)
	if err != nil {
		return err
	}
	run, remind, err := b.checklists.Remind(ctx, p.RunID, p.Version)
	if errors.Is(err, checklist.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil || !remind || run.MessageTS == "" {
		return err
	}
	_, events, err := b.checklists.Run(ctx, run.ID)
	if err != nil {
		return err
	}
	progress := checklist.Measure(run.Steps, checklist.States(run.Steps, events))
	line := fmt.Sprintf(":alarm_clock: <@%s> %s has been idle for %s at %s. Tick the next step, or end it: `/checklist abort %s <reason>`.",
		run.StartedBy, run.Ref(), durationText(b.checklists.Idle()), progress, run.Ref())
	e := jobEffect(effectReminder, j)
	e.thread = run.MessageTS
	_, err = b.postOnce(ctx, run.ChannelID, e, slack.MsgOptionText(line, false))
	return err
}
