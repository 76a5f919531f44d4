package incident

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Severity{"sev1": Sev1, "SEV2": Sev2, "sev-3": Sev3, "4": Sev4, " Sev4 ": Sev4} {
		got, err := ParseSeverity(in)
		if err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "sev0", "sev5", "sevx", "high", "-1"} {
		if got, err := ParseSeverity(in); err == nil {
			t.Errorf("ParseSeverity(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseSystems(t *testing.T) {
	t.Parallel()
	got, err := ParseSystems(" Web, db ,web,api-gw,k8s.prod")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web", "db", "api-gw", "k8s.prod"}, got); diff != "" {
		t.Errorf("ParseSystems (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"web,", "-web", "we b", "a/b", strings.Repeat("x", 41), "a,b,c,d,e,f,g,h,i,j,k"} {
		if _, err := ParseSystems(bad); err == nil {
			t.Errorf("ParseSystems(%q) accepted", bad)
		}
	}
}

func TestOpenRequestProblems(t *testing.T) {
	t.Parallel()
	r := OpenRequest{Title: "  ", Severity: 7, Systems: []string{"ok", "b@d"}, Description: strings.Repeat("d", MaxDescription+1)}
	var fields []string
	for _, p := range r.Problems() {
		fields = append(fields, p.Field)
	}
	if diff := cmp.Diff([]string{"title", "severity", "systems", "description", "reporter"}, fields); diff != "" {
		t.Errorf("problem fields (-want +got):\n%s", diff)
	}
	long := OpenRequest{Title: strings.Repeat("é", MaxTitle+1), Reporter: "U1"}
	if err := long.Validate(); err == nil || !strings.Contains(err.Error(), "121 characters") {
		t.Errorf("Validate(long title) = %v, want the length named", err)
	}
	ok := OpenRequest{Title: " db   down ", Reporter: "U1", Systems: []string{"DB", "db"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.Title != "db down" || ok.Severity != DefaultSeverity || len(ok.Systems) != 1 || ok.Systems[0] != "db" {
		t.Errorf("Validate did not normalise: %+v", ok)
	}
}

// memStore is an in-memory Store for the use-case tests.
type memStore struct {
	mu        sync.Mutex
	incidents []*Incident
	jobs      []jobs.Job
	timeline  []TimelineEntry
	nextEntry int64
	failNext  error
}

func (m *memStore) CreateIncident(_ context.Context, inc *Incident, follow func(*Incident) []jobs.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failNext != nil {
		err := m.failNext
		m.failNext = nil
		return err
	}
	for _, old := range m.incidents {
		if inc.RequestKey != "" && old.RequestKey == inc.RequestKey {
			*inc = *old
			return ErrDuplicate
		}
	}
	inc.ID = int64(len(m.incidents) + 100)
	inc.Number = int64(len(m.incidents) + 1)
	c := *inc
	m.incidents = append(m.incidents, &c)
	m.jobs = append(m.jobs, follow(inc)...)
	return nil
}

func (m *memStore) Incident(_ context.Context, id int64) (*Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, i := range m.incidents {
		if i.ID == id {
			c := *i
			return &c, nil
		}
	}
	return nil, ErrNotFound
}

func (m *memStore) IncidentByNumber(_ context.Context, n int64) (*Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, i := range m.incidents {
		if i.Number == n {
			c := *i
			return &c, nil
		}
	}
	return nil, ErrNotFound
}

func (m *memStore) UpdateIncident(_ context.Context, id int64, change func(*Incident) ([]TimelineEntry, error),
	follow func(*Incident, []TimelineEntry) []jobs.Job) (*Incident, []TimelineEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, stored := range m.incidents {
		if stored.ID != id {
			continue
		}
		c := *stored
		entries, err := change(&c)
		if err != nil {
			return nil, nil, err
		}
		for i := range entries {
			m.nextEntry++
			entries[i].ID, entries[i].IncidentID = m.nextEntry, id
		}
		*stored = c
		m.timeline = append(m.timeline, entries...)
		if follow != nil {
			m.jobs = append(m.jobs, follow(&c, entries)...)
		}
		return &c, entries, nil
	}
	return nil, nil, ErrNotFound
}

func (m *memStore) Timeline(_ context.Context, id int64) ([]TimelineEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TimelineEntry
	for _, e := range m.timeline {
		if e.IncidentID == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) TimelineEntry(_ context.Context, id int64) (TimelineEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.timeline {
		if e.ID == id {
			return e, nil
		}
	}
	return TimelineEntry{}, ErrNotFound
}

func (m *memStore) ListIncidents(_ context.Context, limit int) ([]Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Incident
	for i := len(m.incidents) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, *m.incidents[i])
	}
	return out, nil
}

func (m *memStore) UnresolvedIncidents(context.Context) ([]Incident, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Incident
	for i := len(m.incidents) - 1; i >= 0; i-- {
		if m.incidents[i].Status != StatusResolved {
			out = append(out, *m.incidents[i])
		}
	}
	return out, nil
}

func (m *memStore) Room(context.Context, int64) (*Room, error)           { return nil, ErrNotFound }
func (m *memStore) RoomByChannel(context.Context, string) (*Room, error) { return nil, ErrNotFound }
func (m *memStore) SaveRoom(context.Context, *Room) error                { return nil }

func TestServiceOpen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	store := &memStore{}
	svc := NewService(store, clock.NewFake(now))
	ctx := context.Background()

	inc, created, err := svc.Open(ctx, OpenRequest{Title: "db is down", Severity: Sev1, Systems: []string{"db"}, Reporter: "U1", ReportedIn: "C1", RequestKey: "k1"})
	if err != nil || !created {
		t.Fatalf("Open = %v, %v", created, err)
	}
	want := &Incident{ID: 100, Number: 1, Title: "db is down", Severity: Sev1, Status: StatusInvestigating,
		Systems: []string{"db"}, ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", RequestKey: "k1", OpenedAt: now,
		Opening: Facts{Severity: Sev1, Title: "db is down", To: "U1"}}
	if diff := cmp.Diff(want, inc); diff != "" {
		t.Errorf("opened incident (-want +got):\n%s", diff)
	}
	if len(store.jobs) != 1 || store.jobs[0].Kind != JobProvision || store.jobs[0].Key != "incident.provision:100" || !store.jobs[0].DueAt.Equal(now) {
		t.Errorf("follow-up jobs = %+v, want one provision job for incident 100 due now", store.jobs)
	}

	again, created, err := svc.Open(ctx, OpenRequest{Title: "something else", Reporter: "U2", RequestKey: "k1"})
	if err != nil || created || again.Number != 1 {
		t.Errorf("Open with a used key = %+v, created=%v, %v; want INC-1 back, not created", again, created, err)
	}

	_, _, err = svc.Open(ctx, OpenRequest{Title: "", Reporter: "U1"})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("Open(no title) error = %v, want a title FieldError", err)
	}

	store.failNext = errors.New("disk full")
	if _, _, err = svc.Open(ctx, OpenRequest{Title: "x", Reporter: "U1"}); err == nil || !strings.Contains(err.Error(), "recording the incident: disk full") {
		t.Errorf("Open on a failing store = %v, want it wrapped", err)
	}
	if len(store.incidents) != 1 {
		t.Errorf("store holds %d incidents, want 1", len(store.incidents))
	}
}

func TestSetStatusKeepsTimesAndTimeline(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	opened := clk.Now()
	store := &memStore{}
	svc := NewService(store, clk)
	ctx := context.Background()
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "db down", Reporter: "UTDO"})
	if err != nil {
		t.Fatal(err)
	}

	// A bystander's change does not acknowledge; the TDO's first one does.
	clk.Advance(2 * time.Minute)
	got, e, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UOTHER", Status: StatusIdentified, Message: " bad   index "})
	if err != nil || !got.AcknowledgedAt.IsZero() || e.Kind != EntryStatus || e.Text != "Status investigating → identified: bad index" {
		t.Fatalf("identified by a bystander = %+v, %+v, %v", got, e, err)
	}
	clk.Advance(3 * time.Minute)
	got, _, err = svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusRestored})
	if err != nil || !got.AcknowledgedAt.Equal(clk.Now()) || !got.RestoredAt.Equal(clk.Now()) {
		t.Fatalf("restored by the TDO = %+v, %v", got, err)
	}
	if ttr, ok := got.TimeToRestore(); !ok || ttr != 5*time.Minute {
		t.Errorf("TimeToRestore = %v, %v; want 5m", ttr, ok)
	}
	if _, _, err = svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusRestored}); !errors.Is(err, ErrNoChange) {
		t.Errorf("same status again = %v, want ErrNoChange", err)
	}
	clk.Advance(time.Hour)
	got, _, _ = svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusResolved})
	if !got.ResolvedAt.Equal(clk.Now()) || !got.RestoredAt.Equal(opened.Add(5*time.Minute)) {
		t.Errorf("resolved = %+v: resolved now, restored kept", got)
	}
	// Going back is a reopen; service is no longer restored.
	got, e, _ = svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusInvestigating, Message: "it came back"})
	if e.Kind != EntryReopen || !got.RestoredAt.IsZero() || !got.ResolvedAt.IsZero() {
		t.Errorf("reopen = %+v, entry %+v", got, e)
	}
	if _, _, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: "panicking"}); err == nil {
		t.Error("unknown status accepted")
	}
	if _, _, err := svc.AddNote(ctx, inc.ID, "UTDO", "   "); err == nil {
		t.Error("empty note accepted")
	}
	if _, _, err := svc.AddNote(ctx, inc.ID, "UOTHER", "rolled back deploy 412"); err != nil {
		t.Fatal(err)
	}

	timeline, err := svc.Timeline(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []EntryKind
	for _, e := range timeline {
		kinds = append(kinds, e.Kind)
	}
	want := []EntryKind{EntryOpened, EntryStatus, EntryStatus, EntryStatus, EntryReopen, EntryNote}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("timeline kinds (-want +got):\n%s", diff)
	}
	var statusJobs int
	for _, j := range store.jobs {
		if j.Kind == JobChanged {
			statusJobs++
		}
	}
	if statusJobs != 4 {
		t.Errorf("%d status-changed jobs, want one per change (4)", statusJobs)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	if s, err := ParseStatus(" Restored "); err != nil || s != StatusRestored {
		t.Errorf("ParseStatus = %v, %v", s, err)
	}
	if _, err := ParseStatus("fixed"); err == nil || !strings.Contains(err.Error(), "investigating, identified, monitoring, restored, resolved") {
		t.Errorf("ParseStatus(fixed) = %v, want the statuses listed", err)
	}
}

func TestSetSeverity(t *testing.T) {
	t.Parallel()
	svc := NewService(&memStore{}, clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	inc, _, _ := svc.Open(ctx, OpenRequest{Title: "x", Severity: Sev3, Reporter: "U1"})
	got, e, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U2", Severity: Sev1})
	if err != nil || got.Severity != Sev1 || e.Kind != EntrySeverity || e.Text != "Severity SEV3 → SEV1" {
		t.Fatalf("raise = %+v, %+v, %v", got, e, err)
	}
	var fe *FieldError
	if _, _, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U2", Severity: Sev2}); !errors.As(err, &fe) || fe.Field != "reason" {
		t.Errorf("lowering without a reason = %v, want a reason FieldError", err)
	}
	if _, e, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U2", Severity: Sev2, Reason: "only EU"}); err != nil || e.Text != "Severity SEV1 → SEV2: only EU" {
		t.Errorf("lowering with a reason = %+v, %v", e, err)
	}
	if _, _, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U2", Severity: Sev2}); !errors.Is(err, ErrNoChange) {
		t.Errorf("same severity = %v, want ErrNoChange", err)
	}
	if _, _, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U2", Severity: 9}); !errors.As(err, &fe) {
		t.Errorf("severity 9 = %v", err)
	}
}

func TestHandOverAndSummary(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	svc := NewService(&memStore{}, clk)
	ctx := context.Background()
	inc, _, _ := svc.Open(ctx, OpenRequest{Title: "db", Reporter: "UREP"})
	clk.Advance(time.Minute)
	// Someone else takes command: the new TDO's own action acknowledges.
	got, e, err := svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "UDBA", To: "UDBA", Reason: "I know this db"})
	if err != nil || got.TDOID != "UDBA" || e.Kind != EntryTDO || e.Subject != "UDBA" || e.Text != "Hand-off from UREP: I know this db" {
		t.Fatalf("take command = %+v, %+v, %v", got, e, err)
	}
	if !got.AcknowledgedAt.Equal(clk.Now()) {
		t.Errorf("acknowledged at %v, want now", got.AcknowledgedAt)
	}
	if _, _, err := svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "UX", To: "UDBA"}); !errors.Is(err, ErrNoChange) {
		t.Errorf("hand-off to the TDO = %v, want ErrNoChange", err)
	}
	var fe *FieldError
	if _, _, err := svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "UX"}); !errors.As(err, &fe) {
		t.Errorf("hand-off to nobody = %v", err)
	}
	svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "UDBA", To: "UNET"})
	svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UNET", Status: StatusResolved})
	closed, _, err := svc.Close(ctx, inc.ID, "UNET")
	if err != nil {
		t.Fatal(err)
	}
	timeline, _ := svc.Timeline(ctx, closed)
	sum := Summarize(closed, timeline)
	if diff := cmp.Diff([]string{"UREP", "UDBA", "UNET"}, sum.TDOs); diff != "" {
		t.Errorf("TDO chain (-want +got):\n%s", diff)
	}
	if _, _, err := svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "UX", To: "UY"}); !errors.Is(err, ErrClosed) {
		t.Errorf("hand-off after close = %v, want ErrClosed", err)
	}
}

func TestAssignRole(t *testing.T) {
	t.Parallel()
	svc := NewService(&memStore{}, clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	inc, _, _ := svc.Open(ctx, OpenRequest{Title: "x", Reporter: "U1"})
	got, e, err := svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: RoleComms, User: "U2"})
	if err != nil || got.Roles[RoleComms] != "U2" || e.Kind != EntryRole || e.Subject != "U2" || e.Text != "comms" {
		t.Fatalf("assign = %+v, %+v, %v", got, e, err)
	}
	got, _, _ = svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: RoleComms, User: "U3"})
	if got.Roles[RoleComms] != "U3" {
		t.Errorf("reassign: comms = %s, want U3", got.Roles[RoleComms])
	}
	if _, _, err := svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: RoleComms, User: "U3"}); !errors.Is(err, ErrNoChange) {
		t.Errorf("same holder = %v, want ErrNoChange", err)
	}
	var fe *FieldError
	if _, _, err := svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: "boss", User: "U3"}); !errors.As(err, &fe) || fe.Field != "role" {
		t.Errorf("unknown role = %v", err)
	}
}
