package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/socketwatch"
)

// MaxConnections is Slack's limit of Socket Mode connections per app.
const MaxConnections = 10

// errRetired refuses a dial for a connection slot that was replaced.
var errRetired = errors.New("socket mode connection replaced after Slack's refresh warning")

// socketPool holds the bot's Socket Mode connections: Config.Connections
// slots, each a slack-go socketmode client with its own connection, which
// it reopens by itself after a disconnect. Slack spreads envelopes across
// them, so while one is being refreshed another is reading.
//
// When Slack warns a connection that it will close it (socketwatch drops
// the warning frame, so slack-go keeps reading it), the pool opens a
// replacement slot at once and retires the warned one: it reads and acks
// until Slack closes its connection, and then stops instead of reconnecting.
type socketPool struct {
	b     *Bot
	ctx   context.Context // the sockets' lifetime
	work  context.Context // handed to handleEvent
	fatal chan error      // a slot's unrecoverable error (bad token)

	mu    sync.Mutex
	slots map[int]*socketSlot
	next  int
	wg    sync.WaitGroup
}

// socketSlot is one socketmode client and its connection.
type socketSlot struct {
	id       int
	client   *socketmode.Client
	cancel   context.CancelFunc
	retiring atomic.Bool
}

func newSocketPool(ctx, work context.Context, b *Bot) *socketPool {
	return &socketPool{b: b, ctx: ctx, work: work, fatal: make(chan error, 1), slots: map[int]*socketSlot{}}
}

// start opens the configured number of connections.
func (p *socketPool) start() {
	for range p.b.cfg.Connections {
		p.open()
	}
}

// open starts a slot: its client's connection loop and its event loop.
func (p *socketPool) open() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	p.next++
	slot := &socketSlot{id: p.next}
	dialer := socketwatch.Dialer(socketwatch.Hooks{
		Warning: func(c *socketwatch.Conn, d socketwatch.Disconnect) { p.warned(slot, c, d) },
		BeforeDial: func() error {
			if slot.retiring.Load() {
				return errRetired
			}
			return nil
		},
	})
	opts := append(append([]socketmode.Option(nil), p.b.socketOpts...), socketmode.OptionDialer(dialer))
	slot.client = socketmode.New(p.b.api, opts...)
	ctx, cancel := context.WithCancel(p.ctx)
	slot.cancel = cancel
	p.slots[slot.id] = slot
	stopped := make(chan struct{})
	p.wg.Go(func() {
		defer close(stopped)
		defer cancel()
		if err := p.b.runSocket(ctx, slot.client); err != nil {
			select {
			case p.fatal <- err:
			default:
			}
		}
		p.mu.Lock()
		delete(p.slots, slot.id)
		p.mu.Unlock()
	})
	p.wg.Go(func() { p.events(slot, stopped) })
}

// events hands every event of slot's client to handleEvent, in order,
// until the client has stopped and its buffered events are handled.
func (p *socketPool) events(slot *socketSlot, stopped <-chan struct{}) {
	for {
		select {
		case evt := <-slot.client.Events:
			p.handle(slot, evt)
		case <-stopped:
			for {
				select {
				case evt := <-slot.client.Events:
					p.handle(slot, evt)
				default:
					return
				}
			}
		}
	}
}

func (p *socketPool) handle(slot *socketSlot, evt socketmode.Event) {
	if slot.retiring.Load() && (evt.Type == socketmode.EventTypeConnecting || evt.Type == socketmode.EventTypeConnectionError) {
		return // the refused redial of a replaced connection
	}
	defer p.b.recoverEnvelope(slot.client, evt)
	if p.b.badEnvelope(slot.client, evt) {
		return
	}
	p.b.handleEvent(p.work, slot.client, evt)
}

// warned runs when Slack warned slot's connection c that it will close it.
// It runs on c's read goroutine and must not block.
func (p *socketPool) warned(slot *socketSlot, c *socketwatch.Conn, d socketwatch.Disconnect) {
	p.mu.Lock()
	if slot.retiring.Load() || p.ctx.Err() != nil {
		p.mu.Unlock()
		return
	}
	log := p.b.log.With("slot", slot.id, "debug_info", string(d.DebugInfo))
	replace := len(p.slots) < MaxConnections
	if replace {
		slot.retiring.Store(true)
	}
	p.mu.Unlock()
	if !replace {
		log.Info("Slack will refresh a socket mode connection; at the connection limit, it reconnects once closed")
		return
	}
	log.Info("Slack will refresh a socket mode connection; opening its replacement and reading it until Slack closes it")
	go func() {
		select {
		case <-c.Done():
		case <-p.ctx.Done():
		}
		slot.cancel()
	}()
	p.open()
}

// wait returns once every slot has stopped and its events are handled.
func (p *socketPool) wait() { p.wg.Wait() }
