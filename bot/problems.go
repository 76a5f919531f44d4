package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/report"
)

// onProblemCommand handles /problem.
func (b *Bot) onProblemCommand(ctx context.Context, cmd slack.SlashCommand) {
	if b.problems == nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Problems are not enabled in this sitrep.", "/incident help")
		return
	}
	parsed, err := parseProblem(cmd.Text)
	var ue *usageError
	if errors.As(err, &ue) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, ue.Problem, ue.Usage)
		return
	}
	switch c := parsed.(type) {
	case problemHelp:
		text, blocks := problemHelpView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case problemNew:
		p, err := b.problems.New(ctx, cmd.UserID, c.Title)
		if b.refused(ctx, cmd, err, "record the problem", usageProblemNew) {
			return
		}
		b.log.Info("problem recorded", "problem", p.Ref(), "by", cmd.UserID)
		text := fmt.Sprintf(":mag: Recorded *%s*: %s. Link it from an incident channel with `/incident link %s`.", p.Ref(), escape(p.Title), p.Ref())
		b.replyOrPost(ctx, cmd, text)
	case problemList:
		ranked, err := b.problems.Ranked(ctx)
		if b.refused(ctx, cmd, err, "list problems", "/problem list") {
			return
		}
		text, blocks := problemListView(ranked)
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case problemShow:
		d, err := b.problems.Detail(ctx, c.ID)
		if errors.Is(err, incident.ErrNotFound) {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("There is no PRB-%d.", c.ID), "/problem list")
			return
		}
		if b.refused(ctx, cmd, err, "read the problem", usageProblemShow) {
			return
		}
		d.Incidents = b.shownTo(ctx, cmd.ChannelID, cmd.UserID, d.Incidents)
		text, blocks := problemView(d, b.incidents.CostModel().Currency)
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case problemClose:
		p, err := b.problems.Close(ctx, c.ID, cmd.UserID, c.Fix)
		switch {
		case errors.Is(err, incident.ErrNotFound):
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, fmt.Sprintf("There is no PRB-%d.", c.ID), "/problem list")
			return
		case errors.Is(err, incident.ErrNoChange):
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, userProblem(err), "/problem list")
			return
		}
		if b.refused(ctx, cmd, err, "close the problem", usageProblemClose) {
			return
		}
		b.log.Info("problem closed", "problem", p.Ref(), "by", cmd.UserID)
		b.replyOrPost(ctx, cmd, fmt.Sprintf(":white_check_mark: <@%s> closed *%s* (%s). Fix: %s", cmd.UserID, p.Ref(), escape(p.Title), escape(p.Fix)))
	case problemPareto:
		b.onPareto(ctx, cmd, c)
	}
}

// replyOrPost posts text in the channel for everyone, or, where the bot
// cannot post, answers the user alone.
func (b *Bot) replyOrPost(ctx context.Context, cmd slack.SlashCommand, text string) {
	if _, err := b.postOnce(ctx, cmd.ChannelID, commandEffect(effectAnswer, cmd, 0), slack.MsgOptionText(text, false)); err != nil {
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, nil)
	}
}

// onPareto handles /problem pareto: the table as a message, the chart as
// an image in its thread.
func (b *Bot) onPareto(ctx context.Context, cmd slack.SlashCommand, c problemPareto) {
	now := b.clock.Now()
	var since time.Time
	if c.Window > 0 {
		since = now.Add(-c.Window)
	}
	p, err := b.problems.Pareto(ctx, since)
	if b.refused(ctx, cmd, err, "rank the problems", usageProblemPareto) {
		return
	}
	title := report.ParetoTitle(c.Window)
	png, err := report.ParetoChart(p, title, charts.PNG)
	if err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("draw the chart", err, ""), usageProblemPareto)
		return
	}
	text, blocks := paretoView(p, title, cmd.UserID)
	ts, err := b.postOnce(ctx, cmd.ChannelID, commandEffect(effectAnswer, cmd, 0), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		b.log.Warn("posting the Pareto table", "channel", cmd.ChannelID, "err", err)
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
		return
	}
	// In the table's own thread, the name is the chart's alone: an upload
	// that may have happened is found by it.
	if err := b.upload(ctx, cmd.ChannelID, ts, "pareto.png", title, p.Headline(), png); err != nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("upload the chart", err, "The table is posted"), usageProblemPareto)
	}
}

// onLink handles /incident link and unlink.
func (b *Bot) onLink(ctx context.Context, cmd slack.SlashCommand, c linkCommand) {
	usage := usageLink
	if c.Unlink {
		usage = usageUnlink
	}
	if b.problems == nil {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, "Problems are not enabled in this sitrep.", "/incident help")
		return
	}
	inc, ok := b.findIncident(ctx, cmd, c.Number, usage)
	if !ok {
		return
	}
	if c.Problem == 0 {
		// The form shows the incident: checked before it opens, and link
		// checks again when it is sent.
		if b.mayOnIncident(ctx, cmd.ChannelID, cmd.UserID, access.ChangeIncident, inc, usage) {
			b.openForm(ctx, cmd.ChannelID, cmd.UserID, cmd.TriggerID, b.linkForm(ctx, inc), "", usage)
		}
		return
	}
	b.link(ctx, cmd.ChannelID, cmd.UserID, inc.ID, c.Problem, c.Unlink)
}

// link links or unlinks and answers in channel. Linking changes the
// incident, so it is allowed to whoever may change it (access.ChangeIncident).
func (b *Bot) link(ctx context.Context, channel, user string, incidentID, problemID int64, unlink bool) {
	op, usage, what := b.problems.Link, usageLink, "link the problem"
	if unlink {
		op, usage, what = b.problems.Unlink, usageUnlink, "unlink the problem"
	}
	target, err := b.incidents.Incident(ctx, incidentID)
	if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, err, what, usage) ||
		!b.mayOnIncident(ctx, channel, user, access.ChangeIncident, target, usage) {
		return
	}
	inc, entry, prb, err := op(ctx, incidentID, problemID, user)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		b.replyUsage(ctx, channel, user, fmt.Sprintf("There is no PRB-%d: record it with `/problem new <title>`.", problemID), usage)
		return
	case errors.Is(err, incident.ErrNoChange):
		b.replyUsage(ctx, channel, user, userProblem(err), "/problem show PRB-n")
		return
	}
	if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, err, what, usage) {
		return
	}
	b.log.Info(what, "incident", inc.Ref(), "problem", prb.Ref(), "by", user)
	if prb.Status == incident.ProblemClosed && !unlink {
		b.reply(ctx, channel, user, fmt.Sprintf("Note: %s was closed as fixed (%s). If it is back, it was not removed for good.", prb.Ref(), escape(prb.Fix)), nil)
	}
	b.showChange(ctx, incident.JobAnnotated, inc, entry)
	done := "linked to " + prb.Ref()
	if unlink {
		done = "unlinked from " + prb.Ref()
	}
	b.doneElsewhere(ctx, slack.SlashCommand{ChannelID: channel, UserID: user}, inc, done)
}

// linkForm lists the open problems to pick from, newest first.
func (b *Bot) linkForm(ctx context.Context, inc *incident.Incident) slack.ModalViewRequest {
	open, err := b.problems.Open(ctx)
	if err != nil {
		b.log.Error("listing problems for the link form", "err", err)
	}
	return linkModal(inc, open)
}

// onCost handles /incident cost.
func (b *Bot) onCost(ctx context.Context, cmd slack.SlashCommand, c costCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageCost)
	if !ok || !b.maySee(ctx, cmd.ChannelID, cmd.UserID, inc, usageCost) {
		return
	}
	b.openForm(ctx, cmd.ChannelID, cmd.UserID, cmd.TriggerID, costModal(inc, b.incidents.CostModel()), "", usageCost)
}

// onRecordButton opens the cost or link form from the header.
func (b *Bot) onRecordButton(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	inc, ok := b.headerIncident(ctx, cb, a)
	if !ok {
		return
	}
	view := costModal(inc, b.incidents.CostModel())
	if a.ActionID == actionLinkProblem {
		if b.problems == nil {
			b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "Problems are not enabled in this sitrep.", "/incident help")
			return
		}
		view = b.linkForm(ctx, inc)
	}
	b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, view, "", "/incident help")
}

// onLinkForm checks the link form: exactly one of a picked problem or a
// new title. A new problem is recorded, then linked.
func (b *Bot) onLinkForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, ok := formIncident(cb)
	picked := formField(cb, blockProblem).SelectedOption.Value
	title := strings.TrimSpace(formField(cb, blockNewProblem).Value)
	switch {
	case !ok:
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockNewProblem: "This form lost its incident; open it again."}), nil
	case picked == "" && title == "":
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockNewProblem: "Pick a problem above, or name a new one here."}), nil
	case picked != "" && title != "":
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockNewProblem: "Either pick a problem or name a new one, not both."}), nil
	case len([]rune(title)) > incident.MaxProblemTitle:
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockNewProblem: fmt.Sprintf("Keep the title to %d characters.", incident.MaxProblemTitle)}), nil
	}
	var problemID int64
	if picked != "" {
		n, err := strconv.ParseInt(picked, 10, 64)
		if err != nil {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blockProblem: "Pick a problem from the list."}), nil
		}
		problemID = n
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.roomChannel(ctx, id)
		if problemID == 0 {
			p, err := b.problems.New(ctx, cb.User.ID, title)
			if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: cb.User.ID}, err, "record the problem", usageProblemNew) {
				return
			}
			problemID = p.ID
		}
		b.link(ctx, channel, cb.User.ID, id, problemID, false)
	}
}

// onCostForm checks the cost form field by field; the work runs after the
// ack.
func (b *Bot) onCostForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, ok := formIncident(cb)
	in, problems := costInputFromView(cb.View.State)
	if !ok {
		problems[blockPhone] = "This form lost its incident; open it again."
	}
	if len(problems) > 0 {
		return slack.NewErrorsViewSubmissionResponse(problems), nil
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.roomChannel(ctx, id)
		inc, entry, err := b.incidents.SetCost(ctx, id, cb.User.ID, in)
		if errors.Is(err, incident.ErrNoChange) {
			b.reply(ctx, channel, cb.User.ID, userProblem(err), nil)
			return
		}
		if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: cb.User.ID}, err, "record the cost", usageCost) {
			return
		}
		b.log.Info("customer cost recorded", "incident", inc.Ref(), "amount", inc.Cost.Amount, "class", inc.Cost.Class.String(), "by", cb.User.ID)
		b.showChange(ctx, incident.JobAnnotated, inc, entry)
	}
}

// annotatedJob shows a change to the record: the header re-rendered and a
// line in the room.
func (b *Bot) annotatedJob(ctx context.Context, j jobs.Job) error {
	inc, room, entry, err := b.changeTarget(ctx, j)
	if err != nil {
		return err
	}
	err = b.refreshRoom(ctx, inc, room)
	if err == nil {
		text, blocks := annotationView(entry)
		err = b.post(ctx, room.ChannelID, jobEffect(effectAnnotation, j), text, blocks)
	}
	if slackCode(err) == "is_archived" {
		// Costs and causes are often settled after the room is archived:
		// the record has them; there is no room left to tell.
		b.log.Info("record changed after the room was archived", "incident", inc.Ref(), "entry", entry.Kind)
		return nil
	}
	return err
}
