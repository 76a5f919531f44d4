package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/pgtest"
)

// BenchmarkRecordEnvelope records bursts of 200 envelopes at once, as a
// burst of slash commands does, and reports the time each caller waited
// for its envelope to be durable (p50, p99) and how many envelopes one
// transaction carried on average.
func BenchmarkRecordEnvelope(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchRecord(b, benchStore(b, "sqlite:"+filepath.Join(b.TempDir(), "inbox.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
		}
		benchRecord(b, benchStore(b, pgtest.SchemaURL(b, url)))
	})
}

func benchRecord(b *testing.B, s *Store) {
	ctx := context.Background()
	payload := make([]byte, 1200) // a slash command's payload
	for i := range payload {
		payload[i] = 'x'
	}
	const burst = 200
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		for j := range burst {
			wg.Go(func() {
				start := time.Now()
				e := inbox.Envelope{Key: fmt.Sprintf("cmd:%d-%d", i, j), EnvelopeID: "E", Type: "slash_commands", Payload: payload, ReceivedAt: start}
				if _, err := s.RecordEnvelope(ctx, e, "bench", start.Add(time.Minute)); err != nil {
					b.Error(err)
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N*burst)/float64(s.inbox.commits.Load()), "envelopes/commit")
}

// BenchmarkRecordEnvelopes records groups of 100 envelopes with one
// RecordEnvelopes each, as the bot's recorder does under a burst, and
// reports the time per envelope.
func BenchmarkRecordEnvelopes(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchRecordGroups(b, benchStore(b, "sqlite:"+filepath.Join(b.TempDir(), "inbox.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
		}
		benchRecordGroups(b, benchStore(b, pgtest.SchemaURL(b, url)))
	})
}

func benchRecordGroups(b *testing.B, s *Store) {
	ctx := context.Background()
	payload := make([]byte, 1200) // a slash command's payload
	for i := range payload {
		payload[i] = 'x'
	}
	const group = 100
	records := make([]inbox.Record, group)
	b.ResetTimer()
	for i := range b.N {
		now := time.Now()
		for j := range records {
			records[j] = inbox.Record{Envelope: inbox.Envelope{Key: fmt.Sprintf("cmd:%d-%d", i, j), EnvelopeID: "E", Type: "slash_commands", Payload: payload, ReceivedAt: now},
				Owner: "bench", LeaseUntil: now.Add(time.Minute)}
		}
		first, err := s.RecordEnvelopes(ctx, records)
		if err != nil {
			b.Fatal(err)
		}
		if len(first) != group || !first[0] {
			b.Fatalf("recorded %d of %d as first", len(first), group)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*group), "µs/envelope")
}
