package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitrep/sitrep/internal/demo"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// simulatorQuiet is how long the workspace must stay still before the
// console shows what a command did: the bot runs in another process, whose
// idleness cannot be asked.
const simulatorQuiet = 500 * time.Millisecond

// runSimulator is `sitrep simulator`: only the simulated Slack workspace,
// on a fixed address, for trying `sitrep run` without a Slack account. It
// prints the settings `sitrep run` needs and reads console lines (as
// `sitrep demo` does) to act as a person in the workspace, until :quit or
// SIGINT.
func runSimulator(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3210", "listen on `ADDR` (port 0: any free port; the address is printed)")
	state := fs.String("state", "", "keep the workspace in `FILE` (JSON), loaded at start when it exists (default: not kept)")
	files := fs.String("files", "", "write uploaded files to `DIR` (default: FILE.files beside --state, else a temporary folder)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sitrep simulator [--addr ADDR] [--state FILE] [--files DIR]\n\nRuns a simulated Slack workspace for `sitrep run` to connect to, and a console to act in it. Flags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log, err := newLogger(stderr, getenv)
	if err != nil {
		return err
	}
	if *files == "" {
		if *state != "" {
			*files = *state + filesSuffix
		} else {
			dir, err := os.MkdirTemp("", "sitrep-simulator-")
			if err != nil {
				return fmt.Errorf("making a temporary folder for uploaded files: %w", err)
			}
			defer os.RemoveAll(dir)
			*files = filepath.Join(dir, "files")
		}
	}
	if *files, err = filepath.Abs(*files); err != nil {
		return fmt.Errorf("the folder for uploaded files: %w", err)
	}
	sim, general, err := openWorkspace(slacksim.Options{Addr: *addr, StatePath: *state, FilesDir: *files,
		MemberEvents: true, Log: log.With("component", "slacksim")})
	if err != nil {
		return err
	}
	defer sim.Close()

	kept := "not kept: --state FILE keeps it"
	if *state != "" {
		kept = "kept in " + *state
	}
	fmt.Fprintf(stdout, `sitrep simulator: a simulated Slack workspace at %s (%s).
Uploaded files are written to %s.

Point sitrep run at it, in another terminal:

    SLACK_BOT_TOKEN=%s \
    SLACK_APP_TOKEN=%s \
    SLACK_API_URL=%s \
    sitrep run

Then type here as alice in #general, e.g.: /incident open db is down sev1 systems:db
(:as NAME, :in #CHANNEL, :click N, :submit field=value, :channels, :help; :quit stops the simulator.)
`, strings.TrimSuffix(sim.APIURL(), "/api/"), kept, *files, sim.BotToken(), sim.AppToken(), sim.APIURL())

	console := demo.New(sim, func(ctx context.Context) error { return sim.WaitQuiet(ctx, simulatorQuiet) }, stdout, demoUsers[0].ID, general)
	return simulatorConsole(ctx, console, sim, stdin, stdout, isTerminal(stdin))
}

// simulatorConsole feeds lines to the console until :quit or ctx is done.
// What the app does on its own, and an app connecting or going, is shown
// when it happens. At the end of the input it keeps serving until ctx is
// done, so `sitrep simulator </dev/null &` serves in the background.
func simulatorConsole(ctx context.Context, c *demo.Console, sim *slacksim.Sim, in io.Reader, out io.Writer, interactive bool) error {
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
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	conns := 0
	prompt := func() {
		if interactive {
			fmt.Fprint(out, c.Prompt())
		}
	}
	prompt()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			printed := false
			if n := sim.Connections(); n != conns {
				if conns == 0 {
					fmt.Fprintln(out, "\n(an app connected)")
				} else if n == 0 {
					fmt.Fprintln(out, "\n(the app disconnected)")
				}
				conns, printed = n, true
			}
			if c.Poll() || printed {
				prompt()
			}
		case line, ok := <-lines:
			if !ok {
				lines = nil // the input ended: keep serving
				continue
			}
			if !interactive {
				fmt.Fprintln(out, c.Prompt()+line)
			}
			err := execSimulatorLine(ctx, c, sim, line)
			if errors.Is(err, demo.ErrQuit) {
				return nil
			}
			if err != nil {
				fmt.Fprintln(out, "!", err)
			}
			prompt()
		}
	}
}

// execSimulatorLine runs one console line. A slash command needs an app
// connected to receive it; without one it is refused at once rather than
// waiting for one.
func execSimulatorLine(ctx context.Context, c *demo.Console, sim *slacksim.Sim, line string) error {
	if strings.HasPrefix(strings.TrimSpace(line), "/") && sim.Connections() == 0 {
		return errors.New("no app is connected to receive it: start `sitrep run` with the settings above first")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Exec(ctx, line)
}

// isTerminal reports whether r is a terminal (a person typing) rather than
// a file or a pipe (a script).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
