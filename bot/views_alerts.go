package bot

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

// Alert intake's Block Kit: the triage message of a group, the storm
// digest, the three triage forms and the lines that show alerts on an
// incident. Text from monitoring is untrusted and never sitrep text: it
// goes through alertText, which escapes every '&', '<' and '>' (so an
// alert can neither mention nor link anyone) and cuts to Slack's limits.

// Action, callback and block IDs of alert triage.
const (
	actionAlertDeclare = "alert_declare"
	actionAlertAttach  = "alert_attach"
	actionAlertDismiss = "alert_dismiss"

	callbackAlertDeclare = "alert_declare"
	callbackAlertAttach  = "alert_attach"
	callbackAlertDismiss = "alert_dismiss"

	blockAlertIncident = "incident"
	blockAlertReason   = "reason"
)

// The effects of alert intake (see once.go): the triage message, key the
// group ("ALR-12"); the storm digest, key the route and minute; an alert
// line in an incident's room, key the timeline entry.
const (
	effectAlertTriage = "sitrep_alert_triage"
	effectAlertDigest = "sitrep_alert_digest"
	effectAlertRoom   = "sitrep_alert_room"
)

// Bounds of what a triage message shows of one alert.
const (
	// maxAlertLabels is how many labels it lists; the rest are counted.
	maxAlertLabels = 12
	// maxAlertLabel bounds one label's name=value, in characters.
	maxAlertLabel = 120
	// maxAlertDetails bounds the details shown, in characters.
	maxAlertDetails = 1500
	// maxDigestTitles is how many titles a storm digest names.
	maxDigestTitles = 10
	// maxIncidentAlerts is how many alerts /incident alerts lists.
	maxIncidentAlerts = 25
)

// alertText is text from monitoring for mrkdwn: every '&', '<' and '>'
// escaped (an alert never mentions, links or pings), invalid UTF-8
// replaced, and cut so the escaped text is at most n characters, never
// inside an entity, ending with "…" when cut.
func alertText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	if full := esc.Replace(s); utf8.RuneCountInString(full) <= n {
		return full
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := esc.Replace(string(r))
		w := utf8.RuneCountInString(piece)
		if used+w > n-1 {
			break
		}
		b.WriteString(piece)
		used += w
	}
	return b.String() + "…"
}

// alertPlain is text from monitoring for plain_text (a header): one line,
// escaped as every plain_text sitrep writes, cut to n characters.
func alertPlain(s string, n int) string {
	return alertText(incident.NormalizeTitle(strings.ToValidUTF8(s, "\uFFFD")), n)
}

// alertInput is text from monitoring as a form's initial value: one line,
// as written (a form's input is not mrkdwn), cut to n characters.
func alertInput(s string, n int) string {
	return truncate(incident.NormalizeTitle(strings.ToValidUTF8(s, "\uFFFD")), n)
}

// alertLink renders link as a mrkdwn link labelled label, or "" when it is
// not an http(s) URL that fits: a link from monitoring may hold anything.
func alertLink(link, label string) string {
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(link, "https://") && !strings.HasPrefix(link, "http://") || len(link) > 2000 ||
		strings.ContainsAny(link, " \t\r\n") {
		return ""
	}
	link = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "%7C").Replace(link)
	return "<" + link + "|" + label + ">"
}

// sinceText says how long from from to to, in whole minutes at least:
// "12 min", "less than a minute".
func sinceText(from, to time.Time) string {
	d := to.Sub(from)
	if d < time.Minute {
		return "less than a minute"
	}
	return durationText(d.Truncate(time.Minute))
}

// groupStatus says where g stands: firing (how many), or resolved after
// how long, and, once all of its alerts are, says so.
func groupStatus(g alert.Group) string {
	if g.Status == alert.StatusResolved {
		after := sinceText(g.FirstSeen, g.ResolvedAt)
		if g.Received > 1 {
			return ":white_check_mark: All alerts resolved, after " + after
		}
		return ":white_check_mark: Resolved after " + after
	}
	if g.Firing > 1 {
		return fmt.Sprintf(":red_circle: Firing (%d alerts)", g.Firing)
	}
	return ":red_circle: Firing"
}

// severityText shows the severity an incident would take, with the
// source's own word: "SEV1 · critical".
func severityText(g alert.Group, sev incident.Severity) string {
	if g.Severity == "" {
		return sev.Label()
	}
	return sev.Label() + " · " + alertText(g.Severity, 50)
}

// labelsText lists g's labels, sorted, at most maxAlertLabels of them.
func labelsText(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	var parts []string
	for i, k := range keys {
		if i == maxAlertLabels {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-i))
			break
		}
		parts = append(parts, "`"+alertText(strings.ReplaceAll(k+"="+labels[k], "`", "'"), maxAlertLabel)+"`")
	}
	return strings.Join(parts, " ")
}

// decisionText says what was made of g: declared, attached, not an
// incident (with the reason), opened or logged by its route. inc is the
// incident it opened or joined, nil if none.
func decisionText(g alert.Group, inc *incident.Incident) string {
	ref := "an incident"
	if inc != nil {
		ref = "*" + inc.Ref() + "*"
	}
	by := ""
	if g.DecidedBy != "" {
		by = " by <@" + g.DecidedBy + ">"
	}
	switch g.Decision {
	case alert.DecisionDeclared:
		return ":rotating_light: Declared as " + ref + by
	case alert.DecisionAttached:
		return ":link: Attached to " + ref + by
	case alert.DecisionDismissed:
		line := ":heavy_minus_sign: Not an incident: " + alertText(g.Reason, alert.MaxReason+100)
		if g.DecidedBy != "" {
			line += " — <@" + g.DecidedBy + ">"
		}
		return line
	case alert.DecisionOpened:
		return ":rotating_light: Opened " + ref + " at once (route " + alertText(g.Route, 100) + ")"
	case alert.DecisionLogged:
		return ":memo: Logged as a change (route " + alertText(g.Route, 100) + ")"
	}
	return ""
}

// triageView is g's triage message: what the alert is, how often it came
// and where it stands, and either the three buttons or, once decided,
// what was decided. sev is the severity an incident would take; inc the
// incident g opened or joined (nil if none).
func triageView(g alert.Group, sev incident.Severity, inc *incident.Incident) (string, []slack.Block) {
	const prefix = ":rotating_light: "
	suffix := ""
	if g.Received > 1 {
		suffix = " ×" + strconv.Itoa(g.Received)
	}
	title := prefix + alertPlain(g.Title, 150-utf8.RuneCountInString(prefix+suffix)) + suffix
	fields := []*slack.TextBlockObject{
		mrkdwn("*Severity*\n" + severityText(g, sev)),
		mrkdwn("*Status*\n" + groupStatus(g)),
		mrkdwn("*Source*\n" + alertText(g.Source.Name(), 100)),
		mrkdwn("*Received*\n×" + strconv.Itoa(g.Received)),
		mrkdwn("*First seen*\n" + slackDate(g.FirstSeen)),
		mrkdwn("*Last seen*\n" + slackDate(g.LastSeen)),
	}
	if len(g.Systems) > 0 {
		fields = append(fields, mrkdwn("*Systems*\n"+alertText(strings.Join(g.Systems, ", "), 500)))
	}
	if l := alertLink(g.Link, "Open in "+alertText(g.Source.Name(), 50)); l != "" {
		fields = append(fields, mrkdwn("*Link*\n"+l))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(title)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if d := strings.TrimSpace(g.Details); d != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(alertText(d, maxAlertDetails)), nil, nil))
	}
	if len(g.Labels) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(labelsText(g.Labels))))
	}
	id := strconv.FormatInt(g.ID, 10)
	if line := decisionText(g, inc); line != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, nil))
	} else {
		blocks = append(blocks, slack.NewActionBlock("alert_actions",
			slack.NewButtonBlockElement(actionAlertDeclare, id, plain("Declare incident")).WithStyle(slack.StyleDanger),
			slack.NewButtonBlockElement(actionAlertAttach, id, plain("Attach to incident")),
			slack.NewButtonBlockElement(actionAlertDismiss, id, plain("Not an incident")),
		))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(g.Ref()+" · route "+alertText(g.Route, 100))))
	text := fmt.Sprintf("%s %s alert: %s (%s)", g.Ref(), alertText(g.Source.Name(), 50), alertText(g.Title, 2000),
		strings.TrimPrefix(strings.TrimPrefix(groupStatus(g), ":red_circle: "), ":white_check_mark: "))
	return text, blocks
}

// digestView is the storm digest of route's minute: how many new alerts
// came over the route's limit, and the most frequent titles among them.
// groups are the minute's storm groups (all of them).
func digestView(route string, minute time.Time, groups []alert.Group) (string, []slack.Block) {
	counts := map[string]int{}
	received, resolved := 0, 0
	for _, g := range groups {
		counts[g.Title]++
		received += g.Received
		if g.Status == alert.StatusResolved {
			resolved++
		}
	}
	titles := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b))
	})
	at := "<!date^" + strconv.FormatInt(minute.Unix(), 10) + "^{time}|" + minute.UTC().Format("15:04 UTC") + ">"
	head := fmt.Sprintf(":ocean: *Alert storm:* %s on route *%s* in the minute from %s, over its limit: they have no message of their own.",
		count(len(groups), "new alert"), alertText(route, 100), at)
	var lines []string
	for i, t := range titles {
		if i == maxDigestTitles {
			lines = append(lines, fmt.Sprintf("… and %d more titles", len(titles)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("• ×%d %s", counts[t], alertText(t, 200)))
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	if len(lines) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Top titles*\n"+strings.Join(lines, "\n")), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%s received in all · %d resolved since · this message is updated as more arrive",
		count(received, "alert"), resolved))))
	text := fmt.Sprintf("Alert storm: %s on route %s in the minute from %s", count(len(groups), "new alert"), alertText(route, 100),
		minute.UTC().Format("15:04 UTC"))
	return text, blocks
}

// declareModal is the open-incident form, prefilled from g: title (cut to
// incident.MaxTitle; the whole title goes into the description),
// severity, systems and the details. Its metadata is the group's ID.
func declareModal(g alert.Group, sev incident.Severity) slack.ModalViewRequest {
	v := openModal(strconv.FormatInt(g.ID, 10), false)
	v.CallbackID = callbackAlertDeclare
	v.Title = plain("Declare incident")
	v.Submit = plain("Declare")
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		switch in.BlockID {
		case blockTitle:
			in.Element.(*slack.PlainTextInputBlockElement).InitialValue = alertInput(g.Title, incident.MaxTitle)
		case blockSeverity:
			sel := in.Element.(*slack.SelectBlockElement)
			if sev.Valid() {
				sel.InitialOption = sel.Options[sev-1]
			}
		case blockSystems:
			in.Element.(*slack.PlainTextInputBlockElement).InitialValue = strings.Join(validSystems(g.Systems), ", ")
		case blockDescription:
			in.Element.(*slack.PlainTextInputBlockElement).InitialValue = alertDescription(g)
		}
	}
	return v
}

// validSystems keeps the systems an incident accepts, at most
// incident.MaxSystems.
func validSystems(systems []string) []string {
	var out []string
	for _, s := range systems {
		if n, err := incident.NormalizeSystem(s); err == nil && !slices.Contains(out, n) && len(out) < incident.MaxSystems {
			out = append(out, n)
		}
	}
	return out
}

// alertDescription is an incident's description drawn from g: the source,
// the whole title when cut, the details and the link, within
// incident.MaxDescription.
func alertDescription(g alert.Group) string {
	var parts []string
	head := g.Source.Name() + " alert " + g.Ref()
	if utf8.RuneCountInString(incident.NormalizeTitle(g.Title)) > incident.MaxTitle {
		head += ": " + incident.NormalizeTitle(g.Title)
	}
	parts = append(parts, head)
	if d := strings.TrimSpace(g.Details); d != "" {
		parts = append(parts, d)
	}
	if g.Link != "" && alertLink(g.Link, "x") != "" {
		parts = append(parts, g.Link)
	}
	return truncate(incident.CleanText(strings.ToValidUTF8(strings.Join(parts, "\n"), "\uFFFD")), incident.MaxDescription)
}

// attachModal asks which open incident g joins. open are the incidents it
// may join, newest first (at most 100, Slack's limit on a select); private
// ones are shown redacted.
func attachModal(g alert.Group, open []incident.Incident) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	for _, inc := range open {
		if len(options) == 100 {
			break
		}
		r := inc.Redacted()
		options = append(options, slack.NewOptionBlockObject(strconv.FormatInt(inc.ID, 10),
			plain(plainFit(r.Ref()+" "+r.Severity.Label()+" · "+r.Title, 75)), nil))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn("Attach *"+g.Ref()+"* ("+alertText(g.Title, 200)+") to an open incident: it is listed on the incident and its repeats and resolution are told there."), nil, nil),
	}
	if len(options) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("No incident is open. Declare one instead."), nil, nil))
		return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Attach to incident"), Close: plain("Close"), Blocks: slack.Blocks{BlockSet: blocks}}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose an incident"), blockAlertIncident, options...)
	blocks = append(blocks, slack.NewInputBlock(blockAlertIncident, plain("Incident"), nil, sel))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackAlertAttach, PrivateMetadata: strconv.FormatInt(g.ID, 10),
		Title: plain("Attach to incident"), Submit: plain("Attach"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// dismissModal asks why g is not an incident; the reason is kept.
func dismissModal(g alert.Group) slack.ModalViewRequest {
	reason := slack.NewPlainTextInputBlockElement(plain("planned maintenance, a test alert…"), blockAlertReason)
	reason.MaxLength = alert.MaxReason
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackAlertDismiss, PrivateMetadata: strconv.FormatInt(g.ID, 10),
		Title: plain("Not an incident"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn("*"+g.Ref()+"* "+alertText(g.Title, 200)), nil, nil),
			slack.NewInputBlock(blockAlertReason, plain("Why is it not an incident?"), plain("Kept with the alert, and shown on its message."), reason),
		}},
	}
}

// reporterRef shows who reported inc: a mention of the person, or the
// name of the monitoring that did (bold, escaped).
func reporterRef(inc *incident.Incident) string {
	name, person := inc.Reporter()
	if person {
		return "<@" + name + ">"
	}
	if name == "" {
		return "_unknown_"
	}
	return "*" + alertText(name, incident.MaxReportedBy) + "*"
}

// alertEntryText renders an alert timeline entry: "Alertmanager:
// HighErrorRate — error rate 12% (link)", cut to n characters before the
// link.
func alertEntryText(e incident.TimelineEntry, n int) string {
	line := alertText(e.Text, n)
	if e.Facts.Source != "" {
		line = "*" + alertText(e.Facts.Source, incident.MaxReportedBy) + "*: " + line
	}
	if l := alertLink(e.Facts.Link, "link"); l != "" {
		line += " (" + l + ")"
	}
	return line
}

// alertLine is one group as an incident shows it: ":rotating_light:
// Opened by Alertmanager: HighErrorRate ×12 (firing)".
func alertLine(g alert.Group) string {
	how := "Joined by"
	switch g.Decision {
	case alert.DecisionOpened:
		how = "Opened by"
	case alert.DecisionDeclared:
		how = "Declared from"
	case alert.DecisionAttached:
		how = "Attached:"
	}
	state := "firing"
	if g.Status == alert.StatusResolved {
		state = "resolved after " + sinceText(g.FirstSeen, g.ResolvedAt)
	}
	line := fmt.Sprintf(":rotating_light: %s %s: %s ×%d (%s, last %s)", how, alertText(g.Source.Name(), 50), alertText(g.Title, 200),
		g.Received, state, slackDate(g.LastSeen))
	if l := alertLink(g.Link, "link"); l != "" {
		line += " " + l
	}
	return line
}

// incidentAlertsView lists the alerts that opened or joined inc, for
// /incident alerts.
func incidentAlertsView(inc *incident.Incident, groups []alert.Group) (string, []slack.Block) {
	if len(groups) == 0 {
		text := ":information_source: No alert opened or joined " + inc.Ref() + ". Alerts join an incident from their triage message (*Attach to incident*)."
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	title := fmt.Sprintf("Alerts of %s (%d)", inc.Ref(), len(groups))
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title))}
	for i, g := range groups {
		if i == maxIncidentAlerts {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %s more.", count(len(groups)-i, "alert")))))
			break
		}
		line := "*" + g.Ref() + "* " + alertLine(g)
		if d := strings.TrimSpace(g.Details); d != "" {
			line += "\n>" + alertText(strings.Join(strings.Fields(d), " "), 300)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(line, 3000)), nil, nil))
	}
	return title, blocks
}

// alertResolvedText is the timeline entry of g resolving: "HighErrorRate
// resolved after 12 min".
func alertResolvedText(g alert.Group) string {
	return incident.NormalizeTitle(g.Title) + " resolved after " + sinceText(g.FirstSeen, g.ResolvedAt)
}

// alertOpenedText is the timeline entry of the alert that opened or
// joined an incident: "HighErrorRate — error rate 12% on checkout".
func alertOpenedText(g alert.Group) string {
	text := incident.NormalizeTitle(g.Title)
	if d := strings.Join(strings.Fields(g.Details), " "); d != "" {
		text += " — " + d
	}
	return truncate(text, 500)
}
