package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/demo"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// runDemo is `sitrep demo`: the bot against an in-process Slack simulator
// and an embedded SQLite file, driven from a terminal console or a script.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	script := fs.String("script", "", "run the console lines in `FILE` and print the transcript")
	dbPath := fs.String("db", "", "keep the demo database in `PATH` (default: a temporary file)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sitrep demo [--script FILE] [--db PATH]\n\nRuns sitrep against a simulated Slack workspace. Flags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	input := stdin
	if *script != "" {
		f, err := os.Open(*script)
		if err != nil {
			return fmt.Errorf("demo script: %w", err)
		}
		defer f.Close()
		input = f
	}
	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "sitrep-demo-")
		if err != nil {
			return fmt.Errorf("making a temporary directory for the demo database: %w", err)
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "sitrep.db")
	}
	level := slog.LevelWarn
	if getenv("SITREP_LOG_LEVEL") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	sim := slacksim.New(slacksim.Options{MemberEvents: true, Log: log.With("component", "slacksim")})
	if err := sim.Start(); err != nil {
		return fmt.Errorf("starting the Slack simulator: %w", err)
	}
	defer sim.Close()
	users := []slacksim.User{
		{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell", TZ: "Europe/London"},
		{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs", TZ: "America/New_York"},
		{ID: "U0CAROL", Name: "carol", RealName: "Carol Shaw", TZ: "Asia/Tokyo"},
	}
	var ids []string
	for _, u := range users {
		sim.AddUser(u)
		ids = append(ids, u.ID)
	}
	general := sim.AddChannel("general", ids...)
	sim.AddChannel("incidents", ids...)

	store, err := openStore(ctx, "sqlite:"+*dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(sim.AppToken()),
		slack.OptionHTTPClient(newSlackHTTPClient(defaultSlackTimeouts)))
	a, err := newApp(config.Default(), store, api, clock.Real{}, log)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.bot.Run(runCtx) }()
	select {
	case <-a.bot.Connected():
	case err := <-done:
		return fmt.Errorf("the bot stopped before connecting: %w", err)
	case <-time.After(10 * time.Second):
		return errors.New("the bot did not connect to the simulator within 10s")
	}

	console := demo.New(sim, a.bot.WaitIdle, stdout, users[0].ID, general)
	interactive := *script == ""
	if interactive {
		fmt.Fprintf(stdout, "sitrep demo: a simulated Slack workspace (database %s).\nYou are alice in #general. Try: /incident open db is down sev1 systems:db\n:help lists console commands, :quit leaves.\n", *dbPath)
	}
	err = runConsole(ctx, console, input, stdout, interactive)
	stop()
	if rerr := <-done; rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// runConsole feeds lines to the console until EOF, :quit or ctx is done. A
// script's lines are echoed after the prompt, so the output reads as a
// transcript.
func runConsole(ctx context.Context, c *demo.Console, in io.Reader, out io.Writer, interactive bool) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		if interactive {
			fmt.Fprint(out, c.Prompt())
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			return nil
		}
		if !interactive {
			fmt.Fprintln(out, c.Prompt()+line)
		}
		err := c.Exec(ctx, line)
		if errors.Is(err, demo.ErrQuit) {
			return nil
		}
		if err != nil {
			fmt.Fprintln(out, "!", err)
		}
	}
}
