package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// TestTrendRowsKept: the trend rows kept by day are always those a fresh
// read gives, whatever changed since they were kept: an incident that is
// restored, priced or reopened in another day, one added, a change made
// through another Store on the same database (another replica), at the
// edges of a window in a zone whose days are not UTC's; and a change to
// what the trends do not read (a title) moves no version.
func TestTrendRowsKept(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) (*Store, *Store){
		"sqlite": func(t *testing.T) (*Store, *Store) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "trends.db")
			return openTrendStore(t, url), openTrendStore(t, url)
		},
		"postgres": func(t *testing.T) (*Store, *Store) {
			if os.Getenv(pgtest.EnvVar) == "" {
				t.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
			}
			url := pgtest.URL(t)
			return openTrendStore(t, url), openTrendStore(t, url)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, other := open(t)
			ctx := context.Background()
			ny, err := time.LoadLocation("America/New_York")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			from, to := incident.TrendWindow(now, 2, ny) // Monday 05:00 UTC to Monday 05:00 UTC
			opened := []time.Time{
				from.Add(-time.Microsecond), // the UTC day of from, before it
				from,
				from.Add(19*time.Hour - time.Microsecond), // 23:59:59.999999 UTC
				from.Add(19 * time.Hour),                  // the next UTC day
				now,
				to.Add(-time.Microsecond),
				to, // outside
			}
			var ids []int64
			for i, at := range opened {
				inc := newTrendIncident(at, incident.Severity(1+i%4))
				if err := s.CreateIncident(ctx, inc, nil); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, inc.ID)
			}
			check := func(step string) {
				t.Helper()
				got, err := s.TrendIncidents(ctx, from, to)
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				want, err := s.readTrendIncidents(ctx, from, to)
				if err != nil {
					t.Fatal(err)
				}
				order := func(a, b incident.TrendIncident) int {
					if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
						return c
					}
					return int(a.Severity) - int(b.Severity)
				}
				slices.SortFunc(got, order)
				slices.SortFunc(want, order)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: the rows kept differ from a fresh read (-fresh +kept):\n%s", step, diff)
				}
			}
			update := func(via *Store, id int64, change func(*incident.Incident)) {
				t.Helper()
				if _, _, err := via.UpdateIncident(ctx, id, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
					change(inc)
					return nil, nil
				}, nil); err != nil {
					t.Fatal(err)
				}
			}
			version := func(day time.Time) int64 {
				t.Helper()
				var v int64
				err := s.db.GetContext(ctx, &v, s.db.Rebind(`SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM trend_days WHERE day = ?`), day.UTC().Format(time.DateOnly))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}

			check("first read")
			if got, _ := s.TrendIncidents(ctx, from, to); len(got) != 5 {
				t.Errorf("the window holds %d incidents, want 5 (not the one before it, nor the one at its end)", len(got))
			}
			update(s, ids[2], func(inc *incident.Incident) { inc.RestoredAt = inc.OpenedAt.Add(time.Hour) })
			check("restored")
			update(s, ids[3], func(inc *incident.Incident) {
				customers := 10
				c := incident.DefaultCostModel().Price(incident.CostInput{CustomersAffected: &customers})
				inc.Cost, inc.Severity = &c, incident.Sev1
			})
			check("priced and made SEV1")
			update(s, ids[1], func(inc *incident.Incident) { inc.OpenedAt = now.Add(-time.Hour) })
			check("moved to another day")
			late := newTrendIncident(now.Add(time.Minute), incident.Sev3)
			if err := s.CreateIncident(ctx, late, nil); err != nil {
				t.Fatal(err)
			}
			check("one more")
			update(other, ids[4], func(inc *incident.Incident) {
				inc.Timebox = incident.Timebox{Generation: 1, StartedAt: now, Length: time.Hour, Deadline: now.Add(time.Hour), EndedAt: now.Add(30 * time.Minute)}
			})
			check("a clock set through another store")
			before := version(now)
			update(other, ids[4], func(inc *incident.Incident) { inc.Title = "renamed" })
			if after := version(now); after != before {
				t.Errorf("a new title moved the day's version from %d to %d", before, after)
			}
			check("renamed")
			if before == 0 {
				t.Error("the day's version never moved")
			}
		})
	}
}

func openTrendStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newTrendIncident(opened time.Time, sev incident.Severity) *incident.Incident {
	return &incident.Incident{Title: "trend", Severity: sev, Status: incident.StatusInvestigating, Systems: []string{"web"},
		ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", OpenedAt: opened, AcknowledgedAt: opened.Add(2 * time.Minute)}
}

// TestTrendRowsKeptConcurrently: pages of trends read at once while
// incidents change share the rows kept without a race (go test -race),
// and each reads every incident of its window.
func TestTrendRowsKeptConcurrently(t *testing.T) {
	t.Parallel()
	s := openTrendStore(t, "sqlite:"+filepath.Join(t.TempDir(), "trends.db"))
	ctx := context.Background()
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 40 {
		inc := newTrendIncident(from.Add(time.Duration(i)*7*time.Hour), incident.Severity(1+i%4))
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	to := from.AddDate(0, 0, 14)
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			for i := range 20 {
				if w == 0 {
					id := ids[i%len(ids)]
					if _, _, err := s.UpdateIncident(ctx, id, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
						inc.RestoredAt = inc.OpenedAt.Add(time.Duration(i+1) * time.Minute)
						return nil, nil
					}, nil); err != nil {
						errs <- err
						return
					}
					continue
				}
				got, err := s.TrendIncidents(ctx, from, to)
				if err != nil {
					errs <- err
					return
				}
				if len(got) != 40 {
					errs <- fmt.Errorf("a page of trends read %d incidents, want 40", len(got))
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
