package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// wireCounter is a proxy in front of PostgreSQL that counts the round
// trips its clients make: each Sync (the end of an extended-protocol
// exchange) and each simple Query waits for the server's answer.
type wireCounter struct {
	ln    net.Listener
	trips atomic.Int64
}

func newWireCounter(t *testing.T, target string) *wireCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wireCounter{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, s); c.Close() }()
			go func() { w.relay(c, s); s.Close() }()
		}
	}()
	return w
}

// relay forwards the client's messages to the server, counting them.
func (w *wireCounter) relay(client io.Reader, server io.Writer) {
	var size [4]byte // the startup message has no type byte
	if _, err := io.ReadFull(client, size[:]); err != nil {
		return
	}
	startup := make([]byte, binary.BigEndian.Uint32(size[:])-4)
	if _, err := io.ReadFull(client, startup); err != nil {
		return
	}
	if _, err := server.Write(append(size[:], startup...)); err != nil {
		return
	}
	for {
		var head [5]byte
		if _, err := io.ReadFull(client, head[:]); err != nil {
			return
		}
		msg := make([]byte, 5+binary.BigEndian.Uint32(head[1:])-4)
		copy(msg, head[:])
		if _, err := io.ReadFull(client, msg[5:]); err != nil {
			return
		}
		if head[0] == 'S' || head[0] == 'Q' {
			w.trips.Add(1)
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// TestPostgresRoundTrips holds the PostgreSQL paths of an open, a note
// and a change batch to their round trips, statements prepared: each
// statement one, a transaction two more (BEGIN, COMMIT).
func TestPostgresRoundTrips(t *testing.T) {
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
	// One connection, so that what was prepared once stays prepared.
	s.db.SetMaxOpenConns(1)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	key := 0
	newInc := func() *incident.Incident {
		key++
		return &incident.Incident{Title: "trips", Severity: incident.Sev2, Status: incident.StatusInvestigating, Systems: []string{"web"},
			ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", RequestKey: fmt.Sprintf("k%d", key), OpenedAt: t0}
	}
	inc := newInc()
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	provision := func(i *incident.Incident) []jobs.Job {
		return []jobs.Job{{Kind: incident.JobProvision, Key: fmt.Sprintf("provision:%d", i.ID), DueAt: t0}}
	}
	changes := func(n int) []incident.Change {
		out := make([]incident.Change, n)
		for i := range out {
			key++
			out[i] = incident.Change{OccurredAt: t0, Systems: []string{"web", "db"}, Person: "ci", Summary: "deploy",
				Kind: incident.KindDeploy, Source: "api", ExternalID: fmt.Sprintf("x%d", key), LoggedAt: t0}
		}
		return out
	}
	tests := []struct {
		name  string
		trips int64
		op    func() error
	}{
		{"log 500 changes", 5, func() error {
			_, err := s.LogChanges(ctx, changes(500), func([]incident.Change) []jobs.Job { return []jobs.Job{{Kind: "logged", DueAt: t0}} })
			return err
		}},
		{"create with its job", 4, func() error { return s.CreateIncident(ctx, newInc(), provision) }},
		{"read an incident", 1, func() error { _, err := s.Incident(ctx, inc.ID); return err }},
		{"save a room", 1, func() error {
			return s.SaveRoom(ctx, &incident.Room{IncidentID: inc.ID, ChannelID: "C9", ChannelName: "inc-1", UpdatedAt: t0})
		}},
		{"read a room", 1, func() error { _, err := s.Room(ctx, inc.ID); return err }},
		{"what changed", 2, func() error {
			_, err := s.Changes(ctx, incident.ChangeQuery{Systems: []string{"web"}, Until: t0.Add(time.Hour), Limit: 4})
			return err
		}},
		{"show changes", 1, func() error {
			return s.ShowChanges(ctx, inc.ID, []incident.ShownChange{{Change: incident.Change{ID: 1}}, {Change: incident.Change{ID: 2}}})
		}},
		{"show no changes", 0, func() error { return s.ShowChanges(ctx, inc.ID, nil) }},
		{"note", 4, func() error {
			_, _, err := s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
				return []incident.TimelineEntry{{At: t0, Actor: "U1", Kind: incident.EntryNote, Text: "a note"}}, nil
			}, nil)
			return err
		}},
		{"enqueue", 1, func() error {
			key++
			_, err := s.Enqueue(ctx, jobs.Job{Kind: "k", Key: fmt.Sprint(key), DueAt: t0})
			return err
		}},
		{"enqueue a taken key", 1, func() error {
			_, err := s.Enqueue(ctx, jobs.Job{Kind: "k", Key: fmt.Sprint(key), DueAt: t0})
			return err
		}},
	}
	for _, tc := range tests {
		// The first run prepares; the second shows the steady state.
		if err := tc.op(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// Statements first run in a transaction are prepared in the
		// background.
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
