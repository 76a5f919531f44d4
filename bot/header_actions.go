package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// Header buttons that open forms, and the forms' callback IDs.
const (
	actionUpdateStatus = "incident_update_status"
	actionAddNote      = "incident_add_note"

	callbackStatus = "incident_status"
	callbackNote   = "incident_note"

	blockStatus  = "status"
	blockMessage = "message"
	blockNote    = "note"
)

// headerIncident finds the incident of a header button and checks the click
// came from its room and that it is still open; otherwise it answers the
// clicker and ok is false.
func (b *Bot) headerIncident(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) (inc *incident.Incident, ok bool) {
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err == nil {
		inc, err = b.incidents.Incident(ctx, id)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, b.couldNot("read the incident", err, "Nothing changed"), "/incident help")
			return nil, false
		}
	}
	if err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button belongs to an incident sitrep cannot find.", "/incident list")
		return nil, false
	}
	room, err := b.rooms.Room(ctx, inc.ID)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, b.couldNot("read the incident's room", err, "Nothing changed"), "/incident help")
		return nil, false
	}
	if err != nil || room.ChannelID != cb.Channel.ID {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "Use the buttons on the header in the incident's own channel.", "/incident help")
		return nil, false
	}
	if inc.Closed() {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, inc.Ref()+" is closed: it takes no more changes.", "/incident open <title>")
		return nil, false
	}
	return inc, true
}

// onHeaderForm opens the status or note form for a header button.
func (b *Bot) onHeaderForm(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	inc, ok := b.headerIncident(ctx, cb, a)
	if !ok {
		return
	}
	view := noteModal(inc)
	if a.ActionID == actionUpdateStatus {
		view = statusModal(inc)
	}
	b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, view, "Type the command instead.", "/incident help")
}

// formIncident reads the incident ID a form carries in its metadata.
func formIncident(cb slack.InteractionCallback) (int64, bool) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	return id, err == nil
}

// onStatusForm checks the status form; the work runs after the ack.
func (b *Bot) onStatusForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, ok := formIncident(cb)
	status, err := incident.ParseStatus(formField(cb, blockStatus).SelectedOption.Value)
	if !ok || err != nil {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockStatus: "Choose a status."}), nil
	}
	message := formField(cb, blockMessage).Value
	return nil, func(ctx context.Context, _ string) {
		channel := b.roomChannel(ctx, id)
		inc, entry, err := b.incidents.SetStatus(ctx, incident.StatusRequest{IncidentID: id, Actor: cb.User.ID, Status: status, Message: message})
		if errors.Is(err, incident.ErrNoChange) {
			b.replyUsage(ctx, channel, cb.User.ID, userProblem(err), usageStatus)
			return
		}
		if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: cb.User.ID}, err, "change the status", usageStatus) {
			return
		}
		b.showChange(ctx, incident.JobChanged, inc, entry)
	}
}

// onNoteForm checks the note form; the work runs after the ack.
func (b *Bot) onNoteForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, ok := formIncident(cb)
	text := formField(cb, blockNote).Value
	if !ok || len([]rune(text)) > incident.MaxNote {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockNote: fmt.Sprintf("Keep the note to %d characters.", incident.MaxNote)}), nil
	}
	return nil, func(ctx context.Context, _ string) {
		channel := b.roomChannel(ctx, id)
		inc, entry, err := b.incidents.AddNote(ctx, id, cb.User.ID, text)
		if b.refused(ctx, slack.SlashCommand{ChannelID: channel, UserID: cb.User.ID}, err, "add the note", usageNote) {
			return
		}
		if !b.noteToRoom(ctx, inc, entry) {
			b.reply(ctx, channel, cb.User.ID, ":memo: Noted on the timeline of "+inc.Ref()+".", nil)
		}
	}
}

// roomChannel returns the incident's channel, to answer there.
func (b *Bot) roomChannel(ctx context.Context, incidentID int64) string {
	if room, err := b.rooms.Room(ctx, incidentID); err == nil {
		return room.ChannelID
	}
	return ""
}

// statusModal is the Update status form.
func statusModal(inc *incident.Incident) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, s := range incident.Statuses() {
		o := slack.NewOptionBlockObject(string(s), plain(s.Label()), nil)
		options = append(options, o)
		if s == inc.Status {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Status"), blockStatus, options...)
	sel.InitialOption = initial
	msg := slack.NewPlainTextInputBlockElement(plain("What changed, what customers see"), blockMessage)
	msg.Multiline = true
	msg.MaxLength = incident.MaxNote
	msgBlock := slack.NewInputBlock(blockMessage, plain("Message"), nil, msg)
	msgBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackStatus, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Update status"), Submit: plain("Update"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 2000))),
			slack.NewInputBlock(blockStatus, plain("Status"), plain("Restored: customers are served again. Resolved: it is over."), sel),
			msgBlock,
		}},
	}
}

// noteModal is the Add note form.
func noteModal(inc *incident.Incident) slack.ModalViewRequest {
	note := slack.NewPlainTextInputBlockElement(plain("What happened, what was decided"), blockNote)
	note.Multiline = true
	note.MaxLength = incident.MaxNote
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackNote, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Add a note"), Submit: plain("Add"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 2000))),
			slack.NewInputBlock(blockNote, plain("Note"), nil, note),
		}},
	}
}
