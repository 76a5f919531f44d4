package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// closedWithin bounds how long a test waits for the server to close a
// connection its limits should close in well under a second. It bounds the
// wait of a failing test; no test asserts how long the server took.
const closedWithin = 10 * time.Second

// shortLimits are limits a test sees run out quickly.
var shortLimits = web.ServerLimits{
	ReadHeaderTimeout: 300 * time.Millisecond,
	ReadTimeout:       500 * time.Millisecond,
	WriteTimeout:      2 * time.Second,
	IdleTimeout:       300 * time.Millisecond,
	MaxHeaderBytes:    4 << 10,
}

// serveReal serves the API, over a new SQLite database, within limits on a
// real TCP listener, and returns its address and store.
func serveReal(t *testing.T, limits web.ServerLimits) (string, *storage.Store) {
	t.Helper()
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(web.NewHandler(web.Deps{
		Changes: incident.NewChangeLog(store, clock.Real{}), Ping: store.Ping, Tokens: []web.Token{legacy},
	}), limits, nil)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		store.Close()
	})
	return ln.Addr().String(), store
}

// dial opens a TCP connection to addr, closed when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads conn until the server closes it, returning what was
// read; it fails the test (Errorf: it may run in a goroutine of its own)
// if closedWithin passes first.
func waitClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(closedWithin))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server kept the connection open (read so far: %q)", got)
	}
	// A reset (the server closed with unread input) is closed too.
	return string(got)
}

// TestIdleConnectionsAreClosed opens kept-alive connections that each made
// one request, and connections that never send a byte, and sees the server
// close every one once its idle (or header) timeout runs out.
func TestIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	addr, _ := serveReal(t, shortLimits)
	var kept []net.Conn
	for range 20 {
		conn := dial(t, addr)
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: sitrep\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("healthz = %d (close %v), want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		kept = append(kept, conn)
	}
	var silent []net.Conn
	for range 5 {
		silent = append(silent, dial(t, addr))
	}
	var wg sync.WaitGroup
	for _, conn := range append(kept, silent...) {
		wg.Go(func() {
			if got := waitClosed(t, conn); got != "" {
				t.Errorf("an idle connection read %q before it closed", got)
			}
		})
	}
	wg.Wait()
}

// TestSlowClientsAreCutOff trickles a request a byte at a time — its body,
// and its header — and sees the server stop reading at its read timeout:
// the body's request is refused (400, nothing stored) and the connection
// closed; the header's connection is closed.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	addr, store := serveReal(t, shortLimits)

	trickle := func(conn net.Conn, s string) {
		go func() {
			for i := range len(s) {
				if _, err := conn.Write([]byte{s[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}

	t.Run("body", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		body := `{"system":"web","person":"ci","summary":"trickled in a byte at a time, for as long as the server would wait"}`
		fmt.Fprintf(conn, "POST /api/v1/changes HTTP/1.1\r\nHost: sitrep\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", token, len(body))
		trickle(conn, body)
		got := waitClosed(t, conn)
		if !strings.HasPrefix(got, "HTTP/1.1 400 ") || !strings.Contains(got, "sent too slowly") {
			t.Errorf("the server answered %q, want 400 saying the body came too slowly", got)
		}
		if n := count(t, store); n != 0 {
			t.Errorf("a trickled body stored %d changes", n)
		}
	})
	t.Run("header", func(t *testing.T) {
		t.Parallel()
		conn := dial(t, addr)
		trickle(conn, "GET /healthz HTTP/1.1\r\nHost: sitrep\r\nX-Slow: "+strings.Repeat("z", 200)+"\r\n\r\n")
		if got := waitClosed(t, conn); strings.Contains(got, "200 OK") {
			t.Errorf("a trickled header was served: %q", got)
		}
	})
}

// TestRequestSizeLimits sends a header over MaxHeaderBytes (431) and a body
// over web.MaxBody (413) over real connections, at the production limits
// and at a test's.
func TestRequestSizeLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limits web.ServerLimits
	}{
		{"production limits", web.DefaultServerLimits()},
		{"short limits", shortLimits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, store := serveReal(t, tc.limits)
			send := func(header string, body io.Reader) int {
				t.Helper()
				conn := dial(t, addr)
				fmt.Fprint(conn, header)
				if body != nil {
					go func() { _, _ = io.Copy(conn, body) }()
				}
				_ = conn.SetReadDeadline(time.Now().Add(closedWithin))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("reading the answer: %v", err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			// net/http reads 4 KiB beyond MaxHeaderBytes before it refuses.
			big := strings.Repeat("x", tc.limits.MaxHeaderBytes+8<<10)
			if code := send("GET /healthz HTTP/1.1\r\nHost: sitrep\r\nX-Big: "+big+"\r\n\r\n", nil); code != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("an oversized header = %d, want 431", code)
			}
			fits := strings.Repeat("x", tc.limits.MaxHeaderBytes/2)
			if code := send("GET /healthz HTTP/1.1\r\nHost: sitrep\r\nX-Big: "+fits+"\r\n\r\n", nil); code != http.StatusOK {
				t.Errorf("a header of half the limit = %d, want 200", code)
			}
			n := web.MaxBody + 1
			if code := send(fmt.Sprintf("POST /api/v1/changes HTTP/1.1\r\nHost: sitrep\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", token, n),
				strings.NewReader(strings.Repeat(" ", n))); code != http.StatusRequestEntityTooLarge {
				t.Errorf("a body over MaxBody = %d, want 413", code)
			}
			if n := count(t, store); n != 0 {
				t.Errorf("refused requests stored %d changes", n)
			}
		})
	}
}

// TestDefaultServerLimits: a server of zero limits has the defaults, each
// set (net/http's zero is no limit at all).
func TestDefaultServerLimits(t *testing.T) {
	t.Parallel()
	d := web.DefaultServerLimits()
	srv := web.NewServer(http.NotFoundHandler(), web.ServerLimits{IdleTimeout: time.Second}, nil)
	got := web.ServerLimits{ReadHeaderTimeout: srv.ReadHeaderTimeout, ReadTimeout: srv.ReadTimeout,
		WriteTimeout: srv.WriteTimeout, IdleTimeout: srv.IdleTimeout, MaxHeaderBytes: srv.MaxHeaderBytes}
	want := d
	want.IdleTimeout = time.Second
	if got != want {
		t.Errorf("NewServer set %+v, want %+v", got, want)
	}
	if d.ReadHeaderTimeout <= 0 || d.ReadTimeout < d.ReadHeaderTimeout || d.WriteTimeout <= d.ReadTimeout ||
		d.IdleTimeout <= 0 || d.MaxHeaderBytes <= 0 || d.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("DefaultServerLimits %+v: want every limit set, a write timeout past the read timeout, a header limit below net/http's 1 MB", d)
	}
}
