package storage

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
)

// TestDashboardChanges searches the change log on both dialects, and
// finds the incidents that judged each change suspect.
func TestDashboardChanges(t *testing.T) {
	t.Parallel()
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	for name, open := range dashStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()
			changes := []incident.Change{
				{OccurredAt: at(1), Systems: []string{"web"}, Person: "U0ALICE", Summary: "Raised the pool to 50%", Kind: incident.KindConfig},
				{OccurredAt: at(2), Systems: []string{"db", "web"}, Person: "Bob Smith", Summary: "vacuum", Reason: "bloat_ratio high", Kind: incident.KindInfra},
				{OccurredAt: at(3), Systems: []string{"db"}, Person: "bob smith", Summary: "Deploy v2", Kind: incident.KindDeploy},
				{OccurredAt: at(4), Systems: []string{"api"}, Person: "U0ALICE", Summary: "deploy v3", Reason: "fix 500s", Kind: incident.KindDeploy},
			}
			for i := range changes {
				changes[i].Source, changes[i].LoggedAt = incident.SourceCLI, at(5)
			}
			if _, err := s.LogChanges(ctx, changes, nil); err != nil {
				t.Fatal(err)
			}
			ids := func(cs []incident.Change) []int64 {
				var out []int64
				for _, c := range cs {
					out = append(out, c.ID)
				}
				return out
			}
			c1, c2, c3, c4 := changes[0].ID, changes[1].ID, changes[2].ID, changes[3].ID
			for _, tc := range []struct {
				name string
				f    dashquery.ChangeFilter
				want []int64
			}{
				{"everything, newest first", dashquery.ChangeFilter{}, []int64{c4, c3, c2, c1}},
				{"system", dashquery.ChangeFilter{System: "web"}, []int64{c2, c1}},
				{"person ignores case", dashquery.ChangeFilter{People: []string{"BOB SMITH"}}, []int64{c3, c2}},
				{"any of several people", dashquery.ChangeFilter{People: []string{"u0alice", "nobody", "Bob Smith"}}, []int64{c4, c3, c2, c1}},
				{"any of several people, of a kind", dashquery.ChangeFilter{People: []string{"U0ALICE", "bob smith"}, Kind: incident.KindDeploy}, []int64{c4, c3}},
				{"nobody", dashquery.ChangeFilter{People: []string{"U0CAROL"}}, nil},
				{"kind", dashquery.ChangeFilter{Kind: incident.KindDeploy}, []int64{c4, c3}},
				{"text in summary or reason, any case", dashquery.ChangeFilter{Text: "DEPLOY"}, []int64{c4, c3}},
				{"text in reason", dashquery.ChangeFilter{Text: "500s"}, []int64{c4}},
				{"% is no wildcard", dashquery.ChangeFilter{Text: "50%"}, []int64{c1}},
				{"_ is no wildcard", dashquery.ChangeFilter{Text: "o_r"}, nil},
				{"_ as written", dashquery.ChangeFilter{Text: "bloat_r"}, []int64{c2}},
				{"window", dashquery.ChangeFilter{Since: at(2), Until: at(4)}, []int64{c3, c2}},
				{"system and window", dashquery.ChangeFilter{System: "db", Since: at(3)}, []int64{c3}},
				{"paged", dashquery.ChangeFilter{Offset: 1, Limit: 2}, []int64{c3, c2}},
				{"a page filled from the newest", dashquery.ChangeFilter{Text: "DEPLOY", Limit: 1}, []int64{c4}},
				{"a page past the newest", dashquery.ChangeFilter{Text: "deploy", Offset: 1, Limit: 1}, []int64{c3}},
				{"short text", dashquery.ChangeFilter{Text: "V3"}, []int64{c4}},
				{"quotes are text", dashquery.ChangeFilter{Text: `"pool`}, nil},
				{"text across words", dashquery.ChangeFilter{Text: "the pool to"}, []int64{c1}},
				{"text and system", dashquery.ChangeFilter{Text: "vacuum", System: "web"}, []int64{c2}},
				{"all together", dashquery.ChangeFilter{System: "db", People: []string{"bob smith"}, Kind: incident.KindInfra, Text: "vac"}, []int64{c2}},
			} {
				got, err := s.DashboardChanges(ctx, tc.f)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if !slices.Equal(ids(got), tc.want) {
					t.Errorf("%s: got %v, want %v", tc.name, ids(got), tc.want)
				}
				// The same, reading only the newest change before the
				// whole window (on SQLite, through the text index).
				if got, err := s.dashboardChanges(ctx, tc.f, 1); err != nil || !slices.Equal(ids(got), tc.want) {
					t.Errorf("%s, past the newest change: got %v, want %v (%v)", tc.name, ids(got), tc.want, err)
				}
				var each []incident.Change
				if err := s.EachDashboardChange(ctx, tc.f, func(c incident.Change) error { each = append(each, c); return nil }); err != nil {
					t.Fatal(err)
				}
				if tc.f.Limit == 0 && !slices.Equal(ids(each), tc.want) {
					t.Errorf("%s: every change %v, want %v", tc.name, ids(each), tc.want)
				}
			}

			// Who logged changes: each once, in any case.
			for _, tc := range []struct {
				limit int
				want  []string
			}{{10, []string{"bob smith", "u0alice"}}, {1, []string{"bob smith"}}} {
				people, err := s.ChangePeople(ctx, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				lower := make([]string, len(people))
				for i, p := range people {
					lower[i] = strings.ToLower(p)
				}
				if !slices.Equal(lower, tc.want) {
					t.Errorf("change people, at most %d: %q, want %q (any case)", tc.limit, people, tc.want)
				}
			}

			// INC-1 judged c1 suspect then unrelated, and c2 suspect; INC-2
			// (private) judged c2 suspect.
			incs := seedDash(t, s, []dashIncident{
				{sev: 2, status: incident.StatusInvestigating, opened: at(6)},
				{sev: 2, status: incident.StatusInvestigating, opened: at(7), private: true},
			})
			verdict := func(inc *incident.Incident, kind incident.EntryKind, change int64) {
				t.Helper()
				if _, _, err := s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
					return []incident.TimelineEntry{{At: at(8), Actor: "U1", Kind: kind, Subject: strconv.FormatInt(change, 10), Text: "verdict"}}, nil
				}, nil); err != nil {
					t.Fatal(err)
				}
			}
			verdict(incs[0], incident.EntrySuspect, c1)
			verdict(incs[0], incident.EntryUnrelated, c1)
			verdict(incs[0], incident.EntrySuspect, c2)
			verdict(incs[1], incident.EntrySuspect, c2)
			got, err := s.SuspectedBy(ctx, []int64{c1, c2, c3})
			if err != nil {
				t.Fatal(err)
			}
			want := map[int64][]dashquery.SuspectRef{c2: {{Number: 1}, {Number: 2, Private: true}}}
			if len(got) != len(want) || !slices.Equal(got[c2], want[c2]) {
				t.Errorf("suspected by %v, want %v", got, want)
			}
		})
	}
}
