package slacksim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socketState holds the Socket Mode connections and the envelopes sent
// over them. It has its own lock so acks never wait on Web API calls.
type socketState struct {
	mu        sync.Mutex
	conns     []*conn
	rr        int
	nextConn  int
	tickets   map[string]bool
	records   map[string]*record
	history   []*record
	latencies []time.Duration
	unacked   []*record
	stray     int // acks for unknown or already acked envelopes
	nextEnv   int
	timers    map[*time.Timer]bool
}

func (st *socketState) init() {
	st.tickets = map[string]bool{}
	st.records = map[string]*record{}
	st.timers = map[*time.Timer]bool{}
}

func (st *socketState) stopTimers() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for t := range st.timers {
		t.Stop()
	}
	st.timers = map[*time.Timer]bool{}
}

// conn is one Socket Mode WebSocket connection.
type conn struct {
	id        int
	ws        *websocket.Conn
	wmu       sync.Mutex
	done      chan struct{}
	closeOnce sync.Once
	// warned and leaving are guarded by socket.mu: warned once the
	// disconnect warning was sent, leaving once the refresh's grace period
	// is over and no new envelope may be written on it.
	warned, leaving bool
}

func (c *conn) write(v any) error { return c.writeStamped(nil, v, nil) }

// writeStamped writes first (if not nil) and then v, with no other frame
// between them; stamp, if not nil, runs once the connection is ours, just
// before v goes out, so a send time excludes the wait behind other writers.
func (c *conn) writeStamped(first, v any, stamp func()) error {
	var head []byte
	if first != nil {
		var err error
		if head, err = json.Marshal(first); err != nil {
			return err
		}
	}
	b, err := marshalFrame(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if head != nil {
		if err := c.ws.WriteMessage(websocket.TextMessage, head); err != nil {
			return err
		}
	}
	if stamp != nil {
		stamp()
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// close shuts the connection; graceful sends a close frame first.
func (c *conn) close(graceful bool) {
	c.closeOnce.Do(func() {
		if graceful {
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}
		_ = c.ws.Close()
		close(c.done)
	})
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// appsConnectionsOpen hands out a one-time WebSocket URL.
func (s *Sim) appsConnectionsOpen(_ *request) response {
	st := &s.socket
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.conns) >= s.opts.MaxConnections {
		return fail("too_many_websockets")
	}
	ticket := randomHex(16)
	st.tickets[ticket] = true
	wsURL := "ws" + s.baseURL[len("http"):] + "/ws?ticket=" + ticket + "&app_id=" + s.opts.AppID
	return ok(response{"url": wsURL})
}

// serveWS upgrades a Socket Mode connection holding a valid ticket, says
// hello, pings it, and reads acks until it closes.
func (s *Sim) serveWS(w http.ResponseWriter, hr *http.Request) {
	st := &s.socket
	ticket := hr.URL.Query().Get("ticket")
	st.mu.Lock()
	valid := st.tickets[ticket]
	delete(st.tickets, ticket)
	full := len(st.conns) >= s.opts.MaxConnections
	st.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	if full {
		http.Error(w, "too many connections", http.StatusTooManyRequests)
		return
	}
	select {
	case <-s.closed:
		http.Error(w, "simulator closed", http.StatusServiceUnavailable)
		return
	default:
	}
	ws, err := upgrader.Upgrade(w, hr, nil)
	if err != nil {
		s.log.Warn("slacksim: websocket upgrade", "err", err)
		return
	}
	// Slack says hello before anything else on a connection, so the
	// connection joins the rotation only once hello is written: no
	// envelope or warning can overtake it.
	st.mu.Lock()
	st.nextConn++
	c := &conn{id: st.nextConn, ws: ws, done: make(chan struct{})}
	n := len(st.conns) + 1
	st.mu.Unlock()
	hello := map[string]any{
		"type":            "hello",
		"num_connections": n,
		"connection_info": map[string]any{"app_id": s.opts.AppID},
		"debug_info": map[string]any{"host": "slacksim", "build_number": 1,
			"approximate_connection_time": 18060},
	}
	if err := c.write(hello); err != nil {
		c.close(false)
		return
	}
	st.mu.Lock()
	st.conns = append(st.conns, c)
	n = len(st.conns)
	st.mu.Unlock()
	s.log.Info("slacksim: socket mode connected", "conn", c.id, "connections", n)
	s.notify()
	select {
	case <-s.closed: // Close ran while this connection was being set up
		s.removeConn(c, false)
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.pingLoop(c)
	}()
	s.readLoop(c)
}

func (s *Sim) pingLoop(c *conn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-s.closed:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("slacksim"), time.Now().Add(5*time.Second)); err != nil {
				s.removeConn(c, false)
				return
			}
		}
	}
}

// ack is what the app sends back for an envelope.
type ack struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func (s *Sim) readLoop(c *conn) {
	defer s.removeConn(c, false)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var a ack
		if err := json.Unmarshal(data, &a); err != nil || a.EnvelopeID == "" {
			s.log.Warn("slacksim: unreadable socket message", "conn", c.id, "err", err)
			continue
		}
		s.handleAck(c.id, a.EnvelopeID, a.Payload)
	}
}

// removeConn forgets and closes c.
func (s *Sim) removeConn(c *conn, graceful bool) {
	st := &s.socket
	st.mu.Lock()
	removed := false
	for i, x := range st.conns {
		if x == c {
			st.conns = append(st.conns[:i:i], st.conns[i+1:]...)
			removed = true
			break
		}
	}
	st.mu.Unlock()
	c.close(graceful)
	if removed {
		s.log.Info("slacksim: socket mode connection closed", "conn", c.id)
		s.notify()
	}
}

// pickConn chooses the next connection round-robin, or nil if none is open.
// A connection whose refresh grace period is over is no longer chosen; one
// that was only warned still is.
func (s *Sim) pickConn() *conn {
	st := &s.socket
	st.mu.Lock()
	defer st.mu.Unlock()
	open := make([]*conn, 0, len(st.conns))
	for _, c := range st.conns {
		if !c.leaving {
			open = append(open, c)
		}
	}
	if len(open) == 0 {
		return nil
	}
	st.rr = (st.rr + 1) % len(open)
	return open[st.rr]
}

// Connections returns how many Socket Mode connections are open.
func (s *Sim) Connections() int {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	return len(s.socket.conns)
}

// Disconnect sends {"type":"disconnect","reason":reason} on every open
// connection and then closes them, as Slack does on a refresh; the slack-go
// client reconnects by itself through apps.connections.open. An empty
// reason means "refresh_requested".
func (s *Sim) Disconnect(reason string) {
	if reason == "" {
		reason = "refresh_requested"
	}
	frame := map[string]any{"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "slacksim"}}
	for _, c := range s.takeConns() {
		_ = c.write(frame)
		s.removeConn(c, true)
	}
}

// DropConnections closes every connection abruptly, without a disconnect
// frame or a close frame, as a network failure would.
func (s *Sim) DropConnections() {
	for _, c := range s.takeConns() {
		s.removeConn(c, false)
	}
}

func (s *Sim) takeConns() []*conn {
	s.socket.mu.Lock()
	defer s.socket.mu.Unlock()
	return append([]*conn(nil), s.socket.conns...)
}
