package alert

import (
	"context"
	"errors"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// The kinds of the durable jobs alert intake schedules; bot runs them. The
// payload of each is a JobPayload.
const (
	// JobTriage posts a new group's triage message, or updates it in place
	// (count, last seen, resolved, the decision) once posted.
	JobTriage = "alert.triage"
	// JobOpen opens the incident of a group whose route says open.
	JobOpen = "alert.open"
	// JobChange logs the change of a group whose route says change.
	JobChange = "alert.change"
	// JobIncident tells the incident a group opened or joined what became
	// of it: a repeat (folded into the header's count) or a resolution (a
	// timeline entry, "resolved after 12 min").
	JobIncident = "alert.incident"
	// JobDigest posts or updates the storm digest of a route's minute.
	JobDigest = "alert.digest"
)

// JobPayload is the payload of every alert job.
type JobPayload struct {
	GroupID int64 `json:"group_id,omitempty"`
	// Version is the group's when the job was scheduled.
	Version int64 `json:"version,omitempty"`
	// Route and Minute name a storm digest (JobDigest).
	Route  string    `json:"route,omitempty"`
	Minute time.Time `json:"minute,omitempty"`
	// Resolved is set on a JobIncident about a resolution.
	Resolved bool `json:"resolved,omitempty"`
}

// ErrNoGroup is returned for a group that does not exist.
var ErrNoGroup = errors.New("no such alert")

// Tx is one intake transaction of the store: every call acts within it,
// and nothing is kept unless the function given to Store.Intake returns
// nil.
type Tx interface {
	// Group returns the group of (source, key), locked until the
	// transaction ends, or nil when there is none yet.
	Group(source Source, key string) (*Group, error)
	// SaveGroup inserts g when g.ID is 0 (setting g.ID) or updates it.
	SaveGroup(g *Group) error
	// SetMember records fingerprint's status within group id and returns
	// the status it had ("" when first seen).
	SetMember(groupID int64, fingerprint string, st Status, at time.Time) (prev Status, err error)
	// AddAlert stores a under group id, setting a.ID.
	AddAlert(groupID int64, a *Alert) error
	// Take counts one new message against route's minute and returns how
	// many were counted in that minute, this one included.
	Take(route string, minute time.Time) (int, error)
	// Enqueue stores jobs.
	Enqueue(js ...jobs.Job) error
}

// Store keeps alerts and their groups. storage satisfies it on SQLite and
// PostgreSQL.
type Store interface {
	// Intake runs f in one transaction.
	Intake(ctx context.Context, f func(Tx) error) error
	// AlertGroup returns group id, or ErrNoGroup.
	AlertGroup(ctx context.Context, id int64) (*Group, error)
	// UpdateAlertGroup changes group id atomically: it loads it under a
	// lock, lets change alter it (an error keeps it as it was), saves it
	// with its Version bumped and stores the jobs follow returns for it.
	UpdateAlertGroup(ctx context.Context, id int64, change func(*Group) error, follow func(*Group) []jobs.Job) (*Group, error)
	// AlertGroups lists groups by q, newest first.
	AlertGroups(ctx context.Context, q GroupQuery) ([]Group, error)
	// GroupAlerts lists the latest limit alerts of group id, newest first.
	GroupAlerts(ctx context.Context, groupID int64, limit int) ([]Alert, error)
	// CountAlerts counts the alerts stored since since.
	CountAlerts(ctx context.Context, since time.Time) (int64, error)
}

// GroupQuery selects groups. Zero fields select everything.
type GroupQuery struct {
	IncidentID int64
	// Route and StormMinute select a storm digest's groups.
	Route       string
	StormMinute time.Time
	Storm       bool
	Limit       int
}

// Settings are the alert settings of sitrep.yaml.
type Settings struct {
	// Channel is where triage messages and storm digests go ("#alerts").
	Channel string
	// PerMinute is the routes' default bound on new messages a minute.
	PerMinute int
	Routes    []Route
}

// Result says what Receive did with each alert, in order.
type Result struct {
	Groups []Received
}

// Received is what became of one alert.
type Received struct {
	AlertID int64
	GroupID int64
	// New is set when the alert started its group.
	New    bool
	Action Action
	Storm  bool
}

// Service is alert intake's use cases.
type Service struct {
	store    Store
	clock    clock.Clock
	settings Settings
}

// NewService returns the use cases over store, routing by settings.
func NewService(store Store, c clock.Clock, settings Settings) *Service {
	return &Service{store: store, clock: c, settings: settings}
}

// errUnbuilt marks the use cases still being written in this session's
// branches; it must not survive the merge.
var errUnbuilt = errors.New("alert: not built yet")

// Receive stores alerts (ReceivedAt set to now) in one transaction, in
// order: each joins the group of (Source, GroupKey), or starts one routed by
// the settings; a new group takes a message from its route's minute or, over
// the limit, joins the storm digest; the jobs that tell Slack are stored in
// the same transaction. Nothing is stored when it fails.
func (s *Service) Receive(ctx context.Context, alerts []Alert) (Result, error) {
	return Result{}, errUnbuilt
}

// Declare links group id to the incident a person declared from its triage
// message (incident.Service.Open with RequestKey DeclareKey(id)).
func (s *Service) Declare(ctx context.Context, id, incidentID int64, actor string) (*Group, error) {
	return nil, errUnbuilt
}

// Attach links group id to an open incident someone picked.
func (s *Service) Attach(ctx context.Context, id, incidentID int64, actor string) (*Group, error) {
	return nil, errUnbuilt
}

// Dismiss records that group id is not an incident, and why.
func (s *Service) Dismiss(ctx context.Context, id int64, actor, reason string) (*Group, error) {
	return nil, errUnbuilt
}

// Opened records the incident a route opened for group id (JobOpen).
func (s *Service) Opened(ctx context.Context, id, incidentID int64) (*Group, error) {
	return nil, errUnbuilt
}

// Logged records the change a route logged for group id (JobChange).
func (s *Service) Logged(ctx context.Context, id, changeID int64) (*Group, error) {
	return nil, errUnbuilt
}

// Group returns group id, or ErrNoGroup.
func (s *Service) Group(ctx context.Context, id int64) (*Group, error) {
	return s.store.AlertGroup(ctx, id)
}

// ForIncident lists the groups that opened or joined incident id.
func (s *Service) ForIncident(ctx context.Context, incidentID int64) ([]Group, error) {
	return s.store.AlertGroups(ctx, GroupQuery{IncidentID: incidentID})
}
