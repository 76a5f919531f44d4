package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// seedChanges bulk-loads n changes over 50 systems and a year, each on one
// system, with the database's own row generator (row-by-row inserts would
// take minutes).
func seedChanges(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	start := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)
	var stmts []string
	switch s.dialect {
	case DialectSQLite:
		stmts = []string{
			fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
				INSERT INTO changes (id, occurred_at, systems, person, summary, kind, source, logged_at)
				SELECT i, datetime('%s', '+' || (i * 31) || ' seconds'), 'sys' || (i %% 50), 'ci', 'change ' || i, 'deploy', 'api', datetime('%s')
				FROM seq`, n, start.Format("2006-01-02 15:04:05"), start.Format("2006-01-02 15:04:05")),
			`INSERT INTO change_systems (change_id, system, occurred_at) SELECT id, systems, occurred_at FROM changes`,
			`ANALYZE`,
		}
	default:
		stmts = []string{
			fmt.Sprintf(`INSERT INTO changes (id, occurred_at, systems, person, summary, kind, source, logged_at)
				OVERRIDING SYSTEM VALUE
				SELECT i, TIMESTAMPTZ '%s' + i * INTERVAL '31 seconds', 'sys' || (i %% 50), 'ci', 'change ' || i, 'deploy', 'api', TIMESTAMPTZ '%s'
				FROM generate_series(1, %d) AS i`, start.Format(time.RFC3339), start.Format(time.RFC3339), n),
			`INSERT INTO change_systems (change_id, system, occurred_at) SELECT id, systems, occurred_at FROM changes`,
			`ANALYZE changes`, `ANALYZE change_systems`,
		}
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkLastChanges is the "what changed?" query: the last 4 changes to
// 3 systems within 24 hours, in a log of 1,000,000 changes.
func BenchmarkLastChanges(b *testing.B) {
	const n = 1_000_000
	open := benchOpeners()
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := open[name](b)
			seedChanges(b, s, n)
			ctx := context.Background()
			end := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC).Add(n * 31 * time.Second)
			q := incident.ChangeQuery{Systems: []string{"sys7", "sys19", "sys42"}, Since: end.Add(-24 * time.Hour), Until: end, Limit: 4}
			got, err := s.Changes(ctx, q)
			if err != nil || len(got) != 4 {
				b.Fatalf("query = %d changes, %v", len(got), err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Changes(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			explain := "EXPLAIN QUERY PLAN "
			if s.dialect == DialectPostgres {
				explain = "EXPLAIN "
			}
			rows, err := s.db.QueryxContext(ctx, s.db.Rebind(explain+`SELECT change_id FROM change_systems WHERE system = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at DESC, change_id DESC LIMIT 4`),
				"sys7", ts(q.Since), ts(q.Until))
			if err == nil {
				var plan []string
				for rows.Next() {
					cols, _ := rows.SliceScan()
					plan = append(plan, fmt.Sprint(cols...))
				}
				rows.Close()
				b.Logf("query plan (%s):\n%s", name, strings.Join(plan, "\n"))
			}
		})
	}
}

// benchOpeners opens a migrated store of each dialect; PostgreSQL is
// skipped, saying so, without SITREP_TEST_DATABASE_URL.
func benchOpeners() map[string]func(b *testing.B) *Store {
	return map[string]func(b *testing.B) *Store{
		"sqlite": func(b *testing.B) *Store {
			return benchStore(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
		},
		"postgres": func(b *testing.B) *Store {
			if os.Getenv(pgtest.EnvVar) == "" {
				b.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
			}
			return benchStore(b, pgtest.URL(b))
		},
	}
}

func benchStore(b *testing.B, url string) *Store {
	b.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}
