package slacksim

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	validName   = regexp.MustCompile(`^[a-z0-9_-]+$`)
	punctuation = regexp.MustCompile(`^[-_]+$`)
)

// channelJSONLocked renders a channel as the conversations.* methods do. A
// private channel is is_channel and is_private, not is_group: Slack's
// conversation object sets is_group only on private channels made before
// March 2021 (IDs beginning with G), which the simulator does not make.
func (s *Sim) channelJSONLocked(ch *channel, withMembers bool) map[string]any {
	out := map[string]any{
		"id": ch.ID, "name": ch.Name, "name_normalized": ch.Name,
		"is_channel": !ch.IsIM, "is_group": false, "is_im": ch.IsIM, "is_mpim": false,
		"is_private": ch.IsPrivate, "is_archived": ch.IsArchived, "is_general": ch.Name == "general",
		"is_shared": false, "is_ext_shared": false, "is_org_shared": false,
		"created": ch.Created.Unix(), "creator": ch.Creator, "unlinked": 0,
		"is_member": ch.members[s.opts.BotUserID], "num_members": len(ch.Members),
		"topic":           map[string]any{"value": ch.Topic, "creator": ch.topicSetBy, "last_set": lastSet(ch)},
		"purpose":         map[string]any{"value": "", "creator": "", "last_set": 0},
		"context_team_id": s.opts.TeamID, "previous_names": []string{},
	}
	if ch.IsIM {
		out["user"] = ch.imUser
		delete(out, "name")
	}
	if withMembers {
		out["members"] = append([]string{}, ch.Members...)
	}
	return out
}

func lastSet(ch *channel) int64 {
	if ch.topicSetAt.IsZero() {
		return 0
	}
	return ch.topicSetAt.Unix()
}

// badChannelName is Slack's answer to a channel name it refuses, or nil.
func badChannelName(name string) response {
	switch {
	case name == "":
		return fail("invalid_name_required")
	case len([]rune(name)) > 80:
		return fail("invalid_name_maxlength")
	case !validName.MatchString(name):
		return fail("invalid_name_specials")
	case punctuation.MatchString(name):
		return fail("invalid_name_punctuation")
	}
	return nil
}

func (s *Sim) conversationsCreate(r *request) response {
	name := r.get("name")
	if bad := badChannelName(name); bad != nil {
		return bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.ws.byName[name]; taken {
		return fail("name_taken")
	}
	ch := s.createChannelLocked(name, r.bool("is_private"), s.opts.BotUserID)
	if s.opts.CreateLag > 0 {
		ch.visibleAt = time.Now().Add(s.opts.CreateLag)
	}
	s.notifyLocked()
	return ok(response{"channel": s.channelJSONLocked(ch, false)})
}

// conversationsRename renames a channel. As Slack documents it, only the
// channel's creator (or an admin, which the bot never is) may rename it:
// others get not_authorized; an archived channel is_archived.
func (s *Sim) conversationsRename(r *request) response {
	name := r.get("name")
	if bad := badChannelName(name); bad != nil {
		return bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case ch.IsIM:
		return fail("method_not_supported_for_channel_type")
	case ch.IsArchived:
		return fail("is_archived")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	case ch.Creator != s.opts.BotUserID:
		return fail("not_authorized")
	}
	if id, taken := s.ws.byName[name]; taken && id != ch.ID {
		return fail("name_taken")
	}
	delete(s.ws.byName, ch.Name)
	ch.Name = name
	s.ws.byName[name] = ch.ID
	s.notifyLocked()
	return ok(response{"channel": s.channelJSONLocked(ch, false)})
}

func (s *Sim) conversationsInvite(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil || ch.IsIM {
		if ch != nil {
			return fail("method_not_supported_for_channel_type")
		}
		return fail("channel_not_found")
	}
	if !ch.members[s.opts.BotUserID] {
		return fail("not_in_channel")
	}
	users := splitValues(r.get("users"))
	if len(users) == 0 {
		return fail("no_user")
	}
	force := r.bool("force")
	var errs []map[string]any
	var toAdd []string
	already := 0
	for _, u := range users {
		code := ""
		switch {
		case u == s.opts.BotUserID:
			code = "cant_invite_self"
		case s.ws.users[u] == nil:
			code = "user_not_found"
		case ch.members[u]:
			already++
			continue
		}
		if code != "" {
			errs = append(errs, map[string]any{"user": u, "ok": false, "error": code})
			continue
		}
		toAdd = append(toAdd, u)
	}
	if len(errs) > 0 && !force {
		return response{"ok": false, "error": errs[0]["error"], "errors": errs}
	}
	if len(toAdd) == 0 && len(errs) == 0 && already > 0 {
		return response{"ok": false, "error": "already_in_channel",
			"errors": []map[string]any{{"user": users[0], "ok": false, "error": "already_in_channel"}}}
	}
	for _, u := range toAdd {
		ch.addMember(u)
		// Slack sends the event on its own time, after the answer.
		s.sendMemberEvent(s.memberEventLocked(ch, u, s.opts.BotUserID, true), false)
	}
	s.notifyLocked()
	out := ok(response{"channel": s.channelJSONLocked(ch, false)})
	if len(errs) > 0 {
		out["errors"] = errs
	}
	return out
}

func (s *Sim) conversationsJoin(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case ch.IsIM || ch.IsPrivate:
		return fail("method_not_supported_for_channel_type")
	}
	out := ok(nil)
	if !ch.addMember(s.opts.BotUserID) {
		out["warning"] = "already_in_channel"
		out["response_metadata"] = map[string]any{"warnings": []string{"already_in_channel"}}
	}
	s.notifyLocked()
	out["channel"] = s.channelJSONLocked(ch, false)
	return out
}

func (s *Sim) conversationsSetTopic(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	}
	topic := r.get("topic")
	if len([]rune(topic)) > 250 {
		return fail("too_long")
	}
	ch.Topic = topic
	ch.topicSetBy = s.opts.BotUserID
	ch.topicSetAt = s.opts.Now()
	s.notifyLocked()
	return ok(response{"channel": s.channelJSONLocked(ch, false)})
}

func (s *Sim) conversationsInfo(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	return ok(response{"channel": s.channelJSONLocked(ch, false)})
}

// conversationsMembers answers a page of a channel's members: limit
// (Slack's default 100, at most 1000) from cursor; next_cursor is empty
// on the last page.
func (s *Sim) conversationsMembers(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	if ch == nil {
		return fail("channel_not_found")
	}
	from, valid := parseCursor(r.get("cursor"))
	if !valid || from > len(ch.Members) {
		return fail("invalid_cursor")
	}
	to := min(from+pageLimit(r, 100), len(ch.Members))
	next := ""
	if to < len(ch.Members) {
		next = cursor(to)
	}
	return ok(response{"members": append([]string{}, ch.Members[from:to]...),
		"response_metadata": map[string]any{"next_cursor": next}})
}

func (s *Sim) conversationsOpen(r *request) response {
	users := splitValues(r.get("users"))
	if len(users) != 1 {
		return fail("not_implemented")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws.users[users[0]] == nil {
		return fail("user_not_found")
	}
	ch := s.imLocked(users[0])
	s.notifyLocked()
	return ok(response{"channel": map[string]any{"id": ch.ID}})
}

// cursor encodes a list offset as an opaque pagination cursor.
func cursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func parseCursor(c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "offset:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	return n, err == nil && n >= 0
}

func pageLimit(r *request, def int) int {
	limit, err := strconv.Atoi(r.get("limit"))
	if err != nil || limit <= 0 {
		return def
	}
	return min(limit, 1000)
}

func (s *Sim) conversationsList(r *request) response {
	start, valid := parseCursor(r.get("cursor"))
	if !valid {
		return fail("invalid_cursor")
	}
	limit := pageLimit(r, 100)
	types := map[string]bool{}
	for _, t := range splitValues(r.get("types")) {
		types[t] = true
	}
	if len(types) == 0 {
		types["public_channel"] = true
	}
	excludeArchived := r.bool("exclude_archived")
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*channel
	for _, id := range s.ws.chanOrder {
		ch := s.ws.channels[id]
		kind := "public_channel"
		switch {
		case ch.IsIM:
			kind = "im"
		case ch.IsPrivate:
			kind = "private_channel"
		}
		if !types[kind] || !s.visibleLocked(ch) || excludeArchived && ch.IsArchived {
			continue
		}
		match = append(match, ch)
	}
	list := []map[string]any{}
	end := min(start+limit, len(match))
	for i := start; i < end; i++ {
		list = append(list, s.channelJSONLocked(match[i], false))
	}
	next := ""
	if end < len(match) {
		next = cursor(end)
	}
	return ok(response{"channels": list, "response_metadata": map[string]any{"next_cursor": next}})
}

// conversationsHistory answers conversations.history: the channel's
// messages newest first, thread replies left out unless broadcast to the
// channel, in the window of oldest, latest and inclusive, limit (default
// 100, at most 999) at a time, metadata only with include_all_metadata.
func (s *Sim) conversationsHistory(r *request) response {
	tl, code := readTimeline(r, 100, 999)
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
	var match []*Message
	for i := len(ch.messages) - 1; i >= 0; i-- { // newest first
		m := ch.messages[i]
		if m.ThreadTS != "" && m.ThreadTS != m.TS && !m.Broadcast {
			continue
		}
		if tl.within(m.TS) {
			match = append(match, m)
		}
	}
	msgs, next := s.pageLocked(tl, match)
	return ok(response{"messages": msgs, "has_more": next != "", "pin_count": len(ch.pins),
		"response_metadata": map[string]any{"next_cursor": next}})
}

// tsLess compares two message timestamps ("sec.micro") numerically.
func tsLess(a, b string) bool {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	x, _ := strconv.ParseInt(as, 10, 64)
	y, _ := strconv.ParseInt(bs, 10, 64)
	if x != y {
		return x < y
	}
	xf, _ := strconv.ParseInt((af + "000000")[:6], 10, 64)
	yf, _ := strconv.ParseInt((bf + "000000")[:6], 10, 64)
	return xf < yf
}

// conversationsArchive archives a channel: the bot must be a member; an
// archived channel refuses posts with is_archived.
func (s *Sim) conversationsArchive(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelLocked(r.get("channel"))
	switch {
	case ch == nil:
		return fail("channel_not_found")
	case ch.IsIM:
		return fail("method_not_supported_for_channel_type")
	case ch.IsArchived:
		return fail("already_archived")
	case !ch.members[s.opts.BotUserID]:
		return fail("not_in_channel")
	case ch.Name == "general":
		return fail("cant_archive_general")
	}
	ch.IsArchived = true
	s.notifyLocked()
	return ok(nil)
}
