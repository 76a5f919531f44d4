// Command sitrep is the sitrep Slack bot: it runs crisis management for
// software teams. See the README for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "sitrep:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errUsage marks a command line that was wrong; the usage is printed already.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `sitrep runs crisis management for software teams in Slack.

Usage:
  sitrep demo [--script FILE] [--db PATH]   try sitrep in the terminal: a simulated Slack
                                            workspace and an embedded database, no accounts
  sitrep run                                connect to your Slack workspace (see README)
  sitrep simulator [--addr A] [--state F]   a simulated Slack workspace for sitrep run to use
  sitrep migrate                            apply database migrations and exit
  sitrep change add --system web "what"     log a change (sitrep change help for the flags)
  sitrep change list [--system web]         list recent changes
  sitrep report [--since 24h] [--out DIR]   the operations review as Markdown, charts as PNG
  sitrep postmortem export INC-n [--out F]  a postmortem as Markdown
  sitrep version                            print the version

change, report and postmortem use the database that --db PATH or
SITREP_DATABASE_URL names, else ./sitrep.db only if it exists: only change add
creates a database, and only a named one. With SITREP_URL set, change add and
change list go through that sitrep's API instead. Durations are written 30m,
24h, 2d, 1d12h or 2w.

Environment:
  SLACK_BOT_TOKEN      bot token (xoxb-…), for run
  SLACK_APP_TOKEN      app-level token with connections:write (xapp-…), for run
  SLACK_API_URL        Slack API base URL (default Slack's own)
  SITREP_DATABASE_URL  postgres://… or sqlite:PATH (default sqlite:sitrep.db)
  SITREP_URL           a running sitrep's HTTP API, for change add and list
                       (with SITREP_API_TOKEN): no database credentials needed
  SITREP_API_TOKEN     the change API's token: served by run, sent by change
  SITREP_USER          who made a change, when change add has no --by (then
                       GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR,
                       CIRCLE_USERNAME, BUILD_REQUESTEDFOR, USER)
  SITREP_CONFIG        configuration file (default sitrep.yaml, optional)
  SITREP_LOG_LEVEL     debug, info, warn or error (default info)
`

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runBot(ctx, rest, getenv, stderr)
	case "demo":
		return runDemo(ctx, rest, getenv, stdin, stdout, stderr)
	case "simulator":
		return runSimulator(ctx, rest, getenv, stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "change":
		return runChange(ctx, rest, getenv, stdout, stderr)
	case "report":
		return runReport(ctx, rest, getenv, stdout, stderr)
	case "postmortem":
		return runPostmortem(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "sitrep", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "sitrep: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}

// parseFlags parses a subcommand's flags, printing its usage on error.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sitrep %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
