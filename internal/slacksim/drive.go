package slacksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// issueTriggerLocked mints a trigger_id for user, valid for
// Options.TriggerLifetime and for one views.open.
func (s *Sim) issueTriggerLocked(user string) string {
	now := s.opts.Now()
	id := fmt.Sprintf("%d.%d.%s", now.Unix(), now.Nanosecond(), randomHex(16))
	s.ws.triggers[id] = &trigger{user: user, issuedAt: now}
	return id
}

func (s *Sim) userRefLocked(id string) map[string]any {
	name := id
	if u := s.ws.users[id]; u != nil {
		name = u.Name
	}
	return map[string]any{"id": id, "username": name, "name": name, "team_id": s.opts.TeamID}
}

func (s *Sim) teamRef() map[string]any {
	return map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain}
}

func (s *Sim) responseURL() string {
	return s.baseURL + "/hooks/" + s.opts.TeamID + "/" + randomHex(8)
}

// verificationToken is the legacy token field Slack puts in payloads.
const verificationToken = "slacksimverificationtoken"

// SlashCommand types command (e.g. "/incident") with text as user in the
// channel, sends the slash_commands envelope with the payload Slack sends,
// and waits for the ack (or ctx, or Options.AckTimeout: then the error
// wraps ErrNotAcked). If no connection is open it waits for one until ctx
// ends. A fresh trigger_id comes with each command.
func (s *Sim) SlashCommand(ctx context.Context, user, channelID, command, text string) (*Delivery, error) {
	rec, err := s.slashRecord(user, channelID, command, text)
	if err != nil {
		return nil, err
	}
	return s.deliverAndWait(ctx, rec)
}

// slashRecord builds the slash_commands envelope of a typed command.
func (s *Sim) slashRecord(user, channelID, command, text string) (*record, error) {
	s.mu.Lock()
	u := s.ws.users[user]
	ch := s.ws.channels[channelID]
	if u == nil || ch == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: slash command: unknown user %q or channel %q", user, channelID)
	}
	channelName := ch.Name
	if ch.IsIM {
		channelName = "directmessage"
	}
	trig := s.issueTriggerLocked(user)
	s.mu.Unlock()
	payload, err := json.Marshal(map[string]any{
		"token":                 verificationToken,
		"team_id":               s.opts.TeamID,
		"team_domain":           s.opts.TeamDomain,
		"channel_id":            channelID,
		"channel_name":          channelName,
		"user_id":               user,
		"user_name":             u.Name,
		"command":               command,
		"text":                  text,
		"api_app_id":            s.opts.AppID,
		"is_enterprise_install": false,
		"response_url":          s.responseURL(),
		"trigger_id":            trig,
	})
	if err != nil {
		return nil, fmt.Errorf("slacksim: slash command payload: %w", err)
	}
	return newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: TypeSlashCommands, TriggerID: trig,
		Payload: payload, AcceptsResponsePayload: true}), nil
}

// SendEvent sends an events_api envelope wrapping event (a
// map[string]any, a json.RawMessage or anything that marshals to a JSON
// object) in Slack's event_callback with a fresh event_id and event_time.
// An envelope not acked within Options.AckTimeout is redelivered as a new
// envelope (new envelope_id, same payload and event_id) with retry_attempt
// 1, 2, 3 and retry_reason "timeout". SendEvent returns the delivery that
// was acked, or the first one and an error wrapping ErrNotAcked when every
// attempt timed out.
func (s *Sim) SendEvent(ctx context.Context, event any) (*Delivery, error) {
	inner, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("slacksim: event: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(inner, &probe); err != nil {
		return nil, fmt.Errorf("slacksim: event must be a JSON object: %w", err)
	}
	now := s.opts.Now()
	payload, err := json.Marshal(map[string]any{
		"token":                 verificationToken,
		"team_id":               s.opts.TeamID,
		"api_app_id":            s.opts.AppID,
		"event":                 json.RawMessage(inner),
		"type":                  "event_callback",
		"event_id":              "Ev" + strings.ToUpper(randomHex(5)),
		"event_time":            now.Unix(),
		"is_ext_shared_channel": false,
		"event_context":         "4-" + randomHex(12),
		"authorizations": []map[string]any{{"enterprise_id": nil, "team_id": s.opts.TeamID,
			"user_id": s.opts.BotUserID, "is_bot": true, "is_enterprise_install": false}},
	})
	if err != nil {
		return nil, fmt.Errorf("slacksim: event payload: %w", err)
	}
	g := &eventGroup{done: make(chan struct{}), exhausted: make(chan struct{})}
	rec := newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: TypeEventsAPI, Payload: payload})
	rec.group = g
	if err := s.send(ctx, rec); err != nil {
		return s.snapshot(rec), err
	}
	select {
	case <-g.done:
		s.socket.mu.Lock()
		w := g.winner
		s.socket.mu.Unlock()
		return s.snapshot(w), nil
	case <-g.exhausted:
		return s.snapshot(rec), fmt.Errorf("events_api envelope %s after %d retries: %w",
			rec.d.EnvelopeID, s.opts.EventRetries, ErrNotAcked)
	case <-ctx.Done():
		return s.snapshot(rec), fmt.Errorf("slacksim: waiting for ack of %s: %w", rec.d.EnvelopeID, ctx.Err())
	}
}

// sendInteraction sends an interactive envelope and waits for its ack.
func (s *Sim) sendInteraction(ctx context.Context, trig string, payload map[string]any, acceptsResponse bool, onAck func(Delivery)) (*Delivery, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("slacksim: interaction payload: %w", err)
	}
	rec := newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: TypeInteractive, TriggerID: trig,
		Payload: raw, AcceptsResponsePayload: acceptsResponse})
	rec.onAck = onAck
	return s.deliverAndWait(ctx, rec)
}

// errNoElement is returned by Click when no element has the action_id.
var errNoElement = errors.New("slacksim: no element with that action_id")
