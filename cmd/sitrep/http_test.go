package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/web"
)

// TestStartHTTPLimits starts the change API as sitrep run does: with the
// production limits, each set on its server; and, with a test's short
// limits, a kept-alive connection is closed once idle and a silent one
// once its header timeout runs out, over real TCP connections.
func TestStartHTTPLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := openStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "http.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := config.Config{HTTPAddr: "127.0.0.1:0"}
	tokens := []config.APIToken{{Name: "api", Secret: "http-test-token"}}
	log := slog.New(slog.DiscardHandler)

	// The app is left out: only /metrics reads it, and this test does not.
	prod, err := startHTTP(ctx, cfg, tokens, store, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	d := web.DefaultServerLimits()
	got := web.ServerLimits{ReadHeaderTimeout: prod.srv.ReadHeaderTimeout, ReadTimeout: prod.srv.ReadTimeout,
		WriteTimeout: prod.srv.WriteTimeout, IdleTimeout: prod.srv.IdleTimeout, MaxHeaderBytes: prod.srv.MaxHeaderBytes}
	prod.shutdown()
	if got != d {
		t.Errorf("sitrep run's server has limits %+v, want %+v", got, d)
	}

	short := web.ServerLimits{ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond}
	s, err := startHTTPWithin(ctx, cfg, tokens, store, nil, log, short)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.shutdown)
	kept, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	fmt.Fprintf(kept, "GET /healthz HTTP/1.1\r\nHost: sitrep\r\n\r\n")
	silent, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for name, conn := range map[string]net.Conn{"kept-alive": kept, "silent": silent} {
		// The bound of a failing test's wait, not a measure of the server.
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("the %s connection was kept open (read %q)", name, got)
		}
		if name == "kept-alive" && !strings.HasPrefix(string(got), "HTTP/1.1 200 OK") {
			t.Errorf("healthz on the kept-alive connection answered %q", got)
		}
	}
}
