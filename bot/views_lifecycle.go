package bot

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
)

// statusEmoji marks each status in channel lines.
var statusEmoji = map[incident.Status]string{
	incident.StatusInvestigating: ":mag:",
	incident.StatusIdentified:    ":dart:",
	incident.StatusMonitoring:    ":eyes:",
	incident.StatusRestored:      ":white_check_mark:",
	incident.StatusResolved:      ":checkered_flag:",
}

// changeLineView is the line posted in the incident channel when the
// status or severity changes.
func changeLineView(inc *incident.Incident, e incident.TimelineEntry) (string, []slack.Block) {
	if e.Kind == incident.EntrySeverity {
		line := fmt.Sprintf(":rotating_light: *Severity is now %s* (set by <@%s>)", inc.Severity.Label(), e.Actor)
		if msg := entryMessage(e); msg != "" {
			line += "\n>" + escapeFit(msg, 2500)
		}
		return fmt.Sprintf("%s is now %s", inc.Ref(), inc.Severity.Label()), []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
	}
	verb := "Status"
	if e.Kind == incident.EntryReopen {
		verb = "Reopened: status"
	}
	line := fmt.Sprintf("%s *%s is now %s* (set by <@%s>)", statusEmoji[inc.Status], verb, inc.Status.Label(), e.Actor)
	if incident.IsUpdate(e) {
		line = fmt.Sprintf("%s *Update: still %s* (posted by <@%s>)", statusEmoji[inc.Status], inc.Status.Label(), e.Actor)
	}
	if msg := entryMessage(e); msg != "" {
		line += "\n>" + escapeFit(msg, 2500)
	}
	if ttr, ok := inc.TimeToRestore(); ok && inc.Status == incident.StatusRestored {
		line += "\nTime to restore: " + durationText(ttr)
	}
	text := fmt.Sprintf("%s is now %s", inc.Ref(), inc.Status.Label())
	if incident.IsUpdate(e) {
		text = fmt.Sprintf("%s update: still %s", inc.Ref(), inc.Status.Label())
	}
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// changeUpdateView is the update posted in the incidents channel; that of
// a private incident names neither its title nor its channel.
func changeUpdateView(inc *incident.Incident, e incident.TimelineEntry, channelID string) (string, []slack.Block) {
	if inc.Private {
		return privateUpdateView(inc, e)
	}
	// The status message (or the severity change's reason) goes along:
	// the incidents channel is where people not in the room follow it.
	quote := ""
	if msg := entryMessage(e); msg != "" {
		quote = "\n>" + escapeFit(msg, 2500)
	}
	if e.Kind == incident.EntrySeverity {
		line := fmt.Sprintf(":rotating_light: *%s* · %s · severity is now *%s* · <#%s>", inc.Ref(), escapeFit(inc.Title, 200),
			inc.Severity.Label(), channelID)
		return fmt.Sprintf("%s is now %s", inc.Ref(), inc.Severity.Label()), []slack.Block{slack.NewSectionBlock(mrkdwn(line+quote), nil, nil)}
	}
	line := fmt.Sprintf("%s *%s* · %s · %s is now *%s* · <#%s>", statusEmoji[inc.Status], inc.Ref(), inc.Severity.Label(),
		escapeFit(inc.Title, 200), inc.Status.Label(), channelID)
	text := fmt.Sprintf("%s is now %s", inc.Ref(), inc.Status.Label())
	if incident.IsUpdate(e) {
		line = fmt.Sprintf("%s *%s* · %s · %s · update, still *%s* · <#%s>", statusEmoji[inc.Status], inc.Ref(), inc.Severity.Label(),
			escapeFit(inc.Title, 200), inc.Status.Label(), channelID)
		text = fmt.Sprintf("%s update: still %s", inc.Ref(), inc.Status.Label())
	}
	if e.Kind == incident.EntryReopen {
		line += " · reopened"
	}
	if ttr, ok := inc.TimeToRestore(); ok {
		line += " · time to restore " + durationText(ttr)
	}
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(line+quote), nil, nil)}
}

// entryMessage is what the person wrote with a status change (after the
// "Status a → b: " prefix), or the whole text of other entries.
func entryMessage(e incident.TimelineEntry) string {
	if e.Kind != incident.EntryStatus && e.Kind != incident.EntryReopen && e.Kind != incident.EntrySeverity {
		return e.Text
	}
	_, msg, _ := strings.Cut(e.Text, ": ")
	return msg
}

// maxListed bounds the incidents /incident list shows in one message.
const maxListed = 40

// listView lists active incidents, most severe first, then newest. The
// caller redacts the private incidents the reader may not see; their
// channels are not shown.
func listView(active []incident.Incident, channels map[int64]string, now time.Time) (string, []slack.Block) {
	if len(active) == 0 {
		text := ":sunny: No open incidents."
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	sorted := append([]incident.Incident(nil), active...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Severity < sorted[j].Severity })
	title := fmt.Sprintf("%d open incident", len(sorted))
	if len(sorted) != 1 {
		title += "s"
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title))}
	for i, inc := range sorted {
		if i == maxListed {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more.", len(sorted)-maxListed))))
			break
		}
		where := "no channel yet"
		if ch := channels[inc.ID]; ch != "" {
			where = "<#" + ch + ">"
		}
		if inc.Private {
			where = ":lock: private"
		}
		line := fmt.Sprintf("%s *%s* · %s · %s · %s · TDO <@%s> · open %s\n%s", statusEmoji[inc.Status], inc.Ref(),
			inc.Severity.Label(), inc.Status.Label(), where, inc.TDOID, durationText(now.Sub(inc.OpenedAt)), escapeFit(inc.Title, 200))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, nil))
	}
	return title, blocks
}

// tdoChain mentions the technical duty officers in order, "<@U1> → <@U2>".
func tdoChain(tdos []string) string {
	mentions := make([]string, len(tdos))
	for i, u := range tdos {
		mentions[i] = "<@" + u + ">"
	}
	return strings.Join(mentions, " → ")
}

// summaryView is posted in the room when the incident closes.
func summaryView(inc *incident.Incident, sum incident.Summary) (string, []slack.Block) {
	restore := "never restored"
	if sum.Restored {
		restore = durationText(sum.TimeToRestore)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Time to restore*\n" + restore),
		mrkdwn("*Time to resolve*\n" + durationText(sum.TimeToResolve)),
		mrkdwn("*Open for*\n" + durationText(sum.Duration)),
		mrkdwn("*Technical duty officers*\n" + tdoChain(sum.TDOs)),
		mrkdwn("*Timeline*\n" + strings.Join([]string{
			count(sum.Counts[incident.EntryStatus], "status change"), count(sum.Counts[incident.EntryReopen], "reopen"),
			count(sum.Counts[incident.EntrySeverity], "severity change"), count(sum.Counts[incident.EntryNote], "note"),
		}, ", ")),
	}
	if sum.HasTimebox {
		fields = append(fields, mrkdwn(adherenceSection(sum.Timebox)))
	}
	title := fmt.Sprintf("%s closed: %s", inc.Ref(), inc.Title)
	return escapeFit(title, 3000), []slack.Block{
		slack.NewHeaderBlock(plain(plainFit(title, 150))),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("", mrkdwn("`/incident timeline` shows every entry; the postmortem starts from it.")),
	}
}

// count says "1 note", "2 notes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// page is one message of a long listing.
type page struct {
	text   string
	blocks []slack.Block
}

// Timeline pages stay well inside Slack's limits: 3000 characters a section,
// 50 blocks a message.
const (
	timelineSectionChars = 2900
	timelineSections     = 40
)

// timelineView renders the timeline as one or more messages; the last
// ends with how the diagnosis timebox was kept (at now), if one ran.
func timelineView(inc *incident.Incident, timeline []incident.TimelineEntry, now time.Time) []page {
	var sections []string
	var cur strings.Builder
	for _, e := range timeline {
		line := entryLine(e)
		if cur.Len() > 0 && cur.Len()+1+len(line) > timelineSectionChars {
			sections = append(sections, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		sections = append(sections, cur.String())
	}
	pages := (len(sections) + timelineSections - 1) / timelineSections
	var out []page
	for i := 0; i < len(sections); i += timelineSections {
		chunk := sections[i:min(i+timelineSections, len(sections))]
		title := fmt.Sprintf("Timeline of %s (%d entries)", inc.Ref(), len(timeline))
		if pages > 1 {
			title += fmt.Sprintf(", part %d of %d", i/timelineSections+1, pages)
		}
		blocks := []slack.Block{slack.NewHeaderBlock(plain(plainFit(title, 150)))}
		for _, s := range chunk {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(s), nil, nil))
		}
		out = append(out, page{text: title, blocks: blocks})
	}
	if a, ok := inc.Timebox.Adherence(now); ok && len(out) > 0 {
		last := &out[len(out)-1]
		last.blocks = append(last.blocks, slack.NewSectionBlock(mrkdwn(adherenceSection(a)), nil, nil))
	}
	return out
}

// entryLine renders one timeline entry: time, kind, who, what.
func entryLine(e incident.TimelineEntry) string {
	if e.Kind == incident.EntryPin {
		return fmt.Sprintf("`%s` *pin* <@%s> pinned <@%s>: %s", clockText(e.At), e.Actor, e.Subject, escapeFit(e.Text, 2500))
	}
	if e.Kind == incident.EntryRole {
		line := fmt.Sprintf("`%s` *role* <@%s> made <@%s> %s", clockText(e.At), e.Actor, e.Subject, escapeFit(e.Text, 2500))
		if from := e.Facts.From; from != "" {
			line += " (was <@" + from + ">)"
		}
		return line
	}
	if e.Kind == incident.EntryTDO {
		return fmt.Sprintf("`%s` *tdo* %s", clockText(e.At), handOffText(e))
	}
	actor := "<@" + e.Actor + ">"
	switch {
	case e.Actor == "" && e.Facts.Source != "":
		actor = "*" + escape(e.Facts.Source) + "*" // monitoring, not a person
	case e.Actor == "":
		actor = "_sitrep_"
	}
	switch e.Kind {
	case incident.EntryAlert:
		return fmt.Sprintf("`%s` *alert* %s", clockText(e.At), alertEntryText(e, 2500))
	case incident.EntryDiagnostic:
		return fmt.Sprintf("`%s` *diagnostic* %s collected: %s", clockText(e.At), actor, escapeFit(e.Text, 2500))
	case incident.EntryDiagnosticUndone:
		return fmt.Sprintf("`%s` *diagnostic* %s un-ticked: %s", clockText(e.At), actor, escapeFit(e.Text, 2500))
	case incident.EntryUpdateNudge:
		line := fmt.Sprintf("`%s` *update due* %s", clockText(e.At), escapeFit(e.Text, 2500))
		if e.Facts.To != "" {
			line += "; <@" + e.Facts.To + "> was asked for one"
		}
		return line
	}
	return fmt.Sprintf("`%s` *%s* %s %s", clockText(e.At), strings.ReplaceAll(string(e.Kind), "_", " "), actor, escapeFit(e.Text, 2500))
}

// handOffText says who moved leadership from whom to whom, with the
// reason: "<@B> took command from <@A>", "<@A> handed over to <@B>",
// "<@C> handed over from <@A> to <@B>: reason". It reads the people the
// entry recorded, never the incident's current TDO.
func handOffText(e incident.TimelineEntry) string {
	from := e.Facts.From
	var line string
	switch {
	case e.Actor == e.Subject && from != "":
		line = fmt.Sprintf("<@%s> took command from <@%s>", e.Subject, from)
	case e.Actor == e.Subject:
		line = fmt.Sprintf("<@%s> took command", e.Subject)
	case from != "" && from != e.Actor:
		line = fmt.Sprintf("<@%s> handed over from <@%s> to <@%s>", e.Actor, from, e.Subject)
	default:
		line = fmt.Sprintf("<@%s> handed over to <@%s>", e.Actor, e.Subject)
	}
	if _, reason, ok := strings.Cut(e.Text, ": "); ok && reason != "took command" {
		line += ": " + escapeFit(reason, 2500)
	}
	return line
}

// handOffLineView is the line the room hears when leadership moves.
func handOffLineView(inc *incident.Incident, e incident.TimelineEntry) (string, []slack.Block) {
	line := fmt.Sprintf(":crown: <@%s> now leads %s as technical duty officer (%s)", e.Subject, inc.Ref(), handOffHow(e))
	if _, reason, ok := strings.Cut(e.Text, ": "); ok && reason != "took command" {
		line += "\n>" + escapeFit(reason, 2500)
	}
	return inc.Ref() + " has a new technical duty officer", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// handOffWhy says why the subject of hand-off entry e leads, for the
// brief: "took command from <@A>", "handed over by <@A>: reason".
func handOffWhy(e incident.TimelineEntry) string {
	why := handOffHow(e)
	if _, reason, ok := strings.Cut(e.Text, ": "); ok && reason != "took command" {
		why += ": " + escapeFit(reason, 1500)
	}
	return why
}

// handOffHow says how the subject of hand-off entry e came to lead,
// without the reason: "took command", "took command from <@A>", "handed
// over by <@A>", or, when a third person moved leadership, "handed over
// from <@A> by <@C>".
func handOffHow(e incident.TimelineEntry) string {
	from := e.Facts.From
	switch {
	case e.Actor == e.Subject && from != "":
		return "took command from <@" + from + ">"
	case e.Actor == e.Subject:
		return "took command"
	case from != "" && from != e.Actor:
		return "handed over from <@" + from + "> by <@" + e.Actor + ">"
	}
	return "handed over by <@" + e.Actor + ">"
}

// openingWhy says why the first TDO of inc leads, for the brief sent at
// open: the rotation that named them, for an incident someone else
// reported.
func openingWhy(inc *incident.Incident) string {
	why := "on call"
	if r := inc.Opening.Rotation; r != "" {
		why += " for the *" + escape(r) + "* rotation"
	}
	return why + "; reported by " + reporterRef(inc)
}

// deadlineText says where the diagnosis timebox stands at now, for the
// brief.
func deadlineText(inc *incident.Incident, now time.Time) string {
	t := inc.Timebox
	switch {
	case t.Generation == 0:
		return "no timebox running"
	case !t.EndedAt.IsZero():
		return "diagnosis ended " + clockText(t.EndedAt)
	case !now.Before(t.Deadline):
		return fmt.Sprintf("%s, passed %s ago: restore now or extend", clockText(t.Deadline), durationText(now.Sub(t.Deadline)))
	}
	return fmt.Sprintf("%s (in %s)", clockText(t.Deadline), durationText(t.Deadline.Sub(now)))
}

// suspectsText lists the changes the timeline marks suspect (and not
// cleared since), for the brief.
func suspectsText(timeline []incident.TimelineEntry) string {
	verdicts := incident.Verdicts(timeline)
	var suspects []incident.TimelineEntry
	for _, e := range verdicts {
		if e.Kind == incident.EntrySuspect {
			suspects = append(suspects, e)
		}
	}
	if len(suspects) == 0 {
		return "none marked"
	}
	sort.Slice(suspects, func(i, j int) bool { return suspects[i].ID < suspects[j].ID })
	lines := make([]string, 0, len(suspects))
	for _, e := range suspects[:min(len(suspects), 5)] {
		what, _ := strings.CutPrefix(e.Text, "Suspect change: ")
		lines = append(lines, "• "+escapeFit(what, 200))
	}
	if more := len(suspects) - 5; more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", more))
	}
	return strings.Join(lines, "\n")
}

// lastStatusText is the latest status change that came with a message:
// what the room or customers were last told.
func lastStatusText(timeline []incident.TimelineEntry) string {
	for i := len(timeline) - 1; i >= 0; i-- {
		e := timeline[i]
		if e.Kind != incident.EntryStatus && e.Kind != incident.EntryReopen {
			continue
		}
		if msg := entryMessage(e); msg != "" {
			return fmt.Sprintf("%s by <@%s> %s\n>%s", strings.SplitN(e.Text, ":", 2)[0], e.Actor, clockText(e.At), escapeFit(msg, 1200))
		}
	}
	return "none yet"
}

// briefView is the direct message that briefs a new TDO: where the incident
// stands (with the diagnosis deadline, the suspect changes and the last
// status message), why they lead, and its latest timeline.
func briefView(inc *incident.Incident, why, channelID string, timeline []incident.TimelineEntry, now time.Time) (string, []slack.Block) {
	title := fmt.Sprintf("You now lead %s: %s", inc.Ref(), inc.Title)
	systems := "none named"
	if len(inc.Systems) > 0 {
		systems = escape(strings.Join(inc.Systems, ", "))
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Status*\n" + inc.Status.Label()),
		mrkdwn("*Severity*\n" + inc.Severity.Label()),
		mrkdwn("*Systems*\n" + systems),
		mrkdwn("*Open for*\n" + durationText(now.Sub(inc.OpenedAt))),
		mrkdwn("*Channel*\n<#" + channelID + ">"),
		mrkdwn("*Why you*\n" + why),
	}
	var roles []string
	for _, role := range incident.Roles() {
		if u := inc.Roles[role]; u != "" {
			roles = append(roles, string(role)+" <@"+u+">")
		}
	}
	if len(roles) > 0 {
		fields = append(fields, mrkdwn("*Roles*\n"+strings.Join(roles, ", ")))
	}
	start := max(0, len(timeline)-briefEntries)
	var lines []string
	for _, t := range timeline[start:] {
		lines = append(lines, entryLine(t))
	}
	// Lines are escaped already; drop the oldest until the section fits.
	for len(lines) > 1 && len(strings.Join(lines, "\n")) > timelineSectionChars-40 {
		lines = lines[1:]
	}
	recent := fmt.Sprintf("*Last %d timeline entries*\n", len(lines)) + strings.Join(lines, "\n")
	if len(lines) == 1 {
		recent = "*The timeline so far*\n" + lines[0]
	}
	standing := []*slack.TextBlockObject{
		mrkdwn("*Diagnosis deadline*\n" + deadlineText(inc, now)),
		mrkdwn("*Suspect changes*\n" + suspectsText(timeline)),
		mrkdwn("*Last status message*\n" + lastStatusText(timeline)),
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(plainFit(title, 150))),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewSectionBlock(nil, standing, nil),
		slack.NewSectionBlock(mrkdwn(recent), nil, nil),
		slack.NewContextBlock("", mrkdwn("You lead until you hand over: `/incident tdo @someone [reason]`. The whole timeline: `/incident timeline`.")),
	}
	return escapeFit(title, 3000), blocks
}

// clockText shows t as a time of day in each reader's time zone.
func clockText(t time.Time) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{time}|" + t.UTC().Format("15:04 UTC") + ">"
}

// durationText says how long d is, as human.Duration does: "45 s",
// "12 min", "2 h 5 min", "7 days".
func durationText(d time.Duration) string { return human.Duration(d) }
