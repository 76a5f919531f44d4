package checklist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// State is where a run stands.
type State string

// The states of a run.
const (
	StateActive    State = "active"
	StateCompleted State = "completed"
	StateAborted   State = "aborted"
)

// Run is one walk through a template, in one chat channel.
type Run struct {
	ID       int64
	Template string
	Title    string
	System   string
	// Label says what is released: "v2.14.0".
	Label string
	// Steps are the template's, as they were when the run started.
	Steps     []Step
	ChannelID string
	// MessageTS is the checklist message, once posted.
	MessageTS string
	StartedBy string
	StartedAt time.Time
	State     State
	// EndedAt is when it completed or was aborted; Reason why it was aborted.
	EndedAt time.Time
	Reason  string
	// Version counts the run's events; each click makes one.
	Version int
	// RequestKey makes Start idempotent.
	RequestKey string
}

// Ref is the run's reference, "CL-7".
func (r *Run) Ref() string { return "CL-" + strconv.FormatInt(r.ID, 10) }

// Finished reports whether the run completed or was aborted.
func (r *Run) Finished() bool { return r.State != StateActive }

// Action is what an event did.
type Action string

// The actions of events.
const (
	ActionTick     Action = "tick"
	ActionUntick   Action = "untick"
	ActionSkip     Action = "skip"
	ActionComplete Action = "complete"
	ActionAbort    Action = "abort"
)

// Event is one thing done to a run, numbered from 1 in order (Seq).
type Event struct {
	RunID  int64
	Seq    int
	At     time.Time
	Actor  string
	Action Action
	// Step is the step's index, for tick, untick and skip.
	Step   int
	Reason string
}

// StepState is a step as the events leave it.
type StepState struct {
	Done    bool
	Skipped bool
	By      string
	At      time.Time
	Reason  string
}

// States replays events over steps.
func States(steps []Step, events []Event) []StepState {
	out := make([]StepState, len(steps))
	for _, e := range events {
		if e.Step < 0 || e.Step >= len(out) {
			continue
		}
		switch e.Action {
		case ActionTick:
			out[e.Step] = StepState{Done: true, By: e.Actor, At: e.At}
		case ActionUntick:
			out[e.Step] = StepState{}
		case ActionSkip:
			out[e.Step] = StepState{Skipped: true, By: e.Actor, At: e.At, Reason: e.Reason}
		}
	}
	return out
}

// Skippable returns the steps that may still be skipped: not critical,
// neither ticked nor skipped.
func Skippable(steps []Step, states []StepState) []int {
	var out []int
	for i, s := range steps {
		if !s.Critical && !states[i].Done && !states[i].Skipped {
			out = append(out, i)
		}
	}
	return out
}

// Progress sums states up.
type Progress struct {
	// Done counts steps ticked or skipped, of Total.
	Done, Total int
	// CriticalLeft counts critical steps not ticked.
	CriticalLeft int
}

// Complete reports whether every step is ticked or skipped.
func (p Progress) Complete() bool { return p.Done == p.Total && p.CriticalLeft == 0 }

// String is "7 of 12 · 2 critical left".
func (p Progress) String() string {
	s := fmt.Sprintf("%d of %d", p.Done, p.Total)
	if p.CriticalLeft > 0 {
		s += fmt.Sprintf(" · %d critical left", p.CriticalLeft)
	}
	return s
}

// Measure computes the progress of states over steps.
func Measure(steps []Step, states []StepState) Progress {
	p := Progress{Total: len(steps)}
	for i, s := range states {
		if s.Done || s.Skipped {
			p.Done++
		}
		if steps[i].Critical && !s.Done {
			p.CriticalLeft++
		}
	}
	return p
}

// Store is what the checklist use cases need from storage.
type Store interface {
	// CreateRun gives r an ID and stores it with the jobs follow returns,
	// in one transaction. If r.RequestKey is set and a run has it, it
	// stores nothing, fills r with that run and returns an error wrapping
	// ErrDuplicate.
	CreateRun(ctx context.Context, r *Run, follow func(*Run) []jobs.Job) error
	// Run returns a run, or ErrNotFound.
	Run(ctx context.Context, id int64) (*Run, error)
	// Events returns a run's events, by Seq.
	Events(ctx context.Context, runID int64) ([]Event, error)
	// UpdateRun changes run id atomically: under a lock that serialises
	// changes of the run, it calls change with the run and its events; if
	// change returns nil it stores the run, the new events (Seq and RunID
	// set, Version raised) and the jobs follow returns, in one transaction.
	UpdateRun(ctx context.Context, id int64, change func(*Run, []Event) ([]Event, error),
		follow func(*Run, []Event) []jobs.Job) (*Run, []Event, error)
	// SetRunMessage records where the run's message is.
	SetRunMessage(ctx context.Context, id int64, channel, ts string) error
	// ActiveRuns returns the runs not finished, newest first, at most limit.
	ActiveRuns(ctx context.Context, limit int) ([]Run, error)
}

// Errors of the use cases, for errors.Is.
var (
	ErrNotFound  = errors.New("no such checklist run")
	ErrDuplicate = errors.New("duplicate request")
	// ErrFinished means the run completed or was aborted.
	ErrFinished = incident.NewUserError("the checklist is finished")
	// ErrNoChange means the step is in that state already.
	ErrNoChange = incident.NewUserError("nothing to change")
)

// Jobs of a run. Each payload is a JobPayload.
const (
	// JobPost posts the run's message (the store is written first).
	JobPost = "checklist.post"
	// JobRefresh re-renders the message from the store.
	JobRefresh = "checklist.refresh"
	// JobFinished posts the summary of a completed or aborted run and, for
	// a completed release, logs the change.
	JobFinished = "checklist.finished"
	// JobRemind reminds an idle run in its thread, once per idle spell.
	JobRemind = "checklist.remind"
)

// JobPayload names the run and, for reminders, the version it waits on.
type JobPayload struct {
	RunID   int64 `json:"run_id"`
	Version int   `json:"version,omitempty"`
}

// Service holds the checklist use cases.
type Service struct {
	store     Store
	clock     clock.Clock
	templates Templates
	// idle is how long a run may sit still before its reminder.
	idle time.Duration
}

// DefaultIdle is how long a run may sit still before it is reminded.
const DefaultIdle = 15 * time.Minute

// NewService returns a Service over store with these templates; idle 0
// means DefaultIdle.
func NewService(store Store, c clock.Clock, templates Templates, idle time.Duration) *Service {
	if idle <= 0 {
		idle = DefaultIdle
	}
	return &Service{store: store, clock: c, templates: templates, idle: idle}
}

// Templates returns the templates runs start from.
func (s *Service) Templates() Templates { return s.templates }

// Idle is how long a run may sit still before it is reminded.
func (s *Service) Idle() time.Duration { return s.idle }

// MaxLabel bounds a run's label.
const MaxLabel = 80

// StartRequest starts a run.
type StartRequest struct {
	Template   string
	Label      string
	Actor      string
	ChannelID  string
	RequestKey string
}

// Start records a new run of a template and schedules its message and
// its idle reminder. created is false if the request key started one
// already; that run is returned.
func (s *Service) Start(ctx context.Context, req StartRequest) (run *Run, created bool, err error) {
	t, ok := s.templates[strings.ToLower(strings.TrimSpace(req.Template))]
	if !ok {
		return nil, false, &incident.FieldError{Field: "template", Problem: fmt.Sprintf("there is no checklist %q; the checklists are %s",
			req.Template, strings.Join(s.templates.Names(), ", "))}
	}
	req.Label = incident.NormalizeTitle(req.Label)
	if n := utf8.RuneCountInString(req.Label); n > MaxLabel {
		return nil, false, &incident.FieldError{Field: "label", Problem: fmt.Sprintf("the label is %d characters; keep it to %d", n, MaxLabel)}
	}
	now := s.clock.Now()
	run = &Run{Template: t.Name, Title: t.Title, System: t.System, Label: req.Label, Steps: t.Steps,
		ChannelID: req.ChannelID, StartedBy: req.Actor, StartedAt: now, State: StateActive, RequestKey: req.RequestKey}
	err = s.store.CreateRun(ctx, run, func(r *Run) []jobs.Job {
		return []jobs.Job{RunJob(JobPost, r, 0, now), s.reminder(r, now)}
	})
	if errors.Is(err, ErrDuplicate) {
		return run, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("recording the checklist: %w", err)
	}
	return run, true, nil
}

// RunJob is the job of kind about run r (version v), due at due. Its key
// is unique to the run (and version, for kinds that take one).
func RunJob(kind string, r *Run, v int, due time.Time) jobs.Job {
	payload, _ := json.Marshal(JobPayload{RunID: r.ID, Version: v})
	key := kind + ":" + strconv.FormatInt(r.ID, 10)
	if v > 0 || kind == JobRemind {
		key += ":" + strconv.Itoa(v)
	}
	return jobs.Job{Kind: kind, Key: key, Payload: payload, DueAt: due}
}

// reminder is the reminder job of r at its current version.
func (s *Service) reminder(r *Run, now time.Time) jobs.Job {
	return RunJob(JobRemind, r, r.Version, now.Add(s.idle))
}

// MarkRequest ticks, unticks or skips a step.
type MarkRequest struct {
	RunID  int64
	Actor  string
	Step   int
	Action Action
	// Reason is required to skip.
	Reason string
}

// Mark records a tick, untick or skip, and completes the run when every
// critical step is ticked and every other ticked or skipped. Critical steps
// cannot be skipped. The same state twice wraps ErrNoChange; a finished run
// wraps ErrFinished.
func (s *Service) Mark(ctx context.Context, req MarkRequest) (*Run, []Event, error) {
	switch req.Action {
	case ActionTick, ActionUntick:
	case ActionSkip:
		req.Reason = incident.NormalizeTitle(req.Reason)
		switch n := utf8.RuneCountInString(req.Reason); {
		case n == 0:
			return nil, nil, &incident.FieldError{Field: "reason", Problem: "say why the step is skipped"}
		case n > incident.MaxNote:
			return nil, nil, &incident.FieldError{Field: "reason", Problem: fmt.Sprintf("the reason is %d characters; keep it to %d", n, incident.MaxNote)}
		}
	default:
		return nil, nil, &incident.FieldError{Field: "action", Problem: fmt.Sprintf("%q is not tick, untick or skip", req.Action)}
	}
	return s.change(ctx, req.RunID, func(r *Run, events []Event, now time.Time) ([]Event, error) {
		if req.Step < 0 || req.Step >= len(r.Steps) {
			return nil, &incident.FieldError{Field: "step", Problem: fmt.Sprintf("%s has no step %d", r.Ref(), req.Step+1)}
		}
		step := r.Steps[req.Step]
		st := States(r.Steps, events)[req.Step]
		switch {
		case req.Action == ActionTick && st.Done:
			return nil, fmt.Errorf("step %d is ticked already: %w", req.Step+1, ErrNoChange)
		case req.Action == ActionUntick && !st.Done && !st.Skipped:
			return nil, fmt.Errorf("step %d is not ticked: %w", req.Step+1, ErrNoChange)
		case req.Action == ActionSkip && step.Critical:
			return nil, &incident.FieldError{Field: "step", Problem: fmt.Sprintf("step %d (%s) is critical: it must be done, not skipped", req.Step+1, step.Text)}
		case req.Action == ActionSkip && (st.Done || st.Skipped):
			return nil, fmt.Errorf("step %d is done or skipped already: %w", req.Step+1, ErrNoChange)
		}
		out := []Event{{At: now, Actor: req.Actor, Action: req.Action, Step: req.Step, Reason: req.Reason}}
		after := States(r.Steps, append(append([]Event(nil), events...), out...))
		if Measure(r.Steps, after).Complete() {
			r.State, r.EndedAt = StateCompleted, now
			out = append(out, Event{At: now, Actor: req.Actor, Action: ActionComplete, Step: -1})
		}
		return out, nil
	})
}

// Abort ends an active run, recording who and why.
func (s *Service) Abort(ctx context.Context, runID int64, actor, reason string) (*Run, []Event, error) {
	reason = incident.NormalizeTitle(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return nil, nil, &incident.FieldError{Field: "reason", Problem: "say why the checklist is aborted"}
	case n > incident.MaxNote:
		return nil, nil, &incident.FieldError{Field: "reason", Problem: fmt.Sprintf("the reason is %d characters; keep it to %d", n, incident.MaxNote)}
	}
	return s.change(ctx, runID, func(r *Run, _ []Event, now time.Time) ([]Event, error) {
		r.State, r.EndedAt, r.Reason = StateAborted, now, reason
		return []Event{{At: now, Actor: actor, Action: ActionAbort, Step: -1, Reason: reason}}, nil
	})
}

// change runs one change of an active run: the new events, a re-render of
// the message, the idle reminder moved to the new version (or called off
// when the run finishes), and the summary when it finishes.
func (s *Service) change(ctx context.Context, runID int64, apply func(r *Run, events []Event, now time.Time) ([]Event, error)) (*Run, []Event, error) {
	now := s.clock.Now()
	var before int
	return s.store.UpdateRun(ctx, runID, func(r *Run, events []Event) ([]Event, error) {
		if r.Finished() {
			return nil, fmt.Errorf("%s was %s at %s: %w", r.Ref(), r.State, r.EndedAt.UTC().Format("15:04 UTC"), ErrFinished)
		}
		before = r.Version
		return apply(r, events, now)
	}, func(r *Run, _ []Event) []jobs.Job {
		out := []jobs.Job{RunJob(JobRefresh, r, r.Version, now), jobs.Cancel(RunJob(JobRemind, r, before, now).Key, now)}
		if r.Finished() {
			return append(out, RunJob(JobFinished, r, 0, now))
		}
		return append(out, s.reminder(r, now))
	})
}

// Remind reports whether run id, at version v, should be reminded now: it
// is active and nothing happened since v.
func (s *Service) Remind(ctx context.Context, id int64, v int) (*Run, bool, error) {
	r, err := s.store.Run(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return r, !r.Finished() && r.Version == v, nil
}

// Run returns a run and its events.
func (s *Service) Run(ctx context.Context, id int64) (*Run, []Event, error) {
	r, err := s.store.Run(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	events, err := s.store.Events(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return r, events, nil
}

// Active returns the runs not finished, newest first.
func (s *Service) Active(ctx context.Context) ([]Run, error) {
	return s.store.ActiveRuns(ctx, 100)
}

// Posted records where a run's message is.
func (s *Service) Posted(ctx context.Context, r *Run, channel, ts string) error {
	r.ChannelID, r.MessageTS = channel, ts
	return s.store.SetRunMessage(ctx, r.ID, channel, ts)
}

// Summary is what a finished run comes to.
type Summary struct {
	Duration time.Duration
	// By lists, for each person, the steps they ticked (1-based).
	By map[string][]int
	// Skipped are the steps skipped, with who and why.
	Skipped []Skip
}

// Skip is a step skipped.
type Skip struct {
	Step   int
	By     string
	Reason string
}

// Summarize sums a finished run up from its events.
func Summarize(r *Run, events []Event) Summary {
	sum := Summary{By: map[string][]int{}}
	if !r.EndedAt.IsZero() {
		sum.Duration = r.EndedAt.Sub(r.StartedAt)
	}
	for i, st := range States(r.Steps, events) {
		switch {
		case st.Done:
			sum.By[st.By] = append(sum.By[st.By], i+1)
		case st.Skipped:
			sum.Skipped = append(sum.Skipped, Skip{Step: i + 1, By: st.By, Reason: st.Reason})
		}
	}
	return sum
}

// Change is the change-log entry of a completed release run: source
// checklist, the label as what was done, the starter as who.
func Change(r *Run) (incident.Change, bool) {
	if r.State != StateCompleted || r.System == "" {
		return incident.Change{}, false
	}
	summary := r.Title
	if r.Label != "" {
		summary = r.Label + " (" + r.Title + ")"
	}
	return incident.Change{
		OccurredAt: r.EndedAt, Systems: []string{r.System}, Person: r.StartedBy, Summary: summary,
		Reason: "checklist " + r.Template + " completed", Kind: incident.KindDeploy,
		Source: incident.SourceChecklist, ExternalID: "checklist:" + r.Ref(),
	}, true
}
