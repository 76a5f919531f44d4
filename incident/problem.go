package incident

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/internal/clock"
)

// ProblemStatus is whether a problem is still to be removed.
type ProblemStatus string

// The problem statuses.
const (
	ProblemOpen   ProblemStatus = "open"
	ProblemClosed ProblemStatus = "closed"
)

// Problem is the cause of one or more incidents. Removing it for good is
// its goal; its incidents' customer cost says how urgent that is.
type Problem struct {
	// ID is also its reference number: PRB-<ID>.
	ID        int64
	Title     string
	Status    ProblemStatus
	CreatedBy string
	CreatedAt time.Time
	// Fix says how it was removed; set when it is closed.
	Fix      string
	ClosedBy string
	ClosedAt time.Time
}

// Ref returns the problem's reference, "PRB-3".
func (p *Problem) Ref() string { return "PRB-" + strconv.FormatInt(p.ID, 10) }

// ParseProblemRef reads "PRB-3", "prb-3", "PRB3" or "3".
func ParseProblemRef(text string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(text))
	t = strings.TrimPrefix(strings.TrimPrefix(t, "PRB"), "-")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a problem reference: write it as PRB-3", text)
	}
	return n, nil
}

// MaxProblemTitle is the longest problem title, in runes.
const MaxProblemTitle = 150

// ProblemStore is what the problem use cases need from storage. Links are
// kept on the incident (Incident.Problems) and stored with it.
type ProblemStore interface {
	// CreateProblem stores p and sets its ID.
	CreateProblem(ctx context.Context, p *Problem) error
	// Problem returns the problem with this ID, or ErrNotFound.
	Problem(ctx context.Context, id int64) (*Problem, error)
	// UpdateProblem changes problem id under a lock: it calls change and,
	// if that returns nil, stores the result.
	UpdateProblem(ctx context.Context, id int64, change func(*Problem) error) (*Problem, error)
	// ListProblems returns the problems with this status ("" for all), by ID.
	ListProblems(ctx context.Context, status ProblemStatus) ([]Problem, error)
	// ProblemIncidents returns the incidents linked to problem id, newest
	// first.
	ProblemIncidents(ctx context.Context, id int64) ([]Incident, error)
	// CostTally sums up the incidents opened at or after since as Tally
	// does.
	CostTally(ctx context.Context, since time.Time) (CostTally, error)
	// ProblemTallies returns, for each problem with this status ("" for
	// all) linked to an incident, its all-time ProblemCost, by ID: what
	// CostTally(zero time).ByProblem holds for it, kept as links and costs
	// change, so reading it does not grow with history.
	ProblemTallies(ctx context.Context, status ProblemStatus) ([]ProblemCost, error)
}

// Problems holds the problem use cases.
type Problems struct {
	store     ProblemStore
	incidents *Service
	clock     clock.Clock
}

// NewProblems returns the problem use cases over store; links and costs
// change incidents through incidents.
func NewProblems(store ProblemStore, incidents *Service, c clock.Clock) *Problems {
	return &Problems{store: store, incidents: incidents, clock: c}
}

// New records a new open problem.
func (p *Problems) New(ctx context.Context, actor, title string) (*Problem, error) {
	title = NormalizeTitle(title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return nil, &FieldError{"title", "the problem needs a title that names the cause, e.g. /problem new Connection pool too small on db-2"}
	case n > MaxProblemTitle:
		return nil, &FieldError{"title", fmt.Sprintf("the title is %d characters; keep it to %d", n, MaxProblemTitle)}
	}
	prb := &Problem{Title: title, Status: ProblemOpen, CreatedBy: actor, CreatedAt: p.clock.Now()}
	if err := p.store.CreateProblem(ctx, prb); err != nil {
		return nil, fmt.Errorf("recording the problem: %w", err)
	}
	return prb, nil
}

// Get returns problem id.
func (p *Problems) Get(ctx context.Context, id int64) (*Problem, error) {
	return p.store.Problem(ctx, id)
}

// Close closes a problem with the fix that removed it. Closing a closed
// problem wraps ErrNoChange.
func (p *Problems) Close(ctx context.Context, id int64, actor, fix string) (*Problem, error) {
	fix = NormalizeTitle(fix)
	switch n := utf8.RuneCountInString(fix); {
	case n == 0:
		return nil, &FieldError{"fix", "say what removed the cause, e.g. /problem close PRB-3 pool sized from load test"}
	case n > MaxNote:
		return nil, &FieldError{"fix", fmt.Sprintf("the fix is %d characters; keep it to %d", n, MaxNote)}
	}
	return p.store.UpdateProblem(ctx, id, func(prb *Problem) error {
		if prb.Status == ProblemClosed {
			return fmt.Errorf("%s was closed on %s: %w", prb.Ref(), prb.ClosedAt.Format("2006-01-02"), ErrNoChange)
		}
		prb.Status, prb.Fix, prb.ClosedBy, prb.ClosedAt = ProblemClosed, fix, actor, p.clock.Now()
		return nil
	})
}

// ProblemDetail is a problem with its incidents and what they cost.
type ProblemDetail struct {
	Problem   Problem
	Incidents []Incident
	// Cost is the problem's share of its incidents' costs (an incident on
	// n problems gives each 1/n); Uncosted counts incidents without a cost.
	Cost     float64
	Uncosted int
}

// Detail returns problem id with its incidents and cost.
func (p *Problems) Detail(ctx context.Context, id int64) (*ProblemDetail, error) {
	prb, err := p.store.Problem(ctx, id)
	if err != nil {
		return nil, err
	}
	incs, err := p.store.ProblemIncidents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading the incidents of %s: %w", prb.Ref(), err)
	}
	d := &ProblemDetail{Problem: *prb, Incidents: incs}
	for _, pc := range Tally(incs, time.Time{}).ByProblem {
		if pc.ProblemID == id {
			d.Cost, d.Uncosted = pc.Cost, pc.Uncosted
		}
	}
	return d, nil
}

// Ranked returns the open problems ranked by the cost of all their
// incidents, costliest first, as a Pareto over all time.
func (p *Problems) Ranked(ctx context.Context) (Pareto, error) {
	costs, err := p.store.ProblemTallies(ctx, ProblemOpen)
	if err != nil {
		return Pareto{}, fmt.Errorf("adding up customer cost: %w", err)
	}
	problems, err := p.store.ListProblems(ctx, ProblemOpen)
	if err != nil {
		return Pareto{}, fmt.Errorf("listing problems: %w", err)
	}
	out := RankPareto(CostTally{ByProblem: costs}, problems, ParetoThreshold, true)
	out.Currency = p.incidents.costs.Currency
	return out, nil
}

// Pareto ranks the problems whose incidents opened at or after since by
// the cost of those incidents, and finds the vital few that reach
// ParetoThreshold of it.
func (p *Problems) Pareto(ctx context.Context, since time.Time) (Pareto, error) {
	tally, err := p.store.CostTally(ctx, since)
	if err != nil {
		return Pareto{}, fmt.Errorf("adding up customer cost: %w", err)
	}
	problems, err := p.store.ListProblems(ctx, "")
	if err != nil {
		return Pareto{}, fmt.Errorf("listing problems: %w", err)
	}
	out := RankPareto(tally, problems, ParetoThreshold, false)
	out.Since, out.Currency = since, p.incidents.costs.Currency
	return out, nil
}

// Link links problem problemID to the incident and records it on the
// timeline. Linking twice wraps ErrNoChange; a closed incident can still
// be linked, as causes are often found after.
func (p *Problems) Link(ctx context.Context, incidentID, problemID int64, actor string) (*Incident, TimelineEntry, *Problem, error) {
	prb, err := p.store.Problem(ctx, problemID)
	if err != nil {
		return nil, TimelineEntry{}, nil, err
	}
	inc, e, err := p.incidents.update(withPeople(ctx, actor), incidentID, JobAnnotated, true, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if slices.Contains(inc.Problems, problemID) {
			return TimelineEntry{}, fmt.Errorf("%s is linked to %s already: %w", prb.Ref(), inc.Ref(), ErrNoChange)
		}
		if len(inc.Problems) >= MaxProblemsPerIncident {
			return TimelineEntry{}, &FieldError{"problem", fmt.Sprintf("%s has %d problems linked; unlink one first", inc.Ref(), len(inc.Problems))}
		}
		inc.Problems = append(inc.Problems, problemID)
		slices.Sort(inc.Problems)
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryLinked, Subject: prb.Ref(), Text: "Linked problem " + prb.Ref() + ": " + prb.Title}, nil
	}, nil)
	return inc, e, prb, err
}

// MaxProblemsPerIncident bounds the problems one incident is linked to.
const MaxProblemsPerIncident = 20

// Unlink removes the link and records it. Unlinking a problem not linked
// wraps ErrNoChange.
func (p *Problems) Unlink(ctx context.Context, incidentID, problemID int64, actor string) (*Incident, TimelineEntry, *Problem, error) {
	prb, err := p.store.Problem(ctx, problemID)
	if err != nil {
		return nil, TimelineEntry{}, nil, err
	}
	inc, e, err := p.incidents.update(withPeople(ctx, actor), incidentID, JobAnnotated, true, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		i := slices.Index(inc.Problems, problemID)
		if i < 0 {
			return TimelineEntry{}, fmt.Errorf("%s is not linked to %s: %w", prb.Ref(), inc.Ref(), ErrNoChange)
		}
		inc.Problems = slices.Delete(inc.Problems, i, i+1)
		return TimelineEntry{Actor: actor, Kind: EntryUnlinked, Subject: prb.Ref(), Text: "Unlinked problem " + prb.Ref() + ": " + prb.Title}, nil
	}, nil)
	return inc, e, prb, err
}

// JobAnnotated is the kind of the durable job that shows a change to an
// incident's record that is not news for the incidents channel (its cost,
// its problems): the header re-rendered and a line in the room. Its payload
// is a ChangePayload.
const JobAnnotated = "incident.annotated"

// SetCostModel sets how costs are priced. Call it before the service is
// used.
func (s *Service) SetCostModel(m CostModel) { s.costs = m }

// CostModel returns how costs are priced.
func (s *Service) CostModel() CostModel { return s.costs }

// SetCost prices in and makes it the incident's customer cost, recording
// the change (old and new) on the timeline. An input with nothing entered
// is a *FieldError; entering the same again wraps ErrNoChange.
func (s *Service) SetCost(ctx context.Context, incidentID int64, actor string, in CostInput) (*Incident, TimelineEntry, error) {
	if err := in.Validate(); err != nil {
		return nil, TimelineEntry{}, err
	}
	if in.Empty() {
		return nil, TimelineEntry{}, &FieldError{"cost", "nothing was entered: fill in at least one field (0 is a value)"}
	}
	return s.update(withPeople(ctx, actor), incidentID, JobAnnotated, true, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		cost := s.costs.Price(in)
		cost.SetBy, cost.SetAt = actor, now
		text := cost.Describe()
		if old := inc.Cost; old != nil {
			if old.Amount == cost.Amount && reflect.DeepEqual(old.Input, in) {
				return TimelineEntry{}, fmt.Errorf("%s has this cost already: %w", inc.Ref(), ErrNoChange)
			}
			text += fmt.Sprintf(" (was %s, %s)", FormatMoney(old.Currency, old.Amount), old.Class)
		}
		inc.Cost = &cost
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryCost, Subject: cost.Class.String(), Text: text}, nil
	}, nil)
}

// MaxPicked bounds the problems offered in a picker, as Slack's select
// menus hold 100 options.
const MaxPicked = 100

// Open returns the open problems, newest first, at most MaxPicked.
func (p *Problems) Open(ctx context.Context) ([]Problem, error) {
	list, err := p.store.ListProblems(ctx, ProblemOpen)
	if err != nil {
		return nil, fmt.Errorf("listing problems: %w", err)
	}
	slices.Reverse(list)
	return list[:min(len(list), MaxPicked)], nil
}
