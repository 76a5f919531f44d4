package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

// incBenchStore opens a migrated store of the dialect and a plain
// connection to the same database for bulk seeding.
func incBenchStore(b *testing.B, dialect string) (*storage.Store, *sql.DB) {
	b.Helper()
	var url, driver, dsn string
	switch dialect {
	case "sqlite":
		path := filepath.Join(b.TempDir(), "bench.db")
		url, driver, dsn = "sqlite:"+path, "sqlite", "file:"+path+"?_pragma=busy_timeout(5000)"
	default:
		if os.Getenv(pgtest.EnvVar) == "" {
			b.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
		}
		url = pgtest.URL(b)
		driver, dsn = "postgres", url
	}
	ctx := context.Background()
	s, err := storage.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	return s, raw
}

// seedIncBench loads n incidents (one every ten minutes from start; one in
// fifty open; severities, 50 systems and cost classes in turn; one in
// twenty private) and m changes (one every 31 seconds, 50 systems, 20
// people, six kinds), with the database's own row generator.
func seedIncBench(b *testing.B, dialect string, raw *sql.DB, n, m int, start time.Time) {
	b.Helper()
	var seqN, seqM, at, restored, changeAt, fromN, fromM, identity string
	if dialect == "sqlite" {
		seq := `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `
		seqN, seqM = fmt.Sprintf(seq, n), fmt.Sprintf(seq, m)
		s := start.Format("2006-01-02 15:04:05")
		at = fmt.Sprintf(`datetime('%s', '+' || (i * 10) || ' minutes')`, s)
		restored = fmt.Sprintf(`datetime('%s', '+' || (i * 10 + 5 + i %% 97) || ' minutes')`, s)
		changeAt = fmt.Sprintf(`datetime('%s', '+' || (i * 31) || ' seconds')`, s)
		fromN, fromM = "FROM seq", "FROM seq"
	} else {
		s := start.Format(time.RFC3339)
		at = fmt.Sprintf(`TIMESTAMPTZ '%s' + i * INTERVAL '10 minutes'`, s)
		restored = fmt.Sprintf(`TIMESTAMPTZ '%s' + (i * 10 + 5 + i %% 97) * INTERVAL '1 minute'`, s)
		changeAt = fmt.Sprintf(`TIMESTAMPTZ '%s' + i * INTERVAL '31 seconds'`, s)
		fromN, fromM = fmt.Sprintf("FROM generate_series(1, %d) AS i", n), fmt.Sprintf("FROM generate_series(1, %d) AS i", m)
		identity = "OVERRIDING SYSTEM VALUE"
	}
	cost := `CASE WHEN i % 5 = 4 THEN '' ELSE '{"amount":1000,"class":' || (1 + i % 4) || ',"currency":"USD"}' END`
	stmts := []string{
		seqN + `INSERT INTO incidents (id, number, title, description, severity, status, systems, reporter_id, tdo_id,
			reported_in, opened_at, restored_at, cost, cost_amount, private) ` + identity + `
			SELECT i, i, 'incident ' || i, '', 1 + i % 4, CASE WHEN i % 50 = 0 THEN 'investigating' ELSE 'resolved' END,
			'sys' || (i % 50), 'U1', 'U1', 'C1', ` + at + `, CASE WHEN i % 5 = 0 THEN NULL ELSE ` + restored + ` END,
			` + cost + `, CASE WHEN i % 5 = 4 THEN NULL ELSE 1000 END, i % 20 = 7 ` + fromN,
		seqN + `INSERT INTO timeline_entries (incident_id, at, actor, kind, subject, text) SELECT i, ` + at + `, 'U1',
			'suspect', CAST(i * 10 AS TEXT), 'Suspect change' ` + fromN,
		seqM + `INSERT INTO changes (id, occurred_at, systems, person, summary, reason, kind, source, logged_at) ` + identity + `
			SELECT i, ` + changeAt + `, 'sys' || (i % 50), 'Person ' || (i % 20),
			CASE WHEN i % 1000 = 0 THEN 'rollback of ' || i ELSE 'deploy build ' || i END, 'ticket ' || (i % 777),
			CASE i % 6 WHEN 0 THEN 'deploy' WHEN 1 THEN 'config' WHEN 2 THEN 'infra' WHEN 3 THEN 'feature' WHEN 4 THEN 'data' ELSE 'other' END,
			'api', ` + changeAt + ` ` + fromM,
		`INSERT INTO change_systems (change_id, system, occurred_at) SELECT id, systems, occurred_at FROM changes`,
	}
	if dialect == "sqlite" {
		stmts = append(stmts, `ANALYZE`)
	} else {
		stmts = append(stmts, `VACUUM ANALYZE incidents`, `VACUUM ANALYZE timeline_entries`, `VACUUM ANALYZE changes`, `VACUUM ANALYZE change_systems`)
	}
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkIncidentAndChangePages is the server time of the incidents list over 100,000
// incidents and of the change search over 1,000,000 changes: the query,
// the counts, the verdicts and the HTML, as the handler serves them.
func BenchmarkIncidentAndChangePages(b *testing.B) {
	const n, m = 100_000, 1_000_000
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(m * 31 * time.Second)
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			s, raw := incBenchStore(b, dialect)
			seedIncBench(b, dialect, raw, n, m, start)
			db, err := New(Deps{Incidents: s, Changes: s, Now: func() time.Time { return end }})
			if err != nil {
				b.Fatal(err)
			}
			mux := http.NewServeMux()
			db.Routes(mux, asIncViewer)
			for _, path := range []string{
				"/incidents",
				"/incidents?state=all",
				"/incidents?state=all&page=1000",
				"/incidents?state=all&sort=severity",
				"/incidents?state=all&sort=ttr&order=asc",
				"/incidents?state=all&severity=sev1&system=sys8",
				"/incidents?state=all&cost=C2",
				"/changes",
				"/changes?system=sys7",
				"/changes?person=person%203",
				"/changes?kind=data",
				"/changes?q=build",
				"/changes?q=rollback&since=7d",
				"/changes?q=rollback",
				"/changes?q=no%20such%20words",
			} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%s", path, w.Code, w.Body)
				}
				b.Run(path, func(b *testing.B) {
					for b.Loop() {
						w := httptest.NewRecorder()
						mux.ServeHTTP(w, r)
					}
				})
			}
		})
	}
}
