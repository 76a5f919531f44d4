package alerts_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web/alerts"
)

// openStore opens and migrates the store at url, closed when the test ends.
func openStore(t testing.TB, url string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// storeURLs are the databases the store tests run on: SQLite always,
// PostgreSQL when pgtest's variable names one.
func storeURLs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "alerts.db") },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	}
}

// stored counts the alerts and groups the store holds.
func stored(t *testing.T, st *storage.Store) (alertsStored int64, groups int) {
	t.Helper()
	n, err := st.CountAlerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := st.AlertGroups(context.Background(), alert.GroupQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return n, len(gs)
}

// TestStoreRefusedNothingStored posts, to the handler over alert.Service
// and the real store, every kind of request sitrep refuses, then the
// fixtures it accepts: nothing of the refused ones is stored, and the
// accepted ones are, their repeats folded into their groups.
func TestStoreRefusedNothingStored(t *testing.T) {
	for name, url := range storeURLs(t) {
		t.Run(name, func(t *testing.T) {
			st := openStore(t, url(t))
			svc := alert.NewService(st, clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)), alert.Settings{})
			s := newServer(t, svc)

			am := fixture(t, alert.SourceAlertmanager, "firing")
			pd := fixture(t, alert.SourcePagerDuty, "firing")
			big := append(append([]byte(`{"key":"k","title":"t","details":"`), bytes.Repeat([]byte("x"), alerts.MaxBody)...), '"', '}')
			var many strings.Builder
			many.WriteString("[")
			for i := range alerts.MaxAlerts + 1 {
				if i > 0 {
					many.WriteString(",")
				}
				many.WriteString(`{"key":"k","title":"t"}`)
			}
			many.WriteString("]")
			for _, r := range []struct {
				name   string
				path   string
				body   []byte
				header []string
				status int
			}{
				{"unknown source", "/api/v1/alerts/zabbix", am, []string{"Authorization", "Bearer am-new"}, 404},
				{"no token", "/api/v1/alerts/alertmanager", am, nil, 401},
				{"wrong token", "/api/v1/alerts/alertmanager", am, []string{"Authorization", "Bearer gf-token"}, 401},
				{"splunk wrong token", "/api/v1/alerts/splunk?token=x", fixture(t, alert.SourceSplunk, "firing"), nil, 401},
				{"pagerduty wrong secret", "/api/v1/alerts/pagerduty", pd, []string{alerts.HeaderPagerDutySignature, sign(pd, "pd-gone")}, 401},
				{"too large", "/api/v1/alerts/generic", big, []string{"Authorization", "Bearer gen-token"}, 413},
				{"malformed third alert", "/api/v1/alerts/generic", []byte(`[{"key":"a","title":"t"},{"key":"b","title":"t"},{"key":"c"}]`), []string{"Authorization", "Bearer gen-token"}, 400},
				{"too many alerts", "/api/v1/alerts/generic", []byte(many.String()), []string{"Authorization", "Bearer gen-token"}, 400},
				{"pagerduty event not read", "/api/v1/alerts/pagerduty", fixture(t, alert.SourcePagerDuty, "annotated"),
					[]string{alerts.HeaderPagerDutySignature, sign(fixture(t, alert.SourcePagerDuty, "annotated"), "pd-old")}, 202},
			} {
				if a := s.post(t, r.path, r.body, r.header...); a.status != r.status {
					t.Errorf("%s: %d %v, want %d", r.name, a.status, a.body, r.status)
				}
			}
			if n, g := stored(t, st); n != 0 || g != 0 {
				t.Fatalf("refused requests stored %d alerts in %d groups", n, g)
			}

			// Accepted: every fixture, in order firing, repeated, resolved.
			want := 0
			groups := map[string]bool{}
			for _, src := range alert.Sources() {
				for _, f := range []string{"firing", "repeated", "resolved"} {
					files, _ := filepath.Glob(filepath.Join("testdata", string(src), f+".json"))
					if len(files) == 0 {
						continue
					}
					body := fixture(t, src, f)
					p, h := authFor(src, body)
					a := s.post(t, p, body, h...)
					if a.status != http.StatusAccepted {
						t.Fatalf("%s/%s: %d %v", src, f, a.status, a.body)
					}
					parsed, _ := alerts.Parse(src, body)
					want += len(parsed)
					for _, x := range parsed {
						groups[string(src)+"\x00"+x.GroupKey] = true
					}
				}
			}
			if n, g := stored(t, st); n != int64(want) || g != len(groups) {
				t.Errorf("stored %d alerts in %d groups, want %d in %d", n, g, want, len(groups))
			}
		})
	}
}

// TestStoreUnavailable checks that when the store cannot be written the
// sender is answered 503 with Retry-After, and nothing is stored.
func TestStoreUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	st := openStore(t, "sqlite:"+path)
	svc := alert.NewService(st, clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)), alert.Settings{})
	s := newServer(t, svc)
	st.Close()
	body := fixture(t, alert.SourceGeneric, "repeated")
	a := s.post(t, "/api/v1/alerts/generic", body, "Authorization", "Bearer gen-token")
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Fatalf("%d %v %v", a.status, a.header, a.body)
	}
	again := openStore(t, "sqlite:"+path)
	if n, g := stored(t, again); n != 0 || g != 0 {
		t.Errorf("stored %d alerts in %d groups", n, g)
	}
}
