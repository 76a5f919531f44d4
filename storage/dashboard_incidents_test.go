package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// dashStores opens a migrated store of each dialect; PostgreSQL is
// skipped, saying so, without SITREP_TEST_DATABASE_URL.
func dashStores() map[string]func(t testing.TB) *Store {
	open := func(t testing.TB, url string) *Store {
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
	return map[string]func(t testing.TB) *Store{
		"sqlite": func(t testing.TB) *Store { return open(t, "sqlite:"+filepath.Join(t.TempDir(), "dash.db")) },
		"postgres": func(t testing.TB) *Store {
			if os.Getenv(pgtest.EnvVar) == "" {
				t.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
			}
			return open(t, pgtest.URL(t))
		},
	}
}

// dashIncident is an incident to seed, and what to do to it after.
type dashIncident struct {
	sev      incident.Severity
	status   incident.Status
	systems  []string
	opened   time.Time
	ttr      time.Duration // 0: not restored
	class    incident.CostClass
	problems []int64
	private  bool
}

// seedDash creates the incidents (INC-1 … in order) and problems 1 and 2.
func seedDash(t testing.TB, s *Store, incs []dashIncident) []*incident.Incident {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		if err := s.CreateProblem(ctx, &incident.Problem{Title: fmt.Sprintf("problem %d", i), Status: incident.ProblemOpen,
			CreatedBy: "U1", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	var out []*incident.Incident
	for i, d := range incs {
		inc := &incident.Incident{Title: fmt.Sprintf("incident %d", i+1), Severity: d.sev, Status: incident.StatusInvestigating,
			Systems: d.systems, ReporterID: "U1", TDOID: "U2", OpenedAt: d.opened, Private: d.private}
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.UpdateIncident(ctx, inc.ID, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
			inc.Status = d.status
			if d.ttr != 0 {
				inc.RestoredAt = inc.OpenedAt.Add(d.ttr)
			}
			if d.status == incident.StatusResolved {
				inc.ResolvedAt = inc.OpenedAt.Add(d.ttr + time.Hour)
			}
			if d.class != 0 {
				inc.Cost = &incident.Cost{Amount: float64(5-d.class) * 1000, Class: d.class, Currency: "USD"}
			}
			inc.Problems = d.problems
			return []incident.TimelineEntry{{At: inc.OpenedAt, Actor: "U1", Kind: incident.EntryNote, Text: "note"}}, nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

// TestDashboardIncidents filters, sorts, pages and counts on both
// dialects.
func TestDashboardIncidents(t *testing.T) {
	t.Parallel()
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	seed := []dashIncident{
		{sev: 1, status: incident.StatusResolved, systems: []string{"web", "db"}, opened: day(1, 9), ttr: 30 * time.Minute, class: incident.C1, problems: []int64{1}},
		{sev: 2, status: incident.StatusInvestigating, systems: []string{"web_api"}, opened: day(2, 9)},
		{sev: 3, status: incident.StatusRestored, systems: []string{"db"}, opened: day(3, 9), ttr: 2 * time.Hour, class: incident.C3, problems: []int64{1, 2}},
		{sev: 1, status: incident.StatusResolved, systems: []string{"webxapi"}, opened: day(4, 9), ttr: 10 * time.Minute},
		{sev: 2, status: incident.StatusMonitoring, systems: []string{"web"}, opened: day(5, 9), private: true, class: incident.C3},
	}
	for name, open := range dashStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			seedDash(t, s, seed)
			ctx := context.Background()
			for _, tc := range []struct {
				name   string
				f      dashquery.IncidentFilter
				want   []int64 // numbers, in order
				total  int
				status map[incident.Status]int
			}{
				{"open by default, newest first", dashquery.IncidentFilter{Desc: true}, []int64{5, 3, 2}, 3,
					map[incident.Status]int{"resolved": 2, "investigating": 1, "restored": 1, "monitoring": 1}},
				{"all, oldest first", dashquery.IncidentFilter{All: true, Sort: dashquery.SortOpened}, []int64{1, 2, 3, 4, 5}, 5, nil},
				{"all, newest first", dashquery.IncidentFilter{All: true, Desc: true}, []int64{5, 4, 3, 2, 1}, 5, nil},
				{"severity", dashquery.IncidentFilter{All: true, Severity: incident.Sev1}, []int64{1, 4}, 2,
					map[incident.Status]int{"resolved": 2}},
				{"system takes whole names, _ is no wildcard", dashquery.IncidentFilter{All: true, System: "web_api"}, []int64{2}, 1, nil},
				{"system skips private incidents", dashquery.IncidentFilter{All: true, System: "web"}, []int64{1}, 1, nil},
				{"problem", dashquery.IncidentFilter{All: true, Problem: 1}, []int64{1, 3}, 2, nil},
				{"cost class", dashquery.IncidentFilter{All: true, CostClass: incident.C3}, []int64{3, 5}, 2, nil},
				{"no cost", dashquery.IncidentFilter{All: true, NoCost: true}, []int64{2, 4}, 2, nil},
				{"dates", dashquery.IncidentFilter{All: true, From: day(2, 0), To: day(4, 0)}, []int64{2, 3}, 2, nil},
				{"severity order", dashquery.IncidentFilter{All: true, Sort: dashquery.SortSeverity}, []int64{4, 1, 5, 2, 3}, 5, nil},
				{"severity, mildest first", dashquery.IncidentFilter{All: true, Sort: dashquery.SortSeverity, Desc: true}, []int64{3, 2, 5, 1, 4}, 5, nil},
				{"time to restore, unrestored last", dashquery.IncidentFilter{All: true, Sort: dashquery.SortRestore}, []int64{4, 1, 3, 2, 5}, 5, nil},
				{"time to restore, longest first", dashquery.IncidentFilter{All: true, Sort: dashquery.SortRestore, Desc: true}, []int64{3, 1, 4, 5, 2}, 5, nil},
				{"second page", dashquery.IncidentFilter{All: true, Offset: 2, Limit: 2}, []int64{3, 4}, 5, nil},
				{"past the end", dashquery.IncidentFilter{All: true, Offset: 10, Limit: 2}, nil, 5, nil},
				{"nothing", dashquery.IncidentFilter{Problem: 99}, nil, 0, map[incident.Status]int{}},
			} {
				page, err := s.DashboardIncidents(ctx, tc.f)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				var got []int64
				for _, inc := range page.Incidents {
					got = append(got, inc.Number)
				}
				if !slices.Equal(got, tc.want) || page.Total != tc.total {
					t.Errorf("%s: got %v (total %d), want %v (total %d)", tc.name, got, page.Total, tc.want, tc.total)
				}
				if tc.status != nil && !mapsEqual(page.ByStatus, tc.status) {
					t.Errorf("%s: by status %v, want %v", tc.name, page.ByStatus, tc.status)
				}
				var each []int64
				if err := s.EachDashboardIncident(ctx, tc.f, func(inc *incident.Incident) error {
					each = append(each, inc.Number)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if tc.f.Limit == 0 && !slices.Equal(each, tc.want) {
					t.Errorf("%s: every incident %v, want %v", tc.name, each, tc.want)
				}
			}
		})
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestIncidentVersionMoves: the version the live page polls changes with
// a timeline entry and a status, and a missing incident is ErrNotFound.
func TestIncidentVersionMoves(t *testing.T) {
	t.Parallel()
	for name, open := range dashStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			incs := seedDash(t, s, []dashIncident{{sev: 2, status: incident.StatusInvestigating, opened: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}})
			ctx := context.Background()
			v1, err := s.IncidentVersion(ctx, incs[0].ID)
			if err != nil || v1.LastEntry == 0 || v1.Status != incident.StatusInvestigating {
				t.Fatalf("version %+v, %v", v1, err)
			}
			if _, _, err := s.UpdateIncident(ctx, incs[0].ID, func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
				inc.Status = incident.StatusIdentified
				return []incident.TimelineEntry{{At: inc.OpenedAt, Actor: "U1", Kind: incident.EntryStatus, Text: "identified"}}, nil
			}, nil); err != nil {
				t.Fatal(err)
			}
			v2, err := s.IncidentVersion(ctx, incs[0].ID)
			if err != nil || v2 == v1 || v2.LastEntry <= v1.LastEntry || v2.Status != incident.StatusIdentified {
				t.Fatalf("after: %+v, before %+v, %v", v2, v1, err)
			}
			if _, err := s.IncidentVersion(ctx, 999); !errors.Is(err, incident.ErrNotFound) {
				t.Errorf("missing incident: %v", err)
			}
			probs, err := s.LinkedProblems(ctx, []int64{2, 77})
			if err != nil || len(probs) != 1 || probs[2].Title != "problem 2" {
				t.Errorf("linked problems %v, %v", probs, err)
			}
		})
	}
}
