package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// Form and block IDs of the change form.
const (
	callbackChange = "change_log"

	blockChangeSystems = "systems"
	blockChangeSummary = "summary"
	blockChangeReason  = "reason"
	blockChangeKind    = "kind"
	blockChangeLink    = "link"
)

// maxListedChanges bounds /change list.
const maxListedChanges = 20

// onChangeCommand handles /change.
func (b *Bot) onChangeCommand(ctx context.Context, cmd slack.SlashCommand) {
	parsed, err := parseChange(cmd.Text)
	var ue *usageError
	if errors.As(err, &ue) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, ue.Problem, ue.Usage)
		return
	}
	switch c := parsed.(type) {
	case changeHelp:
		text, blocks := changeHelpView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case changeForm:
		b.openForm(ctx, cmd.ChannelID, cmd.UserID, cmd.TriggerID, changeModal(cmd.ChannelID), "Type the change on one line instead.", usageChange)
	case logChange:
		b.logChange(ctx, cmd.ChannelID, cmd.UserID, incident.Change{
			Systems: c.Systems, Person: cmd.UserID, Summary: c.Summary, Reason: c.Reason, Link: c.Link,
			Kind: incident.KindOther, Source: incident.SourceSlack,
		})
	case listChanges:
		changes, err := b.changes.Recent(ctx, incident.ChangeQuery{
			Systems: c.Systems, Since: b.clock.Now().Add(-c.Window), Limit: maxListedChanges,
		})
		if err != nil {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the change log", err, ""), usageChangeList)
			return
		}
		text, blocks := changeListView(changes, c)
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	}
}

// logChange records one change and tells who logged it.
func (b *Bot) logChange(ctx context.Context, channel, user string, c incident.Change) {
	batch := []incident.Change{c}
	if _, err := b.changes.Log(ctx, batch); err != nil {
		var be *incident.BatchError
		if errors.As(err, &be) {
			b.replyUsage(ctx, channel, user, capitalize(escape(be.Err.Problem))+".", usageChange)
			return
		}
		b.replyUsage(ctx, channel, user, b.couldNot("log the change", err, "Nothing was logged"), usageChange)
		return
	}
	b.log.Info("change logged", "systems", strings.Join(batch[0].Systems, ","), "by", user)
	b.reply(ctx, channel, user, ":white_check_mark: Logged: "+changeLine(batch[0]), nil)
}

// onChangeForm checks the change form; the work runs after the ack.
func (b *Bot) onChangeForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	v := formValues(cb)
	get := func(block string) string { return v[block][block].Value }
	systems, err := incident.ParseSystems(get(blockChangeSystems))
	c := incident.Change{
		Systems: systems, Person: cb.User.ID, Summary: get(blockChangeSummary), Reason: get(blockChangeReason),
		Link: get(blockChangeLink), Kind: incident.ChangeKind(v[blockChangeKind][blockChangeKind].SelectedOption.Value),
		Source: incident.SourceSlack,
	}
	problems := map[string]string{}
	if err != nil {
		problems[blockChangeSystems] = capitalize(err.Error()) + "."
	}
	// Check each field on its own so the form marks every mistake.
	for _, field := range []string{blockChangeSystems, blockChangeSummary, blockChangeReason, blockChangeKind, blockChangeLink} {
		probe := c
		if _, seen := problems[field]; seen {
			continue
		}
		if field != blockChangeSystems && len(probe.Systems) == 0 {
			probe.Systems = []string{"x"}
		}
		if field != blockChangeSummary && strings.TrimSpace(probe.Summary) == "" {
			probe.Summary = "x"
		}
		var fe *incident.FieldError
		if err := probe.Validate(time.Time{}); errors.As(err, &fe) && fe.Field == field {
			problems[field] = capitalize(fe.Problem) + "."
		}
	}
	if len(problems) > 0 {
		return slack.NewErrorsViewSubmissionResponse(problems), nil
	}
	return nil, func(ctx context.Context, _ string) {
		b.logChange(ctx, cb.View.PrivateMetadata, cb.User.ID, c)
	}
}

// userID matches a chat user ID, to show a person as a mention.
var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// personRef shows who made a change: a mention for a chat user ID, else
// the name as written, escaped.
func personRef(person string) string {
	if userID.MatchString(person) {
		return "<@" + person + ">"
	}
	return escape(person)
}

// changeLine renders one change: when, systems, who, what, why, link.
func changeLine(c incident.Change) string {
	line := fmt.Sprintf("%s *%s* %s: %s", slackDate(c.OccurredAt), escape(strings.Join(c.Systems, ", ")), personRef(c.Person), escapeFit(c.Summary, 500))
	if c.Reason != "" {
		line += " — because " + escapeFit(c.Reason, 500)
	}
	if c.Kind != "" && c.Kind != incident.KindOther {
		line += " (" + string(c.Kind) + ")"
	}
	if c.Link != "" {
		line += " <" + escape(c.Link) + "|link>"
	}
	return line
}

// changeListView lists changes, newest first.
func changeListView(changes []incident.Change, q listChanges) (string, []slack.Block) {
	scope := "all systems"
	if len(q.Systems) > 0 {
		scope = strings.Join(q.Systems, ", ")
	}
	title := fmt.Sprintf("Changes to %s in the last %s", scope, durationText(q.Window))
	if len(changes) == 0 {
		text := ":information_source: No changes to " + escape(scope) + " in the last " + durationText(q.Window) +
			". Log one with `" + usageChange + "`."
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(plainFit(title, 150)))}
	for _, c := range changes {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(changeLine(c), 3000)), nil, nil))
	}
	return title, blocks
}

// changeHelpView lists the /change forms.
func changeHelpView() (string, []slack.Block) {
	text := strings.Join([]string{
		"*sitrep: /change* — log every change, so an incident can start from what changed.",
		"`" + usageChange + "` log a change, e.g. `/change web: raised the db pool to 50 because p99 latency`. A link in the text is kept as the change's link; several systems: `web,db: …`.",
		"`/change` with no text: a form (with kind and link).",
		"`" + usageChangeList + "` recent changes, newest first; windows like 30m, 24h, 7d.",
	}, "\n")
	return "sitrep /change commands", []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
}

// changeModal is the form behind /change with no text.
func changeModal(channel string) slack.ModalViewRequest {
	systems := slack.NewPlainTextInputBlockElement(plain("web, db"), blockChangeSystems)
	summary := slack.NewPlainTextInputBlockElement(plain("raised the db pool to 50"), blockChangeSummary)
	summary.MaxLength = incident.MaxChangeSummary
	reason := slack.NewPlainTextInputBlockElement(plain("p99 latency over 2 s"), blockChangeReason)
	reason.MaxLength = incident.MaxChangeReason
	link := slack.NewPlainTextInputBlockElement(plain("https://…"), blockChangeLink)
	var options []*slack.OptionBlockObject
	for _, k := range incident.ChangeKinds() {
		options = append(options, slack.NewOptionBlockObject(string(k), plain(string(k)), nil))
	}
	kind := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Kind"), blockChangeKind, options...)
	kind.InitialOption = options[len(options)-1]
	reasonBlock := slack.NewInputBlock(blockChangeReason, plain("Why"), nil, reason)
	reasonBlock.Optional = true
	linkBlock := slack.NewInputBlock(blockChangeLink, plain("Link"), nil, link)
	linkBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackChange, PrivateMetadata: channel,
		Title: plain("Log a change"), Submit: plain("Log"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockChangeSystems, plain("Systems"), plain("Comma-separated"), systems),
			slack.NewInputBlock(blockChangeSummary, plain("What was done"), nil, summary),
			reasonBlock,
			slack.NewInputBlock(blockChangeKind, plain("Kind"), nil, kind),
			linkBlock,
		}},
	}
}
