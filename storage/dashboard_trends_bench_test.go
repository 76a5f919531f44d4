package storage

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// seedTrends bulk-loads n incidents, one every step from start, with what
// the trends read: severities in turn; acknowledged within 0-16 minutes;
// restored (all but one in seven) within 5-124 minutes; resolved (one in
// two) later; a cost class for four in five; a 30-minute diagnosis clock
// for one in three, stopped after 0-44 minutes (so some overrun). One
// incident in fifty has a postmortem with two actions, due 3 and 10 days
// after it opened, the first done (on time or late in turn).
func seedTrends(b *testing.B, s *Store, n int, start time.Time, step time.Duration) {
	b.Helper()
	stepMin := int(step / time.Minute)
	var seq, identity string
	var at, iso func(string) string
	var plus func(t, minutes string) string
	switch s.dialect {
	case DialectSQLite:
		seq = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) `, n)
		// As the driver writes times: "2025-01-06 00:10:00+00:00".
		plus = func(t, m string) string { return `(datetime(` + t + `, '+' || (` + m + `) || ' minutes') || '+00:00')` }
		iso = func(t string) string { return `strftime('%Y-%m-%dT%H:%M:%SZ', ` + t + `)` }
	default:
		identity = "OVERRIDING SYSTEM VALUE"
		plus = func(t, m string) string { return `(` + t + ` + (` + m + `) * INTERVAL '1 minute')` }
		iso = func(t string) string { return `to_char((` + t + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` }
	}
	base := fmt.Sprintf(`'%s'`, start.Format("2006-01-02 15:04:05"))
	if s.dialect != DialectSQLite {
		base = fmt.Sprintf(`TIMESTAMPTZ '%s'`, start.Format(time.RFC3339))
	}
	at = func(extra string) string { return plus(base, fmt.Sprintf("i * %d + %s", stepMin, extra)) }
	from := func() string {
		if s.dialect == DialectSQLite {
			return "FROM seq"
		}
		return fmt.Sprintf("FROM generate_series(1, %d) AS i", n)
	}
	opened := at("0")
	cost := `CASE WHEN i % 5 = 4 THEN '' ELSE '{"amount":' || CAST(i % 70000 AS TEXT) || ',"class":' || CAST(1 + i % 4 AS TEXT) || ',"currency":"USD"}' END`
	timebox := `CASE WHEN i % 3 <> 0 THEN '' ELSE '{"generation":1,"started_at":"' || ` + iso(opened) +
		` || '","length":1800000000000,"deadline":"' || ` + iso(at("30")) + ` || '","span":1800000000000,"ended_at":"' || ` +
		iso(at("i % 45")) + ` || '"}' END`
	due := func(days string) string { return plus(base, fmt.Sprintf("i * %d + %s * 1440", stepMin, days)) }
	doc := `'{"IncidentID":' || CAST(i AS TEXT) || ',"Phase":"actions","Actions":[` +
		`{"ID":1,"Issue":1,"Owner":"U1","Expected":"x","Due":"' || ` + iso(due("3")) + ` || '","DoneAt":"' || ` + iso(due("CASE WHEN i % 100 = 0 THEN 2 ELSE 5 END")) + ` || '"},` +
		`{"ID":2,"Issue":1,"Owner":"U2","Expected":"y","Due":"' || ` + iso(due("10")) + ` || '"}]}'`
	stmts := []string{
		seq + `INSERT INTO incidents (id, number, title, description, severity, status, systems, reporter_id, tdo_id,
			reported_in, opened_at, acknowledged_at, restored_at, resolved_at, cost, cost_amount, timebox) ` + identity + `
			SELECT i, i, 'incident ' || i, '', 1 + i % 4, 'resolved', 'web', 'U1', 'U1', 'C1', ` + opened + `, ` + at("i % 17") + `,
			CASE WHEN i % 7 = 0 THEN NULL ELSE ` + at("5 + i % 120") + ` END,
			CASE WHEN i % 2 = 0 THEN ` + at("130 + i % 600") + ` ELSE NULL END, ` + cost + `,
			CASE WHEN i % 5 = 4 THEN NULL ELSE i % 70000 END, ` + timebox + ` ` + from(),
		seq + `INSERT INTO postmortems (incident_id, doc, version, updated_at) SELECT i, ` + doc + `, 1, ` + opened + ` ` + from() + ` WHERE i % 50 = 0`,
		seq + `INSERT INTO postmortem_actions (incident_id, action_id, owner, due, done) SELECT i, 1, 'U1', ` + due("3") + `, TRUE ` + from() + ` WHERE i % 50 = 0`,
		seq + `INSERT INTO postmortem_actions (incident_id, action_id, owner, due, done) SELECT i, 2, 'U2', ` + due("10") + `, FALSE ` + from() + ` WHERE i % 50 = 0`,
	}
	if s.dialect == DialectSQLite {
		stmts = append(stmts, `ANALYZE`)
	} else {
		stmts = append(stmts, `ANALYZE incidents`, `ANALYZE postmortems`, `ANALYZE postmortem_actions`)
	}
	ctx := context.Background()
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			b.Fatalf("seeding: %v\n%s", err, q)
		}
	}
}

// BenchmarkTrends is the dashboard's trends over 100,000 incidents: the
// reader alone (the two queries and the weekly figures) and the whole
// page (with the weekly chart drawn as SVG and the HTML rendered). Spread
// puts one incident every 10 minutes (about two years; 12,096 in the
// default 12 weeks, 52,416 in 52); dense one a minute, so all 100,000 fall
// in the 52 weeks: the worst case.
func BenchmarkTrends(b *testing.B) {
	const n = 100_000
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	open := benchOpeners()
	for _, name := range []string{"sqlite", "postgres"} {
		for _, layout := range []struct {
			name  string
			step  time.Duration
			weeks []int
		}{{"spread", 10 * time.Minute, []int{12, 52}}, {"dense", time.Minute, []int{52}}} {
			b.Run(name+"/"+layout.name, func(b *testing.B) {
				s := open[name](b)
				seedTrends(b, s, n, start, layout.step)
				now := start.Add(n * layout.step)
				reader := incident.TrendReader{Store: s}
				ctx := context.Background()
				for _, weeks := range layout.weeks {
					t, err := reader.Trends(ctx, now, weeks)
					if err != nil {
						b.Fatal(err)
					}
					total, actions := 0, 0
					for _, w := range t.Weeks {
						total += w.Incidents
						actions += w.ActionsDue
					}
					if total == 0 || actions == 0 || t.Weeks[len(t.Weeks)-1].All.Restore.N == 0 {
						b.Fatalf("%d weeks: %d incidents, %d actions: the seed is not read", weeks, total, actions)
					}
					b.Logf("%s %s %d weeks: %d incidents, %d actions judged", name, layout.name, weeks, total, actions)
					if s.dialect != DialectSQLite {
						var plan []string
						if err := s.db.SelectContext(ctx, &plan, s.db.Rebind(`EXPLAIN (ANALYZE) `+s.trendIncidentsSQL()), ts(t.From), ts(t.To)); err != nil {
							b.Fatal(err)
						}
						b.Logf("PostgreSQL, the incidents' query of %d weeks: %s", weeks, plan[len(plan)-1])
						if os.Getenv("TRENDS_PLAN") != "" {
							b.Logf("%s", strings.Join(plan, "\n"))
						}
					}
					// reader: nothing changed since the last read (the rows of
					// every day are kept); reader-after-a-change: one incident
					// of the window restored again before each read (its day
					// read again); reader-cold: nothing kept (the first read
					// of a process).
					b.Run(fmt.Sprintf("%dw/reader", weeks), func(b *testing.B) {
						cpu := cpuTime()
						for b.Loop() {
							if _, err := reader.Trends(ctx, now, weeks); err != nil {
								b.Fatal(err)
							}
						}
						reportCPU(b, cpu)
					})
					b.Run(fmt.Sprintf("%dw/reader-after-a-change", weeks), func(b *testing.B) {
						update := s.db.Rebind(`UPDATE incidents SET restored_at = ? WHERE id = ?`)
						i := 0
						cpu := cpuTime()
						for b.Loop() {
							i++
							id := n - i%500
							if _, err := s.db.ExecContext(ctx, update, ts(now.Add(-time.Duration(i)*time.Second)), id); err != nil {
								b.Fatal(err)
							}
							if _, err := reader.Trends(ctx, now, weeks); err != nil {
								b.Fatal(err)
							}
						}
						reportCPU(b, cpu)
					})
					b.Run(fmt.Sprintf("%dw/reader-cold", weeks), func(b *testing.B) {
						cpu := cpuTime()
						for b.Loop() {
							s.trends.mu.Lock()
							s.trends.days = nil
							s.trends.mu.Unlock()
							if _, err := reader.Trends(ctx, now, weeks); err != nil {
								b.Fatal(err)
							}
						}
						reportCPU(b, cpu)
					})
				}
			})
		}
	}
}

// cpuTime is the CPU time this process has used: on a machine shared with
// other work, wall time per operation says more about the neighbours than
// about the code. (PostgreSQL's own time runs in its server process and is
// not in it.)
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
