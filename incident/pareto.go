package incident

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// ParetoThreshold is the share of customer cost the vital few reach.
const ParetoThreshold = 0.8

// ProblemCost is one problem's share of its incidents' customer cost.
type ProblemCost struct {
	ProblemID int64
	// Cost sums the costs of its incidents, each divided evenly among the
	// problems the incident is linked to.
	Cost float64
	// Incidents counts its incidents; Uncosted those with no cost entered.
	Incidents int
	Uncosted  int
}

// CostTally adds up the customer cost of a set of incidents by problem.
type CostTally struct {
	// ByProblem holds one entry per problem with incidents, by problem ID.
	ByProblem []ProblemCost
	// Incidents counts the incidents; Costed those with a cost, Total
	// their summed cost.
	Incidents int
	Costed    int
	Total     float64
	// Linked counts incidents linked to a problem, LinkedCosted those of
	// them with a cost, Shared those linked to more than one (their cost
	// is split), LinkedCost the cost of linked incidents (what the Pareto
	// ranks).
	Linked       int
	LinkedCosted int
	Shared       int
	LinkedCost   float64
}

// Tally adds up the incidents opened at or after since. The storage's
// CostTally computes the same in the database.
func Tally(incidents []Incident, since time.Time) CostTally {
	var t CostTally
	by := map[int64]*ProblemCost{}
	for _, inc := range incidents {
		if inc.OpenedAt.Before(since) {
			continue
		}
		t.Incidents++
		if inc.Cost != nil {
			t.Costed++
			t.Total += inc.Cost.Amount
		}
		if len(inc.Problems) == 0 {
			continue
		}
		t.Linked++
		if len(inc.Problems) > 1 {
			t.Shared++
		}
		for _, id := range inc.Problems {
			pc := by[id]
			if pc == nil {
				pc = &ProblemCost{ProblemID: id}
				by[id] = pc
			}
			pc.Incidents++
			if inc.Cost == nil {
				pc.Uncosted++
				continue
			}
			pc.Cost += inc.Cost.Amount / float64(len(inc.Problems))
		}
		if inc.Cost != nil {
			t.LinkedCosted++
			t.LinkedCost += inc.Cost.Amount
		}
	}
	for _, pc := range by {
		t.ByProblem = append(t.ByProblem, *pc)
	}
	slices.SortFunc(t.ByProblem, func(a, b ProblemCost) int { return cmp.Compare(a.ProblemID, b.ProblemID) })
	return t
}

// ParetoRow is one problem in a Pareto ranking.
type ParetoRow struct {
	Problem Problem
	ProblemCost
	// Share is the problem's part of the ranked cost; Cumulative the
	// share of it and every problem ranked above.
	Share, Cumulative float64
	// VitalFew is set on the smallest set of problems reaching the
	// threshold.
	VitalFew bool
}

// Pareto ranks problems by customer cost.
type Pareto struct {
	// Since is where the window starts; zero means all time.
	Since    time.Time
	Currency string
	Rows     []ParetoRow
	// Total is the ranked cost: the sum of Rows' costs.
	Total     float64
	Threshold float64
	// VitalFew is how many rows, from the top, reach Threshold of Total;
	// 0 when there is no cost to rank.
	VitalFew int
	// Tally is what the ranking was computed from.
	Tally CostTally
}

// RankPareto ranks problems by their cost in t. Problems with incidents
// in t are ranked; with all, problems with none are ranked too (cost 0).
// A problem in t but not in problems (another status) is left out. Ties
// in cost rank the one with more incidents first, then the older.
func RankPareto(t CostTally, problems []Problem, threshold float64, all bool) Pareto {
	byID := make(map[int64]Problem, len(problems))
	for _, p := range problems {
		byID[p.ID] = p
	}
	out := Pareto{Threshold: threshold, Tally: t}
	seen := make(map[int64]bool, len(t.ByProblem))
	for _, pc := range t.ByProblem {
		p, ok := byID[pc.ProblemID]
		if !ok {
			continue
		}
		seen[pc.ProblemID] = true
		out.Rows = append(out.Rows, ParetoRow{Problem: p, ProblemCost: pc})
		out.Total += pc.Cost
	}
	if all {
		for _, p := range problems {
			if !seen[p.ID] {
				out.Rows = append(out.Rows, ParetoRow{Problem: p, ProblemCost: ProblemCost{ProblemID: p.ID}})
			}
		}
	}
	slices.SortFunc(out.Rows, func(a, b ParetoRow) int {
		return cmp.Or(cmp.Compare(b.Cost, a.Cost), cmp.Compare(b.Incidents, a.Incidents), cmp.Compare(a.Problem.ID, b.Problem.ID))
	})
	if out.Total <= 0 {
		return out
	}
	var sum float64
	for i := range out.Rows {
		r := &out.Rows[i]
		sum += r.Cost
		r.Share = r.Cost / out.Total
		r.Cumulative = math.Min(sum/out.Total, 1)
		if out.VitalFew == 0 {
			r.VitalFew = true
			if r.Cumulative >= threshold-1e-9 {
				out.VitalFew = i + 1
			}
		}
	}
	return out
}

// VitalShare is the share of the ranked cost the vital few drive.
func (p Pareto) VitalShare() float64 {
	if p.VitalFew == 0 {
		return 0
	}
	return p.Rows[p.VitalFew-1].Cumulative
}

// Headline says it in one line: "3 of 17 problems (18%) drive 81% of
// customer cost".
func (p Pareto) Headline() string {
	switch {
	case len(p.Rows) == 0:
		return "No problems are linked to incidents in this period."
	case p.VitalFew == 0:
		return fmt.Sprintf("%d problems are linked, but none of their incidents has a customer cost entered.", len(p.Rows))
	}
	noun := "problems"
	if len(p.Rows) == 1 {
		noun = "problem"
	}
	verb := "drive"
	if p.VitalFew == 1 {
		verb = "drives"
	}
	return fmt.Sprintf("%d of %d %s (%s) %s %s of customer cost", p.VitalFew, len(p.Rows), noun,
		Percent(float64(p.VitalFew)/float64(len(p.Rows))), verb, Percent(p.VitalShare()))
}

// Percent writes a share as a whole percentage, "81%".
func Percent(share float64) string { return fmt.Sprintf("%.0f%%", math.Round(share*100)) }
