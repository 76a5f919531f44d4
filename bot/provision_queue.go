package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// An incident storm (many /incident open in a minute) meets Slack's limit
// on conversations.create (Tier 2, about 20 a minute) first. While that
// limit holds, a room's set-up does not wait for its turn in Slack's
// retries, holding a worker: it tells the reporter the incident's number at
// once, joins the room queue and gives its worker back (the provision job
// goes back to the durable queue, due a while later in case this process
// dies). The queue's dispatcher then runs the waiting set-ups one at a time
// at the limit's pace, most severe first (then oldest first), each as soon
// as its channel may be created; the rest of a set-up runs on its own while
// the next one waits. The order holds within one process; replicas each
// keep their own queue.

// stepQueued records that the reporter was told the incident's number
// while its room waits its turn (written ahead, like stepNotify).
const stepQueued = "queued"

// methodCreate is the Slack method a storm runs into.
const methodCreate = "conversations.create"

// queueHold is how long a queued set-up's job waits in the durable queue
// before the sweeper runs it again, should the dispatcher not get to it
// first (this process died, or the queue is longer than that).
var queueHold = time.Minute

// waitTurn is why a set-up stopped: its channel waits its turn in the
// room queue; later is the jobs.Later error for its job.
type waitTurn struct{ later error }

func (w *waitTurn) Error() string { return w.later.Error() }

// roomWaiter is a set-up waiting for its channel.
type roomWaiter struct {
	incidentID, number, job int64
	severity                incident.Severity
}

// before reports whether w goes before o: higher severity (SEV1 is 1),
// then the older incident.
func (w roomWaiter) before(o roomWaiter) bool {
	return cmp.Or(cmp.Compare(w.severity, o.severity), cmp.Compare(w.number, o.number)) < 0
}

// roomQueue holds the set-ups waiting for Slack to allow channel creation,
// and bounds the set-ups running at once.
type roomQueue struct {
	mu      sync.Mutex
	waiting map[int64]roomWaiter // by incident ID
	running bool
	work    context.Context // the bot's work context, set by start
	// slots bounds the set-ups running off the envelope workers.
	slots chan struct{}
}

// setupSlots is how many rooms are set up at once. A set-up mostly waits
// (for Slack to know a new channel, for answers), so a burst of 200 opens
// is set up side by side; the Slack calls under way at once are bounded
// apart from it (maxInFlight), so the burst still reuses connections.
const setupSlots = 200

func newRoomQueue() *roomQueue {
	return &roomQueue{waiting: map[int64]roomWaiter{}, slots: make(chan struct{}, setupSlots)}
}

// setUpRoom runs the job that sets up inc's room (stored with the incident)
// at once, but off the envelope's worker: the worker is free for the next
// command while Slack catches up with a new channel, and a burst of opens
// sets its rooms up side by side (at most setupSlots at once). The set-up
// keeps ctx's values (the command's response_url) and stops with the bot;
// the job queue finishes what it does not.
func (b *Bot) setUpRoom(ctx context.Context, inc *incident.Incident) {
	q := b.roomQueue
	q.mu.Lock()
	work := q.work
	q.mu.Unlock()
	if work == nil { // not running (a test driving handlers directly)
		work = context.Background()
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(work, cancel)
	done := b.startWork()
	go func() {
		defer done()
		defer cancel()
		defer stop()
		select {
		case q.slots <- struct{}{}:
		case <-sctx.Done():
			return
		}
		defer func() { <-q.slots }()
		if _, err := b.jobs.RunJob(sctx, incident.ProvisionJob(inc, b.clock)); err != nil && !jobs.IsLater(err) {
			b.log.Warn("incident room not ready yet; the job queue will finish it", "incident", inc.Ref(), "err", err)
		}
	}()
}

// start gives the queue the context its dispatcher runs under.
func (q *roomQueue) start(work context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.work = work
}

// busy reports whether set-ups are waiting.
func (q *roomQueue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting) > 0
}

// admittedKey marks the context of a set-up the dispatcher runs: its value
// is the incident ID and a func to call once its channel exists (or its
// creation failed).
type admittedKey struct{}

type admission struct {
	incidentID int64
	created    func()
}

// createPaced creates inc's channel unless Slack's limit on channel
// creation holds: then it queues the set-up (see roomQueue) and returns a
// *waitTurn.
func (b *Bot) createPaced(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	a, admitted := ctx.Value(admittedKey{}).(admission)
	admitted = admitted && a.incidentID == inc.ID
	if admitted {
		defer a.created() // after queueRoom, if it queues again
	}
	if admitted || (!b.roomQueue.busy() && b.slack.limitedFor(methodCreate) == 0) {
		err := b.createChannel(withoutRateWait(ctx), inc, room)
		if !rateLimited(err) {
			return err
		}
	}
	return b.queueRoom(ctx, inc, room)
}

// queueRoom tells the reporter inc's number (once), queues its set-up and
// returns the *waitTurn that sends its job back to the durable queue.
func (b *Bot) queueRoom(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	j, ok := jobs.Current(ctx)
	if !ok {
		return errors.New("a room's set-up can wait its turn only as a job")
	}
	if !room.Did(stepQueued) && inc.ReportedIn != "" && inc.ReporterID != "" {
		room.Mark(stepQueued) // written ahead: an ephemeral answer cannot be looked up
		if err := b.saveRoom(ctx, room); err != nil {
			return err
		}
		b.reply(ctx, inc.ReportedIn, inc.ReporterID, queuedReply(inc), nil)
	}
	q := b.roomQueue
	q.mu.Lock()
	q.waiting[inc.ID] = roomWaiter{incidentID: inc.ID, number: inc.Number, job: j.ID, severity: inc.Severity}
	start := !q.running && q.work != nil
	if start {
		q.running = true
	}
	q.mu.Unlock()
	if start {
		done := b.startWork()
		go func() {
			defer done()
			b.dispatchRooms(q)
		}()
	}
	b.log.Info("incident room waits its turn: Slack limits channel creation", "incident", inc.Ref(), "severity", inc.Severity.String())
	return &waitTurn{later: jobs.Later(b.clock.Now().Add(queueHold), "its channel waits its turn: Slack limits channel creation")}
}

// turnClaimTries and turnClaimWait bound how long a set-up whose turn came
// waits for its job to be free: the attempt that queued it may still be
// recording that it waits. After that the durable queue runs it.
const (
	turnClaimTries = 50
	turnClaimWait  = 20 * time.Millisecond
)

// runTurn runs the job of the set-up w, whose turn came.
func (b *Bot) runTurn(ctx context.Context, w roomWaiter) {
	for range turnClaimTries {
		ran, err := b.jobs.RunNow(ctx, w.job)
		if err != nil {
			b.log.Warn("incident room set-up failed after its turn; the job queue retries it", "incident", w.incidentID, "err", err)
		}
		if ran {
			return
		}
		if r, err := b.rooms.Room(ctx, w.incidentID); err == nil && r.Did(stepChannel) {
			return // another attempt made the channel
		}
		if sleep(ctx, turnClaimWait) != nil {
			return
		}
	}
	b.log.Warn("the job of an incident room whose turn came stayed busy; the job queue runs it", "incident", w.incidentID, "job", w.job)
}

// queuedReply tells the reporter the incident is recorded while its
// channel waits its turn.
func queuedReply(inc *incident.Incident) string {
	return fmt.Sprintf(":hourglass_flowing_sand: %s (%s) is recorded. Slack limits how fast channels can be made, so its channel comes in turn, most severe first; sitrep will tell you here when it is ready.",
		inc.Ref(), inc.Severity.Label())
}

// dispatchRooms runs the queued set-ups, the first in order each time
// Slack allows a channel to be created, until none is left or the bot
// stops. It takes the first off the queue and waits until its channel is
// created (or its creation failed, or was refused again: then the set-up
// queued itself again) before it takes the next.
func (b *Bot) dispatchRooms(q *roomQueue) {
	ctx := q.work
	for {
		q.mu.Lock()
		if len(q.waiting) == 0 || ctx.Err() != nil {
			q.running = false
			q.mu.Unlock()
			return
		}
		var next roomWaiter
		first := true
		for _, w := range q.waiting {
			if first || w.before(next) {
				next, first = w, false
			}
		}
		q.mu.Unlock()
		if wait := b.slack.limitedFor(methodCreate); wait > 0 {
			_ = sleep(ctx, wait)
			continue // a more severe incident may have come meanwhile
		}
		q.mu.Lock()
		if w, ok := q.waiting[next.incidentID]; ok && w.job == next.job {
			delete(q.waiting, next.incidentID) // its job queues it again if Slack refuses
		}
		q.mu.Unlock()
		created := make(chan struct{})
		var once sync.Once
		a := admission{incidentID: next.incidentID, created: func() { once.Do(func() { close(created) }) }}
		done := b.startWork()
		go func() {
			defer done()
			defer a.created()
			b.runTurn(context.WithValue(ctx, admittedKey{}, a), next)
		}()
		select {
		case <-created:
		case <-ctx.Done():
		}
	}
}
