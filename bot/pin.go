package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// pinReaction is the reaction that adds a message to the timeline.
const pinReaction = "pushpin"

// onReaction adds a message to its incident's timeline when someone reacts
// to it with :pushpin: in an incident channel. Other reactions and channels
// are ignored.
func (b *Bot) onReaction(ctx context.Context, e *slackevents.ReactionAddedEvent) {
	if e == nil || e.Reaction != pinReaction || e.Item.Type != "message" || e.Item.Channel == "" {
		return
	}
	room, err := b.rooms.RoomByChannel(ctx, e.Item.Channel)
	if errors.Is(err, incident.ErrNotFound) {
		return
	}
	if err != nil {
		b.log.Error("finding the incident of a pinned message", "err", err)
		return
	}
	if b.pins != nil {
		pin, again, err := b.pins.NotePin(ctx, room.IncidentID, e.Item.Channel, e.Item.Timestamp, e.User, b.clock.Now())
		if err != nil {
			b.reply(ctx, e.Item.Channel, e.User, ":warning: "+b.couldNot("add that message to the timeline", err, ""), nil)
			return
		}
		if pin.First() != e.User || pin.EntryID != 0 {
			b.pinnedAlready(ctx, e, pin, again)
			return
		}
	}
	var msg *slack.Message
	err = b.slack.do(ctx, "conversations.history", func(ctx context.Context) error {
		h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: e.Item.Channel, Latest: e.Item.Timestamp, Inclusive: true, Limit: 1,
		})
		if err == nil && len(h.Messages) == 1 && h.Messages[0].Timestamp == e.Item.Timestamp {
			msg = &h.Messages[0]
		}
		return err
	})
	if err != nil || msg == nil {
		b.log.Warn("reading the pinned message", "channel", e.Item.Channel, "ts", e.Item.Timestamp, "err", err)
		b.reply(ctx, e.Item.Channel, e.User, ":warning: sitrep could not read that message to add it to the timeline. Remove the :pushpin: and add it again to retry.", nil)
		return
	}
	// Message text in the history is mrkdwn, escaped as command text is.
	inc, entry, err := b.incidents.Pin(ctx, room.IncidentID, e.User, msg.User, slacktext.Decode(msg.Text), e.Item.Timestamp)
	if err != nil {
		b.reply(ctx, e.Item.Channel, e.User, ":warning: "+b.couldNot("add that message to the timeline", err, ""), nil)
		return
	}
	if b.pins != nil {
		// A crash before this line leaves the pin without its entry: the
		// first pinner's next :pushpin: finds the entry by the message's
		// ts (incident.Service.Pin) and links it, writing none.
		if err := b.pins.PinEntry(ctx, e.Item.Channel, e.Item.Timestamp, entry.ID); err != nil {
			b.log.Error("recording the entry of a pinned message", "incident", inc.Ref(), "err", err)
		}
	}
	b.reply(ctx, e.Item.Channel, e.User, ":pushpin: Added to the timeline of "+inc.Ref()+".", nil)
}

// pinnedAlready answers a :pushpin: on a message that is on the timeline
// already (or being added by its first pinner): no second entry. The
// timeline is append-only, so the entry is not rewritten: a new pinner is
// shown in the message's thread ("also pinned by"), once, and told
// privately where the entry is.
func (b *Bot) pinnedAlready(ctx context.Context, e *slackevents.ReactionAddedEvent, pin incident.MessagePin, again bool) {
	ref := "the incident"
	if inc, err := b.incidents.Incident(ctx, pin.IncidentID); err == nil {
		ref = inc.Ref()
	}
	if !again && pin.First() != e.User {
		line := ":pushpin: Also pinned by <@" + e.User + ">."
		eff := effect{kind: effectPin, key: "pin:" + e.Item.Timestamp + ":" + e.User, thread: e.Item.Timestamp}
		if err := b.post(ctx, e.Item.Channel, eff, line, nil); err != nil {
			b.log.Error("showing a second pin", "incident", ref, "err", err)
		}
	}
	b.reply(ctx, e.Item.Channel, e.User, fmt.Sprintf(":pushpin: Already on the timeline of %s, pinned by <@%s>: one entry per message.", ref, pin.First()), nil)
}
