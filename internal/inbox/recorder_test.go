package inbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

var t0 = time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)

// openStore opens a migrated SQLite store in a temporary directory and
// returns it with its file's path.
func openStore(t *testing.T) (*storage.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.db")
	return openURL(t, "sqlite:"+path), path
}

func openURL(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func arrival(key string, tag int) inbox.Arrival {
	return inbox.Arrival{
		Record: inbox.Record{
			Envelope: inbox.Envelope{Key: key, EnvelopeID: "E" + key, Type: "slash_commands",
				Payload: []byte(`{"command":"/incident","text":"open ` + key + `"}`), ReceivedAt: t0},
			Owner: "a#1", LeaseUntil: t0.Add(time.Minute),
		},
		Tag: tag,
	}
}

// collector gathers a Recorder's outcomes, group by group.
type collector struct {
	mu     sync.Mutex
	groups [][]inbox.Outcome
}

func (c *collector) handle(out []inbox.Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = append(c.groups, out)
}

func (c *collector) all() []inbox.Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []inbox.Outcome
	for _, g := range c.groups {
		out = append(out, g...)
	}
	return out
}

// submitAll queues arrivals for keys, tagged by index, and closes r.
func submitAll(t *testing.T, r *inbox.Recorder, keys []string) {
	t.Helper()
	for i, k := range keys {
		if err := r.Submit(context.Background(), arrival(k, i)); err != nil {
			t.Fatalf("submitting %s: %v", k, err)
		}
	}
	r.Close()
}

func TestRecorderRecordsWaitingArrivalsInGroups(t *testing.T) {
	s, _ := openStore(t)
	var c collector
	r := inbox.NewRecorder(s, 256, 64, 2*time.Second, c.handle)
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("cmd:T%d", i))
	}
	submitAll(t, r, keys) // all 200 wait before the recorder starts
	r.Run(context.Background(), 1)

	if got := r.Batches(); got != 4 {
		t.Errorf("200 waiting arrivals took %d groups of at most 64, want 4", got)
	}
	for _, g := range c.groups {
		if len(g) > 64 {
			t.Errorf("a group of %d, above its bound of 64", len(g))
		}
	}
	out := c.all()
	if len(out) != 200 {
		t.Fatalf("%d outcomes for 200 arrivals", len(out))
	}
	for i, o := range out {
		if o.Tag != i {
			t.Errorf("outcome %d carries tag %v: not in order of arrival", i, o.Tag)
		}
		if o.Err != nil || !o.First {
			t.Errorf("outcome %d: first=%v err=%v, want a first recording", i, o.First, o.Err)
		}
		got, err := s.Envelope(context.Background(), o.Key)
		if err != nil || got.State != inbox.StateReceived || got.Attempts != 1 {
			t.Errorf("%s in the inbox: %+v, %v", o.Key, got, err)
		}
	}
}

func TestRecorderDuplicatesAreFirstOnce(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	if _, err := s.RecordEnvelope(ctx, arrival("cmd:old", 0).Envelope, "a#1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var c collector
	r := inbox.NewRecorder(s, 16, 16, 2*time.Second, c.handle)
	// One group: a key twice (Slack's retry read right behind the
	// first delivery), and a key recorded before.
	submitAll(t, r, []string{"cmd:new", "cmd:again", "cmd:again", "cmd:old", "cmd:new"})
	r.Run(ctx, 1)
	if r.Batches() != 1 {
		t.Fatalf("%d groups, want 1", r.Batches())
	}
	want := []bool{true, true, false, false, false}
	for i, o := range c.all() {
		if o.Err != nil || o.First != want[i] {
			t.Errorf("%s (arrival %d): first=%v err=%v, want first=%v", o.Key, i, o.First, o.Err, want[i])
		}
	}
}

// dropInbox breaks the SQLite inbox beside the database at path, as a
// lost or damaged file would.
func dropInbox(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+strings.TrimSuffix(path, ".db")+".inbox.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE inbox`); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderFailedGroupRecordsNone(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s, path := openStore(t)
		var c collector
		r := inbox.NewRecorder(s, 16, 16, 2*time.Second, c.handle)
		dropInbox(t, path)
		submitAll(t, r, []string{"cmd:a", "cmd:b", "cmd:c"})
		r.Run(context.Background(), 1)
		out := c.all()
		if len(out) != 3 {
			t.Fatalf("%d outcomes for 3 arrivals", len(out))
		}
		for _, o := range out {
			if o.Err == nil || o.First {
				t.Errorf("%s: first=%v err=%v; a failed group must fail every arrival", o.Key, o.First, o.Err)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			t.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL case")
		}
		s := openURL(t, pgtest.SchemaURL(t, url))
		var c collector
		r := inbox.NewRecorder(s, 16, 16, 2*time.Second, c.handle)
		// Five envelopes are recorded in two statements (4 + 1); the
		// last holds a NUL, which PostgreSQL refuses in text: the first
		// four must not stay recorded either.
		for i := range 5 {
			a := arrival(fmt.Sprintf("cmd:T%d", i), i)
			if i == 4 {
				a.Payload = []byte("{\"text\":\"nul \x00\"}")
			}
			if err := r.Submit(context.Background(), a); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		r.Run(context.Background(), 1)
		for _, o := range c.all() {
			if o.Err == nil || o.First {
				t.Errorf("%s: first=%v err=%v; a failed group must fail every arrival", o.Key, o.First, o.Err)
			}
			if _, err := s.Envelope(context.Background(), o.Key); err == nil {
				t.Errorf("%s was recorded although its group failed", o.Key)
			}
		}
	})
}

func TestRecorderStopsWithItsContext(t *testing.T) {
	s, _ := openStore(t)
	var c collector
	r := inbox.NewRecorder(s, 16, 4, 2*time.Second, c.handle)
	for i := range 10 {
		if err := r.Submit(context.Background(), arrival(fmt.Sprintf("cmd:T%d", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Run(ctx, 2)
	out := c.all()
	if len(out) != 10 {
		t.Fatalf("%d outcomes for 10 arrivals", len(out))
	}
	for _, o := range out {
		if !errors.Is(o.Err, inbox.ErrStopped) || o.First {
			t.Errorf("%s: first=%v err=%v, want ErrStopped", o.Key, o.First, o.Err)
		}
		if _, err := s.Envelope(context.Background(), o.Key); err == nil {
			t.Errorf("%s was recorded after the recorder stopped", o.Key)
		}
	}
	if err := r.Submit(context.Background(), arrival("cmd:late", 99)); !errors.Is(err, inbox.ErrStopped) {
		t.Errorf("Submit after the recorder stopped = %v, want ErrStopped", err)
	}
}

func TestRecorderReleasesWaitingSubmitsWhenStopped(t *testing.T) {
	s, _ := openStore(t)
	r := inbox.NewRecorder(s, 1, 4, 2*time.Second, func([]inbox.Outcome) {})
	if err := r.Submit(context.Background(), arrival("cmd:T0", 0)); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Submit(context.Background(), arrival("cmd:T1", 1)) }() // waits: the queue is full
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Run(ctx, 1)
	if err := <-errc; err != nil && !errors.Is(err, inbox.ErrStopped) {
		t.Errorf("a waiting Submit ended with %v, want nil (taken) or ErrStopped", err)
	}
}

// TestConcurrentFinishesAreEachKept: finishes committed together (one
// statement on PostgreSQL, one transaction on SQLite) each mark their own
// envelope, done or failed with its reason.
func TestConcurrentFinishesAreEachKept(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var s *storage.Store
			if dialect == "sqlite" {
				s, _ = openStore(t)
			} else {
				url := os.Getenv("SITREP_TEST_DATABASE_URL")
				if url == "" {
					t.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL case")
				}
				s = openURL(t, pgtest.SchemaURL(t, url))
			}
			ctx := context.Background()
			var records []inbox.Record
			for i := range 50 {
				records = append(records, arrival(fmt.Sprintf("cmd:T%d", i), i).Record)
			}
			if _, err := s.RecordEnvelopes(ctx, records); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Go(func() {
					failure := ""
					if i%10 == 3 {
						failure = fmt.Sprintf("handler %d panicked", i)
					}
					if err := s.FinishEnvelope(ctx, fmt.Sprintf("cmd:T%d", i), t0.Add(time.Duration(i)*time.Second), failure); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for i := range 50 {
				got, err := s.Envelope(ctx, fmt.Sprintf("cmd:T%d", i))
				want := inbox.StateDone
				if i%10 == 3 {
					want = inbox.StateFailed
				}
				if err != nil || got.State != want {
					t.Errorf("cmd:T%d is %s (%v), want %s", i, got.State, err, want)
				}
			}
			if c, err := s.ClaimEnvelopes(ctx, "b#1", false, t0.Add(time.Hour), t0.Add(2*time.Hour), 100); err != nil || len(c) != 0 {
				t.Errorf("%d finished envelopes could still be claimed (%v)", len(c), err)
			}
		})
	}
}

// TestRecorderSharesABurstAmongItsGoroutines: on several goroutines each
// group is a power of two of the arrivals waiting (one prepared statement
// in the store), and every arrival is recorded once.
func TestRecorderSharesABurstAmongItsGoroutines(t *testing.T) {
	s, _ := openStore(t)
	var c collector
	r := inbox.NewRecorder(s, 256, 64, 2*time.Second, c.handle)
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("cmd:T%d", i))
	}
	submitAll(t, r, keys)
	r.Run(context.Background(), 3)
	for _, g := range c.groups {
		if n := len(g); n > 64 || n&(n-1) != 0 {
			t.Errorf("a group of %d: want a power of two up to 64", n)
		}
	}
	seen := map[string]int{}
	for _, o := range c.all() {
		if o.Err != nil || !o.First {
			t.Errorf("%s: first=%v err=%v", o.Key, o.First, o.Err)
		}
		seen[o.Key]++
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("%s had %d outcomes, want 1", k, seen[k])
		}
	}
}
