package bot

import (
	"context"

	"github.com/slack-go/slack"
)

// reply answers user privately in channel (an ephemeral message). Where the
// bot cannot post ephemerally there (a channel it is not in), it sends the
// answer as a direct message instead, so the user always hears back.
func (b *Bot) reply(ctx context.Context, channel, user, text string, blocks []slack.Block) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	err := b.slack.do(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if err == nil {
		return
	}
	switch slackCode(err) {
	case "not_in_channel", "channel_not_found", "user_not_in_channel", "is_archived":
		err = b.slack.do(ctx, "chat.postMessage", func(ctx context.Context) error {
			_, _, err := b.api.PostMessageContext(ctx, user, opts...)
			return err
		})
	}
	if err != nil {
		b.log.Error("answering user", "user", user, "channel", channel, "err", err)
	}
}

// replyUsage answers a mistake with what was wrong and the form to write.
func (b *Bot) replyUsage(ctx context.Context, channel, user, problem, usage string) {
	text, blocks := usageReply(problem, usage)
	b.reply(ctx, channel, user, text, blocks)
}
