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
	"github.com/sitrep/sitrep/internal/apiclient"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/human"
)

const changeUsage = `Usage:
  sitrep change add --system web [--system db] [--reason WHY] [--kind deploy] [--link URL]
                    [--by NAME] [--at 2026-11-24T09:30:00Z] [--id EXTERNAL-ID] [--db PATH] "what was done"
  sitrep change list [--system web] [--since 24h] [--limit 20] [--db PATH]

Flags go before the text. --kind is deploy, config, infra, feature, data or
other (the default). --since takes 30m, 24h, 2d, 1d12h or 2w. --id is the
pipeline's own ID for the change (a run or deploy ID): a change sent again
with the same --id is logged once, so it is safe to retry.

Where the change log is:
  SITREP_URL and SITREP_API_TOKEN set: the HTTP API of that running sitrep
      (e.g. SITREP_URL=https://sitrep.example.com; SITREP_API_TOKEN is one of
      its API tokens); no database credentials needed. A failed connection or
      5xx is retried; a change without --id is not sent again once it may have
      reached the server.
  otherwise: the database sitrep run uses, named by --db PATH (an SQLite file)
      or SITREP_DATABASE_URL (sqlite:PATH or postgres://…). ./sitrep.db, the
      default, is used only if it exists: no new database is created.

--by (who made the change) defaults to the first of these that is set:
  SITREP_USER, GITHUB_ACTOR (GitHub Actions), GITLAB_USER_LOGIN (GitLab CI),
  BUILDKITE_BUILD_CREATOR (Buildkite), CIRCLE_USERNAME (CircleCI),
  BUILD_REQUESTEDFOR (Azure Pipelines), USER.`

// byVars are the environment variables --by defaults from, in order.
var byVars = []string{"SITREP_USER", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR",
	"CIRCLE_USERNAME", "BUILD_REQUESTEDFOR", "USER"}

// defaultBy returns who made a change when --by is not given: the value of
// the first of byVars that is set, and that variable's name.
func defaultBy(getenv func(string) string) (name, from string) {
	for _, v := range byVars {
		if s := strings.TrimSpace(getenv(v)); s != "" {
			return s, v
		}
	}
	return "", ""
}

// noBy is the error when --by is not given and none of byVars is set.
func noBy() error {
	return fmt.Errorf("--by: who made the change? It defaults to the first of %s or %s that is set, and none is: pass --by NAME (e.g. --by alice), or set SITREP_USER",
		strings.Join(byVars[:len(byVars)-1], ", "), byVars[len(byVars)-1])
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set adds a value; commas split it, so --system web,db works too.
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Split(v, ",")...)
	return nil
}

// durationFlag is a duration as people type it: 30m, 24h, 2d, 1d12h, 2w
// (human.ParseDuration).
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.d.String()
}

// Set reads a duration; it must be more than zero.
func (f *durationFlag) Set(v string) error {
	d, err := human.ParseDuration(v)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("%q: give a duration of more than zero, such as 24h or 2d", v)
	}
	f.d, f.set = d, true
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
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, changeUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "sitrep change: unknown command %q\n\n%s\n", args[0], changeUsage)
		return errUsage
	}
}

// changeTarget is where `sitrep change` logs and reads: a running sitrep's
// API (api set) or a database.
type changeTarget struct {
	api *apiclient.Client
	cfg config.Config
}

// apiRetryDelays is the API client's backoff; tests shorten it.
var apiRetryDelays = apiclient.DefaultBackoff

// changeTargetFrom reads SITREP_URL and SITREP_API_TOKEN, and the
// configuration. --db (dbFlag) names a database and wins over SITREP_URL.
func changeTargetFrom(getenv func(string) string, dbFlag string) (changeTarget, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return changeTarget{}, err
	}
	base := strings.TrimSpace(getenv("SITREP_URL"))
	if base == "" || dbFlag != "" {
		return changeTarget{cfg: cfg}, nil
	}
	if cfg.APIToken == "" {
		return changeTarget{}, fmt.Errorf("SITREP_URL is set (%s) but SITREP_API_TOKEN is not: set it to an API token of that sitrep (SITREP_API_TOKEN or a token of api.tokens on the server), or unset SITREP_URL to use a database", base)
	}
	c, err := apiclient.New(base, cfg.APIToken)
	if err != nil {
		return changeTarget{}, fmt.Errorf("SITREP_URL: %w", err)
	}
	c.Backoff = apiRetryDelays
	c.UserAgent = "sitrep-cli/" + version
	return changeTarget{api: c, cfg: cfg}, nil
}

// apiHint adds to an API error what to check, in the CLI's own terms.
func apiHint(err error, hasID bool) error {
	var e *apiclient.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Kind == apiclient.KindUnreachable:
		return fmt.Errorf("%w\nCheck SITREP_URL, and that sitrep run is up and serving its HTTP API there (SITREP_HTTP_ADDR on the server)", err)
	case e.Kind == apiclient.KindUnauthorized:
		return fmt.Errorf("%w\nCheck SITREP_API_TOKEN: it must be the secret of SITREP_API_TOKEN or of a token in api.tokens on that sitrep", err)
	case e.MaybeStored && !hasID:
		return fmt.Errorf("%w: it was not sent again, since without --id a second copy could be logged.\nSee with sitrep change list whether it is there; give --id (e.g. the pipeline run's ID) so that a retry is safe", err)
	case e.MaybeStored:
		return fmt.Errorf("%w\nRun the same command again: with the same --id it is logged once", err)
	}
	return err
}

// fieldFlags names the flag of each field of a change.
var fieldFlags = map[string]string{"systems": "--system", "system": "--system", "summary": "the text (what was done)",
	"person": "--by", "external_id": "--id", "occurred_at": "--at", "reason": "--reason", "kind": "--kind", "link": "--link"}

func changeAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("change add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var systems listFlag
	fs.Var(&systems, "system", "the system changed (repeat, or comma-separate, for several)")
	reason := fs.String("reason", "", "why it was done")
	kind := fs.String("kind", "other", "deploy, config, infra, feature, data or other")
	link := fs.String("link", "", "an http(s) link: pull request, pipeline run, ticket")
	by := fs.String("by", "", "who made the change (default: see below)")
	at := fs.String("at", "", "when it happened, RFC 3339 (default now)")
	id := fs.String("id", "", "an external ID: sending the same ID again logs nothing")
	db := fs.String("db", "", dbFlagHelp)
	fs.Usage = func() { fmt.Fprintln(stderr, changeUsage) }
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := flagsAfterText(fs, args); err != nil {
		return err
	}
	bySet := false
	fs.Visit(func(f *flag.Flag) { bySet = bySet || f.Name == "by" })
	person := *by
	if !bySet {
		if person, _ = defaultBy(getenv); person == "" {
			return noBy()
		}
	}
	c := incident.Change{Systems: systems, Summary: strings.Join(fs.Args(), " "), Reason: *reason, Kind: incident.ChangeKind(*kind),
		Link: *link, Person: person, Source: incident.SourceCLI, ExternalID: *id}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at %q is not an RFC 3339 time such as 2026-11-24T09:30:00Z", *at)
		}
		if t.Before(incident.EarliestChange) {
			// The zero time would read as "not given": refused here.
			return fmt.Errorf("--at %s is before %d: give when the change happened, or leave --at out to mean now", *at, incident.EarliestChange.Year())
		}
		c.OccurredAt = t
	}
	// Checked here, before anything is opened or sent, with the flags
	// named; the server checks again.
	checked := c
	if err := checked.Validate(time.Now()); err != nil {
		return changeFieldError(err)
	}
	target, err := changeTargetFrom(getenv, *db)
	if err != nil {
		return err
	}
	if target.api != nil {
		return changeAddAPI(ctx, target.api, checked, c.OccurredAt, stdout)
	}
	store, err := openExisting(ctx, target.cfg, *db, "sitrep change add", dbAdds, true)
	if err != nil {
		return err
	}
	defer store.Close()
	log := incident.NewChangeLog(store, clock.Real{})
	batch := []incident.Change{c}
	added, err := log.Log(ctx, batch)
	if err != nil {
		return changeFieldError(err)
	}
	stored := batch[0]
	if added == 0 {
		got, err := log.ByID(ctx, []int64{stored.ID})
		if err != nil {
			return fmt.Errorf("reading change %d: %w", stored.ID, err)
		}
		if len(got) == 1 {
			stored = got[0]
		}
	}
	fmt.Fprintln(stdout, loggedLine(stored, added == 1))
	return nil
}

// changeAddAPI logs c through a running sitrep's API. occurredAt is --at
// (zero: the server's now).
func changeAddAPI(ctx context.Context, api *apiclient.Client, c incident.Change, occurredAt time.Time, stdout io.Writer) error {
	got, err := api.LogChange(ctx, apiclient.Change{OccurredAt: occurredAt, Systems: c.Systems, Person: c.Person, Summary: c.Summary,
		Reason: c.Reason, Kind: string(c.Kind), Link: c.Link, ExternalID: c.ExternalID})
	if err != nil {
		var e *apiclient.Error
		if errors.As(err, &e) && e.Kind == apiclient.KindRejected && e.Field != "" {
			if f := fieldFlags[strings.TrimPrefix(e.Field, "changes[0].")]; f != "" {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		return apiHint(err, c.ExternalID != "")
	}
	s := got.Change
	fmt.Fprintln(stdout, loggedLine(incident.Change{ID: s.ID, OccurredAt: s.OccurredAt, Systems: s.Systems, Summary: s.Summary,
		ExternalID: s.ExternalID}, got.Created))
	return nil
}

// loggedLine says what was stored: "logged change 17 to web at
// 2026-11-24 09:30 UTC: deployed v2.14.0", or, for a change sent again,
// "already logged as change 17 (--id run-9) to web at …: …; nothing added".
func loggedLine(c incident.Change, created bool) string {
	where := fmt.Sprintf("to %s at %s: %s", strings.Join(c.Systems, ","), c.OccurredAt.UTC().Format("2006-01-02 15:04 UTC"), c.Summary)
	if created {
		return fmt.Sprintf("logged change %d %s", c.ID, where)
	}
	return fmt.Sprintf("already logged as change %d (--id %s) %s; nothing added", c.ID, c.ExternalID, where)
}

// changeFieldError names the flag of a change's field that is wrong, and
// shows the usage.
func changeFieldError(err error) error {
	var fe *incident.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	name := fieldFlags[fe.Field]
	if name == "" {
		name = "--" + fe.Field
	}
	return fmt.Errorf("%s: %s\n\n%s", name, fe.Problem, changeUsage)
}

// flagsAfterText refuses a flag of fs written after the text ("deployed
// v2 --reason x"): it would be logged as words of the text. After "--"
// every word is text.
func flagsAfterText(fs *flag.FlagSet, args []string) error {
	rest := fs.Args()
	if len(rest) == 0 || (len(args) > len(rest) && args[len(args)-len(rest)-1] == "--") {
		return nil
	}
	for _, w := range rest[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if strings.HasPrefix(w, "-") && fs.Lookup(name) != nil {
			return fmt.Errorf("%s comes after the text %q: flags go before it, as in sitrep change add --system web --reason \"…\" \"what was done\" (or put -- before text that holds %s)", w, rest[0], w)
		}
	}
	return nil
}

func changeList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("change list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var systems listFlag
	fs.Var(&systems, "system", "only changes to this system (repeat for several)")
	since := durationFlag{d: 24 * time.Hour}
	fs.Var(&since, "since", "how far back to look: 30m, 24h, 2d, 1d12h, 2w (default 24h)")
	limit := fs.Int("limit", 20, "at most this many changes (1 to 1000)")
	db := fs.String("db", "", dbFlagHelp)
	fs.Usage = func() { fmt.Fprintln(stderr, changeUsage) }
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return fmt.Errorf("--limit %d: give a number from 1 to 1000", *limit)
	}
	var norm []string
	for _, s := range systems {
		n, err := incident.NormalizeSystem(s)
		if err != nil {
			return fmt.Errorf("--system: %w", err)
		}
		norm = append(norm, n)
	}
	target, err := changeTargetFrom(getenv, *db)
	if err != nil {
		return err
	}
	from := time.Now().Add(-since.d)
	var changes []incident.Change
	if target.api != nil {
		got, err := target.api.Changes(ctx, apiclient.Query{Systems: norm, Since: from, Limit: *limit})
		if err != nil {
			return apiHint(err, true)
		}
		for _, c := range got {
			changes = append(changes, incident.Change{ID: c.ID, OccurredAt: c.OccurredAt, Systems: c.Systems, Person: c.Person,
				Kind: incident.ChangeKind(c.Kind), Summary: c.Summary, Reason: c.Reason})
		}
	} else {
		store, err := openExisting(ctx, target.cfg, *db, "sitrep change list", dbReads, true)
		if err != nil {
			return err
		}
		defer store.Close()
		if changes, err = incident.NewChangeLog(store, clock.Real{}).Recent(ctx, incident.ChangeQuery{Systems: norm, Since: from, Limit: *limit}); err != nil {
			return err
		}
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "no changes in the last %s\n", human.Duration(since.d))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWHEN (UTC)\tSYSTEMS\tWHO\tKIND\tWHAT\tWHY")
	for _, c := range changes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.OccurredAt.UTC().Format("2006-01-02 15:04"), strings.Join(c.Systems, ","),
			c.Person, c.Kind, c.Summary, c.Reason)
	}
	return tw.Flush()
}
