package bot

import (
	"bytes"
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

// openForm opens a modal. If Slack will not, it answers user in channel
// with why, then hint (what to do instead; may be empty) and usage.
func (b *Bot) openForm(ctx context.Context, channel, user, triggerID string, view slack.ModalViewRequest, hint, usage string) {
	err := b.slack.do(ctx, "views.open", func(ctx context.Context) error {
		_, err := b.api.OpenViewContext(ctx, triggerID, view)
		return err
	})
	if err == nil {
		return
	}
	b.log.Error("opening a form", "callback", view.CallbackID, "err", err)
	problem := "Slack would not show the form (" + escape(err.Error()) + ")."
	if hint != "" {
		problem += " " + hint
	}
	b.replyUsage(ctx, channel, user, problem, usage)
}

// joining runs call, the Web API method of that name acting in channel;
// if the bot is not in the channel, it joins and tries once more.
func (b *Bot) joining(ctx context.Context, channel, method string, call func(context.Context) error) error {
	err := b.slack.do(ctx, method, call)
	if slackCode(err) != "not_in_channel" {
		return err
	}
	if err := b.slack.do(ctx, "conversations.join", func(ctx context.Context) error {
		_, _, _, err := b.api.JoinConversationContext(ctx, channel)
		return err
	}); err != nil {
		return err
	}
	return b.slack.do(ctx, method, call)
}

// postJoining runs post, a chat.postMessage in channel, joining it first
// if need be.
func (b *Bot) postJoining(ctx context.Context, channel string, post func(context.Context) error) error {
	return b.joining(ctx, channel, "chat.postMessage", post)
}

// uploadCall is the files upload v2 flow sharing data as a file in channel
// (in the thread of threadTS when set), as one call for the retrying caller.
func (b *Bot) uploadCall(channel, threadTS, name, title, alt string, data []byte) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(data), FileSize: len(data), Filename: name, Title: title, AltTxt: alt,
			Channel: channel, ThreadTimestamp: threadTS,
		})
		return err
	}
}

// upload shares data as a file in channel (in the thread of threadTS when
// set).
func (b *Bot) upload(ctx context.Context, channel, threadTS, name, title, alt string, data []byte) error {
	return b.slack.do(ctx, "files.upload", b.uploadCall(channel, threadTS, name, title, alt, data))
}
