package crashtest

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/pgtest"
)

// cutMode is how a cut proxy treats new connections.
type cutMode int

const (
	// cutRefuse closes each new connection at once: the database is down.
	cutRefuse cutMode = iota
	// cutBlackhole accepts new connections and never answers: the
	// network drops everything.
	cutBlackhole
)

func (m cutMode) String() string {
	if m == cutBlackhole {
		return "black-holed"
	}
	return "refused"
}

// tcpProxy forwards TCP connections from a local port to a target, and can
// cut them off and restore them, as a database outage does.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	isCut bool
	mode  cutMode
	conns map[net.Conn]bool // open, both sides
	held  []net.Conn        // black-holed
	wg    sync.WaitGroup
}

// startProxy listens on 127.0.0.1:0 and forwards to target (host:port)
// until the test ends.
func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// addr is where the proxy listens.
func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		switch {
		case p.isCut && p.mode == cutRefuse:
			p.mu.Unlock()
			c.Close()
			continue
		case p.isCut:
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(c) })
	}
}

// pipe forwards one connection until either side closes.
func (p *tcpProxy) pipe(c net.Conn) {
	defer p.drop(c)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.isCut || !p.conns[c] {
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = true
	p.mu.Unlock()
	defer p.drop(up)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, c)
		up.Close()
		close(done)
	}()
	_, _ = io.Copy(c, up)
	c.Close()
	<-done
}

func (p *tcpProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// cut closes every open connection and treats new ones as mode says.
func (p *tcpProxy) cut(mode cutMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isCut, p.mode = true, mode
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore forwards new connections again; black-holed ones are closed, so
// their clients find out and connect again.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isCut = false
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.cut(cutRefuse)
	p.restore()
	p.wg.Wait()
}

// hostOf returns the host:port of a database URL (port 5432 if none).
func hostOf(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// echoServer answers every connection with what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes a line on c and reads it back within d.
func roundTrip(c net.Conn, d time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	_, err := io.ReadFull(c, buf)
	return err
}

func TestProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cut  *cutMode // nil: not cut
		// existingDies: a connection open before the cut stops working.
		existingDies bool
		// newWorks: a connection made now carries bytes.
		newWorks bool
		// newRefused: a connection made now is closed at once (EOF),
		// rather than left hanging.
		newRefused bool
	}{
		{name: "forwards", newWorks: true},
		{name: "refused", cut: ptr(cutRefuse), existingDies: true, newRefused: true},
		{name: "black-holed", cut: ptr(cutBlackhole), existingDies: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startProxy(t, echoServer(t))
			before, err := net.Dial("tcp", p.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer before.Close()
			if err := roundTrip(before, 5*time.Second); err != nil {
				t.Fatalf("through the proxy before any cut: %v", err)
			}
			if tc.cut != nil {
				p.cut(*tc.cut)
			}
			if err := roundTrip(before, 5*time.Second); (err != nil) != tc.existingDies {
				t.Errorf("an open connection after the cut: err = %v, want dead %v", err, tc.existingDies)
			}
			now, err := net.Dial("tcp", p.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer now.Close()
			// A working or refusing path gets all the time a loaded machine
			// needs to answer or close (either ends the wait at once); only
			// a black hole, which never answers, is given just a moment.
			wait := 5 * time.Second
			if !tc.newWorks && !tc.newRefused {
				wait = 300 * time.Millisecond
			}
			err = roundTrip(now, wait)
			var ne net.Error
			switch {
			case tc.newWorks && err != nil:
				t.Errorf("a new connection: %v", err)
			case !tc.newWorks && err == nil:
				t.Error("a new connection carried bytes through a cut proxy")
			case tc.newRefused && (errors.As(err, &ne) && ne.Timeout()):
				t.Errorf("a new connection hung (%v); a refusing proxy closes it", err)
			case !tc.newWorks && !tc.newRefused && !(errors.As(err, &ne) && ne.Timeout()):
				t.Errorf("a new connection failed with %v; a black hole never answers", err)
			}
			p.restore()
			after, err := net.Dial("tcp", p.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer after.Close()
			if err := roundTrip(after, 5*time.Second); err != nil {
				t.Errorf("a new connection after restore: %v", err)
			}
		})
	}
}

// TestProxyPostgres runs queries through the proxy to the test database:
// they work, fail during a cut, and work again after it.
func TestProxyPostgres(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	p := startProxy(t, hostOf(t, base))
	db, err := sql.Open("postgres", withHost(base, p.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	if err := query(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.cut(cutRefuse)
	if err := query(); err == nil {
		t.Error("a query went through a cut proxy")
	}
	p.restore()
	if !eventually(10*time.Second, func() bool { return query() == nil }) {
		t.Errorf("queries fail after restore: %v", query())
	}
}

func ptr[T any](v T) *T { return &v }
