package storage_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
)

func intp(v int) *int { return &v }

// testProblems links problems and enters costs through the domain services,
// then checks the database's tally against incident.Tally on the same
// incidents read back.
func testProblems(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	clk := clock.NewFake(t0.Add(time.Hour))
	svc := incident.NewService(s, clk)
	prbs := incident.NewProblems(s, svc, clk)

	var ids []int64
	for _, title := range []string{"pool too small", "cert expiry", "flaky DNS"} {
		p, err := prbs.New(ctx, "U1", title)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	var incs []*incident.Incident
	for i := range 5 {
		inc := newIncident("inc", "")
		inc.OpenedAt = t0.Add(time.Duration(i) * 24 * time.Hour)
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
		incs = append(incs, inc)
	}
	link := func(inc int, prb int64) {
		t.Helper()
		if _, _, _, err := prbs.Link(ctx, incs[inc].ID, prb, "U2"); err != nil {
			t.Fatalf("link %d to PRB-%d: %v", inc, prb, err)
		}
	}
	cost := func(inc, phone int) {
		t.Helper()
		if _, _, err := svc.SetCost(ctx, incs[inc].ID, "U2", incident.CostInput{PhoneContacts: intp(phone)}); err != nil {
			t.Fatalf("cost of %d: %v", inc, err)
		}
	}
	link(0, ids[0])
	link(0, ids[1])
	link(0, ids[2]) // one incident on three problems
	link(1, ids[0])
	link(2, ids[1]) // no cost entered
	link(3, ids[2])
	link(3, ids[1])
	cost(0, 30) // USD 750 at the default 25 per call
	cost(1, 4)
	cost(3, 10)
	cost(4, 1) // not linked
	if _, _, _, err := prbs.Link(ctx, incs[1].ID, ids[0], "U2"); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("linking twice: %v, want ErrNoChange", err)
	}
	if _, _, _, err := prbs.Unlink(ctx, incs[1].ID, ids[0], "U2"); err != nil {
		t.Fatal(err)
	}
	link(1, ids[0])

	var read []incident.Incident
	for _, inc := range incs {
		got, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, *got)
	}
	if got := read[0].Problems; !cmp.Equal(got, ids) {
		t.Errorf("INC problems read back %v, want %v", got, ids)
	}
	if c := read[0].Cost; c == nil || c.Amount != 750 || c.Class != incident.C4 || *c.Input.PhoneContacts != 30 || !c.SetAt.Equal(clk.Now()) {
		t.Errorf("cost read back %+v", c)
	}
	approx := cmpopts.EquateApprox(0, 1e-9)
	for _, since := range []time.Time{{}, t0.Add(36 * time.Hour)} {
		got, err := s.CostTally(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(incident.Tally(read, since), got, approx); diff != "" {
			t.Errorf("tally since %v (-domain +database):\n%s", since, diff)
		}
	}
	// The kept tallies agree with the domain's all-time tally, problem by
	// problem, after links, unlinks and cost changes.
	tallies, err := s.ProblemTallies(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(incident.Tally(read, time.Time{}).ByProblem, tallies, approx); diff != "" {
		t.Errorf("kept tallies (-domain +database):\n%s", diff)
	}

	p, err := prbs.Detail(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incidents) != 2 || math.Abs(p.Cost-(250+100)) > 1e-9 || p.Incidents[0].ID != incs[1].ID {
		t.Errorf("PRB-1 detail: %d incidents, cost %v", len(p.Incidents), p.Cost)
	}
	if _, err := prbs.Close(ctx, ids[2], "U3", "resolver pinned"); err != nil {
		t.Fatal(err)
	}
	if _, err := prbs.Close(ctx, ids[2], "U3", "again"); !errors.Is(err, incident.ErrNoChange) {
		t.Errorf("closing twice: %v", err)
	}
	open, err := s.ListProblems(ctx, incident.ProblemOpen)
	if err != nil || len(open) != 2 {
		t.Fatalf("open problems: %v %v", open, err)
	}
	closed, _ := s.Problem(ctx, ids[2])
	if closed.Status != incident.ProblemClosed || closed.Fix != "resolver pinned" || closed.ClosedBy != "U3" || !closed.ClosedAt.Equal(clk.Now()) {
		t.Errorf("closed problem read back %+v", closed)
	}
	ranked, err := prbs.Ranked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// PRB-1: 750/3 + 100 = 350; PRB-2: 250 + 125 = 375 (+1 uncosted); PRB-3 closed.
	if len(ranked.Rows) != 2 || ranked.Rows[0].Problem.ID != ids[1] || ranked.Rows[1].Problem.ID != ids[0] ||
		math.Abs(ranked.Rows[0].Cost-375) > 1e-9 || ranked.Rows[0].Incidents != 3 || ranked.Rows[0].Uncosted != 1 ||
		math.Abs(ranked.Rows[1].Cost-350) > 1e-9 {
		t.Errorf("ranked open problems: %+v", ranked.Rows)
	}
	if _, err := s.Problem(ctx, 999); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown problem: %v", err)
	}
}
