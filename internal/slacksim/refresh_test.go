package slacksim_test

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// frame is what a raw client read, in order.
type frame struct {
	Type       string `json:"type"`
	Reason     string `json:"reason"`
	EnvelopeID string `json:"envelope_id"`
}

// rawClient is a minimal Socket Mode client on gorilla/websocket, so a test
// can choose what it does with disconnect frames.
type rawClient struct {
	id        int
	mu        sync.Mutex
	log       []string // "read:<type>/<reason|envelope>" and "ack:<envelope>"
	done      chan struct{}
	closeCode int
}

func (c *rawClient) record(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
}

func (c *rawClient) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// dialRaw opens a connection the way an app does. closeOnWarning makes it
// stop at the first disconnect frame, like slack-go; ackDelay delays acks.
func dialRefreshClient(t *testing.T, sim *slacksim.Sim, closeOnWarning bool, ackDelay time.Duration) *rawClient {
	t.Helper()
	before := map[int]bool{}
	for _, c := range sim.SocketConns() {
		before[c.ID] = true
	}
	_, url, err := apiFor(sim).StartSocketModeContext(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctxT(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &rawClient{done: make(chan struct{})}
	var wmu sync.Mutex
	var acks sync.WaitGroup
	go func() {
		defer close(c.done)
		defer acks.Wait()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					c.mu.Lock()
					c.closeCode = ce.Code
					c.mu.Unlock()
				}
				return
			}
			var f frame
			_ = json.Unmarshal(data, &f)
			switch {
			case f.Type == "disconnect":
				c.record("read:disconnect/" + f.Reason)
				if closeOnWarning {
					_ = ws.Close()
					return
				}
			case f.EnvelopeID != "":
				c.record("read:" + f.EnvelopeID)
				acks.Go(func() {
					time.Sleep(ackDelay)
					wmu.Lock()
					defer wmu.Unlock()
					c.record("ack:" + f.EnvelopeID) // before the write, so it is logged before what follows the ack
					_ = ws.WriteJSON(map[string]string{"envelope_id": f.EnvelopeID})
				})
			default:
				c.record("read:" + f.Type)
			}
		}
	}()
	waitFor(t, sim, func() bool {
		for _, x := range sim.SocketConns() {
			if !before[x.ID] {
				c.id = x.ID
				return true
			}
		}
		return false
	})
	return c
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestRefreshClientClosingOnWarningLosesEnvelope: the wrong client (it
// closes at the warning, as slack-go does) never acks the envelope written
// right behind the warning; it is recorded in Unacked.
func TestRefreshClientClosingOnWarningLosesEnvelope(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{AckTimeout: 200 * time.Millisecond, RefreshGrace: 20 * time.Millisecond})
	c := dialRefreshClient(t, sim, true, 0)
	d, done, err := sim.SlashCommandAfterWarning(ctxT(t), c.id, alice, general, "/incident", "help")
	if !errors.Is(err, slacksim.ErrNotAcked) {
		t.Fatalf("err = %v, want ErrNotAcked", err)
	}
	if u := sim.Unacked(); len(u) != 1 || u[0].EnvelopeID != d.EnvelopeID || u[0].Conn != c.id {
		t.Errorf("unacked = %+v", u)
	}
	if done != nil {
		wait(t, done, "the refresh to end")
	}
	if got := c.snapshot(); len(got) != 2 || got[1] != "read:disconnect/warning" {
		t.Errorf("client read %v", got)
	}
}

// TestRefreshStockSocketmodeLosesEnvelope shows issue 13 with the stock
// slack-go socketmode client.
func TestRefreshStockSocketmodeLosesEnvelope(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{AckTimeout: 200 * time.Millisecond, RefreshGrace: 20 * time.Millisecond})
	a := connect(t, sim, nil)
	_, _, err := sim.SlashCommandAfterWarning(ctxT(t), 0, alice, general, "/incident", "help")
	if !errors.Is(err, slacksim.ErrNotAcked) || len(sim.Unacked()) != 1 {
		t.Fatalf("err = %v, unacked %d: slack-go should lose the envelope behind the warning", err, len(sim.Unacked()))
	}
	if n := len(a.seen(socketmode.EventTypeSlashCommand)); n != 0 {
		t.Errorf("slack-go delivered %d commands", n)
	}
}

// TestRefreshClientReadingOnAcks: a client that keeps reading after the
// warning acks the envelope behind it and those sent in the grace period,
// on the warned connection; then refresh_requested comes and the
// connection closes normally.
func TestRefreshClientReadingOnAcks(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{RefreshGrace: time.Second})
	c := dialRefreshClient(t, sim, false, 0)
	d, done, err := sim.SlashCommandAfterWarning(ctxT(t), c.id, alice, general, "/incident", "help")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Acked || d.Conn != c.id || d.AckConn != c.id {
		t.Errorf("delivery = %+v", d)
	}
	if conns := sim.SocketConns(); len(conns) != 1 || !conns[0].Warned {
		t.Errorf("conns = %+v", conns)
	}
	// Still in the rotation during the grace period.
	d2, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "list")
	if err != nil || d2.Conn != c.id || d2.AckConn != c.id {
		t.Fatalf("command in the grace period: %+v, %v", d2, err)
	}
	wait(t, done, "the refresh to end")
	wait(t, c.done, "the client to see the close")
	want := []string{"read:hello", "read:disconnect/warning", "read:" + d.EnvelopeID, "ack:" + d.EnvelopeID,
		"read:" + d2.EnvelopeID, "ack:" + d2.EnvelopeID, "read:disconnect/refresh_requested"}
	if got := c.snapshot(); !slices.Equal(got, want) {
		t.Errorf("client log\n got %v\nwant %v", got, want)
	}
	if c.closeCode != websocket.CloseNormalClosure || sim.Connections() != 0 || len(sim.Unacked()) != 0 || sim.StrayAcks() != 0 {
		t.Errorf("close %d, connections %d, unacked %d, stray %d", c.closeCode, sim.Connections(), len(sim.Unacked()), sim.StrayAcks())
	}
}

// TestRefreshWaitsForOutstandingAcks: after the grace period the simulator
// writes nothing new on the connection but still reads the acks of what it
// wrote there before it sends refresh_requested and closes.
func TestRefreshWaitsForOutstandingAcks(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{RefreshGrace: 10 * time.Millisecond})
	c := dialRefreshClient(t, sim, false, 100*time.Millisecond) // acks long after the grace period
	d, done, err := sim.SlashCommandAfterWarning(ctxT(t), c.id, alice, general, "/incident", "help")
	if err != nil || !d.Acked || d.AckConn != c.id {
		t.Fatalf("delivery %+v, %v", d, err)
	}
	wait(t, done, "the refresh to end")
	wait(t, c.done, "the client to see the close")
	got := c.snapshot()
	if n := len(got); n < 2 || got[n-2] != "ack:"+d.EnvelopeID || got[n-1] != "read:disconnect/refresh_requested" {
		t.Errorf("client log %v: the ack must come before refresh_requested", got)
	}
}

// TestRefreshMovesDeliveriesToOtherConnection: once a refreshed connection
// is leaving, envelopes go to the others.
func TestRefreshMovesDeliveriesToOtherConnection(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{RefreshGrace: 10 * time.Millisecond})
	a := dialRefreshClient(t, sim, false, 0)
	b := dialRefreshClient(t, sim, false, 0)
	done, err := sim.Refresh(a.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Refresh(a.id); err == nil {
		t.Error("a second refresh of the same connection must fail")
	}
	wait(t, done, "the refresh to end")
	for range 3 {
		d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "list")
		if err != nil || d.Conn != b.id {
			t.Fatalf("delivery %+v, %v; want connection %d", d, err, b.id)
		}
	}
	if conns := sim.SocketConns(); len(conns) != 1 || conns[0].ID != b.id {
		t.Errorf("conns = %+v", conns)
	}
}
