package incident

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// testPlans time-boxes db incidents at 10 minutes for sev1.
var testPlans = Plans{
	Default: Plan{Diagnostics: []string{"note the first error"}, Timebox: map[Severity]time.Duration{Sev1: 15 * time.Minute, Sev3: 45 * time.Minute}},
	Systems: map[string]Plan{"db": {Diagnostics: []string{"copy slow-query log", "heap dump"}, Timebox: map[Severity]time.Duration{Sev1: 10 * time.Minute}}},
}

// jobSummary is a job as the tests compare it: kind, key, due, cancelled.
type jobSummary struct {
	Kind, Key string
	Due       string
	Cancel    bool
}

func summarize(js []jobs.Job) []jobSummary {
	var out []jobSummary
	for _, j := range js {
		s := jobSummary{Kind: j.Kind, Key: j.Key, Due: j.DueAt.Format("15:04:05"), Cancel: j.State == jobs.StateCancelled}
		if s.Cancel {
			s.Kind, s.Due = "", ""
		}
		out = append(out, s)
	}
	return out
}

func openTimeboxed(t *testing.T) (*Service, *memStore, *clock.Fake, *Incident) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	store := &memStore{}
	svc := NewService(store, clk)
	svc.SetPlans(testPlans, 0.8)
	inc, _, err := svc.Open(context.Background(), OpenRequest{Title: "db down", Severity: Sev1, Systems: []string{"db"}, Reporter: "UTDO"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, clk, inc
}

func TestOpenStartsTheClockFromThePlan(t *testing.T) {
	t.Parallel()
	_, store, clk, inc := openTimeboxed(t)
	wantPlan := Plan{Diagnostics: []string{"copy slow-query log", "heap dump"},
		Timebox: map[Severity]time.Duration{Sev1: 10 * time.Minute, Sev3: 45 * time.Minute}} // sev3 from the default
	if diff := cmp.Diff(wantPlan, inc.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	opened := clk.Now()
	want := Timebox{Generation: 1, StartedAt: opened, Length: 10 * time.Minute, AtOpen: 10 * time.Minute,
		Deadline: opened.Add(10 * time.Minute), Span: 10 * time.Minute, WarnDue: opened.Add(8 * time.Minute)}
	if diff := cmp.Diff(want, inc.Timebox); diff != "" {
		t.Errorf("timebox (-want +got):\n%s", diff)
	}
	wantJobs := []jobSummary{
		{Kind: JobProvision, Key: "incident.provision:100", Due: "03:00:00"},
		{Kind: JobTimeboxWarning, Key: "incident.timebox_warning:100:1", Due: "03:08:00"},
		{Kind: JobTimeboxExpiry, Key: "incident.timebox_expiry:100:1", Due: "03:10:00"},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	var p TimeboxPayload
	if err := json.Unmarshal(store.jobs[2].Payload, &p); err != nil || p != (TimeboxPayload{IncidentID: 100, Generation: 1}) {
		t.Errorf("expiry payload = %s (%v)", store.jobs[2].Payload, err)
	}
}

func TestOpenWithoutTimeboxSchedulesNoClock(t *testing.T) {
	t.Parallel()
	store := &memStore{}
	svc := NewService(store, clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)))
	svc.SetPlans(testPlans, 0.8)
	inc, _, err := svc.Open(context.Background(), OpenRequest{Title: "slow pages", Severity: Sev4, Reporter: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Timebox.IsZero() || len(store.jobs) != 1 {
		t.Errorf("sev4 with no planned timebox: timebox %+v, jobs %+v; want none", inc.Timebox, summarize(store.jobs))
	}
}

func TestClockDueFiresOncePerGeneration(t *testing.T) {
	t.Parallel()
	svc, _, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	gen1 := TimeboxPayload{IncidentID: inc.ID, Generation: 1}

	// A warning that runs only after the deadline (sitrep was down) is
	// skipped, on another incident of the same plan.
	other, _, _ := svc.Open(ctx, OpenRequest{Title: "db again", Severity: Sev1, Systems: []string{"db"}, Reporter: "UTDO"})
	clk.Advance(10 * time.Minute)
	if _, _, err := svc.ClockDue(ctx, JobTimeboxWarning, TimeboxPayload{IncidentID: other.ID, Generation: 1}, other.Timebox.WarnDue, ""); !errors.Is(err, ErrNoChange) {
		t.Errorf("warning after the deadline = %v, want ErrNoChange", err)
	}
	clk.Advance(-10 * time.Minute)

	clk.Advance(8 * time.Minute)
	_, e, err := svc.ClockDue(ctx, JobTimeboxWarning, gen1, inc.Timebox.WarnDue, "")
	if err != nil || e.Kind != EntryTimeboxWarning || e.Text != "Diagnosis time: 2 min left, restore by 03:10 UTC" {
		t.Fatalf("warning = %+v, %v", e, err)
	}
	if _, _, err := svc.ClockDue(ctx, JobTimeboxWarning, gen1, inc.Timebox.WarnDue, ""); !errors.Is(err, ErrNoChange) {
		t.Errorf("second warning = %v, want ErrNoChange", err)
	}
	clk.Advance(9 * time.Minute) // 7 minutes after the deadline: sitrep was down
	got, e, err := svc.ClockDue(ctx, JobTimeboxExpiry, gen1, inc.Timebox.Deadline, "")
	if err != nil || e.Kind != EntryTimeboxExpired {
		t.Fatalf("expiry = %+v, %v", e, err)
	}
	if want := "Diagnosis time is up after 10 min: restore service now (fired 7 min late: sitrep was down at 03:10 UTC)"; e.Text != want {
		t.Errorf("late expiry text = %q, want %q", e.Text, want)
	}
	if !got.Timebox.ExpiredAt.Equal(clk.Now()) || !got.Timebox.Running() {
		t.Errorf("after expiry: %+v; want ExpiredAt now and still running until restore", got.Timebox)
	}
	if _, _, err := svc.ClockDue(ctx, JobTimeboxExpiry, gen1, inc.Timebox.Deadline, ""); !errors.Is(err, ErrNoChange) {
		t.Errorf("second expiry = %v, want ErrNoChange", err)
	}
	if _, _, err := svc.ClockDue(ctx, JobTimeboxExpiry, TimeboxPayload{IncidentID: inc.ID, Generation: 7}, inc.Timebox.Deadline, ""); !errors.Is(err, ErrNoChange) {
		t.Errorf("expiry of another generation = %v, want ErrNoChange", err)
	}
}

func TestExtendMovesTheDeadline(t *testing.T) {
	t.Parallel()
	svc, store, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	store.jobs = nil
	clk.Advance(5 * time.Minute)

	for _, bad := range []ExtendRequest{
		{IncidentID: inc.ID, Actor: "UTDO", By: 10 * time.Minute},
		{IncidentID: inc.ID, Actor: "UTDO", By: 0, Reason: "x"},
		{IncidentID: inc.ID, Actor: "UTDO", By: 25 * time.Hour, Reason: "x"},
	} {
		var fe *FieldError
		if _, _, err := svc.ExtendTimebox(ctx, bad); !errors.As(err, &fe) {
			t.Errorf("ExtendTimebox(%+v) = %v, want a FieldError", bad, err)
		}
	}
	got, e, err := svc.ExtendTimebox(ctx, ExtendRequest{IncidentID: inc.ID, Actor: "UBOB", By: 10 * time.Minute, Reason: "heap dump is half written"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != EntryTimeboxExtended || e.Actor != "UBOB" || e.Text != "Diagnosis extended by 10 min, restore by 03:20 UTC: heap dump is half written" {
		t.Errorf("entry = %+v", e)
	}
	tb := got.Timebox
	if tb.Generation != 2 || tb.Extensions != 1 || tb.Allowed() != 20*time.Minute || !tb.Deadline.Equal(clk.Now().Add(15*time.Minute)) {
		t.Errorf("timebox after extension = %+v", tb)
	}
	wantJobs := []jobSummary{
		{Kind: JobTimebox, Key: "incident.timebox:1", Due: "03:05:00"},
		{Key: "incident.timebox_warning:100:1", Cancel: true},
		{Key: "incident.timebox_expiry:100:1", Cancel: true},
		{Kind: JobTimeboxWarning, Key: "incident.timebox_warning:100:2", Due: "03:18:00"},
		{Kind: JobTimeboxExpiry, Key: "incident.timebox_expiry:100:2", Due: "03:20:00"},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}

	// Past the deadline, an extension counts from now.
	clk.Advance(20 * time.Minute) // 03:25
	got, _, err = svc.ExtendTimebox(ctx, ExtendRequest{IncidentID: inc.ID, Actor: "UTDO", By: 5 * time.Minute, Reason: "almost there"})
	if err != nil || !got.Timebox.Deadline.Equal(clk.Now().Add(5*time.Minute)) || got.Timebox.Extensions != 2 {
		t.Errorf("late extension: %+v, %v", got.Timebox, err)
	}
}

func TestRestoreStopsTheClockAndCancelsItsJobs(t *testing.T) {
	t.Parallel()
	svc, store, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	store.jobs = nil
	clk.Advance(12 * time.Minute)
	got, e, err := svc.BeginRestore(ctx, inc.ID, "UTDO")
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != EntryRestore || e.Text != "Restoration began; diagnosis stopped after 12 min of 10 min (2 min over)" {
		t.Errorf("entry = %+v", e)
	}
	if got.Timebox.Running() || !got.Timebox.RestoreBegan.Equal(clk.Now()) {
		t.Errorf("timebox = %+v, want stopped with restore time", got.Timebox)
	}
	wantJobs := []jobSummary{
		{Kind: JobTimebox, Key: "incident.timebox:1", Due: "03:12:00"},
		{Key: "incident.timebox_warning:100:1", Cancel: true},
		{Key: "incident.timebox_expiry:100:1", Cancel: true},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if _, _, err := svc.BeginRestore(ctx, inc.ID, "UTDO"); !errors.Is(err, ErrNoChange) {
		t.Errorf("second restore = %v, want ErrNoChange", err)
	}
	var fe *FieldError
	if _, _, err := svc.ExtendTimebox(ctx, ExtendRequest{IncidentID: inc.ID, Actor: "UTDO", By: time.Minute, Reason: "x"}); !errors.As(err, &fe) || !strings.Contains(fe.Problem, "stopped at 03:12 UTC") {
		t.Errorf("extend after restore = %v, want a FieldError saying it stopped", err)
	}
	a, ok := got.Timebox.Adherence(clk.Now().Add(time.Hour))
	want := Adherence{Length: 10 * time.Minute, Allowed: 10 * time.Minute, Used: 12 * time.Minute, Over: 2 * time.Minute, Overruns: 1,
		Boxes: []BoxAdherence{{StartedAt: inc.OpenedAt, Length: 10 * time.Minute, Allowed: 10 * time.Minute, Used: 12 * time.Minute, Over: 2 * time.Minute}}}
	if diff := cmp.Diff(want, a); !ok || diff != "" {
		t.Errorf("Adherence (-want +got):\n%s", diff)
	}
}

func TestStatusRestoredStopsTheClock(t *testing.T) {
	t.Parallel()
	svc, store, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	store.jobs = nil
	clk.Advance(4 * time.Minute)
	got, _, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusRestored})
	if err != nil {
		t.Fatal(err)
	}
	if got.Timebox.Running() || !got.Timebox.EndedAt.Equal(clk.Now()) {
		t.Errorf("timebox = %+v, want stopped now", got.Timebox)
	}
	wantJobs := []jobSummary{
		{Kind: JobChanged, Key: "incident.changed:1", Due: "03:04:00"},
		{Key: "incident.timebox_warning:100:1", Cancel: true},
		{Key: "incident.timebox_expiry:100:1", Cancel: true},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	var fe *FieldError
	if _, _, err := svc.StartTimebox(ctx, TimeboxRequest{IncidentID: inc.ID, Actor: "UTDO"}); !errors.As(err, &fe) || fe.Field != "status" {
		t.Errorf("timebox on a restored incident = %v, want a status FieldError", err)
	}
	// Reopened, diagnosis starts a new box; the stopped one stays on the
	// record.
	store.jobs = nil
	clk.Advance(time.Minute)
	got, e, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusInvestigating, Message: "errors are back"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "Status restored → investigating: errors are back (new diagnosis timebox of 10 min, restore by 03:15 UTC)" {
		t.Errorf("reopen entry = %q", e.Text)
	}
	wantJobs = []jobSummary{
		{Kind: JobChanged, Key: "incident.changed:2", Due: "03:05:00"},
		{Kind: JobTimeboxWarning, Key: "incident.timebox_warning:100:2", Due: "03:13:00"},
		{Kind: JobTimeboxExpiry, Key: "incident.timebox_expiry:100:2", Due: "03:15:00"},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("reopening jobs (-want +got):\n%s", diff)
	}
	if tb := got.Timebox; !tb.Running() || len(tb.Earlier) != 1 || tb.Earlier[0].Ended != "stopped" || !tb.Earlier[0].EndedAt.Equal(inc.OpenedAt.Add(4*time.Minute)) {
		t.Errorf("timebox after reopening = %+v", tb)
	}
}

func TestStartTimeboxRestarts(t *testing.T) {
	t.Parallel()
	svc, store, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	store.jobs = nil
	clk.Advance(3 * time.Minute)
	var fe *FieldError
	if _, _, err := svc.StartTimebox(ctx, TimeboxRequest{IncidentID: inc.ID, Actor: "UBOB", Length: 90 * time.Minute}); !errors.As(err, &fe) ||
		fe.Field != "reason" || !strings.Contains(fe.Problem, "3 min of 10 min used") || !strings.Contains(fe.Problem, "/incident timebox 1h30m <reason>") {
		t.Errorf("restart without a reason = %v, want a reason FieldError", err)
	}
	if len(store.jobs) != 0 {
		t.Errorf("a refused restart scheduled %+v", summarize(store.jobs))
	}
	got, e, err := svc.StartTimebox(ctx, TimeboxRequest{IncidentID: inc.ID, Actor: "UBOB", Length: 30 * time.Minute, Reason: "wrong system first"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "Diagnosis timebox restarted after 3 min of 10 min: 30 min, restore by 03:33 UTC: wrong system first" || got.Timebox.Generation != 2 || got.Timebox.AtOpen != 10*time.Minute {
		t.Errorf("restart: %+v / %+v", e, got.Timebox)
	}
	wantEarlier := []Box{{StartedAt: inc.OpenedAt, Length: 10 * time.Minute, Deadline: inc.OpenedAt.Add(10 * time.Minute),
		EndedAt: clk.Now(), Ended: "restarted: wrong system first"}}
	if diff := cmp.Diff(wantEarlier, got.Timebox.Earlier); diff != "" || got.Timebox.Restarts != 1 {
		t.Errorf("earlier boxes (-want +got):\n%s\nrestarts %d", diff, got.Timebox.Restarts)
	}
	if n := len(store.jobs); n != 5 {
		t.Errorf("restart scheduled %+v; want show, 2 cancels, warning, expiry", summarize(store.jobs))
	}
	// With no length, the plan's timebox for the severity.
	got, _, err = svc.StartTimebox(ctx, TimeboxRequest{IncidentID: inc.ID, Actor: "UBOB", Reason: "back to the plan"})
	if err != nil || got.Timebox.Length != 10*time.Minute || got.Timebox.Generation != 3 {
		t.Errorf("restart from plan: %+v, %v", got.Timebox, err)
	}
	if _, _, err := svc.StartTimebox(ctx, TimeboxRequest{IncidentID: inc.ID, Length: 30 * time.Second}); err == nil {
		t.Error("a 30 s timebox was accepted")
	}
	timeline, err := svc.Timeline(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if timeline[1].Kind != EntryTimebox || timeline[1].Text != "Diagnosis timebox started from the plan of attack: 10 min, restore by 03:10 UTC" {
		t.Errorf("timeline starts %+v, want the opening's timebox second", timeline[:2])
	}
}

func TestMarkDiagnostic(t *testing.T) {
	t.Parallel()
	svc, _, _, inc := openTimeboxed(t)
	ctx := context.Background()
	if _, e, err := svc.MarkDiagnostic(ctx, inc.ID, "UBOB", 1, true); err != nil || e.Text != "heap dump" || e.Subject != "1" {
		t.Fatalf("tick = %+v, %v", e, err)
	}
	if _, _, err := svc.MarkDiagnostic(ctx, inc.ID, "UTDO", 1, true); !errors.Is(err, ErrNoChange) {
		t.Errorf("second tick = %v, want ErrNoChange", err)
	}
	var fe *FieldError
	if _, _, err := svc.MarkDiagnostic(ctx, inc.ID, "UTDO", 2, true); !errors.As(err, &fe) {
		t.Errorf("tick of step 3 of 2 = %v, want a FieldError", err)
	}
	if _, _, err := svc.MarkDiagnostic(ctx, inc.ID, "UTDO", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.MarkDiagnostic(ctx, inc.ID, "UTDO", 0, true); err != nil {
		t.Fatal(err)
	}
	timeline, _ := svc.Timeline(ctx, inc)
	done := Diagnostics(timeline)
	if len(done) != 1 || done[0].Actor != "UTDO" {
		t.Errorf("Diagnostics = %+v, want step 0 by UTDO only", done)
	}
}

func TestSummaryHasAdherence(t *testing.T) {
	t.Parallel()
	svc, _, clk, inc := openTimeboxed(t)
	ctx := context.Background()
	clk.Advance(6 * time.Minute)
	if _, _, err := svc.ExtendTimebox(ctx, ExtendRequest{IncidentID: inc.ID, Actor: "UTDO", By: 5 * time.Minute, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Minute)
	if _, _, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UTDO", Status: StatusResolved}); err != nil {
		t.Fatal(err)
	}
	closed, _, err := svc.Close(ctx, inc.ID, "UTDO")
	if err != nil {
		t.Fatal(err)
	}
	timeline, _ := svc.Timeline(ctx, closed)
	sum := Summarize(closed, timeline)
	want := Adherence{Length: 10 * time.Minute, Allowed: 15 * time.Minute, Used: 12 * time.Minute, Extensions: 1,
		Boxes: []BoxAdherence{{StartedAt: inc.OpenedAt, Length: 10 * time.Minute, Allowed: 15 * time.Minute, Used: 12 * time.Minute, Extensions: 1}}}
	if diff := cmp.Diff(want, sum.Timebox); !sum.HasTimebox || diff != "" {
		t.Errorf("summary timebox (-want +got):\n%s", diff)
	}
}

func TestRaisingSeverityRetimesTheClock(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	store := &memStore{}
	svc := NewService(store, clk)
	svc.SetPlans(testPlans, 0.8)
	ctx := context.Background()
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "db slow", Severity: Sev3, Systems: []string{"db"}, Reporter: "UTDO"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Timebox.Length != 45*time.Minute {
		t.Fatalf("sev3 box = %v, want 45 min", inc.Timebox.Length)
	}
	clk.Advance(5 * time.Minute)
	store.jobs = nil
	got, e, err := svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "UTDO", Severity: Sev1, Reason: "payments fail"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "Severity SEV3 → SEV1: payments fail (diagnosis retimed to the SEV1 box of 10 min, restore by 03:15 UTC)" {
		t.Errorf("entry = %q", e.Text)
	}
	tb := got.Timebox
	if tb.Length != 10*time.Minute || !tb.Deadline.Equal(clk.Now().Add(10*time.Minute)) || len(tb.Earlier) != 1 || tb.Earlier[0].Ended != "retimed for SEV1" {
		t.Errorf("timebox after the raise = %+v", tb)
	}
	wantJobs := []jobSummary{
		{Kind: JobChanged, Key: "incident.changed:1", Due: "03:05:00"},
		{Key: "incident.timebox_warning:100:1", Cancel: true},
		{Key: "incident.timebox_expiry:100:1", Cancel: true},
		{Kind: JobTimeboxWarning, Key: "incident.timebox_warning:100:2", Due: "03:13:00"},
		{Kind: JobTimeboxExpiry, Key: "incident.timebox_expiry:100:2", Due: "03:15:00"},
	}
	if diff := cmp.Diff(wantJobs, summarize(store.jobs)); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	// Lowering keeps the box; raising again to a box that ends later than
	// the running one keeps it too.
	clk.Advance(time.Minute)
	if got, _, err = svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "UTDO", Severity: Sev3, Reason: "only one shop"}); err != nil || got.Timebox.Generation != 2 {
		t.Errorf("lowering: %+v, %v", got.Timebox, err)
	}
	if got, _, err = svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "UTDO", Severity: Sev1}); err != nil || got.Timebox.Generation != 2 {
		t.Errorf("raising to a looser box: %+v, %v", got.Timebox, err)
	}
}
