package bot

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// What a person sees when sitrep failed to handle their command, click or
// form: the detail is in the log, never in Slack.
const (
	failedCommandText = "sitrep failed to handle this command; it has been logged. Please try again."
	failedActionText  = "sitrep failed to handle this action; it has been logged. Please try again."
	failedFormText    = "sitrep failed to handle this form; it has been logged. Please try again."
)

// ackLedgerSize bounds how many envelope IDs the ack ledger remembers: an
// envelope is forgotten once its event is handled, so it holds about as
// many as are being handled at once; the bound only guards against an ack
// that comes after its event was handled.
const ackLedgerSize = 4096

// ackLedger remembers which envelopes were acked (or had an ack attempted),
// so that the recover of a handler that panicked acks only an envelope that
// was not: Slack takes one ack per envelope.
type ackLedger struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	order []string
}

// note records that envelope id was acked.
func (l *ackLedger) note(id string) {
	if id == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]struct{}{}
	}
	if _, ok := l.seen[id]; ok {
		return
	}
	if len(l.order) >= ackLedgerSize {
		delete(l.seen, l.order[0])
		l.order = l.order[1:]
	}
	l.seen[id] = struct{}{}
	l.order = append(l.order, id)
}

// take reports whether envelope id was acked and forgets it.
func (l *ackLedger) take(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.seen[id]
	if ok {
		delete(l.seen, id)
		for i, x := range l.order {
			if x == id {
				l.order = append(l.order[:i], l.order[i+1:]...)
				break
			}
		}
	}
	return ok
}

// recoverEnvelope is deferred around the handling of each Socket Mode
// event, on the event loop of its connection. A panic there would end the
// process and every envelope in flight with it; instead it is logged with
// the envelope's type and ID (never its payload, which may hold tokens and
// people's words), the envelope is acked if it was not yet (a slash
// command's ack tells the person it failed; a form's ack shows it as the
// form's error), and the person is answered where Slack gave a way to.
func (b *Bot) recoverEnvelope(client *socketmode.Client, evt socketmode.Event) {
	p := recover()
	var id string
	if evt.Request != nil {
		id = evt.Request.EnvelopeID
	}
	acked := b.acked.take(id)
	if p == nil {
		return
	}
	b.panics.Add(1)
	b.log.Error("handling a Socket Mode envelope panicked; sitrep goes on",
		"envelope_type", string(evt.Type), "envelope", id, "acked", acked,
		"panic", p, "stack", string(debug.Stack()))
	answered := false
	if !acked && id != "" && client != nil {
		var payload any
		payload, answered = failureAck(evt)
		b.ackAfterPanic(client, evt.Request, payload)
	}
	if !answered {
		b.answerPanicked(evt)
	}
}

// failureAck is the ack payload for evt after its handler failed, and
// whether the payload itself tells the person: a slash command's ack text,
// or a form's error on its first input. Other envelopes are acked plainly.
func failureAck(evt socketmode.Event) (any, bool) {
	if evt.Request == nil || !evt.Request.AcceptsResponsePayload {
		return nil, false
	}
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		return map[string]string{"text": failedCommandText}, true
	case slack.InteractionCallback:
		if data.Type != slack.InteractionTypeViewSubmission {
			return nil, false
		}
		if block := firstInputBlock(data.View); block != "" {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{block: failedFormText}), true
		}
	}
	return nil, false
}

// ackAfterPanic acks req on client with payload (nil: a plain ack).
func (b *Bot) ackAfterPanic(client *socketmode.Client, req *socketmode.Request, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		b.log.Error("acking an envelope after its handler panicked", "envelope", req.EnvelopeID, "err", err)
		return
	}
	b.acks.Add(1)
}

// answerPanicked tells the person behind evt, if any, that sitrep failed to
// handle it: through the response_url Slack gave, else privately in the
// channel, else in a direct message (see reply). It runs in the background:
// the event loop must not wait on Slack.
func (b *Bot) answerPanicked(evt socketmode.Event) {
	var user, channel, url, text string
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		user, channel, url, text = data.UserID, data.ChannelID, data.ResponseURL, failedCommandText
	case slack.InteractionCallback:
		user, channel, url, text = data.User.ID, data.Channel.ID, data.ResponseURL, failedActionText
		if channel == "" {
			channel = data.Container.ChannelID
		}
		if data.Type == slack.InteractionTypeViewSubmission {
			text = failedFormText
		}
	}
	if user == "" {
		return
	}
	done := b.startWork()
	go func() {
		defer done()
		defer func() {
			if p := recover(); p != nil {
				b.log.Error("answering a person after a panic panicked too", "panic", p)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ctx = withResponder(ctx, user, channel, url, b.clock.Now())
		b.reply(ctx, channel, user, ":warning: "+text, nil)
	}()
}

// badEnvelope handles a frame slack-go could not read as an envelope (a
// payload that does not decode, an unknown type). It reports whether evt
// was such a frame. If the frame names an envelope (of any type but hello
// and disconnect, which take no ack), it is acked, so Slack does not send
// the same unreadable envelope again; a slash command's ack tells the
// person it failed. The frame's content is not logged.
func (b *Bot) badEnvelope(client *socketmode.Client, evt socketmode.Event) bool {
	if evt.Type != socketmode.EventTypeErrorBadMessage {
		return false
	}
	bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
	if bad == nil {
		b.log.Warn("Slack sent a frame sitrep cannot read")
		return true
	}
	var frame struct {
		EnvelopeID             string `json:"envelope_id"`
		Type                   string `json:"type"`
		AcceptsResponsePayload bool   `json:"accepts_response_payload"`
	}
	// Field by field: one field of the wrong type must not hide the others.
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(bad.Message, &fields)
	_ = json.Unmarshal(fields["envelope_id"], &frame.EnvelopeID)
	_ = json.Unmarshal(fields["type"], &frame.Type)
	_ = json.Unmarshal(fields["accepts_response_payload"], &frame.AcceptsResponsePayload)
	b.log.Warn("Slack sent an envelope sitrep cannot read; acking and dropping it",
		"envelope_type", frame.Type, "envelope", frame.EnvelopeID, "err", bad.Cause)
	if frame.EnvelopeID == "" || client == nil {
		return true
	}
	if frame.Type == "hello" || frame.Type == "disconnect" {
		return true // frames Slack does not expect an ack for
	}
	var payload any
	if frame.Type == "slash_commands" && frame.AcceptsResponsePayload {
		payload = map[string]string{"text": failedCommandText}
	}
	b.acked.note(frame.EnvelopeID)
	b.ackAfterPanic(client, &socketmode.Request{EnvelopeID: frame.EnvelopeID}, payload)
	b.acked.take(frame.EnvelopeID)
	return true
}
