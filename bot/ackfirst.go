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
}

// ackFirstWait bounds how long a handler waits for acks to go first, so
// that a steady stream of envelopes cannot starve the work.
const ackFirstWait = 50 * time.Millisecond

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
}

// leave marks an envelope as acknowledged (or given up on).
func (g *ackGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending--
	if g.pending == 0 {
		close(g.clear)
	}
}

// wait returns once no envelope is waiting for its ack, after
// ackFirstWait, or when ctx ends.
func (g *ackGate) wait(ctx context.Context) {
	g.mu.Lock()
	ch := g.clear
	g.mu.Unlock()
	select {
	case <-ch:
		return
	default:
	}
	t := time.NewTimer(ackFirstWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
