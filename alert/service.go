package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sitrep/sitrep/incident"

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
	// AlertID is the alert a JobChange logs as a change.
	AlertID int64 `json:"alert_id,omitempty"`
}

// The errors of the use cases, for errors.Is.
var (
	// ErrNoGroup is returned for a group that does not exist.
	ErrNoGroup = errors.New("no such alert")
	// ErrInvalid is returned by Receive for an alert it cannot take (no
	// source or group key, an unknown status): a parser's mistake, or a
	// request to refuse.
	ErrInvalid = errors.New("invalid alert")
	// ErrLinked is returned for a group already linked to another
	// incident.
	ErrLinked = errors.New("already linked to an incident")
	// ErrDismissed is returned for a group someone marked not an
	// incident.
	ErrDismissed = errors.New("marked not an incident")
	// ErrGroupExists is returned by Tx.SaveGroup when another transaction
	// created the group first.
	ErrGroupExists = errors.New("the alert group exists already")
)

// Tx is one intake transaction of the store: every call acts within it,
// and nothing is kept unless the function given to Store.Intake returns
// nil.
type Tx interface {
	// Group returns the group of (source, key), locked until the
	// transaction ends, or nil when there is none yet.
	Group(source Source, key string) (*Group, error)
	// SaveGroup inserts g when g.ID is 0 (setting g.ID) or updates it.
	// An insert whose (Source, Key) another transaction stored since
	// Group answered nil stores nothing and returns ErrGroupExists; Group
	// then returns that group, locked.
	SaveGroup(g *Group) error
	// SetMember records fingerprint's status within group id and returns
	// the status it had ("" when first seen).
	SetMember(groupID int64, fingerprint string, st Status, at time.Time) (prev Status, err error)
	// AddAlert stores a under group id, setting a.ID.
	AddAlert(groupID int64, a *Alert) error
	// Groups returns the groups of keys, locked until the transaction
	// ends, in the order of keys: nil for a key with no group yet. The
	// keys are locked in one order whatever the order of keys, so that
	// concurrent intakes never wait for each other in a circle.
	Groups(keys []Key) ([]*Group, error)
	// SaveGroups updates groups already stored.
	SaveGroups(gs []*Group) error
	// Add is AddAlert and SetMember for several alerts, in order: each
	// entry's alert is stored under its group and its fingerprint's status
	// set, at at. It sets each alert's ID and returns the status each
	// one's fingerprint had in its group before it ("" when first seen;
	// for a fingerprint earlier in entries, the status of that entry).
	Add(entries []Entry, at time.Time) (prev []Status, err error)
	// Take counts one new message against route's minute and returns how
	// many were counted in that minute, this one included.
	Take(route string, minute time.Time) (int, error)
	// Enqueue stores jobs; a job whose key is taken is not stored again.
	Enqueue(js ...jobs.Job) error
}

// Key names a group: its source and key.
type Key struct {
	Source Source
	Key    string
}

// Entry is an alert for Tx.Add, with its group.
type Entry struct {
	GroupID int64
	Alert   *Alert
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
	gather   gatherer
}

// NewService returns the use cases over store, routing by settings.
func NewService(store Store, c clock.Clock, settings Settings) *Service {
	return &Service{store: store, clock: c, settings: settings}
}

// Settings returns the settings the service routes by.
func (s *Service) Settings() Settings { return s.settings }

// Route returns the route named name (a group's Route), or the default
// route when none of the settings has that name.
func (s *Service) Route(name string) Route {
	r, _ := s.settings.RouteNamed(name)
	return r
}

// Limits on what Receive keeps of one alert. A longer key or fingerprint
// is replaced by its SHA-256 (grouping still works); longer text is cut.
const (
	// MaxBatch is the most alerts one Receive takes.
	MaxBatch = 1000
	// MaxKey bounds GroupKey and Fingerprint, in bytes.
	MaxKey = 512
	// MaxTitle bounds an alert's title, in characters.
	MaxTitle = 300
	// MaxDetails bounds an alert's details, in characters.
	MaxDetails = 8000
	// MaxLabels bounds the number of labels kept; MaxLabel each label's
	// name and value, in characters.
	MaxLabels = 64
	MaxLabel  = 500
	// MaxReason bounds the reason a group is not an incident.
	MaxReason = 500
)

// RefreshEvery is how long the repeats of a group are gathered into one
// refresh of what shows it: a refresh job is keyed by the group and the
// RefreshEvery-long bucket of the time the alert came, and is due
// refreshDelay after the bucket ends, so a storm of repeats makes one job
// per group every few seconds, not one per alert. The job renders the
// group's state from the store when it runs, so the repeats it did not see
// enqueued are shown all the same. A refresh job must not be run before it
// is due (Runner.RunNow): it would miss the rest of its bucket.
const RefreshEvery = 5 * time.Second

// refreshDelay leaves the transactions of a bucket's last alerts time to
// commit before its refresh runs.
const refreshDelay = time.Second

// DeclareKey is the RequestKey of the incident declared or opened for
// group id: a retried JobOpen, or two people clicking Declare, open one
// incident.
func DeclareKey(groupID int64) string { return "alert:" + strconv.FormatInt(groupID, 10) }

// intake is one group's share of a Receive.
type intake struct {
	source Source
	key    string
	// alerts are the indexes of the group's alerts in the batch, in order.
	alerts []int
	g      *Group
	isNew  bool
	// changes are the alerts that log a change (ActionChange).
	changes []int64
	// resolved is set when the group became resolved in the batch.
	resolved bool
	// firstStorm is set on the first group of its route's minute over the
	// limit: it posts the minute's storm digest.
	firstStorm bool
}

// Receive stores alerts (ReceivedAt set to now) in one transaction, in
// order: each joins the group of (Source, GroupKey), or starts one routed by
// the settings; a new group takes a message from its route's minute or, over
// the limit, joins the storm digest; the jobs that tell Slack are stored in
// the same transaction. Nothing is stored when it fails. Calls that
// arrive while the store's transactions are busy share the next one (see
// gatherer); each gets its own Result.
//
// Within the transaction, groups are locked in one order (Tx.Groups), new
// groups created in the order of their keys, the routes' minutes counted
// in the order of their names, and the jobs stored in the order of
// theirs, so that concurrent intakes never wait for each other in a
// circle. The alerts of one group are applied in their order; those of
// different groups in any.
//
// A new group whose first alert is already resolved is triaged even if its
// route says open: an incident is not opened for an alert that is over.
// Routes that log a change are not held to PerMinute: a change posts no
// message in the alerts channel. Each firing alert of a change route that
// was not firing already logs a change (a deploy search fires once per
// deploy; its repeats while firing are one).
func (s *Service) Receive(ctx context.Context, alerts []Alert) (Result, error) {
	if len(alerts) == 0 {
		return Result{}, nil
	}
	if len(alerts) > MaxBatch {
		return Result{}, fmt.Errorf("%d alerts in one request: send at most %d: %w", len(alerts), MaxBatch, ErrInvalid)
	}
	now := s.clock.Now().UTC()
	in := make([]Alert, len(alerts))
	for i, a := range alerts {
		var err error
		if in[i], err = clean(a, now); err != nil {
			if len(alerts) > 1 {
				return Result{}, fmt.Errorf("alert %d: %w", i+1, err)
			}
			return Result{}, err
		}
	}
	r := &receipt{in: in, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	s.gather.add(s, ctx, r)
	if r.err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", plural(len(in), "alert"), r.err)
	}
	return r.res, nil
}

// Parallel is a Store that says how many intakes may commit at once
// (storage: one on SQLite, which has one writer; a few on PostgreSQL).
// A Store without it gets DefaultParallel.
type Parallel interface {
	IntakeParallelism() int
}

// DefaultParallel is how many intakes commit at once on a Store that is
// not Parallel.
const DefaultParallel = 2

// IntakeTimeout bounds the transactions of Receive. Calls stored together
// share a transaction, so one caller's deadline is not the others'.
const IntakeTimeout = 30 * time.Second

// gatherer commits concurrent Receive calls together ("group commit"):
// while its transactions are all busy, calls wait, and the next free one
// takes every call waiting, up to MaxBatch alerts, into one transaction.
// Alone, a call is one transaction with no added wait; under a burst of
// one-alert webhooks (Grafana, PagerDuty) each transaction carries many,
// and the database's round trips and commits are shared.
//
// There is no goroutine of its own: a caller that finds a transaction
// free leads, committing gathered calls until its own is done, then hands
// the lead to a waiting caller, if any.
type gatherer struct {
	mu      sync.Mutex
	waiting []*receipt
	leading int
	// commits counts the transactions, for tests.
	commits atomic.Int64
}

// receipt is one Receive call waiting for its alerts to be stored.
type receipt struct {
	in  []Alert
	res Result
	err error
	// done is closed once res and err are set; lead is signalled when
	// the call is to lead.
	done chan struct{}
	lead chan struct{}
}

// add stores r's alerts with those of the calls around it, and returns
// once they are stored or failed.
func (g *gatherer) add(s *Service, ctx context.Context, r *receipt) {
	g.mu.Lock()
	g.waiting = append(g.waiting, r)
	lead := g.leading < s.parallel()
	if lead {
		g.leading++
	}
	g.mu.Unlock()
	if !lead {
		select {
		case <-r.done:
			// Another leader stored r. A lead passed to r before it was
			// taken is in r.lead by now (both happen under g.mu): pass
			// it on.
			select {
			case <-r.lead:
				g.run(s, ctx, r)
			default:
			}
			return
		case <-r.lead:
		}
	}
	g.run(s, ctx, r)
	<-r.done
}

// parallel is how many intakes may commit at once.
func (s *Service) parallel() int {
	if p, ok := s.store.(Parallel); ok {
		return max(1, p.IntakeParallelism())
	}
	return DefaultParallel
}

// run leads: it commits the waiting calls, a transaction at a time, until
// r is done, then gives up the lead, passing it to a waiting call.
func (g *gatherer) run(s *Service, ctx context.Context, r *receipt) {
	// The transactions carry other calls than the leader's: the
	// leader's cancellation must not fail them. IntakeTimeout bounds
	// each (store1).
	ctx = context.WithoutCancel(ctx)
	for {
		g.mu.Lock()
		var batch []*receipt
		n := 0
		for len(g.waiting) > 0 && (len(batch) == 0 || n+len(g.waiting[0].in) <= MaxBatch) {
			batch, n = append(batch, g.waiting[0]), n+len(g.waiting[0].in)
			g.waiting = g.waiting[1:]
		}
		if len(batch) == 0 || isDone(r) {
			// Nothing to do, or r is stored: hand over the lead.
			g.waiting = append(batch, g.waiting...)
			g.leading--
			if len(g.waiting) > 0 {
				for _, w := range g.waiting {
					select {
					case w.lead <- struct{}{}:
						g.leading++
					default:
						continue // signalled already
					}
					break
				}
			}
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commit(s, ctx, batch)
	}
}

// isDone reports whether r's alerts are stored or failed.
func isDone(r *receipt) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// commit stores the calls of batch in one transaction; if it fails and
// holds several calls, each is tried alone, so that one call's trouble is
// not another's.
func (g *gatherer) commit(s *Service, ctx context.Context, batch []*receipt) {
	var in []Alert
	for _, r := range batch {
		in = append(in, r.in...)
	}
	res, err := s.store1(ctx, in)
	g.commits.Add(1)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.res, r.err = s.store1(ctx, r.in)
			g.commits.Add(1)
			close(r.done)
		}
		return
	}
	k := 0
	for _, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.res = Result{Groups: res.Groups[k : k+len(r.in) : k+len(r.in)]}
		}
		k += len(r.in)
		close(r.done)
	}
}

// store1 stores in, cleaned, in one transaction of at most
// IntakeTimeout.
func (s *Service) store1(ctx context.Context, in []Alert) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, IntakeTimeout)
	defer cancel()
	groups := groupsOf(in)
	now := s.clock.Now().UTC()
	var res Result
	err := s.store.Intake(ctx, func(tx Tx) error {
		var err error
		res, err = s.intake(tx, groups, in, now)
		return err
	})
	return res, err
}

// intake is Receive's transaction: every group locked (or created), the
// alerts stored, the new groups counted against their routes' minutes,
// the groups saved and their jobs stored, in that order. Each step is one
// call of tx for all the groups.
func (s *Service) intake(tx Tx, groups []*intake, in []Alert, now time.Time) (Result, error) {
	res := Result{Groups: make([]Received, len(in))}
	keys := make([]Key, len(groups))
	for i, gi := range groups {
		gi.g, gi.isNew, gi.changes, gi.resolved, gi.firstStorm = nil, false, nil, false, false
		keys[i] = Key{gi.source, gi.key}
	}
	found, err := tx.Groups(keys)
	if err != nil {
		return res, fmt.Errorf("reading the alert groups: %w", err)
	}
	if len(found) != len(groups) {
		return res, fmt.Errorf("reading the alert groups: %d for %d keys", len(found), len(groups))
	}
	var entries []Entry
	for i, gi := range groups {
		gi.g = found[i]
		if err := s.lockGroup(tx, gi, in, now); err != nil {
			return res, err
		}
		for _, ai := range gi.alerts {
			a := in[ai]
			entries = append(entries, Entry{GroupID: gi.g.ID, Alert: &a})
		}
	}
	prevs, err := tx.Add(entries, now)
	if err != nil {
		return res, fmt.Errorf("storing the alerts: %w", err)
	}
	if len(prevs) != len(entries) {
		return res, fmt.Errorf("storing the alerts: %d statuses for %d alerts", len(prevs), len(entries))
	}
	k := 0
	for _, gi := range groups {
		n := len(gi.alerts)
		s.apply(gi, entries[k:k+n], prevs[k:k+n], in, now, &res)
		k += n
	}
	if err := s.storm(tx, groups, now); err != nil {
		return res, err
	}
	var js []jobs.Job
	gs := make([]*Group, len(groups))
	for i, gi := range groups {
		js = append(js, s.intakeJobs(gi, now)...)
		gs[i] = gi.g
		for _, ai := range gi.alerts {
			res.Groups[ai].Storm = gi.g.Storm
		}
	}
	if err := tx.SaveGroups(gs); err != nil {
		return res, fmt.Errorf("saving the alert groups: %w", err)
	}
	if js = uniqueJobs(js); len(js) > 0 {
		if err := tx.Enqueue(js...); err != nil {
			return res, fmt.Errorf("scheduling the alerts' messages: %w", err)
		}
	}
	return res, nil
}

// groupsOf gathers the batch's alerts by group, in the order of the
// groups' keys.
func groupsOf(in []Alert) []*intake {
	type gk struct {
		s Source
		k string
	}
	by := map[gk]*intake{}
	var out []*intake
	for i, a := range in {
		k := gk{a.Source, a.GroupKey}
		gi := by[k]
		if gi == nil {
			gi = &intake{source: a.Source, key: a.GroupKey}
			by[k] = gi
			out = append(out, gi)
		}
		gi.alerts = append(gi.alerts, i)
	}
	slices.SortFunc(out, func(a, b *intake) int {
		if c := strings.Compare(string(a.source), string(b.source)); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// lockGroup creates gi's group, routed by its first alert, unless
// Groups found it.
func (s *Service) lockGroup(tx Tx, gi *intake, in []Alert, now time.Time) error {
	g := gi.g
	if g == nil {
		first := in[gi.alerts[0]]
		r := s.settings.Route(first)
		action := r.Action
		if action == ActionOpen && first.Status == StatusResolved {
			action = ActionTriage
		}
		g = &Group{Source: gi.source, Key: gi.key, Route: r.Name, Action: action, Status: StatusFiring,
			Title: first.Title, FirstSeen: now, LastSeen: now}
		err := tx.SaveGroup(g)
		switch {
		case errors.Is(err, ErrGroupExists):
			if g, err = tx.Group(gi.source, gi.key); err != nil {
				return fmt.Errorf("reading the alert group %s: %w", gi.key, err)
			}
			if g == nil {
				return fmt.Errorf("the alert group %s was created and is gone", gi.key)
			}
		case err != nil:
			return fmt.Errorf("creating the alert group %s: %w", gi.key, err)
		default:
			gi.isNew = true
		}
	}
	gi.g = g
	return nil
}

// apply folds gi's alerts, stored as entries with the statuses their
// fingerprints had before, into its group.
func (s *Service) apply(gi *intake, entries []Entry, prevs []Status, in []Alert, now time.Time, res *Result) {
	g := gi.g
	for n, i := range gi.alerts {
		a, prev := entries[n].Alert, prevs[n]
		in[i].ID = a.ID
		if firing(a.Status) && !firing(prev) {
			g.Firing++
			if g.Action == ActionChange {
				gi.changes = append(gi.changes, a.ID)
			}
		} else if !firing(a.Status) && firing(prev) {
			g.Firing--
		}
		g.Received++
		g.Version++
		g.LastSeen = now
		if a.Title != "" {
			g.Title = a.Title
		}
		if a.Severity != "" {
			g.Severity = a.Severity
		}
		if a.Link != "" {
			g.Link = a.Link
		}
		if len(a.Labels) > 0 {
			g.Labels = a.Labels
		}
		if len(a.Systems) > 0 {
			g.Systems = a.Systems
		}
		if a.Details != "" {
			g.Details = a.Details
		}
		res.Groups[i] = Received{AlertID: a.ID, GroupID: g.ID, New: gi.isNew && n == 0, Action: g.Action}
	}
	if g.Firing > 0 {
		g.Status, g.ResolvedAt = StatusFiring, time.Time{}
	} else if g.Status != StatusResolved || gi.isNew {
		g.Status, g.ResolvedAt = StatusResolved, now
		gi.resolved = true
	}
}

// firing reports whether st counts as firing: firing or acknowledged.
func firing(st Status) bool { return st == StatusFiring || st == StatusAcknowledged }

// storm takes a message from its route's minute for each new group that
// posts one, in the order of the routes' names; a group over the limit
// goes to the minute's storm digest instead.
func (s *Service) storm(tx Tx, groups []*intake, now time.Time) error {
	var fresh []*intake
	for _, gi := range groups {
		if gi.isNew && gi.g.Action != ActionChange {
			fresh = append(fresh, gi)
		}
	}
	slices.SortStableFunc(fresh, func(a, b *intake) int { return strings.Compare(a.g.Route, b.g.Route) })
	minute := now.Truncate(time.Minute)
	for _, gi := range fresh {
		n, err := tx.Take(gi.g.Route, minute)
		if err != nil {
			return fmt.Errorf("counting the messages of route %s: %w", gi.g.Route, err)
		}
		if limit := s.settings.Limit(s.Route(gi.g.Route)); n > limit {
			gi.g.Storm, gi.g.StormMinute, gi.firstStorm = true, minute, n == limit+1
		}
	}
	return nil
}

// intakeJobs are the jobs gi's alerts set off. The refreshes of a group
// are scheduled once per bucket: Refreshed remembers the bucket, so the
// repeats after the first in a bucket enqueue nothing.
func (s *Service) intakeJobs(gi *intake, now time.Time) []jobs.Job {
	g := gi.g
	var out []jobs.Job
	for _, id := range gi.changes {
		out = append(out, job(JobChange, fmt.Sprintf("%s:%d", JobChange, id), now, JobPayload{GroupID: g.ID, Version: g.Version, AlertID: id}))
	}
	if gi.isNew {
		switch {
		case g.Storm:
			out = append(out, digestJob(g.Route, g.StormMinute, now))
			if gi.firstStorm {
				// Posted at once; the bucket's job above shows the
				// groups that follow it.
				first := digestJob(g.Route, g.StormMinute, now)
				first.Key, first.DueAt = fmt.Sprintf("%s:%s:%d", JobDigest, g.Route, g.StormMinute.Unix()), now
				out = append(out, first)
			}
		case g.Action == ActionTriage:
			out = append(out, job(JobTriage, fmt.Sprintf("%s:%d", JobTriage, g.ID), now, JobPayload{GroupID: g.ID, Version: g.Version}))
		case g.Action == ActionOpen:
			out = append(out, job(JobOpen, fmt.Sprintf("%s:%d", JobOpen, g.ID), now, JobPayload{GroupID: g.ID, Version: g.Version}))
		}
		return out
	}
	if g.IncidentID != 0 && gi.resolved {
		out = append(out, resolvedJob(g, now))
	}
	if b := bucket(now); !g.Refreshed.Equal(b) {
		g.Refreshed = b
		switch {
		case g.Storm:
			out = append(out, digestJob(g.Route, g.StormMinute, now))
		case g.Action == ActionTriage:
			out = append(out, refreshJob(JobTriage, g, now))
		}
		if g.IncidentID != 0 {
			out = append(out, refreshJob(JobIncident, g, now))
		}
	}
	return out
}

// job makes a job of kind with its payload.
func job(kind, key string, due time.Time, p JobPayload) jobs.Job {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // a JobPayload always marshals
	}
	return jobs.Job{Kind: kind, Key: key, DueAt: due, Payload: b}
}

// bucket is the start of the refresh bucket of t.
func bucket(t time.Time) time.Time { return t.Truncate(RefreshEvery) }

// refreshJob refreshes what shows g (kind JobTriage or JobIncident),
// coalesced: one per group and bucket, due after the bucket.
func refreshJob(kind string, g *Group, now time.Time) jobs.Job {
	b := bucket(now)
	return job(kind, fmt.Sprintf("%s:%d@%d", kind, g.ID, b.Unix()), b.Add(RefreshEvery+refreshDelay),
		JobPayload{GroupID: g.ID, Version: g.Version})
}

// digestJob refreshes the storm digest of route's minute (posting it if
// it is not yet), coalesced like refreshJob: one per route, minute and
// bucket.
func digestJob(route string, minute, now time.Time) jobs.Job {
	b := bucket(now)
	return job(JobDigest, fmt.Sprintf("%s:%s:%d@%d", JobDigest, route, minute.Unix(), b.Unix()), b.Add(RefreshEvery+refreshDelay),
		JobPayload{Route: route, Minute: minute})
}

// resolvedJob tells g's incident that g resolved: one per resolution,
// keyed by when it resolved, so the resolution Receive saw and the one
// Opened finds are one job.
func resolvedJob(g *Group, now time.Time) jobs.Job {
	return job(JobIncident, fmt.Sprintf("%s:%d:resolved@%d", JobIncident, g.ID, g.ResolvedAt.UnixMicro()), now,
		JobPayload{GroupID: g.ID, Version: g.Version, Resolved: true})
}

// showJobs refresh at once what shows g after a decision: its triage
// message, or its storm digest. Keyed by version: each decision is shown.
func showJobs(g *Group, now time.Time) []jobs.Job {
	if g.Storm {
		d := digestJob(g.Route, g.StormMinute, now)
		d.Key = fmt.Sprintf("%s:%s:%d:v%d:%d", JobDigest, g.Route, g.StormMinute.Unix(), g.Version, g.ID)
		d.DueAt = now
		return []jobs.Job{d}
	}
	if g.Action != ActionTriage {
		return nil
	}
	return []jobs.Job{job(JobTriage, fmt.Sprintf("%s:%d:v%d", JobTriage, g.ID, g.Version), now, JobPayload{GroupID: g.ID, Version: g.Version})}
}

// uniqueJobs drops jobs whose key came before and sorts the rest by key.
func uniqueJobs(js []jobs.Job) []jobs.Job {
	slices.SortStableFunc(js, func(a, b jobs.Job) int { return strings.Compare(a.Key, b.Key) })
	return slices.CompactFunc(js, func(a, b jobs.Job) bool { return a.Key == b.Key })
}

// clean checks a and bounds what it holds.
func clean(a Alert, now time.Time) (Alert, error) {
	if _, ok := ParseSource(string(a.Source)); !ok {
		return a, fmt.Errorf("source %q is not one of %s: %w", a.Source, sourceList(), ErrInvalid)
	}
	a.GroupKey = boundKey(strings.TrimSpace(a.GroupKey))
	if a.GroupKey == "" {
		return a, fmt.Errorf("no group key (the key that folds repeats of one alert together): %w", ErrInvalid)
	}
	a.Fingerprint = boundKey(strings.TrimSpace(a.Fingerprint))
	switch a.Status {
	case "":
		a.Status = StatusFiring
	case StatusFiring, StatusAcknowledged, StatusResolved:
	default:
		return a, fmt.Errorf("status %q is not firing, acknowledged or resolved: %w", a.Status, ErrInvalid)
	}
	a.Title = cut(incident.NormalizeTitle(a.Title), MaxTitle)
	if a.Title == "" {
		a.Title = cut(incident.NormalizeTitle(a.GroupKey), MaxTitle)
	}
	a.Severity = cut(incident.NormalizeTitle(a.Severity), 50)
	a.SearchName = cut(strings.TrimSpace(a.SearchName), MaxTitle)
	a.Link = cut(strings.TrimSpace(a.Link), 2000)
	a.Details = cut(a.Details, MaxDetails)
	if len(a.Labels) > 0 {
		labels := make(map[string]string, min(len(a.Labels), MaxLabels))
		for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
			if len(labels) == MaxLabels {
				break
			}
			labels[cut(k, MaxLabel)] = cut(a.Labels[k], MaxLabel)
		}
		a.Labels = labels
	}
	if len(a.Systems) > 0 {
		a.Systems = slices.Clone(a.Systems)
	}
	a.ID = 0
	a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	a.ReceivedAt = now
	return a, nil
}

// boundKey replaces a key longer than MaxKey by its SHA-256.
func boundKey(k string) string {
	if len(k) <= MaxKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// plural is "1 alert", "3 alerts".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// errUnchanged ends a change that finds its work done: a retry.
var errUnchanged = errors.New("unchanged")

// decide changes group id under its lock, returning the group as it is
// after; a change that returns errUnchanged leaves it and returns it.
func (s *Service) decide(ctx context.Context, id int64, change func(*Group) error, follow func(*Group) []jobs.Job) (*Group, error) {
	g, err := s.store.UpdateAlertGroup(ctx, id, change, follow)
	if errors.Is(err, errUnchanged) {
		return s.store.AlertGroup(ctx, id)
	}
	return g, err
}

// link checks that g may be linked to incidentID; errUnchanged when it is.
func link(g *Group, incidentID int64) error {
	switch {
	case incidentID <= 0:
		return fmt.Errorf("linking %s: no incident given", g.Ref())
	case g.IncidentID == incidentID:
		return errUnchanged
	case g.IncidentID != 0:
		return fmt.Errorf("%s belongs to another incident already: open that incident to follow it: %w", g.Ref(), ErrLinked)
	case g.Decision == DecisionDismissed:
		return fmt.Errorf("%s was marked not an incident (%s): %w", g.Ref(), g.Reason, ErrDismissed)
	}
	return nil
}

// Declare links group id to the incident a person declared from its triage
// message (incident.Service.Open with RequestKey DeclareKey(id)). Declaring
// it again for the same incident changes nothing; a group linked to
// another incident (ErrLinked) or marked not an incident (ErrDismissed) is
// refused.
func (s *Service) Declare(ctx context.Context, id, incidentID int64, actor string) (*Group, error) {
	now := s.clock.Now().UTC()
	return s.decide(ctx, id, func(g *Group) error {
		if err := link(g, incidentID); err != nil {
			return err
		}
		g.IncidentID, g.Decision, g.DecidedBy, g.DecidedAt = incidentID, DecisionDeclared, actor, now
		g.Refreshed = time.Time{} // the incident is to be refreshed too
		return nil
	}, func(g *Group) []jobs.Job {
		js := showJobs(g, now)
		if g.Status == StatusResolved {
			js = append(js, resolvedJob(g, now))
		}
		return js
	})
}

// Attach links group id to an open incident someone picked: its triage
// message says so and the incident is told (JobIncident). Attaching it
// again to the same incident changes nothing; a group linked to another
// incident (ErrLinked) or marked not an incident (ErrDismissed) is refused.
func (s *Service) Attach(ctx context.Context, id, incidentID int64, actor string) (*Group, error) {
	now := s.clock.Now().UTC()
	return s.decide(ctx, id, func(g *Group) error {
		if err := link(g, incidentID); err != nil {
			return err
		}
		g.IncidentID, g.Decision, g.DecidedBy, g.DecidedAt = incidentID, DecisionAttached, actor, now
		g.Refreshed = time.Time{} // the incident is to be refreshed too
		return nil
	}, func(g *Group) []jobs.Job {
		js := append(showJobs(g, now),
			job(JobIncident, fmt.Sprintf("%s:%d:attached@%d", JobIncident, g.ID, incidentID), now, JobPayload{GroupID: g.ID, Version: g.Version}))
		if g.Status == StatusResolved {
			js = append(js, resolvedJob(g, now))
		}
		return js
	})
}

// Dismiss records that group id is not an incident, and why; the reason
// is required and kept. A group linked to an incident cannot be dismissed
// (ErrLinked); dismissing it again with another reason keeps the new one.
func (s *Service) Dismiss(ctx context.Context, id int64, actor, reason string) (*Group, error) {
	reason = incident.NormalizeTitle(reason)
	if reason == "" {
		return nil, fmt.Errorf("say why it is not an incident (e.g. \"planned maintenance\"): the reason is kept with the alert: %w", ErrInvalid)
	}
	if n := utf8.RuneCountInString(reason); n > MaxReason {
		return nil, fmt.Errorf("the reason is %d characters long: keep it under %d: %w", n, MaxReason, ErrInvalid)
	}
	now := s.clock.Now().UTC()
	return s.decide(ctx, id, func(g *Group) error {
		switch {
		case g.IncidentID != 0:
			return fmt.Errorf("%s belongs to an incident: it cannot be marked not an incident: %w", g.Ref(), ErrLinked)
		case g.Decision == DecisionDismissed && g.Reason == reason:
			return errUnchanged
		}
		g.Decision, g.DecidedBy, g.DecidedAt, g.Reason = DecisionDismissed, actor, now, reason
		return nil
	}, func(g *Group) []jobs.Job { return showJobs(g, now) })
}

// Opened records the incident a route opened for group id (JobOpen, whose
// incident carries RequestKey DeclareKey(id)). Recording it again changes
// nothing. A group that resolved before its incident opened tells the
// incident at once (JobIncident, Resolved).
func (s *Service) Opened(ctx context.Context, id, incidentID int64) (*Group, error) {
	now := s.clock.Now().UTC()
	return s.decide(ctx, id, func(g *Group) error {
		if err := link(g, incidentID); err != nil {
			return err
		}
		g.IncidentID, g.DecidedAt, g.Refreshed = incidentID, now, time.Time{}
		if g.Decision == DecisionNone {
			g.Decision = DecisionOpened
		}
		return nil
	}, func(g *Group) []jobs.Job {
		if g.Status == StatusResolved {
			return []jobs.Job{resolvedJob(g, now)}
		}
		return nil
	})
}

// Logged records the change a route logged for group id (JobChange): the
// latest, when the group logged several. Recording it again changes
// nothing.
func (s *Service) Logged(ctx context.Context, id, changeID int64) (*Group, error) {
	now := s.clock.Now().UTC()
	return s.decide(ctx, id, func(g *Group) error {
		if changeID <= 0 {
			return fmt.Errorf("recording the change of %s: no change given", g.Ref())
		}
		if g.ChangeID == changeID {
			return errUnchanged
		}
		g.ChangeID = changeID
		if g.Decision == DecisionNone {
			g.Decision, g.DecidedAt = DecisionLogged, now
		}
		return nil
	}, nil)
}

// Group returns group id, or ErrNoGroup.
func (s *Service) Group(ctx context.Context, id int64) (*Group, error) {
	return s.store.AlertGroup(ctx, id)
}

// ForIncident lists the groups that opened or joined incident id.
func (s *Service) ForIncident(ctx context.Context, incidentID int64) ([]Group, error) {
	return s.store.AlertGroups(ctx, GroupQuery{IncidentID: incidentID})
}
