package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// The demo's simulated workspace is kept beside its database, so that a
// second `sitrep demo --db PATH` finds the channels and messages of the
// first, and new channels get new IDs:
//
//	PATH             the database (SQLite)
//	PATH.slack.json  the workspace: users, channels, messages, pins, files …
//	PATH.files/      every file the bot uploaded, e.g. F0001-pareto.png
const (
	workspaceSuffix = ".slack.json"
	filesSuffix     = ".files"
)

// demoUsers are the people of a new simulated workspace.
var demoUsers = []slacksim.User{
	{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell", TZ: "Europe/London"},
	{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs", TZ: "America/New_York"},
	{ID: "U0CAROL", Name: "carol", RealName: "Carol Shaw", TZ: "Asia/Tokyo"},
}

// demoWorkspace starts the simulated workspace of `sitrep demo` for the
// database at dbPath, on the demo's clock now: the one saved beside it
// (dbPath.slack.json), or a new one. Uploaded files go to dbPath.files/. It returns the simulator, its
// people and #general's ID; the caller closes the simulator, which saves
// the workspace a last time.
func demoWorkspace(dbPath string, now func() time.Time, log *slog.Logger) (*slacksim.Sim, []slacksim.User, string, error) {
	state := dbPath + workspaceSuffix
	if _, err := os.Stat(dbPath); err == nil {
		if _, err := os.Stat(state); errors.Is(err, fs.ErrNotExist) {
			log.Warn("the database has no saved workspace beside it: a new one is made, and incidents of earlier runs point at channels it does not have; remove the database to start afresh",
				"database", dbPath, "workspace", state)
		}
	}
	sim, general, err := openWorkspace(slacksim.Options{
		StatePath:    state,
		FilesDir:     dbPath + filesSuffix,
		MemberEvents: true,
		Now:          now,
		Log:          log.With("component", "slacksim"),
	})
	if err != nil {
		return nil, nil, "", err
	}
	return sim, demoUsers, general, nil
}

// openWorkspace starts a simulator configured by opts on the workspace
// saved at opts.StatePath, or on a new one when there is none (or no
// StatePath): alice, bob and carol in #general and #incidents. It returns
// the simulator and #general's ID. Uploaded files go to opts.FilesDir,
// made absolute.
func openWorkspace(opts slacksim.Options) (*slacksim.Sim, string, error) {
	if opts.FilesDir != "" {
		// Printed with each file: absolute, to open from anywhere.
		dir, err := filepath.Abs(opts.FilesDir)
		if err != nil {
			return nil, "", fmt.Errorf("the folder for uploaded files: %w", err)
		}
		opts.FilesDir = dir
	}
	var sim *slacksim.Sim
	if opts.StatePath != "" {
		loaded, err := slacksim.Load(opts)
		switch {
		case err == nil:
			sim = loaded
		case !errors.Is(err, fs.ErrNotExist):
			return nil, "", err
		}
	}
	fresh := sim == nil
	if fresh {
		sim = slacksim.New(opts)
		var ids []string
		for _, u := range demoUsers {
			sim.AddUser(u)
			ids = append(ids, u.ID)
		}
		sim.AddChannel("general", ids...)
		sim.AddChannel("incidents", ids...)
	}
	general := sim.ChannelByName("general")
	if general == nil {
		return nil, "", fmt.Errorf("the workspace saved in %s has no #general to start in; move the file away to start a new workspace", opts.StatePath)
	}
	if err := sim.Start(); err != nil {
		return nil, "", fmt.Errorf("starting the Slack simulator: %w", err)
	}
	return sim, general.ID, nil
}
