package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// JobProvision is the kind of the durable job that sets up an incident's
// chat room (channel, topic, header, announcement) after it is recorded. Its
// payload is a ProvisionPayload.
const JobProvision = "incident.provision"

// ProvisionPayload is the payload of a JobProvision job.
type ProvisionPayload struct {
	IncidentID int64 `json:"incident_id"`
}

// Store is what the incident use cases need from storage.
type Store interface {
	// CreateIncident gives inc the next incident number (unique and
	// increasing, also under concurrent calls) and an ID, and stores it
	// together with the jobs that follow(inc) returns, in one transaction:
	// either all are stored or none. If inc.RequestKey is not empty and an
	// incident with that key exists, it stores nothing, fills inc with the
	// stored incident and returns an error wrapping ErrDuplicate.
	CreateIncident(ctx context.Context, inc *Incident, follow func(*Incident) []jobs.Job) error
	// Incident returns the incident with this ID, or ErrNotFound.
	Incident(ctx context.Context, id int64) (*Incident, error)
	// IncidentByNumber returns the incident INC-number, or ErrNotFound.
	IncidentByNumber(ctx context.Context, number int64) (*Incident, error)
	// Room returns the room of an incident, or ErrNotFound if none is saved.
	Room(ctx context.Context, incidentID int64) (*Room, error)
	// RoomByChannel returns the room whose channel is channelID, or ErrNotFound.
	RoomByChannel(ctx context.Context, channelID string) (*Room, error)
	// SaveRoom inserts or replaces the room of r.IncidentID.
	SaveRoom(ctx context.Context, r *Room) error
	// UpdateIncident changes incident id atomically: it loads it under a
	// lock that serialises concurrent updates, calls change, and if change
	// returns nil stores the changed incident, the entries change returned
	// (their IDs set) and the jobs follow returns, in one transaction. It
	// returns the stored incident and entries. ErrNotFound if no incident.
	UpdateIncident(ctx context.Context, id int64, change func(*Incident) ([]TimelineEntry, error),
		follow func(*Incident, []TimelineEntry) []jobs.Job) (*Incident, []TimelineEntry, error)
	// Timeline returns an incident's stored entries, oldest first.
	Timeline(ctx context.Context, incidentID int64) ([]TimelineEntry, error)
	// ListIncidents returns up to limit incidents, newest first.
	ListIncidents(ctx context.Context, limit int) ([]Incident, error)
	// UnresolvedIncidents returns every incident not yet resolved, newest
	// first, however many there are, in time that grows with them and not
	// with history.
	UnresolvedIncidents(ctx context.Context) ([]Incident, error)
	// TimelineEntry returns one stored entry, or ErrNotFound.
	TimelineEntry(ctx context.Context, id int64) (TimelineEntry, error)
}

// Service holds the incident use cases.
type Service struct {
	store     Store
	clock     clock.Clock
	rotations []Rotation
	plans     Plans
	warnAt    float64
	costs     CostModel
	names     Names
	cadence   Cadence
}

// SetNames sets who tells the display names that timeline entries record
// as they are written. Without it entries record IDs only.
func (s *Service) SetNames(n Names) { s.names = n }

// peopleKey carries, in a context, the people a change is about, so their
// names are known before its transaction starts.
type peopleKey struct{}

// withPeople notes in ctx the users a change will name.
func withPeople(ctx context.Context, users ...string) context.Context {
	prev, _ := ctx.Value(peopleKey{}).([]string)
	return context.WithValue(ctx, peopleKey{}, append(append([]string(nil), prev...), users...))
}

// resolve returns the display names of users that are known (never
// inside a transaction: it may ask the chat service).
func (s *Service) resolve(ctx context.Context, users ...string) map[string]string {
	if s.names == nil {
		return nil
	}
	out := map[string]string{}
	for _, u := range users {
		if _, ok := out[u]; ok || u == "" {
			continue
		}
		if n := s.names.Name(ctx, u); n != "" {
			out[u] = n
		}
	}
	return out
}

// nameEntry records in e the names of the people it names, from known.
func nameEntry(e *TimelineEntry, known map[string]string) {
	people := []string{e.Actor, e.Facts.From, e.Facts.To}
	if e.Kind == EntryTDO || e.Kind == EntryRole || e.Kind == EntryPin {
		people = append(people, e.Subject)
	}
	for _, u := range people {
		if n := known[u]; n != "" && u != "" {
			if e.Facts.Names == nil {
				e.Facts.Names = map[string]string{}
			}
			e.Facts.Names[u] = n
		}
	}
}

// SetRotations sets the on-call rotations that name the first TDO of new
// incidents. Call it before the service is used.
func (s *Service) SetRotations(r []Rotation) { s.rotations = r }

// OnCall returns who is on duty in each rotation now, and who is next.
func (s *Service) OnCall() []Duty {
	now := s.clock.Now()
	out := make([]Duty, len(s.rotations))
	for i := range s.rotations {
		out[i] = s.rotations[i].OnCall(now)
	}
	return out
}

// NewService returns a Service over store, taking time from c.
func NewService(store Store, c clock.Clock) *Service {
	return &Service{store: store, clock: c, warnAt: DefaultWarnAt, costs: DefaultCostModel()}
}

// OpenRequest is a report of a new incident.
type OpenRequest struct {
	Title       string
	Description string
	// Severity 0 means DefaultSeverity.
	Severity Severity
	Systems  []string
	// Reporter is the chat user reporting; they are the first TDO unless
	// a rotation names one.
	Reporter string
	// ReportedBy names a reporter that is not a person (the monitoring
	// product of an alert, "Alertmanager"), when Reporter is empty. Such an
	// incident needs a rotation to name its TDO.
	ReportedBy string
	// ReportedIn is where the report was made, to answer there.
	ReportedIn string
	// RequestKey makes Open idempotent: a second Open with the same key
	// returns the first incident. Empty means no key.
	RequestKey string
	// Private opens a private incident (see Incident.Private).
	Private bool
}

// Open validates req, records the incident (status investigating; as TDO
// the on-call of the rotation covering one of its systems, else of the
// default rotation, else the reporter; the plan of attack of its systems,
// whose timebox for its severity starts the diagnosis clock) and schedules
// its room set-up and the clock's deadlines as durable jobs. created is
// false when req.RequestKey had opened an incident already; that incident is
// returned. A validation error is a *FieldError and nothing is stored.
func (s *Service) Open(ctx context.Context, req OpenRequest) (inc *Incident, created bool, err error) {
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	now := s.clock.Now()
	tdo, rotation := onCallFor(s.rotations, req.Systems, now)
	if tdo == "" {
		tdo = req.Reporter
	}
	if tdo == "" {
		return nil, false, &FieldError{"tdo", noLeadProblem(req.Systems)}
	}
	names := s.resolve(ctx, req.Reporter, tdo)
	if len(names) == 0 {
		names = nil
	}
	inc = &Incident{
		Opening:     Facts{Severity: req.Severity, Title: req.Title, To: tdo, Rotation: rotation, Names: names, Source: req.ReportedBy},
		Title:       req.Title,
		Description: req.Description,
		Severity:    req.Severity,
		Status:      StatusInvestigating,
		Systems:     req.Systems,
		ReporterID:  req.Reporter,
		ReportedBy:  req.ReportedBy,
		TDOID:       tdo,
		ReportedIn:  req.ReportedIn,
		RequestKey:  req.RequestKey,
		Private:     req.Private,
		OpenedAt:    now,
		Plan:        s.plans.For(req.Systems),
	}
	if length := inc.Plan.Timebox[inc.Severity]; length > 0 {
		s.startClock(&inc.Timebox, length, now, "")
		inc.Timebox.AtOpen = length
	}
	err = s.store.CreateIncident(ctx, inc, func(inc *Incident) []jobs.Job {
		return append(append([]jobs.Job{ProvisionJob(inc, s.clock)}, s.clockJobs(inc, Timebox{}, now)...), s.nudgeJob(inc, 0, 1, now)...)
	})
	if errors.Is(err, ErrDuplicate) {
		return inc, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("recording the incident: %w", err)
	}
	return inc, true, nil
}

// noLeadProblem says why an incident no person reported has nobody to lead
// it, and what to configure.
func noLeadProblem(systems []string) string {
	covers := "no on-call rotation is the default"
	if len(systems) > 0 {
		covers = "no on-call rotation covers " + strings.Join(systems, ", ") + " and none is the default"
	}
	return covers + ", and no person reported it to lead it: add a default rotation to sitrep.yaml"
}

// ProvisionJob returns the job that sets up inc's room, due now.
func ProvisionJob(inc *Incident, c clock.Clock) jobs.Job {
	payload, _ := json.Marshal(ProvisionPayload{IncidentID: inc.ID})
	return jobs.Job{
		Kind:    JobProvision,
		Key:     JobProvision + ":" + strconv.FormatInt(inc.ID, 10),
		Payload: payload,
		DueAt:   c.Now(),
	}
}

// ErrNoChange means a request would change nothing (the status is already
// the one asked for).
var ErrNoChange = NewUserError("nothing to change")

// JobChanged is the kind of the durable job that shows a change of status
// or severity: the room's header and topic, a line in the room, an update in
// the incidents channel. Its payload is a ChangePayload.
const JobChanged = "incident.changed"

// ChangePayload is the payload of jobs about one timeline entry.
type ChangePayload struct {
	IncidentID int64 `json:"incident_id"`
	EntryID    int64 `json:"entry_id"`
}

// record runs one change of an incident as a transaction: it refuses a
// closed incident, lets apply change it and describe the change as a
// timeline entry (At is set here), and schedules a job of kind jobKind about
// the entry, unless jobKind is "".
func (s *Service) record(ctx context.Context, incidentID int64, jobKind string,
	apply func(inc *Incident, now time.Time) (TimelineEntry, error)) (*Incident, TimelineEntry, error) {
	return s.recordWith(ctx, incidentID, jobKind, apply, nil)
}

// recordWith is record that also stores, in the same transaction, the jobs
// more returns for the changed incident (nil: none).
func (s *Service) recordWith(ctx context.Context, incidentID int64, jobKind string,
	apply func(inc *Incident, now time.Time) (TimelineEntry, error), more func(*Incident) []jobs.Job) (*Incident, TimelineEntry, error) {
	return s.update(ctx, incidentID, jobKind, false, apply, more)
}

// update is recordWith that, if closedToo, also changes a closed incident:
// its cost and its problems are often settled after it is over.
func (s *Service) update(ctx context.Context, incidentID int64, jobKind string, closedToo bool,
	apply func(inc *Incident, now time.Time) (TimelineEntry, error), more func(*Incident) []jobs.Job) (*Incident, TimelineEntry, error) {
	people, _ := ctx.Value(peopleKey{}).([]string)
	if s.names != nil {
		if pre, err := s.store.Incident(ctx, incidentID); err == nil {
			people = append(people, pre.TDOID, pre.ReporterID)
			for _, r := range Roles() {
				people = append(people, pre.Roles[r])
			}
		}
	}
	known := s.resolve(ctx, people...)
	now := s.clock.Now()
	var follow func(*Incident, []TimelineEntry) []jobs.Job
	if jobKind != "" || more != nil || s.cadence != nil {
		follow = func(inc *Incident, e []TimelineEntry) []jobs.Job {
			var out []jobs.Job
			if jobKind != "" {
				out = append(out, ChangeJob(jobKind, inc, e[0], now))
			}
			if more != nil {
				out = append(out, more(inc)...)
			}
			return append(out, s.cadenceJobs(inc, e[0], now)...)
		}
	}
	inc, entries, err := s.store.UpdateIncident(ctx, incidentID, func(inc *Incident) ([]TimelineEntry, error) {
		if err := stillOpen(inc); err != nil && !closedToo {
			return nil, err
		}
		e, err := apply(inc, now)
		if err != nil {
			return nil, err
		}
		e.At = now
		nameEntry(&e, known)
		return []TimelineEntry{e}, nil
	}, follow)
	if err != nil {
		return nil, TimelineEntry{}, err
	}
	return inc, entries[0], nil
}

// StatusRequest asks to move an incident to another status.
type StatusRequest struct {
	IncidentID int64
	Actor      string
	Status     Status
	// Message says why, or what customers see now; optional.
	Message string
}

// SetStatus moves the incident to req.Status and records it on the
// timeline. The same status with a message is an update that keeps it (see
// IsUpdate); without one it wraps ErrNoChange. Going back from restored or
// resolved is allowed and recorded as a reopen, and starts a new diagnosis
// box (see reopenClock). It keeps the incident's times: acknowledged (the
// TDO's first action), restored and resolved. The room is told through a
// durable job.
func (s *Service) SetStatus(ctx context.Context, req StatusRequest) (*Incident, TimelineEntry, error) {
	if _, ok := statusOrder[req.Status]; !ok {
		return nil, TimelineEntry{}, &FieldError{"status", fmt.Sprintf("%q is not a status", req.Status)}
	}
	req.Message = NormalizeTitle(req.Message)
	if n := utf8.RuneCountInString(req.Message); n > MaxNote {
		return nil, TimelineEntry{}, &FieldError{"message", fmt.Sprintf("the message is %d characters; keep it to %d", n, MaxNote)}
	}
	var prev Timebox
	ctx = withPeople(ctx, req.Actor)
	return s.recordWith(ctx, req.IncidentID, JobChanged, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		old := inc.Status
		prev = inc.Timebox
		switch {
		case old == req.Status && req.Message == "":
			return TimelineEntry{}, fmt.Errorf("%s is %s already: %w", inc.Ref(), old, ErrNoChange)
		case old == req.Status:
			// An update that keeps the status: what changed, what
			// customers see. It resets the update cadence.
			acknowledge(inc, req.Actor, now)
			return TimelineEntry{Actor: req.Actor, Kind: EntryStatus, Text: updatePrefix + string(old) + ": " + req.Message}, nil
		}
		kind := EntryStatus
		if statusOrder[req.Status] < statusOrder[old] {
			kind = EntryReopen
		}
		inc.Status = req.Status
		acknowledge(inc, req.Actor, now)
		switch {
		case req.Status == StatusResolved:
			inc.ResolvedAt = now
			if inc.RestoredAt.IsZero() {
				inc.RestoredAt = now // resolving means service is back
			}
			stopClock(&inc.Timebox, now)
		case req.Status == StatusRestored:
			inc.RestoredAt, inc.ResolvedAt = now, time.Time{}
			stopClock(&inc.Timebox, now)
		default:
			inc.RestoredAt, inc.ResolvedAt = time.Time{}, time.Time{}
		}
		text := fmt.Sprintf("Status %s → %s", old, req.Status)
		if req.Message != "" {
			text += ": " + req.Message
		}
		if (old == StatusRestored || old == StatusResolved) && statusOrder[req.Status] < statusOrder[StatusRestored] {
			if clock := s.reopenClock(inc, now); clock != "" {
				text += " (" + clock + ")"
			}
		}
		return TimelineEntry{Actor: req.Actor, Kind: kind, Text: text}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// SeverityRequest asks to change an incident's severity.
type SeverityRequest struct {
	IncidentID int64
	Actor      string
	Severity   Severity
	// Reason says why; required to lower the severity.
	Reason string
}

// SetSeverity changes the incident's severity and records it. Lowering it
// (sev1 → sev3) needs a reason: a *FieldError for "reason" without one.
// Raising it retimes the diagnosis clock to the stricter box (see
// retimeForSeverity), on the same entry.
func (s *Service) SetSeverity(ctx context.Context, req SeverityRequest) (*Incident, TimelineEntry, error) {
	if !req.Severity.Valid() {
		return nil, TimelineEntry{}, &FieldError{"severity", fmt.Sprintf("severity %d is not one of sev1, sev2, sev3, sev4", int(req.Severity))}
	}
	req.Reason = NormalizeTitle(req.Reason)
	if n := utf8.RuneCountInString(req.Reason); n > MaxNote {
		return nil, TimelineEntry{}, &FieldError{"reason", fmt.Sprintf("the reason is %d characters; keep it to %d", n, MaxNote)}
	}
	ctx = withPeople(ctx, req.Actor)
	var prev Timebox
	return s.recordWith(ctx, req.IncidentID, JobChanged, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		old := inc.Severity
		prev = inc.Timebox
		switch {
		case old == req.Severity:
			return TimelineEntry{}, fmt.Errorf("%s is %s already: %w", inc.Ref(), old.Label(), ErrNoChange)
		case req.Severity > old && req.Reason == "":
			return TimelineEntry{}, &FieldError{"reason", fmt.Sprintf("lowering %s from %s to %s needs a reason, so the record shows why", inc.Ref(), old.Label(), req.Severity.Label())}
		}
		inc.Severity = req.Severity
		acknowledge(inc, req.Actor, now)
		text := fmt.Sprintf("Severity %s → %s", old.Label(), req.Severity.Label())
		if req.Reason != "" {
			text += ": " + req.Reason
		}
		if clock := s.retimeForSeverity(inc, old, now); clock != "" {
			text += " (" + clock + ")"
		}
		return TimelineEntry{Actor: req.Actor, Kind: EntrySeverity, Text: text,
			Facts: Facts{Severity: req.Severity, FromSeverity: old}}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// AddNote records a note on the incident's timeline.
func (s *Service) AddNote(ctx context.Context, incidentID int64, actor, text string) (*Incident, TimelineEntry, error) {
	text = CleanText(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return nil, TimelineEntry{}, &FieldError{"note", "the note is empty: write what happened or what was decided"}
	case n > MaxNote:
		return nil, TimelineEntry{}, &FieldError{"note", fmt.Sprintf("the note is %d characters; keep it to %d", n, MaxNote)}
	}
	ctx = withPeople(ctx, actor)
	return s.record(ctx, incidentID, "", func(inc *Incident, now time.Time) (TimelineEntry, error) {
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryNote, Text: text}, nil
	})
}

// Pin adds a chat message to the timeline: actor marked it, author wrote
// it, text is what it says, message is its chat ID (its ts). A message is
// on the timeline once: pinned again, even after a crash that lost the
// caller's own record of the first pin, the entry written then is
// returned and nothing is written.
func (s *Service) Pin(ctx context.Context, incidentID int64, actor, author, text, message string) (*Incident, TimelineEntry, error) {
	text = CleanText(text)
	if text == "" {
		return nil, TimelineEntry{}, &FieldError{"message", "the message has no text to add"}
	}
	if message != "" {
		timeline, err := s.store.Timeline(ctx, incidentID)
		if err != nil {
			return nil, TimelineEntry{}, err
		}
		for _, e := range timeline {
			if e.Kind == EntryPin && e.Facts.Message == message {
				inc, err := s.store.Incident(ctx, incidentID)
				return inc, e, err
			}
		}
	}
	text = truncateRunes(text, MaxNote)
	ctx = withPeople(ctx, actor, author)
	return s.record(ctx, incidentID, "", func(inc *Incident, now time.Time) (TimelineEntry, error) {
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryPin, Subject: author, Text: text, Facts: Facts{Message: message}}, nil
	})
}

// Timeline returns the incident's timeline, oldest first, beginning with its
// opening.
func (s *Service) Timeline(ctx context.Context, inc *Incident) ([]TimelineEntry, error) {
	stored, err := s.store.Timeline(ctx, inc.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the timeline of %s: %w", inc.Ref(), err)
	}
	opened := OpeningEntry(inc)
	head := []TimelineEntry{opened}
	if e, ok := timeboxOpened(inc); ok {
		head = append(head, e)
	}
	return append(head, stored...), nil
}

// OpeningEntry is the first entry of inc's timeline, as written when it
// opened: the severity and title it had then, not now. An incident opened
// before openings were kept shows its current ones.
func OpeningEntry(inc *Incident) TimelineEntry {
	f := inc.Opening
	if f.Severity == 0 {
		f.Severity, f.Title = inc.Severity, inc.Title
	}
	return TimelineEntry{IncidentID: inc.ID, At: inc.OpenedAt, Actor: inc.ReporterID, Kind: EntryOpened,
		Text: fmt.Sprintf("Opened as %s: %s", f.Severity.Label(), f.Title), Facts: f}
}

// Active returns every incident not yet resolved, newest first: none is
// left out, however many are open.
func (s *Service) Active(ctx context.Context) ([]Incident, error) {
	out, err := s.store.UnresolvedIncidents(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return out, nil
}

// Entry returns the timeline entry with this ID.
func (s *Service) Entry(ctx context.Context, id int64) (TimelineEntry, error) {
	return s.store.TimelineEntry(ctx, id)
}

// ErrClosed means the incident is closed and takes no more changes.
var ErrClosed = NewUserError("the incident is closed")

// stillOpen returns an error wrapping ErrClosed if inc is closed.
func stillOpen(inc *Incident) error {
	if inc.Closed() {
		return fmt.Errorf("%s was closed on %s: %w", inc.Ref(), inc.ClosedAt.Format("2006-01-02 15:04 UTC"), ErrClosed)
	}
	return nil
}

// JobHandedOver is the kind of the durable job that shows a hand-off: the
// new TDO invited and briefed, the room told. Its payload is a
// ChangePayload.
const JobHandedOver = "incident.handed_over"

// handOffPrefix begins a hand-off entry's text, followed by the old TDO.
const handOffPrefix = "Hand-off from "

// HandOverRequest asks to make To the incident's TDO.
type HandOverRequest struct {
	IncidentID int64
	// Actor is who hands over: the TDO, or anyone taking command.
	Actor string
	To    string
	// Reason says why To should lead (deference to expertise); optional.
	Reason string
}

// HandOver makes req.To the incident's technical duty officer and records
// who did it, from whom, and why. The incident always has exactly one TDO.
func (s *Service) HandOver(ctx context.Context, req HandOverRequest) (*Incident, TimelineEntry, error) {
	if req.To == "" {
		return nil, TimelineEntry{}, &FieldError{"tdo", "name the new technical duty officer, e.g. @alice"}
	}
	req.Reason = NormalizeTitle(req.Reason)
	if n := utf8.RuneCountInString(req.Reason); n > MaxNote {
		return nil, TimelineEntry{}, &FieldError{"reason", fmt.Sprintf("the reason is %d characters; keep it to %d", n, MaxNote)}
	}
	ctx = withPeople(ctx, req.Actor, req.To)
	return s.record(ctx, req.IncidentID, JobHandedOver, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if inc.TDOID == req.To {
			return TimelineEntry{}, fmt.Errorf("%s already leads %s: %w", req.To, inc.Ref(), ErrNoChange)
		}
		acknowledge(inc, req.Actor, now)
		old := inc.TDOID
		inc.TDOID = req.To
		// The new TDO taking over acknowledges too.
		acknowledge(inc, req.Actor, now)
		text := handOffPrefix + old
		if req.Reason != "" {
			text += ": " + req.Reason
		}
		return TimelineEntry{Actor: req.Actor, Kind: EntryTDO, Subject: req.To, Text: text,
			Facts: Facts{From: old, To: req.To}}, nil
	})
}

// JobRoleAssigned is the kind of the durable job that shows a role given:
// the holder invited, the header updated, the room told. Its payload is a
// ChangePayload.
const JobRoleAssigned = "incident.role_assigned"

// RoleRequest asks to give Role to User.
type RoleRequest struct {
	IncidentID int64
	Actor      string
	Role       Role
	User       string
}

// AssignRole gives a role to a person, replacing its holder, and records it.
func (s *Service) AssignRole(ctx context.Context, req RoleRequest) (*Incident, TimelineEntry, error) {
	if _, err := ParseRole(string(req.Role)); err != nil {
		return nil, TimelineEntry{}, &FieldError{"role", err.Error()}
	}
	if req.User == "" {
		return nil, TimelineEntry{}, &FieldError{"user", "name who takes the role, e.g. @alice"}
	}
	ctx = withPeople(ctx, req.Actor, req.User)
	return s.record(ctx, req.IncidentID, JobRoleAssigned, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if inc.Roles[req.Role] == req.User {
			return TimelineEntry{}, fmt.Errorf("%s is %s of %s already: %w", req.User, req.Role, inc.Ref(), ErrNoChange)
		}
		if inc.Roles == nil {
			inc.Roles = map[Role]string{}
		}
		from := inc.Roles[req.Role]
		inc.Roles[req.Role] = req.User
		acknowledge(inc, req.Actor, now)
		return TimelineEntry{Actor: req.Actor, Kind: EntryRole, Subject: req.User, Text: string(req.Role),
			Facts: Facts{From: from, To: req.User}}, nil
	})
}

// JobChangeMarked is the kind of the durable job that shows a verdict on a
// change: the room's list and header re-rendered. Its payload is a
// ChangePayload.
const JobChangeMarked = "incident.change_marked"

// MarkChange records a verdict on a change listed for the incident:
// EntrySuspect or EntryUnrelated. what describes the change for the
// timeline ("web: raised the pool"). The same verdict twice wraps
// ErrNoChange.
func (s *Service) MarkChange(ctx context.Context, incidentID, changeID int64, actor string, verdict EntryKind, what string) (*Incident, TimelineEntry, error) {
	if verdict != EntrySuspect && verdict != EntryUnrelated {
		return nil, TimelineEntry{}, &FieldError{"verdict", fmt.Sprintf("%q is not a verdict", verdict)}
	}
	timeline, err := s.store.Timeline(ctx, incidentID)
	if err != nil {
		return nil, TimelineEntry{}, err
	}
	subject := strconv.FormatInt(changeID, 10)
	if last, ok := Verdicts(timeline)[changeID]; ok && last.Kind == verdict {
		return nil, TimelineEntry{}, fmt.Errorf("change %d is marked %s already: %w", changeID, verdict, ErrNoChange)
	}
	text := "Suspect change: " + what
	if verdict == EntryUnrelated {
		text = "Not related: " + what
	}
	ctx = withPeople(ctx, actor)
	return s.record(ctx, incidentID, JobChangeMarked, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: verdict, Subject: subject, Text: text}, nil
	})
}

// JobClosed is the kind of the durable job that posts the summary of a
// closed incident. Its payload is a ChangePayload.
const JobClosed = "incident.closed"

// Close closes a resolved incident. Closing before it is resolved is a
// *FieldError for "status"; closing twice wraps ErrClosed.
func (s *Service) Close(ctx context.Context, incidentID int64, actor string) (*Incident, TimelineEntry, error) {
	ctx = withPeople(ctx, actor)
	return s.record(ctx, incidentID, JobClosed, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if inc.Status != StatusResolved {
			return TimelineEntry{}, &FieldError{"status", fmt.Sprintf("%s is %s: it can be closed once resolved (/incident status resolved)", inc.Ref(), inc.Status)}
		}
		inc.ClosedAt = now
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryClosed, Text: "Closed"}, nil
	})
}

// Summary is what a closed incident comes to.
type Summary struct {
	// TimeToRestore is opened to restored (ok false if never restored).
	TimeToRestore time.Duration
	Restored      bool
	// TimeToResolve is opened to resolved; Duration opened to closed.
	TimeToResolve time.Duration
	Duration      time.Duration
	// TDOs are the technical duty officers, in order; TDONames their
	// names as recorded when each took over ("" where none was).
	TDOs     []string
	TDONames []string
	// Counts counts the timeline entries by kind.
	Counts map[EntryKind]int
	// Timebox is how the diagnosis timebox was kept; HasTimebox is false
	// if it never started.
	Timebox    Adherence
	HasTimebox bool
	// Names are the display names the timeline recorded, by user ID (the
	// latest recorded for each).
	Names map[string]string
}

// Summarize sums up inc from its timeline.
func Summarize(inc *Incident, timeline []TimelineEntry) Summary {
	first, firstName := inc.TDOID, inc.Opening.Names[inc.TDOID]
	for _, e := range timeline {
		if e.Kind == EntryTDO {
			first, firstName = e.Facts.From, e.NameOf(e.Facts.From)
			if first == "" {
				first, _ = strings.CutPrefix(strings.SplitN(e.Text, ":", 2)[0], handOffPrefix)
			}
			break
		}
	}
	sum := Summary{TDOs: []string{first}, TDONames: []string{firstName}, Counts: map[EntryKind]int{}, Names: map[string]string{}}
	for id, n := range inc.Opening.Names {
		sum.Names[id] = n
	}
	for _, e := range timeline {
		for id, n := range e.Facts.Names {
			sum.Names[id] = n
		}
	}
	sum.TimeToRestore, sum.Restored = inc.TimeToRestore()
	if !inc.ResolvedAt.IsZero() {
		sum.TimeToResolve = inc.ResolvedAt.Sub(inc.OpenedAt)
	}
	if inc.Closed() {
		sum.Duration = inc.ClosedAt.Sub(inc.OpenedAt)
	}
	end := inc.ClosedAt
	if end.IsZero() {
		end = inc.ResolvedAt
	}
	sum.Timebox, sum.HasTimebox = inc.Timebox.Adherence(end)
	for _, e := range timeline {
		sum.Counts[e.Kind]++
		if e.Kind == EntryTDO {
			sum.TDOs = append(sum.TDOs, e.Subject)
			sum.TDONames = append(sum.TDONames, e.NameOf(e.Subject))
		}
	}
	return sum
}

// acknowledge records the TDO's first action.
func acknowledge(inc *Incident, actor string, now time.Time) {
	if actor == inc.TDOID && inc.AcknowledgedAt.IsZero() {
		inc.AcknowledgedAt = now
	}
}

// ChangeJob returns the job of this kind about timeline entry e, due now.
// Its key is unique to the entry, so enqueueing it again is a no-op.
func ChangeJob(kind string, inc *Incident, e TimelineEntry, now time.Time) jobs.Job {
	payload, _ := json.Marshal(ChangePayload{IncidentID: inc.ID, EntryID: e.ID})
	return jobs.Job{Kind: kind, Key: kind + ":" + strconv.FormatInt(e.ID, 10), Payload: payload, DueAt: now}
}

// Incident returns the incident with this ID.
func (s *Service) Incident(ctx context.Context, id int64) (*Incident, error) {
	return s.store.Incident(ctx, id)
}

// ByNumber returns INC-number.
func (s *Service) ByNumber(ctx context.Context, number int64) (*Incident, error) {
	return s.store.IncidentByNumber(ctx, number)
}

// JobMadePrivate is the kind of the durable job that moves an incident made
// private into a private room. Its payload is a ChangePayload.
const JobMadePrivate = "incident.made_private"

// MakePrivate makes an incident private and records who did it. There is no
// way back: a private incident never becomes public again. A closed
// incident wraps ErrClosed; a private one ErrNoChange.
func (s *Service) MakePrivate(ctx context.Context, incidentID int64, actor string) (*Incident, TimelineEntry, error) {
	ctx = withPeople(ctx, actor)
	return s.record(ctx, incidentID, JobMadePrivate, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if inc.Private {
			return TimelineEntry{}, fmt.Errorf("%s is private already: %w", inc.Ref(), ErrNoChange)
		}
		inc.Private = true
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryPrivate, Text: "Made private"}, nil
	})
}
