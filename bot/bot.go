// Package bot is sitrep's Slack adapter. It reads Socket Mode envelopes,
// records each one in the inbox and then acks it, parses slash commands and
// interactions into typed requests, calls the domain use cases, and renders
// their results as Block Kit. Slack calls go through one retrying caller;
// work that must survive a crash runs as durable jobs.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Rooms stores incident rooms. storage satisfies it (it is part of
// incident.Store).
type Rooms interface {
	Room(ctx context.Context, incidentID int64) (*incident.Room, error)
	RoomByChannel(ctx context.Context, channelID string) (*incident.Room, error)
	SaveRoom(ctx context.Context, r *incident.Room) error
	// RoomsOf returns the rooms of these incidents in one read, by
	// incident ID; an incident with no room is left out.
	RoomsOf(ctx context.Context, incidentIDs []int64) (map[int64]*incident.Room, error)
}

// Config holds the bot's settings. The zero value of each field has a
// working default (see Defaults).
type Config struct {
	// IncidentsChannel is the name of the channel where new incidents are
	// announced, without '#'. Default "incidents"; created if missing.
	IncidentsChannel string
	// OpsChannel is where rotation hand-offs are posted, without '#'.
	// Default "ops"; created if missing.
	OpsChannel string
	// ArchiveAfter archives a closed incident's channel after this long;
	// 0 keeps it.
	ArchiveAfter time.Duration
	// Handover says who may hand leadership over: "channel" (anyone in the
	// incident channel, the default), "tdo" (only the current TDO) or
	// "anyone".
	Handover string
	// Permissions say who may do what (see internal/access). Its Handover,
	// if empty, is Handover above.
	Permissions access.Settings
	// WhatChangedCount is how many changes the room's "what changed?"
	// message lists. Default 4.
	WhatChangedCount int
	// WhatChangedWindow is how far before the opening it looks. Default 24h.
	WhatChangedWindow time.Duration
	// Workers bounds how many envelopes are handled at once. Default 32.
	Workers int
	// QueueDepth bounds how many more envelopes wait for a worker in
	// memory. Past it they are still recorded and acked, and wait in the
	// inbox until a worker is free. Default 1024.
	QueueDepth int
	// Instance names this process in the leases of the envelopes it
	// handles: stable across its restarts (so that a restarted instance
	// finishes at once what it was doing when it died) and unique among
	// replicas sharing a database. Default the job runner's Instance
	// (SITREP_INSTANCE, else the host name).
	Instance string
	// Connections is how many Socket Mode connections the bot keeps open
	// (Slack spreads envelopes across them), so that while Slack refreshes
	// one another is reading. Default 2; at most MaxConnections (Slack's
	// limit), which a refresh's replacement connection also counts against.
	// The bot installs its own socketmode dialer (see internal/socketwatch):
	// Deps.SocketOptions must not set one.
	Connections int
	// DrainTimeout bounds how long Run waits for in-flight work on shutdown.
	// Default 10s.
	DrainTimeout time.Duration
	// SweepSpec is the cron spec of the durable job sweeper. Default
	// "@every 5s".
	SweepSpec string
	// OpsReviewChannel is where the daily operations review is posted.
	// Default "ops-review".
	OpsReviewChannel string
	// OpsReviewSchedule says when it is posted; nil posts none.
	OpsReviewSchedule cron.Schedule
	// OpsReviewWindow is how far back it looks. Default 24h.
	OpsReviewWindow time.Duration
	// AlertsChannel is where alert triage messages and storm digests go
	// when neither the alert's route nor the alert settings name a
	// channel, without '#'. Default "alerts"; created if missing.
	AlertsChannel string
}

func (c *Config) defaults() {
	if c.IncidentsChannel == "" {
		c.IncidentsChannel = "incidents"
	}
	if c.OpsChannel == "" {
		c.OpsChannel = "ops"
	}
	if c.Handover == "" {
		c.Handover = HandoverChannel
	}
	if c.WhatChangedCount <= 0 {
		c.WhatChangedCount = 4
	}
	if c.WhatChangedWindow <= 0 {
		c.WhatChangedWindow = 24 * time.Hour
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.QueueDepth <= 0 {
		c.QueueDepth = 1024
	}
	if c.Connections <= 0 {
		c.Connections = 2
	}
	c.Connections = min(c.Connections, MaxConnections)
	if c.OpsReviewChannel == "" {
		c.OpsReviewChannel = "ops-review"
	}
	if c.OpsReviewWindow <= 0 {
		c.OpsReviewWindow = 24 * time.Hour
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.SweepSpec == "" {
		c.SweepSpec = "@every 5s"
	}
	if c.AlertsChannel == "" {
		c.AlertsChannel = "alerts"
	}
}

// The hand-over policies of Config.Handover.
const (
	HandoverChannel = "channel"
	HandoverTDO     = "tdo"
	HandoverAnyone  = "anyone"
)

// Deps are what the bot is built from.
type Deps struct {
	// API is the Slack Web API client (with the bot token and, for Socket
	// Mode, the app-level token).
	API       *slack.Client
	Incidents *incident.Service
	Changes   *incident.ChangeLog
	// Checklists runs /checklist; nil turns it off.
	Checklists *checklist.Service
	// Problems runs /problem and links; nil turns them off.
	Problems *incident.Problems
	// Reviews builds the daily operations review; nil turns it off.
	Reviews *incident.Reviews
	// Postmortems runs /postmortem; nil turns it off.
	Postmortems *incident.Postmortems
	// Alerts is alert intake: the bot runs its jobs (triage messages,
	// incidents and changes from alerts, storm digests) and its buttons;
	// nil turns it off.
	Alerts *alert.Service
	Rooms  Rooms
	// Pins remembers who pinned which message, so a message pinned twice
	// is one timeline entry; nil adds each pin.
	Pins incident.PinStore
	// Inbox records every envelope before it is acknowledged.
	Inbox inbox.Store
	Jobs  *jobs.Runner
	Clock clock.Clock
	Log   *slog.Logger
	// SocketOptions are passed to socketmode.New (tests shorten pings).
	SocketOptions []socketmode.Option
}

// Bot is a running sitrep Slack bot.
type Bot struct {
	cfg         Config
	api         *slack.Client
	incidents   *incident.Service
	changes     *incident.ChangeLog
	checklists  *checklist.Service
	problems    *incident.Problems
	reviews     *incident.Reviews
	postmortems *incident.Postmortems
	alerts      *alert.Service
	alertLocks  keyLocks // one triage message or digest at a time (alerts.go)
	rooms       Rooms
	pins        incident.PinStore
	inbox       inbox.Store
	jobs        *jobs.Runner
	clock       clock.Clock
	log         *slog.Logger
	socketOpts  []socketmode.Option
	slack       *slackCaller
	// roomQueue holds the room set-ups waiting for Slack to allow
	// channel creation (provision_queue.go).
	roomQueue *roomQueue

	sem      chan struct{}
	inflight sync.WaitGroup
	busy     atomic.Int64
	idle     chan struct{} // closed and replaced when busy drops to 0
	idleMu   sync.Mutex

	// connectedCh is closed the first time the socket connects.
	connectedCh   chan struct{}
	connectedOnce sync.Once

	envelopes atomic.Int64
	acks      atomic.Int64
	// acking holds handlers back while envelopes wait for their ack.
	acking *ackGate
	// in is the ack path: the recorder and the work queue (intake.go).
	in intake
	// finishing holds the keys of handled envelopes not yet marked so.
	finishing sync.Map
	acked     ackLedger    // envelopes acked, for recoverEnvelope
	panics    atomic.Int64 // handlers that panicked and were recovered
	refusals  atomic.Int64 // requests the permission model refused
	policy    *access.Policy
	members   *membership // who is in which channel and group (membership.go)

	channelMu sync.Mutex
	channels  map[string]string // channel name → ID, for the incidents channel
	usersMu   sync.Mutex
	users     map[string]userInfo
	selfMu    sync.Mutex
	selfID    string // the bot's own user ID, from auth.test
}

type userInfo struct {
	name  string
	isBot bool
	// tz is their IANA time zone (users.info tz), "" if Slack did not say.
	tz      string
	fetched time.Time
}

// New builds a Bot. It registers its job handlers on d.Jobs.
func New(cfg Config, d Deps) *Bot {
	cfg.defaults()
	if cfg.Instance == "" {
		cfg.Instance = d.Jobs.Instance
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	b := &Bot{
		cfg:         cfg,
		api:         d.API,
		incidents:   d.Incidents,
		changes:     d.Changes,
		checklists:  d.Checklists,
		problems:    d.Problems,
		reviews:     d.Reviews,
		postmortems: d.Postmortems,
		alerts:      d.Alerts,
		rooms:       d.Rooms,
		pins:        d.Pins,
		inbox:       d.Inbox,
		jobs:        d.Jobs,
		clock:       d.Clock,
		log:         d.Log,
		socketOpts:  d.SocketOptions,
		slack:       newSlackCaller(d.Log),
		roomQueue:   newRoomQueue(),
		sem:         make(chan struct{}, cfg.Workers),
		idle:        make(chan struct{}),
		acking:      newAckGate(),
		connectedCh: make(chan struct{}),
		channels:    map[string]string{},
		users:       map[string]userInfo{},
		members:     newMembership(),
	}
	close(b.idle)
	if b.incidents != nil {
		b.incidents.SetNames(names{b})
	}
	perms := cfg.Permissions
	if perms.Handover == "" {
		perms.Handover = cfg.Handover
	}
	b.policy = access.New(perms, directory{b})
	b.jobs.Handle(incident.JobProvision, b.provisionJob)
	b.jobs.Handle(incident.JobChanged, b.changedJob)
	b.jobs.Handle(incident.JobClosed, b.closedJob)
	b.jobs.Handle(incident.JobMadePrivate, b.madePrivateJob)
	b.jobs.Handle(incident.JobHandedOver, b.peopleChangedJob)
	b.jobs.Handle(incident.JobRoleAssigned, b.peopleChangedJob)
	b.jobs.Handle(jobArchive, b.archiveJob)
	b.jobs.Handle(incident.JobChangeMarked, b.changeMarkedJob)
	b.jobs.Handle(incident.JobChangesLogged, b.changesLoggedJob)
	b.jobs.Handle(incident.JobRoomChanges, b.roomChangesJob)
	b.jobs.Handle(incident.JobTimeboxWarning, b.clockDueJob)
	b.jobs.Handle(incident.JobTimeboxExpiry, b.clockDueJob)
	b.jobs.Handle(incident.JobTimebox, b.timeboxJob)
	b.jobs.Handle(incident.JobDiagnostic, b.diagnosticJob)
	b.jobs.Handle(incident.JobUpdateNudge, b.nudgeJob)
	b.jobs.Handle(incident.JobAnnotated, b.annotatedJob)
	b.jobs.Handle(jobOpsReview, b.opsReviewJob)
	b.jobs.Handle(incident.JobPostmortemChanged, b.postmortemJob)
	b.jobs.Handle(incident.JobActionAssigned, b.actionNoticeJob)
	b.jobs.Handle(incident.JobActionReminder, b.actionNoticeJob)
	b.jobs.Handle(incident.JobActionOverdue, b.actionNoticeJob)
	b.jobs.Handle(jobOpsReviewChart, b.opsReviewChartJob)
	b.jobs.Handle(checklist.JobPost, b.checklistPostJob)
	b.jobs.Handle(checklist.JobRefresh, b.checklistRefreshJob)
	b.jobs.Handle(checklist.JobFinished, b.checklistFinishedJob)
	b.jobs.Handle(checklist.JobRemind, b.checklistRemindJob)
	b.jobs.Handle(jobHandOff, b.handOffJob)
	b.registerAlertJobs()
	return b
}

// Run connects over Socket Mode and handles envelopes until ctx is done,
// then stops taking new work, waits up to DrainTimeout for in-flight work and
// returns. It holds Config.Connections connections, each reopened by itself
// after a disconnect, and replaces a connection as soon as Slack warns it
// will close it while still reading and acking it until Slack does.
func (b *Bot) Run(ctx context.Context) error {
	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()

	// In-flight work outlives ctx for a bounded drain.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	b.roomQueue.start(work)

	// Finish what this instance was handling when it died, before this
	// life records any envelope of its own.
	if n, err := b.replayInbox(work, true); err != nil {
		b.log.Error("finishing the envelopes of an earlier run", "err", err)
	} else if n > 0 {
		b.log.Info("finishing envelopes an earlier run left unfinished", "envelopes", n)
	}
	pool := newSocketPool(sockCtx, work, b)
	pool.start()
	defer func() { stopSocket(); pool.wait(); b.closeIntake() }()

	if err := b.jobs.Start(work, b.cfg.SweepSpec); err != nil {
		return err
	}
	selfKnown := make(chan struct{})
	go func() {
		defer close(selfKnown)
		// Learn who sitrep is early, so forms can refuse it as a person
		// without asking Slack before their ack.
		if _, err := b.self(work); err != nil {
			b.log.Warn("asking Slack for sitrep's own user", "err", err)
		}
	}()
	// Nothing of this run outlives it: the look-up is cut short, and
	// waited for, before Run returns.
	defer func() { cancelWork(); <-selfKnown }()
	defer b.jobs.Stop()
	cronLog := cron.PrintfLogger(slog.NewLogLogger(b.log.Handler(), slog.LevelError))
	housekeeping := cron.New(cron.WithChain(cron.Recover(cronLog), cron.SkipIfStillRunning(cronLog)))
	if _, err := housekeeping.AddFunc("@hourly", func() { b.pruneInbox(work) }); err != nil {
		return fmt.Errorf("housekeeping schedule: %w", err)
	}
	if _, err := housekeeping.AddFunc("@every 15s", func() {
		if _, err := b.replayInbox(work, false); err != nil {
			b.log.Error("taking over envelopes whose handler died", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("inbox schedule: %w", err)
	}
	if _, err := housekeeping.AddFunc("@every 1m", func() {
		if _, err := b.CheckRotations(work); err != nil {
			b.log.Error("announcing rotation hand-offs", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("rotation schedule: %w", err)
	}
	if _, err := housekeeping.AddFunc("@every 1m", func() {
		if _, err := b.CheckOpsReview(work); err != nil {
			b.log.Error("queueing the operations review", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("operations review schedule: %w", err)
	}
	housekeeping.Start()
	defer func() { <-housekeeping.Stop().Done() }()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-pool.fatal:
	}
	stopSocket()
	pool.wait()
	b.closeIntake()
	b.log.Info("shutting down: waiting for in-flight work", "in_flight", b.busy.Load())
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.DrainTimeout):
		b.log.Warn("drain timed out; unfinished work stays in the job queue", "in_flight", b.busy.Load())
		cancelWork()
		<-done
	}
	return runErr
}

// runSocket keeps one Socket Mode connection up. slack-go reconnects after a
// disconnect frame; if it gives up, we back off and start it again. It
// returns nil once ctx is done, or the error of a token Slack refuses.
func (b *Bot) runSocket(ctx context.Context, client *socketmode.Client) error {
	delay := time.Second
	for {
		err := client.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if isAuthError(err) {
			return fmt.Errorf("socket mode: %w", err)
		}
		b.log.Warn("socket mode connection lost, reconnecting", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Minute)
	}
}

func isAuthError(err error) bool {
	switch slackCode(err) {
	case "invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked":
		return true
	}
	return false
}

// Connected is closed once the bot first holds a Socket Mode connection.
func (b *Bot) Connected() <-chan struct{} { return b.connectedCh }

// WaitIdle returns when no envelope is being handled, or when ctx is done.
func (b *Bot) WaitIdle(ctx context.Context) error {
	for {
		b.idleMu.Lock()
		ch := b.idle
		b.idleMu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
			if b.busy.Load() == 0 {
				return nil
			}
		}
	}
}

// Stats are the bot's running counts, for metrics.
type Stats struct {
	// Envelopes and Acks count Socket Mode envelopes received and acked.
	Envelopes, Acks int64
	// SlackCalls counts Web API calls made, SlackRetries the retries
	// among them.
	SlackCalls, SlackRetries int64
	// Panics counts handlers of envelopes (and of the work spawned for
	// them) that panicked and were recovered: each is a bug, logged with
	// its stack.
	Panics int64
	// Refusals counts requests the permission model refused.
	Refusals int64
}

// Stats returns the bot's running counts.
func (b *Bot) Stats() Stats {
	return Stats{Envelopes: b.envelopes.Load(), Acks: b.acks.Load(),
		SlackCalls: b.slack.calls.Load(), SlackRetries: b.slack.retries.Load(), Panics: b.panics.Load(), Refusals: b.refusals.Load()}
}

// SlackCalls returns how many Slack Web API calls the bot made, and how many
// of them were retries.
func (b *Bot) SlackCalls() (calls, retries int64) {
	return b.slack.calls.Load(), b.slack.retries.Load()
}

// startWork marks one unit of work in flight; the returned func ends it.
func (b *Bot) startWork() func() {
	b.inflight.Add(1)
	if b.busy.Add(1) == 1 {
		b.idleMu.Lock()
		b.idle = make(chan struct{})
		b.idleMu.Unlock()
	}
	return func() {
		if b.busy.Add(-1) == 0 {
			b.idleMu.Lock()
			select {
			case <-b.idle:
			default:
				close(b.idle)
			}
			b.idleMu.Unlock()
		}
		b.inflight.Done()
	}
}

// spawn runs f in a goroutine, at most Workers at once.
func (b *Bot) spawn(ctx context.Context, done func(), f func(context.Context)) {
	go func() {
		defer done()
		defer func() {
			// The handling of an envelope answers its person itself
			// (runHandler); this only keeps the process alive.
			if p := recover(); p != nil {
				b.panics.Add(1)
				b.log.Error("handler panicked; sitrep goes on", "panic", p, "stack", string(debug.Stack()))
			}
		}()
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-b.sem }()
		f(ctx)
	}()
}
