package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// PostmortemMarkdown writes a postmortem as a Markdown document: title,
// summary of the incident's facts, the timeline (with what corrections
// replaced), the issues, and the actions with owners and due dates. People
// are shown by name (as the timeline recorded them), never by ID.
func PostmortemMarkdown(d *incident.PostmortemDocument) string {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	inc, pm := d.Incident, d.Postmortem
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	names := d.Names
	who := func(u string) string { return person(u, names) }
	cell := func(s string) string { return cellNames(s, names) }
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# Postmortem: %s %s\n\n", inc.Ref(), cell(inc.Title))
	state := "Complete since " + at(pm.CompletedAt)
	if pm.Phase != incident.PhaseComplete {
		state = "In progress, " + pm.Phase.Label()
	}
	w("%s. Facilitated by %s; started %s by %s. Times are %s.\n\n", state, who(pm.Facilitator), at(pm.StartedAt), who(pm.StartedBy), loc)

	w("## Summary\n\n")
	w("| | |\n|---|---|\n")
	w("| Severity | %s |\n", inc.Severity.Label())
	if len(inc.Systems) > 0 {
		w("| Systems | %s |\n", cell(strings.Join(inc.Systems, ", ")))
	}
	w("| Opened | %s |\n", at(inc.OpenedAt))
	if !inc.AcknowledgedAt.IsZero() {
		w("| Acknowledged | %s (after %s) |\n", at(inc.AcknowledgedAt), Duration(inc.AcknowledgedAt.Sub(inc.OpenedAt)))
	}
	if d.Summary.Restored {
		w("| Restored | %s (time to restore %s) |\n", at(inc.RestoredAt), Duration(d.Summary.TimeToRestore))
	}
	if !inc.ResolvedAt.IsZero() {
		w("| Resolved | %s (after %s) |\n", at(inc.ResolvedAt), Duration(d.Summary.TimeToResolve))
	}
	w("| Technical duty officers | %s |\n", tdoCell(d.Summary, names))
	w("| Customer cost | %s |\n", costCell(inc.Cost))
	if d.Summary.HasTimebox {
		w("| Diagnosis timebox | %s |\n", timeboxCell(d.Summary))
	}
	if len(inc.Problems) > 0 {
		refs := make([]string, len(inc.Problems))
		for i, id := range inc.Problems {
			refs[i] = "PRB-" + strconv.FormatInt(id, 10)
		}
		w("| Problems | %s |\n", strings.Join(refs, ", "))
	}
	w("\n")
	if inc.Description != "" {
		w("%s\n\n", cell(inc.Description))
	}
	if len(d.Suspects) > 0 {
		w("Suspect changes:\n\n")
		for _, c := range d.Suspects {
			line := fmt.Sprintf("%s %s: %s, by %s", at(c.OccurredAt), cell(strings.Join(c.Systems, ",")), cell(c.Summary), cell(c.Person))
			if c.Reason != "" {
				line += " (because " + cell(c.Reason) + ")"
			}
			w("- %s\n", line)
		}
		w("\n")
	}

	w("## Timeline\n\n| Time | What happened | Who |\n|---|---|---|\n")
	for _, e := range pm.Timeline {
		entryNames := func(u string) string {
			if n := e.Names[u]; n != "" {
				return n
			}
			return names[u]
		}
		what := cellEscaper.Replace(slacktext.PlainNames(e.Text, entryNames))
		if n := len(e.Edits); n > 0 {
			last := e.Edits[n-1]
			what += fmt.Sprintf(" *(corrected by %s; was %s \"%s\")*", who(last.EditedBy), at(last.At), cellNames(last.Text, names))
		}
		actor := ""
		switch {
		case e.Actor != "":
			actor = person(e.Actor, map[string]string{e.Actor: entryNames(e.Actor)})
		case e.By != "":
			// Monitoring wrote it: the product is who.
			actor = cellEscaper.Replace(e.By)
		}
		w("| %s | %s | %s |\n", at(e.At), what, actor)
	}
	w("\n## Issues\n\n")
	if len(pm.Issues) == 0 {
		w("None raised yet.\n\n")
	}
	for _, is := range pm.Issues {
		w("%d. %s", is.ID, cell(is.Text))
		if e := pm.Entry(is.Entry); e != nil {
			w(" (at %s: %s)", at(e.At), cell(truncate(e.Text, 80)))
		}
		w(", raised by %s\n", who(is.AddedBy))
	}
	if len(pm.Issues) > 0 {
		w("\n")
	}
	w("## Actions\n\n")
	if len(pm.Actions) == 0 {
		w("None yet.\n")
	} else {
		w("| Issue | Action: expected result | Owner | Due | Status |\n|---|---|---|---|---|\n")
		for _, a := range pm.Actions {
			status := "open"
			if a.Done() {
				status = "done " + a.DoneAt.In(loc).Format("2006-01-02")
			}
			w("| %d | %s | %s | %s | %s |\n", a.Issue, cell(a.Expected), who(a.Owner), a.Due.In(loc).Format("2006-01-02"), status)
		}
	}
	if left := pm.Unaddressed(); len(left) > 0 && pm.Phase != incident.PhaseComplete {
		ids := make([]string, len(left))
		for i, is := range left {
			ids[i] = strconv.Itoa(is.ID)
		}
		w("\nIssues without an action yet: %s.\n", strings.Join(ids, ", "))
	}
	return b.String()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
