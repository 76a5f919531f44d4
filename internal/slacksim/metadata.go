package slacksim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Message metadata, as Slack documents it (docs.slack.dev/messaging/message-metadata):
//
//   - chat.postMessage and chat.update take "metadata", a JSON object
//     {"event_type": "…", "event_payload": {…}}: an object in a JSON body, or
//     a form field holding that object as JSON (as slack-go's
//     MsgOptionMetadata sends it). An empty value means none.
//   - Anything that is not a JSON object is refused with
//     invalid_metadata_format; an object without a non-empty string
//     event_type, or whose event_payload is not an object, with
//     invalid_metadata_schema. Slack's naming guidelines for event_type
//     (start with a letter; a-z, 0-9 and _) are, in Slack's words, not
//     enforced programmatically, and the simulator does not enforce them
//     either.
//   - chat.postMessage and chat.update echo the metadata in the message
//     they return; chat.update without metadata keeps the message's.
//   - conversations.history and conversations.replies return it on a
//     message only when called with include_all_metadata=true.

// Metadata is what an app attached to a message with chat.postMessage or
// chat.update.
type Metadata struct {
	// EventType is the event_type, e.g. "sitrep_header".
	EventType string
	// EventPayload is the event_payload, a JSON object.
	EventPayload json.RawMessage
}

// clone returns a copy of md that shares no memory with it.
func (md *Metadata) clone() *Metadata {
	if md == nil {
		return nil
	}
	return &Metadata{EventType: md.EventType, EventPayload: bytes.Clone(md.EventPayload)}
}

// json renders md as Slack's APIs return it.
func (md *Metadata) json() map[string]any {
	return map[string]any{"event_type": md.EventType, "event_payload": json.RawMessage(bytes.Clone(md.EventPayload))}
}

// messageMetadata reads the metadata argument of a chat.* call: nil if
// there is none, else the metadata or Slack's error code.
func messageMetadata(r *request) (*Metadata, string) {
	if !r.has("metadata") {
		return nil, ""
	}
	return parseMetadata(r.get("metadata"))
}

// parseMetadata checks metadata as Slack does and returns it, or Slack's
// error code. An empty value is no metadata.
func parseMetadata(raw string) (*Metadata, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, ""
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		return nil, "invalid_metadata_format"
	}
	var eventType string
	if err := json.Unmarshal(obj["event_type"], &eventType); err != nil || strings.TrimSpace(eventType) == "" {
		return nil, "invalid_metadata_schema"
	}
	var payload map[string]json.RawMessage
	if err := json.Unmarshal(obj["event_payload"], &payload); err != nil || payload == nil {
		return nil, "invalid_metadata_schema"
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, obj["event_payload"]); err != nil {
		return nil, "invalid_metadata_format"
	}
	return &Metadata{EventType: eventType, EventPayload: compact.Bytes()}, ""
}

// withMetadataLocked renders m as Slack's APIs return it, with its
// metadata when include is set.
func (s *Sim) withMetadataLocked(m *Message, include bool) map[string]any {
	out := s.messageJSONLocked(m)
	if include && m.Metadata != nil {
		out["metadata"] = m.Metadata.json()
	}
	return out
}

// timeline is the window and page of a conversations.history or
// conversations.replies call.
type timeline struct {
	oldest, latest string // "" means unbounded
	inclusive      bool
	limit          int
	start          int // offset from the cursor
	metadata       bool
}

// readTimeline reads the window and paging arguments Slack documents for
// conversations.history and .replies: oldest (default 0), latest (default
// now), inclusive (whether messages at exactly oldest or latest count;
// default false), limit (default def, at most max) and cursor. It returns
// Slack's error code for a malformed one.
func readTimeline(r *request, def, max int) (timeline, string) {
	start, valid := parseCursor(r.get("cursor"))
	if !valid {
		return timeline{}, "invalid_cursor"
	}
	tl := timeline{oldest: r.get("oldest"), latest: r.get("latest"), inclusive: r.bool("inclusive"),
		limit: def, start: start, metadata: r.bool("include_all_metadata")}
	if tl.oldest != "" && !validTS(tl.oldest) {
		return timeline{}, "invalid_ts_oldest"
	}
	if tl.latest != "" && !validTS(tl.latest) {
		return timeline{}, "invalid_ts_latest"
	}
	if n, err := strconv.Atoi(r.get("limit")); err == nil && n > 0 {
		tl.limit = min(n, max)
	}
	return tl, ""
}

// validTS reports whether ts is a Unix timestamp as Slack takes it:
// seconds, optionally with a fraction ("1700000000", "1700000000.000100").
func validTS(ts string) bool {
	sec, frac, _ := strings.Cut(ts, ".")
	if sec == "" {
		return false
	}
	for _, part := range []string{sec, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// within reports whether ts falls in tl's window.
func (tl timeline) within(ts string) bool {
	if tl.oldest != "" && (tsLess(ts, tl.oldest) || !tl.inclusive && !tsLess(tl.oldest, ts)) {
		return false
	}
	if tl.latest != "" && (tsLess(tl.latest, ts) || !tl.inclusive && !tsLess(ts, tl.latest)) {
		return false
	}
	return true
}

// page renders tl's page of msgs (already in the order Slack returns them)
// and the cursor of the next page ("" after the last).
func (s *Sim) pageLocked(tl timeline, msgs []*Message) ([]map[string]any, string) {
	out := []map[string]any{}
	end := min(tl.start+tl.limit, len(msgs))
	for i := tl.start; i < end; i++ {
		out = append(out, s.withMetadataLocked(msgs[i], tl.metadata))
	}
	if end < len(msgs) {
		return out, cursor(end)
	}
	return out, ""
}

// conversationsReplies answers conversations.replies: the thread of ts,
// its parent first and then the replies oldest first, in tl's window.
// Errors: channel_not_found, not_in_channel, thread_not_found (ts missing
// or not a message of the channel), invalid_cursor, invalid_ts_oldest,
// invalid_ts_latest.
func (s *Sim) conversationsReplies(r *request) response {
	tl, code := readTimeline(r, 1000, 1000)
	if code != "" {
		return fail(code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	}
	parent := ch.byTS[r.get("ts")]
	if parent == nil {
		return fail("thread_not_found")
	}
	if parent.ThreadTS != "" && parent.ThreadTS != parent.TS && ch.byTS[parent.ThreadTS] != nil {
		parent = ch.byTS[parent.ThreadTS]
	}
	var match []*Message
	for _, m := range ch.messages { // oldest first
		if (m == parent || m.ThreadTS == parent.TS) && tl.within(m.TS) {
			match = append(match, m)
		}
	}
	msgs, next := s.pageLocked(tl, match)
	return ok(response{"messages": msgs, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}
