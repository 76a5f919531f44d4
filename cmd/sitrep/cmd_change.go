package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/human"
)

const changeUsage = `Usage:
  sitrep change add --system web [--system db] [--reason WHY] [--kind deploy] [--link URL]
                    [--by NAME] [--at 2026-11-24T09:30:00Z] [--id EXTERNAL-ID] "what was done"
  sitrep change list [--system web] [--since 24h] [--limit 20]

Logs a change to, or lists the change log in, SITREP_DATABASE_URL.`

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set adds a value; commas split it, so --system web,db works too.
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Split(v, ",")...)
	return nil
}

// runChange is `sitrep change add|list`.
func runChange(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, changeUsage)
		return errUsage
	}
	switch args[0] {
	case "add":
		return changeAdd(ctx, args[1:], getenv, stdout, stderr)
	case "list", "ls":
		return changeList(ctx, args[1:], getenv, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sitrep change: unknown command %q\n\n%s\n", args[0], changeUsage)
		return errUsage
	}
}

// openChangeLog opens the configured database as a change log.
func openChangeLog(ctx context.Context, getenv func(string) string) (*incident.ChangeLog, func(), error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, nil, err
	}
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	return incident.NewChangeLog(store, clock.Real{}), func() { store.Close() }, nil
}

func changeAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("change add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var systems listFlag
	fs.Var(&systems, "system", "the system changed (repeat, or comma-separate, for several)")
	reason := fs.String("reason", "", "why it was done")
	kind := fs.String("kind", "other", "deploy, config, infra, feature, data or other")
	link := fs.String("link", "", "an http(s) link: pull request, pipeline run, ticket")
	by := fs.String("by", getenv("USER"), "who made the change")
	at := fs.String("at", "", "when it happened, RFC 3339 (default now)")
	id := fs.String("id", "", "an external ID: sending the same ID again logs nothing")
	fs.Usage = func() { fmt.Fprintln(stderr, changeUsage) }
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	what := strings.Join(fs.Args(), " ")
	c := incident.Change{Systems: systems, Summary: what, Reason: *reason, Kind: incident.ChangeKind(*kind),
		Link: *link, Person: *by, Source: incident.SourceCLI, ExternalID: *id}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at %q is not an RFC 3339 time such as 2026-11-24T09:30:00Z", *at)
		}
		c.OccurredAt = t
	}
	log, done, err := openChangeLog(ctx, getenv)
	if err != nil {
		return err
	}
	defer done()
	batch := []incident.Change{c}
	added, err := log.Log(ctx, batch)
	var be *incident.BatchError
	if errors.As(err, &be) {
		flagName := map[string]string{"systems": "--system", "summary": "the text (what was done)", "person": "--by",
			"external_id": "--id"}[be.Err.Field]
		if flagName == "" {
			flagName = "--" + be.Err.Field
		}
		return fmt.Errorf("%s: %s\n\n%s", flagName, be.Err.Problem, changeUsage)
	}
	if err != nil {
		return err
	}
	if added == 0 {
		fmt.Fprintf(stdout, "change %d was logged already (external ID %s); nothing added\n", batch[0].ID, batch[0].ExternalID)
		return nil
	}
	fmt.Fprintf(stdout, "logged change %d: %s: %s\n", batch[0].ID, strings.Join(batch[0].Systems, ","), batch[0].Summary)
	return nil
}

func changeList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("change list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var systems listFlag
	fs.Var(&systems, "system", "only changes to this system (repeat for several)")
	since := fs.Duration("since", 24*time.Hour, "how far back to look")
	limit := fs.Int("limit", 20, "at most this many changes")
	fs.Usage = func() { fmt.Fprintln(stderr, changeUsage) }
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	var norm []string
	for _, s := range systems {
		n, err := incident.NormalizeSystem(s)
		if err != nil {
			return fmt.Errorf("--system: %w", err)
		}
		norm = append(norm, n)
	}
	log, done, err := openChangeLog(ctx, getenv)
	if err != nil {
		return err
	}
	defer done()
	changes, err := log.Recent(ctx, incident.ChangeQuery{Systems: norm, Since: time.Now().Add(-*since), Limit: *limit})
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "no changes in the last %s\n", human.Duration(*since))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN (UTC)\tSYSTEMS\tWHO\tKIND\tWHAT\tWHY")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.OccurredAt.Format("2006-01-02 15:04"), strings.Join(c.Systems, ","),
			c.Person, c.Kind, c.Summary, c.Reason)
	}
	return tw.Flush()
}
