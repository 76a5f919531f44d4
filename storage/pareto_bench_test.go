package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/report"
)

// seedProblems bulk-loads open problems and n incidents, one a
// minute from start. Seventeen in twenty go to 97 problems (the vital few), the
// rest spread over the others; one in ten is linked to a second problem,
// and one in five has no cost.
func seedProblems(b *testing.B, s *Store, n, problems int, start time.Time) {
	b.Helper()
	p1 := `CASE WHEN i % 20 < 17 THEN 1 + (i * 7) % 97 ELSE 98 + (i * 31) % (PROBLEMS - 97) END`
	p2 := `98 + (i * 13) % (PROBLEMS - 97)`
	cost := `CASE WHEN i % 5 = 4 THEN NULL ELSE ((i * 7919) % 10000) * (1 + i % 13) END`
	ids := `CAST(P1 AS TEXT) || CASE WHEN i % 10 = 0 THEN ',' || CAST(P2 AS TEXT) ELSE '' END`
	var seq, at, when, problemSeq, identity string
	switch s.dialect {
	case DialectSQLite:
		seq = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, n)
		problemSeq = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, problems)
		at = fmt.Sprintf(`datetime('%s', '+' || i || ' minutes')`, start.Format("2006-01-02 15:04:05"))
		when = fmt.Sprintf(`datetime('%s')`, start.Format("2006-01-02 15:04:05"))
	default:
		seq, problemSeq = "", ""
		at = fmt.Sprintf(`TIMESTAMPTZ '%s' + i * INTERVAL '1 minute'`, start.Format(time.RFC3339))
		when = fmt.Sprintf(`TIMESTAMPTZ '%s'`, start.Format(time.RFC3339))
		identity = "OVERRIDING SYSTEM VALUE"
	}
	from := func(count int) string {
		if s.dialect == DialectSQLite {
			return "FROM seq"
		}
		return fmt.Sprintf("FROM generate_series(1, %d) AS i", count)
	}
	expand := func(q string) string {
		q = strings.ReplaceAll(q, "P1", p1)
		q = strings.ReplaceAll(q, "P2", p2)
		return strings.ReplaceAll(q, "PROBLEMS", fmt.Sprint(problems)) // p1 and p2 hold it
	}
	stmts := []string{
		problemSeq + `INSERT INTO problems (id, title, status, created_by, created_at) ` + identity + `
			SELECT i, 'problem ' || i, 'open', 'U1', ` + when + ` ` + from(problems),
		expand(seq + `INSERT INTO incidents (id, number, title, description, severity, status, systems, reporter_id, tdo_id,
			reported_in, opened_at, cost_amount, problem_ids, problem_count) ` + identity + `
			SELECT i, i, 'incident ' || i, '', 1 + i % 4, 'resolved', 'web', 'U1', 'U1', 'C1', ` + at + `, ` + cost + `, ` + ids + `,
			CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END ` + from(n)),
		expand(seq + `INSERT INTO incident_problems (incident_id, problem_id, weight, opened_at, cost_amount)
			SELECT i, P1, CASE WHEN i % 10 = 0 THEN 0.5 ELSE 1 END, ` + at + `, ` + cost + ` ` + from(n)),
		expand(seq + `INSERT INTO incident_problems (incident_id, problem_id, weight, opened_at, cost_amount)
			SELECT i, P2, 0.5, ` + at + `, ` + cost + ` ` + from(n) + ` WHERE i % 10 = 0`),
		// The kept tallies, as migration 00020 computes them.
		`UPDATE problems SET
			tally_incidents = (SELECT COUNT(*) FROM incident_problems ip WHERE ip.problem_id = problems.id),
			tally_uncosted = (SELECT COUNT(*) - COUNT(ip.cost_amount) FROM incident_problems ip WHERE ip.problem_id = problems.id),
			tally_cost = (SELECT COALESCE(SUM(ip.cost_amount * ip.weight), 0) FROM incident_problems ip WHERE ip.problem_id = problems.id)`,
	}
	if s.dialect == DialectSQLite {
		stmts = append(stmts, `ANALYZE`)
	} else {
		stmts = append(stmts, `SELECT setval(pg_get_serial_sequence('problems', 'id'), `+fmt.Sprint(problems)+`)`,
			`ANALYZE incidents`, `ANALYZE incident_problems`, `ANALYZE problems`)
	}
	ctx := context.Background()
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkParetoPath is /problem pareto without Slack: the database's
// tally, the ranking and the PNG chart, over 100,000 incidents and 5,000
// problems, for the last 30 days (43,200 incidents) and for all time.
func BenchmarkParetoPath(b *testing.B) {
	const n, problems = 100_000, 5_000
	start := time.Date(2026, 9, 16, 0, 0, 0, 0, time.UTC)
	end := start.Add(n * time.Minute)
	open := benchOpeners()
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := open[name](b)
			seedProblems(b, s, n, problems, start)
			clk := clock.NewFake(end)
			prbs := incident.NewProblems(s, incident.NewService(s, clk), clk)
			ctx := context.Background()
			for _, w := range []struct {
				name  string
				since time.Time
			}{{"30d", end.Add(-30 * 24 * time.Hour)}, {"all", time.Time{}}} {
				p, err := prbs.Pareto(ctx, w.since)
				if err != nil || len(p.Rows) != problems || p.VitalFew == 0 || p.VitalFew > 500 {
					b.Fatalf("%s: %d rows, %d vital few, %v", w.name, len(p.Rows), p.VitalFew, err)
				}
				b.Logf("%s %s: %s; %d incidents, %d shared", name, w.name, p.Headline(), p.Tally.Incidents, p.Tally.Shared)
				b.Run(w.name+"/rank", func(b *testing.B) {
					for b.Loop() {
						if _, err := prbs.Pareto(ctx, w.since); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(w.name+"/rank+png", func(b *testing.B) {
					for b.Loop() {
						p, err := prbs.Pareto(ctx, w.since)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := report.ParetoChart(p, "bench", charts.PNG); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkProblemList is /problem list without Slack (the open problems
// ranked by the cost of all their incidents) over 1,000 and 100,000
// incidents on 500 problems: it reads the kept tallies, so the two cost
// about the same.
func BenchmarkProblemList(b *testing.B) {
	const problems = 500
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := benchOpeners()
	for _, name := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", name, n/1000), func(b *testing.B) {
				s := open[name](b)
				seedProblems(b, s, n, problems, start)
				clk := clock.NewFake(start.Add(time.Duration(n) * time.Minute))
				prbs := incident.NewProblems(s, incident.NewService(s, clk), clk)
				ctx := context.Background()
				want, err := prbs.Pareto(ctx, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					p, err := prbs.Ranked(ctx)
					if err != nil || len(p.Rows) != problems || p.Rows[0].Problem.ID != want.Rows[0].Problem.ID {
						b.Fatalf("ranked %d rows, first %+v, %v; want %d, first PRB-%d", len(p.Rows), p.Rows[0].Problem, err, problems, want.Rows[0].Problem.ID)
					}
				}
			})
		}
	}
}

// BenchmarkIncidentList is /incident list without Slack: the unresolved
// incidents and their rooms in two queries, with 50 open among 1,000 and
// among 100,000 resolved ones; the partial index keeps the two alike.
func BenchmarkIncidentList(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := benchOpeners()
	for _, name := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", name, n/1000), func(b *testing.B) {
				s := open[name](b)
				seedProblems(b, s, n, 100, start)
				ctx := context.Background()
				if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE counters SET value = ? WHERE name = 'incident'`), n); err != nil {
					b.Fatal(err)
				}
				if s.dialect == DialectPostgres {
					if _, err := s.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('incidents', 'id'), `+fmt.Sprint(n)+`)`); err != nil {
						b.Fatal(err)
					}
				}
				for i := range 50 {
					inc := &incident.Incident{Title: "open", Severity: incident.Sev2, Status: incident.StatusInvestigating,
						Systems: []string{"web"}, ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", OpenedAt: start}
					if err := s.CreateIncident(ctx, inc, nil); err != nil {
						b.Fatal(err)
					}
					if err := s.SaveRoom(ctx, &incident.Room{IncidentID: inc.ID, ChannelID: fmt.Sprintf("CB%d", i), UpdatedAt: start}); err != nil {
						b.Fatal(err)
					}
				}
				for b.Loop() {
					list, err := s.UnresolvedIncidents(ctx)
					if err != nil || len(list) != 50 {
						b.Fatalf("%d unresolved, %v", len(list), err)
					}
					ids := make([]int64, len(list))
					for i, inc := range list {
						ids[i] = inc.ID
					}
					if rooms, err := s.RoomsOf(ctx, ids); err != nil || len(rooms) != 50 {
						b.Fatalf("%d rooms, %v", len(rooms), err)
					}
				}
			})
		}
	}
}
