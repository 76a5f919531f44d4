package slacksim

import (
	"net"
	"sync/atomic"
)

// connCounter counts the TCP connections the simulator accepts, Web API,
// response URLs and Socket Mode alike: how often clients open a connection
// instead of reusing one (on real Slack, each is a TLS handshake).
type connCounter struct{ accepted atomic.Int64 }

// countingListener counts each connection it accepts.
type countingListener struct {
	net.Listener
	n *connCounter
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.accepted.Add(1)
	}
	return c, err
}

// counting returns ln counting its accepted connections in c.
func (c *connCounter) counting(ln net.Listener) net.Listener {
	return countingListener{Listener: ln, n: c}
}

// AcceptedConnections returns how many TCP connections the simulator has
// accepted since it started.
func (s *Sim) AcceptedConnections() int64 { return s.conns.accepted.Load() }
