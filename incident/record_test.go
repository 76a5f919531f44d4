package incident

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/internal/clock"
)

// mapNames is a Names from a map; a name changed in the map is what the
// chat service would tell from then on.
type mapNames map[string]string

func (m mapNames) Name(_ context.Context, id string) string { return m[id] }

// TestEntriesStateWhatWasTrue: the opening keeps the severity it had, a
// hand-over and a role keep both people and their names as they were, and
// the TDO chain names each TDO as they were named when they took over.
func TestEntriesStateWhatWasTrue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	names := mapNames{"U1": "Alice", "U2": "Bob", "U3": "Carol"}
	svc := NewService(&memStore{}, clock.NewFake(now))
	svc.SetNames(names)
	ctx := context.Background()
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "orders stuck", Severity: Sev3, Reporter: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	mustDo := func(_ *Incident, _ TimelineEntry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(svc.SetSeverity(ctx, SeverityRequest{IncidentID: inc.ID, Actor: "U1", Severity: Sev1}))
	mustDo(svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: RoleComms, User: "U2"}))
	mustDo(svc.AssignRole(ctx, RoleRequest{IncidentID: inc.ID, Actor: "U1", Role: RoleComms, User: "U3"}))
	mustDo(svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "U1", To: "U2", Reason: "knows the queue"}))
	names["U2"] = "Robert" // renamed later
	mustDo(svc.HandOver(ctx, HandOverRequest{IncidentID: inc.ID, Actor: "U1", To: "U1", Reason: "took command"}))

	inc, _ = svc.Incident(ctx, inc.ID)
	timeline, err := svc.Timeline(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if got := timeline[0].Text; got != "Opened as SEV3: orders stuck" {
		t.Errorf("opening = %q, want SEV3 as it opened", got)
	}
	want := []Facts{
		{Severity: Sev3, Title: "orders stuck", To: "U1", Names: map[string]string{"U1": "Alice"}},
		{Severity: Sev1, FromSeverity: Sev3, Names: map[string]string{"U1": "Alice"}},
		{To: "U2", Names: map[string]string{"U1": "Alice", "U2": "Bob"}},
		{From: "U2", To: "U3", Names: map[string]string{"U1": "Alice", "U2": "Bob", "U3": "Carol"}},
		{From: "U1", To: "U2", Names: map[string]string{"U1": "Alice", "U2": "Bob"}},
		{From: "U2", To: "U1", Names: map[string]string{"U1": "Alice", "U2": "Robert"}},
	}
	for i, f := range want {
		if diff := cmp.Diff(f, timeline[i].Facts); diff != "" {
			t.Errorf("entry %d (%s) facts (-want +got):\n%s", i, timeline[i].Kind, diff)
		}
	}
	sum := Summarize(inc, timeline)
	if !cmp.Equal(sum.TDOs, []string{"U1", "U2", "U1"}) || !cmp.Equal(sum.TDONames, []string{"Alice", "Bob", "Alice"}) {
		t.Errorf("TDO chain %v named %v, want U1 U2 U1 named Alice Bob Alice", sum.TDOs, sum.TDONames)
	}
	for _, tc := range []struct {
		entry TimelineEntry
		want  string
	}{
		{timeline[3], "made <@U3> comms (was <@U2>)"},
		{timeline[4], "handed leadership over to <@U2>: knows the queue"},
		{timeline[5], "took command from <@U2>"},
		{TimelineEntry{Kind: EntryUpdateNudge, Text: "No status update for 30 min (SEV1 asks for one every 30 min)", Facts: Facts{To: "U2"}},
			"No status update for 30 min (SEV1 asks for one every 30 min); <@U2> was asked for one"},
	} {
		if got := describeEntry(tc.entry); got != tc.want {
			t.Errorf("postmortem line = %q, want %q", got, tc.want)
		}
	}
}

// TestPinOncePerMessage pins a message, then pins it again as a caller
// that lost its own record of the first pin (a crash between the two
// writes) would: the entry written first is returned and nothing is
// written; another message is a new entry.
func TestPinOncePerMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	store := &memStore{}
	svc := NewService(store, clk)
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "checkout fails", Severity: Sev2, Reporter: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := svc.Pin(ctx, inc.ID, "U1", "U2", "pool at 100%", "1700000000.000100")
	if err != nil || first.Facts.Message != "1700000000.000100" {
		t.Fatalf("first pin = %+v, %v", first, err)
	}
	entries := len(store.timeline)
	_, again, err := svc.Pin(ctx, inc.ID, "U1", "U2", "pool at 100%", "1700000000.000100")
	if err != nil || again.ID != first.ID || len(store.timeline) != entries {
		t.Errorf("the same message pinned again: %+v, %v; %d entries, want %d", again, err, len(store.timeline), entries)
	}
	_, other, err := svc.Pin(ctx, inc.ID, "U1", "U2", "pool at 100%", "1700000000.000200")
	if err != nil || other.ID == first.ID || len(store.timeline) != entries+1 {
		t.Errorf("another message: %+v, %v", other, err)
	}
}
