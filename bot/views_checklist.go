package bot

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/checklist"
)

// Checklist buttons, checkboxes and form. A message holds the steps in
// groups of 10 (Slack's most in one checkboxes element); each group's
// block ID names the run, the group and the version rendered, so a click is
// read against exactly what the clicker saw.
const (
	actionStepsPrefix = "checklist_steps_"
	actionSkipStep    = "checklist_skip"
	callbackSkip      = "checklist_skip"
	blockSkipStep     = "step"
	blockSkipReason   = "reason"

	stepsPerGroup = 10
)

// stepsBlockID is the block ID of a group of steps: cl<run>_g<group>_v<version>.
func stepsBlockID(run *checklist.Run, group int) string {
	return fmt.Sprintf("cl%d_g%d_v%d", run.ID, group, run.Version)
}

// parseStepsBlockID reads a block ID made by stepsBlockID.
func parseStepsBlockID(id string) (runID int64, group, version int, ok bool) {
	n, err := fmt.Sscanf(id, "cl%d_g%d_v%d", &runID, &group, &version)
	return runID, group, version, err == nil && n == 3
}

// checklistView renders a run: title, who started it, progress, and every
// step with its state; an active run's steps are checkboxes.
func checklistView(run *checklist.Run, states []checklist.StepState) (string, []slack.Block) {
	progress := checklist.Measure(run.Steps, states)
	title := run.Title
	if run.Label != "" {
		title += " · " + run.Label
	}
	mark := ":clipboard:"
	switch run.State {
	case checklist.StateCompleted:
		mark = ":white_check_mark:"
	case checklist.StateAborted:
		mark = ":no_entry:"
	}
	status := fmt.Sprintf("%s *%s* · started by <@%s> at %s · *%s*", mark, run.Ref(), run.StartedBy, clockText(run.StartedAt), progress)
	switch run.State {
	case checklist.StateCompleted:
		status += fmt.Sprintf("\n*Completed* at %s, after %s.", clockText(run.EndedAt), durationText(run.EndedAt.Sub(run.StartedAt)))
	case checklist.StateAborted:
		status += fmt.Sprintf("\n*Aborted* at %s: %s", clockText(run.EndedAt), escapeFit(run.Reason, 500))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(plainFit(title, 150))),
		slack.NewSectionBlock(mrkdwn(status), nil, nil),
	}
	for g := 0; g*stepsPerGroup < len(run.Steps); g++ {
		lo, hi := g*stepsPerGroup, min((g+1)*stepsPerGroup, len(run.Steps))
		if run.Finished() {
			var lines []string
			for i := lo; i < hi; i++ {
				lines = append(lines, finishedStepLine(i, run.Steps[i], states[i]))
			}
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil))
			continue
		}
		var options, initial []*slack.OptionBlockObject
		for i := lo; i < hi; i++ {
			o := slack.NewOptionBlockObject(strconv.Itoa(i), mrkdwn(stepOptionText(i, run.Steps[i])), stepDescription(run.Steps[i], states[i]))
			options = append(options, o)
			if states[i].Done {
				initial = append(initial, o)
			}
		}
		boxes := slack.NewCheckboxGroupsBlockElement(actionStepsPrefix+strconv.Itoa(g), options...)
		boxes.InitialOptions = initial
		blocks = append(blocks, slack.NewActionBlock(stepsBlockID(run, g), boxes))
	}
	if !run.Finished() {
		if len(checklist.Skippable(run.Steps, states)) > 0 {
			blocks = append(blocks, slack.NewActionBlock("cl"+strconv.FormatInt(run.ID, 10)+"_actions",
				slack.NewButtonBlockElement(actionSkipStep, strconv.FormatInt(run.ID, 10), plain("Skip a step…"))))
		}
	}
	var help []string
	for i, s := range run.Steps {
		if s.Help != "" {
			help = append(help, fmt.Sprintf("%d. <%s|%s>", i+1, escape(s.Help), escapeFit(s.Text, 40)))
		}
	}
	foot := ":small_red_triangle: critical: must be ticked. Others may be skipped with a reason."
	if !run.Finished() {
		foot += " `/checklist abort " + run.Ref() + " <reason>` ends it."
	}
	if len(help) > 0 {
		foot = "How to: " + strings.Join(help, " · ") + "\n" + foot
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(truncate(foot, 3000))))
	text := fmt.Sprintf("%s %s: %s", run.Ref(), escapeFit(title, 200), progress)
	return text, blocks
}

// stepOptionText is a step as a checkbox: "3. Deploy to canary", within
// Slack's 75 characters, critical steps marked.
func stepOptionText(i int, s checklist.Step) string {
	prefix := strconv.Itoa(i+1) + ". "
	if s.Critical {
		prefix = ":small_red_triangle: " + prefix
	}
	return prefix + escapeFit(s.Text, 75-utf8.RuneCountInString(prefix))
}

// stepDescription says who ticked or skipped a step and when.
func stepDescription(s checklist.Step, st checklist.StepState) *slack.TextBlockObject {
	switch {
	case st.Done:
		return mrkdwn(fmt.Sprintf("<@%s> · %s", st.By, clockText(st.At)))
	case st.Skipped:
		prefix := fmt.Sprintf("skipped by <@%s>: ", st.By)
		return mrkdwn(prefix + escapeFit(st.Reason, 75-utf8.RuneCountInString(prefix)))
	}
	return nil
}

// finishedStepLine is a step of a finished run, as text.
func finishedStepLine(i int, s checklist.Step, st checklist.StepState) string {
	text := fmt.Sprintf("%d. %s", i+1, escape(s.Text))
	switch {
	case st.Done:
		return fmt.Sprintf(":ballot_box_with_check: %s — <@%s> %s", text, st.By, clockText(st.At))
	case st.Skipped:
		return fmt.Sprintf(":fast_forward: %s — skipped by <@%s>: %s", text, st.By, escapeFit(st.Reason, 200))
	}
	return ":white_large_square: " + text
}

// checklistSummaryView is posted when a run finishes.
func checklistSummaryView(run *checklist.Run, sum checklist.Summary, logged bool) (string, []slack.Block) {
	title := run.Title
	if run.Label != "" {
		title += " · " + run.Label
	}
	head := fmt.Sprintf(":white_check_mark: *%s completed*: %s, in %s.", run.Ref(), escapeFit(title, 200), durationText(sum.Duration))
	if run.State == checklist.StateAborted {
		head = fmt.Sprintf(":no_entry: *%s aborted*: %s, after %s. Reason: %s", run.Ref(), escapeFit(title, 200), durationText(sum.Duration), escapeFit(run.Reason, 500))
	}
	var people []string
	for who := range sum.By {
		people = append(people, who)
	}
	sort.Strings(people)
	var lines []string
	for _, who := range people {
		var steps []string
		for _, n := range sum.By[who] {
			steps = append(steps, strconv.Itoa(n))
		}
		lines = append(lines, fmt.Sprintf("<@%s> ticked %s", who, strings.Join(steps, ", ")))
	}
	for _, sk := range sum.Skipped {
		lines = append(lines, fmt.Sprintf("Step %d skipped by <@%s>: %s", sk.Step, sk.By, escapeFit(sk.Reason, 300)))
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	if len(lines) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil))
	}
	if logged {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Logged as a change to *%s*: `/change list %s` shows it.", escape(run.System), escape(run.System)))))
	}
	return fmt.Sprintf("%s %s: %s", run.Ref(), run.State, escapeFit(title, 200)), blocks
}

// skipModal asks which step to skip, and why.
func skipModal(run *checklist.Run, states []checklist.StepState) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	for _, i := range checklist.Skippable(run.Steps, states) {
		options = append(options, slack.NewOptionBlockObject(strconv.Itoa(i), plain(plainFit(fmt.Sprintf("%d. %s", i+1, run.Steps[i].Text), 75)), nil))
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Step"), blockSkipStep, options...)
	reason := slack.NewPlainTextInputBlockElement(plain("Why is it not needed this time?"), blockSkipReason)
	reason.MaxLength = 500
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackSkip, PrivateMetadata: strconv.FormatInt(run.ID, 10),
		Title: plain("Skip a step"), Submit: plain("Skip"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(run.Ref()+": "+run.Title, 2000)+"\nCritical steps cannot be skipped.")),
			slack.NewInputBlock(blockSkipStep, plain("Step"), nil, sel),
			slack.NewInputBlock(blockSkipReason, plain("Reason"), nil, reason),
		}},
	}
}

// checklistListView lists the templates.
func checklistListView(ts checklist.Templates) (string, []slack.Block) {
	var lines []string
	for _, name := range ts.Names() {
		t := ts[name]
		critical := 0
		for _, s := range t.Steps {
			if s.Critical {
				critical++
			}
		}
		line := fmt.Sprintf("`%s` %s · %s, %d critical", escape(t.Name), escapeFit(t.Title, 100), count(len(t.Steps), "step"), critical)
		if t.System != "" {
			line += " · releases *" + escape(t.System) + "*"
		}
		lines = append(lines, line)
	}
	text := "*Checklists*\n" + strings.Join(lines, "\n")
	return "Checklists", []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate(text, 3000)), nil, nil),
		slack.NewContextBlock("", mrkdwn("Start one here: `/checklist start <name> [label]`, e.g. `/checklist start web-release v2.14.0`")),
	}
}

// checklistStatusView lists the active runs.
func checklistStatusView(runs []checklist.Run, progress map[int64]checklist.Progress) (string, []slack.Block) {
	if len(runs) == 0 {
		text := "No checklist is running. `/checklist list` shows the checklists."
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	var lines []string
	for i, r := range runs {
		if i == 40 {
			lines = append(lines, fmt.Sprintf("… and %d more.", len(runs)-40))
			break
		}
		title := r.Title
		if r.Label != "" {
			title += " · " + r.Label
		}
		lines = append(lines, fmt.Sprintf("*%s* %s · <#%s> · %s · started by <@%s> %s", r.Ref(), escapeFit(title, 150), r.ChannelID,
			progress[r.ID], r.StartedBy, clockText(r.StartedAt)))
	}
	return fmt.Sprintf("%d checklists running", len(runs)), []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate("*Running checklists*\n"+strings.Join(lines, "\n"), 3000)), nil, nil),
	}
}

// checklistHelpView lists the /checklist forms.
func checklistHelpView() (string, []slack.Block) {
	text := strings.Join([]string{
		"*sitrep: /checklist*",
		"`/checklist list` the checklists you can run.",
		"`/checklist start <name> [label]` post a checklist here, e.g. `/checklist start web-release v2.14.0`. Tick each step as it is done; your name and the time go on it.",
		"`/checklist status` the checklists running, with their progress.",
		"`/checklist abort [CL-n] <reason>` end the checklist running here (or CL-n): who started it, anyone in its channel, or a commander.",
		"Steps are ticked on the checklist's own message, in its channel.",
	}, "\n")
	return "sitrep /checklist commands", []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
}
