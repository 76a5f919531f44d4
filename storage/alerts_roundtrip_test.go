package storage

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// TestPostgresAlertRoundTrips holds alert intake on PostgreSQL to its
// round trips, statements prepared: a transaction is BEGIN, the groups
// locked, the alerts stored, the groups saved, the jobs (if any) and
// COMMIT, however many alerts and groups it carries.
func TestPostgresAlertRoundTrips(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skip(pgtest.EnvVar + " not set: skipping PostgreSQL")
	}
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	w := newWireCounter(t, u.Host)
	u.Host = w.ln.Addr().String()
	s := migrated(t, u.String())
	s.db.SetMaxOpenConns(1)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	svc := alert.NewService(s, clk, alert.Settings{PerMinute: 1000})
	am := func(group, fp int) alert.Alert {
		return alert.Alert{Source: alert.SourceAlertmanager, GroupKey: fmt.Sprintf("g%d", group), Fingerprint: fmt.Sprintf("f%d", fp),
			Title: "HighLatency", Labels: map[string]string{"severity": "critical"}}
	}
	var warm []alert.Alert
	for g := range 40 {
		warm = append(warm, am(g, 0))
	}
	if _, err := svc.Receive(ctx, warm); err != nil {
		t.Fatal(err)
	}
	next := 1000
	tests := []struct {
		name  string
		trips int64
		op    func() error
	}{
		{"a repeat, its refresh scheduled", 5, func() error {
			_, err := svc.Receive(ctx, []alert.Alert{am(0, 0)})
			return err
		}},
		{"20 alerts of one group", 5, func() error {
			var as []alert.Alert
			for fp := range 20 {
				as = append(as, am(1, fp))
			}
			_, err := svc.Receive(ctx, as)
			return err
		}},
		{"20 alerts of 20 groups, refreshes scheduled", 5, func() error {
			var as []alert.Alert
			for g := range 20 {
				as = append(as, am(10+g, 0))
			}
			_, err := svc.Receive(ctx, as)
			return err
		}},
		{"a new group", 8, func() error {
			next++
			_, err := svc.Receive(ctx, []alert.Alert{am(next, 0)})
			return err
		}},
	}
	for _, tc := range tests {
		// The first run prepares and schedules the refreshes of the
		// bucket; the second shows the steady state.
		if err := tc.op(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for busy := true; busy; {
			busy = false
			s.w.preparing.Range(func(any, any) bool { busy = true; return false })
			time.Sleep(time.Millisecond)
		}
		before := w.trips.Load()
		if err := tc.op(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := w.trips.Load() - before; got != tc.trips {
			t.Errorf("%s: %d round trips, want %d", tc.name, got, tc.trips)
		}
	}
}
