package slacksim

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/sitrep/sitrep/internal/blockkit"
)

// hook is a response_url handed out with a slash command or a block action.
// Slack accepts up to DefaultHookUses answers on one within
// DefaultHookLifetime, from anywhere: it needs no membership, so it is the
// one way to answer a command typed in a channel or direct message the bot
// cannot post in.
type hook struct {
	user, channel string
	issuedAt      time.Time
	uses          int
	// messageTS is the message a block action came from ("" for a
	// command), ephemeral says whether it was an ephemeral message.
	messageTS string
	ephemeral bool
}

// responseURLLocked mints a response_url for user in channel: kind is
// "commands" or "actions". Call with s.mu held.
func (s *Sim) responseURLLocked(kind, user, channel, messageTS string, ephemeral bool) string {
	id := randomHex(12)
	s.ws.hooks[id] = &hook{user: user, channel: channel, issuedAt: s.opts.Now(), messageTS: messageTS, ephemeral: ephemeral}
	return s.baseURL + "/" + kind + "/" + s.opts.TeamID + "/" + id
}

// hookMessage is what an app posts to a response_url.
type hookMessage struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// serveHook answers a POST to a response_url: an ephemeral message to the
// user who acted (the default), a message in the channel for
// response_type "in_channel", or a change to the message the action came
// from (replace_original, delete_original). A URL used DefaultHookUses
// times or older than DefaultHookLifetime answers 404.
func (s *Sim) serveHook(w http.ResponseWriter, hr *http.Request) {
	id := hr.PathValue("id")
	s.api.count("response_url")
	ctype, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	var msg hookMessage
	if err == nil && ctype != "application/json" {
		err = errors.New("not JSON")
	}
	if err == nil {
		err = json.Unmarshal(body, &msg)
	}
	if err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	blocks := msg.Blocks
	if len(blocks) > 0 && string(blocks) != "null" {
		if err := blockkit.CheckMessage(blocks); err != nil {
			s.mu.Lock()
			s.recordBlockKitLocked(errors.New("response_url: invalid_blocks: " + err.Error()))
			s.mu.Unlock()
			http.Error(w, "invalid_blocks", http.StatusBadRequest)
			return
		}
	} else {
		blocks = nil
	}
	if len([]rune(msg.Text)) > blockkit.MaxMessageText {
		http.Error(w, "msg_too_long", http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.ws.hooks[id]
	switch {
	case h == nil:
		http.Error(w, "no_active_hooks", http.StatusNotFound)
		return
	case s.opts.Now().Sub(h.issuedAt) > DefaultHookLifetime:
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	case h.uses >= DefaultHookUses:
		http.Error(w, "used_url", http.StatusNotFound)
		return
	case msg.Text == "" && len(blocks) == 0 && !msg.DeleteOriginal:
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	h.uses++
	ch := s.ws.channels[h.channel]
	switch {
	case msg.DeleteOriginal || msg.ReplaceOriginal:
		if !s.changeOriginalLocked(h, msg, blocks) {
			http.Error(w, "message_not_found", http.StatusNotFound)
			return
		}
	case msg.ResponseType == "in_channel" && ch != nil:
		m := &Message{TS: s.nextTSLocked(), ThreadTS: msg.ThreadTS, User: s.opts.BotUserID, Text: msg.Text, Blocks: slices.Clone(blocks)}
		ch.messages = append(ch.messages, m)
		ch.byTS[m.TS] = m
	default:
		s.ws.ephemerals[h.user] = append(s.ws.ephemerals[h.user], Ephemeral{Channel: h.channel, User: h.user,
			TS: s.nextTSLocked(), Text: msg.Text, Blocks: slices.Clone(blocks), ViaResponseURL: true})
	}
	s.notifyLocked()
	writeJSON(w, http.StatusOK, response{"ok": true})
}

// changeOriginalLocked replaces or deletes the message a block action came
// from, reporting whether there was one.
func (s *Sim) changeOriginalLocked(h *hook, msg hookMessage, blocks json.RawMessage) bool {
	if h.messageTS == "" {
		return false
	}
	if h.ephemeral {
		list := s.ws.ephemerals[h.user]
		for i := range list {
			if list[i].Channel != h.channel || list[i].TS != h.messageTS {
				continue
			}
			if msg.DeleteOriginal {
				s.ws.ephemerals[h.user] = slices.Delete(list, i, i+1)
			} else {
				list[i].Text, list[i].Blocks = msg.Text, slices.Clone(blocks)
			}
			return true
		}
		return false
	}
	ch := s.ws.channels[h.channel]
	if ch == nil || ch.byTS[h.messageTS] == nil {
		return false
	}
	m := ch.byTS[h.messageTS]
	if msg.DeleteOriginal {
		delete(ch.byTS, m.TS)
		ch.messages = slices.DeleteFunc(ch.messages, func(x *Message) bool { return x == m })
		return true
	}
	m.Text, m.Blocks, m.Edited = msg.Text, slices.Clone(blocks), true
	m.UpdatedCount++
	return true
}
