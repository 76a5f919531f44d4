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
