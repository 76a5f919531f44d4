package incident

import (
	"context"
	"fmt"
	"time"
)

// ReviewStore is what the operations review reads besides problems and
// changes.
type ReviewStore interface {
	// IncidentsOpened returns the incidents opened in [from, to), oldest
	// first.
	IncidentsOpened(ctx context.Context, from, to time.Time) ([]Incident, error)
	// Timeline returns an incident's stored entries, oldest first.
	Timeline(ctx context.Context, incidentID int64) ([]TimelineEntry, error)
}

// ReviewedIncident is one incident in a review, with what it came to.
type ReviewedIncident struct {
	Incident Incident
	// Summary is its timeline summed up: TDO chain, durations, clock.
	Summary Summary
}

// Review is the daily operations review: what hurt customers in a window,
// what it cost, which problems to attack.
type Review struct {
	From, To time.Time
	// Names are display names by user ID, for the people the review
	// names: as the timelines recorded them, else as told now.
	Names    map[string]string
	Currency string
	// Incidents are those opened in the window, oldest first.
	Incidents []ReviewedIncident
	// Cost sums the costed ones; Uncosted counts the others (never taken
	// as zero).
	Cost     float64
	Uncosted int
	// Open ranks the open problems by the cost of all their incidents.
	Open Pareto
	// Pareto ranks problems over ParetoWindow up to To, for the chart.
	Pareto       Pareto
	ParetoWindow time.Duration
	// Changes counts the changes logged in the window (at most
	// MaxReviewChanges: ChangesCapped says more were logged); Suspect
	// those marked suspect in an incident of the window.
	Changes       int
	ChangesCapped bool
	Suspect       int
	// Timeboxes counts the incidents whose diagnosis clock ran, Kept
	// those that restored within it, Extended those given more time.
	Timeboxes, Kept, Extended int
	// Weeks counts incidents by cost class over the ReviewWeeks weeks up
	// to To, in Location.
	Weeks    []WeekClasses
	Location *time.Location
	// Overdue are the postmortem actions open after their due day,
	// soonest due first (none without postmortems).
	Overdue []OwnedAction
}

// Redacted returns the review as it may be shown to everyone: its private
// incidents are Incident.Redacted, still counted in every total and cost,
// and the overdue actions of private incidents keep their owner and due
// date but not their texts.
func (rv Review) Redacted() Review {
	incs := make([]ReviewedIncident, len(rv.Incidents))
	for i, ri := range rv.Incidents {
		incs[i] = ReviewedIncident{Incident: ri.Incident.Redacted(), Summary: ri.Summary}
	}
	rv.Incidents = incs
	overdue := make([]OwnedAction, len(rv.Overdue))
	for i, oa := range rv.Overdue {
		if oa.Private {
			oa.Issue = PrivateLabel
			oa.Action.Expected = "an action of " + PrivateLabel
		}
		overdue[i] = oa
	}
	rv.Overdue = overdue
	return rv
}

// MaxReviewChanges bounds the changes a review counts.
const MaxReviewChanges = 1000

// Reviews builds operations reviews.
type Reviews struct {
	store    ReviewStore
	problems *Problems
	changes  *ChangeLog
	// ParetoWindow is the window of the review's Pareto; default 30 days.
	ParetoWindow time.Duration
	// Location is the time zone of weeks and times; default UTC.
	Location *time.Location
	// Actions, when set, gives the overdue postmortem actions.
	Actions PostmortemStore
}

// NewReviews returns the review use case.
func NewReviews(store ReviewStore, problems *Problems, changes *ChangeLog) *Reviews {
	return &Reviews{store: store, problems: problems, changes: changes, ParetoWindow: 30 * 24 * time.Hour, Location: time.UTC}
}

// OpsReview builds the review of the window that ends at to.
func (r *Reviews) OpsReview(ctx context.Context, to time.Time, window time.Duration) (Review, error) {
	from := to.Add(-window)
	rv := Review{From: from, To: to, Currency: r.problems.incidents.costs.Currency, ParetoWindow: r.ParetoWindow}
	incs, err := r.store.IncidentsOpened(ctx, from, to)
	if err != nil {
		return rv, fmt.Errorf("listing the incidents of the review: %w", err)
	}
	suspects := map[int64]bool{}
	for _, inc := range incs {
		timeline, err := r.store.Timeline(ctx, inc.ID)
		if err != nil {
			return rv, fmt.Errorf("reading the timeline of %s: %w", inc.Ref(), err)
		}
		sum := Summarize(&inc, timeline)
		if !inc.Closed() && inc.ResolvedAt.IsZero() {
			sum.Timebox, sum.HasTimebox = inc.Timebox.Adherence(to)
		}
		rv.Incidents = append(rv.Incidents, ReviewedIncident{Incident: inc, Summary: sum})
		if inc.Cost == nil {
			rv.Uncosted++
		} else {
			rv.Cost += inc.Cost.Amount
		}
		if sum.HasTimebox {
			rv.Timeboxes++
			if sum.Timebox.Over == 0 && !sum.Timebox.Running {
				rv.Kept++
			}
			if sum.Timebox.Extensions > 0 {
				rv.Extended++
			}
		}
		for id, e := range Verdicts(timeline) {
			if e.Kind == EntrySuspect {
				suspects[id] = true
			}
		}
	}
	changes, err := r.changes.Recent(ctx, ChangeQuery{Since: from, Until: to, Limit: MaxReviewChanges + 1})
	if err != nil {
		return rv, err
	}
	rv.ChangesCapped = len(changes) > MaxReviewChanges
	rv.Changes = min(len(changes), MaxReviewChanges)
	for _, c := range changes[:rv.Changes] {
		if suspects[c.ID] {
			rv.Suspect++
		}
	}
	if rv.Open, err = r.problems.Ranked(ctx); err != nil {
		return rv, err
	}
	if rv.Pareto, err = r.Pareto(ctx, to); err != nil {
		return rv, err
	}
	rv.Location = r.Location
	if rv.Weeks, err = r.Weeks(ctx, to); err != nil {
		return rv, err
	}
	if r.Actions != nil {
		open, err := r.Actions.OpenActions(ctx, "")
		if err != nil {
			return rv, err
		}
		private := map[int64]bool{}
		for _, oa := range open {
			if !oa.Action.Overdue(to) {
				continue
			}
			p, seen := private[oa.IncidentID]
			if !seen {
				inc, err := r.problems.incidents.Incident(ctx, oa.IncidentID)
				if err != nil {
					return rv, fmt.Errorf("reading the incident of an overdue action: %w", err)
				}
				p = inc.Private
				private[oa.IncidentID] = p
			}
			oa.Private = p
			rv.Overdue = append(rv.Overdue, oa)
		}
	}
	rv.Names = map[string]string{}
	var missing []string
	for _, ri := range rv.Incidents {
		for id, n := range ri.Summary.Names {
			rv.Names[id] = n
		}
		missing = append(missing, ri.Summary.TDOs...)
		missing = append(missing, mentioned(ri.Incident.Title)...)
	}
	for _, oa := range rv.Overdue {
		missing = append(missing, oa.Action.Owner)
		missing = append(missing, mentioned(oa.Action.Expected, oa.Issue)...)
	}
	for id, n := range r.problems.incidents.resolve(ctx, missing...) {
		if rv.Names[id] == "" {
			rv.Names[id] = n
		}
	}
	return rv, nil
}

// Pareto ranks problems over the ParetoWindow that ends at to: the
// review's chart, drawn alone.
func (r *Reviews) Pareto(ctx context.Context, to time.Time) (Pareto, error) {
	var since time.Time
	if r.ParetoWindow > 0 {
		since = to.Add(-r.ParetoWindow)
	}
	return r.problems.Pareto(ctx, since)
}

// Weeks counts incidents by cost class over the ReviewWeeks weeks up to
// to: the review's weekly chart, drawn alone.
func (r *Reviews) Weeks(ctx context.Context, to time.Time) ([]WeekClasses, error) {
	recent, err := r.store.IncidentsOpened(ctx, to.AddDate(0, 0, -7*ReviewWeeks), to)
	if err != nil {
		return nil, fmt.Errorf("listing the incidents of the last %d weeks: %w", ReviewWeeks, err)
	}
	return WeeklyByClass(recent, to, ReviewWeeks, r.Location), nil
}

// ClassNames are the columns of WeekClasses.Counts: the cost classes, then
// incidents with no cost entered.
var ClassNames = []string{"C1", "C2", "C3", "C4", "no cost"}

// WeekClasses counts a week's incidents by cost class.
type WeekClasses struct {
	// Start is the week's Monday, 00:00 in the review's time zone.
	Start time.Time
	// Counts is aligned with ClassNames.
	Counts [5]int
}

// ReviewWeeks is how many weeks the weekly chart shows.
const ReviewWeeks = 8

// WeeklyByClass counts the incidents opened in the weeks (Monday to
// Sunday, in loc) up to the one holding to, oldest first.
func WeeklyByClass(incs []Incident, to time.Time, weeks int, loc *time.Location) []WeekClasses {
	t := to.In(loc)
	monday := time.Date(t.Year(), t.Month(), t.Day()-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
	out := make([]WeekClasses, weeks)
	for i := range out {
		out[i].Start = monday.AddDate(0, 0, -7*(weeks-1-i))
	}
	for _, inc := range incs {
		at := inc.OpenedAt.In(loc)
		if at.Before(out[0].Start) || !at.Before(monday.AddDate(0, 0, 7)) {
			continue
		}
		i := weeks - 1
		for i > 0 && at.Before(out[i].Start) {
			i--
		}
		col := 4
		if inc.Cost != nil {
			col = int(inc.Cost.Class) - 1
		}
		out[i].Counts[col]++
	}
	return out
}
