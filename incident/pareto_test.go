package incident

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// costed returns an incident opened at day d of November 2026 with this
// cost (negative: none entered), linked to problems.
func costed(d int, amount float64, problems ...int64) Incident {
	inc := Incident{OpenedAt: time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC), Problems: problems}
	if amount >= 0 {
		inc.Cost = &Cost{Amount: amount}
	}
	return inc
}

func problems(ids ...int64) []Problem {
	var out []Problem
	for _, id := range ids {
		out = append(out, Problem{ID: id, Title: "p", Status: ProblemOpen})
	}
	return out
}

type rankRow struct {
	ID         int64
	Cost       float64
	Cumulative float64
	Vital      bool
}

func rows(p Pareto) []rankRow {
	var out []rankRow
	for _, r := range p.Rows {
		out = append(out, rankRow{r.Problem.ID, math.Round(r.Cost*100) / 100, math.Round(r.Cumulative*1000) / 1000, r.VitalFew})
	}
	return out
}

func TestPareto(t *testing.T) {
	tests := []struct {
		name      string
		incidents []Incident
		problems  []Problem
		want      []rankRow
		vital     int
		headline  string
	}{{
		name: "classic: two of five drive most",
		incidents: []Incident{costed(1, 5000, 1), costed(2, 3000, 2), costed(3, 1000, 3), costed(4, 600, 4),
			costed(5, 400, 5), costed(6, 3000, 1)},
		problems: problems(1, 2, 3, 4, 5),
		want: []rankRow{{1, 8000, 0.615, true}, {2, 3000, 0.846, true}, {3, 1000, 0.923, false},
			{4, 600, 0.969, false}, {5, 400, 1, false}},
		vital: 2, headline: "2 of 5 problems (40%) drive 85% of customer cost",
	}, {
		name:      "one problem",
		incidents: []Incident{costed(1, 250, 7), costed(2, -1, 7)},
		problems:  problems(7),
		want:      []rankRow{{7, 250, 1, true}},
		vital:     1, headline: "1 of 1 problem (100%) drives 100% of customer cost",
	}, {
		name:      "no costs entered",
		incidents: []Incident{costed(1, -1, 1), costed(2, -1, 2)},
		problems:  problems(1, 2),
		want:      []rankRow{{1, 0, 0, false}, {2, 0, 0, false}},
		vital:     0, headline: "2 problems are linked, but none of their incidents has a customer cost entered.",
	}, {
		name:      "an incident on three problems splits its cost evenly",
		incidents: []Incident{costed(1, 900, 1, 2, 3), costed(2, 300, 3)},
		problems:  problems(1, 2, 3),
		want:      []rankRow{{3, 600, 0.5, true}, {1, 300, 0.75, true}, {2, 300, 1, true}},
		vital:     3, headline: "3 of 3 problems (100%) drive 100% of customer cost",
	}, {
		name: "ties: more incidents first, then the older problem",
		incidents: []Incident{costed(1, 100, 9), costed(2, 100, 4), costed(3, 50, 5), costed(4, 50, 5),
			costed(5, 100, 2)},
		problems: problems(2, 4, 5, 9),
		want:     []rankRow{{5, 100, 0.25, true}, {2, 100, 0.5, true}, {4, 100, 0.75, true}, {9, 100, 1, true}},
		vital:    4, headline: "4 of 4 problems (100%) drive 100% of customer cost",
	}, {
		name:      "nothing linked",
		incidents: []Incident{costed(1, 100)},
		problems:  problems(1),
		vital:     0, headline: "No problems are linked to incidents in this period.",
	}, {
		name:      "exactly at the threshold stops there",
		incidents: []Incident{costed(1, 80, 1), costed(2, 20, 2)},
		problems:  problems(1, 2),
		want:      []rankRow{{1, 80, 0.8, true}, {2, 20, 1, false}},
		vital:     1, headline: "1 of 2 problems (50%) drives 80% of customer cost",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := RankPareto(Tally(tt.incidents, time.Time{}), tt.problems, ParetoThreshold, false)
			if diff := cmp.Diff(tt.want, rows(p)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if p.VitalFew != tt.vital {
				t.Errorf("VitalFew = %d, want %d", p.VitalFew, tt.vital)
			}
			if got := p.Headline(); got != tt.headline {
				t.Errorf("Headline = %q, want %q", got, tt.headline)
			}
		})
	}
}

func TestTally(t *testing.T) {
	incs := []Incident{costed(1, 900, 1, 2, 3), costed(10, 300, 3), costed(11, -1, 3), costed(12, 50), costed(13, -1)}
	got := Tally(incs, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	want := CostTally{
		ByProblem: []ProblemCost{{ProblemID: 3, Cost: 300, Incidents: 2, Uncosted: 1}},
		Incidents: 4, Costed: 2, Total: 350, Linked: 2, LinkedCosted: 1, Shared: 0, LinkedCost: 300,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tally since the 5th (-want +got):\n%s", diff)
	}
	all := Tally(incs, time.Time{})
	if all.Shared != 1 || all.Linked != 3 || all.LinkedCost != 1200 || len(all.ByProblem) != 3 {
		t.Errorf("Tally of all = %+v", all)
	}
}

func TestRankParetoAllListsProblemsWithoutIncidents(t *testing.T) {
	p := RankPareto(Tally([]Incident{costed(1, 10, 2)}, time.Time{}), problems(1, 2), ParetoThreshold, true)
	if diff := cmp.Diff([]rankRow{{2, 10, 1, true}, {1, 0, 1, false}}, rows(p)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// A closed problem (not in the list given) is left out of the ranking.
	p = RankPareto(Tally([]Incident{costed(1, 10, 3)}, time.Time{}), problems(1), ParetoThreshold, true)
	if diff := cmp.Diff([]rankRow{{1, 0, 0, false}}, rows(p)); diff != "" {
		t.Errorf("rows without the closed problem (-want +got):\n%s", diff)
	}
}

func TestParseProblemRef(t *testing.T) {
	for in, want := range map[string]int64{"PRB-3": 3, "prb-12": 12, "PRB7": 7, " 4 ": 4} {
		if got, err := ParseProblemRef(in); err != nil || got != want {
			t.Errorf("ParseProblemRef(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "INC-3", "PRB-", "PRB-0", "PRB--2", "three"} {
		if _, err := ParseProblemRef(in); err == nil {
			t.Errorf("ParseProblemRef(%q) accepted", in)
		}
	}
}
