package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// openIncident opens one incident as alice and returns its channel ID.
func (h *harness) openIncident(text string) string {
	h.t.Helper()
	h.slash(alice, h.general, "/incident", "open "+text)
	r := h.room(int64(h.incidentCount()))
	if !r.Ready {
		h.t.Fatalf("room not ready: %+v", r)
	}
	return r.ChannelID
}

// header returns the pinned header's blocks as JSON without HTML escaping.
func (h *harness) header(channel string) string {
	h.t.Helper()
	msgs := h.sim.Messages(channel)
	if len(msgs) == 0 {
		h.t.Fatal("no header")
	}
	return plainJSON(h.t, msgs[0].Blocks)
}

func TestStatusLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	incidents := h.sim.ChannelByName("incidents").ID

	steps := []struct {
		user, text string
		advance    time.Duration
		golden     string
		topic      string
		line       string
		update     string
	}{
		{bob, "status identified bad index on orders", 2 * time.Minute, "header_identified.json",
			"SEV1 · Identified · TDO: Alice Liddell · db is down",
			`*Status is now Identified* (set by <@U0BOB>)\n>bad index on orders`, "INC-1* · SEV1 · db is down is now *Identified*"},
		{alice, "status monitoring watching p99", 5 * time.Minute, "header_monitoring.json",
			"SEV1 · Monitoring · TDO: Alice Liddell · db is down",
			`*Status is now Monitoring* (set by <@U0ALICE>)\n>watching p99`, "is now *Monitoring*"},
		{alice, "status restored", 5 * time.Minute, "header_restored.json",
			"SEV1 · Restored · TDO: Alice Liddell · db is down",
			"Time to restore: 12 min", "is now *Restored* · <#" + ch + "> · time to restore 12 min"},
		{alice, "status resolved index rebuilt", time.Hour, "header_resolved.json",
			"SEV1 · Resolved · TDO: Alice Liddell · db is down",
			"*Status is now Resolved*", "is now *Resolved*"},
		{bob, "status investigating it is back", time.Minute, "header_reopened.json",
			"SEV1 · Investigating · TDO: Alice Liddell · db is down",
			"*Reopened: status is now Investigating*", "· reopened"},
	}
	for i, s := range steps {
		h.clock.Advance(s.advance)
		h.slash(s.user, ch, "/incident", s.text)
		if got := h.sim.Topic(ch); got != s.topic {
			t.Errorf("step %d: topic = %q, want %q", i, got, s.topic)
		}
		msgs := h.sim.Messages(ch)
		if last := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(last, s.line) {
			t.Errorf("step %d: last channel line %s lacks %q", i, last, s.line)
		}
		ann := h.sim.Messages(incidents)
		if last := plainJSON(t, ann[len(ann)-1].Blocks); !strings.Contains(last, s.update) {
			t.Errorf("step %d: incidents update %s lacks %q", i, last, s.update)
		}
		if !h.sim.Messages(ch)[0].Edited {
			t.Errorf("step %d: the header was not updated in place", i)
		}
		if s.golden != "" {
			golden(t, s.golden, indentJSON(t, h.sim.Messages(ch)[0].Blocks))
		}
	}
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.AcknowledgedAt != epoch.Add(7*time.Minute) {
		t.Errorf("acknowledged at %v, want the TDO's first action at +7m", inc.AcknowledgedAt)
	}
	if got := len(h.sim.Pins(ch)); got != 1 {
		t.Errorf("pins = %d, want the header only", got)
	}
	if calls := h.sim.Calls("chat.update"); calls != 5 {
		t.Errorf("chat.update called %d times, want one per change", calls)
	}

	// The same status again changes nothing and says so.
	h.slash(alice, ch, "/incident", "status investigating")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is investigating already.") {
		t.Errorf("repeated status answered %q", got)
	}
}

func TestStatusAddressingAndMistakes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("api slow")
	tests := []struct {
		channel, text, want string
	}{
		{h.general, "status restored", "This is not an incident channel"},
		{h.general, "status INC-9 restored", "There is no INC-9."},
		{ch, "status fixed", "`fixed` is not a status"},
		{ch, "status", "Say which status"},
		{ch, "note", "The note is empty"},
		{ch, "timeline now please", "takes no text besides an incident"},
	}
	for _, tc := range tests {
		h.slash(alice, tc.channel, "/incident", tc.text)
		got := h.lastEphemeral(alice)
		if !strings.Contains(got, tc.want) || !strings.Contains(got, "Write: `/incident") {
			t.Errorf("/incident %s answered %q, want %q and the right form", tc.text, got, tc.want)
		}
	}
	// INC-n works from anywhere, for a member of the room.
	h.sim.Join(ch, bob)
	h.slash(bob, h.general, "/incident", "status INC-1 monitoring watching p99")
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.Status != incident.StatusMonitoring {
		t.Errorf("status by INC-1 from #general = %s", inc.Status)
	}
}

func TestConcurrentStatusChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("queue stuck")
	var wg sync.WaitGroup
	for i, st := range []string{"identified", "monitoring", "restored", "identified", "monitoring", "restored"} {
		user := alice
		if i%2 == 1 {
			user = bob
		}
		wg.Go(func() {
			if _, err := h.sim.SlashCommand(h.ctx, user, ch, "/incident", "status "+st+" from "+user); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.idle()
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	// Each change saw the one before: the timeline chains a → b, b → c …
	// (a status that is already set, with a message, is an update that
	// keeps it).
	prev := incident.StatusInvestigating
	for _, e := range timeline {
		if incident.IsUpdate(e) {
			if !strings.HasPrefix(e.Text, "Update, still "+string(prev)+": ") {
				t.Errorf("update %q does not keep %s", e.Text, prev)
			}
			continue
		}
		if !strings.HasPrefix(e.Text, "Status "+string(prev)+" → ") {
			t.Errorf("timeline entry %q does not follow %s", e.Text, prev)
		}
		next, _, _ := strings.Cut(strings.TrimPrefix(e.Text, "Status "+string(prev)+" → "), ":")
		prev = incident.Status(next)
	}
	if prev != inc.Status {
		t.Errorf("timeline ends at %s, store says %s", prev, inc.Status)
	}
	// The header shows what the store holds, whatever order Slack saw.
	if hdr := h.header(ch); !strings.Contains(hdr, `*Status*\n`+inc.Status.Label()) {
		t.Errorf("header %s does not show the stored status %s", hdr, inc.Status)
	}
	if !strings.Contains(h.sim.Topic(ch), inc.Status.Label()) {
		t.Errorf("topic %q does not show the stored status %s", h.sim.Topic(ch), inc.Status)
	}
}

func TestNotesAndPagedTimeline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("search broken")
	h.sim.Join(ch, bob)
	h.slash(bob, ch, "/incident", "note rolled back <!channel> deploy 412")
	if got := h.roomTexts(ch, "noted on the timeline"); len(got) != 1 || got[0] != ":memo: <@U0BOB> noted on the timeline of INC-1: rolled back &lt;!channel&gt; deploy 412" {
		t.Errorf("the room was told of the note as %q", got)
	}
	long := strings.Repeat("x", 1900)
	for i := range 60 {
		h.slash(alice, ch, "/incident", fmt.Sprintf("note %d %s", i, long))
	}
	before := len(h.sim.Messages(ch))
	h.slash(alice, ch, "/incident", "timeline")
	pages := h.sim.Messages(ch)[before:]
	if len(pages) < 2 {
		t.Fatalf("62 long entries posted in %d message(s), want several pages", len(pages))
	}
	all := ""
	for _, p := range pages {
		all += plainJSON(t, p.Blocks)
	}
	for _, want := range []string{"Timeline of INC-1 (62 entries), part 1 of", "*opened* <@U0ALICE> Opened as SEV3: search broken",
		"rolled back &lt;!channel&gt; deploy 412", "*note* <@U0ALICE> 59 xxx"} {
		if !strings.Contains(all, want) {
			t.Errorf("timeline pages lack %q", want)
		}
	}
	// From elsewhere, the timeline goes to the asker alone.
	n := len(h.sim.Messages(ch))
	h.slash(bob, h.general, "/incident", "timeline INC-1")
	if len(h.sim.Messages(ch)) != n || !strings.Contains(h.lastEphemeral(bob), "Timeline of INC-1") {
		t.Error("timeline asked from #general was not answered privately")
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("payments erroring sev3")
	incidents := h.sim.ChannelByName("incidents").ID
	h.slash(alice, ch, "/incident", "sev 1")
	if hdr := h.header(ch); !strings.Contains(hdr, `*Severity*\nSEV1`) || !strings.Contains(h.sim.Topic(ch), "SEV1") {
		t.Errorf("after sev 1: header %s, topic %q", hdr, h.sim.Topic(ch))
	}
	ann := h.sim.Messages(incidents)
	if last := plainJSON(t, ann[len(ann)-1].Blocks); !strings.Contains(last, "severity is now *SEV1*") {
		t.Errorf("incidents channel not told: %s", last)
	}
	h.slash(alice, ch, "/incident", "sev 3")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Lowering INC-1 from SEV1 to SEV3 needs a reason") {
		t.Errorf("downgrade without reason answered %q", got)
	}
	h.slash(alice, ch, "/incident", "sev 3 only one merchant affected")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	if inc.Severity != incident.Sev3 || len(timeline) != 2 || timeline[1].Text != "Severity SEV1 → SEV3: only one merchant affected" {
		t.Errorf("severity %s, timeline %+v", inc.Severity, timeline)
	}
	h.slash(alice, ch, "/incident", "sev 7")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "`7` is not a severity") {
		t.Errorf("sev 7 answered %q", got)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "list")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "No open incidents") {
		t.Errorf("empty list answered %q", got)
	}
	h.openIncident("minor thing sev4")
	ch := h.openIncident("major thing sev1")
	done := h.openIncident("old thing sev2")
	h.slash(alice, done, "/incident", "status resolved")
	h.clock.Advance(90 * time.Minute)
	h.slash(bob, h.general, "/incident", "list")
	eph := h.sim.Ephemerals(bob)
	got := plainJSON(t, eph[len(eph)-1].Blocks)
	major, minor := strings.Index(got, "*INC-2*"), strings.Index(got, "*INC-1*")
	if major < 0 || minor < 0 || major > minor || strings.Contains(got, "INC-3") {
		t.Errorf("list = %s\nwant INC-2 (SEV1) before INC-1 (SEV4), and not the resolved INC-3", got)
	}
	if !strings.Contains(got, "2 open incidents") || !strings.Contains(got, "<#"+ch+">") || !strings.Contains(got, "open 1 h 30 min") {
		t.Errorf("list = %s\nwant the count, channel links and ages", got)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("cache stampede sev2")
	h.slash(alice, ch, "/incident", "close")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is investigating: it can be closed once resolved") {
		t.Errorf("close before resolved answered %q", got)
	}
	h.clock.Advance(20 * time.Minute)
	h.slash(alice, ch, "/incident", "status restored")
	h.slash(alice, ch, "/incident", "note warmed the cache")
	h.clock.Advance(40 * time.Minute)
	h.slash(alice, ch, "/incident", "status resolved")
	h.clock.Advance(time.Hour)
	h.slash(alice, ch, "/incident", "close")

	msgs := h.sim.Messages(ch)
	golden(t, "summary.json", indentJSON(t, msgs[len(msgs)-1].Blocks))
	golden(t, "header_closed.json", indentJSON(t, msgs[0].Blocks))
	if hdr := h.header(ch); !strings.Contains(hdr, `*Closed*\n<!date^`) {
		t.Errorf("header does not show the close: %s", hdr)
	}
	ann := h.sim.Messages(h.sim.ChannelByName("incidents").ID)
	if last := plainJSON(t, ann[len(ann)-1].Blocks); !strings.Contains(last, ":lock: *INC-1*") {
		t.Errorf("incidents channel not told: %s", last)
	}
	for _, text := range []string{"close", "status investigating", "sev 1", "note too late"} {
		h.slash(alice, ch, "/incident", text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 was closed on 2026-11-24 05:04 UTC, so sitrep did not ") ||
			!strings.Contains(got, "a closed incident takes no more changes and cannot be reopened") {
			t.Errorf("/incident %s after close answered %q", text, got)
		}
	}
}

func TestHandOverByCommandBriefsTheNewTDO(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("replication lag sev2 systems:db")
	h.clock.Advance(5 * time.Minute)
	h.slash(alice, ch, "/incident", "note lag at 40s on replica 2")
	h.clock.Advance(5 * time.Minute)
	h.slash(alice, ch, "/incident", "tdo <@U0BOB|bob> knows the replication setup")

	if !slices.Contains(h.sim.Members(ch), bob) {
		t.Errorf("bob was not invited: members %v", h.sim.Members(ch))
	}
	if hdr := h.header(ch); !strings.Contains(hdr, `*Technical duty officer*\n<@U0BOB>`) {
		t.Errorf("header does not name bob: %s", hdr)
	}
	if topic := h.sim.Topic(ch); !strings.Contains(topic, "TDO: Bob Dobbs") {
		t.Errorf("topic %q does not name bob", topic)
	}
	msgs := h.sim.Messages(ch)
	if last := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(last, ":crown: <@U0BOB> now leads INC-1 as technical duty officer (handed over by <@U0ALICE>)") ||
		!strings.Contains(last, "knows the replication setup") {
		t.Errorf("the room heard %s", last)
	}
	dm := h.sim.DirectChannel(bob)
	if dm == "" || len(h.sim.Messages(dm)) != 1 {
		t.Fatalf("bob got no brief by direct message")
	}
	golden(t, "brief.json", indentJSON(t, h.sim.Messages(dm)[0].Blocks))

	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	last := timeline[len(timeline)-1]
	if inc.TDOID != bob || last.Kind != incident.EntryTDO || last.Actor != alice || last.Subject != bob ||
		last.Text != "Hand-off from U0ALICE: knows the replication setup" || !last.At.Equal(epoch.Add(10*time.Minute)) {
		t.Errorf("recorded %+v, TDO %s", last, inc.TDOID)
	}

	for _, tc := range []struct{ text, want string }{
		{"tdo bob", "`bob` is not a Slack mention"},
		{"tdo", "Name the new technical duty officer"},
		{"tdo <@U0NOBODY>", "There is no such user"},
		{"tdo <@U0BOB>", "<@U0BOB> leads INC-1 already."},
	} {
		h.slash(alice, ch, "/incident", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/incident %s answered %q, want %q", tc.text, got, tc.want)
		}
	}

	// A third person in the room moves leadership on: the room and the
	// brief name both the one who led and the one who moved it.
	const carol = "U0CAROL"
	h.sim.AddUser(slacksim.User{ID: carol, Name: "carol", RealName: "Carol Shaw"})
	h.slash(alice, ch, "/incident", "tdo <@U0CAROL|carol> night shift")
	msgs = h.sim.Messages(ch)
	if last := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(last,
		":crown: <@U0CAROL> now leads INC-1 as technical duty officer (handed over from <@U0BOB> by <@U0ALICE>)") {
		t.Errorf("after a third person's hand-over the room heard %s", last)
	}
	carolDM := h.sim.DirectChannel(carol)
	if carolDM == "" || len(h.sim.Messages(carolDM)) != 1 {
		t.Fatalf("carol got no brief")
	}
	if brief := plainJSON(t, h.sim.Messages(carolDM)[0].Blocks); !strings.Contains(brief, "handed over from <@U0BOB> by <@U0ALICE>: night shift") {
		t.Errorf("carol's brief does not say how she came to lead: %s", brief)
	}
}

func TestTakeCommandButton(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("login loop")
	h.sim.Join(ch, bob)
	header := h.sim.Messages(ch)[0]
	click := func(user, channel string) {
		t.Helper()
		if _, err := h.sim.Click(h.ctx, user, channel, header.TS, "incident_take_command", ""); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	click(bob, ch)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.TDOID != bob {
		t.Fatalf("TDO after bob took command = %s", inc.TDOID)
	}
	msgs := h.sim.Messages(ch)
	if last := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(last, "<@U0BOB> now leads INC-1 as technical duty officer (took command from <@U0ALICE>)") {
		t.Errorf("the room heard %s", last)
	}
	if dm := h.sim.DirectChannel(bob); dm == "" || !strings.Contains(plainJSON(t, h.sim.Messages(dm)[0].Blocks), "took command") {
		t.Error("bob got no brief")
	}
	click(bob, ch)
	if got := h.lastEphemeral(bob); !strings.Contains(got, "<@U0BOB> leads INC-1 already.") {
		t.Errorf("second click answered %q", got)
	}
	// Closed: the button is gone from the header, and an old copy refuses.
	h.slash(bob, ch, "/incident", "status resolved")
	h.slash(bob, ch, "/incident", "close")
	if strings.Contains(h.header(ch), "incident_take_command") {
		t.Error("a closed incident's header still offers Take command")
	}
	if _, err := h.sim.Click(h.ctx, alice, ch, header.TS, "incident_take_command", ""); err == nil {
		t.Error("the simulator let alice click a button the header no longer has")
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("emails delayed")
	h.slash(alice, ch, "/incident", "role comms <@U0BOB|bob>")
	h.slash(alice, ch, "/incident", "role scribe <@U0ALICE>")
	if !slices.Contains(h.sim.Members(ch), bob) {
		t.Errorf("comms holder not invited: %v", h.sim.Members(ch))
	}
	hdr := h.header(ch)
	for _, want := range []string{`*Comms*\n<@U0BOB>`, `*Scribe*\n<@U0ALICE>`} {
		if !strings.Contains(hdr, want) {
			t.Errorf("header lacks %s: %s", want, hdr)
		}
	}
	msgs := h.sim.Messages(ch)
	if got := plainJSON(t, msgs[len(msgs)-2].Blocks); !strings.Contains(got, "<@U0BOB> is now *comms* for INC-1 (set by <@U0ALICE>)") {
		t.Errorf("room heard %s", got)
	}
	for _, tc := range []struct{ text, want string }{
		{"role boss <@U0BOB>", "`boss` is not a role"},
		{"role comms bob", "`bob` is not a Slack mention"},
		{"role comms", "Name a role and a person"},
		{"role comms <@U0GHOST>", "There is no such user"},
		{"role comms <@U0BOB>", "<@U0BOB> is comms of INC-1 already."},
	} {
		h.slash(alice, ch, "/incident", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/incident %s answered %q, want %q", tc.text, got, tc.want)
		}
	}
	// A hand-off brief names the roles.
	h.slash(alice, ch, "/incident", "tdo <@U0BOB>")
	if brief := plainJSON(t, h.sim.Messages(h.sim.DirectChannel(bob))[0].Blocks); !strings.Contains(brief, `*Roles*\ncomms <@U0BOB>, scribe <@U0ALICE>`) {
		t.Errorf("brief lacks the roles: %s", brief)
	}
}

func TestPushpinReactionAddsToTimeline(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("disk full on batch-3")
	h.sim.Join(ch, bob)
	ts := h.sim.Say(bob, ch, "df shows /var at 100%, @here clearing logs & <tmp> with @alice")
	reaction := func(channel, ts, name string) map[string]any {
		return map[string]any{"type": "reaction_added", "user": alice, "reaction": name, "item_user": bob,
			"item": map[string]any{"type": "message", "channel": channel, "ts": ts}, "event_ts": "1.000001"}
	}
	d, err := h.sim.SendEvent(h.ctx, reaction(ch, ts, "pushpin"))
	if err != nil {
		t.Fatal(err)
	}
	h.idle()
	// Slack redelivers the same event; it counts once.
	if err := h.sim.Redeliver(h.ctx, d); err != nil {
		t.Fatal(err)
	}
	h.idle()
	// Other reactions, and pins outside incident channels, are ignored.
	h.sim.SendEvent(h.ctx, reaction(ch, ts, "eyes"))
	h.sim.SendEvent(h.ctx, reaction(h.general, h.sim.Say(bob, h.general, "unrelated"), "pushpin"))
	h.idle()

	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	if len(timeline) != 1 {
		t.Fatalf("timeline = %+v, want the one pinned message", timeline)
	}
	e := timeline[0]
	if e.Kind != incident.EntryPin || e.Actor != alice || e.Subject != bob || e.Text != "df shows /var at 100%, @here clearing logs & <tmp> with <@U0ALICE>" {
		t.Errorf("pinned entry = %+v", e)
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Added to the timeline of INC-1") {
		t.Errorf("alice was told %q", got)
	}
	if n := len(h.ephemeralTexts(alice)); n != 2 { // "INC-1 is open" and one "Added"
		t.Errorf("alice got %d answers, want 2: the redelivery must not answer again", n)
	}
	h.slash(alice, ch, "/incident", "timeline")
	msgs := h.sim.Messages(ch)
	if got := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(got, "*pin* <@U0ALICE> pinned <@U0BOB>: df shows /var at 100%, @here clearing logs &amp; &lt;tmp&gt; with <@U0ALICE>") {
		t.Errorf("timeline shows %s", got)
	}
}

func TestHeaderStatusAndNoteForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("cdn errors sev2")
	h.sim.Join(ch, bob)
	header := h.sim.Messages(ch)[0]
	click := func(user, channel, action string) {
		t.Helper()
		if _, err := h.sim.Click(h.ctx, user, channel, header.TS, action, ""); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	submit := func(user string, values map[string]map[string]string) {
		t.Helper()
		views := h.sim.OpenViews(user)
		if len(views) == 0 {
			t.Fatalf("no form open for %s", user)
		}
		if _, err := h.sim.Submit(h.ctx, user, views[len(views)-1].ID, values); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}

	click(bob, ch, "incident_update_status")
	if v := h.sim.OpenViews(bob); len(v) != 1 || v[0].CallbackID != "incident_status" {
		t.Fatalf("views = %+v, want the status form", v)
	}
	golden(t, "modal_status.json", indentJSON(t, withoutKeys(t, h.sim.OpenViews(bob)[0].Raw,
		"id", "hash", "team_id", "app_id", "bot_id", "root_view_id", "previous_view_id", "app_installed_team_id")))
	submit(bob, map[string]map[string]string{"status": {"status": "restored"}, "message": {"message": "purged the edge cache"}})
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.Status != incident.StatusRestored || !strings.Contains(h.header(ch), `*Status*\nRestored`) {
		t.Errorf("after the form: status %s, header %s", inc.Status, h.header(ch))
	}

	click(bob, ch, "incident_update_status")
	submit(bob, map[string]map[string]string{"status": {"status": "restored"}})
	if got := h.lastEphemeral(bob); !strings.Contains(got, "INC-1 is restored already") {
		t.Errorf("same status by form answered %q", got)
	}

	click(alice, ch, "incident_add_note")
	submit(alice, map[string]map[string]string{"note": {"note": "edge purge took 4 min"}})
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	if last := timeline[len(timeline)-1]; last.Kind != incident.EntryNote || last.Text != "edge purge took 4 min" || last.Actor != alice {
		t.Errorf("note by form = %+v", last)
	}
}

func TestCloseArchivesAfterTheDelay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBotConfig(bot.Config{ArchiveAfter: 24 * time.Hour}))
	ch := h.openIncident("stale certs")
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	if n, _ := h.runner.Sweep(h.ctx); n != 0 || h.sim.Channel(ch).IsArchived {
		t.Fatalf("archived (or ran %d jobs) right at close", n)
	}
	h.clock.Advance(24*time.Hour - time.Minute)
	if h.runner.Sweep(h.ctx); h.sim.Channel(ch).IsArchived {
		t.Fatal("archived before the delay")
	}
	h.clock.Advance(time.Minute)
	if n, err := h.runner.Sweep(h.ctx); err != nil || n != 1 || !h.sim.Channel(ch).IsArchived {
		t.Fatalf("after the delay: ran %d (%v), archived %v", n, err, h.sim.Channel(ch).IsArchived)
	}
	if r := h.room(1); !r.Did("archived") {
		t.Errorf("room = %+v, want the archive recorded", r)
	}
}

func TestHandoverPolicy(t *testing.T) {
	t.Parallel()
	t.Run("channel", func(t *testing.T) {
		t.Parallel()
		// The default: anyone in the incident channel. Slack tells the bot
		// who joins (member_joined_channel).
		h := newHarness(t, withSimOptions(slacksim.Options{MemberEvents: true}))
		h.openIncident("queue lag")
		h.slash(bob, h.general, "/incident", "tdo INC-1 <@U0BOB>")
		if got := h.lastEphemeral(bob); !strings.Contains(got, "Only people in <#") || !strings.Contains(got, "join the room first") {
			t.Errorf("hand-off from outside the room answered %q", got)
		}
		h.join(h.room(1).ChannelID, bob)
		h.slash(bob, h.general, "/incident", "tdo INC-1 <@U0BOB>")
		if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.TDOID != bob {
			t.Errorf("a member's hand-off: TDO = %s", inc.TDOID)
		}
	})
	t.Run("tdo", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withBotConfig(bot.Config{Handover: bot.HandoverTDO}))
		ch := h.openIncident("queue lag")
		h.sim.Join(ch, bob)
		h.slash(bob, ch, "/incident", "tdo <@U0BOB>")
		if got := h.lastEphemeral(bob); !strings.Contains(got, "Only the technical duty officer of INC-1 <@U0ALICE> or a commander can hand INC-1 over") {
			t.Errorf("bob's hand-off answered %q", got)
		}
		h.slash(alice, ch, "/incident", "tdo <@U0BOB> db expert")
		if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.TDOID != bob {
			t.Errorf("the TDO's hand-off: TDO = %s", inc.TDOID)
		}
	})
}

// TestStaleButtonOnClosedIncident clicks a header rendered before the close
// reached Slack: the incident is closed in the store only, as when the close
// job has not run yet.
func TestStaleButtonOnClosedIncident(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("stale header")
	h.sim.Join(ch, bob)
	svc := incident.NewService(h.store, h.clock)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if _, _, err := svc.SetStatus(h.ctx, incident.StatusRequest{IncidentID: inc.ID, Actor: alice, Status: incident.StatusResolved}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Close(h.ctx, inc.ID, alice); err != nil {
		t.Fatal(err)
	}
	header := h.sim.Messages(ch)[0]
	for _, action := range []string{"incident_take_command", "incident_update_status", "incident_add_note"} {
		if _, err := h.sim.Click(h.ctx, bob, ch, header.TS, action, ""); err != nil {
			t.Fatal(err)
		}
		h.idle()
		if got := h.lastEphemeral(bob); !strings.Contains(got, "INC-1") || !strings.Contains(got, "closed") {
			t.Errorf("%s on a closed incident answered %q", action, got)
		}
	}
	if v := h.sim.OpenViews(bob); len(v) != 0 {
		t.Errorf("a form opened for a closed incident: %+v", v)
	}
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.TDOID != alice {
		t.Errorf("a closed incident changed hands: TDO %s", inc.TDOID)
	}
}
