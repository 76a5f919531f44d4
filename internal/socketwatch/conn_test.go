package socketwatch

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestConnReadsThroughPipe checks Read on a stream that arrives in pieces
// and ends: nothing but the warning is lost, and the error comes last.
func TestConnReadsThroughPipe(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	var warned atomic.Int32
	c := Wrap(client, true, Hooks{Warning: func(*Conn, Disconnect) { warned.Add(1) }})
	in := cat([]byte(http101), text(hello), text(warning), text(envelope), text(warning)[:9])
	go func() {
		for len(in) > 0 {
			n := min(5, len(in))
			_, _ = server.Write(in[:n])
			in = in[n:]
		}
		_ = server.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte(http101), text(hello), text(envelope), text(warning)[:9])
	if string(got) != string(want) {
		t.Errorf("read\n%q\nwant\n%q", got, want)
	}
	if warned.Load() != 1 {
		t.Errorf("%d warnings reported", warned.Load())
	}
	_ = c.Close()
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed by Close")
	}
}

// wsServer sends hello, the warning, an envelope and refresh_requested,
// then echoes what it reads until the client closes.
func wsServer(t *testing.T) http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer ws.Close()
		for _, m := range []string{hello, warning, envelope, strings.Repeat("y", 70000), refresh} {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				return
			}
		}
		_ = ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
		for {
			typ, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			_ = ws.WriteMessage(typ, m)
		}
	})
}

func TestDialerDropsWarning(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(wsServer(t))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(wsServer(t))
	t.Cleanup(secure.Close)
	roots := secure.Client().Transport.(*http.Transport).TLSClientConfig
	for _, tc := range []struct {
		name, url string
		tls       *tls.Config
	}{
		{"ws", "ws" + strings.TrimPrefix(plain.URL, "http"), nil},
		{"wss", "wss" + strings.TrimPrefix(secure.URL, "https"), roots},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warned atomic.Int32
			var conn atomic.Pointer[Conn]
			d := (&dialer{tls: tc.tls, hooks: Hooks{Warning: func(c *Conn, d Disconnect) {
				conn.Store(c)
				warned.Add(1)
			}}}).websocket()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws, _, err := d.DialContext(ctx, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for range 4 {
				_, m, err := ws.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(m))
			}
			if len(got) != 4 || got[0] != hello || got[1] != envelope || len(got[2]) != 70000 || got[3] != refresh {
				t.Errorf("messages = %.80q", got)
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"envelope_id":"e1"}`)); err != nil {
				t.Fatal(err)
			}
			if _, m, err := ws.ReadMessage(); err != nil || string(m) != `{"envelope_id":"e1"}` {
				t.Errorf("echo = %q, %v", m, err)
			}
			if warned.Load() != 1 {
				t.Errorf("%d warnings reported", warned.Load())
			}
			_ = ws.Close()
			select {
			case <-conn.Load().Done():
			case <-time.After(5 * time.Second):
				t.Error("Done not closed")
			}
		})
	}
}

func TestBeforeDialRefuses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(wsServer(t))
	t.Cleanup(srv.Close)
	refused := errors.New("retired")
	d := Dialer(Hooks{BeforeDial: func() error { return refused }})
	_, _, err := d.DialContext(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if !errors.Is(err, refused) {
		t.Errorf("err = %v, want the hook's", err)
	}
}

func TestDialThroughProxy(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(wsServer(t))
	t.Cleanup(target.Close)
	var connects atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Header.Get("Proxy-Authorization") == "" {
			http.Error(w, "CONNECT with credentials only", http.StatusBadRequest)
			return
		}
		connects.Add(1)
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			_ = up.Close()
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		_, _ = io.Copy(c, up)
		_ = c.Close()
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := http.NewRequest("GET", strings.Replace(proxy.URL, "http://", "http://u:p@", 1), nil)
	var warned atomic.Int32
	d := (&dialer{proxy: http.ProxyURL(proxyURL.URL), hooks: Hooks{Warning: func(*Conn, Disconnect) { warned.Add(1) }}}).websocket()
	ws, _, err := d.DialContext(context.Background(), "ws"+strings.TrimPrefix(target.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != hello {
		t.Fatalf("first message %q, %v", m, err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != envelope {
		t.Fatalf("second message %q, %v", m, err)
	}
	if connects.Load() != 1 || warned.Load() != 1 {
		t.Errorf("connects %d, warnings %d", connects.Load(), warned.Load())
	}
}
