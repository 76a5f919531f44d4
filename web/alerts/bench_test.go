package alerts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/web/alerts"
)

// discard is a Receiver that stores nothing, so that a benchmark measures
// the HTTP side alone.
type discard struct{}

func (discard) Receive(_ context.Context, as []alert.Alert) (alert.Result, error) {
	return alert.Result{Groups: make([]alert.Received, len(as))}, nil
}

// BenchmarkHandler measures a request's way through the handler (auth,
// the bounded read, the parse, the answer) per source, over each source's
// firing fixture, in alerts per second.
func BenchmarkHandler(b *testing.B) {
	h := alerts.NewHandler(alerts.Config{Receiver: discard{}, Credentials: creds})
	for _, src := range alert.Sources() {
		b.Run(string(src), func(b *testing.B) {
			body, err := os.ReadFile(filepath.Join("testdata", string(src), "firing.json"))
			if err != nil {
				b.Fatal(err)
			}
			parsed, err := alerts.Parse(src, body)
			if err != nil {
				b.Fatal(err)
			}
			p, hdr := authFor(src, body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, p, strings.NewReader(string(body)))
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusAccepted {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.N*len(parsed))/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkHandlerBatch measures a full Alertmanager notification of 500
// alerts (about 300 KB), the size max_alerts is typically set to.
func BenchmarkHandlerBatch(b *testing.B) {
	h := alerts.NewHandler(alerts.Config{Receiver: discard{}, Credentials: creds})
	body := amBatch(500, "g", 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer am-new")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "alerts/s")
}

// amBatch writes an Alertmanager notification of n alerts in group key,
// fingerprints numbered from first.
func amBatch(n int, key string, first int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"version":"4","groupKey":%q,"status":"firing","receiver":"sitrep","alerts":[`, key)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"status":"firing","labels":{"alertname":"CheckoutLatencyHigh","instance":"checkout-%d:8080","job":"checkout","service":"checkout","severity":"critical"},`+
			`"annotations":{"summary":"Checkout p99 latency over 2s","description":"p99 latency of checkout has been above 2s for 5 minutes."},`+
			`"startsAt":"2026-11-24T09:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example.com:9090/graph?g0.expr=up","fingerprint":"%016x"}`, i, first+i)
	}
	sb.WriteString(`],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","truncatedAlerts":0}`)
	return sb.String()
}

// BenchmarkHandlerPostgres measures sustained intake through the handler
// into alert.Service on PostgreSQL: notifications of 100 alerts, each in a
// group of its own (the costlier case: a new group each), in alerts per
// second. It skips without pgtest's database.
func BenchmarkHandlerPostgres(b *testing.B) {
	if os.Getenv(pgtest.EnvVar) == "" {
		b.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
	}
	st := openStore(b, pgtest.URL(b))
	svc := alert.NewService(st, clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)), alert.Settings{PerMinute: 1 << 30})
	h := alerts.NewHandler(alerts.Config{Receiver: svc, Credentials: creds})
	const per = 100
	i := 0
	for b.Loop() {
		var sb strings.Builder
		sb.WriteString("[")
		for j := range per {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"key":"k-%d-%d","title":"Checkout p99 over 2s","severity":"critical","systems":["checkout"]}`, i, j)
		}
		sb.WriteString("]")
		i++
		req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/generic", strings.NewReader(sb.String()))
		req.Header.Set("Authorization", "Bearer gen-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "alerts/s")
}
