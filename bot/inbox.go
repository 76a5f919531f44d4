package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/inbox"
)

const (
	// inboxLease is how long an envelope being handled is held before
	// another instance may take it over (its handler presumed dead).
	inboxLease = 2 * time.Minute
	// handlerDeadline bounds the handling of one envelope, well inside its
	// lease; durable work it starts carries on in the job queue.
	handlerDeadline = time.Minute
	// recordTimeout bounds the wait to record an envelope: it must be
	// acknowledged within Slack's 3 s, with an answer if it failed.
	recordTimeout = 2 * time.Second
	// inboxMemory is how long handled envelopes are kept. Slack gives up
	// redelivering within minutes.
	inboxMemory = 24 * time.Hour
	// replayBatch is how many unfinished envelopes one claim takes.
	replayBatch = 100
)

// owner is the name the bot's leases carry: its instance.
func (b *Bot) owner() string { return b.cfg.Instance }

// record writes env to the inbox, leased to this instance, and reports
// whether it is new.
func (b *Bot) record(ctx context.Context, env inbox.Envelope) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	return b.inbox.RecordEnvelope(ctx, env, b.owner(), b.clock.Now().Add(inboxLease))
}

// process handles a recorded envelope on a worker, once acks no longer
// wait, then marks it done in the inbox, or failed if its handler panicked
// (the person is answered, and it is not tried again). done ends the
// envelope's unit of work.
func (b *Bot) process(ctx context.Context, done func(), env inbox.Envelope, work *handling) {
	b.processSlot(ctx, done, env, work, false)
}

// processSlot is process for an envelope that holds a work queue slot
// (slot true), freed once the envelope is marked handled.
func (b *Bot) processSlot(ctx context.Context, done func(), env inbox.Envelope, work *handling, slot bool) {
	if slot {
		done = func(done func()) func() {
			return func() { b.releaseSlot(); done() }
		}(done)
	}
	var failure string
	ran := false
	b.spawn(ctx, func() {
		if !ran {
			// Stopped before it was handled: the next life handles it.
			done()
			return
		}
		// Marking it handled waits behind the recording of envelopes:
		// the worker goes on to the next.
		go func() {
			defer done()
			b.finish(ctx, env.Key, failure)
		}()
	}, func(ctx context.Context) {
		ran = true
		b.acking.wait(ctx)
		failure = b.runHandler(ctx, env, work)
	})
}

// runHandler runs work within the handler deadline and returns why it
// failed, if it panicked.
func (b *Bot) runHandler(ctx context.Context, env inbox.Envelope, work *handling) (failure string) {
	ctx, cancel := context.WithTimeout(ctx, handlerDeadline)
	defer cancel()
	ctx = withResponder(ctx, work.user, work.channel, work.responseURL, env.ReceivedAt)
	defer func() {
		if p := recover(); p != nil {
			failure = fmt.Sprintf("handler panicked: %v", p)
			b.panics.Add(1)
			b.log.Error("envelope handler panicked", "envelope", env.EnvelopeID, "type", env.Type, "key", env.Key, "panic", p)
			b.answerFailure(ctx)
		}
	}()
	work.run(ctx)
	return ""
}

// answerFailure tells the person whose command or click is being handled
// (the responder in ctx) that sitrep failed on it.
func (b *Bot) answerFailure(ctx context.Context) {
	r, ok := ctx.Value(responderKey{}).(*responder)
	if !ok {
		return
	}
	b.reply(context.WithoutCancel(ctx), r.channel, r.user,
		":warning: sitrep failed to handle this; it has been logged. Please try again.", nil)
}

// finishWaits are the waits between tries to mark an envelope handled,
// the last repeated: the database may be down for a while, and an
// envelope left unfinished would be handled again.
var finishWaits = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second}

// finish marks the envelope with key handled, trying until the database
// answers or the process stops. Meanwhile the key is in b.finishing, so
// that this process does not take the envelope up again when its lease
// runs out; if the process stops first, its next life handles it again.
func (b *Bot) finish(ctx context.Context, key, failure string) {
	b.finishing.Store(key, true)
	defer b.finishing.Delete(key)
	for i := 0; ; i++ {
		err := b.inbox.FinishEnvelope(context.WithoutCancel(ctx), key, b.clock.Now(), failure)
		if err == nil {
			return
		}
		wait := finishWaits[min(i, len(finishWaits)-1)]
		b.log.Warn("marking an envelope handled", "key", key, "err", err, "retry_in", wait)
		if sleep(ctx, wait) != nil {
			b.log.Error("stopped before an envelope was marked handled; it will be handled again", "key", key)
			return
		}
	}
}

// replayInbox handles the envelopes recorded but not finished: with own,
// those this instance held when it died (call it before any envelope of
// this life is recorded); without, any whose lease ran out, those that
// found the work queue full included. It returns how many it took.
func (b *Bot) replayInbox(ctx context.Context, own bool) (int, error) {
	n, _, err := b.claimInbox(ctx, own)
	return n, err
}

// claimInbox is replayInbox, taking no more envelopes than there are free
// work queue slots; more reports that envelopes may be left (no slot was
// free, or it took as many as it asked for).
func (b *Bot) claimInbox(ctx context.Context, own bool) (n int, more bool, err error) {
	b.startIntake(ctx)
	slots := 0
	for slots < replayBatch && b.takeSlot() {
		slots++
	}
	defer func() {
		for ; slots > 0; slots-- {
			b.releaseSlot()
		}
	}()
	if slots == 0 {
		return 0, true, nil
	}
	asked := slots
	now := b.clock.Now()
	envs, err := b.inbox.ClaimEnvelopes(ctx, b.owner(), own, now, now.Add(inboxLease), asked)
	if err != nil {
		return 0, false, err
	}
	for _, env := range envs {
		if _, ok := b.finishing.Load(env.Key); ok {
			continue // handled; its finish is waiting for the database
		}
		log := b.log.With("envelope", env.EnvelopeID, "type", env.Type, "key", env.Key, "attempt", env.Attempts)
		if env.Attempts > inbox.MaxAttempts {
			log.Error("envelope was taken for handling too many times; giving up on it")
			b.finish(ctx, env.Key, fmt.Sprintf("given up after %d attempts", env.Attempts-1))
			continue
		}
		work, err := b.recordedWork(env)
		if err != nil {
			log.Error("recorded envelope cannot be read; giving up on it", "err", err)
			b.finish(ctx, env.Key, err.Error())
			continue
		}
		if env.Attempts > 1 {
			log.Info("handling an envelope an earlier attempt did not finish")
		} else {
			log.Info("handling an envelope that waited in the inbox for a work queue slot")
		}
		slots-- // the envelope holds it until it is marked handled
		b.processSlot(replayingSince(ctx, env.ReceivedAt), b.startWork(), env, work, true)
	}
	return len(envs), len(envs) == asked, nil
}

// recordedWork reads a recorded envelope's payload as slack-go's
// socketmode client does, and returns its handling.
func (b *Bot) recordedWork(env inbox.Envelope) (*handling, error) {
	switch env.Type {
	case string(socketmode.RequestTypeSlashCommands):
		var cmd slack.SlashCommand
		if err := json.Unmarshal(env.Payload, &cmd); err != nil {
			return nil, fmt.Errorf("reading a recorded slash command: %w", err)
		}
		return b.commandWork(env.Key, cmd), nil
	case string(socketmode.RequestTypeInteractive):
		var cb slack.InteractionCallback
		if err := json.Unmarshal(env.Payload, &cb); err != nil {
			return nil, fmt.Errorf("reading a recorded interaction: %w", err)
		}
		_, work := b.interactionWork(env.Key, cb)
		if work == nil {
			return &handling{run: func(context.Context) {}}, nil
		}
		return work, nil
	case string(socketmode.RequestTypeEventsAPI):
		ev, err := slackevents.ParseEvent(env.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return nil, fmt.Errorf("reading a recorded event: %w", err)
		}
		return b.eventWork(ev), nil
	}
	return nil, fmt.Errorf("unknown envelope type %q", env.Type)
}

// pruneInbox forgets handled envelopes older than inboxMemory.
func (b *Bot) pruneInbox(ctx context.Context) {
	n, err := b.inbox.PruneEnvelopes(ctx, b.clock.Now().Add(-inboxMemory))
	if err != nil {
		b.log.Error("pruning the inbox", "err", err)
		return
	}
	b.log.Debug("pruned the inbox", "removed", n)
}
