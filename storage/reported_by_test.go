package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
)

func TestReportedBySQLite(t *testing.T) { t.Parallel(); testReportedBy(t, openSQLite) }
func TestReportedByPostgres(t *testing.T) {
	t.Parallel()
	pgtest.URL(t)
	testReportedBy(t, openPostgres)
}

// testReportedBy stores an incident that monitoring reported (no person)
// and an alert entry on its timeline, and reads both back as written; an
// incident a person reported keeps an empty ReportedBy.
func testReportedBy(t *testing.T, open opener) {
	s := open(t)
	ctx := context.Background()
	byAlert := newIncident("error rate 12% on checkout", "alert:declare:1")
	byAlert.ReporterID, byAlert.ReportedBy = "", "Alertmanager"
	if err := s.CreateIncident(ctx, byAlert, nil); err != nil {
		t.Fatal(err)
	}
	byPerson := newIncident("typed by a person", "")
	if err := s.CreateIncident(ctx, byPerson, nil); err != nil {
		t.Fatal(err)
	}
	entry := incident.TimelineEntry{At: t0.Add(time.Second), Kind: incident.EntryAlert, Text: "HighErrorRate — error rate 12% on checkout",
		Facts: incident.Facts{Source: "Alertmanager", Key: "alert:1:opened", Link: "https://prometheus.example/graph?g0.expr=x"}}
	if _, _, err := s.UpdateIncident(ctx, byAlert.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
		return []incident.TimelineEntry{entry}, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Incident(ctx, byAlert.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReporterID != "" || got.ReportedBy != "Alertmanager" {
		t.Errorf("reporter read back as %q / %q; want \"\" / \"Alertmanager\"", got.ReporterID, got.ReportedBy)
	}
	if name, person := got.Reporter(); name != "Alertmanager" || person {
		t.Errorf("Reporter() = %q, %v; want Alertmanager, not a person", name, person)
	}
	list, err := s.ListIncidents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int64]string{}
	for _, inc := range list {
		by[inc.ID] = inc.ReportedBy
	}
	if by[byAlert.ID] != "Alertmanager" || by[byPerson.ID] != "" {
		t.Errorf("listed reported_by %v; want Alertmanager for the alert's, nothing for the person's", by)
	}
	timeline, err := s.Timeline(ctx, byAlert.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(timeline) != 1 {
		t.Fatalf("timeline has %d entries; want 1", len(timeline))
	}
	if diff := cmp.Diff(entry.Facts, timeline[0].Facts); diff != "" || timeline[0].Kind != incident.EntryAlert {
		t.Errorf("alert entry read back as %s (-want +got facts):\n%s", timeline[0].Kind, diff)
	}
}
