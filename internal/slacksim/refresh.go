package slacksim

import (
	"context"
	"fmt"
	"time"
)

// Slack refreshes each Socket Mode connection every few hours. The
// simulator models the sequence as Slack documents and behaves:
//
//  1. {"type":"disconnect","reason":"warning"} is written on the connection.
//  2. For Options.RefreshGrace (Slack: about 10 s) the connection stays in
//     the delivery rotation: envelopes may still be written on it, and acks
//     are read from it.
//  3. Then no new envelope is written on it; the simulator waits until every
//     envelope written on it was acked or timed out (Options.AckTimeout),
//     still reading acks.
//  4. {"type":"disconnect","reason":"refresh_requested"} is written and the
//     connection is closed (with a close frame).
//
// A client that stops reading at the warning (as slack-go's socketmode
// client does) loses every envelope written in steps 2 and 3: they end up in
// Unacked. Disconnect and DropConnections still close at once.

// SocketConn describes one open Socket Mode connection.
type SocketConn struct {
	// ID identifies the connection (Delivery.Conn, Refresh).
	ID int
	// Warned is true once its refresh began (the warning was sent).
	Warned bool
}

// SocketConns returns the open Socket Mode connections, oldest first.
func (s *Sim) SocketConns() []SocketConn {
	st := &s.socket
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]SocketConn, len(st.conns))
	for i, c := range st.conns {
		out[i] = SocketConn{ID: c.id, Warned: c.warned}
	}
	return out
}

// Refresh starts Slack's refresh sequence (see above) on the connection
// with this ID: the warning is on the wire when it returns. The returned
// channel is closed once the connection is closed (or the simulator is). It
// fails if no such connection is open or its refresh already began.
func (s *Sim) Refresh(id int) (<-chan struct{}, error) {
	return s.refresh(id, nil)
}

// RefreshAll starts a refresh on every open connection whose refresh has
// not begun, and returns a channel closed once they are all closed.
func (s *Sim) RefreshAll() <-chan struct{} {
	all := make(chan struct{})
	var dones []<-chan struct{}
	for _, c := range s.SocketConns() {
		if c.Warned {
			continue
		}
		if done, err := s.Refresh(c.ID); err == nil {
			dones = append(dones, done)
		}
	}
	go func() {
		for _, d := range dones {
			<-d
		}
		close(all)
	}()
	return all
}

// SlashCommandAfterWarning starts a refresh of the connection with this ID
// (0: the oldest connection not yet warned) and writes the slash command
// right behind the warning frame, with no frame between them: "an envelope
// written after disconnect: warning". It waits for the ack like
// SlashCommand and also returns the refresh's channel (see Refresh).
func (s *Sim) SlashCommandAfterWarning(ctx context.Context, id int, user, channelID, command, text string) (*Delivery, <-chan struct{}, error) {
	if id == 0 {
		for _, c := range s.SocketConns() {
			if !c.Warned {
				id = c.ID
				break
			}
		}
	}
	rec, err := s.slashRecord(user, channelID, command, text, true)
	if err != nil {
		return nil, nil, err
	}
	done, err := s.refresh(id, rec)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.waitAck(ctx, rec)
	return d, done, err
}

// refresh warns connection id (writing rec right behind the warning if it
// is not nil) and runs the rest of the sequence in the background.
func (s *Sim) refresh(id int, rec *record) (<-chan struct{}, error) {
	st := &s.socket
	st.mu.Lock()
	var c *conn
	for _, x := range st.conns {
		if x.id == id {
			c = x
		}
	}
	if c == nil || c.warned {
		st.mu.Unlock()
		return nil, fmt.Errorf("slacksim: refresh: no open connection %d not already refreshing", id)
	}
	c.warned = true
	st.mu.Unlock()
	warning := map[string]any{"type": "disconnect", "reason": "warning",
		"debug_info": map[string]any{"host": "slacksim"}}
	var err error
	if rec != nil {
		err = s.writeEnvelope(c, rec, warning)
	} else if err = c.write(warning); err != nil {
		s.removeConn(c, false)
	}
	if err != nil {
		return nil, fmt.Errorf("slacksim: refresh of connection %d: %w", id, err)
	}
	s.log.Info("slacksim: connection refresh warned", "conn", c.id, "grace", s.opts.RefreshGrace)
	s.notify()
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		s.finishRefresh(c)
	}()
	return done, nil
}

// finishRefresh runs steps 2 to 4 of the refresh of c.
func (s *Sim) finishRefresh(c *conn) {
	grace := time.NewTimer(s.opts.RefreshGrace)
	defer grace.Stop()
	select {
	case <-grace.C:
	case <-c.done:
		return
	case <-s.closed:
		return
	}
	st := &s.socket
	st.mu.Lock()
	c.leaving = true
	var pending []*record
	for _, r := range st.history {
		if r.d.Conn == c.id && !r.d.Acked && !r.d.Late {
			pending = append(pending, r)
		}
	}
	st.mu.Unlock()
	s.notify()
	for _, r := range pending {
		select {
		case <-r.acked:
		case <-r.expired:
		case <-c.done:
			return
		case <-s.closed:
			return
		}
	}
	_ = c.write(map[string]any{"type": "disconnect", "reason": "refresh_requested",
		"debug_info": map[string]any{"host": "slacksim"}})
	s.log.Info("slacksim: connection refreshed", "conn", c.id)
	s.removeConn(c, true)
}
