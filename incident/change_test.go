package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

type memChanges struct {
	logged []Change
	jobs   []jobs.Job
}

func (m *memChanges) LogChanges(_ context.Context, cs []Change, follow func([]Change) []jobs.Job) ([]bool, error) {
	out := make([]bool, len(cs))
	for i := range cs {
		m.logged = append(m.logged, cs[i])
		out[i] = true
	}
	m.jobs = append(m.jobs, follow(cs)...)
	return out, nil
}

func (m *memChanges) ChangesByID(context.Context, []int64) ([]Change, error) { return nil, nil }

func (m *memChanges) Changes(context.Context, ChangeQuery) ([]Change, error) { return m.logged, nil }

func (m *memChanges) ShowChanges(context.Context, int64, []ShownChange) error { return nil }

func (m *memChanges) ShownChanges(context.Context, int64) ([]ShownChange, error) { return nil, nil }

func (m *memChanges) PendRoomChanges(_ context.Context, _ int64, _ []int64, _, _ time.Time, notice string, _ func(string) jobs.Job) (string, error) {
	return notice, nil
}

func (m *memChanges) PendingRoomChanges(context.Context, string) ([]Change, error) { return nil, nil }

func (m *memChanges) RoomChangesTold(context.Context, string, time.Time) error { return nil }

func TestChangeValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	ok := Change{Systems: []string{" Web", "web", "DB"}, Person: "U1", Summary: "  raised   pool ", Source: SourceSlack}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ok.Systems, ",") != "web,db" || ok.Summary != "raised pool" || ok.Kind != KindOther || !ok.OccurredAt.Equal(now) {
		t.Errorf("normalised = %+v", ok)
	}
	base := func() Change {
		return Change{Systems: []string{"web"}, Person: "U1", Summary: "x", Source: SourceAPI}
	}
	for _, at := range []time.Time{now.Add(MaxChangeFuture), EarliestChange, now.Add(-time.Hour)} {
		c := base()
		c.OccurredAt = at
		if err := c.Validate(now); err != nil || !c.OccurredAt.Equal(at) {
			t.Errorf("a change dated %s: %v", at, err)
		}
	}
	tests := []struct {
		field  string
		mutate func(*Change)
	}{
		{"systems", func(c *Change) { c.Systems = nil }},
		{"systems", func(c *Change) { c.Systems = []string{"we b"} }},
		{"summary", func(c *Change) { c.Summary = " " }},
		{"summary", func(c *Change) { c.Summary = strings.Repeat("s", MaxChangeSummary+1) }},
		{"person", func(c *Change) { c.Person = "" }},
		{"link", func(c *Change) { c.Link = "javascript:alert(1)" }},
		{"link", func(c *Change) { c.Link = "ftp://x/y" }},
		{"kind", func(c *Change) { c.Kind = "hotfix" }},
		{"source", func(c *Change) { c.Source = "email" }},
		{"source", func(c *Change) { c.Source = "api:" }},
		{"source", func(c *Change) { c.Source = "api:two words" }},
		{"source", func(c *Change) { c.Source = "cli:ci" }},
		{"external_id", func(c *Change) { c.ExternalID = strings.Repeat("e", MaxExternalID+1) }},
		{"occurred_at", func(c *Change) { c.OccurredAt = now.Add(MaxChangeFuture + time.Second) }},
		{"occurred_at", func(c *Change) { c.OccurredAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"occurred_at", func(c *Change) { c.OccurredAt = time.Unix(0, 0) }},
		{"occurred_at", func(c *Change) { c.OccurredAt = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC) }},
	}
	for _, tc := range tests {
		c := base()
		tc.mutate(&c)
		var fe *FieldError
		if err := c.Validate(now); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s case: Validate = %v, want a %s FieldError", tc.field, err, tc.field)
		}
	}
}

func TestAPISource(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	for name, want := range map[string]ChangeSource{"ci": "api:ci", "deploy-bot.v2": "api:deploy-bot.v2", "api": SourceAPI, "": SourceAPI} {
		c := Change{Systems: []string{"web"}, Person: "ci", Summary: "x", Source: APISource(name)}
		if c.Source != want {
			t.Errorf("APISource(%q) = %q, want %q", name, c.Source, want)
		}
		if err := c.Validate(now); err != nil {
			t.Errorf("a change from token %q: %v", name, err)
		}
	}
	for _, name := range []string{"", "two words", "-ci", "ci/cd", strings.Repeat("x", 65)} {
		if CheckTokenName(name) == nil {
			t.Errorf("CheckTokenName(%q) = nil, want an error", name)
		}
	}
}

func TestChangeLogBatches(t *testing.T) {
	t.Parallel()
	store := &memChanges{}
	log := NewChangeLog(store, clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	good := Change{Systems: []string{"web"}, Person: "U1", Summary: "deploy", Source: SourceAPI}
	bad := good
	bad.Summary = ""
	_, err := log.Log(ctx, []Change{good, good, bad})
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 2 || be.Err.Field != "summary" {
		t.Fatalf("batch with a bad change = %v, want change 2's summary named", err)
	}
	if len(store.logged) != 0 {
		t.Errorf("a bad batch stored %d changes", len(store.logged))
	}
	if n, err := log.Log(ctx, []Change{good, good}); err != nil || n != 2 {
		t.Errorf("good batch = %d, %v", n, err)
	}
	if len(store.jobs) != 1 || store.jobs[0].Kind != JobChangesLogged {
		t.Errorf("jobs after a batch = %+v, want one changes-logged job", store.jobs)
	}
	if _, err := log.Log(ctx, nil); !errors.As(err, &be) {
		t.Errorf("empty batch = %v", err)
	}
	if _, err := log.Log(ctx, make([]Change, MaxChangeBatch+1)); !errors.As(err, &be) || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("oversized batch = %v", err)
	}
}
