package bot_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
)

// The distinctive details of the private incident in these tests: none of
// them may appear outside its room.
const (
	secretTitle  = "Zanzibar badge cloning at the Quokka vault"
	secretSystem = "vaultdoor"
)

// secrets are the words of the private incident that must stay in its room,
// lower case (channel names and slugs are lower case).
var secrets = []string{"zanzibar", "quokka", secretSystem}

// leaks returns where, outside the room of a private incident, any of the
// secrets appears in what the simulator recorded: every message (text,
// blocks, metadata) and topic of every other channel and direct message,
// every file shared anywhere but the room, and every ephemeral message and
// open view of someone who is not in the room.
func (h *harness) leaks(room string) []string {
	h.t.Helper()
	var out []string
	check := func(where, s string) {
		low := strings.ToLower(s)
		for _, w := range secrets {
			if strings.Contains(low, w) {
				out = append(out, where+" holds "+w+": "+s)
			}
		}
	}
	members := h.sim.Members(room)
	for _, ch := range h.sim.Channels() {
		if ch.ID == room {
			continue
		}
		check("the name of channel "+ch.ID, ch.Name)
		check("the topic of #"+ch.Name, h.sim.Topic(ch.ID))
		for _, m := range h.sim.Messages(ch.ID) {
			meta, _ := json.Marshal(m.Metadata)
			check("a message in #"+ch.Name, m.Text+plainJSON(h.t, m.Blocks)+string(meta))
		}
		for _, f := range h.sim.Files(ch.ID) {
			content := string(f.Content)
			if strings.HasPrefix(f.Mimetype, "image/") {
				content = "" // pixels; the chart's data are checked in package report
			}
			check("file "+f.Name+" in #"+ch.Name, f.Name+" "+f.Title+" "+f.AltText+" "+content)
		}
	}
	for _, u := range h.sim.Users() {
		if slices.Contains(members, u.ID) {
			continue // a member may be answered with the details
		}
		for _, e := range h.sim.Ephemerals(u.ID) {
			check("an ephemeral message to "+u.ID, e.Text+plainJSON(h.t, e.Blocks))
		}
		for _, v := range h.sim.OpenViews(u.ID) {
			check("a view open for "+u.ID, plainJSON(h.t, v.Raw))
		}
	}
	return out
}

// TestPrivateTitleNeverLeavesItsRoom runs a private incident through its
// life, with every view of incidents that sitrep offers outside the room,
// and then reads everything the simulator recorded: the title and systems
// appear only in the private room and in answers to its members.
func TestPrivateTitleNeverLeavesItsRoom(t *testing.T) {
	t.Parallel()
	weekdays, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * 1-5")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withBotConfig(bot.Config{OpsReviewSchedule: weekdays}))
	random := h.sim.AddChannel("random", alice, bob)
	public := h.openIncident("checkout slow sev3 systems:web")

	h.slash(alice, h.general, "/incident", "open --private "+secretTitle+" sev2 systems:"+secretSystem)
	r := h.room(2)
	if !r.Ready {
		t.Fatalf("room not ready: %+v", r)
	}
	room := r.ChannelID
	ch := h.sim.Channel(room)
	if ch == nil || !ch.IsPrivate || ch.Name != "inc-2-private" {
		t.Fatalf("the room of a private incident = %+v, want the private channel inc-2-private", ch)
	}
	if got := h.sim.Members(room); !slices.Contains(got, alice) || slices.Contains(got, bob) {
		t.Errorf("members of the private room = %v, want alice (reporter, TDO) and not bob", got)
	}
	if header := h.header(room); !strings.Contains(header, secretTitle) || !strings.Contains(header, secretSystem) {
		t.Errorf("the room's header lacks the details:\n%s", header)
	}
	if !strings.Contains(h.sim.Topic(room), secretTitle) {
		t.Errorf("the room's topic = %q, want the title (it is inside the room)", h.sim.Topic(room))
	}
	inc, err := h.store.IncidentByNumber(h.ctx, 2)
	if err != nil || !inc.Private {
		t.Fatalf("INC-2 = %+v, %v; want it private", inc, err)
	}
	incidents := h.sim.ChannelByName("incidents")
	announced := h.linesWith(incidents.ID, "INC-2")
	if len(announced) != 1 || !strings.Contains(announced[0], "a private SEV2 incident was opened") {
		t.Errorf("#incidents heard %q, want the private announcement", announced)
	}
	// Bob is not in the room: Slack would not let him type there.
	if _, err := h.sim.SlashCommand(h.ctx, bob, room, "/incident", "timeline"); err == nil {
		t.Error("bob typed in a private room he is not in")
	}

	// The incident's life, in its room.
	h.slash(alice, room, "/incident", "status identified badge readers on floor 3")
	h.slash(alice, room, "/incident", "sev 1")
	h.slash(alice, h.general, "/problem", "new Badge firmware accepts replayed tokens")
	h.slash(alice, room, "/incident", "link PRB-1")
	h.slash(alice, public, "/incident", "link PRB-1")
	h.slash(alice, room, "/incident", "cost")
	h.submit(alice, h.openView(alice, "incident_cost").ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": "40000"}})

	// Views from outside, by a non-member and a member.
	h.slash(bob, random, "/incident", "list")
	if list := h.lastEphemeral(bob); !strings.Contains(list, "2 open incidents") {
		t.Errorf("bob's list = %q", list)
	}
	bobList := plainJSON(t, h.sim.Ephemerals(bob)[len(h.sim.Ephemerals(bob))-1].Blocks)
	if !strings.Contains(bobList, "INC-2") || !strings.Contains(bobList, incident.PrivateLabel) {
		t.Errorf("bob's list does not count INC-2 as a private incident:\n%s", bobList)
	}
	h.slash(alice, random, "/incident", "list")
	aliceList := plainJSON(t, h.sim.Ephemerals(alice)[len(h.sim.Ephemerals(alice))-1].Blocks)
	if !strings.Contains(aliceList, secretTitle) {
		t.Errorf("alice, in the room, does not see INC-2's title in her list:\n%s", aliceList)
	}
	h.slash(bob, random, "/incident", "timeline INC-2")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only people in") {
		t.Errorf("bob asking for the timeline of INC-2 got %q, want a refusal", got)
	}
	h.slash(bob, random, "/incident", "changes INC-2")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only people in") {
		t.Errorf("bob asking what changed before INC-2 got %q, want a refusal", got)
	}
	h.slash(alice, random, "/incident", "changes INC-2")
	h.slash(bob, random, "/incident", "cost INC-2")
	h.slash(bob, random, "/problem", "show PRB-1")
	if got := plainJSON(t, h.sim.Ephemerals(bob)[len(h.sim.Ephemerals(bob))-1].Blocks); !strings.Contains(got, "INC-2* SEV1 "+incident.PrivateLabel) {
		t.Errorf("bob's view of PRB-1 does not show INC-2 unnamed:\n%s", got)
	}
	h.slash(bob, random, "/problem", "pareto")
	h.slash(bob, random, "/incident", "link INC-2 PRB-1")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only people in") {
		t.Errorf("bob linking a problem to INC-2 got %q, want a refusal", got)
	}

	// The review, while it is open: the clock starts on a Tuesday.
	h.clock.Set(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
	if _, err := h.bot.CheckOpsReview(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.sweep()
	msgs := h.reviewMessages()
	if len(msgs) != 1 {
		t.Fatalf("#ops-review holds %d messages, want the review", len(msgs))
	}
	review := plainJSON(t, msgs[0].Blocks)
	for _, want := range []string{"*INC-2* SEV1 " + incident.PrivateLabel, "USD 40,000 from 1 costed incident"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review lacks %q:\n%s", want, review)
		}
	}

	// To the end.
	h.slash(alice, room, "/incident", "status resolved")
	h.slash(alice, room, "/incident", "close")
	if closed := h.linesWith(incidents.ID, "INC-2 closed"); len(closed) != 1 {
		t.Errorf("#incidents did not hear INC-2 closed: %q", h.linesWith(incidents.ID, "INC-2"))
	}
	for _, line := range h.linesWith(incidents.ID, "INC-2") {
		if strings.Contains(line, "<#"+room+">") {
			t.Errorf("#incidents links the private room: %q", line)
		}
	}

	// A member exporting the postmortem outside the room would share it
	// with that channel.
	h.slash(alice, random, "/postmortem", "export INC-2")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "export its postmortem in its own room") {
		t.Errorf("alice exporting INC-2's postmortem in #random got %q, want a refusal", got)
	}
	h.slash(bob, random, "/postmortem", "export INC-2")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only people in") {
		t.Errorf("bob exporting INC-2's postmortem got %q, want a refusal", got)
	}

	for _, leak := range h.leaks(room) {
		t.Error(leak)
	}
	// The details are all there, in the room.
	if got := h.linesWith(room, "closed"); len(got) == 0 {
		t.Errorf("the room got no summary")
	}
}

// TestPrivateFromTheForm opens a private incident through the form's
// checkbox.
func TestPrivateFromTheForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "open --private")
	view := h.openView(alice, "incident_open")
	if !strings.Contains(string(view.Raw), `"initial_options"`) {
		t.Errorf("/incident open --private showed the form with the private box not ticked:\n%s", view.Raw)
	}
	h.submit(alice, view.ID, map[string]map[string]string{
		"title":   {"title": secretTitle},
		"systems": {"systems": secretSystem},
		"private": {"private": "private"},
	})
	r := h.room(1)
	ch := h.sim.Channel(r.ChannelID)
	if !r.Ready || ch == nil || !ch.IsPrivate || ch.Name != "inc-1-private" {
		t.Fatalf("room = %+v, channel = %+v; want the private inc-1-private", r, ch)
	}
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil || !inc.Private || inc.Title != secretTitle {
		t.Fatalf("INC-1 = %+v, %v", inc, err)
	}
	for _, leak := range h.leaks(r.ChannelID) {
		t.Error(leak)
	}

	// Unticked, the form opens a public incident.
	h.slash(alice, h.general, "/incident", "open")
	h.submit(alice, h.openView(alice, "incident_open").ID, map[string]map[string]string{"title": {"title": "checkout slow"}})
	if inc, err := h.store.IncidentByNumber(h.ctx, 2); err != nil || inc.Private {
		t.Fatalf("INC-2 = %+v, %v; want it public", inc, err)
	}
	if ch := h.sim.Channel(h.room(2).ChannelID); ch.IsPrivate {
		t.Errorf("a public incident got a private channel: %+v", ch)
	}
}

// TestMakePrivateLater makes a public incident private: only its TDO (or a
// commander) may; its room moves into a new private channel with everyone
// in it, the old one is told without the title and archived, and
// #incidents names it by number from then on.
func TestMakePrivateLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old := h.openIncident(secretTitle + " sev2 systems:" + secretSystem)
	h.sim.Join(old, bob)
	// A member Slack no longer knows (a deleted account): Slack refuses to
	// invite them, and the move goes on without them.
	h.sim.Join(old, "U0GONE")
	incidents := h.sim.ChannelByName("incidents")
	h.slash(alice, old, "/incident", "status identified")
	if got := h.linesWith(incidents.ID, "INC-1 is now Identified"); len(got) != 1 {
		t.Fatalf("#incidents heard %q, want the public update", got)
	}

	h.slash(bob, old, "/incident", "private")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only the technical duty officer") {
		t.Errorf("bob (not the TDO) making it private got %q", got)
	}
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.Private {
		t.Fatal("bob made INC-1 private")
	}

	h.slash(alice, old, "/incident", "private")
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil || !inc.Private {
		t.Fatalf("INC-1 = %+v, %v; want it private", inc, err)
	}
	r := h.room(1)
	room := r.ChannelID
	ch := h.sim.Channel(room)
	if room == old || ch == nil || !ch.IsPrivate || ch.Name != "inc-1-private" {
		t.Fatalf("after /incident private the room is %+v", ch)
	}
	if got := h.sim.Members(room); !slices.Contains(got, alice) || !slices.Contains(got, bob) {
		t.Errorf("members of the private room = %v, want alice and bob from the old room", got)
	}
	if pins := h.sim.Pins(room); len(pins) != 1 || pins[0] != r.HeaderTS {
		t.Errorf("pins of the private room = %v, want the header %s", pins, r.HeaderTS)
	}
	if header := h.header(room); !strings.Contains(header, secretTitle) {
		t.Errorf("the private room's header lacks the title:\n%s", header)
	}
	// The header carries "what changed?", in the old room and the new.
	if r.ChangesTS != r.HeaderTS || !strings.Contains(h.header(room), "What changed before INC-1?") {
		t.Errorf("the private room's header does not carry \"what changed?\" (room %+v):\n%s", r, h.header(room))
	}
	if old := h.header(old); strings.Contains(old, "What changed before") || !strings.Contains(old, "INC-1 is private now") {
		t.Errorf("the old header (with \"what changed?\") was not replaced:\n%s", old)
	}
	oldCh := h.sim.Channel(old)
	if !oldCh.IsArchived || oldCh.Name != "inc-1-moved" {
		t.Errorf("the old public room = %+v, want it archived as inc-1-moved", oldCh)
	}
	if topic := h.sim.Topic(old); topic != "INC-1 moved to a private channel" {
		t.Errorf("the old room's topic = %q", topic)
	}
	if header := h.header(old); strings.Contains(strings.ToLower(header), "zanzibar") || strings.Contains(header, "incident_actions") {
		t.Errorf("the old room's header still shows the incident:\n%s", header)
	}
	if moved := h.linesWith(old, "moved to a private channel"); len(moved) != 1 || strings.Contains(strings.ToLower(moved[0]), "zanzibar") {
		t.Errorf("the old room's notice = %q", moved)
	}
	announcement := h.sim.Message(incidents.ID, r.AnnouncementTS)
	if announcement == nil || strings.Contains(strings.ToLower(announcement.Text+string(announcement.Blocks)), "zanzibar") {
		t.Errorf("the announcement was not rewritten without the title: %+v", announcement)
	}
	for _, m := range h.sim.Messages(incidents.ID) {
		if strings.Contains(strings.ToLower(m.Text+plainJSON(t, m.Blocks)), "zanzibar") {
			t.Errorf("#incidents still names INC-1 after it was made private: %s", m.Text)
		}
	}
	if got := h.linesWith(incidents.ID, "update hidden"); len(got) != 1 {
		t.Errorf("#incidents: %q, want the earlier update rewritten", got)
	}
	if got := h.linesWith(incidents.ID, "was made private"); len(got) != 1 {
		t.Errorf("#incidents heard %q, want one line that INC-1 was made private", got)
	}
	timeline, err := h.store.Timeline(h.ctx, inc.ID)
	if err != nil || timeline[len(timeline)-1].Kind != incident.EntryPrivate || timeline[len(timeline)-1].Actor != alice {
		t.Errorf("timeline = %+v, %v; want the move recorded", timeline, err)
	}

	// From now on, #incidents hears it by number only.
	before := len(h.sim.Messages(incidents.ID))
	h.slash(alice, room, "/incident", "status monitoring")
	msgs := h.sim.Messages(incidents.ID)
	if len(msgs) != before+1 || !strings.Contains(msgs[len(msgs)-1].Text+plainJSON(t, msgs[len(msgs)-1].Blocks), "a private SEV2 incident is now *Monitoring*") {
		t.Errorf("#incidents after a status change: %+v", msgs[before:])
	}
	for _, m := range msgs[before:] {
		if strings.Contains(strings.ToLower(m.Text+plainJSON(t, m.Blocks)), "zanzibar") {
			t.Errorf("#incidents named the private incident after it was made private: %s", m.Text)
		}
	}
	h.slash(alice, room, "/incident", "private")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "private already") {
		t.Errorf("making it private twice: %q", got)
	}
	h.slash(alice, room, "/incident", "public")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "never makes a private incident public") {
		t.Errorf("/incident public: %q", got)
	}
}
