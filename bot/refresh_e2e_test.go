package bot_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// unwarnedConn waits for an open connection Slack has not warned yet.
func (h *harness) unwarnedConn() int {
	h.t.Helper()
	var id int
	h.wait("a connection to refresh", func() bool {
		for _, c := range h.sim.SocketConns() {
			if !c.Warned {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id
}

func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not finish", what)
	}
}

// TestRefreshesLoseNoEnvelope refreshes the bot's connections 50 times (one
// at a time, and every tenth time all at once) while three typists send
// /incident help without pause and a command is written right behind every
// other warning, and redelivers some of those: every envelope is acked once,
// on the connection it came on, none is lost, and each command is answered
// once.
func TestRefreshesLoseNoEnvelope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSimOptions(slacksim.Options{RefreshGrace: 30 * time.Millisecond}))
	h.wait("the default two connections", func() bool { return h.sim.Connections() == 2 })

	ctx, stop := context.WithCancel(h.ctx)
	var typed atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for ctx.Err() == nil {
				cctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
				d, err := h.sim.SlashCommand(cctx, alice, h.general, "/incident", "help")
				cancel()
				if err != nil || !d.Acked {
					t.Errorf("typed command: %s, %v", describe(d), err)
					return
				}
				typed.Add(1)
				time.Sleep(5 * time.Millisecond) // a fast typist, not a flood
			}
		})
	}

	var forced []*slacksim.Delivery
	redelivered := 0
	for i := range 50 {
		var done <-chan struct{}
		switch {
		case i%10 == 9:
			done = h.sim.RefreshAll()
		case i%2 == 0:
			cctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
			d, refreshed, err := h.sim.SlashCommandAfterWarning(cctx, h.unwarnedConn(), bob, h.general, "/incident", "help")
			cancel()
			if err != nil {
				t.Fatalf("refresh %d: command behind the warning: %v", i, err)
			}
			forced = append(forced, d)
			done = refreshed
		default:
			var err error
			if done, err = h.sim.Refresh(h.unwarnedConn()); err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
		}
		if i%5 == 4 && len(forced) > 0 {
			// Slack may deliver an envelope again: it is acked, not redone.
			cctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
			if err := h.sim.Redeliver(cctx, forced[len(forced)-1]); err != nil {
				t.Fatalf("redelivery: %v", err)
			}
			cancel()
			redelivered++
		}
		waitDone(t, done, "a refresh")
	}
	stop()
	wg.Wait()
	h.idle()

	if u := h.sim.Unacked(); len(u) != 0 {
		t.Errorf("%d envelopes were not acked in time, the first %s", len(u), describe(&u[0]))
	}
	all := h.sim.Deliveries()
	for _, d := range all {
		if !d.Acked || d.AckConn != d.Conn {
			t.Errorf("envelope %s sent on connection %d: acked %v on connection %d", d.EnvelopeID, d.Conn, d.Acked, d.AckConn)
		}
	}
	if n := h.sim.StrayAcks(); n != 0 {
		t.Errorf("%d acks for unknown or already acked envelopes", n)
	}
	if st := h.bot.Stats(); st.Acks != int64(len(all)) || st.Envelopes != int64(len(all)) {
		t.Errorf("bot stats %+v, want %d envelopes and acks", st, len(all))
	}
	want := len(forced) + redelivered + int(typed.Load())
	if len(all) != want {
		t.Errorf("%d deliveries, want %d", len(all), want)
	}
	if got := len(h.sim.Ephemerals(alice)); got != int(typed.Load()) {
		t.Errorf("alice typed %d commands and got %d answers", typed.Load(), got)
	}
	if got := len(h.sim.Ephemerals(bob)); got != len(forced) {
		t.Errorf("bob's %d commands behind warnings (%d redelivered) got %d answers", len(forced), redelivered, got)
	}
	if typed.Load() == 0 || len(forced) != 25 || redelivered != 10 {
		t.Errorf("typed %d, forced %d, redelivered %d", typed.Load(), len(forced), redelivered)
	}
	// Every replaced connection stopped; the replacements remain.
	h.wait("two connections again", func() bool { return h.sim.Connections() == 2 })
}

// TestRefreshAtConnectionLimit: with every allowed connection open there is
// no room for a replacement; the warned connection still reads on, acks what
// comes behind the warning, and reconnects once Slack closes it.
func TestRefreshAtConnectionLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSimOptions(slacksim.Options{RefreshGrace: 20 * time.Millisecond}),
		withBotConfig(bot.Config{Connections: 99}))
	h.wait("ten connections", func() bool { return h.sim.Connections() == bot.MaxConnections })
	cctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	d, done, err := h.sim.SlashCommandAfterWarning(cctx, 0, bob, h.general, "/incident", "help")
	if err != nil || d.AckConn != d.Conn {
		t.Fatalf("command behind the warning: %s, %v", describe(d), err)
	}
	waitDone(t, done, "the refresh")
	h.wait("ten connections again", func() bool { return h.sim.Connections() == bot.MaxConnections })
	h.slash(alice, h.general, "/incident", "help")
	if len(h.sim.Unacked()) != 0 || len(h.sim.Ephemerals(bob)) != 1 {
		t.Errorf("unacked %d, answers to bob %d", len(h.sim.Unacked()), len(h.sim.Ephemerals(bob)))
	}
}

// describe says where an envelope went, without its payload.
func describe(d *slacksim.Delivery) string {
	if d == nil {
		return "no delivery"
	}
	return fmt.Sprintf("envelope %s on connection %d (acked %v on %d, late %v)", d.EnvelopeID, d.Conn, d.Acked, d.AckConn, d.Late)
}
