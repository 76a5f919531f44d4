package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/jobs"
)

// Every message sitrep posts from a job or an envelope handler carries
// Slack message metadata: its event_type says what the message is (an
// effect kind below) and its event_payload {"key": …} which one. A post that
// may have happened before — on a job's second claim or later, for an
// envelope replayed from the inbox, and before retrying a post whose answer
// was lost (HTTP 5xx, a timeout, a reset connection) — first reads the
// channel's recent history (or the thread's replies) for sitrep's own message
// of that kind and key, and returns its ts instead of posting again. A first
// attempt that Slack answers makes no extra call.
//
// Files cannot carry metadata: an upload that may have happened looks for
// sitrep's own message sharing a file of the same name and title, so each
// upload is told from others in its channel or thread by those two (a chart
// in its own message's thread; a postmortem export names its version).
//
// Ephemeral answers cannot be looked up at all: their step is recorded as
// done before the answer goes out (see provision), so a retry never answers
// twice, at the price of an answer lost to a crash in between.
//
// Reading back needs channels:history, groups:history and im:history (the
// direct messages sitrep sent), and im:write to find a direct message's
// channel: see slack-app-manifest.yaml.

// The kinds of effect, the event_type of each message's metadata. Slack's
// guidelines: lowercase letters, digits and underscores.
const (
	effectHeader           = "sitrep_header"            // a room's header, key the incident
	effectWhatChanged      = "sitrep_what_changed"      // a room's "what changed?", key the incident
	effectPlan             = "sitrep_plan"              // a room's plan of attack, key the incident
	effectAnnouncement     = "sitrep_announcement"      // a new incident in the incidents channel, key the incident
	effectStatus           = "sitrep_status"            // a status or severity change in the room, key the job
	effectStatusUpdate     = "sitrep_status_update"     // the same in the incidents channel, key the job
	effectSummary          = "sitrep_summary"           // a closed incident's summary in the room, key the job
	effectClosed           = "sitrep_closed"            // a close in the incidents channel, key the job
	effectPeople           = "sitrep_people"            // a hand-off or role in the room, key the job
	effectBrief            = "sitrep_brief"             // a new TDO's brief, by direct message, key the job
	effectTimebox          = "sitrep_timebox"           // a clock warning or expiry in the room, key the job
	effectNudge            = "sitrep_update_nudge"      // a nudge to post a status update, in the room, key the job
	effectNewChange        = "sitrep_new_change"        // a change logged while the room is open, key the change
	effectAnnotation       = "sitrep_annotation"        // a cost or cause recorded, in the room, key the job
	effectChecklist        = "sitrep_checklist"         // a checklist run's message, key the run
	effectChecklistSummary = "sitrep_checklist_summary" // a finished run's summary in its thread, key the run
	effectReminder         = "sitrep_reminder"          // an idle run's reminder in its thread, key the job
	effectPostmortem       = "sitrep_postmortem"        // a postmortem's message, key the incident
	effectActionNotice     = "sitrep_action_notice"     // an action's assignment, reminder or overdue notice, key the job
	effectReview           = "sitrep_review"            // the daily operations review, key the slot
	effectHandOff          = "sitrep_rotation_handoff"  // a rotation's new TDO on duty, key the rotation and time
	effectAnswer           = "sitrep_answer"            // a command's answer for everyone, key the command
	effectNote             = "sitrep_note"              // a note added to the timeline, in the room, key the entry
	effectPin              = "sitrep_pin"               // a second pin of a message, in its thread, key the message and pinner
)

// effect names one message that sitrep posts once.
type effect struct {
	// kind is the metadata's event_type: what the message is.
	kind string
	// key tells the message from others of its kind in its channel: an
	// incident, a run, a job. Empty, an earlier post cannot be found.
	key string
	// thread is the parent's ts when the message is a reply in its thread;
	// it is posted and looked for there.
	thread string
}

// onceAs names the message of kind with this key.
func onceAs(kind, key string) effect { return effect{kind: kind, key: key} }

// jobEffect names the message of kind that job j posts (once per job: its
// key is the job's).
func jobEffect(kind string, j jobs.Job) effect {
	if j.Key != "" {
		return onceAs(kind, j.Key)
	}
	return onceAs(kind, "job:"+strconv.FormatInt(j.ID, 10))
}

// commandEffect names the part-th message (from 0) that the slash command
// cmd posts for everyone. A command without a trigger ID has no key.
func commandEffect(kind string, cmd slack.SlashCommand, part int) effect {
	if cmd.TriggerID == "" {
		return effect{kind: kind}
	}
	return onceAs(kind, "cmd:"+cmd.TriggerID+":"+strconv.Itoa(part))
}

// metadata is the message metadata that marks e's message.
func (e effect) metadata() slack.SlackMetadata {
	return slack.SlackMetadata{EventType: e.kind, EventPayload: map[string]any{"key": e.key}}
}

// marks reports whether m is e's message (m's author is checked by the
// caller).
func (e effect) marks(m slack.Message) bool {
	key, _ := m.Metadata.EventPayload["key"].(string)
	return m.Metadata.EventType == e.kind && key == e.key
}

// Bounds of a look for an earlier attempt.
const (
	// lookBack is how much earlier than the work began sitrep looks, as
	// Slack's clock and sitrep's may differ a little.
	lookBack = 5 * time.Minute
	// replayLookBack is how far back a replayed envelope whose reception
	// time is not known looks: as long as envelopes are remembered.
	replayLookBack = inboxMemory
	// lookPages and lookPageSize bound the history one look reads: a
	// channel busier than that since the work began is not read to its
	// end, and the effect is done (at worst twice).
	lookPages    = 5
	lookPageSize = 200
)

// workBegan returns when the work running with ctx first began, and so the
// earliest an earlier attempt can have acted: a job's creation (or its due
// time, if earlier), a replayed envelope's reception, else now.
func workBegan(ctx context.Context, now time.Time) time.Time {
	if t, ok := ctx.Value(beganKey{}).(time.Time); ok && !t.IsZero() {
		return t
	}
	if j, ok := jobs.Current(ctx); ok {
		t := j.CreatedAt
		if !j.DueAt.IsZero() && (t.IsZero() || j.DueAt.Before(t)) {
			t = j.DueAt
		}
		if !t.IsZero() {
			return t
		}
	}
	if ctx.Value(replayKey{}) != nil {
		return now.Add(-replayLookBack)
	}
	return now
}

// singleTryKey marks a context whose Slack calls slackCaller.do tries once:
// the caller runs the attempts itself (onlyOnce looks before each retry).
type singleTryKey struct{}

// withSingleTry returns ctx marked so that slackCaller.do does not retry.
func withSingleTry(ctx context.Context) context.Context {
	return context.WithValue(ctx, singleTryKey{}, true)
}

// singleTry reports whether ctx asks slackCaller.do for one try only.
func singleTry(ctx context.Context) bool { return ctx.Value(singleTryKey{}) != nil }

// rateLimited reports whether err is Slack refusing a call for its rate:
// the call did nothing.
func rateLimited(err error) bool {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	return errors.As(err, &rl) || (errors.As(err, &sc) && sc.Code == 429) || slackCode(err) == "ratelimited"
}

// mayHaveActed reports whether a call that failed with err may have taken
// effect in Slack all the same: its answer was lost (a 5xx, a timeout, a
// connection reset) or Slack says some of it may have happened
// (internal_error, fatal_error).
func mayHaveActed(err error) bool { return transient(err) && !rateLimited(err) }

// timedOut reports whether a call failed because its own deadline passed
// while the work's context (ctx) is still live: the call may have acted,
// and another try may succeed.
func timedOut(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
}

// errNotSure is why an effect was not done: sitrep could not read back
// whether an earlier attempt did it. A later attempt may tell.
var errNotSure = errors.New("could not tell whether an earlier attempt did it already")

// cannotRead reports whether a look for an earlier attempt failed because
// sitrep may not read the conversation at all (a scope the workspace did not
// grant): looking again will not help, and the effect is done regardless.
func cannotRead(err error) bool {
	switch slackCode(err) {
	case "missing_scope", "method_not_supported_for_channel_type":
		return true
	}
	return false
}

// postOnce posts a message carrying e's metadata in channel (a channel ID,
// or a user ID for the direct message with them), in e's thread when set,
// and returns its ts. If an earlier attempt may have posted it, it looks
// first and returns the ts of the message found instead of posting again;
// a post whose answer is lost is not retried before such a look. In a
// public channel the bot is not in, it joins when Slack asks it to.
func (b *Bot) postOnce(ctx context.Context, channel string, e effect, opts ...slack.MsgOption) (string, error) {
	all := append([]slack.MsgOption{slack.MsgOptionMetadata(e.metadata())}, opts...)
	if e.thread != "" {
		all = append(all, slack.MsgOptionTS(e.thread))
	}
	find := func(ctx context.Context, since time.Time) (string, error) {
		return b.findOwn(ctx, channel, e.thread, since, e.marks)
	}
	ts, err := b.onlyOnce(ctx, "chat.postMessage", channel, e.key != "", find, func(ctx context.Context) (string, error) {
		_, ts, err := b.api.PostMessageContext(ctx, channel, all...)
		return ts, err
	})
	if err != nil {
		return "", fmt.Errorf("posting %s: %w", strings.TrimPrefix(e.kind, "sitrep_"), err)
	}
	return ts, nil
}

// upload shares data as a file called name with this title in channel (in
// the thread of threadTS when set), through files upload v2, once: if an
// earlier attempt may have shared it, it first looks for sitrep's own
// message sharing a file of that name and title there, so the two must
// tell this upload from others in that place. chat:write.public does not
// cover files: sitrep joins a public channel it is not in first.
func (b *Bot) upload(ctx context.Context, channel, threadTS, name, title, alt string, data []byte) error {
	find := func(ctx context.Context, since time.Time) (string, error) {
		return b.findOwn(ctx, channel, threadTS, since, func(m slack.Message) bool {
			for _, f := range m.Files {
				if f.Name == name && f.Title == title {
					return true
				}
			}
			return false
		})
	}
	_, err := b.onlyOnce(ctx, "files.upload", channel, true, find, func(ctx context.Context) (string, error) {
		f, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(data), FileSize: len(data), Filename: name, Title: title, AltTxt: alt,
			Channel: channel, ThreadTimestamp: threadTS,
		})
		if err != nil {
			return "", err
		}
		return f.ID, nil
	})
	return err
}

// onlyOnce runs act, an effect of the Web API method in channel, and
// returns what it returns. findable says that find can tell whether the
// effect happened already (since a time): then, when an earlier attempt of
// the work may have done it, and before any retry after a failure that may
// have acted, find is asked first and what it finds is returned instead.
// Retries otherwise follow the slackCaller's rules (attempts, back-off,
// rate limits); a public channel the bot is not in is joined.
func (b *Bot) onlyOnce(ctx context.Context, method, channel string, findable bool,
	find func(ctx context.Context, since time.Time) (string, error), act func(context.Context) (string, error)) (string, error) {
	since := workBegan(ctx, b.clock.Now()).Add(-lookBack)
	look := findable && earlierAttempt(ctx)
	joined := false
	for attempt := 1; ; attempt++ {
		if look {
			found, err := find(ctx, since)
			switch {
			case err != nil && cannotRead(err):
				b.log.Warn("cannot look for an earlier attempt here; acting anyway", "method", method, "channel", channel, "err", err)
			case err != nil:
				// Acting blind could double the effect: the work is
				// retried later instead.
				return "", fmt.Errorf("%w: %w", errNotSure, err)
			case found != "":
				b.log.Info("an earlier attempt did it already; not again", "method", method, "channel", channel, "found", found)
				return found, nil
			}
		}
		var out string
		err := b.slack.do(withSingleTry(ctx), method, func(ctx context.Context) error {
			var err error
			out, err = act(ctx)
			return err
		})
		if err == nil {
			return out, nil
		}
		if slackCode(err) == "not_in_channel" && !joined {
			joined = true
			if err := b.joinChannel(ctx, channel); err != nil {
				return "", err
			}
			attempt-- // joining does not use up an attempt
			continue
		}
		if !transient(err) && !timedOut(ctx, err) {
			return "", err
		}
		if attempt >= b.slack.attempts {
			return "", fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		if mayHaveActed(err) || timedOut(ctx, err) {
			// The effect may have happened: look before trying again. An
			// effect that cannot be looked for is retried as before.
			look = findable
		}
		b.slack.retries.Add(1)
		b.log.Warn("slack call failed, retrying", "method", method, "attempt", attempt, "look_first", look, "err", err)
		if !rateLimited(err) { // a rate limit is waited out by the next call
			if serr := sleep(ctx, b.slack.backoff(attempt)); serr != nil {
				return "", fmt.Errorf("%w (after %v)", serr, err)
			}
		}
	}
}

// findOwn looks in channel, or in the thread of thread when set, for
// sitrep's own message that match accepts, posted since since, and returns
// its ts; "" if there is none. It reads at most lookPages pages. A channel
// given as a user ID is the direct message with them; a public channel the
// bot is not in (a post with chat:write.public) is joined to be read.
func (b *Bot) findOwn(ctx context.Context, channel, thread string, since time.Time, match func(slack.Message) bool) (string, error) {
	self, err := b.self(ctx)
	if err != nil {
		return "", err
	}
	if isUserID(channel) {
		if channel, err = b.directChannel(ctx, channel); err != nil {
			return "", err
		}
	}
	oldest := ""
	if since.Unix() > 0 {
		oldest = fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	}
	method := "conversations.history"
	if thread != "" {
		method = "conversations.replies"
	}
	joined := false
	cursor := ""
	for page := 1; page <= lookPages; page++ {
		var msgs []slack.Message
		next := ""
		err := b.slack.do(ctx, method, func(ctx context.Context) error {
			if thread != "" {
				var err error
				msgs, _, next, err = b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: channel, Timestamp: thread, Oldest: oldest, Limit: lookPageSize, Cursor: cursor, IncludeAllMetadata: true,
				})
				return err
			}
			h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channel, Oldest: oldest, Limit: lookPageSize, Cursor: cursor, IncludeAllMetadata: true,
			})
			if err == nil {
				msgs, next = h.Messages, h.ResponseMetaData.NextCursor
			}
			return err
		})
		if slackCode(err) == "not_in_channel" && !joined {
			joined = true
			if err := b.joinChannel(ctx, channel); err != nil {
				if errors.Is(err, errPrivateChannel) {
					return "", nil // sitrep cannot post where it cannot join
				}
				return "", err
			}
			page--
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reading back %s: %w", channel, err)
		}
		for _, m := range msgs {
			if m.User == self && match(m) {
				return m.Timestamp, nil
			}
		}
		if next == "" {
			return "", nil
		}
		cursor = next
	}
	b.log.Warn("stopped looking for an earlier attempt", "channel", channel, "pages", lookPages)
	return "", nil
}

// isUserID reports whether id names a user (a direct message target)
// rather than a conversation.
func isUserID(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

// directChannel returns the ID of the bot's direct message with user.
func (b *Bot) directChannel(ctx context.Context, user string) (string, error) {
	var id string
	err := b.slack.do(ctx, "conversations.open", func(ctx context.Context) error {
		ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("opening the direct message with %s: %w", user, err)
	}
	return id, nil
}

// joinChannel joins the public channel channel. A private channel or a
// conversation sitrep cannot join is errPrivateChannel.
func (b *Bot) joinChannel(ctx context.Context, channel string) error {
	err := b.slack.do(ctx, "conversations.join", func(ctx context.Context) error {
		_, _, _, err := b.api.JoinConversationContext(ctx, channel)
		return err
	})
	switch slackCode(err) {
	case "method_not_supported_for_channel_type", "channel_not_found", "is_private":
		return fmt.Errorf("%w (%s)", errPrivateChannel, slackCode(err))
	}
	return err
}
