package slacksim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

const (
	alice = "U0ALICE"
	bob   = "U0BOB"
)

// newSim starts a simulator with two users and #general.
func newSim(t *testing.T, opts slacksim.Options) (*slacksim.Sim, string) {
	t.Helper()
	sim := slacksim.New(opts)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: alice, Name: "alice", RealName: "Alice Liddell", TZ: "Europe/London"})
	sim.AddUser(slacksim.User{ID: bob, Name: "bob", RealName: "Bob Dobbs", TZ: "America/New_York"})
	return sim, sim.AddChannel("general", alice, bob)
}

func apiFor(sim *slacksim.Sim) *slack.Client {
	return slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(sim.AppToken()))
}

// app is a socketmode client connected to the simulator. handle runs for
// every event; by default requests are acked without payload.
type app struct {
	api    *slack.Client
	sm     *socketmode.Client
	mu     sync.Mutex
	events []socketmode.Event
}

func (a *app) seen(typ socketmode.EventType) []socketmode.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []socketmode.Event
	for _, e := range a.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func connect(t *testing.T, sim *slacksim.Sim, handle func(a *app, e socketmode.Event)) *app {
	t.Helper()
	a := &app{api: apiFor(sim)}
	a.sm = socketmode.New(a.api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.sm.RunContext(ctx)
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-a.sm.Events:
				a.mu.Lock()
				a.events = append(a.events, e)
				a.mu.Unlock()
				if handle != nil {
					handle(a, e)
				} else if e.Request != nil {
					_ = a.sm.Ack(*e.Request)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("socketmode client did not stop")
		}
	})
	waitFor(t, sim, func() bool { return sim.Connections() >= 1 && len(a.seen(socketmode.EventTypeHello)) >= 1 })
	return a
}

func waitFor(t *testing.T, sim *slacksim.Sim, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Wait(ctx, cond); err != nil {
		t.Fatal(err)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
