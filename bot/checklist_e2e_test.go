package bot_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// bigTemplate has n steps, every third one optional.
func bigTemplate(n int) checklist.Template {
	t := checklist.Template{Name: fmt.Sprintf("big-%d", n), Title: fmt.Sprintf("Big release of %d steps", n), System: "web"}
	for i := range n {
		t.Steps = append(t.Steps, checklist.Step{Text: fmt.Sprintf("Step number %d of the big release <b>", i+1), Critical: i%3 != 2})
	}
	return t
}

// checklistMessage returns run id's message.
func (h *harness) checklistMessage(id int64) *slacksim.Message {
	h.t.Helper()
	run, err := h.store.Run(h.ctx, id)
	if err != nil || run.MessageTS == "" {
		h.t.Fatalf("CL-%d has no message: %+v, %v", id, run, err)
	}
	return h.sim.Message(run.ChannelID, run.MessageTS)
}

// tickBoxes clicks step (0-based) of run id as user on the message as it
// is now: the group's boxes become what they show, with step flipped.
func (h *harness) tickBoxes(user string, id int64, step int) {
	h.t.Helper()
	msg := h.checklistMessage(id)
	h.clickBoxes(user, id, msg.Blocks, step)
	h.idle()
}

// clickBoxes flips step on the boxes as seen in blocks (possibly stale).
func (h *harness) clickBoxes(user string, id int64, seen json.RawMessage, step int) {
	h.t.Helper()
	action, selected := h.flipBox(seen, step)
	run, _ := h.store.Run(h.ctx, id)
	if _, err := h.sim.ClickStale(h.ctx, user, run.ChannelID, run.MessageTS, seen, action, selected); err != nil {
		h.t.Fatal(err)
	}
}

// flipBox returns the action ID of step's group of boxes as seen in blocks,
// and the boxes of that group ticked once step is flipped.
func (h *harness) flipBox(seen json.RawMessage, step int) (action, selected string) {
	h.t.Helper()
	group := step / 10
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Initial  []struct {
				Value string `json:"value"`
			} `json:"initial_options"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(seen, &blocks); err != nil {
		h.t.Fatal(err)
	}
	action = fmt.Sprintf("checklist_steps_%d", group)
	var ticked []string
	flipped := false
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID != action {
				continue
			}
			for _, o := range e.Initial {
				if o.Value == strconv.Itoa(step) {
					flipped = true
					continue
				}
				ticked = append(ticked, o.Value)
			}
		}
	}
	if !flipped {
		ticked = append(ticked, strconv.Itoa(step))
	}
	return action, strings.Join(ticked, ",")
}

func TestChecklistRunToCompletion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/checklist", "list")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Checklists") {
		t.Errorf("list answered %q", got)
	}
	if body := plainJSON(t, h.sim.Ephemerals(alice)[0].Blocks); !strings.Contains(body, "`web-release` Web release · 10 steps, 7 critical · releases *web*") {
		t.Errorf("list = %s", body)
	}
	h.slash(alice, h.general, "/checklist", "start web-release v2.14.0 <!channel>")
	msg := h.checklistMessage(1)
	golden(t, "checklist_start.json", indentJSON(t, msg.Blocks))
	if !strings.Contains(msg.Text, "CL-1 Web release · v2.14.0 &lt;!channel&gt;: 0 of 10 · 7 critical left") {
		t.Errorf("message text = %q", msg.Text)
	}

	// Bob ticks the first four; alice unticks one and skips step 1.
	for step := range 4 {
		h.clock.Advance(time.Minute)
		h.tickBoxes(bob, 1, step)
	}
	h.tickBoxes(alice, 1, 3)
	msg = h.checklistMessage(1)
	if !strings.Contains(msg.Text, "3 of 10 · 5 critical left") {
		t.Errorf("after 4 ticks and an untick: %q", msg.Text)
	}
	if _, err := h.sim.Click(h.ctx, alice, h.general, msg.TS, "checklist_skip", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	views := h.sim.OpenViews(alice)
	if len(views) != 1 || views[0].CallbackID != "checklist_skip" {
		t.Fatalf("views = %+v", views)
	}
	d, err := h.sim.Submit(h.ctx, alice, views[0].ID, map[string]map[string]string{"step": {"step": "8"}, "reason": {"reason": ""}})
	if err == nil && !strings.Contains(string(d.AckPayload), "Say why the step is not needed") {
		t.Errorf("skip without a reason acked %s", d.AckPayload)
	}
	if _, err := h.sim.Submit(h.ctx, alice, views[0].ID, map[string]map[string]string{"step": {"step": "8"}, "reason": {"reason": "notes go out with the newsletter"}}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	golden(t, "checklist_midway.json", indentJSON(t, h.checklistMessage(1).Blocks))

	// Skipping a critical step is refused.
	run, _ := h.store.Run(h.ctx, 1)
	if _, _, err := checklist.NewService(h.store, h.clock, checklist.Examples(), 0).Mark(h.ctx, checklist.MarkRequest{RunID: run.ID, Actor: alice, Step: 1, Action: checklist.ActionSkip, Reason: "x"}); err == nil || !strings.Contains(err.Error(), "is critical") {
		t.Errorf("skip of a critical step = %v", err)
	}

	for _, step := range []int{3, 4, 5, 6, 7, 9} {
		h.clock.Advance(time.Minute)
		h.tickBoxes(alice, 1, step)
	}
	run, _ = h.store.Run(h.ctx, 1)
	if run.State != checklist.StateCompleted || !run.EndedAt.Equal(h.clock.Now()) {
		t.Fatalf("run after the last tick: %+v", run)
	}
	golden(t, "checklist_complete.json", indentJSON(t, h.checklistMessage(1).Blocks))
	var summary string
	for _, m := range h.sim.Messages(h.general) {
		if strings.Contains(m.Text, "CL-1 completed") {
			summary = plainJSON(t, m.Blocks)
			if m.ThreadTS != run.MessageTS {
				t.Errorf("summary not in the checklist's thread: %+v", m)
			}
		}
	}
	for _, want := range []string{"*CL-1 completed*: Web release · v2.14.0 &lt;!channel&gt;, in 10 min.", "<@U0BOB> ticked 1, 2, 3", "<@U0ALICE> ticked 4, 5, 6, 7, 8, 10",
		"Step 9 skipped by <@U0ALICE>: notes go out with the newsletter", "Logged as a change to *web*"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q: %s", want, summary)
		}
	}
	changes, err := h.store.Changes(h.ctx, incident.ChangeQuery{Limit: 10})
	if err != nil || len(changes) != 1 {
		t.Fatalf("change log = %+v, %v", changes, err)
	}
	if c := changes[0]; c.Source != incident.SourceChecklist || c.Person != alice || c.Summary != "v2.14.0 <!channel> (Web release)" || c.Systems[0] != "web" {
		t.Errorf("logged change = %+v", c)
	}

	// A click on the finished run is answered, not applied.
	h.clickBoxes(bob, 1, msg.Blocks, 2)
	h.idle()
	if got := h.lastEphemeral(bob); !strings.Contains(got, "CL-1 is completed: its steps take no more ticks") {
		t.Errorf("click on a finished run answered %q", got)
	}
}

func TestChecklistTwentyConcurrentTicks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTemplates(bigTemplate(40)))
	var users []string
	for i := range 20 {
		id := fmt.Sprintf("U0CLICK%02d", i)
		h.sim.AddUser(slacksim.User{ID: id, Name: fmt.Sprintf("clicker%d", i)})
		users = append(users, id)
	}
	h.slash(alice, h.general, "/checklist", "start big-40 v9")
	seen := h.checklistMessage(1).Blocks // every clicker sees the fresh message
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { h.clickBoxes(u, 1, seen, i*2) })
	}
	wg.Wait()
	h.idle()
	_, events, err := checklist.NewService(h.store, h.clock, nil, 0).Run(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	run, _ := h.store.Run(h.ctx, 1)
	states := checklist.States(run.Steps, events)
	for i, u := range users {
		if st := states[i*2]; !st.Done || st.By != u {
			t.Errorf("step %d = %+v, want ticked by %s", i*2+1, st, u)
		}
	}
	if len(events) != 20 {
		t.Errorf("%d events, want 20", len(events))
	}
	// The message shows all 20.
	body := plainJSON(t, h.checklistMessage(1).Blocks)
	// Each ticked option is in options and in initial_options.
	if n := strings.Count(body, `"description":{"text":"<@U0CLICK`); n != 40 {
		t.Errorf("message shows %d ticks, want 20 (twice)", n/2)
	}
	if !strings.Contains(h.checklistMessage(1).Text, "20 of 40") {
		t.Errorf("message text %q", h.checklistMessage(1).Text)
	}
	var blocks []json.RawMessage
	_ = json.Unmarshal(h.checklistMessage(1).Blocks, &blocks)
	if len(blocks) > 50 {
		t.Errorf("40 steps render in %d blocks", len(blocks))
	}
}

func TestChecklistAbortReminderAndMistakes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct{ text, want string }{
		{"start", "Name the checklist to start"},
		{"start deploy-moon", "There is no checklist \"deploy-moon\"; the checklists are before-bed, rollback, web-release"},
		{"abort", "No checklist is running in this channel"},
		{"status", "No checklist is running"},
		{"fly", "`fly` is not a /checklist command"},
	} {
		h.slash(alice, h.general, "/checklist", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/checklist %s answered %q, want %q", tc.text, got, tc.want)
		}
	}
	h.slash(alice, h.general, "/checklist", "start before-bed")
	h.slash(alice, h.general, "/checklist", "status")
	if body := plainJSON(t, h.sim.Ephemerals(alice)[len(h.sim.Ephemerals(alice))-1].Blocks); !strings.Contains(body, "*CL-1* Before you go to bed") || !strings.Contains(body, "0 of 7 · 5 critical left") {
		t.Errorf("status = %s", body)
	}

	// Idle for the reminder time: one reminder in the thread.
	h.clock.Advance(15*time.Minute - time.Second)
	h.sweep()
	h.clock.Advance(time.Second)
	h.sweep()
	h.sweep()
	run, _ := h.store.Run(h.ctx, 1)
	reminders := 0
	for _, m := range h.sim.Messages(h.general) {
		if strings.Contains(m.Text, "has been idle for 15 min") {
			reminders++
			if m.ThreadTS != run.MessageTS {
				t.Errorf("reminder not in the thread: %+v", m)
			}
		}
	}
	if reminders != 1 {
		t.Errorf("%d reminders, want 1", reminders)
	}
	// A restart in between loses no reminder: tick, restart, idle again.
	h.tickBoxes(bob, 1, 0)
	h.restart()
	h.clock.Advance(15 * time.Minute)
	h.sweep()
	reminders = 0
	for _, m := range h.sim.Messages(h.general) {
		if strings.Contains(m.Text, "has been idle") {
			reminders++
		}
	}
	if reminders != 2 {
		t.Errorf("%d reminders after a second idle spell across a restart, want 2", reminders)
	}

	h.slash(alice, h.general, "/checklist", "abort")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Say why the checklist is aborted") {
		t.Errorf("abort without reason answered %q", got)
	}
	h.slash(alice, h.general, "/checklist", "abort CL-1 release rolled back")
	run, _ = h.store.Run(h.ctx, 1)
	if run.State != checklist.StateAborted || run.Reason != "release rolled back" {
		t.Errorf("after abort: %+v", run)
	}
	if !strings.Contains(h.checklistMessage(1).Text, "CL-1") || !strings.Contains(plainJSON(t, h.checklistMessage(1).Blocks), "*Aborted* at") {
		t.Errorf("message after abort: %s", h.checklistMessage(1).Blocks)
	}
	h.slash(alice, h.general, "/checklist", "abort CL-1 again")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "CL-1 was aborted at") {
		t.Errorf("second abort answered %q", got)
	}
	changes, _ := h.store.Changes(h.ctx, incident.ChangeQuery{Limit: 10})
	if len(changes) != 0 {
		t.Errorf("an aborted run logged a change: %+v", changes)
	}
}

func TestStaleSkipButtonOpensNoEmptyForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTemplates(checklist.Template{Name: "tiny", Title: "Tiny", Steps: []checklist.Step{{Text: "go", Critical: true}, {Text: "tell"}}}))
	h.slash(alice, h.general, "/checklist", "start tiny")
	stale := h.checklistMessage(1)
	h.tickBoxes(bob, 1, 1) // the only skippable step is done
	if strings.Contains(plainJSON(t, h.checklistMessage(1).Blocks), "checklist_skip") {
		t.Error("the message still offers Skip with nothing left to skip")
	}
	if _, err := h.sim.ClickStale(h.ctx, alice, h.general, stale.TS, stale.Blocks, "checklist_skip", ""); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if v := h.sim.OpenViews(alice); len(v) != 0 {
		t.Errorf("a stale Skip opened %d forms", len(v))
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "No step of CL-1 is left to skip") {
		t.Errorf("stale Skip answered %q", got)
	}
}
