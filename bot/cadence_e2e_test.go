package bot_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// sev1Cadence asks SEV1 incidents for an update every 30 minutes.
var sev1Cadence = incident.Cadence{incident.Sev1: 30 * time.Minute}

func TestUpdateNudge(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCadence(sev1Cadence))
	ch := h.openIncident("checkout fails sev1 systems:web") // 03:04:05
	h.sim.Join(ch, bob)
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)

	// No update by 03:34:05: the TDO is nudged, once.
	h.clock.Advance(30*time.Minute - time.Second)
	h.sweep()
	if n := len(h.linesWith(ch, "no status update")); n != 0 {
		t.Fatalf("%d nudges before the update was due", n)
	}
	h.clock.Advance(time.Second)
	h.sweep()
	h.sweep()
	nudges := h.linesWith(ch, "no status update")
	if len(nudges) != 1 || nudges[0] != "INC-1: no status update for 30 min" {
		t.Fatalf("nudges = %q, want one", nudges)
	}
	nudge := h.lastWith(ch, "no status update")
	golden(t, "update_nudge.json", indentJSON(t, nudge.Blocks))
	if body := plainJSON(t, nudge.Blocks); !strings.Contains(body, "<@U0ALICE> *No status update on INC-1 for 30 min.* SEV1 asks for one every 30 min") {
		t.Errorf("the nudge does not address the TDO: %s", body)
	}

	// Post update opens the status form; submitting it posts the update.
	if _, err := h.sim.Click(h.ctx, alice, ch, nudge.TS, "incident_update_status", strconv.FormatInt(inc.ID, 10)); err != nil {
		t.Fatal(err)
	}
	h.idle()
	views := h.sim.OpenViews(alice)
	if len(views) != 1 || views[0].CallbackID != "incident_status" {
		t.Fatalf("Post update opened %+v, want the status form", views)
	}
	h.clock.Advance(5 * time.Minute) // 03:39:05
	if _, err := h.sim.Submit(h.ctx, alice, views[0].ID, map[string]map[string]string{
		"status": {"status": "investigating"}, "message": {"message": "failed over to the replica"}}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if body := plainJSON(t, h.lastWith(ch, "update: still Investigating").Blocks); !strings.Contains(body, "*Update: still Investigating* (posted by <@U0ALICE>)\\n>failed over to the replica") {
		t.Errorf("the update in the room: %s", body)
	}

	// The update resets the cadence: the second nudge of the old count
	// does nothing; the next comes 30 min after the update.
	h.clock.Set(epoch.Add(60 * time.Minute)) // 04:04:05
	h.sweep()
	if n := len(h.linesWith(ch, "no status update")); n != 1 {
		t.Errorf("%d nudges 25 min after the update, want still 1", n)
	}
	if j, err := h.store.JobByKey(h.ctx, "incident.update_nudge:1:0:2"); err != nil || j.State != jobs.StateDone {
		t.Errorf("the superseded nudge: %+v, %v", j, err)
	}
	h.clock.Set(epoch.Add(65 * time.Minute)) // 04:09:05
	h.sweep()
	if got := h.linesWith(ch, "no status update"); len(got) != 2 || got[1] != "INC-1: no status update for 30 min" {
		t.Errorf("nudges after the update's 30 min = %q", got)
	}
	// Another 30 min without an update: nudged again, and it says how long.
	h.clock.Set(epoch.Add(95 * time.Minute))
	h.sweep()
	if got := h.linesWith(ch, "no status update"); len(got) != 3 || got[2] != "INC-1: no status update for 1 h" {
		t.Errorf("nudges an hour after the update = %q", got)
	}

	// Restored: no more nudges.
	h.slash(alice, ch, "/incident", "status restored")
	h.clock.Advance(2 * time.Hour)
	h.sweep()
	if n := len(h.linesWith(ch, "no status update")); n != 3 {
		t.Errorf("%d nudges after restore, want 3", n)
	}

	// Each nudge is on the record, once, naming who was asked.
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	var recorded []string
	for _, e := range timeline {
		if e.Kind == incident.EntryUpdateNudge {
			recorded = append(recorded, e.Text+" → "+e.Facts.To)
		}
	}
	wantRecorded := []string{
		"No status update for 30 min (SEV1 asks for one every 30 min) → U0ALICE",
		"No status update for 30 min (SEV1 asks for one every 30 min) → U0ALICE",
		"No status update for 1 h (SEV1 asks for one every 30 min) → U0ALICE",
	}
	if !slices.Equal(recorded, wantRecorded) {
		t.Errorf("nudges on the timeline = %q, want %q", recorded, wantRecorded)
	}
	h.slash(alice, ch, "/incident", "timeline")
	if body := plainJSON(t, h.lastWith(ch, "Timeline of INC-1").Blocks); !strings.Contains(body,
		"|03:34 UTC>` *update due* No status update for 30 min (SEV1 asks for one every 30 min); <@U0ALICE> was asked for one") {
		t.Errorf("the timeline does not show the nudge: %s", body)
	}

	// The same status with no message changes nothing and says how to
	// post an update.
	h.slash(alice, ch, "/incident", "status restored")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "To post an update, say what changed: `/incident status restored <message>`") {
		t.Errorf("repeated status answered %q", got)
	}
}

func TestUpdateNudgeOnlyForCadencedSeverities(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCadence(sev1Cadence))
	ch := h.openIncident("search slow sev3")
	h.clock.Advance(2 * time.Hour)
	h.sweep()
	if n := len(h.linesWith(ch, "no status update")); n != 0 {
		t.Fatalf("%d nudges for a SEV3", n)
	}
	// Raised to SEV1, it is nudged 30 min after the raise.
	h.slash(alice, ch, "/incident", "sev 1")
	h.clock.Advance(30 * time.Minute)
	h.sweep()
	if n := len(h.linesWith(ch, "no status update")); n != 1 {
		t.Errorf("%d nudges 30 min after raising to SEV1, want 1", n)
	}
}

func TestIncidentsUpdateCarriesStatusMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("checkout fails sev2 systems:web")
	incidents := h.sim.ChannelByName("incidents").ID
	h.slash(alice, ch, "/incident", "status identified failed over to the replica <!here>")
	h.slash(alice, ch, "/incident", "sev 1 card payments fail too")
	h.slash(alice, ch, "/incident", "status identified replica holds, 2% errors")

	update := h.lastWith(incidents, "INC-1 is now Identified")
	body := plainJSON(t, update.Blocks)
	if !strings.Contains(body, "is now *Identified* · <#") || !strings.Contains(body, "\\n>failed over to the replica &lt;!here&gt;") {
		t.Errorf("#incidents status update lacks its message: %s", body)
	}
	golden(t, "incidents_status_update.json", indentJSON(t, update.Blocks))
	sev := plainJSON(t, h.lastWith(incidents, "INC-1 is now SEV1").Blocks)
	if !strings.Contains(sev, "severity is now *SEV1*") || !strings.Contains(sev, "\\n>card payments fail too") {
		t.Errorf("#incidents severity update lacks its reason: %s", sev)
	}
	same := plainJSON(t, h.lastWith(incidents, "INC-1 update: still Identified").Blocks)
	if !strings.Contains(same, "update, still *Identified*") || !strings.Contains(same, "\\n>replica holds, 2% errors") {
		t.Errorf("#incidents update lacks its message: %s", same)
	}

	// A private incident's update stays redacted there.
	pch := h.openIncident("--private badge reader breach sev1")
	h.slash(alice, pch, "/incident", "status identified the badge vendor's key leaked")
	h.slash(alice, pch, "/incident", "status identified rotated the key")
	h.slash(alice, pch, "/incident", "sev 2 only one door affected")
	all := ""
	for _, m := range h.sim.Messages(incidents) {
		all += m.Text + plainJSON(t, m.Blocks)
	}
	for _, secret := range []string{"vendor", "rotated the key", "only one door", "badge"} {
		if strings.Contains(all, secret) {
			t.Errorf("#incidents shows %q of a private incident:\n%s", secret, all)
		}
	}
	if !strings.Contains(all, "a private SEV1 incident posted an update, still *Identified*") {
		t.Errorf("#incidents lacks the private incident's redacted update:\n%s", all)
	}
}
