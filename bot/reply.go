package bot

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// Slack's limits on a response_url: this many answers, within this long of
// the command or click that brought it.
const (
	responseURLUses     = 5
	responseURLLifetime = 30 * time.Minute
)

// responder is the response_url of the command or click being handled.
// Slack takes answers on it from anywhere, with no membership, so it
// reaches the person in a channel the bot has not joined and in a direct
// message between two people, where chat.postEphemeral cannot.
type responder struct {
	user, channel, url string
	expires            time.Time
	used               atomic.Int32
}

type responderKey struct{}

// withResponder returns ctx carrying the response_url that user's command or
// click in channel came with, received at now. A ctx carrying that
// response_url already is returned as it is, so its answers stay counted.
func withResponder(ctx context.Context, user, channel, url string, now time.Time) context.Context {
	if r, _ := ctx.Value(responderKey{}).(*responder); url == "" || (r != nil && r.url == url) {
		return ctx
	}
	r := &responder{user: user, channel: channel, url: url, expires: now.Add(responseURLLifetime)}
	return context.WithValue(ctx, responderKey{}, r)
}

// take claims one answer on the response_url for user in channel, if ctx
// carries one that is theirs, unexpired and not used up.
func takeResponder(ctx context.Context, user, channel string, now time.Time) *responder {
	r, _ := ctx.Value(responderKey{}).(*responder)
	if r == nil || r.user != user || r.channel != channel || !now.Before(r.expires) {
		return nil
	}
	if r.used.Add(1) > responseURLUses {
		return nil
	}
	return r
}

// hookClient posts to response URLs; Slack answers them at once. It keeps
// idle connections for a burst of answers (Go's default keeps 2), so that a
// storm of commands does not open (and TLS-handshake) one per answer.
var hookClient = &http.Client{Timeout: 10 * time.Second, Transport: hookTransport()}

// hookIdleConns is how many idle connections to response URLs are kept:
// as many as Slack calls may be under way at once (maxInFlight).
const hookIdleConns = maxInFlight

func hookTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = hookIdleConns, hookIdleConns
	return tr
}

// reply answers user privately in channel (an ephemeral message): through
// the response_url of the command or click being handled when there is one,
// else chat.postEphemeral. Where neither can reach them (a channel the bot
// is not in, a direct message between people), it sends the answer as a
// direct message, so the user always hears back.
func (b *Bot) reply(ctx context.Context, channel, user, text string, blocks []slack.Block) {
	if r := takeResponder(ctx, user, channel, b.clock.Now()); r != nil {
		msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
		if len(blocks) > 0 {
			msg.Blocks = &slack.Blocks{BlockSet: blocks}
		}
		err := b.slack.do(ctx, "response_url", func(ctx context.Context) error {
			return slack.PostWebhookCustomHTTPContext(ctx, r.url, hookClient, msg)
		})
		if err == nil {
			return
		}
		b.log.Warn("answering through the response_url failed; trying chat.postEphemeral", "user", user, "err", err)
	}
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
	problem := b.couldNot("show the form", err, "")
	if hint != "" {
		problem += " " + hint
	}
	b.replyUsage(ctx, channel, user, problem, usage)
}

// errPrivateChannel is why sitrep cannot act in a private channel or
// conversation it has not been invited to: it can join public channels
// only.
var errPrivateChannel = errors.New("sitrep is not in this private conversation and cannot join it by itself: " +
	"invite it with `/invite @sitrep`, or ask in a public channel")
