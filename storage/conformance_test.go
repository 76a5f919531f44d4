package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

// The conformance suite: every test runs on SQLite, and on PostgreSQL when
// SITREP_TEST_DATABASE_URL is set, each on a database of its own.

type opener func(t testing.TB) *storage.Store

func openSQLite(t testing.TB) *storage.Store {
	return openURL(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
}

func openPostgres(t testing.TB) *storage.Store { return openURL(t, pgtest.URL(t)) }

func openURL(t testing.TB, url string) *storage.Store {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLite(t *testing.T)   { t.Parallel(); conformance(t, openSQLite) }
func TestPostgres(t *testing.T) { t.Parallel(); pgtest.URL(t); conformance(t, openPostgres) }

func conformance(t *testing.T, open opener) {
	tests := []struct {
		name string
		f    func(t *testing.T, s *storage.Store)
	}{
		{"MigrateTwice", testMigrateTwice},
		{"CreateAndRead", testCreateAndRead},
		{"NotFound", testNotFound},
		{"RequestKeyDuplicate", testRequestKeyDuplicate},
		{"ConcurrentNumbers", testConcurrentNumbers},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"JobsInSameTransaction", testJobsInSameTransaction},
		{"Rooms", testRooms},
		{"JobLifecycle", testJobLifecycle},
		{"JobLeases", testJobLeases},
		{"ConcurrentClaimers", testConcurrentClaimers},
		{"Inbox", testInbox},
		{"UpdateIncident", testUpdateIncident},
		{"Private", testPrivate},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Changes", testChanges},
		{"RoomChanges", testRoomChanges},
		{"MessagePins", testMessagePins},
		{"PlanAndClock", testPlanAndClock},
		{"CancelJobs", testCancelJobs},
		{"ChecklistRuns", testChecklistRuns},
		{"Problems", testProblems},
		{"Postmortems", testPostmortems},
		{"EntryFacts", testEntryFacts},
		{"UnresolvedIncidents", testUnresolvedIncidents},
		{"AlertIntake", testAlertIntake},
		{"AlertRollback", testAlertRollback},
		{"AlertMembers", testAlertMembers},
		{"AlertConcurrentIntake", testAlertConcurrentIntake},
		{"AlertDecisions", testAlertDecisions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 11, 24, 3, 0, 0, 123456000, time.UTC)

func newIncident(title, key string) *incident.Incident {
	return &incident.Incident{Title: title, Severity: incident.Sev2, Status: incident.StatusInvestigating,
		Systems: []string{"web", "db"}, ReporterID: "U1", TDOID: "U1", ReportedIn: "C1", RequestKey: key, OpenedAt: t0}
}

func testMigrateTwice(t *testing.T, s *storage.Store) {
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
}

func testCreateAndRead(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("db is down", "k1")
	inc.Description = "since 03:00"
	inc.OpenedAt = t0.Add(789 * time.Nanosecond) // below PostgreSQL's precision
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	if inc.Number != 1 || inc.ID == 0 {
		t.Errorf("created %+v, want number 1 and an ID", inc)
	}
	for _, get := range []func() (*incident.Incident, error){
		func() (*incident.Incident, error) { return s.Incident(ctx, inc.ID) },
		func() (*incident.Incident, error) { return s.IncidentByNumber(ctx, 1) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		want := *inc
		want.OpenedAt = t0
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
	}
	noSystems := newIncident("quiet", "")
	noSystems.Systems = nil
	if err := s.CreateIncident(ctx, noSystems, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Incident(ctx, noSystems.ID)
	if len(got.Systems) != 0 || got.RequestKey != "" {
		t.Errorf("incident without systems or key read back as %+v", got)
	}
	list, err := s.ListIncidents(ctx, 10)
	if err != nil || len(list) != 2 || list[0].Number != 2 {
		t.Errorf("ListIncidents = %v, %v; want 2 newest first", list, err)
	}
}

func testNotFound(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	if _, err := s.Incident(ctx, 42); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Incident(42) = %v, want ErrNotFound", err)
	}
	if _, err := s.IncidentByNumber(ctx, 42); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("IncidentByNumber(42) = %v, want ErrNotFound", err)
	}
	if _, err := s.Room(ctx, 42); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("Room(42) = %v, want ErrNotFound", err)
	}
	if _, err := s.RoomByChannel(ctx, "C404"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("RoomByChannel = %v, want ErrNotFound", err)
	}
}

func testRequestKeyDuplicate(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	first := newIncident("first", "same")
	if err := s.CreateIncident(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	second := newIncident("second", "same")
	err := s.CreateIncident(ctx, second, func(*incident.Incident) []jobs.Job {
		return []jobs.Job{{Kind: "x", Key: "x:dup", DueAt: t0}}
	})
	if !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("second create = %v, want ErrDuplicate", err)
	}
	if second.ID != first.ID || second.Title != "first" {
		t.Errorf("duplicate filled %+v, want the first incident", second)
	}
	third := newIncident("third", "other")
	if err := s.CreateIncident(ctx, third, nil); err != nil || third.Number != 2 {
		t.Errorf("after a duplicate the next number is %d (%v), want 2: no gap", third.Number, err)
	}
	if got, _ := s.ClaimDue(ctx, "r1", t0, time.Minute, 10); len(got) != 0 {
		t.Errorf("a duplicate create stored jobs: %+v", got)
	}
}

func testConcurrentNumbers(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	const n = 50
	numbers := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inc := newIncident(fmt.Sprintf("storm %d", i), fmt.Sprintf("key-%d", i))
			if err := s.CreateIncident(ctx, inc, nil); err != nil {
				t.Error(err)
				return
			}
			numbers[i] = inc.Number
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	for i, got := range numbers {
		if got != int64(i+1) {
			t.Fatalf("numbers after %d concurrent creates = %v, want 1..%d each once", n, numbers, n)
		}
	}
}

func testConcurrentSameKey(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[int64]int{}
	for i := range 10 {
		wg.Go(func() {
			inc := newIncident(fmt.Sprintf("race %d", i), "racing-key")
			err := s.CreateIncident(ctx, inc, nil)
			if err != nil && !errors.Is(err, incident.ErrDuplicate) {
				t.Errorf("create: %v", err)
				return
			}
			mu.Lock()
			ids[inc.ID]++
			mu.Unlock()
		})
	}
	wg.Wait()
	list, _ := s.ListIncidents(ctx, 100)
	if len(list) != 1 || len(ids) != 1 {
		t.Errorf("10 creates with one key stored %d incidents and returned IDs %v, want 1", len(list), ids)
	}
}

func testJobsInSameTransaction(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("with job", "")
	err := s.CreateIncident(ctx, inc, func(i *incident.Incident) []jobs.Job {
		return []jobs.Job{{Kind: "incident.provision", Key: fmt.Sprintf("p:%d", i.ID), Payload: []byte(`{"n":1}`), DueAt: t0}}
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDue(ctx, "r1", t0, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].Key != fmt.Sprintf("p:%d", inc.ID) || string(got[0].Payload) != `{"n":1}` {
		t.Fatalf("jobs after create = %+v, %v", got, err)
	}
	// A create whose transaction cannot commit (its context is cancelled
	// while the jobs are built) leaves neither the incident nor its jobs.
	list, _ := s.ListIncidents(ctx, 10)
	before := len(list)
	cctx, cancel := context.WithCancel(ctx)
	doomed := newIncident("doomed", "")
	err = s.CreateIncident(cctx, doomed, func(*incident.Incident) []jobs.Job {
		cancel() // the transaction cannot commit now
		return []jobs.Job{{Kind: "x", Key: "k-doomed", DueAt: t0}}
	})
	if err == nil {
		t.Fatal("create with a cancelled context succeeded")
	}
	list, _ = s.ListIncidents(ctx, 10)
	if len(list) != before {
		t.Errorf("incidents = %d, want %d: the failed create must leave nothing", len(list), before)
	}
	if j, _ := s.ClaimDue(ctx, "r1", t0.Add(time.Hour), time.Minute, 100); slices.ContainsFunc(j, func(j jobs.Job) bool { return j.Key == "k-doomed" }) {
		t.Error("the failed create left its job behind")
	}
}

func testRooms(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("room", "")
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	r := &incident.Room{IncidentID: inc.ID, UpdatedAt: t0}
	if err := s.SaveRoom(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.ChannelID, r.ChannelName, r.HeaderTS, r.PlanTS = "C9", "inc-1-room", "1.000100", "1.000300"
	r.Mark("channel")
	r.Mark("header")
	r.Ready = true
	if err := s.SaveRoom(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, get := range []func() (*incident.Room, error){
		func() (*incident.Room, error) { return s.Room(ctx, inc.ID) },
		func() (*incident.Room, error) { return s.RoomByChannel(ctx, "C9") },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("room (-want +got):\n%s", diff)
		}
	}
	other := newIncident("other", "")
	_ = s.CreateIncident(ctx, other, nil)
	if err := s.SaveRoom(ctx, &incident.Room{IncidentID: other.ID, ChannelID: "C9", UpdatedAt: t0}); err == nil {
		t.Error("two rooms share channel C9")
	}
}

func testJobLifecycle(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	id, err := s.Enqueue(ctx, jobs.Job{Kind: "k", Key: "once", DueAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Enqueue(ctx, jobs.Job{Kind: "k", Key: "once", DueAt: t0})
	if err != nil || again != id {
		t.Fatalf("re-enqueue with the same key = %d, %v; want %d", again, err, id)
	}
	if got, _ := s.ClaimDue(ctx, "r1", t0, time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed a job not yet due: %+v", got)
	}
	got, err := s.ClaimDue(ctx, "r1", t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].State != jobs.StateRunning || got[0].Attempts != 1 {
		t.Fatalf("ClaimDue = %+v, %v", got, err)
	}
	if again, _ := s.ClaimDue(ctx, "r1", t0.Add(90*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed a leased job: %+v", again)
	}
	// The lease runs out: the runner is presumed dead and another claims it.
	got, _ = s.ClaimDue(ctx, "r2", t0.Add(3*time.Minute), time.Minute, 10)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LockedBy != "r2" || !got[0].LockedUntil.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("claim after the lease = %+v, want attempt 2 held by r2 until t0+4m", got)
	}
	if err := s.Retry(ctx, got[0], t0.Add(time.Hour), "slack down"); err != nil {
		t.Fatal(err)
	}
	if j, _ := s.Job(ctx, id); j.State != jobs.StatePending || j.LastError != "slack down" || !j.DueAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after Retry: %+v", j)
	}
	// Claim by ID ignores the due time.
	j, ok, err := s.Claim(ctx, "r1", id, t0, time.Minute)
	if err != nil || !ok || j.Attempts != 3 || j.LockedBy != "r1" {
		t.Fatalf("Claim = %+v, %v, %v", j, ok, err)
	}
	if _, ok, _ := s.Claim(ctx, "r2", id, t0, time.Minute); ok {
		t.Error("Claim took a job leased by another")
	}
	if err := s.Complete(ctx, j, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Claim(ctx, "r1", id, t0.Add(time.Hour), time.Minute); ok {
		t.Error("Claim took a done job")
	}
	failed, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0})
	fj, ok, _ := s.Claim(ctx, "r1", failed, t0, time.Minute)
	if !ok {
		t.Fatal("Claim of a pending job failed")
	}
	if err := s.Fail(ctx, fj, t0, "gone"); err != nil {
		t.Fatal(err)
	}
	if j, _ := s.Job(ctx, failed); j.State != jobs.StateFailed || j.LastError != "gone" {
		t.Errorf("after Fail: %+v", j)
	}
	if err := s.Complete(ctx, jobs.Job{ID: 999999, LockedBy: "r1", Attempts: 1}, t0); err == nil {
		t.Error("Complete of a missing job succeeded")
	}
}

// testJobLeases: only the claim that holds a job may renew or finish it; a
// renewed lease keeps other runners off; a restarted instance reclaims its
// own running jobs at once but not another instance's.
func testJobLeases(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	id, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", Key: "long", DueAt: t0})
	a, err := s.ClaimDue(ctx, "a", t0, time.Minute, 1)
	if err != nil || len(a) != 1 {
		t.Fatalf("ClaimDue = %+v, %v", a, err)
	}
	held := a[0]

	// Renewing before the lease runs out keeps b off past the first lease.
	if err := s.Renew(ctx, held, t0.Add(100*time.Second)); err != nil {
		t.Fatalf("Renew by the holder: %v", err)
	}
	if got, _ := s.ClaimDue(ctx, "b", t0.Add(90*time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("b claimed a job whose lease was renewed: %+v", got)
	}
	if j, _ := s.Job(ctx, id); !j.LockedUntil.Equal(t0.Add(100*time.Second)) || j.LockedBy != "a" {
		t.Errorf("after Renew: locked by %q until %v", j.LockedBy, j.LockedUntil)
	}

	// Nobody but the holding claim may act on it.
	for _, tc := range []struct {
		name  string
		claim jobs.Job
	}{
		{"another instance", jobs.Job{ID: id, LockedBy: "b", Attempts: held.Attempts}},
		{"an earlier claim", jobs.Job{ID: id, LockedBy: "a", Attempts: held.Attempts - 1}},
	} {
		if err := s.Complete(ctx, tc.claim, t0); !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("Complete by %s = %v, want ErrLeaseLost", tc.name, err)
		}
		if err := s.Renew(ctx, tc.claim, t0.Add(time.Hour)); !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("Renew by %s = %v, want ErrLeaseLost", tc.name, err)
		}
	}

	// The lease runs out; b takes the job over, and a can neither renew,
	// complete, retry nor fail it any more.
	b, _ := s.ClaimDue(ctx, "b", t0.Add(101*time.Second), time.Minute, 10)
	if len(b) != 1 || b[0].ID != id || b[0].Attempts != held.Attempts+1 {
		t.Fatalf("claim after the renewed lease = %+v", b)
	}
	for name, err := range map[string]error{
		"Renew":    s.Renew(ctx, held, t0.Add(time.Hour)),
		"Complete": s.Complete(ctx, held, t0),
		"Retry":    s.Retry(ctx, held, t0, "x"),
		"Fail":     s.Fail(ctx, held, t0, "x"),
	} {
		if !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("%s by the runner that lost the lease = %v, want ErrLeaseLost", name, err)
		}
	}
	if j, _ := s.Job(ctx, id); j.State != jobs.StateRunning || j.LockedBy != "b" {
		t.Errorf("job after the loser's calls: %s, locked by %q", j.State, j.LockedBy)
	}
	if err := s.Complete(ctx, b[0], t0.Add(2*time.Minute)); err != nil {
		t.Errorf("Complete by the new holder: %v", err)
	}

	// Reclaim: a restarted "a" gets back its running jobs, due now (or
	// earlier), attempts kept; b's and pending ones are untouched.
	mine, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0})
	ahead, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0.Add(time.Hour)})
	theirs, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0})
	waiting, _ := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0.Add(time.Hour)})
	for _, c := range []struct {
		by string
		id int64
	}{{"a", mine}, {"a", ahead}, {"b", theirs}} {
		if _, ok, err := s.Claim(ctx, c.by, c.id, t0, time.Minute); !ok || err != nil {
			t.Fatalf("Claim %d by %s: %v %v", c.id, c.by, ok, err)
		}
	}
	now := t0.Add(10 * time.Second)
	if n, err := s.Reclaim(ctx, "a", now); err != nil || n != 2 {
		t.Fatalf("Reclaim(a) = %d, %v; want 2", n, err)
	}
	got, _ := s.ClaimDue(ctx, "a", now, time.Minute, 10)
	ids := map[int64]jobs.Job{}
	for _, j := range got {
		ids[j.ID] = j
	}
	if len(got) != 2 || ids[mine].Attempts != 2 || ids[ahead].Attempts != 2 {
		t.Fatalf("claim after Reclaim = %+v; want a's two jobs again, attempt 2", got)
	}
	if !ids[mine].DueAt.Equal(t0) || !ids[ahead].DueAt.Equal(now) {
		t.Errorf("reclaimed jobs due at %v and %v; want t0 kept and the later one made due now", ids[mine].DueAt, ids[ahead].DueAt)
	}
	if ids[mine].LastError == "" {
		t.Error("a reclaimed job does not say why it ran again")
	}
	if j, _ := s.Job(ctx, theirs); j.State != jobs.StateRunning || j.LockedBy != "b" {
		t.Errorf("another instance's job after Reclaim(a): %s, locked by %q", j.State, j.LockedBy)
	}
	if j, _ := s.Job(ctx, waiting); j.State != jobs.StatePending || !j.DueAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("a pending job after Reclaim(a): %+v", j)
	}
	// b's job is taken over only once its lease runs out.
	if got, _ := s.ClaimDue(ctx, "a", t0.Add(61*time.Second), time.Minute, 10); len(got) != 1 || got[0].ID != theirs {
		t.Errorf("claim after b's lease ran out = %+v, want b's job", got)
	}
}

func testConcurrentClaimers(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	const n = 1000
	for i := range n {
		if _, err := s.Enqueue(ctx, jobs.Job{Kind: "k", DueAt: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDue(ctx, "r1", t0.Add(time.Hour), time.Hour, 25)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %d claimed %d times", id, c)
		}
	}
}

func testInbox(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	lease := t0.Add(time.Minute)
	env := func(key string, at time.Time) inbox.Envelope {
		return inbox.Envelope{Key: key, EnvelopeID: "E" + key, Type: "slash_commands", Payload: []byte(`{"command":"/incident","text":"a & b"}`), ReceivedAt: at}
	}
	// 20 concurrent deliveries of one envelope, and 30 others, committed
	// together: exactly one of the 20 is first, every other is first.
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := range 50 {
		wg.Go(func() {
			key := "cmd:T1"
			if i >= 20 {
				key = fmt.Sprintf("cmd:T%d", i)
			}
			first, err := s.RecordEnvelope(ctx, env(key, t0), "a#1", lease)
			if err != nil {
				t.Error(err)
				return
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 31 {
		t.Errorf("%d of 50 recordings were first, want 31 (one of 20 redeliveries and 30 others)", firsts)
	}
	got, err := s.Envelope(ctx, "cmd:T1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != inbox.StateReceived || got.Attempts != 1 || string(got.Payload) != `{"command":"/incident","text":"a & b"}` || got.Type != "slash_commands" || !got.ReceivedAt.Equal(t0) {
		t.Errorf("recorded envelope = %+v", got)
	}

	// Another instance cannot take leased envelopes; this instance's next
	// life takes its own at once; anyone takes them once the lease ran out.
	if c, err := s.ClaimEnvelopes(ctx, "b#1", false, t0.Add(time.Second), t0.Add(2*time.Minute), 100); err != nil || len(c) != 0 {
		t.Errorf("another instance claimed %d leased envelopes (%v)", len(c), err)
	}
	if c, err := s.ClaimEnvelopes(ctx, "b#1", true, t0.Add(time.Second), t0.Add(2*time.Minute), 100); err != nil || len(c) != 0 {
		t.Errorf("another instance claimed %d envelopes as its own (%v)", len(c), err)
	}
	for i := 20; i < 50; i++ {
		if err := s.FinishEnvelope(ctx, fmt.Sprintf("cmd:T%d", i), t0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishEnvelope(ctx, "cmd:T49", t0, "handler panicked"); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimEnvelopes(ctx, "a#1", true, t0.Add(time.Second), t0.Add(2*time.Minute), 100)
	if err != nil || len(c) != 1 || c[0].Key != "cmd:T1" || c[0].Attempts != 2 {
		t.Fatalf("own claim after a restart = %+v, %v; want cmd:T1 at attempt 2", c, err)
	}
	if c, err := s.ClaimEnvelopes(ctx, "b#1", false, t0.Add(time.Minute), t0.Add(3*time.Minute), 100); err != nil || len(c) != 0 {
		t.Errorf("claimed %d envelopes before their renewed lease ran out (%v)", len(c), err)
	}
	c, err = s.ClaimEnvelopes(ctx, "b#1", false, t0.Add(3*time.Minute), t0.Add(4*time.Minute), 100)
	if err != nil || len(c) != 1 || c[0].Attempts != 3 {
		t.Fatalf("claim after the lease ran out = %+v, %v", c, err)
	}
	if got, _ := s.Envelope(ctx, "cmd:T49"); got.State != inbox.StateFailed {
		t.Errorf("failed envelope is %s", got.State)
	}
	// A redelivery of a finished envelope is not first.
	if first, err := s.RecordEnvelope(ctx, env("cmd:T20", t0.Add(time.Hour)), "a#1", lease); err != nil || first {
		t.Errorf("redelivery of a handled envelope: first=%v, %v", first, err)
	}
	if n, err := s.PruneEnvelopes(ctx, t0.Add(time.Second)); err != nil || n != 30 {
		t.Errorf("PruneEnvelopes = %d, %v; want the 30 finished", n, err)
	}
	if got, err := s.Envelope(ctx, "cmd:T1"); err != nil || got.State != inbox.StateReceived {
		t.Errorf("an unfinished envelope was pruned: %+v %v", got, err)
	}
	// A caller whose time is up is told so, and nothing is stored.
	dead, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.RecordEnvelope(dead, env("cmd:late", t0), "a#1", lease); err == nil {
		t.Error("a recording past its deadline succeeded")
	}
	if _, err := s.Envelope(ctx, "cmd:late"); err == nil {
		t.Error("a recording past its deadline was stored")
	}
}

func testUpdateIncident(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("update me", "")
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	restored := t0.Add(5 * time.Minute)
	got, entries, err := s.UpdateIncident(ctx, inc.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Status, i.RestoredAt, i.AcknowledgedAt, i.Severity = incident.StatusRestored, restored, t0.Add(time.Minute), incident.Sev1
		i.ClosedAt = restored.Add(time.Hour)
		i.Roles = map[incident.Role]string{incident.RoleComms: "U7", incident.RoleScribe: "U8"}
		return []incident.TimelineEntry{
			{At: restored, Actor: "U1", Kind: incident.EntryStatus, Text: "Status investigating → restored"},
			{At: restored, Actor: "U2", Kind: incident.EntryTDO, Subject: "U3", Text: "knows the db"},
		}, nil
	}, func(i *incident.Incident, e []incident.TimelineEntry) []jobs.Job {
		return []jobs.Job{{Kind: "incident.status_changed", Key: fmt.Sprintf("sc:%d", e[0].ID), DueAt: restored}}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].ID == 0 || entries[0].IncidentID != inc.ID || entries[1].ID <= entries[0].ID {
		t.Fatalf("entries = %+v, want IDs set in order", entries)
	}
	read, _ := s.Incident(ctx, inc.ID)
	if diff := cmp.Diff(got, read); diff != "" {
		t.Errorf("returned and stored incident differ (-returned +stored):\n%s", diff)
	}
	if read.Status != incident.StatusRestored || !read.RestoredAt.Equal(restored) || read.Severity != incident.Sev1 ||
		!read.ResolvedAt.IsZero() || !read.AcknowledgedAt.Equal(t0.Add(time.Minute)) || !read.ClosedAt.Equal(restored.Add(time.Hour)) ||
		read.Roles[incident.RoleComms] != "U7" || read.Roles[incident.RoleScribe] != "U8" {
		t.Errorf("stored incident = %+v", read)
	}
	timeline, err := s.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries, timeline); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if one, err := s.TimelineEntry(ctx, entries[1].ID); err != nil || !cmp.Equal(one, entries[1]) {
		t.Errorf("TimelineEntry = %+v, %v; want %+v", one, err, entries[1])
	}
	if _, err := s.TimelineEntry(ctx, 999999); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("TimelineEntry(missing) = %v, want ErrNotFound", err)
	}
	if j, _ := s.ClaimDue(ctx, "r1", restored, time.Minute, 10); len(j) != 1 || j[0].Key != fmt.Sprintf("sc:%d", entries[0].ID) {
		t.Errorf("follow-up jobs = %+v", j)
	}
	// A change that fails leaves nothing behind.
	boom := errors.New("boom")
	_, _, err = s.UpdateIncident(ctx, inc.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Status = incident.StatusResolved
		return nil, boom
	}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("failing change = %v, want boom", err)
	}
	if read, _ := s.Incident(ctx, inc.ID); read.Status != incident.StatusRestored {
		t.Errorf("a failed change was stored: %s", read.Status)
	}
	if _, _, err := s.UpdateIncident(ctx, 424242, func(*incident.Incident) ([]incident.TimelineEntry, error) { return nil, nil }, nil); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("update of a missing incident = %v, want ErrNotFound", err)
	}
}

// testPrivate stores the private flag on create and update, lists it, and
// never clears it: an update that would make a private incident public
// leaves it private.
func testPrivate(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	public := newIncident("public", "")
	secret := newIncident("secret", "")
	secret.Private = true
	for _, inc := range []*incident.Incident{public, secret} {
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []*incident.Incident{public, secret} {
		got, err := s.Incident(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Private != want.Private {
			t.Errorf("%s read back Private = %v, want %v", want.Title, got.Private, want.Private)
		}
	}
	made, _, err := s.UpdateIncident(ctx, public.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Private = true
		return []incident.TimelineEntry{{At: t0, Actor: "U1", Kind: incident.EntryPrivate, Text: "Made private"}}, nil
	}, nil)
	if err != nil || !made.Private {
		t.Fatalf("making private = %+v, %v", made, err)
	}
	_, _, err = s.UpdateIncident(ctx, secret.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Private = false
		return nil, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s.ListIncidents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range listed {
		if !inc.Private {
			t.Errorf("%s (%s) is public after being made private", inc.Ref(), inc.Title)
		}
	}
	if len(listed) != 2 {
		t.Errorf("listed %d incidents, want 2", len(listed))
	}
}

func testConcurrentUpdates(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("contended", "")
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, err := s.UpdateIncident(ctx, inc.ID, func(in *incident.Incident) ([]incident.TimelineEntry, error) {
				// Read-modify-write: each update appends to the title.
				in.Title += "+"
				return []incident.TimelineEntry{{At: t0, Actor: fmt.Sprintf("U%d", i), Kind: incident.EntryNote, Text: in.Title}}, nil
			}, nil)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	read, _ := s.Incident(ctx, inc.ID)
	if want := "contended" + strings.Repeat("+", n); read.Title != want {
		t.Errorf("title after %d concurrent updates = %q, want %q: an update was lost", n, read.Title, want)
	}
	timeline, _ := s.Timeline(ctx, inc.ID)
	seen := map[string]bool{}
	for _, e := range timeline {
		seen[e.Text] = true
	}
	if len(timeline) != n || len(seen) != n {
		t.Errorf("timeline holds %d entries (%d distinct), want %d: every update sees the one before", len(timeline), len(seen), n)
	}
}

func change(at time.Duration, summary string, systems ...string) incident.Change {
	return incident.Change{OccurredAt: t0.Add(at), Systems: systems, Person: "U1", Summary: summary,
		Kind: incident.KindDeploy, Source: incident.SourceAPI, LoggedAt: t0.Add(time.Hour)}
}

func testChanges(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	first := change(1*time.Minute, "web v1", "web")
	first.Reason, first.Link, first.ExternalID = "release", "https://ci/1", "ci-1"
	batch := []incident.Change{
		first,
		change(2*time.Minute, "db pool 50", "db"),
		change(3*time.Minute, "web+db migration", "web", "db"),
		change(4*time.Minute, "cache ttl", "cache"),
	}
	var followed []incident.Change
	stored, err := s.LogChanges(ctx, batch, func(added []incident.Change) []jobs.Job {
		followed = added
		return []jobs.Job{{Kind: "change.logged", DueAt: t0}}
	})
	if err != nil || !slices.Equal(stored, []bool{true, true, true, true}) {
		t.Fatalf("LogChanges = %v, %v", stored, err)
	}
	// Sending the same external ID again stores nothing and reports its ID.
	again := []incident.Change{first}
	if len(followed) != 4 || followed[3].ID == 0 {
		t.Errorf("follow saw %+v, want the 4 stored changes with IDs", followed)
	}
	if j, _ := s.ClaimDue(ctx, "r1", t0, time.Minute, 10); len(j) != 1 || j[0].Kind != "change.logged" {
		t.Errorf("jobs after logging = %+v", j)
	}
	if stored, err := s.LogChanges(ctx, again, nil); err != nil || stored[0] || again[0].ID != batch[0].ID {
		t.Errorf("re-sent change: stored %v (%v), ID %d; want skipped with ID %d", stored, err, again[0].ID, batch[0].ID)
	}
	got, err := s.Changes(ctx, incident.ChangeQuery{Systems: []string{"web", "db"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, c := range got {
		summaries = append(summaries, c.Summary)
	}
	if diff := cmp.Diff([]string{"web+db migration", "db pool 50", "web v1"}, summaries); diff != "" {
		t.Errorf("changes to web and db, newest first, each once (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(batch[0], got[2]); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if got, _ := s.Changes(ctx, incident.ChangeQuery{Systems: []string{"web", "db"}, Limit: 2}); len(got) != 2 || got[0].Summary != "web+db migration" {
		t.Errorf("limit 2 = %+v", got)
	}
	window, _ := s.Changes(ctx, incident.ChangeQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute), Limit: 10})
	if len(window) != 2 || window[0].Summary != "web+db migration" || window[1].Summary != "db pool 50" {
		t.Errorf("window [2m, 4m) = %+v", window)
	}
	if none, err := s.Changes(ctx, incident.ChangeQuery{Systems: []string{"billing"}, Limit: 5}); err != nil || len(none) != 0 {
		t.Errorf("no changes to billing: %v, %v", none, err)
	}
	// Two changes with one external ID in one batch: the first is stored,
	// the second reports its ID.
	twins := []incident.Change{change(6*time.Minute, "twin a", "api"), change(6*time.Minute, "twin b", "api")}
	twins[0].ExternalID, twins[1].ExternalID = "twin", "twin"
	if stored, err := s.LogChanges(ctx, twins, nil); err != nil || !stored[0] || stored[1] || twins[1].ID != twins[0].ID {
		t.Errorf("twins: stored %v (%v), IDs %d and %d", stored, err, twins[0].ID, twins[1].ID)
	}
	if api, _ := s.Changes(ctx, incident.ChangeQuery{Systems: []string{"api"}, Limit: 10}); len(api) != 1 || api[0].Summary != "twin a" {
		t.Errorf("changes to api = %+v, want twin a alone", api)
	}

	// All or nothing: a batch whose transaction fails leaves nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LogChanges(cctx, []incident.Change{change(5*time.Minute, "lost", "web")}, nil); err == nil {
		t.Error("LogChanges with a cancelled context succeeded")
	}
	if all, _ := s.Changes(ctx, incident.ChangeQuery{Limit: 100}); len(all) != 5 {
		t.Errorf("%d changes stored, want 5", len(all))
	}
}

func BenchmarkCreateIncident(b *testing.B) {
	for _, d := range []struct {
		name string
		open opener
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				inc := newIncident("bench", fmt.Sprintf("b-%d", i))
				if err := s.CreateIncident(ctx, inc, func(i *incident.Incident) []jobs.Job {
					return []jobs.Job{{Kind: "incident.provision", Key: fmt.Sprintf("p:%d", i.ID), DueAt: t0}}
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func testPlanAndClock(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("clocked", "")
	inc.Plan = incident.Plan{Diagnostics: []string{"heap dump", "slow log"}, Restore: []string{"roll back"},
		Runbooks: []string{"https://runbooks.example/db"}, Timebox: map[incident.Severity]time.Duration{incident.Sev1: 10 * time.Minute}}
	inc.Timebox = incident.Timebox{Generation: 1, StartedAt: t0, Length: 10 * time.Minute, AtOpen: 10 * time.Minute,
		Deadline: t0.Add(10 * time.Minute), Span: 10 * time.Minute, WarnDue: t0.Add(8 * time.Minute)}
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inc, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	changed, _, err := s.UpdateIncident(ctx, inc.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Timebox.EndedAt = t0.Add(12*time.Minute + 789*time.Nanosecond) // below PostgreSQL's precision
		i.Timebox.RestoreBegan = i.Timebox.EndedAt
		// An earlier box, replaced by a restart, stays on the record.
		i.Timebox.Earlier = []incident.Box{{StartedAt: t0.Add(-20 * time.Minute), Length: 20 * time.Minute, Extensions: 1,
			Extended: 5 * time.Minute, Deadline: t0.Add(5*time.Minute + 321*time.Nanosecond), EndedAt: t0, Ended: "restarted: wrong system"}}
		i.Timebox.Restarts = 1
		return nil, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Incident(ctx, inc.ID)
	if diff := cmp.Diff(changed, got); diff != "" {
		t.Errorf("the changed incident differs from the stored one (-returned +stored):\n%s", diff)
	}
	if got.Timebox.Running() || !got.Timebox.EndedAt.Equal(t0.Add(12*time.Minute)) {
		t.Errorf("stopped clock read back as %+v", got.Timebox)
	}
	if e := got.Timebox.Earlier; len(e) != 1 || e[0].Ended != "restarted: wrong system" || !e[0].Deadline.Equal(t0.Add(5*time.Minute)) ||
		e[0].Deadline.Location() != time.UTC || got.Timebox.Restarts != 1 {
		t.Errorf("earlier boxes read back as %+v", got.Timebox)
	}
	plain := newIncident("no plan", "")
	if err := s.CreateIncident(ctx, plain, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Incident(ctx, plain.ID); !got.Timebox.IsZero() || got.Plan.Diagnostics != nil {
		t.Errorf("incident without plan read back with %+v / %+v", got.Plan, got.Timebox)
	}
}

func testCancelJobs(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("cancel", "")
	if err := s.CreateIncident(ctx, inc, func(*incident.Incident) []jobs.Job {
		return []jobs.Job{{Kind: "warn", Key: "warn:1", DueAt: t0.Add(time.Minute)}, {Kind: "expire", Key: "expire:1", DueAt: t0.Add(2 * time.Minute)}}
	}); err != nil {
		t.Fatal(err)
	}
	// A change that fails cancels nothing.
	_, _, err := s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) {
		return nil, errors.New("refused")
	}, func(*incident.Incident, []incident.TimelineEntry) []jobs.Job {
		return []jobs.Job{jobs.Cancel("warn:1", t0)}
	})
	if err == nil {
		t.Fatal("a refused change succeeded")
	}
	_, _, err = s.UpdateIncident(ctx, inc.ID, func(*incident.Incident) ([]incident.TimelineEntry, error) { return nil, nil },
		func(*incident.Incident, []incident.TimelineEntry) []jobs.Job {
			return []jobs.Job{jobs.Cancel("warn:1", t0), jobs.Cancel("no-such-job", t0), {Kind: "expire", Key: "expire:2", DueAt: t0.Add(5 * time.Minute)}}
		})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDue(ctx, "r1", t0.Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, j := range claimed {
		keys = append(keys, j.Key)
	}
	if diff := cmp.Diff([]string{"expire:1", "expire:2"}, keys); diff != "" {
		t.Errorf("claimed after cancelling warn:1 (-want +got):\n%s", diff)
	}
	// A job that is running or done is not cancelled.
	if _, err := s.Enqueue(ctx, jobs.Cancel("expire:1", t0)); err != nil {
		t.Fatal(err)
	}
	if j, _ := s.Job(ctx, claimed[0].ID); j.State != jobs.StateRunning {
		t.Errorf("cancelling a running job changed it to %s", j.State)
	}
	// The cancelled job stays in the table, and its key stays taken.
	if id, err := s.Enqueue(ctx, jobs.Job{Kind: "warn", Key: "warn:1", DueAt: t0}); err != nil || id == 0 {
		t.Fatalf("re-enqueue of a cancelled key = %d, %v", id, err)
	} else if j, _ := s.Job(ctx, id); j.State != jobs.StateCancelled {
		t.Errorf("job warn:1 is %s, want cancelled", j.State)
	}
}

func testChecklistRuns(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	steps := []checklist.Step{{Text: "a", Critical: true}, {Text: "b", Help: "https://x.example"}}
	r := &checklist.Run{Template: "t", Title: "T", System: "web", Label: "v1", Steps: steps, ChannelID: "C1",
		StartedBy: "U1", StartedAt: t0, State: checklist.StateActive, RequestKey: "k"}
	if err := s.CreateRun(ctx, r, func(*checklist.Run) []jobs.Job { return []jobs.Job{{Kind: "post", Key: "post:1", DueAt: t0}} }); err != nil {
		t.Fatal(err)
	}
	again := &checklist.Run{Template: "other", Steps: steps, StartedAt: t0, State: checklist.StateActive, RequestKey: "k"}
	if err := s.CreateRun(ctx, again, nil); !errors.Is(err, checklist.ErrDuplicate) || again.ID != r.ID || again.Template != "t" {
		t.Errorf("same request key: %+v, %v", again, err)
	}
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if err := s.SetRunMessage(ctx, r.ID, "C1", "1.0001"); err != nil {
		t.Fatal(err)
	}
	// Concurrent clicks each get their own sequence number.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, _, err := s.UpdateRun(ctx, r.ID, func(*checklist.Run, []checklist.Event) ([]checklist.Event, error) {
				return []checklist.Event{{At: t0, Actor: fmt.Sprintf("U%d", i), Action: checklist.ActionTick, Step: i % 2}}, nil
			}, nil)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	events, err := s.Events(ctx, r.ID)
	if err != nil || len(events) != 20 {
		t.Fatalf("events = %d, %v; want 20", len(events), err)
	}
	for i, e := range events {
		if e.Seq != i+1 {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
	}
	done, _, err := s.UpdateRun(ctx, r.ID, func(run *checklist.Run, ev []checklist.Event) ([]checklist.Event, error) {
		if len(ev) != 20 {
			t.Errorf("change saw %d events", len(ev))
		}
		run.State, run.EndedAt = checklist.StateCompleted, t0.Add(time.Hour)
		return []checklist.Event{{At: t0, Actor: "U1", Action: checklist.ActionComplete, Step: -1}}, nil
	}, nil)
	if err != nil || done.Version != 21 {
		t.Fatalf("complete: %+v, %v", done, err)
	}
	got, _ = s.Run(ctx, r.ID)
	if got.State != checklist.StateCompleted || got.Version != 21 || got.MessageTS != "1.0001" || !got.EndedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("after completion: %+v", got)
	}
	if active, err := s.ActiveRuns(ctx, 10); err != nil || len(active) != 0 {
		t.Errorf("active runs = %+v, %v", active, err)
	}
	if _, err := s.Run(ctx, 99999); !errors.Is(err, checklist.ErrNotFound) {
		t.Errorf("missing run: %v", err)
	}
}

// testEntryFacts checks that what an entry states (severity then, both
// people of a hand-over, their names as they were) and what the opening
// stated come back as written, and that a later change of the incident
// leaves them alone.
func testEntryFacts(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("facts", "")
	inc.Opening = incident.Facts{Severity: incident.Sev3, Title: "facts", To: "U2",
		Names: map[string]string{"U1": "Alice Adams", "U2": "Bob Brown"}}
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	want := []incident.TimelineEntry{
		{At: t0.Add(time.Minute), Actor: "U1", Kind: incident.EntrySeverity, Text: "Severity SEV3 → SEV1",
			Facts: incident.Facts{Severity: incident.Sev1, FromSeverity: incident.Sev3, Names: map[string]string{"U1": "Alice Adams"}}},
		{At: t0.Add(2 * time.Minute), Actor: "U3", Kind: incident.EntryTDO, Subject: "U3", Text: "Hand-off from U2: took command",
			Facts: incident.Facts{From: "U2", To: "U3", Names: map[string]string{"U2": "Bob Brown", "U3": "Carol Chen"}}},
		{At: t0.Add(3 * time.Minute), Actor: "U1", Kind: incident.EntryNote, Text: "no facts"},
	}
	_, stored, err := s.UpdateIncident(ctx, inc.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Severity, i.TDOID = incident.Sev1, "U3"
		return append([]incident.TimelineEntry(nil), want...), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A later change rewrites the incident but not what was recorded.
	if _, _, err := s.UpdateIncident(ctx, inc.ID, func(i *incident.Incident) ([]incident.TimelineEntry, error) {
		i.Severity, i.Title = incident.Sev4, "renamed"
		return nil, nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	timeline, err := s.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stored, timeline); diff != "" {
		t.Errorf("timeline (-written +read):\n%s", diff)
	}
	for i := range want {
		if diff := cmp.Diff(want[i].Facts, timeline[i].Facts); diff != "" {
			t.Errorf("entry %d facts (-want +got):\n%s", i, diff)
		}
	}
	read, err := s.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inc.Opening, read.Opening); diff != "" {
		t.Errorf("opening (-want +got):\n%s", diff)
	}
	if read.Severity != incident.Sev4 || read.Opening.Severity != incident.Sev3 {
		t.Errorf("severity now %s, at open %s; want SEV4, SEV3", read.Severity.Label(), read.Opening.Severity.Label())
	}
}

// testRoomChanges queues changes for a room: the first opens a window with
// its job, later ones join it until it is nearly due, a change queued twice
// is kept once, and a told window is not joined.
func testRoomChanges(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("db down", "room-changes")
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	batch := []incident.Change{change(0, "a", "db"), change(time.Second, "b", "db"), change(2*time.Second, "c", "db")}
	if _, err := s.LogChanges(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	opened := 0
	open := func(notice string) jobs.Job {
		opened++
		return jobs.Job{Kind: incident.JobRoomChanges, Key: notice, DueAt: t0.Add(time.Minute)}
	}
	due := t0.Add(time.Minute)
	w1, err := s.PendRoomChanges(ctx, inc.ID, []int64{batch[0].ID}, t0, due, "w1", open)
	if err != nil || w1 != "w1" || opened != 1 {
		t.Fatalf("first change: window %q, %v, %d jobs", w1, err, opened)
	}
	if j, err := s.JobByKey(ctx, "w1"); err != nil || j.Kind != incident.JobRoomChanges {
		t.Errorf("window job = %+v, %v", j, err)
	}
	for _, id := range []int64{batch[1].ID, batch[0].ID} {
		if w, err := s.PendRoomChanges(ctx, inc.ID, []int64{id}, t0.Add(30*time.Second), due.Add(30*time.Second), "w2", open); err != nil || w != "w1" {
			t.Errorf("change %d within the window joined %q, %v", id, w, err)
		}
	}
	// Nearly due: the next change opens the next window.
	if w, err := s.PendRoomChanges(ctx, inc.ID, []int64{batch[2].ID}, due, due.Add(time.Minute), "w3", open); err != nil || w != "w3" || opened != 2 {
		t.Errorf("change after the window joined %q, %v (%d jobs)", w, err, opened)
	}
	got, err := s.PendingRoomChanges(ctx, "w1")
	if err != nil || len(got) != 2 || got[0].Summary != "b" || got[1].Summary != "a" {
		t.Fatalf("pending of w1 = %+v, %v", got, err)
	}
	if err := s.RoomChangesTold(ctx, "w1", due); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PendingRoomChanges(ctx, "w1"); err != nil || len(got) != 0 {
		t.Errorf("pending of w1 once told = %+v, %v", got, err)
	}
	if w, err := s.PendRoomChanges(ctx, inc.ID, []int64{batch[0].ID}, t0, due, "w4", open); err != nil || opened != 2 {
		t.Errorf("a told change queued again opened %q (%d jobs), %v", w, opened, err)
	}
}

// testMessagePins: pinners of a message in order, the first's entry, and
// a pin repeated.
func testMessagePins(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	inc := newIncident("disk full", "pins")
	if err := s.CreateIncident(ctx, inc, nil); err != nil {
		t.Fatal(err)
	}
	pin, again, err := s.NotePin(ctx, inc.ID, "C1", "1.1", "U2", t0)
	if err != nil || again || pin.First() != "U2" || pin.EntryID != 0 || pin.IncidentID != inc.ID {
		t.Fatalf("first pin = %+v, %v, %v", pin, again, err)
	}
	if err := s.PinEntry(ctx, "C1", "1.1", 42); err != nil {
		t.Fatal(err)
	}
	pin, again, err = s.NotePin(ctx, inc.ID, "C1", "1.1", "U1", t0.Add(time.Second))
	if err != nil || again || !slices.Equal(pin.By, []string{"U2", "U1"}) || pin.EntryID != 42 {
		t.Errorf("second pinner = %+v, %v, %v", pin, again, err)
	}
	pin, again, err = s.NotePin(ctx, inc.ID, "C1", "1.1", "U2", t0.Add(time.Minute))
	if err != nil || !again || len(pin.By) != 2 || pin.EntryID != 42 {
		t.Errorf("first pinner again = %+v, %v, %v", pin, again, err)
	}
	if pin, _, err := s.NotePin(ctx, inc.ID, "C1", "1.2", "U1", t0); err != nil || pin.EntryID != 0 || pin.First() != "U1" {
		t.Errorf("another message = %+v, %v", pin, err)
	}
}

// testUnresolvedIncidents opens 260 incidents and resolves every tenth:
// all 234 unresolved are returned, newest first, with none capped off, and
// RoomsOf reads the rooms of any of them in one call.
func testUnresolvedIncidents(t *testing.T, s *storage.Store) {
	ctx := context.Background()
	var want []int64
	var ids []int64
	for i := range 260 {
		inc := newIncident(fmt.Sprintf("incident %d", i), "")
		if i%10 == 0 {
			inc.Status = incident.StatusResolved
		}
		if err := s.CreateIncident(ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
		if i%10 != 0 {
			want = append([]int64{inc.Number}, want...)
		}
		ids = append(ids, inc.ID)
	}
	got, err := s.UnresolvedIncidents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int64
	for _, inc := range got {
		numbers = append(numbers, inc.Number)
	}
	if diff := cmp.Diff(want, numbers); diff != "" {
		t.Errorf("unresolved incidents (-want +got):\n%s", diff)
	}
	for i, id := range ids[:3] {
		if err := s.SaveRoom(ctx, &incident.Room{IncidentID: id, ChannelID: fmt.Sprintf("CU%d", i), UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	rooms, err := s.RoomsOf(ctx, append(ids[:2:2], ids[200:]...))
	if err != nil || len(rooms) != 2 || rooms[ids[0]].ChannelID != "CU0" || rooms[ids[1]].ChannelID != "CU1" {
		t.Errorf("RoomsOf = %v, %v; want the rooms of the first two", rooms, err)
	}
	if rooms, err := s.RoomsOf(ctx, nil); err != nil || len(rooms) != 0 {
		t.Errorf("RoomsOf(none) = %v, %v", rooms, err)
	}
}
