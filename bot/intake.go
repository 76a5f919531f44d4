package bot

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/inbox"
)

// The ack path runs ahead of the work: each connection's event loop reads
// an envelope into the work it asks for and hands it to the recorder,
// whose goroutines record every envelope waiting in one transaction, ack
// them, and queue their work. The work queue is bounded: an envelope that
// finds it full is still recorded and acked, with a lease that has already
// run out, and the inbox holds it until a slot frees and the drain claims
// it (or another instance's sweeper does).

// Bounds of the ack path.
const (
	// recorderQueue is how many envelopes may wait to be recorded; past
	// it the event loops wait, and so does the reading of the sockets.
	recorderQueue = 1024
	// recorderGroup bounds the envelopes one transaction records.
	recorderGroup = 256
)

// intake is the bot's ack path and work queue.
type intake struct {
	once sync.Once
	rec  *inbox.Recorder
	// ran is closed when the recorder's goroutines have returned.
	ran chan struct{}
	// slots holds a token per envelope queued or being handled, at most
	// Workers + QueueDepth.
	slots chan struct{}
	// overflow is set while envelopes wait in the inbox for a slot;
	// kick wakes the drain.
	overflow atomic.Bool
	kick     chan struct{}
	closing  chan struct{}
	closed   sync.Once
	ctx      context.Context
}

// arrival is an envelope on its way through the ack path.
type arrival struct {
	client   *socketmode.Client
	evt      socketmode.Event
	env      inbox.Envelope
	response any
	work     *handling
	// slot is true if the envelope holds a work queue slot.
	slot bool
	done func()
}

// startIntake starts the recorder and the drain, once, for the work ctx.
func (b *Bot) startIntake(ctx context.Context) {
	b.in.once.Do(func() {
		in := &b.in
		in.ctx = ctx
		in.ran = make(chan struct{})
		in.kick = make(chan struct{}, 1)
		in.closing = make(chan struct{})
		if in.slots == nil {
			in.slots = make(chan struct{}, b.cfg.Workers+b.cfg.QueueDepth)
		}
		in.rec = inbox.NewRecorder(b.inbox, recorderQueue, recorderGroup, recordTimeout, b.recorded)
		n := 1
		if p, ok := b.inbox.(inbox.Parallel); ok {
			n = p.RecordParallelism()
		}
		go func() {
			defer close(in.ran)
			in.rec.Run(ctx, n)
		}()
		go b.drain(ctx)
	})
}

// closeIntake stops taking envelopes and returns once every envelope
// taken is recorded and acked (or refused). Call it once the sockets have
// stopped.
func (b *Bot) closeIntake() {
	in := &b.in
	if in.rec == nil {
		return
	}
	in.closed.Do(func() {
		in.rec.Close()
		<-in.ran
		close(in.closing)
	})
}

// takeSlot takes a work queue slot if one is free.
func (b *Bot) takeSlot() bool {
	select {
	case b.in.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// releaseSlot frees a work queue slot, waking the drain if envelopes wait
// in the inbox for one.
func (b *Bot) releaseSlot() {
	<-b.in.slots
	if b.in.overflow.Load() {
		b.kickDrain()
	}
}

func (b *Bot) kickDrain() {
	select {
	case b.in.kick <- struct{}{}:
	default:
	}
}

// submit hands a to the recorder. An envelope that finds the work queue
// full is recorded with its lease already run out, for the drain.
func (b *Bot) submit(ctx context.Context, a *arrival) {
	b.startIntake(ctx)
	a.done = b.startWork()
	b.acking.enter()
	a.slot = b.takeSlot()
	lease := a.env.ReceivedAt
	if a.slot {
		lease = lease.Add(inboxLease)
	}
	err := b.in.rec.Submit(ctx, inbox.Arrival{Record: inbox.Record{Envelope: a.env, Owner: b.owner(), LeaseUntil: lease}, Tag: a})
	if err != nil {
		b.recorded([]inbox.Outcome{{Arrival: inbox.Arrival{Tag: a}, Err: err}})
	}
}

// recorded takes a group's outcomes from the recorder and acks them, in
// order, on a goroutine of its own, so that the recorder can take the
// next group at once. The group shares one ack deadline: a connection
// that stopped writing holds it up once, not once per envelope.
func (b *Bot) recorded(out []inbox.Outcome) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
		defer cancel()
		for _, o := range out {
			b.afterRecord(ctx, o)
		}
	}()
}

// afterRecord acks a recorded envelope and queues its work, or, if it
// could not be recorded, does nothing but tell the person so (a slash
// command's ack carries the answer); an event is left unacknowledged for
// Slack to deliver again.
func (b *Bot) afterRecord(ackCtx context.Context, o inbox.Outcome) {
	a := o.Tag.(*arrival)
	req := a.evt.Request
	left, handed := false, false
	defer func() {
		if !left {
			b.acking.leave()
		}
		if !handed {
			if a.slot {
				b.releaseSlot()
			}
			a.done()
		}
	}()
	defer b.recoverEnvelope(a.client, a.evt)
	if o.Err != nil {
		b.log.Error("could not record an envelope; nothing was done", "envelope", req.EnvelopeID, "type", req.Type, "err", o.Err)
		handed = true
		go func() {
			defer a.done()
			if a.slot {
				defer b.releaseSlot()
			}
			b.refuseUnrecorded(b.in.ctx, a.client, req, a.evt.Data)
		}()
		return
	}
	b.ackCtx(ackCtx, a.client, req, a.response)
	b.acking.leave()
	left = true
	if !o.First {
		b.log.Info("ignoring redelivered envelope", "key", a.env.Key)
		return
	}
	if !a.slot {
		// The inbox holds it, leased to no one: the drain takes it once
		// a slot frees.
		b.log.Info("work queue full; the envelope waits in the inbox", "key", a.env.Key)
		b.in.overflow.Store(true)
		b.kickDrain()
		return
	}
	handed = true
	b.processSlot(b.in.ctx, a.done, a.env, a.work, true)
}

// drain hands the envelopes that found the work queue full to free slots:
// woken when one is recorded and whenever a slot frees while any wait.
func (b *Bot) drain(ctx context.Context) {
	for {
		select {
		case <-b.in.kick:
		case <-ctx.Done():
			return
		case <-b.in.closing:
			return
		}
		b.in.overflow.Store(false)
		n, more, err := b.claimInbox(ctx, false)
		if err != nil {
			b.log.Error("taking envelopes that waited for a work queue slot", "err", err)
		}
		if err != nil || more || n > 0 {
			// Maybe more wait: the next slot freed wakes the drain again.
			b.in.overflow.Store(true)
		}
	}
}
