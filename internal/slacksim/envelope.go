package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNotAcked is returned (wrapped) when an envelope was not acknowledged
// within Options.AckTimeout (for events_api: after every retry).
var ErrNotAcked = errors.New("slacksim: envelope not acknowledged in time")

// errLeaving: the connection chosen is at the end of a refresh and takes no
// new envelope.
var errLeaving = errors.New("slacksim: connection is being refreshed")

// Envelope types.
const (
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
	TypeEventsAPI     = "events_api"
)

// Delivery records one envelope sent over Socket Mode and its ack.
type Delivery struct {
	// EnvelopeID is the envelope's envelope_id.
	EnvelopeID string
	// Type is slash_commands, interactive or events_api.
	Type string
	// TriggerID is the trigger_id issued with a slash command or
	// interaction ("" for events).
	TriggerID string
	// Payload is the envelope's payload as sent.
	Payload json.RawMessage
	// AcceptsResponsePayload is the envelope's accepts_response_payload.
	AcceptsResponsePayload bool
	// RetryAttempt and RetryReason are the envelope's retry fields.
	RetryAttempt int
	RetryReason  string
	// SentAt is when the envelope was written to the WebSocket.
	SentAt time.Time
	// Conn is the ID of the connection it was written on (see SocketConns).
	Conn int
	// AckConn is the ID of the connection its ack came on (0 before).
	AckConn int
	// Acked is true once the app acknowledged the envelope.
	Acked bool
	// AckedAt is when the ack arrived.
	AckedAt time.Time
	// AckPayload is the ack's payload, or nil if it had none (an empty
	// object, as Slack's Node client sends with a plain ack, counts as
	// none).
	AckPayload json.RawMessage
	// Late is true if no ack arrived within Options.AckTimeout (an ack
	// may still have come later).
	Late bool
}

// envelope is the frame sent on the WebSocket.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
}

// record tracks one sent envelope. d is guarded by socket.mu.
type record struct {
	d       Delivery
	acked   chan struct{} // closed on ack
	expired chan struct{} // closed when the ack timeout passed unacked
	group   *eventGroup
	onAck   func(Delivery) // runs once, after the ack, outside locks
	raw     []byte         // written as is instead of the envelope (SendFrame)
}

// eventGroup ties the attempts of one events_api delivery together.
type eventGroup struct {
	done      chan struct{} // closed when any attempt is acked
	exhausted chan struct{} // closed when the last attempt timed out
	winner    *record
}

func (s *Sim) newEnvelopeID() string {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	s.socket.nextEnv++
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%s", s.socket.nextEnv, s.socket.nextEnv&0xffff,
		s.socket.nextEnv&0xfff, s.socket.nextEnv&0xfff, randomHex(6))
}

func newRecord(d Delivery) *record {
	return &record{d: d, acked: make(chan struct{}), expired: make(chan struct{})}
}

// send writes rec's envelope to one connection (round-robin), waiting for
// a connection to be open if none is, until ctx ends.
func (s *Sim) send(ctx context.Context, rec *record) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if c := s.pickConn(); c != nil {
			if err := s.writeEnvelope(c, rec, nil); err != nil {
				continue
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slacksim: no socket mode connection to deliver %s: %w", rec.d.Type, ctx.Err())
		case <-s.closed:
			return errors.New("slacksim: closed")
		case <-changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeEnvelope writes rec's envelope on c, right behind first if first is
// not nil, and starts its ack timer. A failed write closes c; it is an
// error unless first went out (then the envelope counts as sent: the
// client closed on reading first and will never ack it).
func (s *Sim) writeEnvelope(c *conn, rec *record, first any) error {
	st := &s.socket
	st.mu.Lock()
	if c.leaving {
		st.mu.Unlock()
		return errLeaving
	}
	frame := envelope{EnvelopeID: rec.d.EnvelopeID, Type: rec.d.Type, Payload: rec.d.Payload,
		AcceptsResponsePayload: rec.d.AcceptsResponsePayload, RetryAttempt: rec.d.RetryAttempt,
		RetryReason: rec.d.RetryReason}
	var v any = frame
	if rec.raw != nil {
		v = rawFrame(rec.raw)
	}
	st.records[rec.d.EnvelopeID] = rec
	st.history = append(st.history, rec)
	rec.d.Conn = c.id
	st.mu.Unlock()
	stamped := false
	stamp := func() {
		stamped = true
		st.mu.Lock()
		rec.d.SentAt = time.Now()
		st.mu.Unlock()
	}
	err := c.writeStamped(first, v, stamp)
	if err != nil && first != nil && stamped {
		// The frame before it went out, and the client closed on reading
		// it: as far as Slack knows the envelope was sent and is now
		// waiting for an ack that cannot come.
		s.log.Info("slacksim: envelope written behind a frame the client closed on", "conn", c.id, "err", err)
		s.removeConn(c, false)
		err = nil
	}
	if err != nil {
		s.log.Warn("slacksim: writing envelope", "conn", c.id, "err", err)
		st.mu.Lock()
		st.history = slices.DeleteFunc(st.history, func(r *record) bool { return r == rec })
		st.mu.Unlock()
		s.removeConn(c, false)
		return err
	}
	st.mu.Lock()
	var t *time.Timer
	t = time.AfterFunc(s.opts.AckTimeout, func() {
		st.mu.Lock()
		delete(st.timers, t)
		st.mu.Unlock()
		s.ackTimedOut(rec)
	})
	st.timers[t] = true
	st.mu.Unlock()
	s.log.Debug("slacksim: envelope sent", "type", rec.d.Type, "envelope_id", rec.d.EnvelopeID,
		"conn", c.id, "retry_attempt", rec.d.RetryAttempt)
	s.notify()
	return nil
}

// handleAck records the ack for envelopeID that came on connection connID.
func (s *Sim) handleAck(connID int, envelopeID string, payload json.RawMessage) {
	st := &s.socket
	st.mu.Lock()
	rec := st.records[envelopeID]
	if rec == nil || rec.d.Acked {
		st.stray++
		st.mu.Unlock()
		s.log.Warn("slacksim: ack for unknown or already acked envelope", "envelope_id", envelopeID)
		return
	}
	rec.d.Acked = true
	rec.d.AckedAt = time.Now()
	rec.d.AckConn = connID
	if !emptyAckPayload(payload) {
		rec.d.AckPayload = slices.Clone(payload)
	}
	st.latencies = append(st.latencies, rec.d.AckedAt.Sub(rec.d.SentAt))
	d := rec.d
	onAck := rec.onAck
	rec.onAck = nil
	st.mu.Unlock()
	// The ack's effects (a modal closed by a view_submission ack) happen
	// before anyone waiting for the ack is woken.
	if onAck != nil {
		onAck(d)
	}
	st.mu.Lock()
	close(rec.acked)
	if g := rec.group; g != nil && g.winner == nil {
		g.winner = rec
		close(g.done)
	}
	st.mu.Unlock()
	s.notify()
}

// emptyAckPayload reports whether an ack's payload says nothing: absent,
// null, or an empty object. Slack's Node client (@slack/socket-mode) sends
// {"envelope_id":…,"payload":{}} for a plain ack(), and Slack treats that
// as an ack without a response.
func emptyAckPayload(payload json.RawMessage) bool {
	var m map[string]json.RawMessage
	switch trimmed := bytes.TrimSpace(payload); {
	case len(trimmed) == 0, string(trimmed) == "null":
		return true
	case trimmed[0] == '{':
		return json.Unmarshal(trimmed, &m) == nil && len(m) == 0
	}
	return false
}

// ackTimedOut marks rec late if it is still unacked, and redelivers an
// events_api envelope while retries remain.
func (s *Sim) ackTimedOut(rec *record) {
	st := &s.socket
	st.mu.Lock()
	if rec.d.Acked {
		st.mu.Unlock()
		return
	}
	rec.d.Late = true
	st.unacked = append(st.unacked, rec)
	close(rec.expired)
	g := rec.group
	retry := g != nil && g.winner == nil && rec.d.RetryAttempt < s.opts.EventRetries
	exhausted := g != nil && g.winner == nil && !retry
	st.mu.Unlock()
	s.log.Warn("slacksim: envelope not acked in time", "type", rec.d.Type, "envelope_id", rec.d.EnvelopeID,
		"timeout", s.opts.AckTimeout)
	if exhausted {
		close(g.exhausted)
	}
	s.notify()
	if !retry {
		return
	}
	select {
	case <-s.closed:
		return
	default:
	}
	// Slack sends a retry as a new envelope with the same payload (and so
	// the same event_id), counting retry_attempt up.
	next := newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: rec.d.Type, Payload: rec.d.Payload,
		RetryAttempt: rec.d.RetryAttempt + 1, RetryReason: "timeout"})
	next.group = g
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.AckTimeout)
	defer cancel()
	if err := s.send(ctx, next); err != nil {
		s.log.Warn("slacksim: redelivery failed", "err", err)
		// The attempt counts as failed; time it out so the next one runs.
		go s.ackTimedOut(next)
	}
}

// snapshot returns a copy of rec's delivery.
func (s *Sim) snapshot(rec *record) *Delivery {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	d := rec.d
	d.Payload = slices.Clone(d.Payload)
	d.AckPayload = slices.Clone(d.AckPayload)
	return &d
}

// deliverAndWait sends rec and waits for its ack, its ack timeout, or ctx.
func (s *Sim) deliverAndWait(ctx context.Context, rec *record) (*Delivery, error) {
	if err := s.send(ctx, rec); err != nil {
		return s.snapshot(rec), err
	}
	return s.waitAck(ctx, rec)
}

// waitAck waits for the ack of the sent rec, its ack timeout, or ctx.
func (s *Sim) waitAck(ctx context.Context, rec *record) (*Delivery, error) {
	select {
	case <-rec.acked:
		return s.snapshot(rec), nil
	case <-rec.expired:
		return s.snapshot(rec), fmt.Errorf("%s envelope %s: %w", rec.d.Type, rec.d.EnvelopeID, ErrNotAcked)
	case <-ctx.Done():
		return s.snapshot(rec), fmt.Errorf("slacksim: waiting for ack of %s: %w", rec.d.EnvelopeID, ctx.Err())
	}
}

// Redeliver sends the envelope of d again, byte for byte the same
// (envelope_id, payload, retry fields), as Slack may do, and waits for its
// ack. The earlier Delivery is left as it was.
func (s *Sim) Redeliver(ctx context.Context, d *Delivery) error {
	if d == nil {
		return errors.New("slacksim: redeliver: nil delivery")
	}
	rec := newRecord(Delivery{EnvelopeID: d.EnvelopeID, Type: d.Type, TriggerID: d.TriggerID,
		Payload: slices.Clone(d.Payload), AcceptsResponsePayload: d.AcceptsResponsePayload,
		RetryAttempt: d.RetryAttempt, RetryReason: d.RetryReason})
	_, err := s.deliverAndWait(ctx, rec)
	return err
}

// Deliveries returns copies of every envelope sent, in send order.
func (s *Sim) Deliveries() []Delivery {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	out := make([]Delivery, len(s.socket.history))
	for i, r := range s.socket.history {
		out[i] = r.d
	}
	return out
}

// Unacked returns copies of the envelopes that were not acknowledged
// within Options.AckTimeout (Late is set; Acked tells if an ack came later).
// For a slash command or interaction that is the failure a user would see.
func (s *Sim) Unacked() []Delivery {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	out := make([]Delivery, len(s.socket.unacked))
	for i, r := range s.socket.unacked {
		out[i] = r.d
	}
	return out
}

// AckLatencies returns, for each acked envelope, the time from sending it
// to receiving its ack.
func (s *Sim) AckLatencies() []time.Duration {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	return slices.Clone(s.socket.latencies)
}

// StrayAcks returns how many acks named an envelope that was unknown or
// already acked: an app that acks an envelope twice shows here.
func (s *Sim) StrayAcks() int {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	return s.socket.stray
}
