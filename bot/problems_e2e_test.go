package bot_test

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// viewVolatile are the keys of a stored view that change from run to run.
var viewVolatile = []string{"id", "hash", "team_id", "app_id", "bot_id", "app_installed_team_id", "root_view_id",
	"previous_view_id", "state", "external_id", "clear_on_close", "notify_on_close"}

// openView returns the one view user has open, failing unless its callback
// is callback.
func (h *harness) openView(user, callback string) slacksim.View {
	h.t.Helper()
	views := h.sim.OpenViews(user)
	if len(views) != 1 || views[0].CallbackID != callback {
		h.t.Fatalf("open views of %s = %+v, want one %s", user, views, callback)
	}
	return views[0]
}

// submit submits a view and waits for the work after the ack.
func (h *harness) submit(user, viewID string, values map[string]map[string]string) *slacksim.Delivery {
	h.t.Helper()
	d, err := h.sim.Submit(h.ctx, user, viewID, values)
	if err != nil {
		h.t.Fatal(err)
	}
	h.idle()
	return d
}

func TestProblemsCostAndPareto(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch1 := h.openIncident("checkout slow sev2 systems:web")
	ch2 := h.openIncident("login errors sev3 systems:auth")

	h.slash(alice, h.general, "/problem", "new Connection pool too small on db-2")
	if lines := h.linesWith(h.general, "Recorded *PRB-1*: Connection pool too small on db-2"); len(lines) != 1 {
		t.Fatalf("creation lines = %q", lines)
	}

	// Link by command; the room hears of it and the header lists it.
	h.slash(alice, ch1, "/incident", "link PRB-1")
	inc1, _ := h.store.IncidentByNumber(h.ctx, 1)
	if !slices.Equal(inc1.Problems, []int64{1}) {
		t.Fatalf("INC-1 problems = %v", inc1.Problems)
	}
	if lines := h.linesWith(ch1, "Linked problem PRB-1: Connection pool too small on db-2"); len(lines) != 1 {
		t.Errorf("link lines = %q", lines)
	}
	if hd := h.header(ch1); !strings.Contains(hd, "PRB-1") || !strings.Contains(hd, "not entered") {
		t.Errorf("header after link: %s", hd)
	}
	h.slash(alice, ch1, "/incident", "link PRB-1")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "PRB-1 is linked to INC-1 already") {
		t.Errorf("second link answered %q", got)
	}
	h.slash(alice, ch1, "/incident", "link PRB-9")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "There is no PRB-9") {
		t.Errorf("unknown problem answered %q", got)
	}

	// The picker: one of the two fields, and a new problem is created.
	h.sim.Join(ch1, bob) // who submits a form must be in the room
	h.sim.Join(ch2, bob)
	h.slash(bob, ch1, "/incident", "link")
	v := h.openView(bob, "incident_link")
	golden(t, "modal_link.json", indentJSON(t, withoutKeys(t, v.Raw, viewVolatile...)))
	d := h.submit(bob, v.ID, map[string]map[string]string{})
	if !strings.Contains(string(d.AckPayload), "Pick a problem above, or name a new one here") {
		t.Errorf("empty link form acked %s", d.AckPayload)
	}
	h.submit(bob, v.ID, map[string]map[string]string{"new_problem": {"new_problem": "Cert <!channel> expiry & renewal"}})
	inc1, _ = h.store.IncidentByNumber(h.ctx, 1)
	if !slices.Equal(inc1.Problems, []int64{1, 2}) {
		t.Fatalf("INC-1 problems after the form = %v", inc1.Problems)
	}
	if lines := h.linesWith(ch1, "Linked problem PRB-2: Cert &lt;!channel&gt; expiry &amp; renewal"); len(lines) != 1 {
		t.Errorf("escaped link lines = %q", lines)
	}
	h.slash(alice, ch2, "/incident", "link PRB-1")

	// Cost from the header button: checked field by field, then priced.
	header := h.sim.Messages(ch1)[0]
	if _, err := h.sim.Click(h.ctx, alice, ch1, header.TS, "incident_cost", "1"); err != nil {
		t.Fatal(err)
	}
	h.idle()
	v = h.openView(alice, "incident_cost")
	golden(t, "modal_cost.json", indentJSON(t, withoutKeys(t, v.Raw, viewVolatile...)))
	d = h.submit(alice, v.ID, map[string]map[string]string{"cost_phone": {"cost_phone": "-3"}, "cost_revenue": {"cost_revenue": "lots"}})
	for _, want := range []string{"cost_phone", "Write a whole number of 0 or more", "cost_revenue", "Write an amount of 0 or more"} {
		if !strings.Contains(string(d.AckPayload), want) {
			t.Errorf("bad cost acked %s, want %q", d.AckPayload, want)
		}
	}
	// Too large: the answer names the largest amount taken.
	d = h.submit(alice, v.ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": "99,999,999,999,999"}})
	golden(t, "cost_too_large_ack.json", indentJSON(t, d.AckPayload))
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); inc.Cost != nil {
		t.Fatalf("a refused form stored a cost: %+v", inc.Cost)
	}
	h.submit(alice, v.ID, map[string]map[string]string{"cost_phone": {"cost_phone": "10"}, "cost_churn": {"cost_churn": "high"}})
	inc1, _ = h.store.IncidentByNumber(h.ctx, 1)
	// 10 calls at USD 25, churn high ×1.5.
	if inc1.Cost == nil || inc1.Cost.Amount != 375 || inc1.Cost.Class != incident.C4 {
		t.Fatalf("INC-1 cost = %+v", inc1.Cost)
	}
	if hd := h.header(ch1); !strings.Contains(hd, "USD 375 (C4)") {
		t.Errorf("header after cost: %s", hd)
	}
	if lines := h.linesWith(ch1, "Customer cost USD 375 (C4): 10 phone, churn risk high; not entered:"); len(lines) != 1 {
		t.Errorf("cost lines = %q", lines)
	}

	// By command, with a change later: every change is on the timeline.
	h.slash(bob, ch2, "/incident", "cost")
	v = h.openView(bob, "incident_cost")
	h.submit(bob, v.ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": "12,000"}})
	h.slash(bob, ch2, "/incident", "cost")
	v = h.openView(bob, "incident_cost")
	h.submit(bob, v.ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": "12500"}})
	inc2, _ := h.store.IncidentByNumber(h.ctx, 2)
	if inc2.Cost == nil || inc2.Cost.Amount != 12500 || inc2.Cost.Class != incident.C2 {
		t.Fatalf("INC-2 cost = %+v", inc2.Cost)
	}
	if lines := h.linesWith(ch2, "(was USD 12,000, C2)"); len(lines) != 1 {
		t.Errorf("cost change lines = %q", lines)
	}

	// The ranking: PRB-1 has 375/2 + 12,500; PRB-2 375/2.
	h.slash(alice, h.general, "/problem", "list")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "2 open problems") {
		t.Errorf("list answered %q", got)
	}
	h.slash(alice, h.general, "/problem", "show PRB-1")
	if got := plainJSON(t, h.sim.Ephemerals(alice)[len(h.sim.Ephemerals(alice))-1].Blocks); !strings.Contains(got, "USD 12,687.50") ||
		!strings.Contains(got, "INC-1") || !strings.Contains(got, "shared by 2 problems") {
		t.Errorf("show answered %s", got)
	}

	h.slash(bob, h.general, "/problem", "pareto")
	var table *slacksim.Message
	for _, m := range h.sim.Messages(h.general) {
		if strings.Contains(m.Text, "1 of 2 problems (50%) drives 99% of customer cost") {
			table = &m
		}
	}
	if table == nil {
		t.Fatalf("no Pareto table in #general: %+v", h.sim.Messages(h.general))
	}
	files := h.sim.Files(h.general)
	if len(files) != 1 || files[0].Name != "pareto.png" || files[0].Mimetype != "image/png" || files[0].ThreadTS != table.TS {
		t.Fatalf("files = %+v", files)
	}
	img, err := png.Decode(bytes.NewReader(files[0].Content))
	if err != nil || img.Bounds().Dx() < 600 {
		t.Errorf("the chart is not a PNG of a useful size: %v", err)
	}
	golden(t, "pareto_table.json", indentJSON(t, table.Blocks))
	if body := plainJSON(t, table.Blocks); !strings.Contains(body, "linked to several problems: each one's cost is split evenly") {
		t.Errorf("table does not say costs are split: %s", body)
	}

	h.slash(alice, h.general, "/problem", "show PRB-2") // its title holds <!channel>: checked at the end

	// Closing; bad input is explained.
	h.slash(alice, h.general, "/problem", "close PRB-2 renewal automated")
	if p, _ := h.store.Problem(h.ctx, 2); p.Status != incident.ProblemClosed {
		t.Errorf("PRB-2 = %+v", p)
	}
	for text, want := range map[string]string{
		"show foo":       "`foo` is not a problem: write it as `PRB-3`",
		"close PRB-1":    "Say what removed the cause",
		"close PRB-2 x":  "PRB-2 was closed on",
		"pareto forever": "`forever` is not a window",
		"new":            "Name the cause",
	} {
		h.slash(alice, h.general, "/problem", text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, want) {
			t.Errorf("/problem %s answered %q, want %q", text, got, want)
		}
	}
	h.slash(alice, ch1, "/incident", "unlink PRB-2")
	inc1, _ = h.store.IncidentByNumber(h.ctx, 1)
	if !slices.Equal(inc1.Problems, []int64{1}) {
		t.Errorf("after unlink: %v", inc1.Problems)
	}
	if strings.Contains(h.allText(), "<!channel>") {
		t.Error("user text reached Slack unescaped")
	}
}

// Costs and causes are often settled after the incident is closed and its
// room archived: they are recorded, and the job does not retry forever.
func TestCostAndLinkAfterArchive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBotConfig(bot.Config{ArchiveAfter: time.Hour}))
	ch := h.openIncident("stale certs")
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	h.clock.Advance(time.Hour)
	h.sweep()
	if !h.sim.Channel(ch).IsArchived {
		t.Fatal("the room was not archived")
	}
	h.slash(alice, h.general, "/problem", "new Manual cert renewal")
	h.slash(alice, h.general, "/incident", "link INC-1 PRB-1")
	h.slash(alice, h.general, "/incident", "cost INC-1")
	h.submit(alice, h.openView(alice, "incident_cost").ID, map[string]map[string]string{"cost_hours": {"cost_hours": "3"}})
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.Cost == nil || inc.Cost.Amount != 450 || len(inc.Problems) != 1 {
		t.Fatalf("after archive: cost %+v, problems %v", inc.Cost, inc.Problems)
	}
	timeline, _ := h.store.Timeline(h.ctx, inc.ID)
	checked := 0
	for _, e := range timeline {
		if e.Kind != incident.EntryCost && e.Kind != incident.EntryLinked {
			continue
		}
		checked++
		j, err := h.store.JobByKey(h.ctx, fmt.Sprintf("%s:%d", incident.JobAnnotated, e.ID))
		if err != nil || j.State != jobs.StateDone {
			t.Errorf("the job showing %s is %+v (%v), want done", e.Kind, j, err)
		}
	}
	if checked != 2 {
		t.Errorf("timeline holds %d cost and link entries, want 2", checked)
	}
}

// A form Slack will not open is answered with why and what to do instead,
// for the forms sitrep had and the ones this change added alike.
func TestFormThatWillNotOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("db slow")
	header := h.sim.Messages(ch)[0]
	h.sim.FailNext("views.open", 1, 403)
	if _, err := h.sim.Click(h.ctx, alice, ch, header.TS, "incident_update_status", "1"); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if got := h.lastEphemeral(alice); !strings.HasPrefix(got, ":warning: sitrep could not show the form: Slack answered HTTP 403.") ||
		!strings.Contains(got, " Type the command instead.\nWrite: `/incident help`") {
		t.Errorf("header form answered %q", got)
	}
	h.sim.FailNext("views.open", 1, 403)
	h.slash(alice, ch, "/incident", "cost")
	if got := h.lastEphemeral(alice); !strings.HasPrefix(got, ":warning: sitrep could not show the form: Slack answered HTTP 403.") ||
		!strings.HasSuffix(got, "\nWrite: `/incident cost [INC-n] (opens the customer cost form)`") {
		t.Errorf("cost form answered %q", got)
	}
}
