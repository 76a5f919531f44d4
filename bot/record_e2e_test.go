package bot_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// userIDPattern finds a raw Slack user ID ("U0BOB") in text meant for
// people: documents name people, never show their IDs.
var userIDPattern = regexp.MustCompile(`\bU0[A-Z0-9]+\b`)

// sectionLines returns the lines of a message's section blocks (text and
// fields), in order.
func sectionLines(t testing.TB, raw json.RawMessage) []string {
	t.Helper()
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range blocks {
		if b.Type != "section" {
			continue
		}
		if b.Text != nil {
			out = append(out, strings.Split(b.Text.Text, "\n")...)
		}
		for _, f := range b.Fields {
			out = append(out, strings.Split(f.Text, "\n")...)
		}
	}
	return out
}

// timelineLines asks for the timeline in the room and returns its entry
// lines.
func (h *harness) timelineLines(ch string) []string {
	h.t.Helper()
	before := len(h.sim.Messages(ch))
	h.slash(alice, ch, "/incident", "timeline")
	var out []string
	for _, m := range h.sim.Messages(ch)[before:] {
		for _, l := range sectionLines(h.t, m.Blocks) {
			if strings.HasPrefix(l, "`<!date^") {
				out = append(out, l)
			}
		}
	}
	if len(out) == 0 {
		h.t.Fatal("the timeline shows no entries")
	}
	return out
}

// exportRows exports the postmortem in ch and returns the document and the
// rows of its timeline table.
func (h *harness) exportRows(ch string) (string, []string) {
	h.t.Helper()
	h.slash(alice, ch, "/postmortem", "export")
	files := h.sim.Files(ch)
	if len(files) == 0 {
		h.t.Fatal("no export uploaded")
	}
	doc := string(files[len(files)-1].Content)
	_, table, _ := strings.Cut(doc, "## Timeline")
	table, _, _ = strings.Cut(table, "## Issues")
	var rows []string
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "| 2026") {
			rows = append(rows, l)
		}
	}
	return doc, rows
}

// TestTimelineIsAppendOnly opens an incident as SEV3 and changes every
// field: each entry, once written, reads the same in the timeline, the
// briefs and the export however the incident changes later; the opening
// says SEV3 after the raise to SEV1; people are named with both sides of a
// hand-over or role; a take of command reads "took command from"; the
// export names people as they were, never by ID.
func TestTimelineIsAppendOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	carol := "U0CAROL"
	h.sim.AddUser(slacksim.User{ID: carol, Name: "carol", RealName: "Carol Chen"})
	ch := h.openIncident("orders stuck sev3 systems:orders")
	h.sim.Join(ch, bob)
	h.sim.Join(ch, carol)
	h.slash(alice, h.general, "/problem", "new Queue consumer deadlocks")

	var seen []string // timeline lines so far
	check := func(step string) {
		t.Helper()
		lines := h.timelineLines(ch)
		if len(lines) < len(seen) {
			t.Fatalf("after %s the timeline has %d entries, had %d", step, len(lines), len(seen))
		}
		for i := range seen {
			if lines[i] != seen[i] {
				t.Errorf("after %s entry %d was rewritten:\n was %s\n now %s", step, i, seen[i], lines[i])
			}
		}
		seen = lines
	}
	step := func(user, text string) {
		t.Helper()
		h.clock.Advance(time.Minute)
		h.slash(user, ch, "/incident", text)
		check(text)
	}
	check("open")
	step(alice, "sev 1")
	step(alice, "status identified consumer 3 holds the lock")
	step(alice, "role comms <@U0BOB>")
	step(alice, "role comms <@U0CAROL>")
	step(alice, "tdo <@U0BOB> knows the queue")
	// Alice takes command back from the header's button.
	h.clock.Advance(time.Minute)
	if _, err := h.sim.Click(h.ctx, alice, ch, h.sim.Messages(ch)[0].TS, "incident_take_command", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	check("take command")
	step(alice, "sev 2 only EU orders")
	step(bob, "note restarted consumer 3")
	step(alice, "link PRB-1")
	h.clock.Advance(time.Minute)
	if _, err := h.sim.Click(h.ctx, alice, ch, h.sim.Messages(ch)[0].TS, "incident_cost", "1"); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.submit(alice, h.openView(alice, "incident_cost").ID, map[string]map[string]string{"cost_phone": {"cost_phone": "4"}})
	check("cost")
	step(alice, "status restored queue drained")

	timeline := strings.Join(seen, "\n")
	for _, want := range []string{
		"*opened* <@U0ALICE> Opened as SEV3: orders stuck",
		"*severity* <@U0ALICE> Severity SEV3 → SEV1",
		"*role* <@U0ALICE> made <@U0BOB> comms",
		"*role* <@U0ALICE> made <@U0CAROL> comms (was <@U0BOB>)",
		"*tdo* <@U0ALICE> handed over to <@U0BOB>: knows the queue",
		"*tdo* <@U0ALICE> took command from <@U0BOB>",
		"*severity* <@U0ALICE> Severity SEV1 → SEV2: only EU orders",
	} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	if strings.Contains(timeline, "Opened as SEV1") || strings.Contains(timeline, "Opened as SEV2") {
		t.Errorf("the opening was rebuilt from a later severity:\n%s", timeline)
	}
	// Every brief's entries are the timeline's, word for word.
	briefs := h.sim.Messages(h.sim.DirectChannel(bob))
	briefs = append(briefs, h.sim.Messages(h.sim.DirectChannel(alice))...)
	if len(briefs) < 2 {
		t.Fatalf("%d briefs, want bob's and alice's", len(briefs))
	}
	for _, m := range briefs {
		for _, l := range sectionLines(t, m.Blocks) {
			if strings.HasPrefix(l, "`<!date^") && !strings.Contains(timeline, l) {
				t.Errorf("a brief shows %q, which the timeline does not", l)
			}
		}
	}

	// The postmortem's export names people as they were when the entries
	// were written: bob renamed later stays Bob Dobbs in them.
	h.slash(alice, ch, "/postmortem", "start")
	h.slash(alice, ch, "/postmortem", "entry 03:10 <@U0CAROL> paged the queue owners")
	h.slash(alice, ch, "/postmortem", "facilitator <@U0ALICE>")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "<@U0ALICE> facilitates the postmortem of INC-1 already.") || strings.Contains(got, "&lt;") {
		t.Errorf("facilitator again answered %q", got)
	}
	doc, rows := h.exportRows(ch)
	h.sim.AddUser(slacksim.User{ID: bob, Name: "bob", RealName: "Robert Dobbs", TZ: "America/New_York"})
	h.clock.Advance(2 * time.Hour) // past the bot's user cache
	step(alice, "status resolved")
	step(alice, "role scribe <@U0BOB>")
	doc2, rows2 := h.exportRows(ch)
	if len(rows2) < len(rows) {
		t.Fatalf("the second export has %d timeline rows, the first %d", len(rows2), len(rows))
	}
	for i := range rows {
		if rows[i] != rows2[i] {
			t.Errorf("export row %d changed:\n was %s\n now %s", i, rows[i], rows2[i])
		}
	}
	for _, want := range []string{
		"Opened as SEV3: orders stuck | @Alice Liddell |",
		"made @Bob Dobbs comms | @Alice Liddell |",
		"made @Carol Chen comms (was @Bob Dobbs) | @Alice Liddell |",
		"handed leadership over to @Bob Dobbs: knows the queue",
		"took command from @Bob Dobbs | @Alice Liddell |",
		"Facilitated by @Alice Liddell",
		"| 2026-11-24 03:10 | @Carol Chen paged the queue owners | @Alice Liddell |",
		"| Technical duty officers | @Alice Liddell → @Bob Dobbs → @Alice Liddell |",
	} {
		if !strings.Contains(doc2, want) {
			t.Errorf("export lacks %q:\n%s", want, doc2)
		}
	}
	for _, d := range []string{doc, doc2} {
		if id := userIDPattern.FindString(d); id != "" {
			t.Errorf("export shows the user ID %s:\n%s", id, d)
		}
	}
	// The live timeline keeps the entries as written, too.
	check("rename")
}

// TestRotationLeadGetsTheBrief: a rotation names bob for db; alice opens a
// db incident. Bob, who leads, gets the brief by direct message; alice is
// told bob leads, not that she does, and gets no brief.
func TestRotationLeadGetsTheBrief(t *testing.T) {
	t.Parallel()
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	db := incident.Rotation{Name: "db", Members: []string{bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Systems: []string{"db"}}
	h := newHarness(t, withRotations(db))
	h.slash(alice, h.general, "/incident", "open replica lag sev2 systems:db")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.TDOID != bob {
		t.Fatalf("TDO = %s, want the on-call bob", inc.TDOID)
	}
	ch := h.room(1).ChannelID
	got := h.lastEphemeral(alice)
	if want := fmt.Sprintf("INC-1 is open: <#%s>. <@U0BOB> leads it, from the db rotation, and has the brief.", ch); !strings.Contains(got, want) {
		t.Errorf("alice was told %q, want %q", got, want)
	}
	if strings.Contains(got, "You are its technical duty officer") {
		t.Errorf("alice was told she leads: %q", got)
	}
	dm := h.sim.DirectChannel(bob)
	if dm == "" || len(h.sim.Messages(dm)) != 1 {
		t.Fatalf("bob got no brief at open")
	}
	golden(t, "brief_at_open.json", indentJSON(t, h.sim.Messages(dm)[0].Blocks))
	if brief := plainJSON(t, h.sim.Messages(dm)[0].Blocks); !strings.Contains(brief, "on call for the *db* rotation; reported by <@U0ALICE>") {
		t.Errorf("the brief does not say why bob leads: %s", brief)
	}
	if dm := h.sim.DirectChannel(alice); dm != "" && len(h.sim.Messages(dm)) != 0 {
		t.Errorf("alice, who does not lead, got %d direct messages", len(h.sim.Messages(dm)))
	}
	// A restart and sweep re-run nothing: the brief is not sent twice.
	h.restart()
	h.sweep()
	if n := len(h.sim.Messages(dm)); n != 1 {
		t.Errorf("bob has %d briefs after a restart, want 1", n)
	}
	h.checkNothingDoubled()

	// Reported by the on-call: they lead, and are told so; no brief.
	h.slash(bob, h.general, "/incident", "open replica lag again sev2 systems:db")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "You are its technical duty officer") {
		t.Errorf("bob, reporting, was told %q", got)
	}
	if n := len(h.sim.Messages(dm)); n != 1 {
		t.Errorf("bob was briefed on the incident he reported himself: %d messages", n)
	}
}

// TestTakeCommandBrief: bob takes command from alice with the header's
// button; the room and the brief say "took command from", and the brief
// carries the diagnosis deadline, the suspect changes and the last status
// message.
func TestTakeCommandBrief(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, []incident.Change{{
		OccurredAt: epoch.Add(-20 * time.Minute), Systems: []string{"db"}, Person: bob, Summary: "raised max_connections to 500",
		Reason: "planned", Kind: incident.KindDeploy, Source: incident.SourceAPI,
	}}); err != nil {
		t.Fatal(err)
	}
	ch := h.openIncident("db is down sev1 systems:db")
	h.sim.Join(ch, bob)
	// Mark the change suspect from the "what changed?" list.
	listTS := h.room(1).ChangesTS // the header carries it
	changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Systems: []string{"db"}, Limit: 1})
	if listTS == "" || len(changes) != 1 {
		t.Fatalf("no what-changed list (%q) or change (%d)", listTS, len(changes))
	}
	if _, err := h.sim.Click(h.ctx, alice, ch, listTS, "change_suspect", fmt.Sprintf("%d:%d", h.room(1).IncidentID, changes[0].ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.clock.Advance(2 * time.Minute)
	h.slash(alice, ch, "/incident", "status identified pool exhausted on db-2")

	h.clock.Advance(time.Minute) // 03:07:05, the deadline is 03:14:05
	if _, err := h.sim.Click(h.ctx, bob, ch, h.sim.Messages(ch)[0].TS, "incident_take_command", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	msgs := h.sim.Messages(ch)
	if last := plainJSON(t, msgs[len(msgs)-1].Blocks); !strings.Contains(last, ":crown: <@U0BOB> now leads INC-1 as technical duty officer (took command from <@U0ALICE>)") {
		t.Errorf("the room heard %s", last)
	}
	dm := h.sim.DirectChannel(bob)
	if dm == "" || len(h.sim.Messages(dm)) != 1 {
		t.Fatal("bob got no brief")
	}
	blocks := h.sim.Messages(dm)[0].Blocks
	golden(t, "brief_take_command.json", indentJSON(t, blocks))
	brief := plainJSON(t, blocks)
	for _, want := range []string{
		`*Why you*\ntook command from <@U0ALICE>`,
		`*Diagnosis deadline*\n<!date^`, `|03:14 UTC> (in 7 min)`,
		`*Suspect changes*\n• db: raised max_connections to 500`,
		`*Last status message*\nStatus investigating → identified by <@U0ALICE>`, `>pool exhausted on db-2`,
		"*tdo* <@U0BOB> took command from <@U0ALICE>",
	} {
		if !strings.Contains(brief, want) {
			t.Errorf("brief lacks %q: %s", want, brief)
		}
	}
	if strings.Contains(brief, "handed over to <@U0BOB>") {
		t.Errorf("the brief says bob handed over to himself: %s", brief)
	}
}
