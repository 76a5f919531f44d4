package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// httpServer is the running change API.
type httpServer struct {
	srv  *http.Server
	done chan struct{}
	addr string
}

// startHTTP serves the change API, authorised by tokens (cfg.APITokens),
// /healthz and /metrics on cfg.HTTPAddr, within web.DefaultServerLimits.
func startHTTP(ctx context.Context, cfg config.Config, tokens []config.APIToken, store *storage.Store, a *app, log *slog.Logger) (*httpServer, error) {
	return startHTTPWithin(ctx, cfg, tokens, store, a, log, web.DefaultServerLimits())
}

// startHTTPWithin is startHTTP within limits: a test's are short, so that
// it sees slow clients cut off in well under a second.
func startHTTPWithin(ctx context.Context, cfg config.Config, tokens []config.APIToken, store *storage.Store, a *app, log *slog.Logger, limits web.ServerLimits) (*httpServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stat := func(name, help string, f func() int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) }))
	}
	stat("sitrep_envelopes_total", "Socket Mode envelopes received.", func() int64 { return a.bot.Stats().Envelopes })
	stat("sitrep_acks_total", "Socket Mode envelopes acked.", func() int64 { return a.bot.Stats().Acks })
	stat("sitrep_slack_calls_total", "Slack Web API calls, retries included.", func() int64 { return a.bot.Stats().SlackCalls })
	stat("sitrep_slack_retries_total", "Slack Web API calls that were retries.", func() int64 { return a.bot.Stats().SlackRetries })
	stat("sitrep_refusals_total", "Requests the permission model refused (each is logged with user, action and target).", func() int64 { return a.bot.Stats().Refusals })
	stat("sitrep_handler_panics_total", "Envelope handlers that panicked and were recovered (each is a bug; the log has its stack).", func() int64 { return a.bot.Stats().Panics })
	var clk clock.Clock = clock.Real{}
	if a != nil && a.clock != nil {
		clk = a.clock
	}
	webTokens := make([]web.Token, len(tokens))
	names := make([]string, len(tokens))
	for i, t := range tokens {
		webTokens[i] = web.Token{Name: t.Name, Secret: t.Secret}
		names[i] = t.Name
	}
	handler := web.NewHandler(web.Deps{
		Changes: incident.NewChangeLog(store, clk), Now: clk.Now, Ping: store.Ping, Tokens: webTokens,
		Registry: reg, Log: log.With("component", "web"),
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("SITREP_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	if len(tokens) == 0 {
		log.Warn("no API token (SITREP_API_TOKEN or api.tokens) is set: the change API refuses calls until one is", "addr", ln.Addr().String())
	}
	s := &httpServer{srv: web.NewServer(handler, limits, log.With("component", "web")), done: make(chan struct{}), addr: ln.Addr().String()}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "err", err)
		}
	}()
	log.Info("HTTP API listening", "addr", s.addr, "tokens", strings.Join(names, ","))
	return s, nil
}

// shutdown stops the server, letting requests in flight finish.
func (s *httpServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
}
