package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/report"
)

// runReport prints the daily operations review as Markdown and writes its
// charts, without Slack.
func runReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var since durationFlag
	fs.Var(&since, "since", "how far back the review looks: 30m, 24h, 2d, 1d12h, 2w (default: reports.ops_review.window, 24h)")
	out := fs.String("out", "", "directory to write the charts (PNG) and report.md into; without it, charts are not drawn")
	at := fs.String("at", "", "end of the window, RFC 3339 (default now), to run a past day's review again")
	db := fs.String("db", "", dbFlagHelp)
	private := fs.Bool("private", false, "show private incidents' titles and systems (by default they are counted but not named: share such a report only with their rooms)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sitrep report [--since 24h] [--out DIR] [--at 2026-11-24T09:00:00Z] [--private] [--db PATH]\n\nReads the database sitrep run uses: --db PATH, else SITREP_DATABASE_URL, else ./sitrep.db if it exists.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	review, err := cfg.OpsReview()
	if err != nil {
		return err
	}
	window := review.Window
	if since.set {
		window = since.d
	}
	to := time.Now().UTC()
	if *at != "" {
		if to, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("--at %q is not a time such as 2026-11-24T09:00:00Z", *at)
		}
	}
	costs, err := cfg.CostModel()
	if err != nil {
		return err
	}
	store, err := openExisting(ctx, cfg, *db, "sitrep report", dbReads, false)
	if err != nil {
		return err
	}
	defer store.Close()
	clk := clock.NewFake(to)
	incidents := incident.NewService(store, clk)
	if names := documentNames(cfg); names != nil {
		incidents.SetNames(names)
	}
	incidents.SetCostModel(costs)
	reviews := incident.NewReviews(store, incident.NewProblems(store, incidents, clk), incident.NewChangeLog(store, clk))
	reviews.Location = review.Location
	reviews.Actions = store
	rv, err := reviews.OpsReview(ctx, to, window)
	if err != nil {
		return err
	}
	if !*private {
		rv = rv.Redacted()
	}
	var drawn []report.Chart
	if *out != "" {
		if drawn, err = report.Charts(rv, charts.PNG); err != nil {
			return fmt.Errorf("drawing the charts: %w", err)
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		for _, c := range drawn {
			if err := os.WriteFile(filepath.Join(*out, c.Name), c.Data, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", c.Name, err)
			}
		}
	}
	md := report.Markdown(rv, drawn)
	if *out != "" {
		if err := os.WriteFile(filepath.Join(*out, "report.md"), []byte(md), 0o644); err != nil {
			return fmt.Errorf("writing report.md: %w", err)
		}
		names := make([]string, len(drawn))
		for i, c := range drawn {
			names[i] = c.Name
		}
		fmt.Fprintf(stderr, "wrote report.md and %s to %s\n", strings.Join(names, ", "), *out)
	}
	_, err = io.WriteString(stdout, md)
	return err
}
