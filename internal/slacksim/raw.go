package slacksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Raw envelopes: what Slack never sends, for tests that an app lives
// through it. SlashCommand, Click, Submit and SendEvent build payloads as
// Slack does; SendEnvelope and SendFrame send whatever they are given.

// rawFrame is a frame written byte for byte as given, JSON or not.
type rawFrame []byte

// marshalFrame returns the bytes of frame v: a rawFrame as it is, anything
// else as JSON.
func marshalFrame(v any) ([]byte, error) {
	if r, ok := v.(rawFrame); ok {
		return r, nil
	}
	return json.Marshal(v)
}

// SendEnvelope sends an envelope of type typ (any string, not only the
// three Slack uses) with payload exactly as given (any JSON value: an object
// with fields missing, null, an array; nil sends null) and a fresh
// envelope_id, and waits for its ack like SlashCommand: the error wraps
// ErrNotAcked when none came within Options.AckTimeout. It is not
// redelivered. If typ is slash_commands and the payload names a user_id and
// channel_id, the ack's response is shown to that user as Slack would (see
// SlashCommand). Payload bytes that are not JSON at all go with SendFrame.
func (s *Sim) SendEnvelope(ctx context.Context, typ string, payload json.RawMessage, acceptsResponse bool) (*Delivery, error) {
	if payload == nil {
		payload = json.RawMessage("null")
	}
	if !json.Valid(payload) {
		return nil, errors.New("slacksim: SendEnvelope: the payload is not JSON; send the bytes with SendFrame")
	}
	rec := newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: typ, Payload: slices.Clone(payload),
		AcceptsResponsePayload: acceptsResponse})
	rec.d.TriggerID = stringField(payload, "trigger_id")
	rec.onAck = s.rawAckEffect(typ, payload)
	return s.deliverAndWait(ctx, rec)
}

// SendFrame writes frame as one WebSocket text message on one connection,
// byte for byte: truncated JSON, a value that is not an object, an envelope
// with fields missing or of the wrong type. If no connection is open it
// waits for one until ctx ends.
//
// A frame that is a JSON object with a string envelope_id is tracked as an
// envelope (Deliveries lists it with the fields that could be read; its ack
// is recorded; after Options.AckTimeout without one it is Late and listed
// in Unacked; it is never redelivered), and SendFrame returns its Delivery
// as sent, without waiting for the ack. Any other frame is only written,
// and the Delivery is nil.
func (s *Sim) SendFrame(ctx context.Context, frame []byte) (*Delivery, error) {
	d := frameDelivery(frame)
	if d.EnvelopeID == "" {
		return nil, s.writeFrame(ctx, frame)
	}
	rec := newRecord(d)
	rec.raw = slices.Clone(frame)
	rec.onAck = s.rawAckEffect(d.Type, d.Payload)
	if err := s.send(ctx, rec); err != nil {
		return s.snapshot(rec), err
	}
	return s.snapshot(rec), nil
}

// writeFrame writes an untracked frame on one connection.
func (s *Sim) writeFrame(ctx context.Context, frame []byte) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if c := s.pickConn(); c != nil {
			if err := c.writeStamped(nil, rawFrame(frame), nil); err != nil {
				s.log.Warn("slacksim: writing a raw frame", "conn", c.id, "err", err)
				s.removeConn(c, false)
				continue
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slacksim: no socket mode connection to write a frame on: %w", ctx.Err())
		case <-s.closed:
			return errors.New("slacksim: closed")
		case <-changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// frameDelivery reads what it can of an envelope frame, field by field, so
// that one field of the wrong type does not hide the others.
func frameDelivery(frame []byte) Delivery {
	var fields map[string]json.RawMessage
	if json.Unmarshal(frame, &fields) != nil {
		return Delivery{}
	}
	var d Delivery
	_ = json.Unmarshal(fields["envelope_id"], &d.EnvelopeID)
	_ = json.Unmarshal(fields["type"], &d.Type)
	_ = json.Unmarshal(fields["accepts_response_payload"], &d.AcceptsResponsePayload)
	_ = json.Unmarshal(fields["retry_attempt"], &d.RetryAttempt)
	_ = json.Unmarshal(fields["retry_reason"], &d.RetryReason)
	d.Payload = slices.Clone(fields["payload"])
	d.TriggerID = stringField(d.Payload, "trigger_id")
	return d
}

// stringField returns the string field name of a JSON object, or "".
func stringField(obj json.RawMessage, name string) string {
	var fields map[string]json.RawMessage
	var v string
	if json.Unmarshal(obj, &fields) == nil {
		_ = json.Unmarshal(fields[name], &v)
	}
	return v
}

// rawAckEffect is what Slack does with the ack of a raw envelope: a slash
// command's response is shown to the user who typed it, if the payload
// names a user and a channel. Other acks have no effect here.
func (s *Sim) rawAckEffect(typ string, payload json.RawMessage) func(Delivery) {
	if typ != TypeSlashCommands {
		return nil
	}
	user, channel := stringField(payload, "user_id"), stringField(payload, "channel_id")
	if user == "" || channel == "" {
		return nil
	}
	return func(d Delivery) { s.applyCommandAck(user, channel, d.AckPayload) }
}
