package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Cadence is how often an incident of each severity must post a status
// update; a severity it does not name (or names with 0) has none.
type Cadence map[Severity]time.Duration

// DefaultCadence asks SEV1 for an update every 30 minutes and SEV2 every
// hour; SEV3 and SEV4 have none.
func DefaultCadence() Cadence { return Cadence{Sev1: 30 * time.Minute, Sev2: time.Hour} }

// Bounds of an update interval.
const (
	MinUpdateEvery = 5 * time.Minute
	MaxUpdateEvery = 24 * time.Hour
)

// JobUpdateNudge nudges the TDO when no status update came in time. Its
// payload is a NudgePayload.
const JobUpdateNudge = "incident.update_nudge"

// EntryUpdateNudge records that an update was overdue and the TDO was
// asked for one: the record shows where the room went quiet.
const EntryUpdateNudge EntryKind = "update_nudge"

// NudgePayload is the payload of a JobUpdateNudge job. After is the
// entry (a status update, reopen or severity change) the nudge counts from,
// 0 for the opening; N counts the nudges since it, from 1.
type NudgePayload struct {
	IncidentID int64 `json:"incident_id"`
	After      int64 `json:"after"`
	N          int   `json:"n"`
}

// updatePrefix begins the entry of an update that keeps the status.
const updatePrefix = "Update, still "

// IsUpdate reports whether e is a status update that kept the status.
func IsUpdate(e TimelineEntry) bool {
	return e.Kind == EntryStatus && strings.HasPrefix(e.Text, updatePrefix)
}

// SetCadence sets how often incidents post status updates. Call it before
// the service is used; nil keeps none.
func (s *Service) SetCadence(c Cadence) { s.cadence = c }

// nudgeJob returns the nudge that follows entry after (0: the opening) at
// at, or none if inc's severity has no cadence or it needs no update.
func (s *Service) nudgeJob(inc *Incident, after int64, n int, at time.Time) []jobs.Job {
	every := s.cadence[inc.Severity]
	if every <= 0 || !needsUpdates(inc) {
		return nil
	}
	payload, _ := json.Marshal(NudgePayload{IncidentID: inc.ID, After: after, N: n})
	key := JobUpdateNudge + ":" + strconv.FormatInt(inc.ID, 10) + ":" + strconv.FormatInt(after, 10) + ":" + strconv.Itoa(n)
	return []jobs.Job{{Kind: JobUpdateNudge, Key: key, Payload: payload, DueAt: at.Add(every)}}
}

// needsUpdates reports whether customers are still hurt, so updates are
// due.
func needsUpdates(inc *Incident) bool {
	return !inc.Closed() && inc.Status != StatusRestored && inc.Status != StatusResolved
}

// cadenceJobs returns the nudge that follows entry e, recorded at now, if
// e counts as an update: a nudge superseded by it finds that out when it
// runs, so none needs cancelling.
func (s *Service) cadenceJobs(inc *Incident, e TimelineEntry, now time.Time) []jobs.Job {
	if !resetsCadence(e) {
		return nil
	}
	return s.nudgeJob(inc, e.ID, 1, now)
}

// resetsCadence reports whether e counts as an update: a status change or
// update, a reopen, a severity change.
func resetsCadence(e TimelineEntry) bool {
	return e.Kind == EntryStatus || e.Kind == EntryReopen || e.Kind == EntrySeverity
}

// Nudge is a nudge due: no update on Incident since Since, for Every.
type Nudge struct {
	Incident *Incident
	Since    time.Time
	Every    time.Duration
	// Late says the nudge ran late and why (see LateNote); "" if on time.
	Late string
	// Entry is the nudge as recorded on the timeline.
	Entry TimelineEntry
}

// NudgeDue runs a nudge job due at due: it records on the timeline that an
// update is overdue and the TDO was asked for one, and schedules the next
// nudge in the same write (the TDO is nudged every interval until an
// update comes). Run again, as a retried job is, it records nothing more
// and returns the nudge as recorded. A nudge superseded by a later update,
// of a severity with no cadence or of an incident restored, resolved or
// closed wraps ErrNoChange.
//
// A nudge that runs Late or more after due says so (see LateNote; why is
// the reason, "sitrep was down" when empty).
func (s *Service) NudgeDue(ctx context.Context, p NudgePayload, due time.Time, why string) (Nudge, error) {
	inc, err := s.store.Incident(ctx, p.IncidentID)
	if err != nil {
		return Nudge{}, err
	}
	timeline, err := s.store.Timeline(ctx, inc.ID)
	if err != nil {
		return Nudge{}, fmt.Errorf("reading the timeline of %s: %w", inc.Ref(), err)
	}
	last, since := int64(0), inc.OpenedAt
	var nudges []TimelineEntry // since the last update
	for _, e := range timeline {
		switch {
		case resetsCadence(e):
			last, since, nudges = e.ID, e.At, nil
		case e.Kind == EntryUpdateNudge:
			nudges = append(nudges, e)
		}
	}
	every := s.cadence[inc.Severity]
	switch {
	case last != p.After:
		return Nudge{}, fmt.Errorf("%s: an update came after this nudge was scheduled: %w", inc.Ref(), ErrNoChange)
	case !needsUpdates(inc):
		return Nudge{}, fmt.Errorf("%s is %s: no more updates are due: %w", inc.Ref(), inc.Status, ErrNoChange)
	case every <= 0:
		return Nudge{}, fmt.Errorf("%s: %s has no update cadence: %w", inc.Ref(), inc.Severity.Label(), ErrNoChange)
	}
	now := s.clock.Now()
	late := LateNote(now.Sub(due), due, why)
	if len(nudges) >= p.N {
		// Recorded already (with the next nudge): a retry shows it again.
		return Nudge{Incident: inc, Since: since, Every: every, Late: late, Entry: nudges[p.N-1]}, nil
	}
	// The next nudge: one interval after this one was due, or from now if
	// this one ran that late.
	next := due
	if next.Add(every).Before(now) {
		next = now
	}
	inc, e, err := s.recordWith(ctx, inc.ID, "", func(inc *Incident, now time.Time) (TimelineEntry, error) {
		text := fmt.Sprintf("No status update for %s (%s asks for one every %s)",
			human.Duration(now.Sub(since)), inc.Severity.Label(), human.Duration(every))
		if late != "" {
			text += " (" + late + ")"
		}
		// Who was asked is a fact of the entry (Facts.To), named where it
		// is shown: "…; <@TDO> was asked for one".
		return TimelineEntry{Kind: EntryUpdateNudge, Text: text, Facts: Facts{To: inc.TDOID}}, nil
	}, func(inc *Incident) []jobs.Job { return s.nudgeJob(inc, last, p.N+1, next) })
	if err != nil {
		return Nudge{}, err
	}
	return Nudge{Incident: inc, Since: since, Every: every, Late: late, Entry: e}, nil
}
