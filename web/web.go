// Package web is sitrep's HTTP surface: the change-log API that CI/CD
// pipelines call, a health check and Prometheus metrics. It knows the
// domain's change log, not Slack or SQL.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitrep/sitrep/incident"
)

// Deps are what the HTTP handlers need.
type Deps struct {
	Changes *incident.ChangeLog
	// Ping checks that the database answers, for /healthz.
	Ping func(context.Context) error
	// Tokens authorise API calls (Authorization: Bearer <secret>); the
	// name of the one sent is recorded as the source of the changes it
	// logs. None refuses every API call, saying why.
	Tokens []Token
	// Alerts serves POST /api/v1/alerts/{source} (web/alerts.NewHandler);
	// nil leaves alert intake off.
	Alerts http.Handler
	// Registry holds the metrics /metrics serves; the handler adds its own.
	Registry *prometheus.Registry
	Log      *slog.Logger
	// Now is the clock that bounds occurred_at and reads since=24h;
	// nil is time.Now.
	Now func() time.Time
}

// Token is a bearer token the API accepts.
type Token struct {
	// Name is recorded as the source of the changes logged with the token
	// (incident.APISource: "api:NAME", or "api" for the token named api).
	Name string
	// Secret is what a caller sends. An empty one matches nothing.
	Secret string
}

// MaxBody is the largest request body the API reads.
const MaxBody = 1 << 20

// NewHandler returns the HTTP handler of every route (see routes).
func NewHandler(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	logged := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sitrep_changes_logged_total", Help: "Changes added through POST /api/v1/changes (retries of a stored external_id not counted).",
	})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sitrep_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	d.Registry.MustRegister(logged, requests)
	mux := http.NewServeMux()
	routes(mux, d, logged, requests)
	return withRequestID(recoverPanics(d.Log, mux))
}
