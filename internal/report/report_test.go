package report

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
)

var to = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func TestMarkdownOfAQuietDay(t *testing.T) {
	rv := incident.Review{From: to.Add(-24 * time.Hour), To: to, Currency: "USD", ParetoWindow: 30 * 24 * time.Hour,
		Pareto: incident.Pareto{Currency: "USD"}}
	want := `# Operations review, Tue 24 Nov 2026

Window: 2026-11-23 09:00 to 2026-11-24 09:00 (UTC).

## Incidents

No incidents were opened in the window.

## Open problems by customer cost

No open problems.

## Customer cost by problem, last 30 days

**No problems are linked to incidents in this period.**

- Ranked: USD 0 of customer cost from incidents linked to problems.

## Changes

0 changes logged; 0 marked suspect in an incident.
`
	if got := Markdown(rv, nil); got != want {
		t.Errorf("Markdown =\n%s\nwant\n%s", got, want)
	}
}

func TestParetoNotes(t *testing.T) {
	tests := []struct {
		tally incident.CostTally
		want  []string
	}{
		{incident.CostTally{Incidents: 3, Linked: 3, LinkedCosted: 3, Costed: 3, Total: 300, LinkedCost: 300}, nil},
		{incident.CostTally{Incidents: 4, Linked: 3, LinkedCosted: 2, Costed: 2, Shared: 1, Total: 200, LinkedCost: 200}, []string{
			"1 incident linked to several problems: each one's cost is split evenly among them.",
			"1 linked incident without a customer cost: not counted.",
			"1 incident with no problem linked is outside the ranking: no cost entered."}},
		{incident.CostTally{Incidents: 5, Linked: 2, LinkedCosted: 2, Costed: 4, Total: 900, LinkedCost: 500}, []string{
			"3 incidents with no problem linked are outside the ranking: USD 400 from 2 of them, 1 without a cost."}},
		{incident.CostTally{Incidents: 2, Linked: 1, LinkedCosted: 1, Costed: 2, Total: 900, LinkedCost: 500}, []string{
			"1 incident with no problem linked is outside the ranking: USD 400."}},
	}
	for _, tt := range tests {
		got := ParetoNotes(incident.Pareto{Currency: "USD", Tally: tt.tally})
		if len(got) == 0 || !strings.HasPrefix(got[0], "Ranked: ") {
			t.Fatalf("notes %q do not start with the ranked total", got)
		}
		if strings.Join(got[1:], "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("notes for %+v =\n%s\nwant\n%s", tt.tally, strings.Join(got[1:], "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestCellEscapesUserText(t *testing.T) {
	if got := cell("a <b> & c | d\ne"); got != `a &lt;b&gt; &amp; c \| d e` {
		t.Errorf("cell = %q", got)
	}
}

func TestWindowNameAndDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "all time", 24 * time.Hour: "last 24 hours", 72 * time.Hour: "last 3 days",
		6 * time.Hour: "last 6 hours", 90 * time.Minute: "last 1 h 30 min"} {
		if got := WindowName(d); got != want {
			t.Errorf("WindowName(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{45 * time.Second: "45 s", 12 * time.Minute: "12 min", 125 * time.Minute: "2 h 5 min", 7 * 24 * time.Hour: "7 days"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTimelineChartOfARunningIncident(t *testing.T) {
	inc := &incident.Incident{Number: 7, Title: "db down", OpenedAt: to.Add(-time.Hour), AcknowledgedAt: to.Add(-50 * time.Minute),
		Timebox: incident.Timebox{Generation: 1, StartedAt: to.Add(-time.Hour), Deadline: to.Add(-30 * time.Minute)}}
	svg, err := TimelineChart(inc, to, time.UTC, charts.SVG)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INC-7: db down", "customer impact", "diagnosis timebox", "diagnosis", "opened", "acknowledged"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the timeline SVG lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("restored")) {
		t.Error("a running incident is drawn as restored")
	}
	data, err := TimelineChart(inc, to, time.UTC, charts.PNG)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Error(err)
	}
}

// TestPrivateIncidentUnnamed draws and writes a review holding a private
// incident, redacted as everything shown to everyone is: its title and
// systems appear in no chart (SVG text) and nowhere in the Markdown, and
// it still counts.
func TestPrivateIncidentUnnamed(t *testing.T) {
	secret := incident.Incident{Number: 7, Title: "Zanzibar badge cloning", Systems: []string{"vaultdoor"}, Severity: incident.Sev1,
		Status: incident.StatusRestored, OpenedAt: to.Add(-3 * time.Hour), RestoredAt: to.Add(-2 * time.Hour), TDOID: "U1",
		Cost: &incident.Cost{Amount: 900}, Private: true}
	rv := incident.Review{From: to.Add(-24 * time.Hour), To: to, Currency: "USD", ParetoWindow: 30 * 24 * time.Hour,
		Pareto: incident.Pareto{Currency: "USD"}, Cost: 900, Location: time.UTC,
		Incidents: []incident.ReviewedIncident{{Incident: secret, Summary: incident.Summary{TDOs: []string{"U1"}}}}}
	rv = rv.Redacted()
	drawn, err := Charts(rv, charts.SVG)
	if err != nil {
		t.Fatal(err)
	}
	md := Markdown(rv, drawn)
	for _, c := range drawn {
		for _, s := range []string{string(c.Data), c.Name, c.Title, c.Alt} {
			if strings.Contains(s, "Zanzibar") || strings.Contains(s, "vaultdoor") {
				t.Errorf("chart %s names the private incident", c.Name)
			}
		}
	}
	if strings.Contains(md, "Zanzibar") || !strings.Contains(md, "| INC-7 "+incident.PrivateLabel+" | SEV1 |") ||
		!strings.Contains(md, "USD 900 from 1 costed incident") {
		t.Errorf("Markdown:\n%s", md)
	}
	timeline := drawn[len(drawn)-1]
	if timeline.Name != "timeline-INC-7.svg" || !strings.Contains(string(timeline.Data), "INC-7") {
		t.Errorf("the private incident's timeline chart is missing or unlabelled: %s", timeline.Name)
	}
}

// TestDocumentsNameNotID: the review's TDO chain and overdue owners, and
// the postmortem's facilitator, timeline, issues and actions, name people
// (as the timeline recorded them), never by their chat IDs.
func TestDocumentsNameNotID(t *testing.T) {
	names := map[string]string{"U0ALICE": "Alice Liddell", "U0BOB": "Bob Dobbs"}
	inc := incident.Incident{Number: 1, Title: "db down, <@U0BOB> on it", Severity: incident.Sev1, Status: incident.StatusResolved,
		ReporterID: "U0ALICE", TDOID: "U0ALICE", OpenedAt: to.Add(-2 * time.Hour)}
	handOff := incident.TimelineEntry{Actor: "U0ALICE", Kind: incident.EntryTDO, Subject: "U0BOB", Text: "Hand-off from U0ALICE",
		Facts: incident.Facts{From: "U0ALICE", To: "U0BOB", Names: map[string]string{"U0ALICE": "Alice Liddell", "U0BOB": "Bob Dobbs"}}}
	sum := incident.Summarize(&inc, []incident.TimelineEntry{handOff})
	rv := incident.Review{From: to.Add(-24 * time.Hour), To: to, Currency: "USD", Pareto: incident.Pareto{Currency: "USD"},
		Incidents: []incident.ReviewedIncident{{Incident: inc, Summary: sum}},
		Overdue:   []incident.OwnedAction{{IncidentID: 1, Issue: "no alarm", Action: incident.Action{Owner: "U0BOB", Expected: "alarm", Due: to.Add(-24 * time.Hour)}}},
		Names:     names}
	md := Markdown(rv, nil)
	for _, want := range []string{"| @Alice Liddell → @Bob Dobbs |", "alarm (issue: no alarm), @Bob Dobbs, due"} {
		if !strings.Contains(md, want) {
			t.Errorf("review lacks %q:\n%s", want, md)
		}
	}
	pm := &incident.Postmortem{Facilitator: "U0BOB", StartedBy: "U0ALICE", StartedAt: to, Phase: incident.PhaseActions,
		Timeline: []incident.PMEntry{{ID: 1, At: to, Text: "handed leadership over to <@U0BOB>", Kind: incident.EntryTDO, Actor: "U0ALICE", Subject: "U0BOB",
			Names: handOff.Facts.Names, Edits: []incident.Edit{{Text: "asked <@U0BOB>", EditedBy: "U0BOB"}}},
			{ID: 2, At: to, Text: "HighErrorRate resolved after 12 min", Kind: incident.EntryAlert, By: "Alertmanager"}},
		Issues:  []incident.Issue{{ID: 1, Text: "nobody paged <@U0ALICE>", AddedBy: "U0BOB"}},
		Actions: []incident.Action{{ID: 1, Issue: 1, Owner: "U0ALICE", Expected: "page", Due: to}}}
	doc := PostmortemMarkdown(&incident.PostmortemDocument{Incident: &inc, Postmortem: pm, Summary: sum, Names: names})
	for _, want := range []string{"Facilitated by @Bob Dobbs; started 2026-11-24 09:00 by @Alice Liddell", "db down, @Bob Dobbs on it",
		"| handed leadership over to @Bob Dobbs *(corrected by @Bob Dobbs; was 0001-01-01 00:00 \"asked @Bob Dobbs\")* | @Alice Liddell |",
		"nobody paged @Alice Liddell", "| 1 | page | @Alice Liddell |",
		"| HighErrorRate resolved after 12 min | Alertmanager |"} {
		if !strings.Contains(doc, want) {
			t.Errorf("postmortem lacks %q:\n%s", want, doc)
		}
	}
	for _, d := range []string{md, doc} {
		if strings.Contains(d, "U0") {
			t.Errorf("a document shows a user ID:\n%s", d)
		}
	}
	// A person with no name known is "someone", not an ID.
	if got := person("U0GHOST", nil); got != "someone" {
		t.Errorf("person without a name = %q", got)
	}
}

// TestTimelineChartDrawsEveryBox draws an incident whose first box was
// restarted with a reason and whose second ran past its deadline: both
// boxes and both diagnoses are rows, the first saying how it ended, so the
// chart agrees with the record's adherence.
func TestTimelineChartDrawsEveryBox(t *testing.T) {
	opened := to.Add(-2 * time.Hour)
	inc := &incident.Incident{Number: 8, Title: "checkout slow", OpenedAt: opened, RestoredAt: to.Add(-30 * time.Minute),
		Timebox: incident.Timebox{Generation: 3, StartedAt: opened.Add(16 * time.Minute), Length: 90 * time.Minute,
			Deadline: opened.Add(46 * time.Minute), EndedAt: to.Add(-30 * time.Minute), Restarts: 1,
			Earlier: []incident.Box{{StartedAt: opened, Length: 20 * time.Minute, Deadline: opened.Add(20 * time.Minute),
				EndedAt: opened.Add(16 * time.Minute), Ended: "restarted: new lead"}}}}
	spans := timeboxSpans(inc.Timebox, to)
	var labels []string
	for _, s := range spans {
		labels = append(labels, s.Label)
	}
	want := []string{"timebox 1 of 2, restarted", "diagnosis 1", "timebox 2 of 2", "diagnosis 2"}
	if !slices.Equal(labels, want) {
		t.Fatalf("rows = %q, want %q", labels, want)
	}
	if got := spans[1].End.Sub(spans[1].Start); got != 16*time.Minute {
		t.Errorf("the first diagnosis lasted %v on the chart, want 16m (it was restarted then)", got)
	}
	svg, err := TimelineChart(inc, to, time.UTC, charts.SVG)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !bytes.Contains(svg, []byte(w)) {
			t.Errorf("the timeline SVG lacks row %q", w)
		}
	}
}
