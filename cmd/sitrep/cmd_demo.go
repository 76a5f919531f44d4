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

	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/demo"
	"github.com/sitrep/sitrep/storage"
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

	// The workspace is kept beside the database (demo_workspace.go).
	sim, users, general, err := demoWorkspace(*dbPath, log)
	if err != nil {
		return err
	}
	defer sim.Close()

	store, err := openStore(ctx, "sqlite:"+*dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(sim.AppToken()),
		slack.OptionHTTPClient(newSlackHTTPClient(defaultSlackTimeouts)))
	clk := &demo.Clock{}
	sitrep := &demoProcess{cfg: demoConfig(), store: store, api: api, clock: clk, log: log}
	if err := sitrep.start(ctx); err != nil {
		return err
	}
	defer sitrep.stop()

	console := demo.New(sim, func(ctx context.Context) error { return sitrep.app.bot.WaitIdle(ctx) }, stdout, users[0].ID, general)
	console.Step = func(ctx context.Context, d time.Duration) error {
		clk.Advance(d)
		_, err := sitrep.app.runner.Sweep(ctx)
		return err
	}
	console.Down = func(ctx context.Context, d time.Duration) error {
		if err := sitrep.stop(); err != nil {
			return err
		}
		clk.Advance(d)
		if err := sitrep.start(ctx); err != nil {
			return err
		}
		// The new process's sweeper finds what fell due meanwhile; sweep
		// now rather than at its first tick.
		_, err := sitrep.app.runner.Sweep(ctx)
		return err
	}
	interactive := *script == ""
	if interactive {
		fmt.Fprintf(stdout, "sitrep demo: a simulated Slack workspace (database %s).\nYou are alice in #general. Try: /incident open db is down sev1 systems:db\n:help lists console commands, :quit leaves.\n", *dbPath)
	}
	err = runConsole(ctx, console, input, stdout, interactive)
	if serr := sitrep.stop(); serr != nil && err == nil {
		err = serr
	}
	return err
}

// demoConfig is the demo's configuration: the defaults, and carol on call
// for web, so a web incident is led by the rotation.
func demoConfig() config.Config {
	cfg := config.Default()
	cfg.RotationConfigs = []config.RotationConfig{{Name: "web on-call", Members: []string{"U0CAROL"},
		Handoff: "0 9 * * MON", Start: "2026-01-05 09:00", Systems: []string{"web"}}}
	return cfg
}

// demoProcess is the demo's sitrep: it can be stopped and started again on
// the same store, Slack and clock, to show what happens while it is down.
type demoProcess struct {
	cfg   config.Config
	store *storage.Store
	api   *slack.Client
	clock *demo.Clock
	log   *slog.Logger

	app    *app
	cancel context.CancelFunc
	done   chan error
}

// start wires a new process and waits until it is connected.
func (p *demoProcess) start(ctx context.Context) error {
	a, err := newApp(p.cfg, p.store, p.api, p.clock, p.log)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.bot.Run(runCtx) }()
	select {
	case <-a.bot.Connected():
	case err := <-done:
		cancel()
		return fmt.Errorf("the bot stopped before connecting: %w", err)
	case <-time.After(10 * time.Second):
		cancel()
		return errors.New("the bot did not connect to the simulator within 10s")
	}
	p.app, p.cancel, p.done = a, cancel, done
	return nil
}

// stop stops the running process, if any, and returns how it ended.
func (p *demoProcess) stop() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	err := <-p.done
	p.cancel = nil
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
	// Interactive, what comes on its own (a warning, a deadline, a nudge:
	// the sweeper runs every few seconds) is shown when it comes, not
	// after the next command.
	var tick <-chan time.Time
	if interactive {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	for {
		if interactive {
			fmt.Fprint(out, c.Prompt())
		}
		var line string
		var ok bool
		for got := false; !got; {
			select {
			case <-ctx.Done():
				return nil
			case <-tick:
				if c.Poll() {
					fmt.Fprint(out, c.Prompt())
				}
			case line, ok = <-lines:
				got = true
			}
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
