package incident

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/clock"
)

// TestOpenReportedByMonitoring opens incidents that no person reported:
// the rotation names the TDO, the reporter is the product's name, and with
// no rotation to lead it nothing is opened and the problem says what to
// configure.
func TestOpenReportedByMonitoring(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	rotations := []Rotation{
		{Name: "payments", Members: []string{"UANA"}, Schedule: daily{time.UTC}, Start: start, Systems: []string{"checkout"}},
		{Name: "platform", Members: []string{"UBEN"}, Schedule: daily{time.UTC}, Start: start, Default: true},
	}
	tests := []struct {
		name      string
		rotations []Rotation
		req       OpenRequest
		wantTDO   string
		wantField string
	}{
		{name: "rotation of its system", rotations: rotations,
			req:     OpenRequest{Title: "HighErrorRate", Systems: []string{"checkout"}, ReportedBy: "Alertmanager", RequestKey: "alert:declare:1"},
			wantTDO: "UANA"},
		{name: "default rotation", rotations: rotations,
			req:     OpenRequest{Title: "DiskFull", ReportedBy: "Grafana"},
			wantTDO: "UBEN"},
		{name: "no rotation", req: OpenRequest{Title: "DiskFull", Systems: []string{"db"}, ReportedBy: "Grafana"}, wantField: "tdo"},
		{name: "nobody at all", rotations: rotations, req: OpenRequest{Title: "DiskFull"}, wantField: "reporter"},
		{name: "name too long", rotations: rotations,
			req: OpenRequest{Title: "DiskFull", ReportedBy: strings.Repeat("x", MaxReportedBy+1)}, wantField: "reporter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{}
			svc := NewService(store, clock.NewFake(start.Add(time.Hour)))
			svc.SetRotations(tc.rotations)
			inc, created, err := svc.Open(context.Background(), tc.req)
			if tc.wantField != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tc.wantField {
					t.Fatalf("Open: %v; want a problem with %s", err, tc.wantField)
				}
				if list, _ := store.ListIncidents(context.Background(), 10); len(list) != 0 {
					t.Errorf("%d incidents stored after a refused open", len(list))
				}
				return
			}
			if err != nil || !created {
				t.Fatalf("Open: %v (created %v)", err, created)
			}
			if inc.TDOID != tc.wantTDO || inc.ReporterID != "" || inc.ReportedBy != tc.req.ReportedBy {
				t.Errorf("TDO %q, reporter %q/%q; want %q, \"\"/%q", inc.TDOID, inc.ReporterID, inc.ReportedBy, tc.wantTDO, tc.req.ReportedBy)
			}
			if name, person := inc.Reporter(); name != tc.req.ReportedBy || person {
				t.Errorf("Reporter() = %q, %v", name, person)
			}
		})
	}
}

// TestNoteAlert writes alert entries once per key, cut to MaxNote, and
// refuses a closed incident.
func TestNoteAlert(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	svc := NewService(store, clock.NewFake(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)))
	inc, _, err := svc.Open(ctx, OpenRequest{Title: "checkout errors", Reporter: "UANA"})
	if err != nil {
		t.Fatal(err)
	}
	note := AlertNote{Source: "Alertmanager", Key: "alert:7:opened", Text: "HighErrorRate — error rate 12% on checkout", Link: "https://am.example/#/alerts"}
	_, first, created, err := svc.NoteAlert(ctx, inc.ID, note)
	if err != nil || !created {
		t.Fatalf("first NoteAlert: %v (created %v)", err, created)
	}
	if first.Kind != EntryAlert || first.Facts.Source != "Alertmanager" || first.Facts.Link != note.Link || first.Actor != "" {
		t.Errorf("entry %+v; want an alert entry by Alertmanager with its link and no person", first)
	}
	_, again, created, err := svc.NoteAlert(ctx, inc.ID, note)
	if err != nil || created || again.ID != first.ID {
		t.Errorf("second NoteAlert with the same key: created %v, entry %d (first %d), err %v; want the first back", created, again.ID, first.ID, err)
	}
	long := note
	long.Key, long.Text = "alert:7:resolved:1", strings.Repeat("é", 10_000)
	_, cut, _, err := svc.NoteAlert(ctx, inc.ID, long)
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(cut.Text)); n != MaxNote {
		t.Errorf("a 10,000-rune alert became %d runes; want %d", n, MaxNote)
	}
	timeline, _ := store.Timeline(ctx, inc.ID)
	if len(timeline) != 2 {
		t.Errorf("timeline has %d entries; want 2 (one per key)", len(timeline))
	}
	for _, bad := range []AlertNote{{Source: "x", Text: "no key"}, {Source: "x", Key: "k"}} {
		var fe *FieldError
		if _, _, _, err := svc.NoteAlert(ctx, inc.ID, bad); !errors.As(err, &fe) {
			t.Errorf("NoteAlert(%+v): %v; want a field problem", bad, err)
		}
	}
	if _, _, err := svc.SetStatus(ctx, StatusRequest{IncidentID: inc.ID, Actor: "UANA", Status: StatusResolved}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Close(ctx, inc.ID, "UANA"); err != nil {
		t.Fatal(err)
	}
	late := note
	late.Key = "alert:7:resolved:2"
	if _, _, _, err := svc.NoteAlert(ctx, inc.ID, late); !errors.Is(err, ErrClosed) {
		t.Errorf("NoteAlert on a closed incident: %v; want ErrClosed", err)
	}
}
