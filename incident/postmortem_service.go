package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// PostmortemStore is what the postmortem use cases need from storage.
type PostmortemStore interface {
	// CreatePostmortem stores a new postmortem with the jobs follow
	// returns, in one transaction; ErrDuplicate if the incident has one.
	CreatePostmortem(ctx context.Context, pm *Postmortem, follow func(*Postmortem) []jobs.Job) error
	// Postmortem returns the postmortem of an incident, or ErrNotFound.
	Postmortem(ctx context.Context, incidentID int64) (*Postmortem, error)
	// UpdatePostmortem changes it under a lock: it calls change and, if
	// that returns nil, stores the result (Version increased) with the
	// jobs follow returns, in one transaction.
	UpdatePostmortem(ctx context.Context, incidentID int64, change func(*Postmortem) error,
		follow func(*Postmortem) []jobs.Job) (*Postmortem, error)
	// OpenActions returns the actions not done, of every postmortem, owned
	// by owner ("" for anyone's), soonest due first.
	OpenActions(ctx context.Context, owner string) ([]OwnedAction, error)
}

// OwnedAction is an action with the postmortem it belongs to.
type OwnedAction struct {
	IncidentID int64
	Action     Action
	// Issue is the text of the issue it addresses.
	Issue string
	// Private is set (by the operations review) when the incident is
	// private: Review.Redacted then hides the texts.
	Private bool
}

// The jobs of postmortem actions and of showing a postmortem. Their
// payload is an ActionPayload (JobPostmortemChanged: its IncidentID only).
const (
	JobPostmortemChanged = "postmortem.changed"
	JobActionAssigned    = "postmortem.action_assigned"
	JobActionReminder    = "postmortem.action_reminder"
	JobActionOverdue     = "postmortem.action_overdue"
)

// ActionPayload names an action of a postmortem.
type ActionPayload struct {
	IncidentID int64 `json:"incident_id"`
	Action     int   `json:"action,omitempty"`
	Version    int   `json:"version,omitempty"`
}

// Limits on a postmortem.
const (
	MaxPMText    = 1000
	MaxPMEntries = 300
	MaxIssues    = 40
	MaxActions   = 100
)

// Postmortems holds the postmortem use cases.
type Postmortems struct {
	store     PostmortemStore
	incidents *Service
	changes   *ChangeLog
	clock     clock.Clock
	loc       *time.Location
}

// NewPostmortems returns the postmortem use cases; changes names the
// suspect changes in the document.
func NewPostmortems(store PostmortemStore, incidents *Service, changes *ChangeLog, c clock.Clock) *Postmortems {
	return &Postmortems{store: store, incidents: incidents, changes: changes, clock: c, loc: time.UTC}
}

// SetLocation sets the time zone of due dates (default UTC).
func (p *Postmortems) SetLocation(loc *time.Location) { p.loc = loc }

// Location is the time zone of due dates.
func (p *Postmortems) Location() *time.Location { return p.loc }

// ErrNoPostmortem means the incident has no postmortem yet.
var ErrNoPostmortem = NewUserError("no postmortem has started: start one with /postmortem start")

// Get returns the postmortem of an incident, or ErrNoPostmortem.
func (p *Postmortems) Get(ctx context.Context, incidentID int64) (*Postmortem, error) {
	pm, err := p.store.Postmortem(ctx, incidentID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoPostmortem
	}
	return pm, err
}

// Start opens the postmortem of a restored or resolved incident, with the
// caller as facilitator, in phase 1, its timeline seeded from the
// incident's; it is shown in channel. Starting twice wraps ErrNoChange.
func (p *Postmortems) Start(ctx context.Context, incidentID int64, actor, channel string) (*Postmortem, error) {
	inc, err := p.incidents.Incident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if inc.Status != StatusRestored && inc.Status != StatusResolved {
		return nil, &FieldError{"status", fmt.Sprintf("%s is %s: a postmortem starts once service is restored (/incident status restored), when the story can be told whole", inc.Ref(), inc.Status)}
	}
	timeline, err := p.incidents.Timeline(ctx, inc)
	if err != nil {
		return nil, err
	}
	now := p.clock.Now()
	pm := &Postmortem{IncidentID: inc.ID, Facilitator: actor, Phase: PhaseTimeline, StartedBy: actor, StartedAt: now, ChannelID: channel}
	for _, e := range timeline {
		if len(pm.Timeline) == MaxPMEntries {
			break
		}
		pm.Timeline = append(pm.Timeline, PMEntry{ID: len(pm.Timeline) + 1, At: e.At, Text: truncateRunes(describeEntry(e), MaxPMText),
			Source: e.ID, Kind: e.Kind, Actor: e.Actor, Subject: e.Subject, Names: e.Facts.Names, By: entryBy(e)})
	}
	err = p.store.CreatePostmortem(ctx, pm, func(pm *Postmortem) []jobs.Job { return []jobs.Job{PostmortemJob(pm, now)} })
	if errors.Is(err, ErrDuplicate) {
		return pm, fmt.Errorf("the postmortem of %s started already (%s): %w", inc.Ref(), pm.Phase.Label(), ErrNoChange)
	}
	if err != nil {
		return nil, fmt.Errorf("recording the postmortem: %w", err)
	}
	return pm, nil
}

// PostmortemJob is the job that shows the postmortem as of its version;
// its key is unique to the version.
func PostmortemJob(pm *Postmortem, now time.Time) jobs.Job {
	payload, _ := json.Marshal(ActionPayload{IncidentID: pm.IncidentID, Version: pm.Version})
	return jobs.Job{Kind: JobPostmortemChanged, Key: fmt.Sprintf("%s:%d:%d", JobPostmortemChanged, pm.IncidentID, pm.Version),
		Payload: payload, DueAt: now}
}

// update runs one change of a postmortem that must be in phase want ("":
// any phase but complete), showing it afterwards; more adds jobs.
func (p *Postmortems) update(ctx context.Context, incidentID int64, want Phase, change func(pm *Postmortem, now time.Time) error,
	more func(pm *Postmortem, now time.Time) []jobs.Job) (*Postmortem, error) {
	now := p.clock.Now()
	pm, err := p.store.UpdatePostmortem(ctx, incidentID, func(pm *Postmortem) error {
		switch {
		case pm.Phase == PhaseComplete:
			return &PhaseError{Phase: pm.Phase, Want: want}
		case want != "" && pm.Phase != want:
			return &PhaseError{Phase: pm.Phase, Want: want}
		}
		return change(pm, now)
	}, func(pm *Postmortem) []jobs.Job {
		out := []jobs.Job{PostmortemJob(pm, now)}
		if more != nil {
			out = append(out, more(pm, now)...)
		}
		return out
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoPostmortem
	}
	return pm, err
}

// SetFacilitator makes user the facilitator. Who may hand facilitation
// over (the facilitator, the TDO or a commander) is the permission model's
// rule (access.HandFacilitation), which the caller checks first.
func (p *Postmortems) SetFacilitator(ctx context.Context, incidentID int64, actor, user string) (*Postmortem, error) {
	if user == "" {
		return nil, &FieldError{"facilitator", "name the new facilitator, e.g. @alice"}
	}
	who := p.incidents.resolve(ctx, user)[user]
	if who == "" {
		who = "that person"
	}
	return p.update(ctx, incidentID, "", func(pm *Postmortem, _ time.Time) error {
		if pm.Facilitator == user {
			return fmt.Errorf("%s facilitates already: %w", who, ErrNoChange)
		}
		pm.Facilitator = user
		return nil
	}, nil)
}

// checkText cleans text (CleanText) and checks it is there and not too long.
func checkText(field, text, what string) (string, error) {
	text = CleanText(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return "", &FieldError{field, what}
	case n > MaxPMText:
		return "", &FieldError{field, fmt.Sprintf("it is %d characters; keep it to %d", n, MaxPMText)}
	}
	return text, nil
}

// AddEntry adds a line to the timeline (phase 1 only).
func (p *Postmortems) AddEntry(ctx context.Context, incidentID int64, actor string, at time.Time, text string) (*Postmortem, error) {
	text, err := checkText("text", text, "say what happened at that time")
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, &FieldError{"time", "give the time it happened, e.g. 14:05 or 2026-11-24 14:05"}
	}
	return p.update(ctx, incidentID, PhaseTimeline, func(pm *Postmortem, now time.Time) error {
		if at.After(now) {
			return &FieldError{"time", "that time is in the future: the timeline records what happened"}
		}
		if len(pm.Timeline) >= MaxPMEntries {
			return &FieldError{"text", fmt.Sprintf("the timeline holds %d entries already", MaxPMEntries)}
		}
		id := nextID(pm.Timeline, func(e PMEntry) int { return e.ID })
		pm.Timeline = append(pm.Timeline, PMEntry{ID: id, At: at.UTC(), Text: text, AddedBy: actor, Actor: actor})
		pm.sortTimeline()
		return nil
	}, nil)
}

// EditEntry corrects a timeline entry's time and text (phase 1 only); the
// version it replaces is kept with who replaced it.
func (p *Postmortems) EditEntry(ctx context.Context, incidentID int64, actor string, id int, at time.Time, text string) (*Postmortem, error) {
	text, err := checkText("text", text, "say what happened at that time")
	if err != nil {
		return nil, err
	}
	return p.update(ctx, incidentID, PhaseTimeline, func(pm *Postmortem, now time.Time) error {
		e := pm.Entry(id)
		switch {
		case e == nil:
			return &FieldError{"entry", fmt.Sprintf("the timeline has no entry %d", id)}
		case at.After(now):
			return &FieldError{"time", "that time is in the future: the timeline records what happened"}
		case e.At.Equal(at) && e.Text == text:
			return fmt.Errorf("entry %d says that already: %w", id, ErrNoChange)
		}
		if at.IsZero() {
			at = e.At
		}
		e.Edits = append(e.Edits, Edit{At: e.At, Text: e.Text, EditedBy: actor, EditedAt: now})
		e.At, e.Text = at.UTC(), text
		pm.sortTimeline()
		return nil
	}, nil)
}

// AddIssue raises an issue (phase 2 only), on timeline entry entry when
// it is not 0.
func (p *Postmortems) AddIssue(ctx context.Context, incidentID int64, actor, text string, entry int) (*Postmortem, error) {
	text, err := checkText("issue", text, "say what went wrong or could go better, e.g. /postmortem issue the alert fired 20 minutes late")
	if err != nil {
		return nil, err
	}
	return p.update(ctx, incidentID, PhaseIssues, func(pm *Postmortem, now time.Time) error {
		if entry != 0 && pm.Entry(entry) == nil {
			return &FieldError{"entry", fmt.Sprintf("the timeline has no entry %d", entry)}
		}
		if len(pm.Issues) >= MaxIssues {
			return &FieldError{"issue", fmt.Sprintf("the postmortem has %d issues already: merge some", MaxIssues)}
		}
		id := nextID(pm.Issues, func(i Issue) int { return i.ID })
		pm.Issues = append(pm.Issues, Issue{ID: id, Text: text, Entry: entry, AddedBy: actor, AddedAt: now})
		return nil
	}, nil)
}

// ActionRequest asks for an action on an issue.
type ActionRequest struct {
	Issue    int
	Owner    string
	Expected string
	// Due is the due day: its date, in the service's time zone, counts.
	Due time.Time
}

// ValidateAction checks an action request field by field; the errors map
// fields (issue, owner, expected, due) to what to write instead.
func (p *Postmortems) ValidateAction(req ActionRequest) map[string]string {
	problems := map[string]string{}
	if req.Issue <= 0 {
		problems["issue"] = "Choose the issue this action addresses."
	}
	if req.Owner == "" {
		problems["owner"] = "Name one owner: the person who makes it happen."
	}
	switch n := utf8.RuneCountInString(CleanText(req.Expected)); {
	case n == 0:
		problems["expected"] = "Say what will be different when it is done, e.g. the alert fires within 2 minutes."
	case n > MaxPMText:
		problems["expected"] = fmt.Sprintf("Keep it to %d characters.", MaxPMText)
	}
	if req.Due.IsZero() {
		problems["due"] = "Give a due date."
	} else if !p.day(req.Due).After(p.day(p.clock.Now())) {
		problems["due"] = "The due date must be in the future (tomorrow or later)."
	}
	return problems
}

// day is the start of t's day in the service's time zone.
func (p *Postmortems) day(t time.Time) time.Time {
	t = t.In(p.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, p.loc)
}

// ActionError lists what is wrong with an action request, by field.
type ActionError struct{ Problems map[string]string }

func (e *ActionError) Error() string {
	var parts []string
	for _, f := range []string{"issue", "owner", "expected", "due"} {
		if msg, ok := e.Problems[f]; ok {
			parts = append(parts, f+": "+msg)
		}
	}
	return strings.Join(parts, " ")
}

// AddAction adds an action (phase 3 only): one owner, an expected
// result, a due date in the future. The owner is told at once, reminded
// the day before it is due, and told again when it is overdue.
func (p *Postmortems) AddAction(ctx context.Context, incidentID int64, actor string, req ActionRequest) (*Postmortem, *Action, error) {
	if problems := p.ValidateAction(req); len(problems) > 0 {
		return nil, nil, &ActionError{problems}
	}
	var added Action
	pm, err := p.update(ctx, incidentID, PhaseActions, func(pm *Postmortem, now time.Time) error {
		if pm.Issue(req.Issue) == nil {
			return &ActionError{map[string]string{"issue": fmt.Sprintf("There is no issue %d.", req.Issue)}}
		}
		if len(pm.Actions) >= MaxActions {
			return &FieldError{"action", fmt.Sprintf("the postmortem has %d actions already", MaxActions)}
		}
		added = Action{ID: nextID(pm.Actions, func(a Action) int { return a.ID }), Issue: req.Issue, Owner: req.Owner,
			Expected: CleanText(req.Expected), Due: p.day(req.Due), AddedBy: actor, AddedAt: now}
		pm.Actions = append(pm.Actions, added)
		return nil
	}, func(pm *Postmortem, now time.Time) []jobs.Job {
		return []jobs.Job{
			actionJob(JobActionAssigned, pm.IncidentID, added.ID, now),
			actionJob(JobActionReminder, pm.IncidentID, added.ID, added.Due.AddDate(0, 0, -1)),
			actionJob(JobActionOverdue, pm.IncidentID, added.ID, added.Due.AddDate(0, 0, 1)),
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return pm, pm.Action(added.ID), nil
}

// actionJob is the job of kind about an action, due at due.
func actionJob(kind string, incidentID int64, action int, due time.Time) jobs.Job {
	payload, _ := json.Marshal(ActionPayload{IncidentID: incidentID, Action: action})
	return jobs.Job{Kind: kind, Key: ActionJobKey(kind, incidentID, action), Payload: payload, DueAt: due}
}

// ActionJobKey is the key of the job of kind about an action.
func ActionJobKey(kind string, incidentID int64, action int) string {
	return fmt.Sprintf("%s:%d:%d", kind, incidentID, action)
}

// MarkDone records an action done by actor and cancels its pending
// reminders. Twice wraps ErrNoChange. Who may (its owner, the facilitator
// or a commander) is the permission model's rule (access.CompleteAction),
// which the caller checks first.
func (p *Postmortems) MarkDone(ctx context.Context, incidentID int64, action int, actor string) (*Postmortem, *Action, error) {
	now := p.clock.Now()
	pm, err := p.store.UpdatePostmortem(ctx, incidentID, func(pm *Postmortem) error {
		a := pm.Action(action)
		switch {
		case a == nil:
			return &FieldError{"action", fmt.Sprintf("the postmortem has no action %d", action)}
		case a.Done():
			return fmt.Errorf("action %d was marked done already: %w", action, ErrNoChange)
		}
		a.DoneBy, a.DoneAt = actor, now
		return nil
	}, func(pm *Postmortem) []jobs.Job {
		return []jobs.Job{PostmortemJob(pm, now),
			jobs.Cancel(ActionJobKey(JobActionReminder, incidentID, action), now),
			jobs.Cancel(ActionJobKey(JobActionOverdue, incidentID, action), now)}
	})
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNoPostmortem
	}
	if err != nil {
		return nil, nil, err
	}
	return pm, pm.Action(action), nil
}

// Next closes the current phase: the timeline needs an entry, the issues
// at least one issue, and the actions one for every issue. It returns what
// remains when it refuses: the issues without an action. Who may (the
// facilitator, the TDO or a commander) is the permission model's rule
// (access.MovePostmortem), which the caller checks first.
func (p *Postmortems) Next(ctx context.Context, incidentID int64, actor string) (*Postmortem, error) {
	return p.update(ctx, incidentID, "", func(pm *Postmortem, now time.Time) error {
		switch pm.Phase {
		case PhaseTimeline:
			if len(pm.Timeline) == 0 {
				return &FieldError{"timeline", "the timeline is empty: add what happened first"}
			}
			pm.Phase = PhaseIssues
		case PhaseIssues:
			if len(pm.Issues) == 0 {
				return &FieldError{"issues", "no issue is raised yet: walk the timeline and raise what went wrong or could go better (/postmortem issue <text>)"}
			}
			pm.Phase = PhaseActions
		case PhaseActions:
			if left := pm.Unaddressed(); len(left) > 0 {
				var refs []string
				for _, is := range left {
					refs = append(refs, fmt.Sprintf("%d (%s)", is.ID, truncateRunes(is.Text, 60)))
				}
				return &FieldError{"actions", fmt.Sprintf("every issue needs an action before the postmortem completes; %s no action yet: issue %s",
					isHave(len(left)), strings.Join(refs, ", issue "))}
			}
			pm.Phase, pm.CompletedAt = PhaseComplete, now
		}
		return nil
	}, nil)
}

func isHave(n int) string {
	if n == 1 {
		return "1 has"
	}
	return fmt.Sprintf("%d have", n)
}

// OpenActions returns owner's open actions ("" for everyone's), soonest
// due first.
func (p *Postmortems) OpenActions(ctx context.Context, owner string) ([]OwnedAction, error) {
	return p.store.OpenActions(ctx, owner)
}

// ActionDue loads the action of a reminder job: ok is false when there is
// nothing to say (the action is done or gone).
func (p *Postmortems) ActionDue(ctx context.Context, payload ActionPayload) (*Postmortem, *Action, bool, error) {
	pm, err := p.store.Postmortem(ctx, payload.IncidentID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	a := pm.Action(payload.Action)
	if a == nil || a.Done() {
		return pm, a, false, nil
	}
	return pm, a, true, nil
}

// Posted records where the postmortem's message is.
func (p *Postmortems) Posted(ctx context.Context, incidentID int64, channel, ts string) error {
	_, err := p.store.UpdatePostmortem(ctx, incidentID, func(pm *Postmortem) error {
		pm.ChannelID, pm.MessageTS = channel, ts
		return nil
	}, nil)
	return err
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// PostmortemDocument is everything the written postmortem holds.
type PostmortemDocument struct {
	Incident   *Incident
	Postmortem *Postmortem
	// Summary sums the incident's timeline up: durations, TDO chain,
	// timebox adherence.
	Summary Summary
	// Suspects are the changes marked suspect, newest first.
	Suspects []Change
	Location *time.Location
	// Names are display names by user ID: as the incident's timeline
	// recorded them, else (the facilitator, issue and action authors,
	// owners) as the names service tells them now.
	Names map[string]string
}

// Document gathers the postmortem of an incident with the incident's
// facts, for export.
func (p *Postmortems) Document(ctx context.Context, incidentID int64) (*PostmortemDocument, error) {
	pm, err := p.Get(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	inc, err := p.incidents.Incident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	timeline, err := p.incidents.Timeline(ctx, inc)
	if err != nil {
		return nil, err
	}
	doc := &PostmortemDocument{Incident: inc, Postmortem: pm, Summary: Summarize(inc, timeline), Location: p.loc}
	people := []string{pm.Facilitator, pm.StartedBy, inc.ReporterID, inc.TDOID}
	people = append(people, doc.Summary.TDOs...)
	for _, e := range pm.Timeline {
		people = append(people, e.Actor, e.Subject, e.AddedBy)
		for _, ed := range e.Edits {
			people = append(people, ed.EditedBy)
		}
	}
	for _, is := range pm.Issues {
		people = append(people, is.AddedBy)
	}
	for _, a := range pm.Actions {
		people = append(people, a.Owner, a.AddedBy)
	}
	// People mentioned in what was written are named too.
	texts := []string{inc.Title, inc.Description}
	for _, e := range pm.Timeline {
		texts = append(texts, e.Text)
		for _, ed := range e.Edits {
			texts = append(texts, ed.Text)
		}
	}
	for _, is := range pm.Issues {
		texts = append(texts, is.Text)
	}
	for _, a := range pm.Actions {
		texts = append(texts, a.Expected)
	}
	people = append(people, mentioned(texts...)...)
	doc.Names = p.incidents.resolve(ctx, people...)
	// The names the timeline recorded win: the document tells the
	// incident as it was.
	for id, n := range doc.Summary.Names {
		if doc.Names == nil {
			doc.Names = map[string]string{}
		}
		doc.Names[id] = n
	}
	var suspect []int64
	for id, e := range Verdicts(timeline) {
		if e.Kind == EntrySuspect {
			suspect = append(suspect, id)
		}
	}
	if len(suspect) > 0 && p.changes != nil {
		if doc.Suspects, err = p.changes.ByID(ctx, suspect); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// entryBy is who wrote e when no person did: the product of an alert
// entry; "" otherwise.
func entryBy(e TimelineEntry) string {
	if e.Actor == "" && e.Kind == EntryAlert {
		return e.Facts.Source
	}
	return ""
}
