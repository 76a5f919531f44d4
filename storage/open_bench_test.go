package storage_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/storage"
)

// benchWorkers is how many goroutines the store benchmarks run at once:
// the bot's worker pool.
const benchWorkers = 32

// dialects are the stores the benchmarks run on; PostgreSQL skips,
// saying so, without SITREP_TEST_DATABASE_URL.
var dialects = []struct {
	name string
	open opener
}{{"sqlite", openSQLite}, {"postgres", openPostgres}}

// runWorkers runs op b.N times over benchWorkers goroutines and reports
// the rate as unit.
func runWorkers(b *testing.B, unit string, op func(worker, i int) error) {
	b.Helper()
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var worker atomic.Int64
	b.SetParallelism(max(1, benchWorkers/max(1, testingProcs())))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		w := int(worker.Add(1) - 1)
		for pb.Next() {
			if err := op(w, int(next.Add(1))); err != nil {
				if failed.Add(1) == 1 {
					firstErr.Store(err)
				}
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d ops failed, the first: %v", failed.Load(), firstErr.Load())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
}

// BenchmarkOpenPath makes, per op, the store calls of one /incident open
// as the bot makes them: the incident numbered and stored with its
// provision job, the job claimed, the incident and its (missing) room
// read, "what changed?" read and recorded as shown, the room saved twice
// (created, then ready), the job completed. 32 opens run at once.
func BenchmarkOpenPath(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx := context.Background()
			if _, err := s.LogChanges(ctx, []incident.Change{{OccurredAt: t0.Add(-time.Hour), Systems: []string{"web"},
				Person: "ci", Summary: "deploy", Kind: incident.KindDeploy, Source: "api", LoggedAt: t0}}, nil); err != nil {
				b.Fatal(err)
			}
			runWorkers(b, "opens/s", func(_, i int) error { return openOnce(ctx, s, i) })
		})
	}
}

// openOnce is one open's store calls.
func openOnce(ctx context.Context, s *storage.Store, i int) error {
	inc := newIncident(fmt.Sprintf("bench %d", i), fmt.Sprintf("req-%d", i))
	inc.Systems = []string{"web"}
	if err := s.CreateIncident(ctx, inc, func(inc *incident.Incident) []jobs.Job {
		return []jobs.Job{{Kind: incident.JobProvision, Key: fmt.Sprintf("provision:%d", inc.ID), DueAt: t0,
			Payload: fmt.Appendf(nil, `{"incident_id":%d}`, inc.ID)}}
	}); err != nil {
		return err
	}
	j, err := s.JobByKey(ctx, fmt.Sprintf("provision:%d", inc.ID))
	if err != nil {
		return err
	}
	j, ok, err := s.Claim(ctx, "bench", j.ID, t0, time.Minute)
	if err != nil || !ok {
		return fmt.Errorf("claiming the provision job: %v %v", ok, err)
	}
	if _, err := s.Incident(ctx, inc.ID); err != nil {
		return err
	}
	if _, err := s.Room(ctx, inc.ID); !errors.Is(err, incident.ErrNotFound) {
		return fmt.Errorf("reading the new room: %v", err)
	}
	changes, err := s.Changes(ctx, incident.ChangeQuery{Systems: inc.Systems, Since: t0.Add(-24 * time.Hour), Until: t0, Limit: 4})
	if err != nil {
		return err
	}
	shown := make([]incident.ShownChange, len(changes))
	for k, c := range changes {
		shown[k] = incident.ShownChange{Change: c}
	}
	if err := s.ShowChanges(ctx, inc.ID, shown); err != nil {
		return err
	}
	room := &incident.Room{IncidentID: inc.ID, ChannelID: fmt.Sprintf("C%d", inc.ID), ChannelName: fmt.Sprintf("inc-%d", inc.Number), UpdatedAt: t0}
	if err := s.SaveRoom(ctx, room); err != nil {
		return err
	}
	room.HeaderTS, room.AnnouncementTS, room.Ready, room.Done = "1.1", "1.2", true, []string{"channel", "header"}
	if err := s.SaveRoom(ctx, room); err != nil {
		return err
	}
	return s.Complete(ctx, j, t0)
}

// BenchmarkNote adds a note to an incident's timeline, as /incident note
// does: UpdateIncident with one entry. 32 workers, each on an incident
// of its own.
func BenchmarkNote(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx := context.Background()
			ids := make([]int64, benchWorkers*4)
			for k := range ids {
				inc := newIncident("noted", "")
				if err := s.CreateIncident(ctx, inc, nil); err != nil {
					b.Fatal(err)
				}
				ids[k] = inc.ID
			}
			runWorkers(b, "notes/s", func(w, i int) error {
				_, _, err := s.UpdateIncident(ctx, ids[w%len(ids)], func(inc *incident.Incident) ([]incident.TimelineEntry, error) {
					return []incident.TimelineEntry{{At: t0, Actor: "U1", Kind: incident.EntryNote, Text: fmt.Sprintf("note %d", i)}}, nil
				}, nil)
				return err
			})
		})
	}
}

// testingProcs is GOMAXPROCS, which RunParallel multiplies.
func testingProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkReadWhileWriting reads an incident and its timeline, as a
// header refresh does, on 32 workers while 4 others add notes without
// pause: on SQLite the reads need not wait for the one writing
// connection.
func BenchmarkReadWhileWriting(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx, stop := context.WithCancel(context.Background())
			inc := newIncident("read", "")
			if err := s.CreateIncident(ctx, inc, nil); err != nil {
				b.Fatal(err)
			}
			var writes atomic.Int64
			done := make(chan struct{})
			for range 4 {
				go func() {
					defer func() { done <- struct{}{} }()
					for ctx.Err() == nil {
						_, _, err := s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
							return []incident.TimelineEntry{{At: t0, Actor: "U1", Kind: incident.EntryNote, Text: "busy"}}, nil
						}, nil)
						if err == nil {
							writes.Add(1)
						}
					}
				}()
			}
			runWorkers(b, "reads/s", func(_, _ int) error {
				if _, err := s.Incident(ctx, inc.ID); err != nil {
					return err
				}
				_, err := s.Room(ctx, inc.ID)
				if errors.Is(err, incident.ErrNotFound) {
					err = nil
				}
				return err
			})
			stop()
			for range 4 {
				<-done
			}
			b.ReportMetric(float64(writes.Load())/b.Elapsed().Seconds(), "notes/s")
		})
	}
}
