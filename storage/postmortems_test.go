package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/storage"
)

// testPostmortems walks a postmortem through its phases on the real store,
// with every refusal the phases impose.
func testPostmortems(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	svc := incident.NewService(s, clk)
	pms := incident.NewPostmortems(s, svc, incident.NewChangeLog(s, clk), clk)
	inc, _, err := svc.Open(ctx, incident.OpenRequest{Title: "db down", Severity: incident.Sev1, Reporter: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	var fe *incident.FieldError
	if _, err := pms.Start(ctx, inc.ID, "U1", "C1"); !errors.As(err, &fe) || !strings.Contains(fe.Problem, "starts once service is restored") {
		t.Fatalf("start on an open incident: %v", err)
	}
	clk.Advance(5 * time.Minute)
	if _, _, _, err := svc.NoteAlert(ctx, inc.ID, incident.AlertNote{Key: "alert:1:resolved", Source: "Alertmanager", Text: "HighErrorRate resolved after 5 min"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	if _, _, err := svc.SetStatus(ctx, incident.StatusRequest{IncidentID: inc.ID, Actor: "U1", Status: incident.StatusRestored}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	pm, err := pms.Start(ctx, inc.ID, "U1", "C1")
	if err != nil {
		t.Fatal(err)
	}
	// Monitoring wrote the alert's entry: the export names the product.
	var byMonitoring []string
	for _, e := range pm.Timeline {
		if e.Kind == incident.EntryAlert {
			byMonitoring = append(byMonitoring, e.By)
		}
	}
	if len(byMonitoring) != 1 || byMonitoring[0] != "Alertmanager" {
		t.Errorf("the alert's entry in the postmortem is by %q, want Alertmanager", byMonitoring)
	}
	if pm.Phase != incident.PhaseTimeline || pm.Facilitator != "U1" || len(pm.Timeline) < 2 || pm.Timeline[0].Text != "Opened as SEV1: db down" {
		t.Fatalf("started: %+v", pm)
	}
	if _, err := pms.Start(ctx, inc.ID, "U2", "C1"); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("second start: %v", err)
	}
	var pe *incident.PhaseError
	if _, err := pms.AddIssue(ctx, inc.ID, "U2", "alert late", 0); !errors.As(err, &pe) || !strings.Contains(err.Error(), "Phase 1 is about the timeline") {
		t.Errorf("issue in phase 1: %v", err)
	}

	// Timeline: add and correct; every edit is kept.
	if _, err := pms.AddEntry(ctx, inc.ID, "U2", t0.Add(-5*time.Minute), "disk alarm on db-2 ignored"); err != nil {
		t.Fatal(err)
	}
	pm, _ = pms.Get(ctx, inc.ID)
	first := pm.Timeline[0]
	if first.Text != "disk alarm on db-2 ignored" || first.AddedBy != "U2" {
		t.Fatalf("added entry is not first in time: %+v", pm.Timeline)
	}
	if _, err := pms.EditEntry(ctx, inc.ID, "U3", first.ID, t0.Add(-7*time.Minute), "disk alarm on db-2 at 85%, ignored"); err != nil {
		t.Fatal(err)
	}
	if _, err := pms.EditEntry(ctx, inc.ID, "U3", first.ID, t0.Add(-7*time.Minute), "disk alarm on db-2 at 85%, ignored"); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("same edit twice: %v", err)
	}
	if _, err := pms.AddEntry(ctx, inc.ID, "U2", clk.Now().Add(time.Hour), "later"); !errors.As(err, &fe) {
		t.Errorf("future entry: %v", err)
	}
	pm, _ = pms.Get(ctx, inc.ID)
	e := pm.Entry(first.ID)
	if len(e.Edits) != 1 || e.Edits[0].Text != "disk alarm on db-2 ignored" || e.Edits[0].EditedBy != "U3" || !e.At.Equal(t0.Add(-7*time.Minute)) {
		t.Errorf("edit history: %+v", e)
	}
	// Who may move phases and mark actions done is the permission model's
	// rule (internal/access), checked by the bot before these calls.
	if _, err := pms.SetFacilitator(ctx, inc.ID, "U1", "U2"); err != nil {
		t.Fatal(err)
	}
	if pm, err = pms.Next(ctx, inc.ID, "U2"); err != nil || pm.Phase != incident.PhaseIssues {
		t.Fatalf("timeline complete: %v %v", pm, err)
	}

	// Issues: concurrent ones numbered once each; actions refused.
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pms.AddIssue(ctx, inc.ID, "U3", fmt.Sprintf("issue %d", i), first.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	pm, _ = pms.Get(ctx, inc.ID)
	if len(pm.Issues) != 5 || pm.Issues[4].ID != 5 || pm.Issues[0].Entry != first.ID {
		t.Fatalf("issues: %+v", pm.Issues)
	}
	tomorrow := clk.Now().Add(24 * time.Hour)
	if _, _, err := pms.AddAction(ctx, inc.ID, "U2", incident.ActionRequest{Issue: 1, Owner: "U3", Expected: "x", Due: tomorrow}); !errors.As(err, &pe) ||
		!strings.Contains(err.Error(), "Actions come in phase 3") {
		t.Errorf("action in phase 2: %v", err)
	}
	if _, err := pms.EditEntry(ctx, inc.ID, "U2", first.ID, time.Time{}, "late fix"); !errors.As(err, &pe) {
		t.Errorf("timeline edit in phase 2: %v", err)
	}
	if pm, err = pms.Next(ctx, inc.ID, "U2"); err != nil || pm.Phase != incident.PhaseActions {
		t.Fatalf("issues complete: %v %v", pm, err)
	}

	// Actions: field by field; completion needs one per issue.
	var ae *incident.ActionError
	_, _, err = pms.AddAction(ctx, inc.ID, "U2", incident.ActionRequest{Issue: 1, Due: clk.Now()})
	if !errors.As(err, &ae) || ae.Problems["owner"] == "" || ae.Problems["expected"] == "" || ae.Problems["due"] == "" {
		t.Errorf("bad action: %v", err)
	}
	if _, _, err := pms.AddAction(ctx, inc.ID, "U2", incident.ActionRequest{Issue: 9, Owner: "U3", Expected: "x", Due: tomorrow}); !errors.As(err, &ae) {
		t.Errorf("action on issue 9: %v", err)
	}
	for i := 1; i <= 4; i++ {
		if _, _, err := pms.AddAction(ctx, inc.ID, "U2", incident.ActionRequest{Issue: i, Owner: "U3", Expected: "fixed", Due: tomorrow.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pms.Next(ctx, inc.ID, "U2"); !errors.As(err, &fe) || !strings.Contains(fe.Problem, "1 has no action yet: issue 5 (issue") {
		t.Errorf("complete with an issue without action: %v", err)
	}
	_, a, err := pms.AddAction(ctx, inc.ID, "U2", incident.ActionRequest{Issue: 5, Owner: "U4", Expected: "runbook updated", Due: tomorrow})
	if err != nil {
		t.Fatal(err)
	}
	for kind, due := range map[string]time.Time{incident.JobActionReminder: a.Due.AddDate(0, 0, -1), incident.JobActionOverdue: a.Due.AddDate(0, 0, 1)} {
		j, err := s.JobByKey(ctx, incident.ActionJobKey(kind, inc.ID, a.ID))
		if err != nil || !j.DueAt.Equal(due) || j.State != jobs.StatePending {
			t.Errorf("%s job: %+v %v, want due %v", kind, j, err, due)
		}
	}
	mine, err := pms.OpenActions(ctx, "U4")
	if err != nil || len(mine) != 1 || mine[0].Issue != pm.Issues[4].Text || mine[0].IncidentID != inc.ID {
		t.Errorf("open actions of U4: %+v %v", mine, err)
	}
	if _, _, err := pms.MarkDone(ctx, inc.ID, a.ID, "U4"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pms.MarkDone(ctx, inc.ID, a.ID, "U4"); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("done twice: %v", err)
	}
	if j, _ := s.JobByKey(ctx, incident.ActionJobKey(incident.JobActionReminder, inc.ID, a.ID)); j.State != jobs.StateCancelled {
		t.Errorf("reminder after done: %s", j.State)
	}
	if mine, _ := pms.OpenActions(ctx, "U4"); len(mine) != 0 {
		t.Errorf("done action still open: %+v", mine)
	}
	if all, _ := pms.OpenActions(ctx, ""); len(all) != 4 || all[0].Action.Issue != 1 {
		t.Errorf("everyone's open actions: %+v", all)
	}
	if pm, err = pms.Next(ctx, inc.ID, "U2"); err != nil || pm.Phase != incident.PhaseComplete || !pm.CompletedAt.Equal(clk.Now()) {
		t.Fatalf("complete: %+v %v", pm, err)
	}
	if _, err := pms.AddIssue(ctx, inc.ID, "U2", "late", 0); !errors.As(err, &pe) || !strings.Contains(err.Error(), "complete") {
		t.Errorf("issue after completion: %v", err)
	}
	if _, err := pms.Get(ctx, 999); !errors.Is(err, incident.ErrNoPostmortem) {
		t.Errorf("missing postmortem: %v", err)
	}
}
