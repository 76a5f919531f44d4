package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// opener types /incident open for the scenarios and remembers which
// opens sitrep acknowledged.
type opener struct {
	w          *world
	mu         sync.Mutex
	titles     []string
	acked      map[string]bool
	deliveries []*slacksim.Delivery
	// delivered is the envelope of each title's command.
	delivered map[string]*slacksim.Delivery
	wg        sync.WaitGroup
}

func newOpener(w *world) *opener {
	return &opener{w: w, acked: map[string]bool{}, delivered: map[string]*slacksim.Delivery{}}
}

// open types "/incident open <title> <rest>" as user in #general and
// waits for the ack (at most within; a command no connection takes in
// that time is one Slack refused to the user).
func (o *opener) open(user, title, rest string, within time.Duration) {
	o.mu.Lock()
	o.titles = append(o.titles, title)
	o.mu.Unlock()
	d, err := o.w.slash(user, o.w.general, "/incident", strings.TrimSpace("open "+title+" "+rest), within)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deliveries = append(o.deliveries, d)
	o.delivered[title] = d
	if err == nil {
		o.acked[title] = true
	}
}

// goOpen is open in a goroutine; wait waits for all of them.
func (o *opener) goOpen(user, title, rest string, within time.Duration) {
	o.wg.Go(func() { o.open(user, title, rest, within) })
}

func (o *opener) wait() { o.wg.Wait() }

// ackedTitles returns the titles sitrep acknowledged, in order typed.
func (o *opener) ackedTitles() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, t := range o.titles {
		if o.acked[t] {
			out = append(out, t)
		}
	}
	return out
}

// TestCrashRandomKills types /incident open at a steady rate while sitrep
// is killed (-9) at random moments and started again: every acknowledged
// open must end as exactly one incident with one complete room, and no
// effect may be doubled. Short: 5 kills during 60 opens per dialect;
// SITREP_CRASH_LONG=1: 20 kills during 500 opens.
func TestCrashRandomKills(t *testing.T) {
	t.Parallel()
	opens, kills, perSecond := 60, 5, 4.0
	if long() {
		opens, kills = 500, 20
	}
	dialects(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, worldOptions{})
		w.start()
		settle := settleTime(t)
		span := time.Duration(float64(opens) / perSecond * float64(time.Second))
		seed := time.Now().UnixNano()
		rng := rand.New(rand.NewPCG(uint64(seed), 14))
		var at []time.Duration
		for range kills {
			at = append(at, span/10+time.Duration(rng.Int64N(int64(span*8/10))))
		}
		slices.Sort(at)
		t.Logf("kills at %v into %v of opens (seed %d)", at, span, seed)

		o := newOpener(w)
		begin := time.Now()
		var lastRestart time.Time
		killer := make(chan error, 1)
		go func() {
			for _, d := range at {
				time.Sleep(time.Until(begin.Add(d)))
				w.kill()
				if err := w.launch(); err != nil {
					killer <- err
					return
				}
				lastRestart = time.Now()
			}
			killer <- nil
		}()
		for i := range opens {
			time.Sleep(time.Until(begin.Add(time.Duration(float64(i) / perSecond * float64(time.Second)))))
			o.goOpen(alice, fmt.Sprintf("rk %d", i+1), "sev2 systems:db", 10*time.Second)
		}
		o.wait()
		if err := <-killer; err != nil {
			t.Fatal(err)
		}
		acked := o.ackedTitles()
		finished := waitFor(settle, func(ctx context.Context) bool { return w.opensComplete(ctx, acked, 0) })
		took := time.Since(lastRestart)
		w.quiet(time.Second)
		ctx := context.Background()
		f := w.auditOpens(ctx, o.titles, o.acked)
		f.add("", w.auditJobsSince(ctx, 0))
		if !finished {
			f.lostf("the acknowledged opens were not all finished within %v of the last restart", settle)
		}
		byTitle, _ := w.incidentsTitled(ctx)
		recorded := 0
		for _, title := range o.titles {
			recorded += min(len(byTitle[title]), 1)
		}
		finishedIn := "not finished"
		if finished {
			finishedIn = "finished " + took.Round(100*time.Millisecond).String()
		}
		t.Logf("%s: %d opens typed, %d acknowledged, %d became incidents, %d kills; %s after the last restart (%v in all)\n%s",
			dialect, len(o.titles), len(acked), recorded, w.kills, finishedIn, time.Since(begin).Round(time.Second), f.tally())
		if !f.empty() {
			t.Errorf("%d kills during %d opens lost or doubled effects:%s", w.kills, opens, f)
		}
	})
}

// TestCrashSlowSlack slows every Slack call down (6 s, or 9 s with
// SITREP_CRASH_LONG=1) while two incidents open: each room is set up
// exactly once, with no second run of a set-up past its lease, one
// announcement each and each reporter told once. At 6 s a set-up's eleven
// calls take longer than a minute, the job lease sitrep had when this test
// was written.
func TestCrashSlowSlack(t *testing.T) {
	t.Parallel()
	delay := 6 * time.Second
	if long() {
		delay = 9 * time.Second
	}
	dialects(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, worldOptions{})
		w.start()
		w.sim.Delay("", delay)
		o := newOpener(w)
		begin := time.Now()
		o.goOpen(alice, "slow a", "sev2 systems:db", 20*time.Second)
		o.goOpen(bob, "slow b", "sev2 systems:db", 20*time.Second)
		o.wait()
		within := 25*delay + settleTime(t)
		finished := waitFor(within, func(ctx context.Context) bool { return w.opensComplete(ctx, o.titles, 0) })
		took := time.Since(begin)
		w.sim.Delay("", 0)
		w.quiet(time.Second)
		ctx := context.Background()
		f := w.auditOpens(ctx, o.titles, o.acked)
		f.add("", w.auditJobsSince(ctx, 0))
		if !finished {
			f.lostf("the two rooms were not set up within %v with every call taking %v", within, delay)
		}
		t.Logf("%s: with every Slack call taking %v, two rooms set up in %v; %s",
			dialect, delay, took.Round(100*time.Millisecond), f.tally())
		if !f.empty() {
			t.Errorf("with every Slack call taking %v:%s", delay, f)
		}
	})
}

// TestCrashStuckCall leaves one Slack call of incident A's set-up
// unanswered for good (Slack first fails it, then never answers the retry
// the job queue makes) while incident B's diagnosis timebox of 1 minute
// runs out: B must still be told "Diagnosis time is up" near its deadline,
// and A's room must be finished once its job gives the stuck call up and
// tries again.
func TestCrashStuckCall(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, worldOptions{})
		w.start()
		ctx := context.Background()
		settle := settleTime(t)
		o := newOpener(w)

		// B, with a diagnosis timebox of one minute.
		o.open(alice, "stuck b", "sev2 systems:db", 20*time.Second)
		if !waitFor(settle, func(ctx context.Context) bool { return w.opensComplete(ctx, []string{"stuck b"}, 0) }) {
			t.Fatalf("B's room was not set up:%s", w.auditOpens(ctx, []string{"stuck b"}, o.acked))
		}
		b := w.incident(t, "stuck b")
		roomB, err := w.store.Room(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.slash(alice, roomB.ChannelID, "/incident", "timebox 1m a short box, to see the deadline fire", 20*time.Second); err != nil {
			t.Fatalf("/incident timebox 1m <reason>: %v", err)
		}
		var deadline time.Time
		if !waitFor(settle, func(ctx context.Context) bool {
			inc, err := w.store.Incident(ctx, b.ID)
			if err == nil && inc.Timebox.Length == time.Minute {
				deadline = inc.Timebox.Deadline
			}
			return !deadline.IsZero()
		}) {
			t.Fatal("B's timebox of 1 minute was never recorded")
		}

		// A: Slack fails the inline try; the job queue's retry never returns.
		w.sim.FailNext("conversations.create", 1000, 503)
		o.open(alice, "stuck a", "sev2 systems:db", 20*time.Second)
		a := w.incident(t, "stuck a")
		if !waitFor(time.Minute, func(ctx context.Context) bool {
			j, err := w.store.JobByKey(ctx, provisionKey(*a))
			return err == nil && j.State == jobs.StatePending && j.Attempts >= 1
		}) {
			t.Fatal("A's first set-up never failed and went back to the job queue")
		}
		w.sim.FailNext("conversations.create", 0, 0)
		hold := w.sim.HoldAnswer(1, "conversations.create")
		t.Cleanup(hold.Release)
		select {
		case <-hold.Reached():
			t.Logf("%s: A's retried conversations.create hangs from %v before B's deadline", dialect, time.Until(deadline).Round(time.Second))
		case <-time.After(2 * time.Minute):
			t.Fatal("the job queue never retried A's set-up")
		}

		// B's deadline is kept.
		expired := func(context.Context) bool {
			for _, m := range w.sim.Messages(roomB.ChannelID) {
				if strings.Contains(m.Text, "Diagnosis time is up") {
					return true
				}
			}
			return false
		}
		var f findings
		const grace = 30 * time.Second
		if waitFor(time.Until(deadline)+grace, expired) {
			t.Logf("%s: B was told its diagnosis time is up %v after its deadline", dialect, time.Since(deadline).Round(100*time.Millisecond))
		} else {
			f.lostf("B: no \"Diagnosis time is up\" within %v of its deadline, while A's call hung", grace)
		}

		// A finishes once the stuck call is given up.
		if !waitFor(2*time.Minute, func(ctx context.Context) bool { return w.opensComplete(ctx, []string{"stuck a"}, 0) }) {
			f.lostf("A: room not set up within 2 minutes of its call hanging")
		} else {
			t.Logf("%s: A's room was set up %v after its call began to hang", dialect, time.Since(hold.Call().At).Round(100*time.Millisecond))
		}
		hold.Release()
		w.quiet(time.Second)
		f.add("", w.auditOpens(ctx, o.titles, o.acked))
		if !f.empty() {
			t.Errorf("one Slack call that never returns:%s", f)
		}
	})
}

// incident returns the one incident titled title, failing the test if
// there is none.
func (w *world) incident(t *testing.T, title string) *incident.Incident {
	t.Helper()
	var found *incident.Incident
	waitFor(30*time.Second, func(ctx context.Context) bool {
		byTitle, err := w.incidentsTitled(ctx)
		if err == nil && len(byTitle[title]) > 0 {
			found = &byTitle[title][0]
		}
		return found != nil
	})
	if found == nil {
		t.Fatalf("no incident titled %q was recorded", title)
	}
	return found
}

// TestCrashDatabaseOutage cuts sitrep off from PostgreSQL through a proxy
// (5 s; 30 s with SITREP_CRASH_LONG=1), once refusing connections and once
// black-holing them, while people type /incident open: each of them gets
// an answer (the ack itself, or a message later), never silence and never
// internal text such as "dial tcp" or an address; once the database is
// back, everything recorded is set up, nothing lost and nothing doubled.
func TestCrashDatabaseOutage(t *testing.T) {
	t.Parallel()
	skipShort(t)
	outage := 5 * time.Second
	if long() {
		outage = 30 * time.Second
	}
	for _, mode := range []cutMode{cutRefuse, cutBlackhole} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			var proxy *tcpProxy
			w := newWorld(t, postgresDialect, worldOptions{proxied: func(testURL string) string {
				proxy = startProxy(t, hostOf(t, testURL))
				return withHost(testURL, proxy.addr())
			}})
			w.start()
			ctx := context.Background()
			settle := settleTime(t)
			o := newOpener(w)
			o.open(alice, "before outage", "sev2 systems:db", 20*time.Second)
			if !waitFor(settle, func(ctx context.Context) bool { return w.opensComplete(ctx, []string{"before outage"}, 0) }) {
				t.Fatalf("an incident opened before the outage was not set up:%s", w.auditOpens(ctx, []string{"before outage"}, o.acked))
			}

			// During the outage each open comes from its own person, so
			// that every answer can be told apart.
			proxy.cut(mode)
			begin := time.Now()
			var people []string
			for i := 0; time.Since(begin) < outage; i++ {
				user := fmt.Sprintf("U0OUT%03d", i+1)
				w.sim.AddUser(slacksim.User{ID: user, Name: fmt.Sprintf("out%d", i+1)})
				w.sim.Join(w.general, user)
				people = append(people, user)
				o.goOpen(user, fmt.Sprintf("outage %d", i+1), "sev2 systems:db", 10*time.Second)
				time.Sleep(time.Until(begin.Add(time.Duration(i+1) * time.Second)))
			}
			proxy.restore()
			o.wait()
			o.open(alice, "after outage", "sev2 systems:db", 20*time.Second)

			// Every open typed in the outage is either recorded and set up,
			// or its person was told it was not.
			var f findings
			var waiting []string
			waitFor(settle, func(ctx context.Context) bool {
				waiting = waiting[:0]
				byTitle, err := w.incidentsTitled(ctx)
				if err != nil {
					return false
				}
				for i, user := range people {
					title := fmt.Sprintf("outage %d", i+1)
					if len(byTitle[title]) == 0 && len(w.sim.Ephemerals(user)) == 0 {
						waiting = append(waiting, title)
					}
				}
				required := append(w.recordedOf(ctx, o.titles), "after outage")
				return len(waiting) == 0 && w.opensComplete(ctx, required, 0)
			})
			for _, title := range waiting {
				f.lostf("%q: typed during the outage, neither recorded nor answered: silence", title)
			}
			w.quiet(time.Second)
			byTitle, _ := w.incidentsTitled(ctx)
			answered, inAck, recorded := 0, 0, 0
			for i, user := range people {
				title := fmt.Sprintf("outage %d", i+1)
				eph := w.sim.Ephemerals(user)
				if len(eph) > 0 {
					answered++
				}
				if d := o.delivered[title]; d != nil && len(d.AckPayload) > 0 {
					inAck++
				}
				if len(byTitle[title]) > 0 {
					recorded++
					for _, e := range eph {
						if strings.Contains(e.Text, "could not record") || strings.Contains(e.Text, "nothing was") {
							f.doubledf("%q: told %q, yet recorded as %s: a retry doubles it", title, e.Text, byTitle[title][0].Ref())
						}
					}
				}
			}
			f.add("", w.auditOpens(ctx, append(w.recordedOf(ctx, o.titles), "after outage"), o.acked))
			f.add("", w.auditJobsSince(ctx, 0))
			allPeople := append([]string{alice, bob}, people...)
			leaks := w.auditLeaks(allPeople, o.deliveries)
			t.Logf("%s outage of %v: %d opens typed in it, %d acknowledged, %d answered (%d in the ack), %d recorded; %d messages with internal text; %s",
				mode, outage, len(people), countAcked(o, people), answered, inAck, recorded, len(leaks), f.tally())
			if len(leaks) > 0 {
				t.Errorf("internal text reached Slack:\n  %s", strings.Join(leaks, "\n  "))
			}
			if !f.empty() {
				t.Errorf("a database outage of %v (%s):%s", outage, mode, f)
			}
		})
	}
}

// recordedOf returns the titles that were recorded as incidents.
func (w *world) recordedOf(ctx context.Context, titles []string) []string {
	byTitle, err := w.incidentsTitled(ctx)
	if err != nil {
		return titles
	}
	var out []string
	for _, t := range titles {
		if len(byTitle[t]) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// countAcked counts the opens typed by people that were acknowledged.
func countAcked(o *opener, people []string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for i := range people {
		if o.acked[fmt.Sprintf("outage %d", i+1)] {
			n++
		}
	}
	return n
}
