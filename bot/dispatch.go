package bot

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// handleEvent is called for each event of a socketmode client, in order
// per client; the clients of the bot's connections call it concurrently.
// Each envelope is received on its own goroutine (receive), so that one
// envelope waiting for the database never holds up the next.
func (b *Bot) handleEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.log.Info("connecting to Slack over Socket Mode")
	case socketmode.EventTypeConnected:
		b.connectedOnce.Do(func() { close(b.connectedCh) })
		b.log.Info("connected to Slack")
	case socketmode.EventTypeConnectionError:
		b.log.Warn("socket mode connection error", "err", evt.Data)
	case socketmode.EventTypeDisconnect:
		b.log.Info("Slack asked us to reconnect")
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		b.receive(ctx, client, evt)
	}
}

// receive takes an envelope off its connection's event loop and hands it
// to the recorder (intake.go), which records it in the inbox, then
// acknowledges it, then has it handled: an acknowledged envelope is never
// lost, and one Slack delivers again is handled once. Reading the payload
// into the work it asks for is done here, without waiting for anything;
// so is an envelope with nothing to do but ack.
func (b *Bot) receive(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	req := evt.Request
	if req == nil {
		return
	}
	env := inbox.Envelope{EnvelopeID: req.EnvelopeID, Type: req.Type, Payload: req.Payload, ReceivedAt: b.clock.Now()}
	var response any
	var work *handling
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		env.Key = deliveryKey("cmd", data.TriggerID, req)
		work = b.commandWork(env.Key, data)
	case slack.InteractionCallback:
		env.Key = deliveryKey("int", data.TriggerID, req)
		response, work = b.interactionWork(env.Key, data)
	case slackevents.EventsAPIEvent:
		env.Key = deliveryKey("evt", "", req)
		work = b.eventWork(data)
	}
	if work == nil {
		// Nothing to do (a form's errors, a payload slack-go could not
		// read): the ack is the whole answer.
		b.ack(client, req, response)
		return
	}
	b.submit(ctx, &arrival{client: client, evt: evt, env: env, response: response, work: work})
}

// handling is the work an envelope asks for, and whom to answer if it
// fails.
type handling struct {
	// user, channel and responseURL say whom to tell if the work fails.
	user, channel, responseURL string
	run                        func(context.Context)
}

// commandWork is the handling of a slash command.
func (b *Bot) commandWork(key string, cmd slack.SlashCommand) *handling {
	return &handling{user: cmd.UserID, channel: cmd.ChannelID, responseURL: cmd.ResponseURL,
		run: func(ctx context.Context) { b.onSlashCommand(ctx, key, cmd) }}
}

// eventWork is the handling of an Events API event.
func (b *Bot) eventWork(ev slackevents.EventsAPIEvent) *handling {
	return &handling{run: func(ctx context.Context) { b.onEvent(ctx, ev) }}
}

// interactionWork is the handling of a click or a submitted form, and the
// ack's payload (a form's errors). Only view submissions are checked
// before the ack, so that the ack can carry the form's errors; that check
// is pure. A nil work means there is nothing to do but ack.
func (b *Bot) interactionWork(key string, cb slack.InteractionCallback) (response any, work *handling) {
	h := &handling{user: cb.User.ID, channel: cb.Channel.ID, responseURL: cb.ResponseURL}
	switch cb.Type {
	case slack.InteractionTypeViewSubmission:
		response, submit := b.onViewSubmission(cb)
		if submit == nil {
			return response, nil
		}
		h.run = func(ctx context.Context) { submit(ctx, key) }
		return response, h
	case slack.InteractionTypeBlockActions:
		h.run = func(ctx context.Context) { b.onBlockActions(ctx, cb) }
		return nil, h
	}
	return nil, nil
}

// unrecordedText is what a person is told when their command could not be
// recorded. It names no internal detail: those go to the log.
const unrecordedText = ":warning: sitrep could not record this: its database is unavailable. Nothing was done; try again in a minute."

// refuseUnrecorded answers an envelope that could not be recorded. A
// slash command's ack carries the answer; a form keeps its input and shows
// the answer on its first field; a click is acked and answered through its
// response_url. An event is not acked, so that Slack delivers it again.
func (b *Bot) refuseUnrecorded(ctx context.Context, client *socketmode.Client, req *socketmode.Request, data any) {
	switch d := data.(type) {
	case slack.SlashCommand:
		b.ack(client, req, map[string]string{"response_type": "ephemeral", "text": unrecordedText})
	case slack.InteractionCallback:
		if d.Type == slack.InteractionTypeViewSubmission {
			if block := firstInputBlock(d.View); block != "" {
				b.ack(client, req, slack.NewErrorsViewSubmissionResponse(map[string]string{block: unrecordedText}))
				return
			}
		}
		b.ack(client, req, nil)
		if d.User.ID == "" {
			return
		}
		ctx = withResponder(ctx, d.User.ID, d.Channel.ID, d.ResponseURL, b.clock.Now())
		b.reply(ctx, d.Channel.ID, d.User.ID, unrecordedText, nil)
	}
}

// firstInputBlock returns the block ID of a form's first input, or "".
func firstInputBlock(v slack.View) string {
	for _, bl := range v.Blocks.BlockSet {
		if in, ok := bl.(*slack.InputBlock); ok && in != nil && in.BlockID != "" {
			return in.BlockID
		}
	}
	return ""
}

// ackTimeout bounds how long an ack may wait for its connection's writer:
// Slack's limit is 3 s, so a later ack is worthless, and an ack must never
// block an event loop for good.
const ackTimeout = 3 * time.Second

// ack acknowledges an envelope, with payload when it is not nil, on the
// client (connection) it came from.
func (b *Bot) ack(client *socketmode.Client, req *socketmode.Request, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	b.ackCtx(ctx, client, req, payload)
}

// ackCtx is ack, waiting for the connection's writer until ctx ends.
func (b *Bot) ackCtx(ctx context.Context, client *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil {
		return
	}
	b.envelopes.Add(1)
	b.acked.note(req.EnvelopeID) // see recoverEnvelope
	if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		b.log.Error("acking envelope", "envelope", req.EnvelopeID, "err", err)
		return
	}
	b.acks.Add(1)
}

// deliveryKey identifies an envelope across redeliveries: by the trigger ID
// Slack gave the user's action when there is one, else by the envelope ID.
func deliveryKey(kind, triggerID string, req *socketmode.Request) string {
	if triggerID != "" {
		return kind + ":" + triggerID
	}
	if req != nil {
		var p struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(req.Payload, &p) == nil && p.EventID != "" {
			return kind + ":" + p.EventID
		}
		return kind + ":env:" + req.EnvelopeID
	}
	return ""
}

// onEvent handles an Events API event.
func (b *Bot) onEvent(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if b.onMemberEvent(ev.InnerEvent.Data) {
		return
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.ReactionAddedEvent:
		b.onReaction(ctx, e)
	case slackevents.ReactionAddedEvent:
		b.onReaction(ctx, &e)
	}
}

// onSlashCommand routes a slash command by name. Answers to the person go
// through the command's response_url.
func (b *Bot) onSlashCommand(ctx context.Context, key string, cmd slack.SlashCommand) {
	ctx = withResponder(ctx, cmd.UserID, cmd.ChannelID, cmd.ResponseURL, b.clock.Now())
	// Slack sends the text escaped, with mentions as markup: read it once
	// into sitrep's own text, without control, bidi or zero-width
	// characters; every echo escapes it once on the way out.
	cmd.Text = incident.CleanText(slacktext.Decode(cmd.Text))
	switch cmd.Command {
	case "/incident":
		if b.incidentCommandAllowed(ctx, cmd) {
			b.onIncidentCommand(ctx, key, cmd)
		}
	case "/change":
		b.onChangeCommand(ctx, cmd)
	case "/checklist":
		b.onChecklistCommand(ctx, key, cmd)
	case "/problem":
		b.onProblemCommand(ctx, cmd)
	case "/postmortem":
		b.onPostmortemCommand(ctx, cmd)
	default:
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID,
			"sitrep does not handle `"+escape(cmd.Command)+"` yet.", "/incident help")
	}
}

// onBlockActions handles button clicks. A click on a button this version
// does not know is answered, not dropped. Answers to the person go through
// the click's response_url.
func (b *Bot) onBlockActions(ctx context.Context, cb slack.InteractionCallback) {
	ctx = withResponder(ctx, cb.User.ID, cb.Channel.ID, cb.ResponseURL, b.clock.Now())
	for _, a := range cb.ActionCallback.BlockActions {
		if !b.buttonAllowed(ctx, cb, a) {
			continue
		}
		switch a.ActionID {
		case actionTakeCommand:
			b.onTakeCommand(ctx, cb, a)
		case actionUpdateStatus, actionAddNote:
			b.onHeaderForm(ctx, cb, a)
		case actionSuspect, actionUnrelated:
			b.onChangeVerdict(ctx, cb, a)
		case actionRestoreNow, actionExtend:
			b.onClockButton(ctx, cb, a)
		case actionDiagnostic:
			b.onDiagnostic(ctx, cb, a)
		case actionSkipStep:
			b.onSkipButton(ctx, cb, a)
		case actionCost, actionLinkProblem:
			b.onRecordButton(ctx, cb, a)
		case actionPMAddEntry, actionPMEditEntry, actionPMRaise, actionPMAddIssue, actionPMAddAction, actionPMNext, actionPMDone:
			b.onPMButton(ctx, cb, a)
		case actionAlertDeclare, actionAlertAttach, actionAlertDismiss:
			b.onAlertButton(ctx, cb, a)
		default:
			if strings.HasPrefix(a.ActionID, actionStepsPrefix) {
				b.onChecklistSteps(ctx, cb, a)
				continue
			}
			b.log.Info("button not handled by this version", "action_id", a.ActionID)
			if cb.Channel.ID != "" {
				b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button is not handled by this version of sitrep.", "/incident help")
			}
		}
	}
}

// onViewSubmission checks a submitted form. It returns the ack payload (the
// form's errors, or nil to close it) and the work to do once acked, which
// first asks the permission model (guardForm).
func (b *Bot) onViewSubmission(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	response, work := b.checkForm(cb)
	return response, b.guardForm(cb, work)
}

// checkForm checks a submitted form by its callback ID.
func (b *Bot) checkForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	switch cb.View.CallbackID {
	case callbackOpenIncident:
		req, problems := openRequestFromView(cb)
		if len(problems) > 0 {
			return slack.NewErrorsViewSubmissionResponse(problems), nil
		}
		return nil, func(ctx context.Context, key string) {
			req.RequestKey = key
			b.openIncident(ctx, req)
		}
	case callbackStatus:
		return b.onStatusForm(cb)
	case callbackNote:
		return b.onNoteForm(cb)
	case callbackChange:
		return b.onChangeForm(cb)
	case callbackExtend:
		return b.onExtendForm(cb)
	case callbackSkip:
		return b.onSkipForm(cb)
	case callbackCost:
		return b.onCostForm(cb)
	case callbackLink:
		return b.onLinkForm(cb)
	case callbackPMEntry:
		return b.onPMEntryForm(cb)
	case callbackPMIssue:
		return b.onPMIssueForm(cb)
	case callbackPMAction:
		return b.onPMActionForm(cb)
	case callbackAlertDeclare, callbackAlertAttach, callbackAlertDismiss:
		return b.onAlertForm(cb)
	}
	b.log.Warn("form not handled by this version", "callback_id", cb.View.CallbackID)
	return nil, nil
}
