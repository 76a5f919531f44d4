package bot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// roomNotices returns the messages in channel that tell of changes logged
// while the incident is open.
func (h *harness) roomNotices(channel string) []string {
	var out []string
	for _, m := range h.sim.Messages(channel) {
		if got := plainJSON(h.t, m.Blocks); strings.Contains(got, ":new: *") {
			out = append(out, got)
		}
	}
	return out
}

// TestChangeBatchIsOneMessage logs a batch of 50 changes, as the API and
// the CLI do, to an open incident's system: its room gets one message that
// lists the first 3 and counts the rest.
func TestChangeBatchIsOneMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db timeouts sev2 systems:db")
	quiet := h.openIncident("web slow systems:web")
	h.clock.Advance(10 * time.Minute)
	var batch []incident.Change
	for i := range 50 {
		batch = append(batch, incident.Change{
			OccurredAt: h.clock.Now().Add(time.Duration(i-50) * time.Second), Systems: []string{"db"}, Person: "deploy-bot",
			Summary: fmt.Sprintf("migration %02d applied", i+1), Kind: incident.KindDeploy, Source: incident.SourceAPI,
			ExternalID: fmt.Sprintf("ci-run-7:%d", i),
		})
	}
	if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, batch); err != nil {
		t.Fatal(err)
	}
	h.sweep()
	notices := h.roomNotices(ch)
	if len(notices) != 1 {
		t.Fatalf("room got %d change messages for one batch, want 1: %q", len(notices), notices)
	}
	msgs := h.sim.Messages(ch)
	golden(t, "room_changes_batch.json", indentJSON(t, msgs[len(msgs)-1].Blocks))
	got := notices[0]
	for _, want := range []string{"*50 changes to db while INC-1 is open*", "migration 01 applied", "migration 03 applied", "… and 47 more — `/change list db`"} {
		if !strings.Contains(got, want) {
			t.Errorf("message lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "migration 04 applied") {
		t.Errorf("message lists more than 3: %s", got)
	}
	if n := len(h.roomNotices(quiet)); n != 0 {
		t.Errorf("the room of an incident on another system got %d messages", n)
	}
	// The same batch again (a retried API call) is stored once and told once.
	if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, batch); err != nil {
		t.Fatal(err)
	}
	h.sweep()
	if n := len(h.roomNotices(ch)); n != 1 {
		t.Errorf("a repeated batch made %d messages", n)
	}
}

// TestChangesCoalescePerMinute logs changes one by one: those within a
// minute of the first are one message, after the minute; a later change
// opens the next window; a retried job does not post twice.
func TestChangesCoalescePerMinute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db timeouts sev2 systems:db,cache")
	h.clock.Advance(10 * time.Minute)
	for i, text := range []string{"db: killed vacuum", "cache: flushed sessions", "db: raised pool to 80"} {
		h.slash(bob, h.general, "/change", text)
		h.sweep()
		if i < 2 {
			h.clock.Advance(20 * time.Second)
		}
	}
	h.slash(bob, h.general, "/change", "web: unrelated deploy")
	h.sweep()
	if n := len(h.roomNotices(ch)); n != 0 {
		t.Fatalf("room told %d times within the minute", n)
	}
	// The post takes effect but its answer is lost, and the look for it
	// fails: the job is retried and finds its message.
	h.sim.LoseAnswers("chat.postMessage", 1)
	h.sim.FailNext("conversations.history", 1, http.StatusBadRequest)
	looks := h.sim.Calls("conversations.history")
	h.clock.Advance(21 * time.Second) // the minute from the first change is up
	h.sweep()
	h.clock.Advance(time.Minute) // past the job's back-off
	h.sweep()
	if n := h.sim.Calls("conversations.history") - looks; n < 2 {
		t.Errorf("the retried job did not look for its message (%d looks)", n)
	}
	notices := h.roomNotices(ch)
	if len(notices) != 1 {
		t.Fatalf("room got %d messages for 3 changes in a minute, want 1: %q", len(notices), notices)
	}
	got := notices[0]
	for _, want := range []string{"*3 changes to db, cache while INC-1 is open*", "killed vacuum", "flushed sessions", "raised pool to 80", "All of them: `/change list db,cache`"} {
		if !strings.Contains(got, want) {
			t.Errorf("message lacks %q: %s", want, got)
		}
	}
	if strings.Index(got, "killed vacuum") > strings.Index(got, "raised pool to 80") || strings.Contains(got, "unrelated deploy") {
		t.Errorf("message not oldest first or holds another system: %s", got)
	}

	h.clock.Advance(5 * time.Second)
	h.slash(alice, h.general, "/change", "db: failed over to the replica")
	h.sweep()
	if n := len(h.roomNotices(ch)); n != 1 {
		t.Fatalf("a change after the window was told at once (%d messages)", n)
	}
	h.clock.Advance(time.Minute)
	h.sweep()
	notices = h.roomNotices(ch)
	if len(notices) != 2 || !strings.Contains(notices[1], "*New change on db while INC-1 is open*") || !strings.Contains(notices[1], "failed over to the replica") {
		t.Fatalf("the next window told %q", notices[1:])
	}
	h.clock.Advance(time.Hour)
	h.sweep()
	if n := len(h.roomNotices(ch)); n != 2 {
		t.Errorf("room got %d messages in all, want 2", n)
	}
}

// roomTexts returns the texts of the messages in channel holding s.
func (h *harness) roomTexts(channel, s string) []string {
	var out []string
	for _, m := range h.sim.Messages(channel) {
		if strings.Contains(m.Text, s) {
			out = append(out, m.Text)
		}
	}
	return out
}

// TestNoteConfirmedToRoom: a note is confirmed to the whole room in one
// short line, not only to its author; typed elsewhere, the author is told
// where.
func TestNoteConfirmedToRoom(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("search broken systems:search")
	h.sim.Join(ch, bob)
	h.slash(bob, ch, "/incident", "note rolled back deploy 412 & <@U0ALICE> agreed")
	want := ":memo: <@U0BOB> noted on the timeline of INC-1: rolled back deploy 412 &amp; <@U0ALICE> agreed"
	if got := h.roomTexts(ch, "noted on the timeline"); len(got) != 1 || got[0] != want {
		t.Fatalf("room lines = %q, want %q", got, want)
	}
	if got := h.ephemeralTexts(bob); len(got) != 0 {
		t.Errorf("the author was also answered privately in the room: %q", got)
	}

	h.slash(alice, h.general, "/incident", "note INC-1 paged the search team")
	if got := h.roomTexts(ch, "paged the search team"); len(got) != 1 || !strings.HasPrefix(got[0], ":memo: <@U0ALICE> noted on the timeline of INC-1") {
		t.Errorf("a note typed in #general told the room %q", got)
	}
	for _, m := range h.sim.Messages(h.general) {
		if strings.Contains(m.Text, "paged the search team") {
			t.Errorf("the note was posted in #general: %q", m.Text)
		}
	}
	room := h.room(1)
	if got := h.lastEphemeral(alice); got != fmt.Sprintf(":white_check_mark: Done in <#%s|%s>: noted on the timeline for INC-1.", ch, room.ChannelName) {
		t.Errorf("the author in #general was told %q", got)
	}
	// A note from the header's Add note form tells the room too.
	header := h.sim.Messages(ch)[0]
	if _, err := h.sim.Click(h.ctx, bob, ch, header.TS, "incident_add_note", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.submit(bob, h.openView(bob, "incident_note").ID, map[string]map[string]string{"note": {"note": "edge purge took 4 min"}})
	if got := h.roomTexts(ch, "edge purge took 4 min"); len(got) != 1 || !strings.HasPrefix(got[0], ":memo: <@U0BOB> noted on the timeline of INC-1") {
		t.Errorf("a note by form told the room %q", got)
	}
	if got := len(h.roomTexts(ch, "noted on the timeline")); got != 3 {
		t.Errorf("room has %d note lines, want 3", got)
	}
}

// TestPostmortemTypedElsewhereActsInRoom: /postmortem start INC-1 typed in
// #general runs the postmortem in the incident's room; later commands typed
// elsewhere change it there; the caller is told where each time; other
// incident commands typed elsewhere say where they acted.
func TestPostmortemTypedElsewhereActsInRoom(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("checkout down sev2 systems:web")
	room := h.room(1)
	doneIn := fmt.Sprintf(":white_check_mark: Done in <#%s|%s>: ", ch, room.ChannelName)
	h.slash(alice, h.general, "/incident", "status INC-1 restored failed over")
	if got := h.lastEphemeral(alice); got != doneIn+"the status is restored for INC-1." {
		t.Errorf("status from #general answered %q", got)
	}
	h.slash(alice, h.general, "/incident", "sev INC-1 1")
	if got := h.lastEphemeral(alice); got != doneIn+"the severity is SEV1 for INC-1." {
		t.Errorf("sev from #general answered %q", got)
	}
	h.slash(alice, h.general, "/problem", "new db failover is manual")
	h.slash(alice, h.general, "/incident", "link INC-1 PRB-1")
	if got := h.lastEphemeral(alice); got != doneIn+"linked to PRB-1 for INC-1." {
		t.Errorf("link from #general answered %q", got)
	}
	generalBefore := len(h.sim.Messages(h.general))
	h.slash(alice, h.general, "/postmortem", "start INC-1")
	if pm := h.pm(); pm.ChannelID != ch || pm.MessageTS == "" {
		t.Fatalf("postmortem runs in %s (ts %q), want the room %s", pm.ChannelID, pm.MessageTS, ch)
	}
	if body := plainJSON(t, h.board(ch).Blocks); !strings.Contains(body, "Phase 1 of 3: timeline") {
		t.Errorf("room board = %s", body)
	}
	if got := h.lastEphemeral(alice); got != doneIn+"the postmortem started for INC-1." {
		t.Errorf("start from #general answered %q", got)
	}
	h.slash(alice, h.general, "/postmortem", "next INC-1")
	if pm := h.pm(); pm.Phase != incident.PhaseIssues {
		t.Fatalf("next from #general left phase %s", pm.Phase)
	}
	if body := plainJSON(t, h.board(ch).Blocks); !strings.Contains(body, "Phase 2 of 3") {
		t.Errorf("room board after next = %s", body)
	}
	if got := h.lastEphemeral(alice); got != doneIn+"the postmortem is updated (phase 2: issues) for INC-1." {
		t.Errorf("next from #general answered %q", got)
	}
	if got := h.sim.Messages(h.general)[generalBefore:]; len(got) != 0 {
		t.Errorf("#general got %d messages from postmortem commands", len(got))
	}
	// In the room, the board is the answer: nothing more is said.
	eph := len(h.ephemeralTexts(alice))
	h.slash(alice, ch, "/postmortem", "issue the alert fired late")
	if got := h.ephemeralTexts(alice); len(got) != eph {
		t.Errorf("issue in the room was also answered privately: %q", got[eph:])
	}
}

// TestPinnedTwiceIsOneEntry: a message pinned by two people, or by one
// person twice, is one timeline entry; a second pinner is shown in the
// message's thread ("also pinned by") and told where the entry is.
func TestPinnedTwiceIsOneEntry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("disk full on batch-3")
	h.sim.Join(ch, bob)
	ts := h.sim.Say(bob, ch, "df shows /var at 100%")
	pin := func(user, eventTS string) {
		t.Helper()
		if _, err := h.sim.SendEvent(h.ctx, map[string]any{"type": "reaction_added", "user": user, "reaction": "pushpin", "item_user": bob,
			"item": map[string]any{"type": "message", "channel": ch, "ts": ts}, "event_ts": eventTS}); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	pin(alice, "1.000001")
	pin(bob, "1.000002")
	pin(bob, "1.000003")   // bob removed it and pinned again
	pin(alice, "1.000004") // so did alice

	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	var pins []incident.TimelineEntry
	for _, e := range timeline {
		if e.Kind == incident.EntryPin {
			pins = append(pins, e)
		}
	}
	if len(pins) != 1 || pins[0].Actor != alice || pins[0].Text != "df shows /var at 100%" {
		t.Fatalf("pin entries = %+v, want one, alice's", pins)
	}
	var replies []string
	for _, m := range h.sim.Messages(ch) {
		if m.ThreadTS == ts {
			replies = append(replies, m.Text)
		}
	}
	if len(replies) != 1 || replies[0] != ":pushpin: Also pinned by <@U0BOB>." {
		t.Errorf("thread replies = %q, want one also pinned by bob", replies)
	}
	if got := h.lastEphemeral(bob); got != ":pushpin: Already on the timeline of INC-1, pinned by <@U0ALICE>: one entry per message." {
		t.Errorf("bob was told %q", got)
	}
	if got := h.ephemeralTexts(alice); len(got) < 2 || got[len(got)-2] != ":pushpin: Added to the timeline of INC-1." || !strings.HasPrefix(got[len(got)-1], ":pushpin: Already on the timeline of INC-1") {
		t.Errorf("alice was told %q", got)
	}
}

// TestPostmortemTimesInUserZone: times typed into postmortem entries are
// read in the typist's Slack time zone (users.info tz) and shown back with
// the zone: bob, in America/New_York, types 09:30 in November: 14:30 UTC.
func TestPostmortemTimesInUserZone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("checkout down sev2 systems:web")
	h.sim.Join(ch, bob)
	h.slash(alice, ch, "/incident", "status restored failed over")
	h.slash(alice, ch, "/postmortem", "start")
	h.clock.Advance(14 * time.Hour) // the postmortem is written the next afternoon
	entryAt := func(text string) time.Time {
		t.Helper()
		for _, e := range h.pm().Timeline {
			if e.Text == text {
				return e.At
			}
		}
		t.Fatalf("no entry %q in %+v", text, h.pm().Timeline)
		return time.Time{}
	}

	h.slash(bob, ch, "/postmortem", "entry 2026-11-24 09:30 failover finished")
	if got, want := entryAt("failover finished"), time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("bob's 09:30 stored as %s, want %s", got, want)
	}
	if got := h.lastEphemeral(bob); got != ":spiral_calendar_pad: Entry of the INC-1 postmortem at 2026-11-24 09:30 EST (America/New_York, your Slack time zone), 2026-11-24 14:30 UTC." {
		t.Errorf("bob was told %q", got)
	}
	// A time alone is on the day the incident opened in his zone: it
	// opened at 03:04 UTC on the 24th, 22:04 on the 23rd in New York.
	h.slash(bob, ch, "/postmortem", "entry 21:50 pager went off")
	if got, want := entryAt("pager went off"), time.Date(2026, 11, 24, 2, 50, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("bob's 21:50 stored as %s, want %s", got, want)
	}
	// alice is in Europe/London, on GMT in November.
	h.slash(alice, ch, "/postmortem", "entry 2026-11-24 09:30 status page updated")
	if got, want := entryAt("status page updated"), time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("alice's 09:30 stored as %s, want %s", got, want)
	}
	if got := h.lastEphemeral(alice); got != ":spiral_calendar_pad: Entry of the INC-1 postmortem at 2026-11-24 09:30 GMT (Europe/London, your Slack time zone)." {
		t.Errorf("alice was told %q", got)
	}

	// The form says which zone it reads, shows a corrected entry's time in
	// it, and reads what is typed in it.
	h.slash(bob, ch, "/postmortem", "entry")
	v := h.openView(bob, "pm_entry")
	if got := plainJSON(t, v.Raw); !strings.Contains(got, "Times are America/New_York, your Slack time zone") {
		t.Errorf("entry form = %s", got)
	}
	h.submit(bob, v.ID, map[string]map[string]string{"pm_time": {"pm_time": "2026-11-24 10:05"}, "pm_text": {"pm_text": "root cause found"}})
	if got, want := entryAt("root cause found"), time.Date(2026, 11, 24, 15, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("bob's 10:05 by form stored as %s, want %s", got, want)
	}
	if got := h.lastEphemeral(bob); !strings.Contains(got, "2026-11-24 10:05 EST (America/New_York, your Slack time zone), 2026-11-24 15:05 UTC") {
		t.Errorf("bob was told %q after the form", got)
	}
	var id int
	for _, e := range h.pm().Timeline {
		if e.Text == "failover finished" {
			id = e.ID
		}
	}
	if _, err := h.sim.Click(h.ctx, bob, ch, h.pm().MessageTS, "pm_edit_entry", fmt.Sprintf("%d:%d", h.pm().IncidentID, id)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	views := h.sim.OpenViews(bob)
	if got := plainJSON(t, views[len(views)-1].Raw); !strings.Contains(got, `"initial_value":"2026-11-24 09:30"`) {
		t.Errorf("correct form shows %s, want bob's 09:30", got)
	}
}

// TestPeopleAndClockCommandsTypedElsewhere: role, tdo, timebox, extend and
// restore typed outside the room act on the incident and tell the caller
// where, as status and the others do; typed in the room, they say nothing
// more than the room's own line.
func TestPeopleAndClockCommandsTypedElsewhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("checkout down sev2 systems:web")
	room := h.room(1)
	doneIn := fmt.Sprintf(":white_check_mark: Done in <#%s|%s>: ", ch, room.ChannelName)
	for _, tc := range []struct{ text, want string }{
		{"role INC-1 comms <@U0BOB|bob>", "<@U0BOB> is comms for INC-1."},
		{"timebox INC-1 30m it is the cache", "the diagnosis clock restarted for INC-1."},
		{"extend INC-1 10m waiting for the heap dump", "the diagnosis time is extended for INC-1."},
		{"restore INC-1", "restoring has begun for INC-1."},
		{"tdo INC-1 <@U0BOB|bob> knows the cache", "<@U0BOB> leads it for INC-1."},
	} {
		before := len(h.sim.Ephemerals(alice))
		h.slash(alice, h.general, "/incident", tc.text)
		if got := h.lastEphemeral(alice); len(h.sim.Ephemerals(alice)) == before || got != doneIn+tc.want {
			t.Errorf("%q from #general answered %q, want %q", tc.text, got, doneIn+tc.want)
		}
	}
	if inc, err := h.store.IncidentByNumber(h.ctx, 1); err != nil || inc.TDOID != bob || inc.Roles["comms"] != bob || inc.Timebox.RestoreBegan.IsZero() {
		t.Errorf("INC-1 after the commands = %+v, %v", inc, err)
	}
	before := len(h.sim.Ephemerals(alice))
	h.slash(alice, ch, "/incident", "role comms <@U0ALICE|alice>")
	for _, e := range h.sim.Ephemerals(alice)[before:] {
		if strings.Contains(e.Text, "Done in") {
			t.Errorf("a command typed in the room was answered %q", e.Text)
		}
	}
}

// TestEveryOpenIncidentCounts has 251 incidents open, the oldest with a
// room on db: /incident list counts every one, and a change to db reaches
// the oldest's room, which a cap of the newest 200 used to leave out.
func TestEveryOpenIncidentCounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db timeouts sev2 systems:db")
	for i := range 250 {
		inc := &incident.Incident{Title: fmt.Sprintf("noise %d", i), Severity: incident.Sev4, Status: incident.StatusInvestigating,
			Systems: []string{"web"}, ReporterID: alice, TDOID: alice, ReportedIn: h.general, OpenedAt: h.clock.Now()}
		if err := h.store.CreateIncident(h.ctx, inc, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.slash(alice, h.general, "/incident", "list")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "251 open incidents") {
		t.Errorf("/incident list with 251 open answered %q", got)
	}
	h.slash(bob, h.general, "/change", "db: raised pool to 80")
	h.sweep()
	h.clock.Advance(time.Minute + time.Second)
	h.sweep()
	if notices := h.roomNotices(ch); len(notices) != 1 || !strings.Contains(notices[0], "raised pool to 80") {
		t.Errorf("the oldest open incident's room was told %q, want the change", notices)
	}
}
