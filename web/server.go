package web

import (
	"log/slog"
	"net/http"
	"time"
)

// ServerLimits bound what one client may hold of the server: how long it
// may take to send a request's header and its body, how long a response
// may take, how long a kept-alive connection may sit idle, and how large a
// request's header may be. Without them a client that sends slowly, or
// not at all, keeps a connection (and a goroutine) for as long as it likes.
type ServerLimits struct {
	// ReadHeaderTimeout bounds reading a request's line and header, from
	// the request's first byte (or, on a new connection, from its start).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: a body
	// trickled in a byte at a time is cut off when it runs out.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's header to
	// the end of its response: the handler's work and the writing.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request before the server closes it.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and header; a larger one is
	// answered 431 (net/http reads up to 4 KiB beyond it before it tells).
	MaxHeaderBytes int
}

// DefaultServerLimits are the limits of the HTTP API in production: a
// change batch of MaxBody (1 MiB) needs about 35 KB/s to arrive within
// ReadTimeout; a request's header, with its token, is far below 16 KiB.
func DefaultServerLimits() ServerLimits {
	return ServerLimits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// withDefaults fills each limit left zero with its default.
func (l ServerLimits) withDefaults() ServerLimits {
	d := DefaultServerLimits()
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// NewServer returns an HTTP server of handler within limits (a limit left
// zero takes its default, DefaultServerLimits); net/http's own complaints
// (a malformed request, a TLS handshake that failed) go to log as
// warnings. The caller serves it (Serve) and shuts it down (Shutdown).
func NewServer(handler http.Handler, limits ServerLimits, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := limits.withDefaults()
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
