package demo

import (
	"sync"
	"time"
)

// Clock is the demo's clock: the wall clock (UTC) moved forward by what
// :wait and :down let pass, so a demo shows in seconds what happens in half
// an hour. With Start set it stands still at Start except for what :wait
// and :down let pass, so a script's transcript is the same on every run.
// It is safe for concurrent use.
type Clock struct {
	// Start, when set, is the time the clock shows before anything passes;
	// the wall clock is then ignored.
	Start time.Time

	mu     sync.Mutex
	offset time.Duration
}

// Now returns the wall clock (or Start) plus the time let pass.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Start.IsZero() {
		return c.Start.UTC().Add(c.offset)
	}
	return time.Now().UTC().Add(c.offset)
}

// Advance lets d pass.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
