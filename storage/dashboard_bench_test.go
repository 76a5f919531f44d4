package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
)

// seedDashIncidents bulk-loads n incidents, one every ten minutes from
// start: severities 1–4 in turn, one of 50 systems (sysN), one in fifty
// not resolved, four in five restored, four in five costed (classes in
// turn), one in twenty private; each with one timeline entry.
func seedDashIncidents(b *testing.B, s *Store, n int, start time.Time) {
	b.Helper()
	var seq, at, restored, from, identity string
	switch s.dialect {
	case DialectSQLite:
		seq = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, n)
		at = fmt.Sprintf(`datetime('%s', '+' || (i * 10) || ' minutes')`, start.Format("2006-01-02 15:04:05"))
		restored = fmt.Sprintf(`datetime('%s', '+' || (i * 10 + 5 + i %% 97) || ' minutes')`, start.Format("2006-01-02 15:04:05"))
		from = "FROM seq"
	default:
		at = fmt.Sprintf(`TIMESTAMPTZ '%s' + i * INTERVAL '10 minutes'`, start.Format(time.RFC3339))
		restored = fmt.Sprintf(`TIMESTAMPTZ '%s' + (i * 10 + 5 + i %% 97) * INTERVAL '1 minute'`, start.Format(time.RFC3339))
		from = fmt.Sprintf("FROM generate_series(1, %d) AS i", n)
		identity = "OVERRIDING SYSTEM VALUE"
	}
	cost := `CASE WHEN i % 5 = 4 THEN '' ELSE '{"amount":1000,"class":' || (1 + i % 4) || ',"currency":"USD"}' END`
	stmts := []string{
		seq + `INSERT INTO incidents (id, number, title, description, severity, status, systems, reporter_id, tdo_id,
			reported_in, opened_at, restored_at, cost, cost_amount, private) ` + identity + `
			SELECT i, i, 'incident ' || i, '', 1 + i % 4, CASE WHEN i % 50 = 0 THEN 'investigating' ELSE 'resolved' END,
			'sys' || (i % 50), 'U1', 'U1', 'C1', ` + at + `, CASE WHEN i % 5 = 0 THEN NULL ELSE ` + restored + ` END,
			` + cost + `, CASE WHEN i % 5 = 4 THEN NULL ELSE 1000 END, i % 20 = 7 ` + from,
		seq + `INSERT INTO timeline_entries (incident_id, at, actor, kind, text) SELECT i, ` + at + `, 'U1', 'opened', 'opened' ` + from,
	}
	if s.dialect == DialectSQLite {
		stmts = append(stmts, `ANALYZE`)
	} else {
		// VACUUM as autovacuum would after a bulk load: it marks the pages
		// all-visible, so counts read the index alone.
		stmts = append(stmts, `SELECT setval(pg_get_serial_sequence('incidents', 'id'), `+fmt.Sprint(n)+`)`,
			`VACUUM ANALYZE incidents`, `VACUUM ANALYZE timeline_entries`)
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(context.Background(), q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkDashboardIncidents is a page of the incidents list (its counts
// by status included) over 100,000 incidents.
func BenchmarkDashboardIncidents(b *testing.B) {
	const n = 100_000
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := dashStores()[name](b)
			seedDashIncidents(b, s, n, start)
			ctx := context.Background()
			for _, tc := range []struct {
				name string
				f    dashquery.IncidentFilter
			}{
				{"open", dashquery.IncidentFilter{Desc: true}},
				{"all", dashquery.IncidentFilter{All: true, Desc: true}},
				{"all-page-1000", dashquery.IncidentFilter{All: true, Desc: true, Offset: 49_950}},
				{"all-by-severity", dashquery.IncidentFilter{All: true, Sort: dashquery.SortSeverity}},
				{"all-by-ttr", dashquery.IncidentFilter{All: true, Sort: dashquery.SortRestore, Desc: true}},
				{"sev1-system", dashquery.IncidentFilter{All: true, Severity: incident.Sev1, System: "sys8"}},
				{"class-C2", dashquery.IncidentFilter{All: true, CostClass: incident.C2, Desc: true}},
				{"last-30-days", dashquery.IncidentFilter{All: true, Desc: true, From: start.Add(n*10*time.Minute - 30*24*time.Hour)}},
			} {
				page, err := s.DashboardIncidents(ctx, tc.f)
				if err != nil || len(page.Incidents) == 0 {
					b.Fatalf("%s: %d incidents, %v", tc.name, len(page.Incidents), err)
				}
				b.Logf("%s %s: %d of %d", name, tc.name, len(page.Incidents), page.Total)
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.DashboardIncidents(ctx, tc.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// seedDashChanges bulk-loads n changes, one every 31 seconds from start,
// over 50 systems, 20 people, the six kinds; one in a thousand summaries
// says "rollback".
func seedDashChanges(b *testing.B, s *Store, n int, start time.Time) {
	b.Helper()
	var seq, at, from, identity string
	switch s.dialect {
	case DialectSQLite:
		seq = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, n)
		at = fmt.Sprintf(`datetime('%s', '+' || (i * 31) || ' seconds')`, start.Format("2006-01-02 15:04:05"))
		from = "FROM seq"
	default:
		at = fmt.Sprintf(`TIMESTAMPTZ '%s' + i * INTERVAL '31 seconds'`, start.Format(time.RFC3339))
		from = fmt.Sprintf("FROM generate_series(1, %d) AS i", n)
		identity = "OVERRIDING SYSTEM VALUE"
	}
	stmts := []string{
		seq + `INSERT INTO changes (id, occurred_at, systems, person, summary, reason, kind, source, logged_at) ` + identity + `
			SELECT i, ` + at + `, 'sys' || (i % 50), 'Person ' || (i % 20),
			CASE WHEN i % 1000 = 0 THEN 'rollback of ' || i ELSE 'deploy build ' || i END, 'ticket ' || (i % 777),
			CASE i % 6 WHEN 0 THEN 'deploy' WHEN 1 THEN 'config' WHEN 2 THEN 'infra' WHEN 3 THEN 'feature' WHEN 4 THEN 'data' ELSE 'other' END,
			'api', ` + at + ` ` + from,
		`INSERT INTO change_systems (change_id, system, occurred_at) SELECT id, systems, occurred_at FROM changes`,
	}
	if s.dialect == DialectSQLite {
		stmts = append(stmts, `ANALYZE`)
	} else {
		stmts = append(stmts, `ANALYZE changes`, `ANALYZE change_systems`)
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(context.Background(), q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkDashboardChanges is a page of the change search (51 rows: a
// page and whether there is a next) over 1,000,000 changes, with the
// verdicts on the page's changes.
func BenchmarkDashboardChanges(b *testing.B) {
	const n = 1_000_000
	start := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)
	end := start.Add(n * 31 * time.Second)
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := dashStores()[name](b)
			seedDashChanges(b, s, n, start)
			ctx := context.Background()
			for _, tc := range []struct {
				name string
				f    dashquery.ChangeFilter
			}{
				{"all", dashquery.ChangeFilter{}},
				{"page-100", dashquery.ChangeFilter{Offset: 99 * 50}},
				{"system", dashquery.ChangeFilter{System: "sys7"}},
				{"person", dashquery.ChangeFilter{People: []string{"person 3"}}},
				{"person-any-of-3", dashquery.ChangeFilter{People: []string{"person 3", "u0nobody", "Person 4"}}},
				{"kind", dashquery.ChangeFilter{Kind: incident.KindData}},
				{"text-common", dashquery.ChangeFilter{Text: "build"}},
				{"text-rare-7d", dashquery.ChangeFilter{Text: "rollback", Since: end.Add(-7 * 24 * time.Hour)}},
				{"system-person-24h", dashquery.ChangeFilter{System: "sys7", People: []string{"person 7"}, Since: end.Add(-24 * time.Hour)}},
				{"text-rare-all", dashquery.ChangeFilter{Text: "rollback"}},
				{"text-absent-30d", dashquery.ChangeFilter{Text: "no such words", Since: end.Add(-30 * 24 * time.Hour)}},
				{"text-absent-all", dashquery.ChangeFilter{Text: "no such words"}},
			} {
				tc.f.Limit = 51
				got, err := s.DashboardChanges(ctx, tc.f)
				if err != nil || (len(got) == 0) != strings.HasPrefix(tc.name, "text-absent") {
					b.Fatalf("%s: %d changes, %v", tc.name, len(got), err)
				}
				b.Logf("%s %s: %d", name, tc.name, len(got))
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						got, err := s.DashboardChanges(ctx, tc.f)
						if err != nil {
							b.Fatal(err)
						}
						ids := make([]int64, len(got))
						for i, c := range got {
							ids[i] = c.ID
						}
						if _, err := s.SuspectedBy(ctx, ids); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			// Who logged changes, for a search by name: a step of the
			// index per person (20 of them), not a read of the log.
			b.Run("change-people", func(b *testing.B) {
				for b.Loop() {
					people, err := s.ChangePeople(ctx, 5000)
					if err != nil || len(people) != 20 {
						b.Fatalf("%d people, %v", len(people), err)
					}
				}
			})
		})
	}
}

// BenchmarkLogChangesTextIndex is what keeping the change log's text
// index (migration 00025: triggers into an FTS5 table on SQLite, a
// pg_trgm index on PostgreSQL) costs logging a batch of 100 changes,
// against the same store without it.
func BenchmarkLogChangesTextIndex(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		for _, indexed := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/indexed=%t", name, indexed), func(b *testing.B) {
				s := dashStores()[name](b)
				if !indexed {
					drop := []string{`DROP TRIGGER changes_text_insert`}
					if s.dialect == DialectPostgres {
						drop = []string{`DROP INDEX IF EXISTS changes_text`}
					}
					for _, q := range drop {
						if _, err := s.db.Exec(q); err != nil {
							b.Fatal(err)
						}
					}
				}
				at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
				batch := make([]incident.Change, 100)
				for b.Loop() {
					for i := range batch {
						at = at.Add(time.Second)
						batch[i] = incident.Change{OccurredAt: at, Systems: []string{"web"}, Person: "U0ALICE",
							Summary: fmt.Sprintf("deploy build %d of the checkout service", at.Unix()), Reason: "release train",
							Kind: incident.KindDeploy, Source: incident.SourceAPI, LoggedAt: at}
					}
					if _, err := s.LogChanges(context.Background(), batch, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
