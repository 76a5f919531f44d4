package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
)

// BenchmarkIngest posts batches of 1000 changes to the API over HTTP; each
// op is one batch. Reported: changes per second.
func BenchmarkIngest(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			url := "sqlite:" + filepath.Join(b.TempDir(), "ingest.db")
			if dialect == "postgres" {
				if os.Getenv(pgtest.EnvVar) == "" {
					b.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
				}
				url = pgtest.URL(b)
			}
			store, err := storage.Open(context.Background(), url)
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			if err := store.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(web.NewHandler(web.Deps{Changes: incident.NewChangeLog(store, clock.Real{}), Tokens: []web.Token{legacy}}))
			defer srv.Close()
			var parts []string
			for i := range 1000 {
				parts = append(parts, fmt.Sprintf(`{"systems":["sys%d"],"person":"ci","summary":"deploy %d","kind":"deploy"}`, i%50, i))
			}
			body := []byte("[" + strings.Join(parts, ",") + "]")
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/changes", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 201 {
					b.Fatalf("POST: %v %v", resp, err)
				}
				resp.Body.Close()
			}
			b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "changes/s")
		})
	}
}

// manySystems is a body of just under MaxBody: one change naming 100,000
// distinct systems.
func manySystems() []byte {
	var b strings.Builder
	b.WriteString(`{"person":"ci","summary":"many","systems":[`)
	for i := range 100000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"s%05d"`, i)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// BenchmarkRefuseManySystems posts a change naming 100,000 systems (a body
// of about 0.9 MB, under MaxBody) to the handler; each op is one request,
// refused 400 for naming more than incident.MaxSystems.
func BenchmarkRefuseManySystems(b *testing.B) {
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "many.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := web.NewHandler(web.Deps{Changes: incident.NewChangeLog(store, clock.Real{}), Tokens: []web.Token{legacy}})
	body := manySystems()
	if len(body) > web.MaxBody {
		b.Fatalf("the body is %d bytes, over MaxBody", len(body))
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/changes", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			b.Fatalf("POST of 100,000 systems = %d %s, want 400", rec.Code, rec.Body)
		}
	}
}
