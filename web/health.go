package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// handleHealth answers 200 when the database answers, 503 when not. It is
// not authenticated: the 503 says the database is unavailable and gives the
// request ID under which the log holds why.
func handleHealth(ping func(context.Context) error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if ping != nil {
			if err := ping(ctx); err != nil {
				log.Error("health check: the database does not answer", "request_id", requestID(r), "err", err)
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "database": "unavailable", "request_id": requestID(r)})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// countRequests counts requests to route by status code.
func countRequests(route string, requests *prometheus.CounterVec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	})
}
