package bot_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// The people of the permission tests, besides alice and bob (both in
// #general; alice opens the incident and is its TDO, bob joins its room).
const (
	// outsiderCarol is in #random only: in no incident room, not in
	// #general.
	outsiderCarol = "U0CAROL"
	// commanderDave is a commander, in #random only.
	commanderDave = "U0DAVE"
)

// newPermHarness is a harness with carol and dave, dave a commander, and a
// #random channel holding alice, carol and dave; it returns #random's ID.
func newPmClHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t, withChannel("random"), withChannel("incidents"), withSimOptions(slacksim.Options{MemberEvents: true}),
		withBotConfig(bot.Config{Permissions: access.Settings{Commanders: []string{commanderDave}}, ArchiveAfter: time.Hour}))
	h.sim.AddUser(slacksim.User{ID: outsiderCarol, Name: "carol", RealName: "Carol Danvers"})
	h.sim.AddUser(slacksim.User{ID: commanderDave, Name: "dave", RealName: "Dave Bowman"})
	random := h.sim.ChannelByName("random").ID
	h.sim.Join(random, outsiderCarol)
	h.sim.Join(random, commanderDave)
	return h, random
}

// answered reports whether user was told want privately: in an ephemeral
// message, or in a direct message (where a form's answer goes).
func (h *harness) answered(user, want string) bool {
	for _, text := range h.ephemeralTexts(user) {
		if strings.Contains(text, want) {
			return true
		}
	}
	for _, m := range h.sim.Messages(h.sim.DirectChannel(user)) {
		if strings.Contains(m.Text, want) {
			return true
		}
	}
	return false
}

// answers lists what user was told privately, for failure messages.
func (h *harness) answers(user string) []string {
	out := h.ephemeralTexts(user)
	for _, m := range h.sim.Messages(h.sim.DirectChannel(user)) {
		out = append(out, m.Text)
	}
	return out
}

// views returns the callback IDs of the forms open for user.
func (h *harness) views(user string) []string {
	var out []string
	for _, v := range h.sim.OpenViews(user) {
		out = append(out, v.CallbackID)
	}
	return out
}

// pmWorld is an incident whose service is restored, for postmortem
// permission tests: alice opened it (its TDO), bob is in its room, carol
// and dave are not.
type pmWorld struct {
	h      *harness
	room   string
	random string
}

func newPMWorld(t *testing.T) *pmWorld {
	t.Helper()
	h, random := newPmClHarness(t)
	room := h.openIncident("payments down sev2 systems:pay")
	h.sim.Join(room, bob)
	h.slash(alice, room, "/incident", "status restored failed over")
	return &pmWorld{h: h, room: room, random: random}
}

// version is the postmortem's version, -1 while there is none.
func (w *pmWorld) version() int {
	w.h.t.Helper()
	inc, err := w.h.store.IncidentByNumber(w.h.ctx, 1)
	if err != nil {
		w.h.t.Fatal(err)
	}
	pm, err := w.h.store.Postmortem(w.h.ctx, inc.ID)
	if errors.Is(err, incident.ErrNotFound) {
		return -1
	}
	if err != nil {
		w.h.t.Fatal(err)
	}
	return pm.Version
}

// click clicks a button of the postmortem's message as user.
func (w *pmWorld) click(user, actionID string) {
	w.h.t.Helper()
	pm := w.h.pm()
	if _, err := w.h.sim.Click(w.h.ctx, user, pm.ChannelID, pm.MessageTS, actionID, ""); err != nil {
		w.h.t.Fatal(err)
	}
	w.h.idle()
}

// clickDone clicks Mark done on the notice bob got for his action, as user
// (anyone but bob sends a payload Slack would not: the test of a forged
// one).
func (w *pmWorld) clickDone(user string) {
	w.h.t.Helper()
	dm := w.h.sim.DirectChannel(bob)
	msgs := w.h.sim.Messages(dm)
	if len(msgs) == 0 {
		w.h.t.Fatal("bob got no action notice")
	}
	if _, err := w.h.sim.Click(w.h.ctx, user, dm, msgs[0].TS, "pm_action_done", ""); err != nil {
		w.h.t.Fatal(err)
	}
	w.h.idle()
}

// A pmStep brings the postmortem on, as alice (its TDO, and facilitator
// until handed over).
type pmStep func(w *pmWorld)

var (
	// started: alice starts it in the room.
	started pmStep = func(w *pmWorld) { w.h.slash(alice, w.room, "/postmortem", "start") }
	// shownInRandom: alice closes INC-1, its room is archived, and she
	// starts the postmortem from #random, where its message then is (a
	// postmortem runs in the incident's room while the room is there).
	shownInRandom pmStep = func(w *pmWorld) {
		w.h.slash(alice, w.room, "/incident", "status resolved")
		w.h.slash(alice, w.room, "/incident", "close")
		w.h.clock.Advance(2 * time.Hour)
		w.h.sweep()
		w.h.slash(alice, w.random, "/postmortem", "start INC-1")
		if pm := w.h.pm(); pm.ChannelID != w.random {
			w.h.t.Fatalf("postmortem shown in %s, want #random %s", pm.ChannelID, w.random)
		}
	}
	// inIssues: phase 2.
	inIssues pmStep = func(w *pmWorld) { w.h.slash(alice, w.room, "/postmortem", "next") }
	// inActions: phase 3, with one issue.
	inActions pmStep = func(w *pmWorld) {
		w.h.slash(alice, w.room, "/postmortem", "issue the alert fired late")
		w.h.slash(alice, w.room, "/postmortem", "next")
	}
	// bobsAction: action 1, owned by bob.
	bobsAction pmStep = func(w *pmWorld) {
		w.h.slash(alice, w.room, "/postmortem", "action")
		w.h.submit(alice, w.h.openView(alice, "pm_action").ID, map[string]map[string]string{"pm_issue": {"pm_issue": "1"},
			"pm_owner": {"pm_owner": bob}, "pm_expected": {"pm_expected": "the alert fires in 2 minutes"}, "pm_due": {"pm_due": "2026-12-01"}})
	}
)

// facilitatedBy hands facilitation to user.
func facilitatedBy(user string) pmStep {
	return func(w *pmWorld) { w.h.slash(alice, w.room, "/postmortem", "facilitator <@"+user+">") }
}

// tdoIs hands the incident over to user.
func tdoIs(user string) pmStep {
	return func(w *pmWorld) { w.h.slash(alice, w.room, "/incident", "tdo <@"+user+"> knows payments best") }
}

// pmCmd is a /postmortem command typed by the actor in the room or, with
// INC-1 named, in #random.
func pmCmd(inRoom bool, text string) func(w *pmWorld, actor string) {
	return func(w *pmWorld, actor string) {
		if inRoom {
			w.h.slash(actor, w.room, "/postmortem", text)
			return
		}
		verb, rest, _ := strings.Cut(text, " ")
		w.h.slash(actor, w.random, "/postmortem", strings.TrimSpace(verb+" INC-1 "+rest))
	}
}

// pmButton is a click on the postmortem message's button.
func pmButton(actionID string) func(w *pmWorld, actor string) {
	return func(w *pmWorld, actor string) { w.click(actor, actionID) }
}

// pmFormAfterLeaving opens a form as the actor (in the room, allowed), takes
// them out of the room, then submits it.
func pmFormAfterLeaving(open, callback string, values map[string]map[string]string) func(w *pmWorld, actor string) {
	return func(w *pmWorld, actor string) {
		w.h.slash(actor, w.room, "/postmortem", open)
		v := w.h.openView(actor, callback)
		w.h.leave(w.room, actor)
		w.h.submit(actor, v.ID, values)
	}
}

// pmForm opens a form as the actor in the room and submits it.
func pmForm(open, callback string, values map[string]map[string]string) func(w *pmWorld, actor string) {
	return func(w *pmWorld, actor string) {
		w.h.slash(actor, w.room, "/postmortem", open)
		w.h.submit(actor, w.h.openView(actor, callback).ID, values)
	}
}

var (
	entryValues  = map[string]map[string]string{"pm_time": {"pm_time": "02:50"}, "pm_text": {"pm_text": "disk alarm ignored"}}
	issueValues  = map[string]map[string]string{"pm_text": {"pm_text": "nobody was paged"}}
	actionValues = map[string]map[string]string{"pm_issue": {"pm_issue": "1"}, "pm_owner": {"pm_owner": alice},
		"pm_expected": {"pm_expected": "pages go out"}, "pm_due": {"pm_due": "2026-12-02"}}
)

// The refusals of the postmortem rules (who may is named before these).
const (
	refuseStartPM    = "or a commander can start the postmortem of INC-1"
	refuseAddPM      = "or a commander can add to the postmortem of INC-1"
	refuseMovePM     = "or a commander can move the postmortem of INC-1 on"
	refuseFacilitate = "or a commander can hand facilitation of the postmortem of INC-1 over"
	refuseDone       = "Only the action's owner <@U0BOB>, the facilitator <@U0ALICE> or a commander can mark action 1 of the INC-1 postmortem done"
)

// TestPostmortemPermissions is the permission model over every
// /postmortem command, button and form: (actor, where, action) → allowed,
// and the postmortem changed (or the form opened), or refused, with the
// rule's answer, nothing changed, no form open, and the refusal counted.
func TestPostmortemPermissions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup []pmStep
		actor string
		act   func(w *pmWorld, actor string)
		// form is the form an allowed act opens ("": it changes the
		// postmortem).
		form string
		// refuse is the refusal's text ("": allowed).
		refuse string
	}{
		// /postmortem start: the room, the TDO, commanders.
		{name: "start/room member in the room", actor: bob, act: pmCmd(true, "start")},
		{name: "start/TDO from elsewhere", actor: alice, act: pmCmd(false, "start")},
		{name: "start/outsider from elsewhere", actor: outsiderCarol, act: pmCmd(false, "start"), refuse: refuseStartPM},
		{name: "start/commander from elsewhere", actor: commanderDave, act: pmCmd(false, "start")},

		// /postmortem facilitator: the facilitator, the TDO, commanders.
		{name: "facilitator/facilitator hands over", setup: []pmStep{started}, actor: alice, act: pmCmd(true, "facilitator <@U0BOB>")},
		{name: "facilitator/room member takes over", setup: []pmStep{started}, actor: bob, act: pmCmd(true, "facilitator <@U0BOB>"), refuse: refuseFacilitate},
		{name: "facilitator/outsider takes over", setup: []pmStep{started}, actor: outsiderCarol, act: pmCmd(false, "facilitator <@U0CAROL>"), refuse: refuseFacilitate},
		{name: "facilitator/TDO takes over", setup: []pmStep{started, facilitatedBy(outsiderCarol)}, actor: alice, act: pmCmd(true, "facilitator <@U0ALICE>")},
		{name: "facilitator/commander takes over", setup: []pmStep{started}, actor: commanderDave, act: pmCmd(false, "facilitator <@U0DAVE>")},

		// /postmortem next and its button: the facilitator, the TDO, commanders.
		{name: "next/facilitator", setup: []pmStep{started}, actor: alice, act: pmCmd(true, "next")},
		{name: "next/room member", setup: []pmStep{started}, actor: bob, act: pmCmd(true, "next"), refuse: refuseMovePM},
		{name: "next/outsider", setup: []pmStep{started}, actor: outsiderCarol, act: pmCmd(false, "next"), refuse: refuseMovePM},
		{name: "next/TDO who does not facilitate", setup: []pmStep{started, tdoIs(bob)}, actor: bob, act: pmCmd(true, "next")},
		{name: "next/facilitator outside the room", setup: []pmStep{started, facilitatedBy(outsiderCarol)}, actor: outsiderCarol, act: pmCmd(false, "next")},
		{name: "next/commander", setup: []pmStep{started}, actor: commanderDave, act: pmCmd(false, "next")},
		{name: "next button/facilitator", setup: []pmStep{started}, actor: alice, act: pmButton("pm_next")},
		{name: "next button/room member", setup: []pmStep{started}, actor: bob, act: pmButton("pm_next"), refuse: refuseMovePM},
		{name: "next button/outsider on a message elsewhere", setup: []pmStep{shownInRandom}, actor: outsiderCarol, act: pmButton("pm_next"), refuse: refuseMovePM},

		// Entries, issues and actions: the room, the facilitator, the TDO,
		// commanders.
		{name: "entry/room member", setup: []pmStep{started}, actor: bob, act: pmCmd(true, "entry 02:50 disk alarm ignored")},
		{name: "entry/outsider", setup: []pmStep{started}, actor: outsiderCarol, act: pmCmd(false, "entry 02:50 disk alarm ignored"), refuse: refuseAddPM},
		{name: "entry/commander", setup: []pmStep{started}, actor: commanderDave, act: pmCmd(false, "entry 02:50 disk alarm ignored")},
		{name: "entry/facilitator outside the room", setup: []pmStep{started, facilitatedBy(outsiderCarol)}, actor: outsiderCarol, act: pmCmd(false, "entry 02:50 disk alarm ignored")},
		{name: "entry form/room member", setup: []pmStep{started}, actor: bob, act: pmCmd(true, "entry"), form: "pm_entry"},
		{name: "entry form/outsider", setup: []pmStep{started}, actor: outsiderCarol, act: pmCmd(false, "entry"), refuse: refuseAddPM},
		{name: "entry form/submitted", setup: []pmStep{started}, actor: bob, act: pmForm("entry", "pm_entry", entryValues)},
		{name: "entry form/submitted after leaving the room", setup: []pmStep{started}, actor: bob, act: pmFormAfterLeaving("entry", "pm_entry", entryValues), refuse: refuseAddPM},
		{name: "add entry button/room member", setup: []pmStep{shownInRandom}, actor: bob, act: pmButton("pm_add_entry"), form: "pm_entry"},
		{name: "add entry button/outsider", setup: []pmStep{shownInRandom}, actor: outsiderCarol, act: pmButton("pm_add_entry"), refuse: refuseAddPM},
		{name: "correct button/room member", setup: []pmStep{shownInRandom}, actor: bob, act: pmButton("pm_edit_entry"), form: "pm_entry"},
		{name: "correct button/outsider", setup: []pmStep{shownInRandom}, actor: outsiderCarol, act: pmButton("pm_edit_entry"), refuse: refuseAddPM},
		{name: "issue/room member", setup: []pmStep{started, inIssues}, actor: bob, act: pmCmd(true, "issue nobody was paged")},
		{name: "issue/outsider", setup: []pmStep{started, inIssues}, actor: outsiderCarol, act: pmCmd(false, "issue nobody was paged"), refuse: refuseAddPM},
		{name: "issue/commander", setup: []pmStep{started, inIssues}, actor: commanderDave, act: pmCmd(false, "issue nobody was paged")},
		{name: "issue form/submitted after leaving the room", setup: []pmStep{shownInRandom, inIssues}, actor: bob,
			act: func(w *pmWorld, actor string) {
				w.click(actor, "pm_add_issue")
				v := w.h.openView(actor, "pm_issue")
				w.h.leave(w.room, actor)
				w.h.submit(actor, v.ID, issueValues)
			}, refuse: refuseAddPM},
		{name: "issue form/submitted", setup: []pmStep{shownInRandom, inIssues}, actor: bob,
			act: func(w *pmWorld, actor string) {
				w.click(actor, "pm_add_issue")
				w.h.submit(actor, w.h.openView(actor, "pm_issue").ID, issueValues)
			}},
		{name: "add issue button/room member", setup: []pmStep{shownInRandom, inIssues}, actor: bob, act: pmButton("pm_add_issue"), form: "pm_issue"},
		{name: "add issue button/outsider", setup: []pmStep{shownInRandom, inIssues}, actor: outsiderCarol, act: pmButton("pm_add_issue"), refuse: refuseAddPM},
		{name: "raise issue button/room member", setup: []pmStep{shownInRandom, inIssues}, actor: bob, act: pmButton("pm_raise_issue"), form: "pm_issue"},
		{name: "raise issue button/outsider", setup: []pmStep{shownInRandom, inIssues}, actor: outsiderCarol, act: pmButton("pm_raise_issue"), refuse: refuseAddPM},
		{name: "action form/room member", setup: []pmStep{started, inIssues, inActions}, actor: bob, act: pmCmd(true, "action"), form: "pm_action"},
		{name: "action form/outsider", setup: []pmStep{started, inIssues, inActions}, actor: outsiderCarol, act: pmCmd(false, "action"), refuse: refuseAddPM},
		{name: "action form/submitted", setup: []pmStep{started, inIssues, inActions}, actor: bob, act: pmForm("action", "pm_action", actionValues)},
		{name: "action form/submitted after leaving the room", setup: []pmStep{started, inIssues, inActions}, actor: bob,
			act: pmFormAfterLeaving("action", "pm_action", actionValues), refuse: refuseAddPM},
		{name: "add action button/room member", setup: []pmStep{shownInRandom, inIssues, inActions}, actor: bob, act: pmButton("pm_add_action"), form: "pm_action"},
		{name: "add action button/outsider", setup: []pmStep{shownInRandom, inIssues, inActions}, actor: outsiderCarol, act: pmButton("pm_add_action"), refuse: refuseAddPM},

		// Mark done: the owner, the facilitator, commanders.
		{name: "mark done/owner", setup: []pmStep{started, inIssues, inActions, bobsAction}, actor: bob, act: (*pmWorld).clickDone},
		{name: "mark done/facilitator", setup: []pmStep{started, inIssues, inActions, bobsAction}, actor: alice, act: (*pmWorld).clickDone},
		{name: "mark done/commander", setup: []pmStep{started, inIssues, inActions, bobsAction}, actor: commanderDave, act: (*pmWorld).clickDone},
		{name: "mark done/someone else", setup: []pmStep{started, inIssues, inActions, bobsAction}, actor: outsiderCarol, act: (*pmWorld).clickDone, refuse: refuseDone},
		{name: "mark done/TDO who does not facilitate", setup: []pmStep{started, inIssues, inActions, bobsAction, tdoIs(bob), facilitatedBy(bob)}, actor: alice,
			act: (*pmWorld).clickDone, refuse: "Only the action's owner <@U0BOB>, the facilitator <@U0BOB> or a commander"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newPMWorld(t)
			for _, step := range tc.setup {
				step(w)
			}
			h := w.h
			if n := h.bot.Stats().Refusals; n != 0 {
				t.Fatalf("the setup was refused %d times: %q", n, h.answers(alice))
			}
			before := w.version()
			tc.act(w, tc.actor)
			refusals, after, views := h.bot.Stats().Refusals, w.version(), h.views(tc.actor)
			if tc.refuse != "" {
				if refusals != 1 || after != before || len(views) != 0 {
					t.Errorf("refused: %d refusals (want 1), version %d → %d, forms %q", refusals, before, after, views)
				}
				if !h.answered(tc.actor, tc.refuse) {
					t.Errorf("%s was told %q, want %q", tc.actor, h.answers(tc.actor), tc.refuse)
				}
				return
			}
			if refusals != 0 {
				t.Errorf("allowed, but %d refusals: %q", refusals, h.answers(tc.actor))
			}
			if tc.form != "" {
				if len(views) != 1 || views[0] != tc.form || after != before {
					t.Errorf("forms %q, version %d → %d; want the %s form and no change", views, before, after, tc.form)
				}
				return
			}
			if after <= before {
				t.Errorf("allowed, but the postmortem did not change (version %d → %d); %s was told %q", before, after, tc.actor, h.answers(tc.actor))
			}
		})
	}
}

// TestFacilitatorTakeoverRefused: anyone could make themselves facilitator
// and then move the phases. Now a room member and an outsider are refused,
// named who may, and the facilitator and the phase stay; the TDO and a
// commander may take over.
func TestFacilitatorTakeoverRefused(t *testing.T) {
	t.Parallel()
	w := newPMWorld(t)
	h := w.h
	h.slash(alice, w.room, "/postmortem", "start")

	h.slash(bob, w.room, "/postmortem", "facilitator <@U0BOB>")
	h.slash(bob, w.room, "/postmortem", "next")
	h.slash(outsiderCarol, w.random, "/postmortem", "facilitator INC-1 <@U0CAROL>")
	h.slash(outsiderCarol, w.random, "/postmortem", "next INC-1")
	if pm := h.pm(); pm.Facilitator != alice || pm.Phase != incident.PhaseTimeline {
		t.Fatalf("after the takeovers: facilitator %s, %s", pm.Facilitator, pm.Phase)
	}
	if n := h.bot.Stats().Refusals; n != 4 {
		t.Errorf("%d refusals, want 4", n)
	}
	for _, u := range []string{bob, outsiderCarol} {
		want := "Only the facilitator and technical duty officer <@U0ALICE> or a commander can hand facilitation of the postmortem of INC-1 over."
		if !h.answered(u, want) || !h.answered(u, "can move the postmortem of INC-1 on") {
			t.Errorf("%s was told %q", u, h.answers(u))
		}
	}

	// The TDO, then a commander, may.
	h.slash(alice, w.room, "/postmortem", "facilitator <@U0BOB>")
	h.slash(commanderDave, w.random, "/postmortem", "facilitator INC-1 <@U0DAVE>")
	if f := h.pm().Facilitator; f != commanderDave {
		t.Errorf("facilitator = %s, want the commander", f)
	}
	if n := h.bot.Stats().Refusals; n != 4 {
		t.Errorf("%d refusals after the allowed hand-overs, want 4", n)
	}
}

// clWorld is #general with CL-1 (alice's web release) and #random with
// CL-2 (carol's), for checklist permission tests.
type clWorld struct {
	h      *harness
	random string
}

func newCLWorld(t *testing.T) *clWorld {
	t.Helper()
	h, random := newPmClHarness(t)
	h.slash(alice, h.general, "/checklist", "start web-release v2.14.0")
	h.slash(outsiderCarol, random, "/checklist", "start before-bed")
	return &clWorld{h: h, random: random}
}

// run returns CL-id as stored.
func (w *clWorld) run(id int64) *checklist.Run {
	w.h.t.Helper()
	r, err := w.h.store.Run(w.h.ctx, id)
	if err != nil {
		w.h.t.Fatal(err)
	}
	return r
}

// tickOn has user tick step 1 of CL-1 on the message of CL-on: CL-1's
// boxes, as a payload carrying them from another message would.
func (w *clWorld) tickOn(user string, on int64) {
	w.h.t.Helper()
	seen := w.h.checklistMessage(1).Blocks
	action, ticked := w.h.flipBox(seen, 0)
	msg := w.run(on)
	if _, err := w.h.sim.ClickStale(w.h.ctx, user, msg.ChannelID, msg.MessageTS, seen, action, ticked); err != nil {
		w.h.t.Fatal(err)
	}
	w.h.idle()
}

// skipOn has user click Skip for CL-1 on the message of CL-on.
func (w *clWorld) skipOn(user string, on int64) {
	w.h.t.Helper()
	msg := w.run(on)
	if _, err := w.h.sim.Click(w.h.ctx, user, msg.ChannelID, msg.MessageTS, "checklist_skip", "1"); err != nil {
		w.h.t.Fatal(err)
	}
	w.h.idle()
}

// refuseTick is the answer to a click that is not on the run's message.
const refuseTick = "That checkbox is not on CL-1's message in <#"

// TestChecklistPermissions is the permission model over every /checklist
// command, step, button and form: (actor, where, action) → allowed, and
// CL-1 changed (or the form opened), or refused, with the rule's answer,
// CL-1 unchanged, no form open, and the refusal counted.
func TestChecklistPermissions(t *testing.T) {
	t.Parallel()
	abort := func(where string, text string) func(w *clWorld, actor string) {
		return func(w *clWorld, actor string) {
			ch := w.h.general
			if where == "random" {
				ch = w.random
			}
			w.h.slash(actor, ch, "/checklist", "abort "+text)
		}
	}
	for _, tc := range []struct {
		name  string
		actor string
		act   func(w *clWorld, actor string)
		// form is the form an allowed act opens ("": it changes CL-1).
		form   string
		refuse string
	}{
		// Ticks: only on the run's own message, in its channel; whoever sees it.
		{name: "tick/member on its message", actor: bob, act: func(w *clWorld, u string) { w.tickOn(u, 1) }},
		{name: "tick/someone outside its channel on its message", actor: outsiderCarol, act: func(w *clWorld, u string) { w.tickOn(u, 1) }},
		{name: "tick/from another channel", actor: outsiderCarol, act: func(w *clWorld, u string) { w.tickOn(u, 2) }, refuse: refuseTick},
		{name: "tick/commander from another channel", actor: commanderDave, act: func(w *clWorld, u string) { w.tickOn(u, 2) }, refuse: refuseTick},
		{name: "tick/from another message of its channel", actor: alice, act: func(w *clWorld, u string) {
			w.h.slash(alice, w.h.general, "/checklist", "start before-bed")
			w.tickOn(u, 3)
		}, refuse: refuseTick},

		// Skip a step: the button, on the run's own message; its form.
		{name: "skip button/member on its message", actor: bob, act: func(w *clWorld, u string) { w.skipOn(u, 1) }, form: "checklist_skip"},
		{name: "skip button/from another channel", actor: outsiderCarol, act: func(w *clWorld, u string) { w.skipOn(u, 2) }, refuse: refuseTick},
		{name: "skip form/submitted", actor: bob, act: func(w *clWorld, u string) {
			w.skipOn(u, 1)
			w.h.submit(u, w.h.openView(u, "checklist_skip").ID, map[string]map[string]string{"step": {"step": "8"}, "reason": {"reason": "no notes this time"}})
		}},

		// Abort: the starter, members of its channel, commanders.
		{name: "abort/starter from elsewhere", actor: alice, act: abort("random", "CL-1 rolled back")},
		{name: "abort/member in its channel", actor: bob, act: abort("general", "CL-1 rolled back")},
		{name: "abort/member in its channel, unnamed", actor: bob, act: abort("general", "rolled back")},
		{name: "abort/member from elsewhere", actor: bob, act: abort("random", "CL-1 rolled back")},
		{name: "abort/outsider from elsewhere", actor: outsiderCarol, act: abort("random", "CL-1 rolled back"),
			refuse: "Only who started CL-1 <@U0ALICE>, people in <#"},
		{name: "abort/commander from elsewhere", actor: commanderDave, act: abort("random", "CL-1 rolled back")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCLWorld(t)
			h := w.h
			before := w.run(1).Version
			tc.act(w, tc.actor)
			refusals, after, views := h.bot.Stats().Refusals, w.run(1).Version, h.views(tc.actor)
			if tc.refuse != "" {
				if refusals != 1 || after != before || len(views) != 0 {
					t.Errorf("refused: %d refusals (want 1), CL-1 version %d → %d, forms %q", refusals, before, after, views)
				}
				if !h.answered(tc.actor, tc.refuse) {
					t.Errorf("%s was told %q, want %q", tc.actor, h.answers(tc.actor), tc.refuse)
				}
				return
			}
			if refusals != 0 {
				t.Errorf("allowed, but %d refusals: %q", refusals, h.answers(tc.actor))
			}
			if tc.form != "" {
				if len(views) != 1 || views[0] != tc.form || after != before {
					t.Errorf("forms %q, CL-1 version %d → %d; want the %s form and no change", views, before, after, tc.form)
				}
				return
			}
			if after <= before {
				t.Errorf("allowed, but CL-1 did not change (version %d → %d); %s was told %q", before, after, tc.actor, h.answers(tc.actor))
			}
		})
	}
}

// TestCrossChannelTickRefused: a click carrying CL-1's boxes but coming
// from another channel's message ticked CL-1. Now it is refused and
// answered; CL-1 and the run whose message was clicked are unchanged, and
// that message is drawn again from the store so the click does not stick.
// The same click on CL-1's own message ticks it.
func TestCrossChannelTickRefused(t *testing.T) {
	t.Parallel()
	w := newCLWorld(t)
	h := w.h
	cl2 := w.run(2)
	updates := func() int {
		n := 0
		for _, c := range h.sim.CallLog() {
			if c.Method == "chat.update" && c.Channel == cl2.ChannelID { // only CL-2's message is there
				n++
			}
		}
		return n
	}
	drawn := updates()

	w.tickOn(outsiderCarol, 2)
	if r := w.run(1); r.Version != 0 {
		t.Fatalf("CL-1 changed by a click from #random: version %d", r.Version)
	}
	if r := w.run(2); r.Version != 0 {
		t.Errorf("CL-2 changed by a click carrying CL-1: version %d", r.Version)
	}
	want := fmt.Sprintf("That checkbox is not on CL-1's message in <#%s>: tick its steps there.", h.general)
	if !h.answered(outsiderCarol, want) {
		t.Errorf("carol was told %q, want %q", h.answers(outsiderCarol), want)
	}
	if n := h.bot.Stats().Refusals; n != 1 {
		t.Errorf("%d refusals, want 1", n)
	}
	if updates() == drawn {
		t.Error("CL-2's message, where the refused box was clicked, was not drawn again")
	}

	w.tickOn(outsiderCarol, 1)
	_, events, err := checklist.NewService(h.store, h.clock, nil, 0).Run(h.ctx, 1)
	if err != nil || len(events) != 1 || events[0].Actor != outsiderCarol || events[0].Step != 0 {
		t.Errorf("CL-1's events after a tick on its message: %+v, %v", events, err)
	}
}

// TestChecklistAbortFromElsewhereRefused: `/checklist abort CL-1` from
// #random aborted a run in #general its author never saw. Now carol (not
// its starter, not in #general) is refused and told who may; bob (in
// #general) and alice (its starter) may, from anywhere.
func TestChecklistAbortFromElsewhereRefused(t *testing.T) {
	t.Parallel()
	w := newCLWorld(t)
	h := w.h
	h.slash(outsiderCarol, w.random, "/checklist", "abort CL-1 looks stuck")
	if r := w.run(1); r.State != checklist.StateActive {
		t.Fatalf("carol aborted CL-1 from #random: %+v", r)
	}
	want := fmt.Sprintf("Only who started CL-1 <@U0ALICE>, people in <#%s> or a commander can abort CL-1.", h.general)
	if !h.answered(outsiderCarol, want) {
		t.Errorf("carol was told %q, want %q", h.answers(outsiderCarol), want)
	}
	if n := h.bot.Stats().Refusals; n != 1 {
		t.Errorf("%d refusals, want 1", n)
	}

	// A member of #general may, typing in #random.
	h.slash(bob, w.random, "/checklist", "abort CL-1 rolled back")
	if r := w.run(1); r.State != checklist.StateAborted || r.Reason != "rolled back" {
		t.Errorf("bob's abort: %+v", r)
	}
	// The starter may, from anywhere.
	h.slash(alice, h.general, "/checklist", "start before-bed")
	h.slash(alice, w.random, "/checklist", "abort CL-3 not tonight")
	if r := w.run(3); r.State != checklist.StateAborted {
		t.Errorf("alice's abort of her run: %+v", r)
	}
	if n := h.bot.Stats().Refusals; n != 1 {
		t.Errorf("%d refusals after the allowed aborts, want 1", n)
	}
}
