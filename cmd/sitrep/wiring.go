package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/storage"
)

// app is sitrep wired together: the store, the job runner and the bot.
type app struct {
	store  *storage.Store
	runner *jobs.Runner
	bot    *bot.Bot
	// alerts is alert intake, which the webhooks feed (web/alerts).
	alerts *alert.Service
	// clock is the clock the bot runs on (the demo's moves with :wait);
	// the HTTP API dates changes by it too.
	clock clock.Clock
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, url string) (*storage.Store, error) {
	store, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// newApp wires a bot over store talking to Slack through api.
func newApp(cfg config.Config, store *storage.Store, api *slack.Client, clk clock.Clock, log *slog.Logger, sockOpts ...socketmode.Option) (*app, error) {
	rotations, err := cfg.Rotations()
	if err != nil {
		return nil, err
	}
	archiveAfter, err := cfg.Incidents.ArchiveDelay()
	if err != nil {
		return nil, err
	}
	window, err := cfg.WhatChanged.WindowDuration()
	if err != nil {
		return nil, err
	}
	plans, err := cfg.Plans()
	if err != nil {
		return nil, err
	}
	warnAt, err := cfg.TimeboxWarning()
	if err != nil {
		return nil, err
	}
	cadence, err := cfg.Cadence()
	if err != nil {
		return nil, err
	}
	templates, err := cfg.Templates()
	if err != nil {
		return nil, err
	}
	idle, err := cfg.ChecklistIdle()
	if err != nil {
		return nil, err
	}
	costs, err := cfg.CostModel()
	if err != nil {
		return nil, err
	}
	review, err := cfg.OpsReview()
	if err != nil {
		return nil, err
	}
	perms, err := cfg.Permissions()
	if err != nil {
		return nil, err
	}
	alertSettings, err := cfg.AlertSettings()
	if err != nil {
		return nil, err
	}
	incidents := incident.NewService(store, clk)
	incidents.SetRotations(rotations)
	incidents.SetCostModel(costs)
	changes := incident.NewChangeLog(store, clk)
	problems := incident.NewProblems(store, incidents, clk)
	reviews := incident.NewReviews(store, problems, changes)
	reviews.Location = review.Location
	reviews.Actions = store
	postmortems := incident.NewPostmortems(store, incidents, changes, clk)
	postmortems.SetLocation(review.Location)
	incidents.SetPlans(plans, warnAt)
	incidents.SetCadence(cadence)
	alerts := alert.NewService(store, clk, alertSettings)
	runner := jobs.NewRunner(store, clk, log.With("component", "jobs"))
	if cfg.Instance != "" {
		runner.Instance = cfg.Instance
	}
	b := bot.New(bot.Config{
		IncidentsChannel:  cfg.Channels.Incidents,
		OpsChannel:        cfg.Channels.Ops,
		ArchiveAfter:      archiveAfter,
		Handover:          perms.Handover,
		Permissions:       perms,
		WhatChangedCount:  cfg.WhatChanged.Count,
		WhatChangedWindow: window,
		OpsReviewChannel:  review.Channel,
		OpsReviewSchedule: review.Schedule,
		OpsReviewWindow:   review.Window,
		AlertsChannel:     alertSettings.Channel,
	}, bot.Deps{
		API:           api,
		Incidents:     incidents,
		Changes:       changes,
		Checklists:    checklist.NewService(store, clk, templates, idle),
		Problems:      problems,
		Reviews:       reviews,
		Postmortems:   postmortems,
		Alerts:        alerts,
		Rooms:         store,
		Pins:          store,
		Inbox:         store,
		Jobs:          runner,
		Clock:         clk,
		Log:           log.With("component", "bot"),
		SocketOptions: sockOpts,
	})
	return &app{store: store, runner: runner, bot: b, alerts: alerts, clock: clk}, nil
}

// newLogger returns a text logger at the level SITREP_LOG_LEVEL names.
func newLogger(w io.Writer, getenv func(string) string) (*slog.Logger, error) {
	var level slog.Level
	if v := strings.TrimSpace(getenv("SITREP_LOG_LEVEL")); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("SITREP_LOG_LEVEL %q: use debug, info, warn or error", v)
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}
