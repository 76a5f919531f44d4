package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route.
func routes(mux *http.ServeMux, d Deps, logged prometheus.Counter, requests *prometheus.CounterVec) {
	count := func(route string, h http.Handler) http.Handler { return countRequests(route, requests, h) }
	auth := authorizer(d.Tokens)
	mux.Handle("POST /api/v1/changes", count("post_changes", auth(handlePostChanges(d.Changes, d.Now, logged, d.Log))))
	mux.Handle("GET /api/v1/changes", count("get_changes", auth(handleGetChanges(d.Changes, d.Now, d.Log))))
	if d.Alerts != nil {
		mux.Handle("POST /api/v1/alerts/{source}", count("post_alerts", d.Alerts))
	}
	mux.Handle("GET /healthz", count("healthz", handleHealth(d.Ping, d.Log)))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
}
