package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/blockkit"
)

// fullPostmortem is a postmortem at its limits: the most entries, issues
// and actions, every text as long as allowed.
func fullPostmortem(phase incident.Phase) (*incident.Incident, *incident.Postmortem) {
	at := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	long := strings.Repeat("<é&", incident.MaxPMText/3)
	inc := &incident.Incident{ID: 1, Number: 1, Title: strings.Repeat("<!channel> ", 12), OpenedAt: at}
	pm := &incident.Postmortem{IncidentID: 1, Facilitator: "U1", Phase: phase, StartedAt: at, CompletedAt: at}
	for i := 1; i <= incident.MaxPMEntries; i++ {
		pm.Timeline = append(pm.Timeline, incident.PMEntry{ID: i, At: at.Add(time.Duration(i) * time.Minute), Text: long, Actor: "U1",
			Edits: []incident.Edit{{Text: "x", EditedBy: "U2"}, {Text: "y", EditedBy: "U3"}}})
	}
	for i := 1; i <= incident.MaxIssues; i++ {
		pm.Issues = append(pm.Issues, incident.Issue{ID: i, Text: long, Entry: i, AddedBy: "U2"})
		pm.Actions = append(pm.Actions, incident.Action{ID: i, Issue: i, Owner: "U3", Expected: long, Due: at.AddDate(0, 0, i)},
			incident.Action{ID: 100 + i, Issue: i, Owner: "U4", Expected: long, Due: at.AddDate(0, 0, i)})
	}
	return inc, pm
}

func TestPostmortemViewWithinSlackLimits(t *testing.T) {
	t.Parallel()
	for _, phase := range []incident.Phase{incident.PhaseTimeline, incident.PhaseIssues, incident.PhaseActions, incident.PhaseComplete} {
		inc, pm := fullPostmortem(phase)
		text, blocks := postmortemView(inc, pm, time.UTC)
		raw, err := json.Marshal(map[string]any{"text": text, "blocks": blocks})
		if err != nil {
			t.Fatal(err)
		}
		if err := blockkit.CheckMessage(raw); err != nil {
			t.Errorf("%s: %v", phase, err)
		}
		if strings.Contains(string(raw), "<!channel>") || strings.Contains(string(raw), `\u003c!channel`) {
			t.Errorf("%s: user text unescaped", phase)
		}
	}
	inc, pm := fullPostmortem(incident.PhaseActions)
	for _, v := range []any{entryModal(inc, &pm.Timeline[0], time.UTC, false), issueModal(inc, &pm.Timeline[0]), actionModal(inc, pm, pm.StartedAt)} {
		raw, _ := json.Marshal(v)
		if err := blockkit.CheckModal(raw); err != nil {
			t.Errorf("modal: %v", err)
		}
	}
	_, notice := actionNoticeView(incident.JobActionOverdue, inc, pm, &pm.Actions[0], time.UTC)
	raw, _ := json.Marshal(notice)
	if err := blockkit.CheckMessage(raw); err != nil {
		t.Errorf("notice: %v", err)
	}
}

// BenchmarkPostmortemView renders the postmortem message at its limits
// (300 entries, 40 issues, 80 actions, every text 1,000 characters).
func BenchmarkPostmortemView(b *testing.B) {
	inc, pm := fullPostmortem(incident.PhaseIssues)
	b.ReportAllocs()
	for b.Loop() {
		_, blocks := postmortemView(inc, pm, time.UTC)
		mustJSON(b, blocks)
	}
}
