package bot

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacktext"
)

// handleEvent is called for each event of a socketmode client, in order
// per client; the clients of the bot's connections call it concurrently.
// It acks every envelope before any database or Slack call, then hands the
// work to a goroutine. Only view submissions are checked before the ack, so
// that the ack can carry the form's errors; that check is pure.
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
	case socketmode.EventTypeSlashCommand:
		done := b.startWork()
		b.ack(client, evt.Request, nil)
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			done()
			return
		}
		key := deliveryKey("cmd", cmd.TriggerID, evt.Request)
		b.spawn(ctx, done, func(ctx context.Context) {
			if b.firstDelivery(ctx, key) {
				b.onSlashCommand(ctx, key, cmd)
			}
		})
	case socketmode.EventTypeInteractive:
		done := b.startWork()
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			b.ack(client, evt.Request, nil)
			done()
			return
		}
		var response any
		var work func(context.Context, string)
		switch cb.Type {
		case slack.InteractionTypeViewSubmission:
			response, work = b.onViewSubmission(cb)
		case slack.InteractionTypeBlockActions:
			work = func(ctx context.Context, _ string) { b.onBlockActions(ctx, cb) }
		}
		b.ack(client, evt.Request, response)
		if work == nil {
			done()
			return
		}
		key := deliveryKey("int", cb.TriggerID, evt.Request)
		b.spawn(ctx, done, func(ctx context.Context) {
			if b.firstDelivery(ctx, key) {
				work(ctx, key)
			}
		})
	case socketmode.EventTypeEventsAPI:
		done := b.startWork()
		b.ack(client, evt.Request, nil)
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			done()
			return
		}
		key := deliveryKey("evt", "", evt.Request)
		b.spawn(ctx, done, func(ctx context.Context) {
			if b.firstDelivery(ctx, key) {
				b.onEvent(ctx, ev)
			}
		})
	}
}

// ackTimeout bounds how long an ack may wait for its connection's writer:
// Slack's limit is 3 s, so a later ack is worthless, and an ack must never
// block an event loop for good.
const ackTimeout = 3 * time.Second

// ack acknowledges an envelope, with payload when it is not nil, on the
// client (connection) it came from.
func (b *Bot) ack(client *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil {
		return
	}
	b.envelopes.Add(1)
	b.acked.note(req.EnvelopeID) // see recoverEnvelope
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
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
	// into sitrep's own text; every echo escapes it once on the way out.
	cmd.Text = slacktext.Decode(cmd.Text)
	switch cmd.Command {
	case "/incident":
		b.onIncidentCommand(ctx, key, cmd)
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
// form's errors, or nil to close it) and the work to do once acked.
func (b *Bot) onViewSubmission(cb slack.InteractionCallback) (any, func(context.Context, string)) {
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
	}
	b.log.Warn("form not handled by this version", "callback_id", cb.View.CallbackID)
	return nil, nil
}
