package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// board returns the postmortem message of INC-1 as it stands.
func (h *harness) board(ch string) slacksim.Message {
	h.t.Helper()
	for _, m := range h.sim.Messages(ch) {
		if strings.HasPrefix(m.Text, "Postmortem of INC-1") {
			return m
		}
	}
	h.t.Fatalf("no postmortem message in %s", ch)
	return slacksim.Message{}
}

// dms returns the texts of the bot's direct messages to user.
func (h *harness) dms(user string) []string {
	var out []string
	for _, m := range h.sim.Messages(h.sim.DirectChannel(user)) {
		out = append(out, plainJSON(h.t, m.Blocks))
	}
	return out
}

func (h *harness) pm() *incident.Postmortem {
	h.t.Helper()
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	pm, err := h.store.Postmortem(h.ctx, inc.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return pm
}

func TestWholePostmortem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("checkout <!channel> down sev1 systems:web")
	h.sim.Join(ch, bob)

	// Not before service is restored.
	h.slash(alice, ch, "/postmortem", "start")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is investigating: a postmortem starts once service is restored") {
		t.Errorf("start on an open incident answered %q", got)
	}
	h.clock.Advance(20 * time.Minute)
	h.slash(alice, ch, "/incident", "status restored failed over")
	h.clock.Advance(2 * time.Hour)
	h.slash(alice, ch, "/postmortem", "start")
	board := h.board(ch)
	if body := plainJSON(t, board.Blocks); !strings.Contains(body, "Phase 1 of 3: timeline") || !strings.Contains(body, "Opened as SEV1: checkout &lt;!channel&gt; down") ||
		!strings.Contains(body, "Timeline complete") {
		t.Fatalf("board after start: %s", body)
	}
	golden(t, "postmortem_phase1.json", indentJSON(t, board.Blocks))

	// Phase 1 is about the timeline only.
	h.slash(bob, ch, "/postmortem", "issue the alert was late")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Phase 1 is about the timeline only") {
		t.Errorf("issue in phase 1 answered %q", got)
	}
	// bob is in America/New_York: his 21:55 is on the day the incident
	// opened there (the 23rd), 02:55 UTC on the 24th.
	h.slash(bob, ch, "/postmortem", "entry 21:55 disk alarm on db-2 <ignored>")
	pm := h.pm()
	added := pm.Timeline[0]
	if added.Text != "disk alarm on db-2 <ignored>" || added.AddedBy != bob || !added.At.Equal(time.Date(2026, 11, 24, 2, 55, 0, 0, time.UTC)) {
		t.Fatalf("added entry: %+v", added)
	}
	h.slash(bob, ch, "/postmortem", "entry 25:00 nonsense")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Start with the time it happened") {
		t.Errorf("bad time answered %q", got)
	}

	// Correct it through the form: the old version is kept.
	if _, err := h.sim.Click(h.ctx, alice, ch, board.TS, "pm_edit_entry", fmt.Sprintf("%d:%d", pm.IncidentID, added.ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	v := h.openView(alice, "pm_entry")
	h.submit(alice, v.ID, map[string]map[string]string{"pm_time": {"pm_time": "2026-11-24 02:50"}, "pm_text": {"pm_text": "disk alarm on db-2 at 85%, ignored"}})
	e := h.pm().Entry(added.ID)
	if len(e.Edits) != 1 || e.Edits[0].Text != "disk alarm on db-2 <ignored>" || e.Edits[0].EditedBy != alice || e.Text != "disk alarm on db-2 at 85%, ignored" {
		t.Fatalf("edit history: %+v", e)
	}
	if body := plainJSON(t, h.board(ch).Blocks); !strings.Contains(body, "(corrected by <@U0ALICE>)") {
		t.Errorf("board does not show the correction: %s", body)
	}

	// Add entry: a time that does not parse is explained, nothing added.
	if _, err := h.sim.Click(h.ctx, bob, ch, board.TS, "pm_add_entry", fmt.Sprint(pm.IncidentID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.submit(bob, h.openView(bob, "pm_entry").ID, map[string]map[string]string{"pm_time": {"pm_time": "teatime"}, "pm_text": {"pm_text": "x"}})
	if got := h.lastEphemeral(bob); !strings.Contains(got, "`teatime` is not a time") || len(h.pm().Timeline) != len(pm.Timeline) {
		t.Errorf("bad entry time answered %q", got)
	}

	// Facilitation is handed over and back.
	h.slash(alice, ch, "/postmortem", "facilitator <@U0BOB>")
	if f := h.pm().Facilitator; f != bob {
		t.Fatalf("facilitator = %s", f)
	}
	h.slash(bob, ch, "/postmortem", "facilitator <@U0ALICE|alice>")
	if body := plainJSON(t, h.board(ch).Blocks); !strings.Contains(body, "Facilitator <@U0ALICE>") {
		t.Errorf("board after hand-back: %s", body)
	}

	// Only the facilitator (or the TDO, or a commander) closes a phase.
	if _, err := h.sim.Click(h.ctx, bob, ch, board.TS, "pm_next", fmt.Sprint(pm.IncidentID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if got := h.lastEphemeral(bob); !strings.Contains(got, "Only the facilitator and technical duty officer <@U0ALICE> or a commander can move the postmortem of INC-1 on.") {
		t.Errorf("next by bob answered %q", got)
	}
	if _, err := h.sim.Click(h.ctx, alice, ch, board.TS, "pm_next", fmt.Sprint(pm.IncidentID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if p := h.pm(); p.Phase != incident.PhaseIssues {
		t.Fatalf("phase after Timeline complete: %s", p.Phase)
	}

	// Phase 2: actions are refused; an issue raised on an entry.
	h.slash(alice, ch, "/postmortem", "action")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Actions come in phase 3") {
		t.Errorf("action in phase 2 answered %q", got)
	}
	if _, err := h.sim.Click(h.ctx, bob, ch, board.TS, "pm_raise_issue", fmt.Sprintf("%d:%d", pm.IncidentID, added.ID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	h.submit(bob, h.openView(bob, "pm_issue").ID, map[string]map[string]string{"pm_text": {"pm_text": "disk alarms page nobody"}})
	h.slash(alice, ch, "/postmortem", "issue failover took 15 minutes by hand")
	pm = h.pm()
	if len(pm.Issues) != 2 || pm.Issues[0].Entry != added.ID || pm.Issues[0].AddedBy != bob {
		t.Fatalf("issues: %+v", pm.Issues)
	}
	h.slash(alice, ch, "/postmortem", "next")

	// Phase 3: the form enforces one owner, a result and a future date.
	h.slash(alice, ch, "/postmortem", "action")
	v = h.openView(alice, "pm_action")
	d := h.submit(alice, v.ID, map[string]map[string]string{"pm_issue": {"pm_issue": "1"}, "pm_due": {"pm_due": "2026-11-24"}})
	for _, want := range []string{"pm_owner", "Name one owner", "pm_expected", "pm_due", "must be in the future"} {
		if !strings.Contains(string(d.AckPayload), want) {
			t.Errorf("bad action acked %s, want %q", d.AckPayload, want)
		}
	}
	h.submit(alice, v.ID, map[string]map[string]string{"pm_issue": {"pm_issue": "1"}, "pm_owner": {"pm_owner": bob},
		"pm_expected": {"pm_expected": "disk alarms page the on-call at 80%"}, "pm_due": {"pm_due": "2026-12-01"}})
	if dms := h.dms(bob); len(dms) != 1 || !strings.Contains(dms[0], "gave you an action from the postmortem of *INC-1*") || !strings.Contains(dms[0], "Mark done") {
		t.Fatalf("bob's direct messages after assignment: %q", dms)
	}
	h.slash(alice, ch, "/postmortem", "next")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Every issue needs an action before the postmortem completes; 1 has no action yet: issue 2 (failover took 15 minutes by hand)") {
		t.Errorf("completing early answered %q", got)
	}
	h.slash(alice, ch, "/postmortem", "action")
	h.submit(alice, h.openView(alice, "pm_action").ID, map[string]map[string]string{"pm_issue": {"pm_issue": "2"}, "pm_owner": {"pm_owner": alice},
		"pm_expected": {"pm_expected": "failover is one command"}, "pm_due": {"pm_due": "2026-11-27"}})
	h.slash(alice, ch, "/postmortem", "next")
	if p := h.pm(); p.Phase != incident.PhaseComplete {
		t.Fatalf("phase = %s, want complete", p.Phase)
	}
	if body := plainJSON(t, h.board(ch).Blocks); !strings.Contains(body, "*Complete* since") || !strings.Contains(body, "<@U0BOB>: disk alarms page the on-call at 80%") {
		t.Errorf("board when complete: %s", body)
	}
	h.slash(bob, ch, "/postmortem", "actions")
	if got := plainJSON(t, h.sim.Ephemerals(bob)[len(h.sim.Ephemerals(bob))-1].Blocks); !strings.Contains(got, "Your open postmortem actions (1)") || !strings.Contains(got, "due Tue 1 Dec") {
		t.Errorf("bob's actions: %s", got)
	}

	// Alice marks hers done from the notice before it is due: no reminder.
	alicesDM := h.sim.Messages(h.sim.DirectChannel(alice))
	if len(alicesDM) != 1 {
		t.Fatalf("alice's direct messages: %d", len(alicesDM))
	}
	if _, err := h.sim.Click(h.ctx, alice, h.sim.DirectChannel(alice), alicesDM[0].TS, "pm_action_done", fmt.Sprintf("%d:2", pm.IncidentID)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if a := h.pm().Action(2); !a.Done() || a.DoneBy != alice {
		t.Fatalf("alice's action: %+v", a)
	}
	if j, _ := h.store.JobByKey(h.ctx, incident.ActionJobKey(incident.JobActionReminder, pm.IncidentID, 2)); j.State != jobs.StateCancelled {
		t.Errorf("alice's reminder is %s, want cancelled", j.State)
	}

	// Bob's reminder the day before, across a restart; then overdue.
	h.restart()
	h.clock.Set(time.Date(2026, 11, 30, 0, 0, 30, 0, time.UTC))
	h.sweep()
	if dms := h.dms(bob); len(dms) != 2 || !strings.Contains(dms[1], "is due tomorrow") {
		t.Fatalf("bob's direct messages on the day before: %q", dms)
	}
	h.clock.Set(time.Date(2026, 12, 2, 0, 1, 0, 0, time.UTC))
	h.sweep()
	if dms := h.dms(bob); len(dms) != 3 || !strings.Contains(dms[2], "is overdue") {
		t.Fatalf("bob's direct messages after the due day: %q", dms)
	}
	if dms := h.dms(alice); len(dms) != 1 {
		t.Errorf("alice got %d direct messages, want only the assignment", len(dms))
	}
	h.sweep()
	if dms := h.dms(bob); len(dms) != 3 {
		t.Errorf("a notice was sent twice: %q", dms)
	}

	// Export: the document is uploaded in the channel.
	h.slash(alice, ch, "/postmortem", "export")
	files := h.sim.Files(ch)
	if len(files) != 1 || files[0].Name != "postmortem-INC-1.md" || !strings.HasPrefix(files[0].Title, "Postmortem of INC-1 (version ") {
		t.Fatalf("files = %+v", files)
	}
	doc := string(files[0].Content)
	for _, want := range []string{"# Postmortem: INC-1 checkout &lt;!channel&gt; down", "## Timeline", "disk alarm on db-2 at 85%, ignored *(corrected by @Alice Liddell",
		"1. disk alarms page nobody (at 2026-11-24 02:50", "| 1 | disk alarms page the on-call at 80% | @Bob Dobbs | 2026-12-01 | open |", "(time to restore 20 min)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("export lacks %q:\n%s", want, doc)
		}
	}
	// People are named, never shown as IDs.
	if id := userIDPattern.FindString(doc); id != "" {
		t.Errorf("export shows the user ID %s:\n%s", id, doc)
	}
	if all := h.allText(); strings.Contains(all, "<!channel>") {
		i := strings.Index(all, "<!channel>")
		t.Errorf("user text reached Slack unescaped: …%s…", all[max(0, i-200):min(len(all), i+50)])
	}
}
