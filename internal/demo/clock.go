package demo

import (
	"sync"
	"time"
)

// Clock is the demo's clock: the wall clock (UTC) moved forward by what
// :wait and :down let pass, so a demo shows in seconds what happens in half
// an hour. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the wall clock plus the time let pass.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance lets d pass.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
