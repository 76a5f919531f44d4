package slacksim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sitrep/sitrep/internal/blockkit"
)

// messageJSONLocked renders a message as Slack's APIs return it.
func (s *Sim) messageJSONLocked(m *Message) map[string]any {
	out := map[string]any{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "team": s.opts.TeamID}
	if m.User == s.opts.BotUserID {
		out["bot_id"] = s.opts.BotID
		out["app_id"] = s.opts.AppID
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = json.RawMessage(slices.Clone(m.Blocks))
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Broadcast {
		out["subtype"] = "thread_broadcast"
	}
	if m.Edited {
		out["edited"] = map[string]any{"user": m.User, "ts": m.TS}
	}
	if len(m.Reactions) > 0 {
		reactions := make([]map[string]any, len(m.Reactions))
		for i, r := range m.Reactions {
			reactions[i] = map[string]any{"name": r.Name, "users": slices.Clone(r.Users), "count": len(r.Users)}
		}
		out["reactions"] = reactions
	}
	if len(m.Files) > 0 {
		files := make([]map[string]any, len(m.Files))
		for i, f := range m.Files {
			files[i] = s.fileJSONLocked(f)
		}
		out["files"] = files
		out["upload"] = true
	}
	return out
}

// messageBody reads text and blocks from a chat.* call and checks them.
// It returns Slack's error code, or "".
func (s *Sim) messageBody(r *request) (text string, blocks json.RawMessage, hasBlocks bool, code string) {
	text = r.get("text")
	if len([]rune(text)) > blockkit.MaxMessageText {
		return "", nil, false, "msg_too_long"
	}
	if !r.has("blocks") {
		return text, nil, false, ""
	}
	raw := strings.TrimSpace(r.get("blocks"))
	if raw == "" {
		return text, nil, true, ""
	}
	var probe []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		s.mu.Lock()
		s.recordBlockKitLocked(fmt.Errorf("%s: invalid_blocks_format: %w", r.method, err))
		s.mu.Unlock()
		return "", nil, false, "invalid_blocks_format"
	}
	if err := blockkit.CheckMessage([]byte(raw)); err != nil {
		s.mu.Lock()
		s.recordBlockKitLocked(fmt.Errorf("%s: invalid_blocks: %w", r.method, err))
		s.mu.Unlock()
		return "", nil, false, "invalid_blocks"
	}
	if len(probe) == 0 {
		return text, nil, true, ""
	}
	return text, json.RawMessage(raw), true, ""
}

// postTargetLocked resolves chat.postMessage's channel: an ID, a name, or
// a user ID (the bot's direct message with them).
func (s *Sim) postTargetLocked(ref string) *channel {
	if ch := s.channelLocked(ref); ch != nil {
		return ch
	}
	if s.ws.users[ref] != nil && ref != s.opts.BotUserID {
		return s.imLocked(ref)
	}
	return nil
}

// postBody reads the text and blocks of a message to post, or returns the
// error Slack gives when they are malformed or there is nothing to post.
func (s *Sim) postBody(r *request) (string, json.RawMessage, response) {
	text, blocks, _, code := s.messageBody(r)
	if code != "" {
		return "", nil, blockError(code)
	}
	if text == "" && len(blocks) == 0 && r.get("attachments") == "" {
		return "", nil, fail("no_text")
	}
	return text, blocks, nil
}

// postableLocked finds the channel the bot posts to (in the thread of
// threadTS when set), or Slack's refusal: channel_not_found, is_archived,
// not_in_channel, thread_not_found. writePublic says the call is one that
// chat:write.public lets into a public channel the bot has not joined
// (chat.postMessage; never a file share).
func (s *Sim) postableLocked(target, threadTS string, writePublic bool) (*channel, response) {
	ch := s.postTargetLocked(target)
	public := ch != nil && !ch.IsPrivate && !ch.IsIM
	switch {
	case ch == nil:
		return nil, fail("channel_not_found")
	case ch.IsArchived:
		return nil, fail("is_archived")
	case !ch.members[s.opts.BotUserID] && !(writePublic && public && !s.opts.NoWritePublic):
		return nil, fail("not_in_channel")
	case threadTS != "" && ch.byTS[threadTS] == nil:
		return nil, fail("thread_not_found")
	}
	return ch, nil
}

func (s *Sim) chatPostMessage(r *request) response {
	text, blocks, bad := s.postBody(r)
	if bad != nil {
		return bad
	}
	md, code := messageMetadata(r)
	if code != "" {
		return fail(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	threadTS := r.get("thread_ts")
	ch, refused := s.postableLocked(r.get("channel"), threadTS, true)
	if refused != nil {
		return refused
	}
	m := &Message{TS: s.nextTSLocked(), ThreadTS: threadTS, User: s.opts.BotUserID, Text: text, Blocks: blocks,
		Metadata: md, Broadcast: threadTS != "" && r.bool("reply_broadcast")}
	ch.messages = append(ch.messages, m)
	ch.byTS[m.TS] = m
	s.notifyLocked()
	return ok(response{"channel": ch.ID, "ts": m.TS, "message": s.withMetadataLocked(m, true)})
}

// blockError answers a Block Kit rejection the way Slack does, with the
// reason in response_metadata.messages.
func blockError(code string) response {
	out := fail(code)
	if code == "invalid_blocks" || code == "invalid_blocks_format" {
		out["response_metadata"] = map[string]any{"messages": []string{"[ERROR] " + code + " (see BlockKitErrors)"}}
	}
	return out
}

func (s *Sim) chatUpdate(r *request) response {
	text, blocks, hasBlocks, code := s.messageBody(r)
	if code != "" {
		return blockError(code)
	}
	md, code := messageMetadata(r)
	if code != "" {
		return fail(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	m := ch.byTS[r.get("ts")]
	switch {
	case m == nil:
		return fail("message_not_found")
	case m.User != s.opts.BotUserID:
		return fail("cant_update_message")
	case !r.has("text") && !hasBlocks && r.get("attachments") == "":
		return fail("no_text")
	}
	if r.has("text") {
		m.Text = text
	}
	if hasBlocks {
		m.Blocks = blocks
	}
	if md != nil {
		m.Metadata = md
	}
	m.Edited = true
	m.UpdatedCount++
	s.notifyLocked()
	return ok(response{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": s.withMetadataLocked(m, true)})
}

func (s *Sim) chatPostEphemeral(r *request) response {
	text, blocks, bad := s.postBody(r)
	if bad != nil {
		return bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	user := r.get("user")
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case s.ws.users[user] == nil:
		return fail("user_not_found")
	case ch.IsArchived:
		return fail("is_archived")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	case !ch.members[user]:
		return fail("user_not_in_channel")
	}
	ts := s.nextTSLocked()
	s.ws.ephemerals[user] = append(s.ws.ephemerals[user], Ephemeral{Channel: ch.ID, User: user, TS: ts, Text: text, Blocks: blocks})
	s.notifyLocked()
	return ok(response{"message_ts": ts})
}

func (s *Sim) chatGetPermalink(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	ts := r.get("message_ts")
	if ch.byTS[ts] == nil {
		return fail("message_not_found")
	}
	return ok(response{"channel": ch.ID, "permalink": fmt.Sprintf("https://%s.slack.com/archives/%s/p%s",
		s.opts.TeamDomain, ch.ID, strings.ReplaceAll(ts, ".", ""))})
}

func (s *Sim) pinsAdd(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	ts := r.get("timestamp")
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case ts == "":
		return fail("no_item_specified")
	case ch.IsArchived:
		return fail("is_archived")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	case ch.byTS[ts] == nil:
		return fail("message_not_found")
	case slices.Contains(ch.pins, ts):
		return fail("already_pinned")
	}
	ch.pins = append(ch.pins, ts)
	s.notifyLocked()
	return ok(nil)
}

func (s *Sim) pinsRemove(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	ts := r.get("timestamp")
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case ch.IsArchived:
		return fail("is_archived")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	case !slices.Contains(ch.pins, ts):
		return fail("no_pin")
	}
	ch.pins = slices.DeleteFunc(ch.pins, func(p string) bool { return p == ts })
	s.notifyLocked()
	return ok(nil)
}

func (s *Sim) pinsList(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	items := []map[string]any{}
	for _, ts := range ch.pins {
		if m := ch.byTS[ts]; m != nil {
			items = append(items, map[string]any{"type": "message", "channel": ch.ID,
				"created": s.opts.Now().Unix(), "created_by": s.opts.BotUserID, "message": s.messageJSONLocked(m)})
		}
	}
	return ok(response{"items": items})
}
