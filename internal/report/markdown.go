package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// TopProblems is how many open problems a review lists.
const TopProblems = 5

// Markdown writes the review as a Markdown document. charts are linked
// by file name, in the order given; people are shown by name, never ID.
func Markdown(rv incident.Review, charts []Chart) string {
	loc := rv.Location
	if loc == nil {
		loc = time.UTC
	}
	cell := func(s string) string { return cellNames(s, rv.Names) }
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Operations review, %s\n\n", rv.To.In(loc).Format("Mon 2 Jan 2006"))
	w("Window: %s to %s (%s).\n\n", rv.From.In(loc).Format("2006-01-02 15:04"), rv.To.In(loc).Format("2006-01-02 15:04"), loc)

	w("## Incidents\n\n")
	if len(rv.Incidents) == 0 {
		w("No incidents were opened in the window.\n\n")
	} else {
		w("| Incident | Severity | Status | Customer cost | Time to restore | TDO | Diagnosis timebox |\n")
		w("|---|---|---|---|---|---|---|\n")
		for _, ri := range rv.Incidents {
			inc := ri.Incident
			w("| %s %s | %s | %s | %s | %s | %s | %s |\n", inc.Ref(), cell(inc.Title), inc.Severity.Label(), inc.Status.Label(),
				costCell(inc.Cost), ttrCell(&inc), tdoCell(ri.Summary, rv.Names), timeboxCell(ri.Summary))
		}
		w("\n%s\n\n", CostSentence(rv))
	}

	w("## Open problems by customer cost\n\n")
	if len(rv.Open.Rows) == 0 {
		w("No open problems.\n\n")
	} else {
		for i, r := range rv.Open.Rows[:min(len(rv.Open.Rows), TopProblems)] {
			w("%d. %s\n", i+1, problemLine(r, rv.Open.Currency))
		}
		if more := len(rv.Open.Rows) - TopProblems; more > 0 {
			w("\n…and %d more open problems.\n", more)
		}
		w("\n")
	}

	w("## %s\n\n", ParetoTitle(rv.ParetoWindow))
	p := rv.Pareto
	w("**%s**\n\n", cell(p.Headline()))
	if len(p.Rows) > 0 {
		w("| # | Problem | Cost | Share | Cumulative | Vital few |\n|---|---|---|---|---|---|\n")
		for i, r := range p.Rows[:min(len(p.Rows), 20)] {
			vital := ""
			if r.VitalFew {
				vital = "yes"
			}
			w("| %d | %s %s | %s | %s | %s | %s |\n", i+1, r.Problem.Ref(), cell(r.Problem.Title),
				incident.FormatMoney(p.Currency, r.Cost), incident.Percent(r.Share), incident.Percent(r.Cumulative), vital)
		}
		if more := len(p.Rows) - 20; more > 0 {
			w("\n…and %d more problems in the chart.\n", more)
		}
		w("\n")
	}
	for _, n := range ParetoNotes(p) {
		w("- %s\n", n)
	}
	w("\n")

	w("## Changes\n\n%s\n\n", ChangesSentence(rv))
	if len(rv.Overdue) > 0 {
		w("## Overdue postmortem actions\n\n")
		for _, oa := range rv.Overdue {
			a := oa.Action
			w("- %s (issue: %s), %s, due %s\n", cell(a.Expected), cell(oa.Issue), person(a.Owner, rv.Names), a.Due.In(loc).Format("2006-01-02"))
		}
		w("\n")
	}
	if s := TimeboxSentence(rv); s != "" {
		w("## Timebox adherence\n\n%s\n\n", s)
	}
	if len(charts) > 0 {
		w("## Charts\n\n")
		for _, c := range charts {
			w("![%s](%s)\n\n", cell(c.Alt), c.Name)
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// CostSentence sums the window's customer cost and says how many incidents
// have none entered.
func CostSentence(rv incident.Review) string {
	costed := len(rv.Incidents) - rv.Uncosted
	s := fmt.Sprintf("Customer cost: %s from %s.", incident.FormatMoney(rv.Currency, rv.Cost), plural(costed, "costed incident"))
	if rv.Uncosted > 0 {
		s += fmt.Sprintf(" %s no cost entered: not counted, not zero.", haveHas(rv.Uncosted))
	}
	return s
}

// ChangesSentence says how many changes were logged and marked suspect.
func ChangesSentence(rv incident.Review) string {
	n := strconv.Itoa(rv.Changes)
	if rv.ChangesCapped {
		n = "more than " + n
	}
	noun := "changes"
	if rv.Changes == 1 && !rv.ChangesCapped {
		noun = "change"
	}
	return fmt.Sprintf("%s %s logged; %d marked suspect in an incident.", n, noun, rv.Suspect)
}

// TimeboxSentence sums up how diagnosis timeboxes were kept; "" if none ran.
func TimeboxSentence(rv incident.Review) string {
	if rv.Timeboxes == 0 {
		return ""
	}
	return fmt.Sprintf("%s a diagnosis timebox: %d restored within it, %d extended.",
		haveHas(rv.Timeboxes), rv.Kept, rv.Extended)
}

// ParetoNotes says what the ranking counts and leaves out, so nothing
// unknown passes for zero.
func ParetoNotes(p incident.Pareto) []string {
	t := p.Tally
	notes := []string{fmt.Sprintf("Ranked: %s of customer cost from incidents linked to problems.", incident.FormatMoney(p.Currency, p.Total))}
	if t.Shared > 0 {
		notes = append(notes, fmt.Sprintf("%s linked to several problems: each one's cost is split evenly among them.", plural(t.Shared, "incident")))
	}
	if unc := t.Linked - t.LinkedCosted; unc > 0 {
		notes = append(notes, fmt.Sprintf("%s without a customer cost: not counted.", plural(unc, "linked incident")))
	}
	if un := t.Incidents - t.Linked; un > 0 {
		costed := t.Costed - t.LinkedCosted
		note := fmt.Sprintf("%s with no problem linked %s outside the ranking", plural(un, "incident"), isAre(un))
		switch {
		case costed == 0:
			note += ": no cost entered."
		case costed == un:
			note += fmt.Sprintf(": %s.", incident.FormatMoney(p.Currency, t.Total-t.LinkedCost))
		default:
			note += fmt.Sprintf(": %s from %d of them, %d without a cost.", incident.FormatMoney(p.Currency, t.Total-t.LinkedCost), costed, un-costed)
		}
		notes = append(notes, note)
	}
	return notes
}

func problemLine(r incident.ParetoRow, currency string) string {
	s := fmt.Sprintf("%s %s: %s, %s", r.Problem.Ref(), cell(r.Problem.Title), incident.FormatMoney(currency, r.Cost), plural(r.Incidents, "incident"))
	if r.Uncosted > 0 {
		s += fmt.Sprintf(" (%d without a cost)", r.Uncosted)
	}
	return s
}

func costCell(c *incident.Cost) string {
	if c == nil {
		return "not entered"
	}
	return c.Label()
}

func ttrCell(inc *incident.Incident) string {
	if d, ok := inc.TimeToRestore(); ok {
		return Duration(d)
	}
	return "not restored"
}

// tdoCell writes the TDO chain by name, "@Alice → @Bob", each as named
// when they took over (hand-overs to the same TDO are refused, so the
// chain has no repeats).
func tdoCell(sum incident.Summary, names map[string]string) string {
	out := make([]string, len(sum.TDOs))
	for i, u := range sum.TDOs {
		out[i] = person(u, names)
		if i < len(sum.TDONames) && sum.TDONames[i] != "" {
			out[i] = "@" + cellEscaper.Replace(sum.TDONames[i])
		}
	}
	return strings.Join(out, " → ")
}

// person names a user for a document: "@" and their name, or "someone"
// when no name is known (a raw ID is never shown).
func person(user string, names map[string]string) string {
	if n := names[user]; n != "" {
		return "@" + cellEscaper.Replace(n)
	}
	if user == "" {
		return "sitrep"
	}
	return "someone"
}

// cellNames is cell with mentions written as the names given.
func cellNames(s string, names map[string]string) string {
	return cellEscaper.Replace(slacktext.PlainNames(s, func(id string) string { return names[id] }))
}

func timeboxCell(s incident.Summary) string {
	if !s.HasTimebox {
		return "none"
	}
	a := s.Timebox
	out := Duration(a.Used) + " of " + Duration(a.Allowed)
	switch {
	case a.Running:
		out += ", running"
	case a.Over > 0:
		out += ", " + Duration(a.Over) + " over"
	default:
		out += ", kept"
	}
	if n := len(a.Boxes); n > 1 {
		// Every box counts: a restart must not hide an earlier overrun.
		out += fmt.Sprintf(" (box %d of %d; %d restarts, %d overruns)", n, n, a.Restarts, a.Overruns)
	}
	return out
}

// Duration writes a duration for people, as human.Duration does: "45 s",
// "12 min", "2 h 5 min", "7 days".
func Duration(d time.Duration) string { return human.Duration(d) }

// cell makes user text (sitrep text, see internal/slacktext) safe in
// Markdown: mentions written as names ("@bob"), HTML's &, < and > escaped,
// table pipes escaped, lines joined.
func cell(s string) string {
	return cellEscaper.Replace(slacktext.Plain(s))
}

var cellEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "\n", " ", "\r", " ")

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// haveHas writes "1 incident has", "3 incidents have".
func haveHas(n int) string {
	if n == 1 {
		return "1 incident has"
	}
	return strconv.Itoa(n) + " incidents have"
}
