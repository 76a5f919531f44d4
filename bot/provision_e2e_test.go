package bot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// countingRooms is the harness's room store, counting the saves and able
// to refuse one on purpose.
type countingRooms struct {
	bot.Rooms
	saves atomic.Int64
	// refuse, if set, is asked before each save; true refuses it.
	refuse func(r *incident.Room) bool
	mu     sync.Mutex
}

func (c *countingRooms) SaveRoom(ctx context.Context, r *incident.Room) error {
	c.saves.Add(1)
	c.mu.Lock()
	refuse := c.refuse
	c.mu.Unlock()
	if refuse != nil && refuse(r) {
		return errors.New("the disk is full")
	}
	return c.Rooms.SaveRoom(ctx, r)
}

func (c *countingRooms) setRefuse(f func(r *incident.Room) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = f
}

// shippedPlans are the plans of attack of the shipped default
// configuration.
func shippedPlans(t testing.TB) incident.Plans {
	t.Helper()
	cfg := config.Default()
	plans, err := cfg.Plans()
	if err != nil {
		t.Fatal(err)
	}
	return plans
}

// TestOpenCallsSlackSevenTimes: with the shipped default configuration
// (its plan of attack, "what changed?"), an open makes 7 Slack calls: the
// channel, the invitation, the topic, the header (carrying "what changed?"
// and the plan of attack), its pin, the announcement and the answer to the
// reporter. Nothing is lost by the merge: the header shows both parts.
// While Slack does not know the new channel yet (the simulator's create
// lag, on by default), the invitation is tried again: those refusals are
// the only calls on top.
func TestOpenCallsSlackSevenTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		lag  time.Duration
	}{{"no create lag", -1}, {"default create lag", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testSevenCalls(t, tc.lag)
		})
	}
}

func testSevenCalls(t *testing.T, lag time.Duration) {
	h := newHarness(t, withPlans(shippedPlans(t)), withSimOptions(slacksim.Options{CreateLag: lag}))
	h.slash(alice, h.general, "/incident", "open warm up") // the incidents channel, user names
	h.sim.ResetCalls()
	h.sim.ResetCallLog()
	h.slash(alice, h.general, "/incident", "open checkout errors sev2 systems:web")
	notYet := 0
	for _, c := range h.sim.CallLog() {
		if c.Method == "conversations.invite" && !c.OK {
			notYet++
		}
	}
	if lag < 0 && notYet != 0 {
		t.Errorf("%d invitations refused with no create lag", notYet)
	}
	want := map[string]int{
		"conversations.create": 1, "conversations.invite": 1 + notYet, "conversations.setTopic": 1,
		"chat.postMessage": 2, "pins.add": 1, "response_url": 1,
	}
	for method, n := range want {
		if got := h.sim.Calls(method); got != n {
			t.Errorf("%s called %d times, want %d", method, got, n)
		}
	}
	if got := h.sim.TotalCalls() - notYet; got != 7 {
		t.Errorf("an open made %d Slack calls (and %d refused invitations), want 7", got, notYet)
	}
	r := h.room(2)
	if !r.Ready || r.ChangesTS != r.HeaderTS || r.PlanTS != r.HeaderTS {
		t.Fatalf("room = %+v, want the header to carry what changed and the plan", r)
	}
	header := h.header(r.ChannelID)
	for _, s := range []string{"INC-2: checkout errors", "What changed before INC-2?", "Plan of attack for INC-2: restore first",
		"note the first error and when it began", "Collected", "Take command"} {
		if !strings.Contains(header, s) {
			t.Errorf("header lacks %q:\n%s", s, header)
		}
	}
}

// TestOpenSavesTheRoomTwice: the room is saved once its channel exists
// (its ID must survive a crash) and once at the end, with every step
// recorded and Ready.
func TestOpenSavesTheRoomTwice(t *testing.T) {
	t.Parallel()
	var rooms *countingRooms
	h := newHarness(t, withPlans(shippedPlans(t)), withRoomStore(func(r bot.Rooms) bot.Rooms {
		rooms = &countingRooms{Rooms: r}
		return rooms
	}))
	h.slash(alice, h.general, "/incident", "open db is down sev1 systems:db")
	if n := rooms.saves.Load(); n != 2 {
		t.Errorf("the room was saved %d times, want 2", n)
	}
	r := h.room(1)
	for _, step := range []string{"channel", "invite", "topic", "header", "pin", "changes", "plan", "announce", "brief", "notify"} {
		if !r.Did(step) {
			t.Errorf("room does not record step %q: %+v", step, r)
		}
	}
	if !r.Ready {
		t.Errorf("room not ready: %+v", r)
	}
}

// TestOpenRedoneAfterLostSave: the steps after the channel are recorded in
// one save at the end. If that save is lost (the store refuses it, as after
// a crash), the retry does every step again, and each is safe to redo: the
// header, the announcement and the brief are found again by their metadata,
// the invitation answers already_in_channel, the pin already_pinned, the
// topic is set to the same text, and the reporter (recorded ahead) is told
// once. On SQLite and PostgreSQL.
func TestOpenRedoneAfterLostSave(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var opts []harnessOption
			if dialect == "postgres" {
				opts = append(opts, withDatabase(pgtest.URL(t)))
			}
			testRedone(t, opts...)
		})
	}
}

func testRedone(t *testing.T, opts ...harnessOption) {
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	rotation := incident.Rotation{Name: "web", Members: []string{bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Systems: []string{"web"}}
	var rooms *countingRooms
	h := newOnceHarness(t, append(opts, withPlans(shippedPlans(t)), withRotations(rotation), withRoomStore(func(r bot.Rooms) bot.Rooms {
		rooms = &countingRooms{Rooms: r}
		return rooms
	}))...)
	rooms.setRefuse(func(r *incident.Room) bool { return r.Ready })
	h.slash(alice, h.general, "/incident", "open checkout errors sev2 systems:web")
	r := h.room(1)
	if r.Ready || !r.Did("channel") || r.Did("header") {
		t.Fatalf("room after the refused save = %+v, want the channel alone recorded", r)
	}
	for _, e := range h.ephemeralTexts(alice) {
		if strings.Contains(e, "INC-1 is open") {
			t.Fatalf("the reporter was told before the step was recorded: %q", e)
		}
	}
	topic := h.sim.Topic(r.ChannelID)
	rooms.setRefuse(nil)
	h.sim.ResetCalls()
	h.clock.Advance(time.Minute)
	h.sweep()
	if n := h.sim.Calls("conversations.setTopic"); n != 0 {
		t.Errorf("the retry set the topic %d times, want none: it was set already", n)
	}
	r = h.room(1)
	if !r.Ready {
		t.Fatalf("room after the retry = %+v", r)
	}
	msgs := h.sim.Messages(r.ChannelID)
	if len(msgs) != 1 || msgs[0].TS != r.HeaderTS {
		t.Errorf("room holds %d messages, want the header once", len(msgs))
	}
	if pins := h.sim.Pins(r.ChannelID); !slices.Equal(pins, []string{r.HeaderTS}) {
		t.Errorf("pins = %v, want the header once", pins)
	}
	if got := h.sim.Topic(r.ChannelID); got != topic || !strings.Contains(got, "TDO: Bob Dobbs") {
		t.Errorf("topic after the retry = %q, before %q", got, topic)
	}
	if members := h.sim.Members(r.ChannelID); !slices.Contains(members, alice) || !slices.Contains(members, bob) {
		t.Errorf("members = %v, want the reporter and the TDO", members)
	}
	if got := h.sim.Calls("conversations.create"); got != 0 { // the channel was recorded
		t.Errorf("the retry called conversations.create %d times, want none", got)
	}
	if n := len(h.marked(inIncidents(h), "sitrep_announcement")); n != 1 {
		t.Errorf("%d announcements, want 1", n)
	}
	if n := len(h.marked(inBobsDM(h), "sitrep_brief")); n != 1 {
		t.Errorf("bob was briefed %d times, want once", n)
	}
	told := 0
	for _, e := range h.ephemeralTexts(alice) {
		if strings.Contains(e, "INC-1 is open") {
			told++
		}
	}
	if told != 1 {
		t.Errorf("the reporter was told %d times, want once", told)
	}
	h.checkNothingDoubled()
}

// TestFailedStepKeepsTheOthers: a required step that fails (Slack down
// for invitations) fails the set-up, but what the other lanes did is saved
// first, so the retry only invites.
func TestFailedStepKeepsTheOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(shippedPlans(t)))
	h.sim.FailNext("conversations.invite", 1000, http.StatusServiceUnavailable)
	h.slash(alice, h.general, "/incident", "open queue backlog")
	r := h.room(1)
	if r.Ready || r.Did("invite") || !r.Did("header") || !r.Did("pin") || !r.Did("announce") || !r.Did("topic") {
		t.Fatalf("room after the failed invitation = %+v, want every step but the invitation saved", r)
	}
	h.sim.FailNext("conversations.invite", 0, 0)
	h.sim.ResetCalls()
	h.clock.Advance(time.Hour)
	h.sweep()
	if r = h.room(1); !r.Ready || !slices.Contains(h.sim.Members(r.ChannelID), alice) {
		t.Fatalf("room after the retry = %+v, members %v", r, h.sim.Members(r.ChannelID))
	}
	if len(h.marked(r.ChannelID, "sitrep_header")) != 1 || len(h.marked(inIncidents(h), "sitrep_announcement")) != 1 {
		t.Errorf("the retry posted again what was recorded")
	}
	// (The topic is set again, by the job that showed the diagnosis clock
	// once the room was ready.)
	for _, m := range []string{"conversations.history", "pins.add", "conversations.create"} {
		if n := h.sim.Calls(m); n != 0 {
			t.Errorf("the retry called %s %d times: its step was recorded", m, n)
		}
	}
}

// TestBigPlanAndChangesStayWithinBlockKit: what does not fit in the header
// (Slack's 50 blocks, however the header grows) is posted on its own, as
// before, and still updated: here a plan of 20 diagnostics goes into the
// header and a list of 20 changes is a message of its own.
func TestBigPlanAndChangesStayWithinBlockKit(t *testing.T) {
	t.Parallel()
	var diag []string
	for i := range incident.MaxPlanSteps {
		diag = append(diag, fmt.Sprintf("diagnostic %d", i+1))
	}
	plans := incident.Plans{Default: incident.Plan{Diagnostics: diag, Restore: []string{"roll back"},
		Timebox: map[incident.Severity]time.Duration{incident.Sev2: 20 * time.Minute}}}
	h := newHarness(t, withPlans(plans), withBotConfig(bot.Config{WhatChangedCount: 20}))
	for i := range 20 {
		if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, []incident.Change{{
			OccurredAt: epoch.Add(-time.Duration(i+1) * time.Minute), Systems: []string{"web"}, Person: bob,
			Summary: fmt.Sprintf("change %d", i), Source: incident.SourceAPI,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	ch := h.openIncident("slow pages sev2 systems:web")
	r := h.room(1)
	if r.PlanTS != r.HeaderTS || r.ChangesTS == r.HeaderTS || r.ChangesTS == "" {
		t.Fatalf("room = %+v, want the plan in the header and the changes on their own", r)
	}
	if msgs := h.sim.Messages(ch); len(msgs) != 2 {
		t.Fatalf("room holds %d messages, want the header and the changes", len(msgs))
	}
	// Both still update: a tick re-renders the header, a verdict the list.
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if _, err := h.sim.Click(h.ctx, alice, ch, r.HeaderTS, "plan_diagnostic", fmt.Sprintf("%d:3:1", inc.ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if hdr := h.header(ch); !strings.Contains(hdr, "~diagnostic 4~") || !strings.Contains(hdr, "(1 of 20 done)") {
		t.Errorf("header after the tick: %s", hdr)
	}
	changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Systems: []string{"web"}, Limit: 1})
	if _, err := h.sim.Click(h.ctx, alice, ch, r.ChangesTS, "change_suspect", fmt.Sprintf("%d:%d", inc.ID, changes[0].ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if list := plainJSON(t, h.sim.Message(ch, r.ChangesTS).Blocks); !strings.Contains(list, ":warning: *Suspect*") {
		t.Errorf("changes after the verdict: %s", list)
	}
	if hdr := h.header(ch); !strings.Contains(hdr, "*Suspect changes*") {
		t.Errorf("header does not list the suspect: %s", hdr)
	}
}

// TestMergedHeaderUpdates: the header carries "what changed?" and the plan
// of attack, and a verdict, a tick and a status change each re-render it
// from the store without losing the others' marks.
func TestMergedHeaderUpdates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, []incident.Change{{
		OccurredAt: epoch.Add(-time.Hour), Systems: []string{"db"}, Person: bob, Summary: "raised max_connections",
		Source: incident.SourceAPI,
	}}); err != nil {
		t.Fatal(err)
	}
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	r := h.room(1)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Systems: []string{"db"}, Limit: 1})
	if _, err := h.sim.Click(h.ctx, bob, ch, r.HeaderTS, "change_suspect", fmt.Sprintf("%d:%d", inc.ID, changes[0].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.Click(h.ctx, alice, ch, r.HeaderTS, "plan_diagnostic", fmt.Sprintf("%d:0:1", inc.ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.slash(alice, ch, "/incident", "status identified")
	hdr := h.header(ch)
	for _, s := range []string{"*Status*\\nIdentified", "*Suspect changes*", ":warning: *Suspect* (<@U0BOB>)",
		":white_check_mark: ~copy the slow-query log~", "(1 of 2 done)"} {
		if !strings.Contains(hdr, s) {
			t.Errorf("header lacks %q:\n%s", s, hdr)
		}
	}
	if msgs := h.sim.Messages(ch); msgs[0].TS != r.HeaderTS {
		t.Errorf("the header is not the room's first message")
	}
}

// heldClock is the simulator's clock in the storm test: it stands still
// until released, then runs in real time; Slack's rate limit refills on it.
type heldClock struct {
	mu       sync.Mutex
	t0       time.Time
	released time.Time
}

func (c *heldClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released.IsZero() {
		return c.t0
	}
	return c.t0.Add(time.Since(c.released))
}

func (c *heldClock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = time.Now()
}

// TestIncidentStormAtSlacksPace: 50 incidents open at once while Slack
// limits conversations.create (a token bucket of 10, refilled at 20 a
// second here to keep the test short; Slack's Tier 2 is about 20 a
// minute). Every reporter hears the incident's number before the limit
// lets its room be made (with Slack's clock held, only the bucket's 10
// rooms can exist when all 50 have their answer); the other rooms are then
// made at the limit's pace, most severe first and oldest first within a
// severity; none is lost or made twice. On SQLite and PostgreSQL.
func TestIncidentStormAtSlacksPace(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testStorm(t, dialect)
		})
	}
}

func testStorm(t *testing.T, dialect string) {
	const storm, bucket = 50, 10
	slackClock := &heldClock{t0: time.Now()}
	opts := []harnessOption{withSimOptions(slacksim.Options{Now: slackClock.Now})}
	if dialect == "postgres" {
		opts = append(opts, withDatabase(pgtest.URL(t)))
	}
	h := newHarness(t, opts...)
	h.slash(alice, h.general, "/incident", "open warm up") // the incidents channel
	h.sim.SetRateLimit("conversations.create", 20*60, bucket)
	h.sim.ResetCalls()
	h.sim.ResetCallLog()

	sev := func(i int) int { return 4 - i%4 } // sev4, sev3, sev2, sev1, sev4, ...: the severe ones come late
	var wg sync.WaitGroup
	start := time.Now()
	for i := range storm {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
			defer cancel()
			user := []string{alice, bob}[i%2]
			if d, err := h.sim.SlashCommand(ctx, user, h.general, "/incident", fmt.Sprintf("open storm %d sev%d", i, sev(i))); err != nil || !d.Acked {
				t.Errorf("command %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// Every reporter hears the number of their incident (1 is the warm up).
	told := func(n int64) bool {
		ref := fmt.Sprintf("INC-%d ", n)
		for _, user := range []string{alice, bob} {
			for _, e := range h.ephemeralTexts(user) {
				if strings.HasPrefix(strings.TrimPrefix(e, ":hourglass_flowing_sand: "), ref) {
					return true
				}
			}
		}
		return false
	}
	waitLong(h, "every reporter told their incident's number", func() bool {
		for n := int64(2); n <= storm+1; n++ {
			if !told(n) {
				return false
			}
		}
		return true
	})
	t.Logf("all %d reporters had their incident's number %s after the storm began", storm, time.Since(start).Round(time.Millisecond))
	early := 0
	for n := int64(2); n <= storm+1; n++ {
		if r := h.room(n); r.ChannelID != "" {
			early++
		}
	}
	if early > bucket {
		t.Fatalf("%d rooms made with Slack's clock held, more than the bucket's %d", early, bucket)
	}
	queued := storm - early
	slackClock.release()
	waitLong(h, "every room ready", func() bool {
		for n := int64(2); n <= storm+1; n++ {
			if r, err := h.store.Room(h.ctx, mustIncidentID(h, n)); err != nil || !r.Ready {
				return false
			}
		}
		return true
	})
	h.idle()

	// The queued rooms were made most severe first, then oldest first.
	type made struct {
		number int64
		sev    incident.Severity
		seq    int
	}
	var order []made

	channels := map[string]bool{}
	for n := int64(2); n <= storm+1; n++ {
		r := h.room(n)
		inc, _ := h.store.IncidentByNumber(h.ctx, n)
		if channels[r.ChannelID] {
			t.Errorf("INC-%d shares channel %s", n, r.ChannelID)
		}
		channels[r.ChannelID] = true
		if r.Did("queued") {
			seq := 0
			fmt.Sscanf(r.ChannelID, "C%d", &seq)
			order = append(order, made{n, inc.Severity, seq})
		}
	}
	if len(order) != queued {
		t.Errorf("%d rooms waited their turn, want %d", len(order), queued)
	}
	slices.SortFunc(order, func(a, b made) int { return a.seq - b.seq })
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.sev > b.sev || (a.sev == b.sev && a.number > b.number) {
			t.Errorf("INC-%d (%s) was made before INC-%d (%s)", a.number, a.sev.Label(), b.number, b.sev.Label())
		}
	}

	// None lost, none doubled: 50 rooms, 50 announcements, each reporter
	// told once that their room is open.
	if n := len(h.marked(inIncidents(h), "sitrep_announcement")); n != storm+1 {
		t.Errorf("%d announcements, want %d", n, storm+1)
	}
	for n := int64(2); n <= storm+1; n++ {
		open := 0
		for _, user := range []string{alice, bob} {
			for _, e := range h.ephemeralTexts(user) {
				if strings.HasPrefix(e, fmt.Sprintf("INC-%d is open", n)) {
					open++
				}
			}
		}
		if open != 1 {
			t.Errorf("INC-%d: reporter told %d times the room is open, want once", n, open)
		}
	}
	created := 0
	for _, c := range h.sim.CallLog() {
		if c.Method == "conversations.create" && c.OK {
			created++
		}
	}
	if created != storm {
		t.Errorf("%d channels created during the storm, want %d", created, storm)
	}
	t.Logf("%d of %d rooms waited their turn; conversations.create called %d times, %d refused", queued, storm,
		h.sim.Calls("conversations.create"), h.sim.Calls("conversations.create")-created)
	h.checkNothingDoubled()
}

// waitLong waits until cond holds, for up to a minute: 50 opens on a
// loaded machine under -race take a while.
func waitLong(h *harness, what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, time.Minute)
	defer cancel()
	if err := h.sim.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func mustIncidentID(h *harness, n int64) int64 {
	h.t.Helper()
	inc, err := h.store.IncidentByNumber(h.ctx, n)
	if err != nil {
		return 0
	}
	return inc.ID
}
