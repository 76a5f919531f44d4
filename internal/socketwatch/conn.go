// Package socketwatch lets slack-go's socketmode client live through
// Slack's Socket Mode connection refreshes without losing an envelope.
//
// Why it exists: about ten seconds before Slack closes a Socket Mode
// connection it sends {"type":"disconnect","reason":"warning"}, and it may
// go on writing envelopes on that connection until it sends
// {"type":"disconnect","reason":"refresh_requested"} and closes it.
// slack-go (socket_mode_managed_conn.go, runRequestHandler) treats every
// disconnect frame as the end of the connection and closes it at once, so an
// envelope already on the wire after the warning is never read nor acked,
// and Slack does not redeliver slash commands. slack-go has no hook for the
// frame, so this package works beneath it: Dialer returns a
// websocket.Dialer (for socketmode.OptionDialer) whose connections read the
// server's WebSocket frames on their way to gorilla/websocket, drop the
// warning frame and report it through Hooks.Warning. slack-go never sees the
// warning and keeps reading until refresh_requested or the close; the
// caller can open a replacement connection at once.
//
// Only a complete, single (FIN), uncompressed, unmasked text frame of at
// most MaxWatchedFrame bytes whose JSON has type "disconnect" and reason
// "warning" is dropped. Every other byte (the handshake response, other
// frames, continuation, control and compressed frames) passes through
// unchanged and in order.
package socketwatch

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Hooks tell the owner of the connections what happens to them.
type Hooks struct {
	// Warning runs when a warning frame was dropped from c, on the
	// goroutine reading c: it must not block.
	Warning func(c *Conn, d Disconnect)
	// BeforeDial, if not nil, runs before each connection is dialled; an
	// error refuses the dial (slack-go then reports a connection error and
	// retries after a backoff).
	BeforeDial func() error
}

// Conn is a net.Conn that drops Slack's disconnect warning frames from
// what it reads.
type Conn struct {
	net.Conn
	hooks Hooks

	rmu     sync.Mutex // serialises Read
	f       *filter
	buf     []byte // scratch for reads from Conn
	pending []byte // filtered bytes not yet returned
	err     error  // read error to return once pending is empty

	done      chan struct{}
	closeOnce sync.Once
}

// Wrap returns c watched for warnings. withHTTP says the stream starts with
// the HTTP handshake response (as it does when c is handed to gorilla's
// Dialer); otherwise it starts with frames.
func Wrap(c net.Conn, withHTTP bool, hooks Hooks) *Conn {
	return &Conn{Conn: c, hooks: hooks, f: newFilter(withHTTP), buf: make([]byte, 32<<10), done: make(chan struct{})}
}

// Read reads filtered bytes. It returns only once it has at least one byte
// or an error: frames held back or dropped never show as an empty read.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.Conn.Read(c.buf)
		out, warned := c.f.feed(c.buf[:n])
		c.pending = append(c.pending, out...)
		for _, d := range warned {
			if c.hooks.Warning != nil {
				c.hooks.Warning(c, d)
			}
		}
		if err != nil {
			c.pending = append(c.pending, c.f.flush()...)
			c.err = err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = c.pending[:0:0]
	}
	return n, nil
}

// Close closes the connection; Done is closed then.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return c.Conn.Close()
}

// Done is closed once the connection has been closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Dialer returns a websocket.Dialer for socketmode.OptionDialer with the
// settings of slack-go's own (handshake timeout, a write buffer above
// Slack's 20 KB response limit) whose connections are watched with hooks.
//
// For wss:// URLs it dials TLS itself (server name checked, ALPN http/1.1)
// so that it sees the frames in plaintext. gorilla's own proxy support
// would then wrap the TLS dial, so the dialer does proxying itself: an
// http:// proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY is used with CONNECT;
// other proxy schemes are refused with an error.
func Dialer(hooks Hooks) *websocket.Dialer {
	return (&dialer{hooks: hooks, proxy: http.ProxyFromEnvironment}).websocket()
}

func (d *dialer) websocket() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout:  45 * time.Second,
		WriteBufferSize:   32 << 10,
		NetDialContext:    d.dialPlain,
		NetDialTLSContext: d.dialTLS,
	}
}

type dialer struct {
	hooks Hooks
	proxy func(*http.Request) (*url.URL, error)
	tls   *tls.Config // tests: trust a test server
}

func (d *dialer) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialTCP(ctx, "http", network, addr)
	if err != nil {
		return nil, err
	}
	return Wrap(c, true, d.hooks), nil
}

func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialTCP(ctx, "https", network, addr)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.tls != nil {
		cfg = d.tls.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("socketwatch: TLS handshake with %s: %w", host, err)
	}
	return Wrap(tc, true, d.hooks), nil
}

// dialTCP connects to addr, through the environment's proxy if it names one.
func (d *dialer) dialTCP(ctx context.Context, scheme, network, addr string) (net.Conn, error) {
	if d.hooks.BeforeDial != nil {
		if err := d.hooks.BeforeDial(); err != nil {
			return nil, err
		}
	}
	var nd net.Dialer
	var proxyURL *url.URL
	if d.proxy != nil {
		req := &http.Request{URL: &url.URL{Scheme: scheme, Host: addr}}
		u, err := d.proxy(req)
		if err != nil {
			return nil, fmt.Errorf("socketwatch: proxy: %w", err)
		}
		proxyURL = u
	}
	if proxyURL == nil {
		return nd.DialContext(ctx, network, addr)
	}
	if proxyURL.Scheme != "http" {
		return nil, fmt.Errorf("socketwatch: proxy scheme %q is not supported (use an http:// proxy)", proxyURL.Scheme)
	}
	proxyAddr := proxyURL.Host
	if proxyURL.Port() == "" {
		proxyAddr = net.JoinHostPort(proxyURL.Hostname(), "80")
	}
	c, err := nd.DialContext(ctx, network, proxyAddr)
	if err != nil {
		return nil, err
	}
	if err := connect(ctx, c, addr, proxyURL); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// connect asks an HTTP proxy on c for a tunnel to addr.
func connect(ctx context.Context, c net.Conn, addr string, proxyURL *url.URL) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
		defer func() { _ = c.SetDeadline(time.Time{}) }()
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if u := proxyURL.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(c); err != nil {
		return fmt.Errorf("socketwatch: proxy CONNECT: %w", err)
	}
	// The server says nothing before the client's first bytes, so the
	// reader cannot take bytes beyond the response.
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return fmt.Errorf("socketwatch: proxy CONNECT: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("socketwatch: proxy CONNECT: " + resp.Status)
	}
	return nil
}
