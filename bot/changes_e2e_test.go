package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

func TestChangeCommandLogsAndLists(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/change", "web: raised pool size to 50 because p99 @channel <latency> & more https://ci.example/run/9")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Logged:") || !strings.Contains(got, "*web* <@U0ALICE>: raised pool size to 50 — because p99 @channel &lt;latency&gt; &amp; more <https://ci.example/run/9|link>") {
		t.Errorf("log answered %q", got)
	}
	h.clock.Advance(time.Hour)
	h.slash(bob, h.general, "/change", "db,cache: flushed the cache")
	h.clock.Advance(2 * 24 * time.Hour)
	h.slash(bob, h.general, "/change", "api: deployed v2")

	changes, err := h.store.Changes(h.ctx, incident.ChangeQuery{Limit: 10})
	if err != nil || len(changes) != 3 {
		t.Fatalf("store holds %+v, %v", changes, err)
	}
	first := changes[2]
	if first.Person != alice || first.Source != incident.SourceSlack || first.Link != "https://ci.example/run/9" ||
		first.Reason != "p99 @channel <latency> & more" || !first.OccurredAt.Equal(epoch) {
		t.Errorf("first change stored as %+v", first)
	}

	h.slash(alice, h.general, "/change", "list")
	eph := h.sim.Ephemerals(alice)
	last := plainJSON(t, eph[len(eph)-1].Blocks)
	if !strings.Contains(last, "deployed v2") || strings.Contains(last, "flushed the cache") {
		t.Errorf("list of the last 24h = %s", last)
	}
	h.slash(alice, h.general, "/change", "list db 7d")
	eph = h.sim.Ephemerals(alice)
	if last := plainJSON(t, eph[len(eph)-1].Blocks); !strings.Contains(last, "*db, cache* <@U0BOB>: flushed the cache") || strings.Contains(last, "deployed v2") {
		t.Errorf("list db 7d = %s", last)
	}
	h.slash(alice, h.general, "/change", "list billing")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "No changes to billing in the last 24 h") {
		t.Errorf("empty list answered %q", got)
	}
	h.slash(alice, h.general, "/change", "raised the pool")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Start with the system and a colon") || !strings.Contains(got, "Write: `/change <system>:") {
		t.Errorf("bad change answered %q", got)
	}
}

func TestChangeForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/change", "")
	views := h.sim.OpenViews(alice)
	if len(views) != 1 || views[0].CallbackID != "change_log" {
		t.Fatalf("views = %+v", views)
	}
	d, err := h.sim.Submit(h.ctx, alice, views[0].ID, map[string]map[string]string{
		"systems": {"systems": "we b"}, "summary": {"summary": "x"}, "link": {"link": "ftp://nope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.idle()
	for _, field := range []string{`"systems"`, `"link"`} {
		if !strings.Contains(string(d.AckPayload), field) {
			t.Errorf("form errors %s do not mark %s", d.AckPayload, field)
		}
	}
	if strings.Contains(string(d.AckPayload), `"summary"`) {
		t.Errorf("form errors %s mark a good summary", d.AckPayload)
	}
	if _, err := h.sim.Submit(h.ctx, alice, views[0].ID, map[string]map[string]string{
		"systems": {"systems": "db"}, "summary": {"summary": "vacuumed orders"}, "kind": {"kind": "data"},
		"link": {"link": "https://runbook/x"},
	}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Limit: 10})
	if len(changes) != 1 || changes[0].Kind != incident.KindData || changes[0].Summary != "vacuumed orders" || changes[0].Link != "https://runbook/x" {
		t.Errorf("form stored %+v", changes)
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Logged:") {
		t.Errorf("form answered %q", got)
	}
}

// TestWhatChangedWhenAnIncidentOpens logs 6 changes on 3 systems, opens an
// incident on two of them, and checks the exact list posted in the room.
func TestWhatChangedWhenAnIncidentOpens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	log := []struct {
		ago     time.Duration
		system  string
		summary string
	}{
		{26 * time.Hour, "db", "too old to show"},
		{5 * time.Hour, "db", "raised max_connections to 500"},
		{3 * time.Hour, "cache", "new eviction policy"},
		{2 * time.Hour, "web", "deployed v2.14.0"},
		{40 * time.Minute, "db", "added index on orders(created_at)"},
		{12 * time.Minute, "web", "feature flag checkout-v2 on"},
	}
	opened := epoch
	for _, c := range log {
		if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, []incident.Change{{
			OccurredAt: opened.Add(-c.ago), Systems: []string{c.system}, Person: bob, Summary: c.summary,
			Reason: "planned", Kind: incident.KindDeploy, Source: incident.SourceAPI,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	h.slash(alice, h.general, "/incident", "open checkout errors sev1 systems:web,db")
	ch := h.room(1).ChannelID
	msgs := h.sim.Messages(ch)
	golden(t, "what_changed.json", indentJSON(t, msgs[0].Blocks))
	got := plainJSON(t, msgs[0].Blocks)
	order := []string{"feature flag checkout-v2 on", "added index on orders", "deployed v2.14.0", "raised max_connections"}
	last := -1
	for _, s := range order {
		i := strings.Index(got, s)
		if i < 0 || i < last {
			t.Errorf("%q missing or out of order in %s", s, got)
		}
		last = i
	}
	for _, s := range []string{"new eviction policy", "too old to show"} {
		if strings.Contains(got, s) {
			t.Errorf("%q listed: only the 4 latest web/db changes within 24h belong", s)
		}
	}
	if !strings.Contains(got, "*web* · 12 min before it opened") {
		t.Errorf("relative time missing: %s", got)
	}

	// The suspect flow: a verdict is recorded, the header lists suspects,
	// and the list re-renders from the store.
	h.sim.Join(ch, bob)
	listTS := msgs[0].TS
	flag, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Systems: []string{"web"}, Limit: 1})
	value := fmt.Sprintf("%d:%d", h.room(1).IncidentID, flag[0].ID)
	verdict := func(user, action string) {
		t.Helper()
		if _, err := h.sim.Click(h.ctx, user, ch, listTS, action, value); err != nil {
			t.Fatal(err)
		}
		h.idle()
	}
	verdict(bob, "change_suspect")
	if hdr := h.header(ch); !strings.Contains(hdr, `*Suspect changes*\n• *web* feature flag checkout-v2 on (<@U0BOB>)`) {
		t.Errorf("header does not list the suspect: %s", hdr)
	}
	list := h.sim.Message(ch, listTS)
	if !list.Edited || !strings.Contains(plainJSON(t, list.Blocks), `feature flag checkout-v2 on\n_because_ planned\n:warning: *Suspect* (<@U0BOB>)`) {
		t.Errorf("list not re-rendered with the verdict: %s", plainJSON(t, list.Blocks))
	}
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	if e := timeline[len(timeline)-1]; e.Kind != incident.EntrySuspect || e.Actor != bob || e.Text != "Suspect change: web: feature flag checkout-v2 on" {
		t.Errorf("timeline entry = %+v", e)
	}
	verdict(bob, "change_suspect")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "is marked suspect already") {
		t.Errorf("second suspect click answered %q", got)
	}
	verdict(alice, "change_unrelated")
	if hdr := h.header(ch); strings.Contains(hdr, "Suspect changes") {
		t.Errorf("header still lists a change judged not related: %s", hdr)
	}
	if got := plainJSON(t, h.sim.Message(ch, listTS).Blocks); !strings.Contains(got, ":heavy_minus_sign: Not related (<@U0ALICE>)") {
		t.Errorf("list after Not related: %s", got)
	}

	// An incident on a quiet system gets the latest changes elsewhere, marked.
	h.slash(alice, h.general, "/incident", "open search slow systems:search")
	other := plainJSON(t, h.sim.Messages(h.room(2).ChannelID)[0].Blocks)
	if !strings.Contains(other, "No changes to search in the 24 h before INC-2 opened; the latest changes elsewhere:") ||
		!strings.Contains(other, "_other system_") || strings.Count(other, "_other system_") != 4 {
		t.Errorf("quiet system got %s", other)
	}
}

func TestChangesDuringAnIncidentReachItsRoom(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db timeouts sev2 systems:db")
	closedCh := h.openIncident("old db thing systems:db")
	h.slash(alice, closedCh, "/incident", "status resolved")
	before := len(h.sim.Messages(ch))
	h.clock.Advance(10 * time.Minute)
	h.slash(bob, h.general, "/change", "db: killed long-running vacuum because it held locks")
	h.slash(bob, h.general, "/change", "web: unrelated deploy")
	h.sweep()
	h.clock.Advance(incident.RoomChangesWindow) // a change logged on its own waits a minute for others
	h.sweep()
	msgs := h.sim.Messages(ch)[before:]
	if len(msgs) != 1 {
		t.Fatalf("room got %d new messages, want the one db change", len(msgs))
	}
	got := plainJSON(t, msgs[0].Blocks)
	if !strings.Contains(got, ":new: *New change on db while INC-1 is open*") || !strings.Contains(got, "killed long-running vacuum") ||
		!strings.Contains(got, "10 min after it opened") {
		t.Errorf("room heard %s", got)
	}
	for _, m := range h.sim.Messages(closedCh) {
		if strings.Contains(plainJSON(t, m.Blocks), "New change on db") {
			t.Error("a resolved incident's room was told of the change")
		}
	}
	if n, _ := h.runner.Sweep(h.ctx); n != 0 {
		t.Errorf("the job ran again (%d)", n)
	}
}

func TestIncidentChangesForAnotherWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i, ago := range []time.Duration{30 * time.Hour, 2 * time.Hour} {
		if _, err := incident.NewChangeLog(h.store, h.clock).Log(h.ctx, []incident.Change{{
			OccurredAt: epoch.Add(-ago), Systems: []string{"db"}, Person: "ops-bot", Summary: fmt.Sprintf("db change %d", i),
			Source: incident.SourceCLI,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	ch := h.openIncident("db slow systems:db")
	first := plainJSON(t, h.sim.Messages(ch)[0].Blocks) // the header carries what changed
	if strings.Contains(first, "db change 0") || !strings.Contains(first, "db change 1") {
		t.Errorf("24h list = %s", first)
	}
	h.slash(alice, ch, "/incident", "changes 48h")
	msgs := h.sim.Messages(ch)
	got := plainJSON(t, msgs[len(msgs)-1].Blocks)
	if !strings.Contains(got, "in the 2 days before INC-1 opened") || !strings.Contains(got, "db change 0") || !strings.Contains(got, "db change 1") {
		t.Errorf("48h list = %s", got)
	}
	// A change first shown in the wider list can be judged too.
	older, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Systems: []string{"db"}, Limit: 10})
	value := fmt.Sprintf("%d:%d", h.room(1).IncidentID, older[1].ID)
	if _, err := h.sim.Click(h.ctx, alice, ch, msgs[len(msgs)-1].TS, "change_suspect", value); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if hdr := h.header(ch); !strings.Contains(hdr, "db change 0") {
		t.Errorf("header does not list the suspect from the wider list: %s", hdr)
	}
	h.slash(bob, h.general, "/incident", "changes INC-1 7d")
	if got := h.lastEphemeral(bob); !strings.Contains(got, "What changed before INC-1?") {
		t.Errorf("asked from #general: %q", got)
	}
}
