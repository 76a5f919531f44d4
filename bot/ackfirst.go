package bot

import (
	"context"
	"sync"
	"time"
)

// ackGate lets acks go first: while envelopes are being recorded and
// acknowledged, handlers wait to start (for at most ackFirstWait), so that
// a burst of commands is acknowledged within Slack's limits before the
// work it brings competes for the CPU and the database.
type ackGate struct {
	mu      sync.Mutex
	pending int
	clear   chan struct{} // closed while nothing is pending
	// last is when an envelope last arrived or was acked.
	last time.Time
}

// ackFirstWait bounds how long a handler waits for acks to go first, so
// that a steady stream of envelopes cannot starve the work.
const ackFirstWait = 50 * time.Millisecond

// ackQuiet is how long the ack path must have been quiet (nothing
// arrived, nothing acked) before handlers start: in a burst, the next
// envelope is often still unread in the socket when the last one read is
// acked, and a handler started then would hold up its reading.
const ackQuiet = 2 * time.Millisecond

func newAckGate() *ackGate {
	g := &ackGate{clear: make(chan struct{})}
	close(g.clear)
	return g
}

// enter marks an envelope as being received.
func (g *ackGate) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == 0 {
		g.clear = make(chan struct{})
	}
	g.pending++
	g.last = time.Now()
}

// leave marks an envelope as acknowledged (or given up on).
func (g *ackGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending--
	g.last = time.Now()
	if g.pending == 0 {
		close(g.clear)
	}
}

// wait returns once no envelope is waiting for its ack and none has
// arrived or been acked for ackQuiet, after ackFirstWait, or when ctx
// ends.
func (g *ackGate) wait(ctx context.Context) {
	var t *time.Timer
	var deadline time.Time
	for {
		g.mu.Lock()
		ch, last := g.clear, g.last
		g.mu.Unlock()
		now := time.Now()
		quiet := false
		select {
		case <-ch:
			if now.Sub(last) >= ackQuiet {
				return
			}
			quiet = true
		default:
		}
		if t == nil {
			deadline = now.Add(ackFirstWait)
			t = time.NewTimer(ackFirstWait)
			defer t.Stop()
		} else if !now.Before(deadline) {
			return
		}
		var settle <-chan time.Time
		if quiet {
			settle = time.After(last.Add(ackQuiet).Sub(now))
			ch = nil
		}
		select {
		case <-ch:
		case <-settle:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
