package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
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
	// Earlier are the boxes this one replaced, oldest first: a restart,
	// a retime for a higher severity or a reopening starts a new box, and
	// the record keeps every one.
	Earlier []Box `json:"earlier,omitempty"`
	// Restarts counts the restarts of a running clock (each with a
	// reason), over every box.
	Restarts int `json:"restarts,omitempty"`
}

// Box is one diagnosis timebox as it ended: replaced by a restart, a
// retime or a new box on reopening.
type Box struct {
	StartedAt  time.Time     `json:"started_at"`
	Length     time.Duration `json:"length"`
	Extensions int           `json:"extensions,omitempty"`
	Extended   time.Duration `json:"extended,omitempty"`
	Deadline   time.Time     `json:"deadline"`
	// EndedAt is when diagnosis in this box stopped or the box was
	// replaced.
	EndedAt time.Time `json:"ended_at"`
	// Ended says how it ended: "restarted: <reason>", "retimed for SEV1",
	// "stopped".
	Ended string `json:"ended"`
}

// IsZero reports whether t is the zero Timebox: never started, no
// restore, no earlier box.
func (t Timebox) IsZero() bool {
	return t.Generation == 0 && t.RestoreBegan.IsZero() && len(t.Earlier) == 0 && t.Restarts == 0 &&
		t.StartedAt.IsZero() && t.AtOpen == 0
}

// current is the running or latest box as a Box.
func (t Timebox) current(ended string) Box {
	return Box{StartedAt: t.StartedAt, Length: t.Length, Extensions: t.Extensions, Extended: t.Extended,
		Deadline: t.Deadline, EndedAt: t.EndedAt, Ended: ended}
}

// adherence measures one box whose diagnosis ended at end.
func (b Box) adherence(end time.Time, running bool) BoxAdherence {
	a := BoxAdherence{StartedAt: b.StartedAt, Length: b.Length, Allowed: b.Length + b.Extended, Used: end.Sub(b.StartedAt),
		Extensions: b.Extensions, Running: running, Ended: b.Ended}
	if end.After(b.Deadline) {
		a.Over = end.Sub(b.Deadline)
	}
	return a
}

// Running reports whether the clock was started and diagnosis has not
// stopped.
func (t Timebox) Running() bool { return t.Generation > 0 && t.EndedAt.IsZero() }

// Expired reports whether the clock runs past its deadline at now.
func (t Timebox) Expired(now time.Time) bool { return t.Running() && !now.Before(t.Deadline) }

// Allowed is the diagnosis time agreed: the length plus every extension.
func (t Timebox) Allowed() time.Duration { return t.Length + t.Extended }

// BoxAdherence is how one box was kept.
type BoxAdherence struct {
	StartedAt time.Time
	// Allowed is the agreed time, Length plus extensions.
	Length, Allowed time.Duration
	// Used is diagnosis time from the box's start to its end, or to now
	// while it runs.
	Used       time.Duration
	Extensions int
	// Running is set while diagnosis in this box has not stopped.
	Running bool
	// Over is how far diagnosis ran past the box's deadline; 0 if it kept
	// to it.
	Over time.Duration
	// Ended says how an earlier box ended (see Box.Ended); "" for the
	// latest.
	Ended string
}

// Adherence is how an incident kept its diagnosis timeboxes: every box,
// and the latest one's figures at the top.
type Adherence struct {
	// Length, Allowed, Used and Running are the latest box's.
	Length, Allowed time.Duration
	Used            time.Duration
	Running         bool
	// Extensions counts the extensions of every box.
	Extensions int
	// Over is how far diagnosis ran past the deadlines, summed over every
	// box; 0 if each kept to its own. When the latest box has stopped, its
	// part is the time from expiry to restore.
	Over time.Duration
	// Restarts counts restarts of a running clock; Overruns the boxes
	// that ran past their deadline.
	Restarts, Overruns int
	// Boxes are every box, oldest first; the latest is last.
	Boxes []BoxAdherence
}

// Kept reports whether every box stopped within its deadline.
func (a Adherence) Kept() bool { return a.Over == 0 && !a.Running }

// Adherence measures the timeboxes at now. ok is false if none started.
func (t Timebox) Adherence(now time.Time) (a Adherence, ok bool) {
	if t.Generation == 0 {
		return Adherence{}, false
	}
	for _, b := range t.Earlier {
		a.Boxes = append(a.Boxes, b.adherence(b.EndedAt, false))
	}
	end := now
	if !t.EndedAt.IsZero() {
		end = t.EndedAt
	}
	last := t.current("").adherence(end, t.EndedAt.IsZero())
	a.Boxes = append(a.Boxes, last)
	a.Length, a.Allowed, a.Used, a.Running, a.Restarts = last.Length, last.Allowed, last.Used, last.Running, t.Restarts
	for _, b := range a.Boxes {
		a.Extensions += b.Extensions
		a.Over += b.Over
		if b.Over > 0 {
			a.Overruns++
		}
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
// A box that ran before is kept in Earlier, ended (if it still ran) at now
// because of why.
func (s *Service) startClock(t *Timebox, length time.Duration, now time.Time, why string) {
	earlier := t.Earlier
	if t.Generation > 0 {
		b := t.current(why)
		if t.EndedAt.IsZero() {
			b.EndedAt = now
		} else {
			b.Ended = "stopped"
		}
		earlier = append(slices.Clip(earlier), b)
	}
	*t = Timebox{Generation: t.Generation + 1, StartedAt: now, Length: length, Span: length,
		Deadline: now.Add(length), AtOpen: t.AtOpen, Earlier: earlier, Restarts: t.Restarts}
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
	// Reason says why a running clock starts over; required then, so that
	// nobody resets the clock to dodge its deadline unrecorded.
	Reason string
}

// StartTimebox starts the diagnosis clock again from now, for req.Length or
// the plan's timebox for the current severity. Restarting a running clock
// needs req.Reason (a *FieldError for "reason" without one); the box it
// replaces stays on the record (Timebox.Earlier) and counts as a restart.
// Pending warnings and expiry of the previous clock are called off.
func (s *Service) StartTimebox(ctx context.Context, req TimeboxRequest) (*Incident, TimelineEntry, error) {
	if req.Length != 0 {
		if err := checkLength("length", req.Length); err != nil {
			return nil, TimelineEntry{}, err
		}
	}
	req.Reason = NormalizeTitle(req.Reason)
	if n := utf8.RuneCountInString(req.Reason); n > MaxNote {
		return nil, TimelineEntry{}, &FieldError{"reason", fmt.Sprintf("the reason is %d characters; keep it to %d", n, MaxNote)}
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
		why := ""
		if prev.Running() {
			if req.Reason == "" {
				a, _ := prev.Adherence(now)
				return TimelineEntry{}, &FieldError{"reason", fmt.Sprintf(
					"the clock of %s is running (%s of %s used, restore by %s): restarting it needs a reason, e.g. `/incident timebox %s <reason>`; to buy time, `/incident extend 10m <reason>`",
					inc.Ref(), minutes(a.Used), minutes(a.Allowed), utcClock(prev.Deadline), shortLength(length))}
			}
			a, _ := prev.Adherence(now)
			verb = fmt.Sprintf("restarted after %s of %s", minutes(a.Used), minutes(a.Allowed))
			why = "restarted: " + req.Reason
			inc.Timebox.Restarts++
		} else if prev.Generation > 0 {
			verb = "restarted"
		}
		s.startClock(&inc.Timebox, length, now, why)
		acknowledge(inc, req.Actor, now)
		text := fmt.Sprintf("Diagnosis timebox %s: %s, restore by %s", verb, minutes(length), utcClock(inc.Timebox.Deadline))
		if req.Reason != "" {
			text += ": " + req.Reason
		}
		return TimelineEntry{Actor: req.Actor, Kind: EntryTimebox, Text: text}, nil
	}, func(inc *Incident) []jobs.Job { return s.clockJobs(inc, prev, s.clock.Now()) })
}

// shortLength is a length as typed: "30m", "1h30m".
func shortLength(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + "m"
	case m == 0:
		return strconv.Itoa(h) + "h"
	default:
		return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
	}
}

// retimeForSeverity runs when inc's severity changed from old: raised, the
// clock moves to the stricter box, the plan's timebox for the new severity
// from now, if that ends before the running box does (or starts it, if no
// box ever ran and service is not being restored). It returns what the
// timeline says of it; "" if the clock did not change.
func (s *Service) retimeForSeverity(inc *Incident, old Severity, now time.Time) string {
	length := inc.Plan.Timebox[inc.Severity]
	t := &inc.Timebox
	switch {
	case inc.Severity >= old || length == 0:
		return ""
	case t.Running():
		if !now.Add(length).Before(t.Deadline) {
			return ""
		}
	case t.Generation > 0 || !t.RestoreBegan.IsZero() || inc.Status == StatusRestored || inc.Status == StatusResolved:
		return ""
	}
	s.startClock(t, length, now, "retimed for "+inc.Severity.Label())
	return fmt.Sprintf("diagnosis retimed to the %s box of %s, restore by %s", inc.Severity.Label(), minutes(length), utcClock(t.Deadline))
}

// reopenClock runs when inc is reopened (back from restored or resolved):
// diagnosis starts a new box, the plan's timebox for its severity (else the
// last box's length). It returns what the timeline says of it; "" if no box
// applies.
func (s *Service) reopenClock(inc *Incident, now time.Time) string {
	t := &inc.Timebox
	length := inc.Plan.Timebox[inc.Severity]
	if length == 0 {
		length = t.Length
	}
	if length == 0 || t.Running() {
		return ""
	}
	s.startClock(t, length, now, "stopped")
	return fmt.Sprintf("new diagnosis timebox of %s, restore by %s", minutes(length), utcClock(t.Deadline))
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
//
// A job that runs Late or more after due says so in its entry: "fired 7
// min late: <why>", why being "sitrep was down" when empty.
func (s *Service) ClockDue(ctx context.Context, kind string, p TimeboxPayload, due time.Time, why string) (*Incident, TimelineEntry, error) {
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
		if note := LateNote(now.Sub(due), due, why); note != "" {
			e.Text += " (" + note + ")"
			e.Subject = note
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

// LateNote says that a job due at due ran late by late, and why ("sitrep
// was down" when why is empty): "fired 7 min late: sitrep was down at
// 03:14 UTC". It is "" when late is under Late.
func LateNote(late time.Duration, due time.Time, why string) string {
	if late < Late {
		return ""
	}
	if why == "" {
		why = "sitrep was down"
	}
	return fmt.Sprintf("fired %s late: %s at %s", minutes(late), why, utcClock(due))
}

// minutes says a duration for timeline text as people say it: whole
// minutes, rounded down, with hours from an hour on, or seconds under a
// minute ("10 min", "1 h 30 min", "2 h", "45 s").
func minutes(d time.Duration) string {
	d = max(d, 0)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case h == 0:
		return strconv.Itoa(m) + " min"
	case m == 0:
		return strconv.Itoa(h) + " h"
	default:
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
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
