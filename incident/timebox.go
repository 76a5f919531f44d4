package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/internal/jobs"
)

// Timebox is an incident's diagnosis clock. Restoring service comes first:
// diagnosis may run until Deadline, and then service must be restored,
// whatever is still unknown.
type Timebox struct {
	// Generation counts starts and extensions; 0 means never started. The
	// jobs that warn and expire carry it, so a job scheduled for an earlier
	// start or deadline does nothing.
	Generation int       `json:"generation"`
	StartedAt  time.Time `json:"started_at"`
	// Length is the timebox as started, before extensions.
	Length time.Duration `json:"length"`
	// AtOpen is the length it started with when the incident opened; 0 if
	// it did not start then.
	AtOpen   time.Duration `json:"at_open,omitempty"`
	Deadline time.Time     `json:"deadline"`
	// Span is the length of the latest start or extension: the warning
	// comes part of the way into it.
	Span       time.Duration `json:"span"`
	Extensions int           `json:"extensions,omitempty"`
	// Extended is the time all extensions added.
	Extended time.Duration `json:"extended,omitempty"`
	// WarnDue is when the warning of this generation is due; zero if none.
	WarnDue   time.Time `json:"warn_due,omitzero"`
	WarnedAt  time.Time `json:"warned_at,omitzero"`
	ExpiredAt time.Time `json:"expired_at,omitzero"`
	// EndedAt is when diagnosis stopped: restoration began or service
	// was restored. Zero while the clock runs.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// RestoreBegan is when someone declared that restoration began (it
	// may be set with no timebox ever started).
	RestoreBegan time.Time `json:"restore_began,omitzero"`
}

// Running reports whether the clock was started and diagnosis has not
// stopped.
func (t Timebox) Running() bool { return t.Generation > 0 && t.EndedAt.IsZero() }

// Expired reports whether the clock runs past its deadline at now.
func (t Timebox) Expired(now time.Time) bool { return t.Running() && !now.Before(t.Deadline) }

// Allowed is the diagnosis time agreed: the length plus every extension.
func (t Timebox) Allowed() time.Duration { return t.Length + t.Extended }

// Adherence is how an incident kept its diagnosis timebox.
type Adherence struct {
	// Allowed is the agreed time, Length plus extensions.
	Length, Allowed time.Duration
	// Used is diagnosis time from the (latest) start to its end, or to
	// now while it runs.
	Used       time.Duration
	Extensions int
	// Running is set while diagnosis has not stopped.
	Running bool
	// Over is how far diagnosis ran past the deadline; 0 if it kept to it.
	// When it has stopped, Over is the time from expiry to restore.
	Over time.Duration
}

// Adherence measures the timebox at now. ok is false if it never started.
func (t Timebox) Adherence(now time.Time) (a Adherence, ok bool) {
	if t.Generation == 0 {
		return Adherence{}, false
	}
	end := now
	if !t.EndedAt.IsZero() {
		end = t.EndedAt
	}
	a = Adherence{Length: t.Length, Allowed: t.Allowed(), Used: end.Sub(t.StartedAt),
		Extensions: t.Extensions, Running: t.EndedAt.IsZero()}
	if end.After(t.Deadline) {
		a.Over = end.Sub(t.Deadline)
	}
	return a, true
}

// Jobs and timeline entries of the diagnosis clock.
const (
	// JobTimeboxWarning and JobTimeboxExpiry fire at the warning time and
	// the deadline. Their payload is a TimeboxPayload.
	JobTimeboxWarning = "incident.timebox_warning"
	JobTimeboxExpiry  = "incident.timebox_expiry"
	// JobTimebox shows a timeline entry about the clock (start, warning,
	// expiry, extension, restore) in the room. Its payload is a
	// ChangePayload.
	JobTimebox = "incident.timebox"
	// JobDiagnostic shows a diagnostic ticked or unticked: the plan of
	// attack message re-rendered. Its payload is a ChangePayload.
	JobDiagnostic = "incident.diagnostic"

	EntryTimebox          EntryKind = "timebox"
	EntryTimeboxWarning   EntryKind = "timebox_warning"
	EntryTimeboxExpired   EntryKind = "timebox_expired"
	EntryTimeboxExtended  EntryKind = "timebox_extended"
	EntryRestore          EntryKind = "restore"
	EntryDiagnostic       EntryKind = "diagnostic"
	EntryDiagnosticUndone EntryKind = "diagnostic_undone"
)

// TimeboxPayload is the payload of the warning and expiry jobs.
type TimeboxPayload struct {
	IncidentID int64 `json:"incident_id"`
	Generation int   `json:"generation"`
}

// DefaultWarnAt is how far into the timebox the warning comes.
const DefaultWarnAt = 0.8

// Late is how long after its due time a clock job must run before its
// entry says it is late (sitrep was down or behind).
const Late = time.Minute

// Bounds of a timebox or extension.
const (
	MinTimebox = time.Minute
)

// SetPlans sets the plans of attack new incidents get, and how far into a
// timebox (or extension) the warning comes: 0.8 is at 80%; 0 or 1 and above
// turns the warning off. Call it before the service is used.
func (s *Service) SetPlans(p Plans, warnAt float64) {
	s.plans, s.warnAt = p, warnAt
}

// startClock starts a timebox of length at now, as the next generation.
func (s *Service) startClock(t *Timebox, length time.Duration, now time.Time) {
	*t = Timebox{Generation: t.Generation + 1, StartedAt: now, Length: length, Span: length,
		Deadline: now.Add(length), AtOpen: t.AtOpen}
	s.setWarning(t, now)
}

// setWarning sets when the warning of t's generation is due: WarnAt of the
// way into its latest span, or none if that is not after now or warnings
// are off.
func (s *Service) setWarning(t *Timebox, now time.Time) {
	t.WarnDue = time.Time{}
	if s.warnAt > 0 && s.warnAt < 1 {
		// Whole seconds, so that 80% of 10 minutes is 8 minutes exactly.
		left := time.Duration(math.Round((1-s.warnAt)*t.Span.Seconds())) * time.Second
		if due := t.Deadline.Add(-left); due.After(now) {
			t.WarnDue = due
		}
	}
}

// timeboxKey is the job key of a clock job of one generation.
func timeboxKey(kind string, incidentID int64, gen int) string {
	return kind + ":" + strconv.FormatInt(incidentID, 10) + ":" + strconv.Itoa(gen)
}

// clockJobs returns the jobs that keep inc's clock after a change from the
// clock prev: prev's pending jobs called off if it ran and the generation
// moved or diagnosis stopped, and the new generation's warning and expiry
// scheduled if it moved and runs.
func (s *Service) clockJobs(inc *Incident, prev Timebox, now time.Time) []jobs.Job {
	t := &inc.Timebox
	var out []jobs.Job
	if prev.Running() && (prev.Generation != t.Generation || !t.Running()) {
		out = append(out, jobs.Cancel(timeboxKey(JobTimeboxWarning, inc.ID, prev.Generation), now),
			jobs.Cancel(timeboxKey(JobTimeboxExpiry, inc.ID, prev.Generation), now))
	}
	if prev.Generation == t.Generation || !t.Running() {
		return out
	}
	payload, _ := json.Marshal(TimeboxPayload{IncidentID: inc.ID, Generation: t.Generation})
	if !t.WarnDue.IsZero() {
		out = append(out, jobs.Job{Kind: JobTimeboxWarning, Key: timeboxKey(JobTimeboxWarning, inc.ID, t.Generation),
			Payload: payload, DueAt: t.WarnDue})
	}
	return append(out, jobs.Job{Kind: JobTimeboxExpiry, Key: timeboxKey(JobTimeboxExpiry, inc.ID, t.Generation),
		Payload: payload, DueAt: t.Deadline})
}

// stopClock stops diagnosis at now if the clock runs.
func stopClock(t *Timebox, now time.Time) {
	if t.Running() {
		t.EndedAt = now
	}
}

// checkLength checks a timebox or extension length.
func checkLength(field string, d time.Duration) error {
	if d < MinTimebox || d > MaxTimebox {
		return &FieldError{field, fmt.Sprintf("%s is not between 1 minute and 24 hours", minutes(d))}
	}
	return nil
}

// TimeboxRequest asks to start (or restart) the diagnosis clock.
type TimeboxRequest struct {
	IncidentID int64
	Actor      string
	// Length 0 takes the plan's timebox for the incident's severity.
	Length time.Duration
}

// StartTimebox starts the diagnosis clock again from now, for req.Length or
// the plan's timebox for the current severity. Pending warnings and expiry
// of the previous clock are called off.
func (s *Service) StartTimebox(ctx context.Context, req TimeboxRequest) (*Incident, TimelineEntry, error) {
	if req.Length != 0 {
		if err := checkLength("length", req.Length); err != nil {
			return nil, TimelineEntry{}, err
		}
	}
	var prev Timebox
	return s.recordWith(ctx, req.IncidentID, JobTimebox, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if inc.Status == StatusRestored || inc.Status == StatusResolved {
			return TimelineEntry{}, &FieldError{"status", fmt.Sprintf("%s is %s: the diagnosis timebox is for while customers are still hurt", inc.Ref(), inc.Status)}
		}
		length := req.Length
		if length == 0 {
			length = inc.Plan.Timebox[inc.Severity]
		}
		if length == 0 {
			return TimelineEntry{}, &FieldError{"length", fmt.Sprintf("no plan of attack sets a timebox for %s: give one, e.g. 30m", inc.Severity.Label())}
		}
		prev = inc.Timebox
		verb := "started"
		if prev.Generation > 0 {
			verb = "restarted"
		}
		s.startClock(&inc.Timebox, length, now)
		acknowledge(inc, req.Actor, now)
		text := fmt.Sprintf("Diagnosis timebox %s: %s, restore by %s", verb, minutes(length), utcClock(inc.Timebox.Deadline))
		return TimelineEntry{Actor: req.Actor, Kind: EntryTimebox, Text: text}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// ExtendRequest asks for more diagnosis time.
type ExtendRequest struct {
	IncidentID int64
	Actor      string
	By         time.Duration
	// Reason says why more time is worth it; required.
	Reason string
}

// ExtendTimebox moves the deadline by req.By (from now, if it has passed)
// and records why. The old deadline's jobs are called off.
func (s *Service) ExtendTimebox(ctx context.Context, req ExtendRequest) (*Incident, TimelineEntry, error) {
	if err := checkLength("minutes", req.By); err != nil {
		return nil, TimelineEntry{}, err
	}
	req.Reason = NormalizeTitle(req.Reason)
	switch n := utf8.RuneCountInString(req.Reason); {
	case n == 0:
		return nil, TimelineEntry{}, &FieldError{"reason", "an extension needs a reason: what will the extra time find out?"}
	case n > MaxNote:
		return nil, TimelineEntry{}, &FieldError{"reason", fmt.Sprintf("the reason is %d characters; keep it to %d", n, MaxNote)}
	}
	var prev Timebox
	return s.recordWith(ctx, req.IncidentID, JobTimebox, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		t := &inc.Timebox
		switch {
		case t.Generation == 0:
			return TimelineEntry{}, &FieldError{"timebox", fmt.Sprintf("%s has no diagnosis timebox to extend: start one with /incident timebox 30m", inc.Ref())}
		case !t.Running():
			return TimelineEntry{}, &FieldError{"timebox", fmt.Sprintf("diagnosis of %s stopped at %s: start a new timebox with /incident timebox 30m", inc.Ref(), utcClock(t.EndedAt))}
		}
		prev = *t
		base := t.Deadline
		if now.After(base) {
			base = now
		}
		t.Generation++
		t.Deadline = base.Add(req.By)
		t.Span = req.By
		t.Extensions++
		t.Extended += req.By
		t.WarnedAt, t.ExpiredAt = time.Time{}, time.Time{}
		s.setWarning(t, now)
		acknowledge(inc, req.Actor, now)
		text := fmt.Sprintf("Diagnosis extended by %s, restore by %s: %s", minutes(req.By), utcClock(t.Deadline), req.Reason)
		return TimelineEntry{Actor: req.Actor, Kind: EntryTimeboxExtended, Text: text}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// BeginRestore records that restoration began: diagnosis stops, and the
// clock's pending jobs are called off. It wraps ErrNoChange if restoration
// began already or service is restored.
func (s *Service) BeginRestore(ctx context.Context, incidentID int64, actor string) (*Incident, TimelineEntry, error) {
	var prev Timebox
	return s.recordWith(ctx, incidentID, JobTimebox, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		t := &inc.Timebox
		switch {
		case inc.Status == StatusRestored || inc.Status == StatusResolved:
			return TimelineEntry{}, fmt.Errorf("%s is %s already: %w", inc.Ref(), inc.Status, ErrNoChange)
		case !t.RestoreBegan.IsZero():
			return TimelineEntry{}, fmt.Errorf("restoration of %s began at %s: %w", inc.Ref(), utcClock(t.RestoreBegan), ErrNoChange)
		}
		prev = *t
		text := "Restoration began"
		if t.Running() {
			a, _ := t.Adherence(now)
			text += fmt.Sprintf("; diagnosis stopped after %s of %s", minutes(a.Used), minutes(a.Allowed))
			if a.Over > 0 {
				text += fmt.Sprintf(" (%s over)", minutes(a.Over))
			}
		}
		stopClock(t, now)
		t.RestoreBegan = now
		acknowledge(inc, actor, now)
		return TimelineEntry{Actor: actor, Kind: EntryRestore, Text: text}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// ClockDue runs a warning or expiry job (kind JobTimeboxWarning or
// JobTimeboxExpiry) of generation gen, due at due. It records the entry,
// saying so if it fires late. A job of an older generation, of a clock that
// stopped, or that fired already wraps ErrNoChange: it has nothing to do; so
// does a warning run at or after the deadline (the expiry says it all).
func (s *Service) ClockDue(ctx context.Context, kind string, p TimeboxPayload, due time.Time) (*Incident, TimelineEntry, error) {
	if kind != JobTimeboxWarning && kind != JobTimeboxExpiry {
		return nil, TimelineEntry{}, fmt.Errorf("%q is not a clock job", kind)
	}
	return s.record(ctx, p.IncidentID, JobTimebox, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		t := &inc.Timebox
		if t.Generation != p.Generation || !t.Running() {
			return TimelineEntry{}, fmt.Errorf("%s: the clock of this job was restarted, extended or stopped: %w", inc.Ref(), ErrNoChange)
		}
		var e TimelineEntry
		if kind == JobTimeboxWarning {
			switch {
			case !t.WarnedAt.IsZero():
				return TimelineEntry{}, fmt.Errorf("%s was warned already: %w", inc.Ref(), ErrNoChange)
			case !now.Before(t.Deadline):
				// Run late, past the deadline: the expiry says it all.
				return TimelineEntry{}, fmt.Errorf("%s: the warning comes after the deadline: %w", inc.Ref(), ErrNoChange)
			}
			t.WarnedAt = now
			e = TimelineEntry{Kind: EntryTimeboxWarning, Text: fmt.Sprintf("Diagnosis time: %s left, restore by %s",
				minutes(max(t.Deadline.Sub(now), 0)), utcClock(t.Deadline))}
		} else {
			if !t.ExpiredAt.IsZero() {
				return TimelineEntry{}, fmt.Errorf("%s expired already: %w", inc.Ref(), ErrNoChange)
			}
			t.ExpiredAt = now
			e = TimelineEntry{Kind: EntryTimeboxExpired, Text: fmt.Sprintf("Diagnosis time is up after %s: restore service now", minutes(t.Allowed()))}
		}
		if late := now.Sub(due); late >= Late {
			e.Text += fmt.Sprintf(" (%s late: sitrep was not running at %s)", minutes(late), utcClock(due))
		}
		return e, nil
	})
}

// MarkDiagnostic records that diagnostic step (its index in the plan) was
// collected, or, with done false, that it was not after all. The same state
// twice wraps ErrNoChange.
func (s *Service) MarkDiagnostic(ctx context.Context, incidentID int64, actor string, step int, done bool) (*Incident, TimelineEntry, error) {
	timeline, err := s.store.Timeline(ctx, incidentID)
	if err != nil {
		return nil, TimelineEntry{}, err
	}
	if e, ticked := Diagnostics(timeline)[step]; ticked == done {
		if done {
			return nil, TimelineEntry{}, fmt.Errorf("%q was ticked by %s already: %w", e.Text, e.Actor, ErrNoChange)
		}
		return nil, TimelineEntry{}, fmt.Errorf("step %d is not ticked: %w", step+1, ErrNoChange)
	}
	return s.record(ctx, incidentID, JobDiagnostic, func(inc *Incident, now time.Time) (TimelineEntry, error) {
		if step < 0 || step >= len(inc.Plan.Diagnostics) {
			return TimelineEntry{}, &FieldError{"step", fmt.Sprintf("the plan of %s has no diagnostic %d", inc.Ref(), step+1)}
		}
		acknowledge(inc, actor, now)
		kind := EntryDiagnostic
		if !done {
			kind = EntryDiagnosticUndone
		}
		return TimelineEntry{Actor: actor, Kind: kind, Subject: strconv.Itoa(step), Text: inc.Plan.Diagnostics[step]}, nil
	})
}

// Diagnostics returns the diagnostics ticked, by step index, each with the
// entry that ticked it last.
func Diagnostics(timeline []TimelineEntry) map[int]TimelineEntry {
	out := map[int]TimelineEntry{}
	for _, e := range timeline {
		if e.Kind != EntryDiagnostic && e.Kind != EntryDiagnosticUndone {
			continue
		}
		i, err := strconv.Atoi(e.Subject)
		if err != nil {
			continue
		}
		if e.Kind == EntryDiagnostic {
			out[i] = e
		} else {
			delete(out, i)
		}
	}
	return out
}

// minutes says a duration for timeline text: whole minutes, rounded down,
// or seconds under a minute ("10 min", "45 s").
func minutes(d time.Duration) string {
	d = max(d, 0)
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	return strconv.Itoa(int(d/time.Minute)) + " min"
}

// utcClock is a time of day for timeline text: "03:14 UTC".
func utcClock(t time.Time) string { return t.UTC().Format("15:04 UTC") }

// timeboxOpened is the synthesized entry for a timebox started at opening.
func timeboxOpened(inc *Incident) (TimelineEntry, bool) {
	if inc.Timebox.AtOpen == 0 {
		return TimelineEntry{}, false
	}
	text := fmt.Sprintf("Diagnosis timebox started from the plan of attack: %s, restore by %s",
		minutes(inc.Timebox.AtOpen), utcClock(inc.OpenedAt.Add(inc.Timebox.AtOpen)))
	return TimelineEntry{IncidentID: inc.ID, At: inc.OpenedAt, Actor: inc.ReporterID, Kind: EntryTimebox, Text: text}, true
}
