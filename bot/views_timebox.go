package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// Buttons and form of the diagnosis clock and the plan of attack.
const (
	actionRestoreNow = "timebox_restore"
	actionExtend     = "timebox_extend"
	actionDiagnostic = "plan_diagnostic"

	callbackExtend = "timebox_extend"
	blockMinutes   = "minutes"
	blockReason    = "reason"
)

// planView is the plan of attack posted in the room: the clock, the
// diagnostics to collect (each ticked by someone, at a time), the restore
// steps and runbooks. done holds the ticked diagnostics by step.
func planView(inc *incident.Incident, done map[int]incident.TimelineEntry) (string, []slack.Block) {
	title := "Plan of attack for " + inc.Ref() + ": restore first"
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(title)),
		slack.NewSectionBlock(mrkdwn(clockLine(inc)), nil, nil),
	}
	id := strconv.FormatInt(inc.ID, 10)
	if n := len(inc.Plan.Diagnostics); n > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*Collect before restoring* (%d of %d done)", len(done), n)), nil, nil))
	}
	for i, step := range inc.Plan.Diagnostics {
		value := id + ":" + strconv.Itoa(i) + ":1"
		line := ":white_large_square: " + escapeFit(step, 300)
		label := "Collected"
		if e, ok := done[i]; ok {
			line = fmt.Sprintf(":white_check_mark: ~%s~\n<@%s> at %s", escapeFit(step, 300), e.Actor, clockText(e.At))
			label, value = "Undo", id+":"+strconv.Itoa(i)+":0"
		}
		var accessory *slack.Accessory
		if !inc.Closed() {
			accessory = slack.NewAccessory(slack.NewButtonBlockElement(actionDiagnostic, value, plain(label)))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, accessory))
	}
	if len(inc.Plan.Restore) > 0 || len(inc.Plan.Runbooks) > 0 {
		var b strings.Builder
		b.WriteString("*Restore*")
		for i, step := range inc.Plan.Restore {
			fmt.Fprintf(&b, "\n%d. %s", i+1, escapeFit(step, 300))
		}
		for _, link := range inc.Plan.Runbooks {
			b.WriteString("\n:book: <" + escape(link) + "|runbook>")
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(b.String(), 3000)), nil, nil))
	}
	if inc.Timebox.Running() && !inc.Closed() {
		blocks = append(blocks, clockButtons(inc))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(
		"`/incident timebox 30m` restarts the clock · `/incident extend 10m <reason>` buys time · `/incident restore` records that restoring began")))
	return title, blocks
}

// clockButtons are Restore now and Extend.
func clockButtons(inc *incident.Incident) slack.Block {
	id := strconv.FormatInt(inc.ID, 10)
	restore := slack.NewButtonBlockElement(actionRestoreNow, id, plain("Restore now"))
	restore.Style = slack.StylePrimary
	return slack.NewActionBlock("timebox_"+id, restore, slack.NewButtonBlockElement(actionExtend, id, plain("Extend")))
}

// clockLine says where the diagnosis clock stands.
func clockLine(inc *incident.Incident) string {
	t := inc.Timebox
	switch {
	case t.Generation == 0 && !t.RestoreBegan.IsZero():
		return ":wrench: Restoring service since " + clockText(t.RestoreBegan) + "."
	case t.Generation == 0:
		return ":stopwatch: No diagnosis timebox is running: start one with `/incident timebox 30m`."
	case !t.Running():
		a, _ := t.Adherence(t.EndedAt)
		return fmt.Sprintf(":wrench: Diagnosis stopped at %s after %s.", clockText(t.EndedAt), adherenceText(a))
	case !t.ExpiredAt.IsZero():
		return fmt.Sprintf(":alarm_clock: *Diagnosis time is up* since %s: restore service now.", clockText(t.Deadline))
	default:
		return fmt.Sprintf(":stopwatch: *Diagnose until %s* (%s), then restore service.", clockText(t.Deadline), durationText(t.Allowed()))
	}
}

// diagnosisField is the header's Diagnosis field; "" when no clock ever ran.
func diagnosisField(inc *incident.Incident) string {
	t := inc.Timebox
	switch {
	case t.Generation == 0 && t.RestoreBegan.IsZero():
		return ""
	case t.Generation == 0:
		return "restoring since " + clockText(t.RestoreBegan)
	case !t.Running():
		a, _ := t.Adherence(t.EndedAt)
		return "stopped at " + clockText(t.EndedAt) + " (" + adherenceText(a) + ")"
	case !t.ExpiredAt.IsZero():
		return ":alarm_clock: time up at " + clockText(t.Deadline) + ": restore now"
	default:
		return fmt.Sprintf("diagnose until %s (%s)", clockText(t.Deadline), durationText(t.Allowed()))
	}
}

// adherenceText says how the timeboxes were kept: "12 min of 10 min, 2
// min over, 1 extension"; with several boxes, each in turn and the
// restarts: "box 1: 16 min of 20 min, within the timebox, restarted: wrong
// system; box 2: 5 s of 1 h 30 min, within the timebox; 1 restart".
func adherenceText(a incident.Adherence) string {
	if len(a.Boxes) <= 1 {
		return boxText(incident.BoxAdherence{Length: a.Length, Allowed: a.Allowed, Used: a.Used, Over: a.Over, Extensions: a.Extensions})
	}
	parts := make([]string, len(a.Boxes))
	for i, b := range a.Boxes {
		parts[i] = fmt.Sprintf("box %d: %s", i+1, boxText(b))
		if b.Ended != "" {
			parts[i] += ", " + escapeFit(b.Ended, 100)
		}
	}
	s := strings.Join(parts, "; ") + "; " + count(a.Restarts, "restart")
	if a.Overruns > 0 {
		s += ", " + count(a.Overruns, "overrun")
	}
	return s
}

// boxText says how one box was kept: "12 min of 10 min, 2 min over, 1
// extension".
func boxText(b incident.BoxAdherence) string {
	s := durationText(b.Used) + " of " + durationText(b.Allowed)
	if b.Over > 0 {
		s += ", " + durationText(b.Over) + " over"
	} else {
		s += ", within the timebox"
	}
	if b.Extensions > 0 {
		s += ", " + count(b.Extensions, "extension")
	}
	return s
}

// adherenceSection sums the clock up for the timeline and the close
// summary: every box, time used of time allowed, restarts, extensions and
// overruns.
func adherenceSection(a incident.Adherence) string {
	lines := []string{"*Diagnosis timebox*"}
	if len(a.Boxes) > 1 {
		lines = []string{"*Diagnosis timeboxes*", fmt.Sprintf("%d boxes: %s, %s, %s", len(a.Boxes), count(a.Restarts, "restart"),
			count(a.Extensions, "extension"), count(a.Overruns, "overrun"))}
		for i, b := range a.Boxes[:len(a.Boxes)-1] {
			line := fmt.Sprintf("%d. From %s: used %s of %s (%s as started, %s)", i+1, clockText(b.StartedAt), durationText(b.Used),
				durationText(b.Allowed), durationText(b.Length), count(b.Extensions, "extension"))
			if b.Over > 0 {
				line += ", " + durationText(b.Over) + " over"
			}
			lines = append(lines, line+"; "+escapeFit(b.Ended, 300)+".")
		}
		last := a.Boxes[len(a.Boxes)-1]
		lines = append(lines, fmt.Sprintf("%d. From %s: used %s of %s (%s as started, %s)", len(a.Boxes), clockText(last.StartedAt),
			durationText(last.Used), durationText(last.Allowed), durationText(last.Length), count(last.Extensions, "extension")))
		a.Over = last.Over
	} else {
		lines = append(lines, fmt.Sprintf("Used %s of %s (%s as started, %s)", durationText(a.Used), durationText(a.Allowed), durationText(a.Length), count(a.Extensions, "extension")))
	}
	switch {
	case a.Running && a.Over > 0:
		lines = append(lines, fmt.Sprintf(":alarm_clock: Still diagnosing, %s past the deadline: restore service now.", durationText(a.Over)))
	case a.Running:
		lines = append(lines, "Still diagnosing, within the timebox.")
	case a.Over > 0:
		lines = append(lines, fmt.Sprintf("Restoring began %s after the diagnosis time was up.", durationText(a.Over)))
	default:
		lines = append(lines, "Restoring began within the timebox.")
	}
	return strings.Join(lines, "\n")
}

// clockLineView is what the room hears about an entry of the clock.
func clockLineView(inc *incident.Incident, e incident.TimelineEntry) (string, []slack.Block) {
	t := inc.Timebox
	text := inc.Ref() + ": " + escapeFit(e.Text, 2000)
	recorded := slack.NewContextBlock("", mrkdwn("Timeline: "+escapeFit(e.Text, 2000)))
	var line string
	switch e.Kind {
	case incident.EntryTimebox:
		verb := "started"
		if len(t.Earlier) > 0 {
			verb = "restarted"
		}
		line = fmt.Sprintf(":stopwatch: <@%s> %s the diagnosis clock: *diagnose until %s* (%s), then restore service.",
			e.Actor, verb, clockText(t.Deadline), durationText(t.Length))
		if a, _ := t.Adherence(e.At); len(a.Boxes) > 1 {
			var earlier []string
			for _, b := range a.Boxes[:len(a.Boxes)-1] {
				earlier = append(earlier, boxText(b)+" ("+escapeFit(b.Ended, 300)+")")
			}
			line += "\nOn the record before it: " + strings.Join(earlier, "; ") + "."
		}
	case incident.EntryTimeboxWarning:
		line = fmt.Sprintf(":hourglass_flowing_sand: <@%s> *%s of diagnosis left*: restore service at %s, or extend with a reason.",
			inc.TDOID, durationText(max(t.Deadline.Sub(e.At), 0)), clockText(t.Deadline))
		if e.Subject != "" {
			line += "\n:warning: This warning " + escapeFit(e.Subject, 300) + "."
		}
	case incident.EntryTimeboxExpired:
		line = fmt.Sprintf(":alarm_clock: <@%s> *Diagnosis time is up: restore service now.*", inc.TDOID)
		if e.Subject != "" {
			line += "\n:warning: This deadline " + escapeFit(e.Subject, 300) + "."
		}
		return text, []slack.Block{
			slack.NewSectionBlock(mrkdwn(line), nil, nil),
			clockButtons(inc),
			recorded,
		}
	case incident.EntryTimeboxExtended:
		line = fmt.Sprintf(":stopwatch: <@%s> extended diagnosis: *restore by %s* (%s in all).", e.Actor, clockText(t.Deadline), durationText(t.Allowed()))
	case incident.EntryRestore:
		line = fmt.Sprintf(":wrench: <@%s> began restoring service.", e.Actor)
	default:
		line = escapeFit(e.Text, 2000)
	}
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil), recorded}
}

// extendModal asks for minutes and a reason, both required.
func extendModal(inc *incident.Incident) slack.ModalViewRequest {
	minutes := slack.NewPlainTextInputBlockElement(plain("10"), blockMinutes)
	minutes.MaxLength = 4
	reason := slack.NewPlainTextInputBlockElement(plain("What will the extra time find out?"), blockReason)
	reason.Multiline = true
	reason.MaxLength = incident.MaxNote
	ctx := escapeFit(inc.Ref()+": "+inc.Title, 2000)
	if inc.Timebox.Running() {
		ctx += "\n" + diagnosisField(inc)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackExtend, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Extend diagnosis"), Submit: plain("Extend"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(ctx)),
			slack.NewInputBlock(blockMinutes, plain("Minutes"), plain("Whole minutes, 1 to 1440"), minutes),
			slack.NewInputBlock(blockReason, plain("Reason"), nil, reason),
		}},
	}
}
