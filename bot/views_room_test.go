package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/blockkit"
)

// TestFitParts: the header carries "what changed?" and the plan of attack
// while the message stays within Slack's 50 blocks however the header and
// the plan grow; the plan goes in first when both do not fit.
func TestFitParts(t *testing.T) {
	t.Parallel()
	blocks := func(n int) []slack.Block {
		if n < 0 {
			return nil
		}
		out := make([]slack.Block, n)
		for i := range out {
			out[i] = slack.NewDividerBlock()
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		changes, plan int // blocks; -1: no such part
		want          headerParts
	}{
		{"shipped default", 10, 7, headerParts{changes: true, plan: true}},
		{"no plan", 10, -1, headerParts{changes: true}},
		{"no changes log", -1, 7, headerParts{plan: true}},
		{"neither", -1, -1, headerParts{}},
		{"both at the limit", 20, 20, headerParts{changes: true, plan: true}}, // 7 + 21 + 22 = 50
		{"one block over", 21, 20, headerParts{plan: true}},
		{"20 changes, 20 diagnostics", 42, 26, headerParts{plan: true}},
		{"only changes fit", 42, 50, headerParts{changes: true}},
		{"nothing fits", 43, 42, headerParts{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fitParts(blocks(tc.changes), blocks(tc.plan)); got != tc.want {
				t.Errorf("fitParts(%d, %d) = %+v, want %+v", tc.changes, tc.plan, got, tc.want)
			}
		})
	}
}

// TestMergedHeaderWithinBlockKit renders the biggest header sitrep can
// carry both parts in (every header field, a long description, suspects,
// 20 diagnostics ticked, a running clock) and checks it against Block
// Kit's limits.
func TestMergedHeaderWithinBlockKit(t *testing.T) {
	t.Parallel()
	opened := time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)
	inc := &incident.Incident{ID: 7, Number: 7, Title: strings.Repeat("t", 300), Severity: incident.Sev1,
		Status: incident.StatusInvestigating, TDOID: "U1", ReporterID: "U2", OpenedAt: opened,
		Description: strings.Repeat("d", 4000), Systems: []string{"web", "db"},
		Roles: map[incident.Role]string{incident.RoleComms: "U3", incident.RoleScribe: "U4"}}
	for i := range 7 {
		inc.Plan.Diagnostics = append(inc.Plan.Diagnostics, fmt.Sprintf("diagnostic %d %s", i, strings.Repeat("x", 190)))
	}
	inc.Plan.Restore = []string{"roll back"}
	inc.Timebox = incident.Timebox{Generation: 1, Length: 10 * time.Minute, Deadline: opened.Add(10 * time.Minute)}
	var shown []incident.ShownChange
	for i := range 4 {
		shown = append(shown, incident.ShownChange{Change: incident.Change{ID: int64(i + 1), OccurredAt: opened.Add(-time.Hour),
			Systems: []string{"web"}, Person: "U5", Summary: strings.Repeat("s", 600)}})
	}
	done := map[int]incident.TimelineEntry{}
	for i := range inc.Plan.Diagnostics {
		done[i] = incident.TimelineEntry{Actor: "U1", At: opened}
	}
	_, changes := whatChangedView(inc, shown, nil, 24*time.Hour)
	_, plan := planView(inc, done)
	parts := fitParts(changes, plan)
	if parts != (headerParts{changes: true, plan: true}) {
		t.Fatalf("parts = %+v, want both", parts)
	}
	_, header := headerView(inc, "C1", []string{strings.Repeat("suspect ", 50)})
	raw, err := json.Marshal(headerMessageView(header, parts, changes, plan))
	if err != nil {
		t.Fatal(err)
	}
	if err := blockkit.CheckMessage(raw); err != nil {
		t.Errorf("merged header breaks Block Kit: %v", err)
	}
}
