// Package incident is sitrep's domain of customer-impacting events: the
// Incident, its severity and status, and the use cases that change them
// (Service). It knows nothing of Slack or SQL: it defines the Store it needs,
// and storage satisfies it.
package incident

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Severity ranks an incident's impact: 1 is the worst, 4 the mildest.
type Severity int

// The severities. DefaultSeverity is used when a report names none.
const (
	Sev1 Severity = 1
	Sev2 Severity = 2
	Sev3 Severity = 3
	Sev4 Severity = 4

	DefaultSeverity = Sev3
)

// Valid reports whether s is one of Sev1..Sev4.
func (s Severity) Valid() bool { return s >= Sev1 && s <= Sev4 }

// String returns "sev1".."sev4", the form people type.
func (s Severity) String() string { return "sev" + strconv.Itoa(int(s)) }

// Label returns "SEV1".."SEV4", the form shown in headers and topics.
func (s Severity) Label() string { return "SEV" + strconv.Itoa(int(s)) }

// ParseSeverity reads "sev1", "SEV1", "sev-1" or "1" (through 4).
func ParseSeverity(text string) (Severity, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	if rest, ok := strings.CutPrefix(t, "sev"); ok {
		t = strings.TrimPrefix(rest, "-")
	}
	n, err := strconv.Atoi(t)
	if err != nil || !Severity(n).Valid() {
		return 0, fmt.Errorf("severity %q is not one of sev1, sev2, sev3, sev4 (sev1 is the worst)", text)
	}
	return Severity(n), nil
}

// Status is where an incident stands. Restored means service is back for
// customers; resolved means the incident is over.
type Status string

// The statuses, in their usual order.
const (
	StatusInvestigating Status = "investigating"
	StatusIdentified    Status = "identified"
	StatusMonitoring    Status = "monitoring"
	StatusRestored      Status = "restored"
	StatusResolved      Status = "resolved"
)

// Label returns the status with a capital first letter, for display.
func (s Status) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Incident is a customer-impacting event. Restoring service fast is its goal.
type Incident struct {
	ID int64
	// Number is the human reference, unique and increasing: INC-<Number>.
	Number      int64
	Title       string
	Description string
	Severity    Severity
	Status      Status
	// Systems are the affected systems, normalised (see NormalizeSystem).
	Systems []string
	// ReporterID is the chat user who opened the incident; empty when no
	// person did (see ReportedBy).
	ReporterID string
	// ReportedBy names what opened the incident when no person did: the
	// monitoring product of an alert ("Alertmanager"). Empty for an
	// incident a person opened.
	ReportedBy string
	// TDOID is the chat user who leads it, the technical duty officer.
	TDOID string
	// ReportedIn is the chat channel the incident was reported from; the
	// reporter is answered there.
	ReportedIn string
	// RequestKey identifies the request that opened the incident, so that a
	// retried request opens nothing new. Empty means no key.
	RequestKey string
	OpenedAt   time.Time
	// Opening is what the opening entry of the timeline states, fixed at
	// open (severity, title, the reporter's and TDO's names then); empty
	// for incidents opened before it was kept.
	Opening Facts
	// AcknowledgedAt is the TDO's first action; zero until then.
	AcknowledgedAt time.Time
	// RestoredAt is when service was last restored; zero if it is not.
	RestoredAt time.Time
	// ResolvedAt is when the incident was last resolved; zero if it is not.
	ResolvedAt time.Time
	// Roles maps each role held to its holder's chat user ID.
	Roles map[Role]string
	// ClosedAt is when the incident was closed; zero while it is not. A
	// closed incident takes no more changes.
	ClosedAt time.Time
	// Plan is the plan of attack for its systems, as it stood when the
	// incident opened.
	Plan Plan
	// Timebox is the diagnosis clock; its zero value was never started.
	Timebox Timebox
	// Cost is the customer cost as last entered; nil if none was.
	Cost *Cost
	// Problems are the IDs of the problems linked to the incident (its
	// causes), ascending.
	Problems []int64
	// Private marks an incident whose details (title, description,
	// systems, timeline) are for the members of its room alone: it runs in
	// a private channel, and everywhere else it is shown as Redacted. Once
	// set it is never cleared.
	Private bool
}

// PrivateLabel names a private incident where its details may not be
// shown.
const PrivateLabel = "a private incident"

// Redacted returns inc as it may be shown outside its room: a private
// incident keeps its number, severity, status, times, people, cost and
// problems (so it counts in every total) but its title becomes
// PrivateLabel and its description, systems and plan are dropped. A public
// incident is returned as it is.
func (inc Incident) Redacted() Incident {
	if !inc.Private {
		return inc
	}
	inc.Title = PrivateLabel
	inc.Description = ""
	inc.Systems = nil
	inc.Plan = Plan{}
	return inc
}

// Role is a job someone does for the incident besides leading it.
type Role string

// The roles. Comms keeps customers and stakeholders informed; the scribe
// keeps the timeline.
const (
	RoleComms  Role = "comms"
	RoleScribe Role = "scribe"
)

// Roles lists the roles in display order.
func Roles() []Role { return []Role{RoleComms, RoleScribe} }

// ParseRole reads a role name, case-insensitive.
func ParseRole(text string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(text)))
	for _, known := range Roles() {
		if r == known {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a role: use comms or scribe", text)
}

// Reporter names who opened the incident, for display: the reporting
// chat user's ID, else ReportedBy; person says which of the two it is.
func (i *Incident) Reporter() (name string, person bool) {
	if i.ReporterID != "" {
		return i.ReporterID, true
	}
	return i.ReportedBy, false
}

// Closed reports whether the incident is closed.
func (i *Incident) Closed() bool { return !i.ClosedAt.IsZero() }

// TimeToRestore is how long customers were hurt: opened to restored. ok is
// false while service is not restored.
func (i *Incident) TimeToRestore() (d time.Duration, ok bool) {
	if i.RestoredAt.IsZero() {
		return 0, false
	}
	return i.RestoredAt.Sub(i.OpenedAt), true
}

// Ref returns the incident's reference, "INC-12".
func (i *Incident) Ref() string { return "INC-" + strconv.FormatInt(i.Number, 10) }

// Room is the chat channel of an incident and how far setting it up has got.
// Each step is recorded as it completes, so a sweeper that finishes the job
// after a crash or an outage does none of them twice.
type Room struct {
	IncidentID int64
	// ChannelID and ChannelName are empty until the channel exists.
	ChannelID   string
	ChannelName string
	// HeaderTS identifies the pinned header message, once posted.
	HeaderTS string
	// AnnouncementTS identifies the announcement in the incidents channel.
	AnnouncementTS string
	// ChangesTS identifies the "what changed?" message in the room.
	ChangesTS string
	// PlanTS identifies the plan of attack message in the room.
	PlanTS string
	// Done lists the setup steps completed, in order ("invite", "topic", ...).
	Done []string
	// Ready is set when every step is done.
	Ready     bool
	UpdatedAt time.Time
}

// Did reports whether step is recorded as done.
func (r *Room) Did(step string) bool {
	for _, s := range r.Done {
		if s == step {
			return true
		}
	}
	return false
}

// Mark records step as done (once).
func (r *Room) Mark(step string) {
	if !r.Did(step) {
		r.Done = append(r.Done, step)
	}
}

// Errors a Store returns, for callers to test with errors.Is.
var (
	// ErrNotFound means no such incident or room.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means the request key was used already.
	ErrDuplicate = errors.New("duplicate request")
)

// FieldError says which field of a request is wrong and how to fix it. Its
// message is written for the person who typed the request.
type FieldError struct {
	// Field is the request field: "title", "severity", "systems", "description".
	Field string
	// Problem says what is wrong and what to write instead.
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }
