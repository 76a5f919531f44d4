package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// Buttons and forms of a postmortem.
const (
	actionPMAddEntry  = "pm_add_entry"
	actionPMEditEntry = "pm_edit_entry"
	actionPMRaise     = "pm_raise_issue"
	actionPMAddIssue  = "pm_add_issue"
	actionPMAddAction = "pm_add_action"
	actionPMNext      = "pm_next"
	actionPMDone      = "pm_action_done"

	callbackPMEntry  = "pm_entry"
	callbackPMIssue  = "pm_issue"
	callbackPMAction = "pm_action"

	blockPMTime     = "pm_time"
	blockPMText     = "pm_text"
	blockPMIssue    = "pm_issue"
	blockPMOwner    = "pm_owner"
	blockPMExpected = "pm_expected"
	blockPMDue      = "pm_due"

	// maxBoardItems bounds the entries or issues the postmortem message
	// lists with buttons, within Slack's 50 blocks.
	maxBoardItems = 40
)

// pmRef is the value of a postmortem button: "incidentID:item".
func pmRef(incidentID int64, item int) string {
	return strconv.FormatInt(incidentID, 10) + ":" + strconv.Itoa(item)
}

// parsePMRef reads a pmRef.
func parsePMRef(v string) (incidentID int64, item int, ok bool) {
	a, b, found := strings.Cut(v, ":")
	id, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.Atoi(b)
	return id, n, found && err1 == nil && err2 == nil
}

// pmEntryLine writes a postmortem timeline entry for Slack.
func pmEntryLine(e incident.PMEntry) string {
	line := "`" + clockText(e.At) + "`"
	if e.Actor != "" {
		line += " <@" + e.Actor + ">"
	}
	line += " " + escapeFit(e.Text, incident.MaxPMText+10)
	// Entries seeded since they name people in their text say who already.
	if e.Subject != "" && !strings.Contains(e.Text, "<@"+e.Subject+">") && (e.Kind == incident.EntryTDO || e.Kind == incident.EntryRole || e.Kind == incident.EntryPin) {
		line += " → <@" + e.Subject + ">"
	}
	if n := len(e.Edits); n > 0 {
		line += fmt.Sprintf(" _(corrected by <@%s>", e.Edits[n-1].EditedBy)
		if n > 1 {
			line += fmt.Sprintf(", %d edits", n)
		}
		line += ")_"
	}
	return line
}

// postmortemView is the postmortem's message: what the current phase is
// about, its items with their buttons, and the buttons to move on.
func postmortemView(inc *incident.Incident, pm *incident.Postmortem, loc *time.Location) (string, []slack.Block) {
	title := plainFit("Postmortem of "+inc.Ref()+": "+inc.Title, 150)
	guide := map[incident.Phase]string{
		incident.PhaseTimeline: "*Phase 1 of 3: timeline.* Only the timeline is discussed now: add what is missing, correct what is wrong. Issues and actions come later.",
		incident.PhaseIssues:   "*Phase 2 of 3: issues.* Walk the timeline and raise what went wrong or could go better (*Raise issue* on an entry, or `/postmortem issue <text>`). No fixes yet.",
		incident.PhaseActions:  "*Phase 3 of 3: actions.* Every issue needs at least one action: one owner, an expected result, a due date.",
		incident.PhaseComplete: fmt.Sprintf("*Complete* since %s. `/postmortem export` for the document.", slackDate(pm.CompletedAt)),
	}[pm.Phase]
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(title)),
		slack.NewSectionBlock(mrkdwn(guide), nil, nil),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Facilitator <@%s>, who closes each phase. %d timeline entries, %s, %s.",
			pm.Facilitator, len(pm.Timeline), count(len(pm.Issues), "issue"), count(len(pm.Actions), "action")))),
	}
	id := strconv.FormatInt(pm.IncidentID, 10)
	switch pm.Phase {
	case incident.PhaseTimeline, incident.PhaseIssues:
		action, label := actionPMEditEntry, "Correct"
		if pm.Phase == incident.PhaseIssues {
			action, label = actionPMRaise, "Raise issue"
		}
		blocks = append(blocks, entrySections(pm, action, label)...)
		if pm.Phase == incident.PhaseIssues && len(pm.Issues) > 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("*Issues*\n"+issueLines(pm), 3000)), nil, nil))
		}
	case incident.PhaseActions, incident.PhaseComplete:
		for _, is := range pm.Issues[:min(len(pm.Issues), maxBoardItems)] {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(issueWithActions(pm, is, loc), 3000)), nil, nil))
		}
	}
	var buttons []slack.BlockElement
	switch pm.Phase {
	case incident.PhaseTimeline:
		buttons = append(buttons, slack.NewButtonBlockElement(actionPMAddEntry, id, plain("Add entry")),
			slack.NewButtonBlockElement(actionPMNext, id, plain("Timeline complete")).WithStyle(slack.StylePrimary))
	case incident.PhaseIssues:
		buttons = append(buttons, slack.NewButtonBlockElement(actionPMAddIssue, id, plain("Add issue")),
			slack.NewButtonBlockElement(actionPMNext, id, plain("Issues complete")).WithStyle(slack.StylePrimary))
	case incident.PhaseActions:
		buttons = append(buttons, slack.NewButtonBlockElement(actionPMAddAction, id, plain("Add action")),
			slack.NewButtonBlockElement(actionPMNext, id, plain("Complete postmortem")).WithStyle(slack.StylePrimary))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("pm_actions", buttons...))
	}
	return fmt.Sprintf("Postmortem of %s, %s", inc.Ref(), pm.Phase.Label()), blocks
}

// entrySections lists the timeline, each entry with a button; past
// maxBoardItems, the rest as text.
func entrySections(pm *incident.Postmortem, action, label string) []slack.Block {
	var out []slack.Block
	for i, e := range pm.Timeline {
		if i == maxBoardItems {
			var rest []string
			for _, e := range pm.Timeline[i:] {
				rest = append(rest, pmEntryLine(e))
			}
			out = append(out, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(rest, "\n"), 3000)), nil, nil))
			break
		}
		btn := slack.NewButtonBlockElement(action, pmRef(pm.IncidentID, e.ID), plain(label))
		out = append(out, slack.NewSectionBlock(mrkdwn(truncate(pmEntryLine(e), 3000)), nil, slack.NewAccessory(btn)))
	}
	return out
}

// issueLines lists the issues, numbered.
func issueLines(pm *incident.Postmortem) string {
	var lines []string
	for _, is := range pm.Issues {
		line := fmt.Sprintf("%d. %s — <@%s>", is.ID, escapeFit(is.Text, 300), is.AddedBy)
		if e := pm.Entry(is.Entry); e != nil {
			line += " (on " + clockText(e.At) + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// issueWithActions is one issue and its actions, or a warning that it
// has none.
func issueWithActions(pm *incident.Postmortem, is incident.Issue, loc *time.Location) string {
	text := fmt.Sprintf("*%d. %s*", is.ID, escapeFit(is.Text, 500))
	acts := pm.ActionsOf(is.ID)
	if len(acts) == 0 {
		return text + "\n:warning: needs an action"
	}
	for _, a := range acts {
		text += "\n" + actionLine(a, loc)
	}
	return text
}

// actionLine is one action: owner, expected result, due date, status.
func actionLine(a incident.Action, loc *time.Location) string {
	status := "due " + a.Due.In(loc).Format("Mon 2 Jan 2006")
	if a.Done() {
		status = ":white_check_mark: done " + a.DoneAt.In(loc).Format("2 Jan")
	}
	return fmt.Sprintf("• <@%s>: %s (%s)", a.Owner, escapeFit(a.Expected, 500), status)
}

// postmortemHelpView lists the /postmortem forms.
func postmortemHelpView() (string, []slack.Block) {
	forms := strings.Join([]string{
		"The bot facilitates a postmortem in three phases, in order: the *timeline*, then the *issues* it shows, then *actions* that address them. Inside the incident channel the incident is implied; elsewhere name it (`INC-12`).",
		"`/postmortem start` open it (restored or resolved incidents; anyone in the incident's room); you facilitate. `/postmortem facilitator @user` hands that over (the facilitator, the TDO or a commander).",
		"`/postmortem entry <14:05> <what happened>` add to the timeline (no text: a form); *Correct* on an entry fixes it, keeping the old version.",
		"`/postmortem issue <text>` raise an issue (phase 2); *Raise issue* on an entry ties it to that moment.",
		"`/postmortem action` the action form (phase 3): one owner, an expected result, a due date in the future.",
		"`/postmortem next` close the phase (the facilitator, the TDO or a commander; the same as the message's buttons).",
		"`/postmortem actions` your open actions; *Mark done* is for an action's owner, the facilitator or a commander. `/postmortem export` the document as Markdown.",
		"Anyone in the incident's room adds entries, issues and actions; people outside it join the room first.",
	}, "\n")
	return "sitrep /postmortem commands", []slack.Block{slack.NewSectionBlock(mrkdwn("*sitrep: /postmortem*\n"+forms), nil, nil)}
}

// entryModal adds (e nil) or corrects a timeline entry.
func entryModal(inc *incident.Incident, e *incident.PMEntry, loc *time.Location, theirs bool) slack.ModalViewRequest {
	at := slack.NewPlainTextInputBlockElement(plain("14:05 or 2026-11-24 14:05"), blockPMTime)
	at.MaxLength = 16
	text := slack.NewPlainTextInputBlockElement(plain("What happened"), blockPMText)
	text.Multiline = true
	text.MaxLength = incident.MaxPMText
	meta, title := pmRef(inc.ID, 0), "Add timeline entry"
	if e != nil {
		at.InitialValue = e.At.In(loc).Format("2006-01-02 15:04")
		text.InitialValue = e.Text
		meta, title = pmRef(inc.ID, e.ID), "Correct entry"
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackPMEntry, PrivateMetadata: meta,
		Title: plain(title), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 500)+"\nTimes are "+zoneText(loc, theirs)+"; the old version of a corrected entry is kept.")),
			slack.NewInputBlock(blockPMTime, plain("Time"), plain("A time alone is on the day the incident opened"), at),
			slack.NewInputBlock(blockPMText, plain("What happened"), nil, text),
		}},
	}
}

// issueModal raises an issue, on timeline entry e when not nil.
func issueModal(inc *incident.Incident, e *incident.PMEntry) slack.ModalViewRequest {
	text := slack.NewPlainTextInputBlockElement(plain("What went wrong or could go better"), blockPMText)
	text.Multiline = true
	text.MaxLength = incident.MaxPMText
	ctx, meta := escapeFit(inc.Ref()+": "+inc.Title, 500), pmRef(inc.ID, 0)
	if e != nil {
		ctx += "\nOn: " + pmEntryLine(*e)
		meta = pmRef(inc.ID, e.ID)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackPMIssue, PrivateMetadata: meta,
		Title: plain("Raise issue"), Submit: plain("Raise"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(truncate(ctx, 2000))),
			slack.NewInputBlock(blockPMText, plain("Issue"), plain("Describe the issue, not the fix: actions come in phase 3"), text),
		}},
	}
}

// actionModal asks for an action: the issue, one owner, the expected
// result, the due date. The first issue without an action is chosen.
func actionModal(inc *incident.Incident, pm *incident.Postmortem, today time.Time) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	for _, is := range pm.Issues {
		options = append(options, slack.NewOptionBlockObject(strconv.Itoa(is.ID), plain(plainFit(fmt.Sprintf("%d. %s", is.ID, is.Text), 75)), nil))
	}
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose the issue"), blockPMIssue, options...)
	if left := pm.Unaddressed(); len(left) > 0 {
		for _, o := range options {
			if o.Value == strconv.Itoa(left[0].ID) {
				pick.InitialOption = o
			}
		}
	}
	owner := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("One person"), blockPMOwner)
	expected := slack.NewPlainTextInputBlockElement(plain("Disk alerts page the on-call at 80%"), blockPMExpected)
	expected.Multiline = true
	expected.MaxLength = incident.MaxPMText
	due := slack.NewDatePickerBlockElement(blockPMDue)
	due.InitialDate = today.AddDate(0, 0, 14).Format("2006-01-02")
	left := len(pm.Unaddressed())
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackPMAction, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Add action"), Submit: plain("Add"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 500)+fmt.Sprintf("\n%s still without an action.", count(left, "issue")))),
			slack.NewInputBlock(blockPMIssue, plain("Issue"), nil, pick),
			slack.NewInputBlock(blockPMOwner, plain("Owner"), plain("Exactly one person owns it"), owner),
			slack.NewInputBlock(blockPMExpected, plain("Expected result"), plain("What will be true when it is done"), expected),
			slack.NewInputBlock(blockPMDue, plain("Due date"), plain("In the future"), due),
		}},
	}
}

// actionNoticeView is the direct message to an action's owner: assigned,
// due tomorrow, or overdue; with a Done button.
func actionNoticeView(kind string, inc *incident.Incident, pm *incident.Postmortem, a *incident.Action, loc *time.Location) (string, []slack.Block) {
	issue := ""
	if is := pm.Issue(a.Issue); is != nil {
		issue = is.Text
	}
	head := map[string]string{
		incident.JobActionAssigned: fmt.Sprintf(":memo: <@%s> gave you an action from the postmortem of *%s*", a.AddedBy, inc.Ref()),
		incident.JobActionReminder: fmt.Sprintf(":alarm_clock: Your action from the postmortem of *%s* is due tomorrow", inc.Ref()),
		incident.JobActionOverdue:  fmt.Sprintf(":warning: Your action from the postmortem of *%s* is overdue", inc.Ref()),
	}[kind]
	body := fmt.Sprintf("%s (%s)\n*Issue:* %s\n*Expected result:* %s\n*Due:* %s", head, escapeFit(inc.Title, 150),
		escapeFit(issue, 500), escapeFit(a.Expected, 800), a.Due.In(loc).Format("Mon 2 Jan 2006"))
	done := slack.NewButtonBlockElement(actionPMDone, pmRef(pm.IncidentID, a.ID), plain("Mark done")).WithStyle(slack.StylePrimary)
	return fmt.Sprintf("Action %d of the %s postmortem", a.ID, inc.Ref()), []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate(body, 3000)), nil, nil),
		slack.NewActionBlock("pm_action_"+pmRef(pm.IncidentID, a.ID), done),
	}
}

// myActionsView lists a person's open actions, each with Mark done.
func myActionsView(actions []incident.OwnedAction, refs map[int64]string, now time.Time, loc *time.Location) (string, []slack.Block) {
	if len(actions) == 0 {
		return "You have no open postmortem actions.", []slack.Block{slack.NewSectionBlock(mrkdwn("You have no open postmortem actions."), nil, nil)}
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*Your open postmortem actions (%d)*", len(actions))), nil, nil)}
	for _, oa := range actions[:min(len(actions), maxBoardItems)] {
		a := oa.Action
		due := "due " + a.Due.In(loc).Format("Mon 2 Jan")
		if a.Overdue(now) {
			due = ":warning: overdue since " + a.Due.In(loc).Format("Mon 2 Jan")
		}
		text := fmt.Sprintf("*%s* · %s\n%s\n_Issue:_ %s", refs[oa.IncidentID], due, escapeFit(a.Expected, 800), escapeFit(oa.Issue, 500))
		btn := slack.NewButtonBlockElement(actionPMDone, pmRef(oa.IncidentID, a.ID), plain("Mark done"))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(text, 3000)), nil, slack.NewAccessory(btn)))
	}
	return fmt.Sprintf("You have %s open.", count(len(actions), "postmortem action")), blocks
}
