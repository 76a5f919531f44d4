package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// All Block Kit the bot builds for incidents is rendered here, from domain
// values. Every piece of user text passes through escape (mrkdwn) or goes
// into plain_text, and every length is cut to Slack's limits.

// Action, block and callback IDs the bot listens for.
const (
	callbackOpenIncident = "incident_open"

	blockTitle       = "title"
	blockSeverity    = "severity"
	blockSystems     = "systems"
	blockDescription = "description"
	blockPrivate     = "private"

	// optionPrivate is the value of the open form's private checkbox.
	optionPrivate = "private"
)

// headerView is the pinned header of an incident channel. suspects are the
// changes judged suspect, rendered as lines.
func headerView(inc *incident.Incident, reportedIn string, suspects []string) (text string, blocks []slack.Block) {
	title := inc.Ref() + ": " + inc.Title
	systems := "none named"
	if len(inc.Systems) > 0 {
		systems = escape(strings.Join(inc.Systems, ", "))
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Severity*\n" + inc.Severity.Label()),
		mrkdwn("*Status*\n" + inc.Status.Label()),
		mrkdwn("*Technical duty officer*\n<@" + inc.TDOID + ">"),
		mrkdwn("*Systems*\n" + systems),
		mrkdwn("*Opened*\n" + slackDate(inc.OpenedAt)),
		mrkdwn("*Reported by*\n" + reporterRef(inc)),
	}
	for _, role := range incident.Roles() {
		if u := inc.Roles[role]; u != "" {
			fields = append(fields, mrkdwn("*"+capitalize(string(role))+"*\n<@"+u+">"))
		}
	}
	if d := diagnosisField(inc); d != "" {
		fields = append(fields, mrkdwn("*Diagnosis*\n"+d))
	}
	if ttr, ok := inc.TimeToRestore(); ok {
		fields = append(fields, mrkdwn("*Time to restore*\n"+durationText(ttr)))
	}
	fields = append(fields, mrkdwn(costField(inc)))
	if p := problemsField(inc); p != "" {
		fields = append(fields, mrkdwn(p))
	}
	if inc.Closed() {
		fields = append(fields, mrkdwn("*Closed*\n"+slackDate(inc.ClosedAt)))
	}
	blocks = []slack.Block{slack.NewHeaderBlock(plain(plainFit(title, 150)))}
	// A section holds at most 10 fields.
	for len(fields) > 0 {
		n := min(len(fields), 10)
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[:n], nil))
		fields = fields[n:]
	}
	if inc.Description != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(escapeFit(inc.Description, 3000)), nil, nil))
	}
	if len(suspects) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("*Suspect changes*\n• "+strings.Join(suspects, "\n• "), 3000)), nil, nil))
	}
	if !inc.Closed() {
		id := strconv.FormatInt(inc.ID, 10)
		blocks = append(blocks, slack.NewActionBlock("incident_actions",
			slack.NewButtonBlockElement(actionTakeCommand, id, plain("Take command")),
			slack.NewButtonBlockElement(actionUpdateStatus, id, plain("Update status")),
			slack.NewButtonBlockElement(actionAddNote, id, plain("Add note")),
			slack.NewButtonBlockElement(actionCost, id, plain("Customer cost")),
			slack.NewButtonBlockElement(actionLinkProblem, id, plain("Link problem")),
		))
	}
	ctx := "Type `/incident help` in this channel for what you can do."
	if reportedIn != "" {
		ctx = "Reported in <#" + reportedIn + ">. " + ctx
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(ctx)))
	text = fmt.Sprintf("%s %s %s: %s", inc.Ref(), inc.Severity.Label(), inc.Status.Label(), escapeFit(inc.Title, 2900))
	return text, blocks
}

// topicText is the incident channel's topic: severity, status and TDO.
// Slack shows a topic as plain text, with no formatting, mentions or
// entities, so the title goes in as read (escaping would show "&lt;"),
// mentions as "@bob".
func topicText(inc *incident.Incident, tdoName string) string {
	return truncate(fmt.Sprintf("%s · %s · TDO: %s · %s", inc.Severity.Label(), inc.Status.Label(), tdoName, slacktext.Plain(inc.Title)), 250)
}

// announcementView is posted in the incidents channel when an incident opens.
func announcementView(inc *incident.Incident, channelID string) (text string, blocks []slack.Block) {
	line := fmt.Sprintf(":rotating_light: *%s* · *%s* · %s", inc.Ref(), inc.Severity.Label(), escapeFit(inc.Title, 200))
	detail := fmt.Sprintf("Join <#%s> · TDO <@%s> · reported by %s", channelID, inc.TDOID, reporterRef(inc))
	if len(inc.Systems) > 0 {
		detail += " · systems: " + escape(strings.Join(inc.Systems, ", "))
	}
	blocks = []slack.Block{slack.NewSectionBlock(mrkdwn(line+"\n"+detail), nil, nil)}
	text = fmt.Sprintf("%s %s opened: %s", inc.Ref(), inc.Severity.Label(), escape(inc.Title))
	return text, blocks
}

// openedReply tells the reporter where their incident lives and who leads
// it: the reporter, or the on-call a rotation named (who was briefed).
func openedReply(inc *incident.Incident, channelID string) string {
	if inc.TDOID == "" || inc.TDOID == inc.ReporterID {
		return fmt.Sprintf("%s is open: <#%s>. You are its technical duty officer until you hand over.", inc.Ref(), channelID)
	}
	lead := fmt.Sprintf("<@%s> leads it", inc.TDOID)
	if r := inc.Opening.Rotation; r != "" {
		lead += ", from the " + escape(r) + " rotation"
	}
	return fmt.Sprintf("%s is open: <#%s>. %s, and has the brief.", inc.Ref(), channelID, lead)
}

// provisionDelayedReply tells the reporter the incident is recorded but its
// channel is not there yet, and why (see failureReason: no internal detail).
func provisionDelayedReply(inc *incident.Incident, why string) string {
	return fmt.Sprintf("%s is recorded, but its channel could not be created yet (%s). sitrep keeps trying and will tell you when it is ready.",
		inc.Ref(), why)
}

// usageReply explains a mistake and shows the right form.
func usageReply(problem, usage string) (text string, blocks []slack.Block) {
	text = ":warning: " + problem
	if usage != "" {
		text += "\nWrite: `" + usage + "`"
	}
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(text, 3000)), nil, nil)}
}

// helpView lists the /incident forms this version understands.
func helpView() (text string, blocks []slack.Block) {
	forms := strings.Join([]string{
		"In an incident channel the incident is implied; elsewhere name it: `INC-12`.",
		"`/incident open <title> [sev1|sev2|sev3|sev4] [systems:web,db]` open an incident: a channel, a pinned header, an announcement. Severity defaults to sev3; sev1 is the worst.",
		"`/incident open` with no title: a form to fill in.",
		"`/incident open --private <title> …` a private incident: a private channel (inc-n-private), and outside it only its number, severity and TDO are shown.",
		"`/incident private [INC-n]` make an incident private (its TDO or a commander): it moves to a new private channel with everyone in its room, and the public one is archived. A private incident is never made public again.",
		"`/incident status [INC-n] <investigating|identified|monitoring|restored|resolved> [message]` move the incident on; restored means customers are served again, resolved means it is over. Going back reopens it. The same status with a message posts an update (it goes to the incidents channel too, and resets the update cadence).",
		"`/incident sev [INC-n] <1-4> [reason]` change the severity; lowering it needs a reason.",
		"`/incident tdo [INC-n] @user [reason]` hand leadership to whoever knows the problem best; they are invited and briefed. The header's *Take command* button does the same for you.",
		"`/incident role [INC-n] <comms|scribe> @user` give a role: comms keeps customers and stakeholders told, the scribe keeps the timeline.",
		"`/incident note [INC-n] <text>` add a note to the timeline.",
		"`/incident timeline [INC-n]` show the timeline.",
		"`/incident alerts [INC-n]` the alerts from monitoring that opened or joined the incident: how often each came, when last, firing or resolved.",
		"`/incident timebox [INC-n] [30m] [reason]` start the diagnosis clock (without a length: the plan of attack's for the severity); restarting a running clock needs a reason, and the earlier box stays on the record. Restore first; diagnose only inside the timebox.",
		"`/incident extend [INC-n] <10m> <reason>` give diagnosis more time; the reason goes on the timeline.",
		"`/incident restore [INC-n]` record that restoring service began: the diagnosis clock stops. Status restored stops it too.",
		"`/incident close [INC-n]` close a resolved incident and post its summary.",
		"`/incident changes [INC-n] [24h]` what changed before the incident, for another window; mark each change Suspect or Not related.",
		"`/incident cost [INC-n]` the customer cost form: contacts, customers affected, revenue lost, engineering hours, churn risk. The header shows the cost and its class (C1 the costliest).",
		"`/incident link [INC-n] [PRB-n]` link the problem that caused it (no problem: a form to pick or create one); `/incident unlink PRB-n` undoes it. `/problem help` for problems.",
		"`/incident list` the incidents not yet resolved.",
		"`/incident oncall` who is on duty in each rotation, and who is next.",
		"`/incident help` this message.",
	}, "\n")
	example := "Example: `/incident open checkout fails for card payments sev1 systems:payments,web`"
	text = "sitrep /incident commands"
	blocks = []slack.Block{
		slack.NewSectionBlock(mrkdwn("*sitrep: /incident*\n"+forms), nil, nil),
		slack.NewContextBlock("", mrkdwn(example)),
	}
	return text, blocks
}

// openModal is the form behind /incident open with no title. metadata is the
// channel the command was typed in; private ticks the private checkbox
// (/incident open --private).
func openModal(metadata string, private bool) slack.ModalViewRequest {
	titleInput := slack.NewPlainTextInputBlockElement(plain("What do customers see?"), blockTitle)
	titleInput.MaxLength = incident.MaxTitle
	var options []*slack.OptionBlockObject
	for s := incident.Sev1; s <= incident.Sev4; s++ {
		o := slack.NewOptionBlockObject(s.String(), plain(s.Label()+" "+severityHint(s)), nil)
		options = append(options, o)
	}
	sev := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Severity"), blockSeverity, options...)
	sev.InitialOption = options[incident.DefaultSeverity-1]
	systems := slack.NewPlainTextInputBlockElement(plain("web, db"), blockSystems)
	desc := slack.NewPlainTextInputBlockElement(plain("What is known so far"), blockDescription)
	desc.Multiline = true
	desc.MaxLength = incident.MaxDescription

	systemsBlock := slack.NewInputBlock(blockSystems, plain("Affected systems"), plain("Comma-separated, e.g. web, db"), systems)
	systemsBlock.Optional = true
	descBlock := slack.NewInputBlock(blockDescription, plain("Description"), nil, desc)
	descBlock.Optional = true
	privateOption := slack.NewOptionBlockObject(optionPrivate, plain("Private incident"),
		plain("A private channel; #incidents hears only its number, severity and TDO."))
	check := slack.NewCheckboxGroupsBlockElement(blockPrivate, privateOption)
	if private {
		check.InitialOptions = []*slack.OptionBlockObject{privateOption}
	}
	privateBlock := slack.NewInputBlock(blockPrivate, plain("Visibility"), nil, check)
	privateBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackOpenIncident,
		Title:           plain("Open an incident"),
		Submit:          plain("Open"),
		Close:           plain("Cancel"),
		PrivateMetadata: metadata,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockTitle, plain("Title"), nil, titleInput),
			slack.NewInputBlock(blockSeverity, plain("Severity"), nil, sev),
			systemsBlock,
			descBlock,
			privateBlock,
		}},
	}
}

func severityHint(s incident.Severity) string {
	switch s {
	case incident.Sev1:
		return "· critical, most customers hit"
	case incident.Sev2:
		return "· major, many customers hit"
	case incident.Sev3:
		return "· minor, some customers hit"
	default:
		return "· low, few or no customers hit"
	}
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// plain is a plain_text object. Emoji codes typed in it (":fire:") show as
// emoji.
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}
