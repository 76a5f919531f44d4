package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/internal/clock"
)

func TestNudgeDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	store := &memStore{}
	svc := NewService(store, clk)
	svc.SetCadence(DefaultCadence())
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "checkout fails", Severity: Sev1, Reporter: "UTDO"})
	if err != nil {
		t.Fatal(err)
	}
	want := []jobSummary{
		{Kind: JobProvision, Key: "incident.provision:100", Due: "03:00:00"},
		{Kind: JobUpdateNudge, Key: "incident.update_nudge:100:0:1", Due: "03:30:00"},
	}
	if diff := cmp.Diff(want, summarize(store.jobs)); diff != "" {
		t.Fatalf("jobs at opening (-want +got):\n%s", diff)
	}

	// Due, and run 3 minutes late: it says so and schedules the next.
	clk.Set(inc.OpenedAt.Add(33 * time.Minute))
	n, err := svc.NudgeDue(ctx, NudgePayload{IncidentID: inc.ID, After: 0, N: 1}, inc.OpenedAt.Add(30*time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if n.Every != 30*time.Minute || !n.Since.Equal(inc.OpenedAt) || n.Late != "fired 3 min late: sitrep was down at 03:30 UTC" {
		t.Errorf("nudge = %+v", n)
	}
	if n.Entry.Kind != EntryUpdateNudge || n.Entry.Facts.To != "UTDO" ||
		n.Entry.Text != "No status update for 33 min (SEV1 asks for one every 30 min) (fired 3 min late: sitrep was down at 03:30 UTC)" {
		t.Errorf("nudge entry = %+v", n.Entry)
	}
	want = []jobSummary{
		{Kind: JobProvision, Key: "incident.provision:100", Due: "03:00:00"},
		{Kind: JobUpdateNudge, Key: "incident.update_nudge:100:0:1", Due: "03:30:00"},
		{Kind: JobUpdateNudge, Key: "incident.update_nudge:100:0:2", Due: "04:00:00"},
	}
	if diff := cmp.Diff(want, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs after the nudge (-want +got):\n%s", diff)
	}
	// Run again, as a retried job is: the nudge as recorded, nothing new.
	entries := len(store.timeline)
	again, err := svc.NudgeDue(ctx, NudgePayload{IncidentID: inc.ID, After: 0, N: 1}, inc.OpenedAt.Add(30*time.Minute), "")
	if err != nil || again.Entry.ID != n.Entry.ID || len(store.timeline) != entries || len(store.jobs) != 3 {
		t.Errorf("a retried nudge recorded again: %+v, %v; %d entries (was %d), %d jobs", again.Entry, err, len(store.timeline), entries, len(store.jobs))
	}

	// An update supersedes it and schedules its own.
	store.jobs = nil
	_, e, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusInvestigating, Message: "failed over"})
	if err != nil || !IsUpdate(e) || e.Text != "Update, still investigating: failed over" {
		t.Fatalf("update = %+v, %v", e, err)
	}
	want = []jobSummary{
		{Kind: JobChanged, Key: "incident.changed:2", Due: "03:33:00"},
		{Kind: JobUpdateNudge, Key: "incident.update_nudge:100:2:1", Due: "04:03:00"},
	}
	if diff := cmp.Diff(want, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs after the update (-want +got):\n%s", diff)
	}
	clk.Set(inc.OpenedAt.Add(60 * time.Minute))
	if _, err := svc.NudgeDue(ctx, NudgePayload{IncidentID: inc.ID, After: 0, N: 2}, inc.OpenedAt.Add(60*time.Minute), ""); !errors.Is(err, ErrNoChange) {
		t.Errorf("superseded nudge = %v, want ErrNoChange", err)
	}
	// No message, no update.
	if _, _, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusInvestigating}); !errors.Is(err, ErrNoChange) {
		t.Errorf("same status without a message = %v, want ErrNoChange", err)
	}

	// Lowered to SEV3 (no cadence): nothing to nudge.
	store.jobs = nil
	_, e, err = svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "UTDO", Severity: Sev3, Reason: "one shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(store.jobs) != 1 {
		t.Errorf("lowering to SEV3 scheduled %+v, want only the change", summarize(store.jobs))
	}
	if _, err := svc.NudgeDue(ctx, NudgePayload{IncidentID: inc.ID, After: e.ID, N: 1}, clk.Now(), ""); !errors.Is(err, ErrNoChange) || !strings.Contains(err.Error(), "no update cadence") {
		t.Errorf("nudge of a SEV3 = %v, want ErrNoChange", err)
	}
	// Restored: no more updates are due.
	_, e, _ = svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "UTDO", Severity: Sev1})
	_, e, _ = svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusRestored})
	if _, err := svc.NudgeDue(ctx, NudgePayload{IncidentID: inc.ID, After: e.ID, N: 1}, clk.Now(), ""); !errors.Is(err, ErrNoChange) || !strings.Contains(err.Error(), "no more updates") {
		t.Errorf("nudge of a restored incident = %v, want ErrNoChange", err)
	}
}
