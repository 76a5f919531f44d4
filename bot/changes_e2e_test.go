package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

func TestChangeCommandLogsAndLists(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/change", "web: raised pool size to 50 because p99 <!channel> latency https://ci.example/run/9")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Logged:") || !strings.Contains(got, "*web* <@U0ALICE>: raised pool size to 50 — because p99 &lt;!channel&gt; latency <https://ci.example/run/9|link>") {
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
		first.Reason != "p99 <!channel> latency" || !first.OccurredAt.Equal(epoch) {
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
