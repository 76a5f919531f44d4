package web

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health is the JSON body of /healthz: "ok" or "unavailable", nothing
// more. /healthz is not authenticated, so why the database does not answer
// goes to the log (its credentials taken out), under the request ID the
// answer's X-Request-Id header gives.
type Health struct {
	Status string `json:"status"`
}

// handleHealth answers 200 {"status":"ok"} when the database answers and
// 503 {"status":"unavailable"} when not.
func handleHealth(ping func(context.Context) error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if ping != nil {
			if err := ping(ctx); err != nil {
				log.Error("health check: the database does not answer", "request_id", requestID(r), "err", redactSecrets(err.Error()))
				writeJSON(w, http.StatusServiceUnavailable, Health{Status: "unavailable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, Health{Status: "ok"})
	})
}

// The credentials an error's text may carry: a URL's user information
// (postgres://user:secret@host) and a key=value password (password=secret,
// as in a lib/pq connection string).
var (
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@`)
	passwordKV  = regexp.MustCompile(`(?i)\b((?:ssl)?pass(?:word|wd)?)(\s*[=:]\s*)('[^']*'|"[^"]*"|\S+)`)
)

// redactSecrets takes credentials out of text bound for the log.
func redactSecrets(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}REDACTED@")
	return passwordKV.ReplaceAllString(s, "${1}${2}REDACTED")
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
