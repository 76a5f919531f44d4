package slacksim

import (
	"context"
	"fmt"
	"time"
)

// WaitQuiet blocks until the workspace has not changed and no Web API call
// has come for quiet (real time), or ctx ends (then it returns ctx's
// error). It tells when an app in another process, whose own idleness
// cannot be asked, has probably finished answering: `sitrep simulator`
// waits so before it shows what a typed command did.
func (s *Sim) WaitQuiet(ctx context.Context, quiet time.Duration) error {
	step := min(max(quiet/5, time.Millisecond), 50*time.Millisecond)
	tick := time.NewTicker(step)
	defer tick.Stop()
	s.mu.Lock()
	ch := s.changed
	s.mu.Unlock()
	calls := s.TotalCalls()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("slacksim: waiting for quiet: %w", ctx.Err())
		case <-ch:
			s.mu.Lock()
			ch = s.changed
			s.mu.Unlock()
			last = time.Now()
		case <-tick.C:
			if n := s.TotalCalls(); n != calls {
				calls, last = n, time.Now()
			} else if time.Since(last) >= quiet {
				return nil
			}
		}
	}
}
