package slacksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sitrep/sitrep/internal/blockkit"
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

// verificationToken is the legacy token field Slack puts in payloads.
const verificationToken = "slacksimverificationtoken"

// SlashCommand types command (e.g. "/incident") with text as user in the
// channel, sends the slash_commands envelope with the payload Slack sends,
// and waits for the ack (or ctx, or Options.AckTimeout: then the error
// wraps ErrNotAcked). If no connection is open it waits for one until ctx
// ends. A fresh trigger_id and response_url come with each command. An ack
// with a payload ({"text", "blocks", "response_type"}) is the command's
// response: the user sees it as an Ephemeral, or with response_type
// "in_channel" the app posts it in the channel (see applyCommandAck).
//
// text is what the person typed; it arrives formatted as Slack's client
// sends it for a command with should_escape: '&', '<' and '>' escaped,
// "@bob" as "<@U0BOB|bob>", "#general" as "<#C…|general>", "@channel" as
// "<!channel>", a link as "<https://…>" (see format.go).
func (s *Sim) SlashCommand(ctx context.Context, user, channelID, command, text string) (*Delivery, error) {
	return s.slashCommand(ctx, user, channelID, command, text, true)
}

// SlashCommandRaw is SlashCommand with text sent exactly as given, for a
// payload captured from Slack or from another product.
func (s *Sim) SlashCommandRaw(ctx context.Context, user, channelID, command, text string) (*Delivery, error) {
	return s.slashCommand(ctx, user, channelID, command, text, false)
}

func (s *Sim) slashCommand(ctx context.Context, user, channelID, command, text string, typed bool) (*Delivery, error) {
	rec, err := s.slashRecord(user, channelID, command, text, typed)
	if err != nil {
		return nil, err
	}
	return s.deliverAndWait(ctx, rec)
}

// slashRecord builds the slash_commands envelope of a typed command (typed:
// formatted as Slack's client sends it) or of raw text.
func (s *Sim) slashRecord(user, channelID, command, text string, typed bool) (*record, error) {
	s.mu.Lock()
	u := s.ws.users[user]
	ch := s.ws.channels[channelID]
	if u == nil || ch == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: slash command: unknown user %q or channel %q", user, channelID)
	}
	if ch.IsPrivate && !ch.members[user] {
		// Slack's client shows a private channel to its members only: no
		// one else can type in it.
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: slash command: %s is not in private channel %s and cannot type in it", user, channelID)
	}
	channelName := ch.Name
	if ch.IsIM {
		channelName = "directmessage"
	}
	trig := s.issueTriggerLocked(user)
	hookURL := s.responseURLLocked("commands", user, channelID, "", false)
	if typed {
		text = s.formatTypedLocked(text)
	}
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
		"response_url":          hookURL,
		"trigger_id":            trig,
	})
	if err != nil {
		return nil, fmt.Errorf("slacksim: slash command payload: %w", err)
	}
	rec := newRecord(Delivery{EnvelopeID: s.newEnvelopeID(), Type: TypeSlashCommands, TriggerID: trig,
		Payload: payload, AcceptsResponsePayload: true})
	rec.onAck = func(d Delivery) { s.applyCommandAck(user, channelID, d.AckPayload) }
	return rec, nil
}

// commandAck is a slash command ack payload: the command's immediate
// response, as the Node client's ack("text") or ack({text, blocks,
// response_type}) sends it.
type commandAck struct {
	Text         string          `json:"text"`
	Blocks       json.RawMessage `json:"blocks"`
	ResponseType string          `json:"response_type"`
}

// applyCommandAck does what Slack does with the payload of a slash
// command's ack: it shows the response to the user who typed the command
// (an Ephemeral), or with response_type "in_channel" posts it in the
// channel as the app. A response Slack would refuse (bad blocks, no text
// nor blocks, an unknown response_type) is recorded in BlockKitErrors and
// shown to no one.
func (s *Sim) applyCommandAck(user, channelID string, payload json.RawMessage) {
	if payload == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var a commandAck
	if err := json.Unmarshal(payload, &a); err != nil {
		s.recordBlockKitLocked(fmt.Errorf("slash command ack: payload is not a response: %w", err))
		return
	}
	var blocks json.RawMessage
	if raw := strings.TrimSpace(string(a.Blocks)); raw != "" && raw != "null" && raw != "[]" {
		if err := blockkit.CheckMessage([]byte(raw)); err != nil {
			s.recordBlockKitLocked(fmt.Errorf("slash command ack: invalid_blocks: %w", err))
			return
		}
		blocks = json.RawMessage(raw)
	}
	switch {
	case a.Text == "" && blocks == nil:
		s.recordBlockKitLocked(errors.New("slash command ack: the payload has neither text nor blocks"))
		return
	case len([]rune(a.Text)) > blockkit.MaxMessageText:
		s.recordBlockKitLocked(errors.New("slash command ack: msg_too_long"))
		return
	}
	ch := s.ws.channels[channelID]
	if ch == nil {
		return
	}
	switch a.ResponseType {
	case "", "ephemeral":
		s.ws.ephemerals[user] = append(s.ws.ephemerals[user], Ephemeral{Channel: channelID, User: user,
			TS: s.nextTSLocked(), Text: a.Text, Blocks: blocks})
	case "in_channel":
		m := &Message{TS: s.nextTSLocked(), User: s.opts.BotUserID, Text: a.Text, Blocks: blocks}
		ch.messages = append(ch.messages, m)
		ch.byTS[m.TS] = m
	default:
		s.recordBlockKitLocked(fmt.Errorf("slash command ack: unknown response_type %q", a.ResponseType))
		return
	}
	s.notifyLocked()
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

// emojiName is a reaction's name as Slack writes it: no colons, lowercase
// letters, digits and _ + - ', and an optional skin tone
// ("thumbsup::skin-tone-2").
var emojiName = regexp.MustCompile(`^[a-z0-9_+'-]+(::skin-tone-[2-6])?$`)

// React has user add the reaction name (an emoji name without colons, e.g.
// "pushpin") to the message ts of channelID, as a person picking it in
// Slack's client does, and sends the app the reaction_added event Slack
// sends (scope reactions:read) when the app is a member of the channel,
// waiting for its ack like SendEvent. It returns a nil Delivery when no
// event goes to the app. The reaction itself is not kept: reacting twice
// sends the event twice.
func (s *Sim) React(ctx context.Context, user, channelID, ts, name string) (*Delivery, error) {
	name = strings.Trim(name, ":")
	if !emojiName.MatchString(name) {
		return nil, fmt.Errorf("slacksim: react: invalid_name: %q is not an emoji name such as pushpin", name)
	}
	s.mu.Lock()
	ch := s.ws.channels[channelID]
	if ch == nil || s.ws.users[user] == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: react: unknown user %q or channel %q", user, channelID)
	}
	if (ch.IsPrivate || ch.IsIM) && !ch.members[user] {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: react: %s is not in %s and cannot see its messages", user, channelID)
	}
	m := ch.byTS[ts]
	if m == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: react: message_not_found: no message %s in %s", ts, channelID)
	}
	// One reaction per user and emoji, as in Slack: reacting again with
	// the same emoji adds nothing and sends no event (Slack's client
	// would take it away; reactions.add answers already_reacted).
	i := slices.IndexFunc(m.Reactions, func(r Reaction) bool { return r.Name == name })
	if i < 0 {
		m.Reactions = append(m.Reactions, Reaction{Name: name})
		i = len(m.Reactions) - 1
	}
	if slices.Contains(m.Reactions[i].Users, user) {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: react: already_reacted: %s reacted with :%s: already", user, name)
	}
	m.Reactions[i].Users = append(m.Reactions[i].Users, user)
	s.notifyLocked()
	author := m.User
	toApp := ch.members[s.opts.BotUserID]
	eventTS := s.nextTSLocked()
	s.mu.Unlock()
	if !toApp {
		return nil, nil
	}
	return s.SendEvent(ctx, map[string]any{
		"type": "reaction_added", "user": user, "reaction": name, "item_user": author,
		"item":     map[string]any{"type": "message", "channel": channelID, "ts": ts},
		"event_ts": eventTS,
	})
}
