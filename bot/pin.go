package bot

import (
	"context"
	"errors"

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
		b.reply(ctx, e.Item.Channel, e.User, ":warning: sitrep could not read that message to add it to the timeline.", nil)
		return
	}
	// Message text in the history is mrkdwn, escaped as command text is.
	inc, _, err := b.incidents.Pin(ctx, room.IncidentID, e.User, msg.User, slacktext.Decode(msg.Text))
	if err != nil {
		b.reply(ctx, e.Item.Channel, e.User, ":warning: "+b.couldNot("add that message to the timeline", err, ""), nil)
		return
	}
	b.reply(ctx, e.Item.Channel, e.User, ":pushpin: Added to the timeline of "+inc.Ref()+".", nil)
}
