package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
)

// TestPrivateInReportsAndExports makes INC-2 of the seeded review private:
// the report counts it (cost and all) but does not name it, in its text or
// its charts, unless --private asks; its postmortem is exported only with
// --private.
func TestPrivateInReportsAndExports(t *testing.T) {
	t.Chdir(t.TempDir())
	end := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	url := "sqlite:" + filepath.Join(t.TempDir(), "private.db")
	seedReview(t, url, end)
	seedPostmortem(t, url, end)
	ctx := context.Background()
	store, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(store, clock.NewFake(end))
	inc, err := svc.ByNumber(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.MakePrivate(ctx, inc.ID, "U0ALICE"); err != nil {
		t.Fatal(err)
	}
	store.Close()
	const title = "card payments"
	env := withSlackNames(t, map[string]string{"SITREP_DATABASE_URL": url})

	out := filepath.Join(t.TempDir(), "out")
	md, stderr, err := runCLI(t, env, "report", "--out", out, "--at", end.Format(time.RFC3339))
	if err != nil {
		t.Fatalf("sitrep report: %v\n%s", err, stderr)
	}
	if strings.Contains(md, title) || !strings.Contains(md, "| INC-2 "+incident.PrivateLabel+" | SEV1 |") ||
		!strings.Contains(md, "Timeline of INC-2: "+incident.PrivateLabel) {
		t.Errorf("the report names the private INC-2, or does not count it:\n%s", md)
	}
	if !strings.Contains(md, "Customer cost: USD 14,218.75 from 1 costed incident") {
		t.Errorf("the report does not count the private incident's cost:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "timeline-INC-2.png")); err != nil {
		t.Errorf("the private incident lost its timeline chart: %v", err)
	}
	if md, _, err := runCLI(t, env, "report", "--private", "--at", end.Format(time.RFC3339)); err != nil || !strings.Contains(md, title) {
		t.Errorf("report --private does not name INC-2 (%v):\n%s", err, md)
	}

	// Eight days on, bob's action on INC-2 is overdue: owner and date, no text.
	later := end.AddDate(0, 0, 8).Format(time.RFC3339)
	if rep, _, err := runCLI(t, env, "report", "--at", later); err != nil || strings.Contains(rep, "pool size changes") ||
		!strings.Contains(rep, "- an action of a private incident (issue: a private incident), @Bob Dobbs, due 2026-12-01") {
		t.Errorf("the overdue action of the private INC-2 (%v):\n%s", err, rep)
	}
	if _, _, err := runCLI(t, env, "postmortem", "export", "INC-2"); err == nil || !strings.Contains(err.Error(), "INC-2 is private") {
		t.Errorf("export of a private incident's postmortem = %v, want a refusal", err)
	}
	if md, _, err := runCLI(t, env, "postmortem", "export", "INC-2", "--private"); err != nil || !strings.Contains(md, title) {
		t.Errorf("export --private (%v):\n%s", err, md)
	}
}
