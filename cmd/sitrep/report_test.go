package main

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
)

var update = flag.Bool("update", false, "rewrite golden files")

func intp(v int) *int           { return &v }
func floatp(v float64) *float64 { return &v }

// seedReview fills a database with a day of incidents: costed and not,
// linked to problems (one to two), a timebox kept and one overrun, changes
// with one marked suspect, and an older incident outside the window.
func seedReview(t *testing.T, url string, end time.Time) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(end.Add(-72 * time.Hour))
	svc := incident.NewService(store, clk)
	prbs := incident.NewProblems(store, svc, clk)
	changes := incident.NewChangeLog(store, clk)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	open := func(title string, sev incident.Severity) *incident.Incident {
		inc, _, err := svc.Open(ctx, incident.OpenRequest{Title: title, Severity: sev, Systems: []string{"web"}, Reporter: "U0ALICE", ReportedIn: "C1"})
		must(err)
		return inc
	}
	pool, err := prbs.New(ctx, "U0ALICE", "Connection pool too small on db-2")
	must(err)
	cert, err := prbs.New(ctx, "U0BOB", "Cert renewal is manual <script> & | fragile")
	must(err)
	_, err = prbs.New(ctx, "U0BOB", "Nobody knows who owns the CDN config")
	must(err)

	old := open("older outage", incident.Sev2)
	_, _, _, err = prbs.Link(ctx, old.ID, pool.ID, "U0ALICE")
	must(err)
	_, _, err = svc.SetCost(ctx, old.ID, "U0ALICE", incident.CostInput{RevenueLost: floatp(40000)})
	must(err)

	clk.Set(end.Add(-20 * time.Hour))
	_, err = changes.Log(ctx, []incident.Change{
		{OccurredAt: clk.Now().Add(-time.Hour), Systems: []string{"db"}, Person: "U0BOB", Summary: "pool 50 → 20", Reason: "save memory", Kind: incident.KindConfig, Source: incident.SourceCLI},
		{OccurredAt: clk.Now().Add(-2 * time.Hour), Systems: []string{"web"}, Person: "U0BOB", Summary: "deploy v41", Kind: incident.KindDeploy, Source: incident.SourceCLI},
		{OccurredAt: clk.Now().Add(-30 * time.Hour), Systems: []string{"web"}, Person: "U0BOB", Summary: "outside the window", Kind: incident.KindDeploy, Source: incident.SourceCLI},
	})
	must(err)
	recent, err := changes.Recent(ctx, incident.ChangeQuery{Systems: []string{"db"}})
	must(err)

	a := open("checkout <!channel> times out | card payments", incident.Sev1)
	_, _, err = svc.StartTimebox(ctx, incident.TimeboxRequest{IncidentID: a.ID, Actor: "U0ALICE", Length: 15 * time.Minute})
	must(err)
	_, _, err = svc.MarkChange(ctx, a.ID, recent[0].ID, "U0ALICE", incident.EntrySuspect, "db: pool 50 → 20")
	must(err)
	_, _, err = svc.HandOver(ctx, incident.HandOverRequest{IncidentID: a.ID, Actor: "U0ALICE", To: "U0BOB", Reason: "knows db-2"})
	must(err)
	clk.Advance(12 * time.Minute)
	_, _, err = svc.SetStatus(ctx, incident.StatusRequest{IncidentID: a.ID, Actor: "U0BOB", Status: incident.StatusRestored})
	must(err)
	_, _, err = svc.SetCost(ctx, a.ID, "U0BOB", incident.CostInput{PhoneContacts: intp(40), ChatContacts: intp(120),
		EmailContacts: intp(15), RevenueLost: floatp(8200), EngineeringHours: floatp(6), Churn: ptrChurn(incident.ChurnMedium)})
	must(err)
	_, _, _, err = prbs.Link(ctx, a.ID, pool.ID, "U0BOB")
	must(err)
	_, _, _, err = prbs.Link(ctx, a.ID, cert.ID, "U0BOB")
	must(err)

	clk.Set(end.Add(-6 * time.Hour))
	b := open("search results stale", incident.Sev3)
	_, _, err = svc.StartTimebox(ctx, incident.TimeboxRequest{IncidentID: b.ID, Actor: "U0ALICE", Length: 10 * time.Minute})
	must(err)
	clk.Advance(25 * time.Minute)
	_, _, err = svc.SetStatus(ctx, incident.StatusRequest{IncidentID: b.ID, Actor: "U0ALICE", Status: incident.StatusResolved})
	must(err)
	_, _, _, err = prbs.Link(ctx, b.ID, cert.ID, "U0ALICE")
	must(err)
}

// checkGolden compares got with the golden file at path (an absolute path:
// the tests change directory), rewriting it under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./cmd/sitrep -update to accept):\n%s", path, got)
	}
}

func ptrChurn(r incident.ChurnRisk) *incident.ChurnRisk { return &r }

func TestReportGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	end := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	url := "sqlite:" + filepath.Join(t.TempDir(), "report.db")
	seedReview(t, url, end)
	out := filepath.Join(t.TempDir(), "out")
	env := withSlackNames(t, map[string]string{"SITREP_DATABASE_URL": url})
	md, stderr, err := runCLI(t, env, "report", "--since", "24h", "--out", out, "--at", end.Format(time.RFC3339))
	if err != nil {
		t.Fatalf("sitrep report: %v\n%s", err, stderr)
	}
	checkGolden(t, golden, md)
	written, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || string(written) != md {
		t.Errorf("report.md in --out differs from stdout (%v)", err)
	}
	for _, name := range []string{"pareto.png", "weekly.png", "timeline-INC-2.png", "timeline-INC-3.png"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != 1200 {
			t.Errorf("%s is not a 1200 px PNG: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "timeline-INC-1.png")); err == nil {
		t.Error("the incident outside the window got a timeline chart")
	}

	// Without --out: the same Markdown, no charts linked.
	md2, _, err := runCLI(t, env, "report", "--at", end.Format(time.RFC3339))
	if err != nil || !strings.HasPrefix(md2, "# Operations review, Tue 24 Nov 2026") || strings.Contains(md2, "## Charts") {
		t.Errorf("report without --out: %v\n%s", err, md2)
	}
	for _, args := range [][]string{{"report", "--since", "-3h"}, {"report", "--at", "yesterday"}} {
		if _, _, err := runCLI(t, env, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// seedPostmortem walks the postmortem of INC-2 (from seedReview) through
// its three phases, with a corrected entry, and leaves one action done.
func seedPostmortem(t *testing.T, url string, end time.Time) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := clock.NewFake(end.Add(2 * time.Hour))
	svc := incident.NewService(store, clk)
	pms := incident.NewPostmortems(store, svc, incident.NewChangeLog(store, clk), clk)
	inc, err := svc.ByNumber(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var handEntry int
	steps := []func() error{
		func() error { _, err := pms.Start(ctx, inc.ID, "U0ALICE", "C1"); return err },
		func() error {
			_, err := pms.AddEntry(ctx, inc.ID, "U0BOB", inc.OpenedAt.Add(-20*time.Minute), "pool lowered to 20 <by hand>")
			return err
		},
		func() error {
			pm, _ := pms.Get(ctx, inc.ID)
			handEntry = pm.Timeline[0].ID
			_, err := pms.EditEntry(ctx, inc.ID, "U0ALICE", handEntry, inc.OpenedAt.Add(-25*time.Minute), "pool lowered from 50 to 20 by hand")
			return err
		},
		func() error { _, err := pms.Next(ctx, inc.ID, "U0ALICE"); return err },
		func() error {
			_, err := pms.AddIssue(ctx, inc.ID, "U0BOB", "a config change to db-2 was not reviewed | no check", handEntry)
			return err
		},
		func() error {
			_, err := pms.AddIssue(ctx, inc.ID, "U0ALICE", "nobody was paged for 8 minutes", 0)
			return err
		},
		func() error { _, err := pms.Next(ctx, inc.ID, "U0ALICE"); return err },
		func() error {
			_, _, err := pms.AddAction(ctx, inc.ID, "U0ALICE", incident.ActionRequest{Issue: 1, Owner: "U0BOB",
				Expected: "pool size changes go through review", Due: end.AddDate(0, 0, 7)})
			return err
		},
		func() error {
			_, _, err := pms.AddAction(ctx, inc.ID, "U0ALICE", incident.ActionRequest{Issue: 2, Owner: "U0ALICE",
				Expected: "db-2 saturation pages within 2 minutes", Due: end.AddDate(0, 0, 14)})
			return err
		},
		func() error { clk.Advance(time.Hour); _, _, err := pms.MarkDone(ctx, inc.ID, 2, "U0ALICE"); return err },
		func() error { _, err := pms.Next(ctx, inc.ID, "U0ALICE"); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func TestPostmortemExportGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "postmortem.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	end := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	url := "sqlite:" + filepath.Join(t.TempDir(), "pm.db")
	seedReview(t, url, end)
	seedPostmortem(t, url, end)
	env := withSlackNames(t, map[string]string{"SITREP_DATABASE_URL": url})
	out := filepath.Join(t.TempDir(), "INC-2.md")
	if _, stderr, err := runCLI(t, env, "postmortem", "export", "INC-2", "--out", out); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, golden, string(md))
	stdout, _, err := runCLI(t, env, "postmortem", "export", "inc-2")
	if err != nil || stdout != string(md) {
		t.Errorf("export to stdout differs (%v)", err)
	}
	// Eight days on, bob's action (due 1 Dec) is overdue in the review.
	later := end.AddDate(0, 0, 8).Format(time.RFC3339)
	rep, _, err := runCLI(t, env, "report", "--at", later)
	if err != nil || !strings.Contains(rep, "## Overdue postmortem actions\n\n- pool size changes go through review (issue: a config change to db-2 was not reviewed \\| no check), @Bob Dobbs, due 2026-12-01\n") {
		t.Errorf("report with an overdue action (%v):\n%s", err, rep)
	}
	if rep, _, _ := runCLI(t, env, "report", "--at", end.AddDate(0, 0, 7).Format(time.RFC3339)); strings.Contains(rep, "Overdue") {
		t.Errorf("an action due today is reported overdue:\n%s", rep)
	}
	for args, want := range map[string]string{
		"postmortem export INC-3": "INC-3: no postmortem has started",
		"postmortem export INC-9": "there is no INC-9",
		"postmortem export nine":  `"nine" is not an incident`,
	} {
		if _, _, err := runCLI(t, env, strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}
