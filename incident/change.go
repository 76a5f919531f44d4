package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/jobs"
)

// ChangeKind says what sort of change it was.
type ChangeKind string

// The kinds of change. Other is the default.
const (
	KindDeploy  ChangeKind = "deploy"
	KindConfig  ChangeKind = "config"
	KindInfra   ChangeKind = "infra"
	KindFeature ChangeKind = "feature"
	KindData    ChangeKind = "data"
	KindOther   ChangeKind = "other"
)

// ChangeKinds lists the kinds.
func ChangeKinds() []ChangeKind {
	return []ChangeKind{KindDeploy, KindConfig, KindInfra, KindFeature, KindData, KindOther}
}

// ChangeSource says where a change was logged from.
type ChangeSource string

// The sources of changes.
const (
	SourceSlack     ChangeSource = "slack"
	SourceAPI       ChangeSource = "api"
	SourceCLI       ChangeSource = "cli"
	SourceChecklist ChangeSource = "checklist"
)

// The sources of changes logged by an alert route whose action is change:
// the monitoring product that noticed it (Splunk's search of a deploy
// directory, say).
const (
	SourceAlertmanager ChangeSource = "alertmanager"
	SourceGrafana      ChangeSource = "grafana"
	SourceSplunk       ChangeSource = "splunk"
	SourcePagerDuty    ChangeSource = "pagerduty"
	SourceWebhook      ChangeSource = "webhook"
)

// APISource is the source of a change logged through the change API with
// the bearer token named name: "api:NAME", so the change log says which
// pipeline sent it. The token named "api" (the one SITREP_API_TOKEN sets)
// records SourceAPI itself, as changes logged before tokens had names do.
func APISource(name string) ChangeSource {
	if name == "" || name == string(SourceAPI) {
		return SourceAPI
	}
	return ChangeSource(string(SourceAPI) + ":" + name)
}

// tokenName is what an API token's name may be: a short slug.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckTokenName says what is wrong with name as the name of a change API
// token, or returns nil.
func CheckTokenName(name string) error {
	if !tokenName.MatchString(name) {
		return errors.New("use letters, digits, - _ and . (starting with a letter or digit, at most 64), e.g. ci or deploy-bot")
	}
	return nil
}

// valid reports whether s is one of the sources, or the source of a named
// API token.
func (s ChangeSource) valid() bool {
	switch s {
	case SourceSlack, SourceAPI, SourceCLI, SourceChecklist,
		SourceAlertmanager, SourceGrafana, SourceSplunk, SourcePagerDuty, SourceWebhook:
		return true
	}
	name, ok := strings.CutPrefix(string(s), string(SourceAPI)+":")
	return ok && CheckTokenName(name) == nil
}

// Change is one change to production: when, to what, by whom, what and
// why. The first question when an incident opens is what changed.
type Change struct {
	ID int64
	// OccurredAt is when the change happened (UTC).
	OccurredAt time.Time
	// Systems are the systems changed, normalised (NormalizeSystem).
	Systems []string
	// Person made the change: a chat user ID ("U123") or a free-text name.
	Person  string
	Summary string
	Reason  string
	Kind    ChangeKind
	// Link points at the pull request, pipeline run or ticket.
	Link   string
	Source ChangeSource
	// ExternalID, when set, is unique: logging a change with an
	// ExternalID seen before stores nothing (a CI retry is a no-op).
	ExternalID string
	// LoggedAt is when sitrep recorded it.
	LoggedAt time.Time
}

// Limits on a change's fields.
const (
	MaxChangeSummary = 500
	MaxChangeReason  = 500
	MaxChangeLink    = 1000
	MaxChangePerson  = 100
	MaxExternalID    = 200
	// MaxChangeBatch is the most changes one LogChanges call takes.
	MaxChangeBatch = 1000
)

// Validate normalises c in place and returns a *FieldError naming the
// first field that is wrong. now fills an empty OccurredAt.
func (c *Change) Validate(now time.Time) error {
	if len(c.Systems) == 0 {
		return &FieldError{"systems", "name the system changed, e.g. web"}
	}
	// One pass, a set for the names seen, stopping at the first name past
	// MaxSystems: a list of any length costs at most one look at each item.
	systems := make([]string, 0, min(len(c.Systems), MaxSystems))
	seen := make(map[string]struct{}, min(len(c.Systems), MaxSystems))
	for _, s := range c.Systems {
		n, err := NormalizeSystem(s)
		if err != nil {
			return &FieldError{"systems", err.Error()}
		}
		if _, dup := seen[n]; dup {
			continue
		}
		if len(systems) == MaxSystems {
			return &FieldError{"systems", fmt.Sprintf("more than %d systems named; at most %d", MaxSystems, MaxSystems)}
		}
		seen[n] = struct{}{}
		systems = append(systems, n)
	}
	c.Systems = systems
	c.Summary = NormalizeTitle(c.Summary)
	c.Reason = NormalizeTitle(c.Reason)
	c.Person = NormalizeTitle(c.Person)
	c.Link = strings.TrimSpace(c.Link)
	c.ExternalID = CleanLine(c.ExternalID)
	switch {
	case c.Summary == "":
		return &FieldError{"summary", "say what was done, e.g. \"raised the db pool to 50\""}
	case utf8.RuneCountInString(c.Summary) > MaxChangeSummary:
		return &FieldError{"summary", fmt.Sprintf("keep it to %d characters", MaxChangeSummary)}
	case utf8.RuneCountInString(c.Reason) > MaxChangeReason:
		return &FieldError{"reason", fmt.Sprintf("keep it to %d characters", MaxChangeReason)}
	case c.Person == "":
		return &FieldError{"person", "say who made the change"}
	case utf8.RuneCountInString(c.Person) > MaxChangePerson:
		return &FieldError{"person", fmt.Sprintf("keep it to %d characters", MaxChangePerson)}
	case len(c.ExternalID) > MaxExternalID:
		return &FieldError{"external_id", fmt.Sprintf("keep it to %d characters", MaxExternalID)}
	}
	if c.Link != "" {
		u, err := url.Parse(c.Link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(c.Link) > MaxChangeLink {
			return &FieldError{"link", "give an http(s) URL, e.g. https://github.com/acme/web/pull/42"}
		}
	}
	if c.Kind == "" {
		c.Kind = KindOther
	}
	if !slices.Contains(ChangeKinds(), c.Kind) {
		return &FieldError{"kind", fmt.Sprintf("%q is not a kind: use deploy, config, infra, feature, data or other", c.Kind)}
	}
	if !c.Source.valid() {
		return &FieldError{"source", fmt.Sprintf("%q is not a source", c.Source)}
	}
	if c.OccurredAt.IsZero() {
		c.OccurredAt = now
	}
	c.OccurredAt = c.OccurredAt.UTC()
	switch {
	case c.OccurredAt.Before(EarliestChange):
		return &FieldError{"occurred_at", fmt.Sprintf("%s is before %d: give when the change happened, or leave it out to mean now",
			c.OccurredAt.Format(time.RFC3339), EarliestChange.Year())}
	case c.OccurredAt.After(now.Add(MaxChangeFuture)):
		return &FieldError{"occurred_at", fmt.Sprintf("%s is more than %s ahead of sitrep's clock (%s): give when the change happened, or leave it out to mean now",
			c.OccurredAt.Format(time.RFC3339), human.Duration(MaxChangeFuture), now.UTC().Format(time.RFC3339))}
	}
	return nil
}

// MaxChangeFuture is how far ahead of sitrep's clock a change may be
// dated: enough for a caller's clock that runs ahead, not a change dated
// years ahead that would head every list for good.
const MaxChangeFuture = 24 * time.Hour

// EarliestChange is the earliest time a change may be dated: sitrep logs
// changes to running systems, and an earlier time is a mistake (the zero
// time, 0001-01-01, or a Unix time of 0).
var EarliestChange = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ChangeQuery selects changes, newest first.
type ChangeQuery struct {
	// Systems, when not empty, keeps changes to any of them.
	Systems []string
	// Since and Until bound OccurredAt (zero: unbounded); Since is
	// inclusive, Until exclusive.
	Since, Until time.Time
	Limit        int
}

// ShownChange is a change listed in an incident's room.
type ShownChange struct {
	Change
	// Other is set for a change to a system the incident does not name,
	// shown to fill the list.
	Other bool
}

// ChangeStore is what the change log needs from storage.
type ChangeStore interface {
	// ShowChanges records which changes an incident's room lists, in
	// order (a no-op for ones recorded already).
	ShowChanges(ctx context.Context, incidentID int64, shown []ShownChange) error
	// ShownChanges returns them, in the order recorded.
	ShownChanges(ctx context.Context, incidentID int64) ([]ShownChange, error)
	// LogChanges stores the changes in one transaction, all or none,
	// together with the jobs follow returns for the ones stored now (IDs
	// set). A change whose ExternalID is stored already is skipped; stored
	// reports, for each change, whether it was stored now.
	LogChanges(ctx context.Context, changes []Change, follow func(added []Change) []jobs.Job) (stored []bool, err error)
	// Changes returns the changes q selects, newest first.
	Changes(ctx context.Context, q ChangeQuery) ([]Change, error)
	// ChangesByID returns the changes with these IDs, newest first.
	ChangesByID(ctx context.Context, ids []int64) ([]Change, error)
	// PendRoomChanges records changes as waiting to be told to an
	// incident's room, in one transaction: they join the room's window
	// not yet told that is due after joinBy, or else open a window named
	// notice, due at due, stored with the job open(notice) returns. A
	// change waiting or told already for the incident is skipped. It
	// returns the window the changes joined.
	PendRoomChanges(ctx context.Context, incidentID int64, changeIDs []int64, joinBy, due time.Time, notice string, open func(notice string) jobs.Job) (string, error)
	// PendingRoomChanges returns the changes of the window notice not yet
	// told, newest first.
	PendingRoomChanges(ctx context.Context, notice string) ([]Change, error)
	// RoomChangesTold marks the changes of the window notice as told.
	RoomChangesTold(ctx context.Context, notice string, at time.Time) error
}

// BatchError names the change of a batch that is wrong.
type BatchError struct {
	// Index is the change's position in the batch, from 0.
	Index int
	Err   *FieldError
}

func (e *BatchError) Error() string { return fmt.Sprintf("change %d: %s", e.Index, e.Err) }

// Unwrap returns the field error.
func (e *BatchError) Unwrap() error { return e.Err }

// JobChangesLogged is the kind of the durable job that tells the rooms of
// open incidents about changes to their systems logged while they are
// open. Its payload is a ChangesLoggedPayload.
const JobChangesLogged = "change.logged"

// ChangesLoggedPayload is the payload of a JobChangesLogged job.
type ChangesLoggedPayload struct {
	ChangeIDs []int64 `json:"change_ids"`
}

// JobRoomChanges is the kind of the durable job that tells an incident's
// room, in one message, of the changes to its systems logged one by one
// within a window (RoomChangesWindow). Its payload is a RoomChangesPayload.
const JobRoomChanges = "change.room_notice"

// RoomChangesPayload is the payload of a JobRoomChanges job.
type RoomChangesPayload struct {
	IncidentID int64 `json:"incident_id"`
	// Notice names the window: the key of its job and of its message.
	Notice string `json:"notice"`
}

// RoomChangesWindow is how long the first change logged to an open
// incident's systems waits for others before its room is told: a room
// hears of changes logged one by one at most once a window.
const RoomChangesWindow = time.Minute

// roomChangesJoinMargin keeps a change from joining a window about to be
// told: it joins only a window due later than this from now, else opens
// the next one.
const roomChangesJoinMargin = 5 * time.Second

// ChangeLog holds the change-log use cases.
type ChangeLog struct {
	store ChangeStore
	clock interface{ Now() time.Time }
}

// NewChangeLog returns the change log over store.
func NewChangeLog(store ChangeStore, c interface{ Now() time.Time }) *ChangeLog {
	return &ChangeLog{store: store, clock: c}
}

// Log validates and stores changes, all or none: one wrong change stores
// nothing and returns a *BatchError naming it. It returns how many were new
// (the rest repeated an ExternalID).
func (l *ChangeLog) Log(ctx context.Context, changes []Change) (added int, err error) {
	created, err := l.LogEach(ctx, changes)
	for _, c := range created {
		if c {
			added++
		}
	}
	return added, err
}

// LogEach is Log, saying of each change whether it was stored now (true)
// or its ExternalID was stored already (false). Every change's ID is set
// on return: for one stored already, the stored change's ID.
func (l *ChangeLog) LogEach(ctx context.Context, changes []Change) (created []bool, err error) {
	switch n := len(changes); {
	case n == 0:
		return nil, &BatchError{0, &FieldError{"changes", "no change given"}}
	case n > MaxChangeBatch:
		return nil, &BatchError{MaxChangeBatch, &FieldError{"changes", fmt.Sprintf("%d changes in one batch; at most %d", n, MaxChangeBatch)}}
	}
	now := l.clock.Now()
	for i := range changes {
		if err := changes[i].Validate(now); err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			return nil, &BatchError{i, fe}
		}
		changes[i].LoggedAt = now
	}
	stored, err := l.store.LogChanges(ctx, changes, func(added []Change) []jobs.Job {
		if len(added) == 0 {
			return nil
		}
		ids := make([]int64, len(added))
		for i, c := range added {
			ids[i] = c.ID
		}
		payload, _ := json.Marshal(ChangesLoggedPayload{ChangeIDs: ids})
		return []jobs.Job{{Kind: JobChangesLogged, Payload: payload, DueAt: now}}
	})
	if err != nil {
		return nil, fmt.Errorf("logging changes: %w", err)
	}
	return stored, nil
}

// PendForRoom queues changes logged one by one to be told to the room of
// incident incidentID together: they join the room's window that is still
// open, else they open one, due RoomChangesWindow from now, with the
// JobRoomChanges job that tells the room. It returns the window's name.
// Queueing a change twice is a no-op.
func (l *ChangeLog) PendForRoom(ctx context.Context, incidentID int64, changeIDs []int64) (string, error) {
	now := l.clock.Now().UTC()
	due := now.Add(RoomChangesWindow)
	notice := fmt.Sprintf("room-changes:%d:%d", incidentID, due.UnixMicro())
	joined, err := l.store.PendRoomChanges(ctx, incidentID, changeIDs, now.Add(roomChangesJoinMargin), due, notice, func(notice string) jobs.Job {
		payload, _ := json.Marshal(RoomChangesPayload{IncidentID: incidentID, Notice: notice})
		return jobs.Job{Kind: JobRoomChanges, Key: notice, Payload: payload, DueAt: due}
	})
	if err != nil {
		return "", fmt.Errorf("queueing changes for the room of incident %d: %w", incidentID, err)
	}
	return joined, nil
}

// PendingForRoom returns the changes of the window notice that its room
// has not been told of, newest first.
func (l *ChangeLog) PendingForRoom(ctx context.Context, notice string) ([]Change, error) {
	changes, err := l.store.PendingRoomChanges(ctx, notice)
	if err != nil {
		return nil, fmt.Errorf("reading the changes of %s: %w", notice, err)
	}
	return changes, nil
}

// ToldRoom records that the room was told of the window notice.
func (l *ChangeLog) ToldRoom(ctx context.Context, notice string) error {
	if err := l.store.RoomChangesTold(ctx, notice, l.clock.Now()); err != nil {
		return fmt.Errorf("recording %s as told: %w", notice, err)
	}
	return nil
}

// Recent returns the changes q selects, newest first; Limit defaults to 20
// and is at most 1000.
func (l *ChangeLog) Recent(ctx context.Context, q ChangeQuery) ([]Change, error) {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 1000)
	changes, err := l.store.Changes(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading the change log: %w", err)
	}
	return changes, nil
}

// Show records the changes an incident's room lists.
func (l *ChangeLog) Show(ctx context.Context, incidentID int64, shown []ShownChange) error {
	return l.store.ShowChanges(ctx, incidentID, shown)
}

// Shown returns the changes an incident's room lists, in order.
func (l *ChangeLog) Shown(ctx context.Context, incidentID int64) ([]ShownChange, error) {
	return l.store.ShownChanges(ctx, incidentID)
}

// Verdicts returns the latest verdict (EntrySuspect or EntryUnrelated) on
// each change a timeline judged, by change ID.
func Verdicts(timeline []TimelineEntry) map[int64]TimelineEntry {
	out := map[int64]TimelineEntry{}
	for _, e := range timeline {
		if e.Kind != EntrySuspect && e.Kind != EntryUnrelated {
			continue
		}
		if id, err := strconv.ParseInt(e.Subject, 10, 64); err == nil {
			out[id] = e
		}
	}
	return out
}

// ByID returns the changes with these IDs, newest first.
func (l *ChangeLog) ByID(ctx context.Context, ids []int64) ([]Change, error) {
	return l.store.ChangesByID(ctx, ids)
}
