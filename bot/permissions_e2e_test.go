package bot_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// The people of the permission tests, besides alice (who opens every
// incident, so is its TDO) and bob (who joins its room).
const (
	carol = "U0CAROL" // in #random only: an outsider
	dave  = "U0DAVE"  // a commander by name, in #random only
	erin  = "U0ERIN"  // in the commanders' user group, in #random only
)

// join puts user in channel, as a person joining it in Slack would, and
// waits until the bot has handled what Slack told it (with
// slacksim.Options.MemberEvents, the member_joined_channel event).
func (h *harness) join(channel, user string) {
	h.t.Helper()
	h.sim.Join(channel, user)
	h.idle()
}

// leave takes user out of channel and waits until the bot has handled it.
func (h *harness) leave(channel, user string) {
	h.t.Helper()
	h.sim.RemoveMember(channel, user)
	h.idle()
}

// newPermHarness is a workspace with outsiders and commanders, whose
// Slack tells the bot who joins and leaves.
func newPermHarness(t *testing.T, set access.Settings, opts ...harnessOption) (*harness, string) {
	t.Helper()
	opts = append([]harnessOption{withSimOptions(slacksim.Options{MemberEvents: true}),
		withBotConfig(bot.Config{Permissions: set}), withPlans(dbPlans)}, opts...)
	h := newHarness(t, opts...)
	for _, u := range []slacksim.User{{ID: carol, Name: "carol", RealName: "Carol Danvers"},
		{ID: dave, Name: "dave", RealName: "Dave Bowman"}, {ID: erin, Name: "erin", RealName: "Erin Brockovich"}} {
		h.sim.AddUser(u)
	}
	h.sim.AddUserGroup(slacksim.UserGroup{ID: "S0ONCALL", Handle: "incident-commanders", Users: []string{erin}})
	random := h.sim.AddChannel("random", carol, dave, erin, alice, bob)
	return h, random
}

// permAct is one thing done to an incident: a slash command, a click on a
// button of the room's messages, or a form opened by a room member (bob)
// and submitted by the actor.
type permAct struct {
	// slash is /incident's text; %[1]d is the incident's number.
	slash string
	// click is the action ID of a button in the room.
	click string
	// form is the action ID of the button that opens the form; values
	// fill it. The actor opens it as a member; leaves takes them out of
	// the room before they submit.
	form   string
	values map[string]map[string]string
	leaves bool
	// setup prepares the incident (as alice, through the domain).
	setup func(h *harness, inc *incident.Incident)
	// reads: the command changes nothing; allowed means answered.
	reads bool
}

func (a permAct) String() string {
	switch {
	case a.slash != "":
		return "/incident " + strings.ReplaceAll(a.slash, "INC-%[1]d", "INC-n")
	case a.click != "":
		return "click " + a.click
	}
	return "form " + a.form
}

// Setups.
var (
	resolve = func(h *harness, inc *incident.Incident) {
		svc := incident.NewService(h.store, h.clock)
		if _, _, err := svc.SetStatus(h.ctx, incident.StatusRequest{IncidentID: inc.ID, Actor: alice, Status: incident.StatusResolved}); err != nil {
			h.t.Fatal(err)
		}
	}
	lowerToSev3 = func(h *harness, inc *incident.Incident) {
		svc := incident.NewService(h.store, h.clock)
		if _, _, err := svc.SetSeverity(h.ctx, incident.SeverityRequest{IncidentID: inc.ID, Actor: alice, Severity: incident.Sev3, Reason: "contained"}); err != nil {
			h.t.Fatal(err)
		}
	}
	// linkProblem links PRB-1, which TestWhoMayDoWhat records first.
	linkProblem = func(h *harness, inc *incident.Incident) {
		svc := incident.NewService(h.store, h.clock)
		if _, _, _, err := incident.NewProblems(h.store, svc, h.clock).Link(h.ctx, inc.ID, 1, alice); err != nil {
			h.t.Fatal(err)
		}
	}
)

// roomOnly and tdoOnly are refusals, as the person refused reads them, of
// what; %[1]d in what is the incident's number.
func roomOnly(what string) string { return "or a commander can " + what + ": join the room first" }

func tdoOnly(what string) string {
	return "Only the technical duty officer of INC-%[1]d <@U0ALICE> or a commander can " + what
}

// TestWhoMayDoWhat runs every /incident command, incident button and
// incident form as a member of the room, an outsider, a commander and the
// TDO, from the room and from elsewhere: each is done, or refused with the
// rule and who may, and then nothing changed.
func TestWhoMayDoWhat(t *testing.T) {
	t.Parallel()
	h, random := newPermHarness(t, access.Settings{Commanders: []string{dave}, CommanderGroups: []string{"S0ONCALL"}})
	// A change to db before the incidents, so that the room lists it with
	// its Suspect and Not related buttons.
	h.slash(alice, h.general, "/change", "db: raised max_connections")
	h.slash(alice, h.general, "/problem", "new pool too small")

	const room = "room"
	cases := []struct {
		actor, where string
		act          permAct
		refusal      string // "" allowed; %[1]d is the incident's number
	}{
		// Commands.
		{carol, random, permAct{slash: "status INC-%[1]d identified"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "status INC-%[1]d identified"}, ""},
		{bob, random, permAct{slash: "status INC-%[1]d identified"}, ""},
		{dave, random, permAct{slash: "status INC-%[1]d identified"}, ""},
		{erin, random, permAct{slash: "status INC-%[1]d identified"}, ""},
		{carol, random, permAct{slash: "status INC-%[1]d resolved"}, roomOnly("change INC-%[1]d")},
		{carol, random, permAct{slash: "sev INC-%[1]d 2", setup: lowerToSev3}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "sev INC-%[1]d 2", setup: lowerToSev3}, ""},
		{bob, room, permAct{slash: "sev INC-%[1]d 3 contained"}, tdoOnly("lower the severity of INC-%[1]d")},
		{carol, random, permAct{slash: "sev INC-%[1]d 4 nothing to see"}, tdoOnly("lower the severity of INC-%[1]d")},
		{alice, random, permAct{slash: "sev INC-%[1]d 3 contained"}, ""},
		{dave, random, permAct{slash: "sev INC-%[1]d 3 contained"}, ""},
		{carol, random, permAct{slash: "note INC-%[1]d I was here"}, roomOnly("change INC-%[1]d")},
		{bob, random, permAct{slash: "note INC-%[1]d pool at 100%%"}, ""},
		{carol, random, permAct{slash: "role INC-%[1]d comms <@U0CAROL>"}, roomOnly("give roles in INC-%[1]d")},
		{bob, room, permAct{slash: "role INC-%[1]d scribe <@U0CAROL>"}, ""},
		{carol, random, permAct{slash: "tdo INC-%[1]d <@U0CAROL>"}, roomOnly("hand INC-%[1]d over")},
		{bob, room, permAct{slash: "tdo INC-%[1]d <@U0BOB> knows the pool"}, ""},
		{erin, random, permAct{slash: "tdo INC-%[1]d <@U0BOB>"}, ""},
		{bob, room, permAct{slash: "close INC-%[1]d", setup: resolve}, tdoOnly("close INC-%[1]d")},
		{carol, random, permAct{slash: "close INC-%[1]d", setup: resolve}, tdoOnly("close INC-%[1]d")},
		{alice, room, permAct{slash: "close INC-%[1]d", setup: resolve}, ""},
		{dave, random, permAct{slash: "close INC-%[1]d", setup: resolve}, ""},
		{carol, random, permAct{slash: "timebox INC-%[1]d 30m wrong system first"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "timebox INC-%[1]d 30m wrong system first"}, ""},
		{carol, random, permAct{slash: "extend INC-%[1]d 10m logs"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "extend INC-%[1]d 10m logs"}, ""},
		{carol, random, permAct{slash: "restore INC-%[1]d"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "restore INC-%[1]d"}, ""},
		{carol, random, permAct{slash: "cost INC-%[1]d"}, roomOnly("change INC-%[1]d")},
		{bob, random, permAct{slash: "cost INC-%[1]d"}, ""},
		{carol, random, permAct{slash: "link INC-%[1]d PRB-1"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "link INC-%[1]d PRB-1"}, ""},
		{carol, random, permAct{slash: "unlink INC-%[1]d PRB-1", setup: linkProblem}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{slash: "unlink INC-%[1]d PRB-1", setup: linkProblem}, ""},
		// Reading needs no right.
		{carol, random, permAct{slash: "timeline INC-%[1]d", reads: true}, ""},
		{carol, random, permAct{slash: "changes INC-%[1]d", reads: true}, ""},
		{carol, random, permAct{slash: "list", reads: true}, ""},
		// Buttons, clicked in the room: seeing it is not being in it.
		{carol, room, permAct{click: "incident_take_command"}, roomOnly("hand INC-%[1]d over")},
		{bob, room, permAct{click: "incident_take_command"}, ""},
		{dave, room, permAct{click: "incident_take_command"}, ""},
		{carol, room, permAct{click: "incident_update_status"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "incident_update_status"}, ""},
		{carol, room, permAct{click: "incident_add_note"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "incident_add_note"}, ""},
		{carol, room, permAct{click: "incident_cost"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "incident_cost"}, ""},
		{carol, room, permAct{click: "incident_link_problem"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "incident_link_problem"}, ""},
		{carol, room, permAct{click: "timebox_restore"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "timebox_restore"}, ""},
		{carol, room, permAct{click: "timebox_extend"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "timebox_extend"}, ""},
		{carol, room, permAct{click: "plan_diagnostic"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "plan_diagnostic"}, ""},
		{carol, room, permAct{click: "change_suspect"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "change_suspect"}, ""},
		{carol, room, permAct{click: "change_unrelated"}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{click: "change_unrelated"}, ""},
		// Forms: what counts is who submits, when they submit.
		{bob, room, permAct{form: "incident_update_status", values: statusValues}, ""},
		{bob, room, permAct{form: "incident_update_status", values: statusValues, leaves: true}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{form: "incident_add_note", values: noteValues}, ""},
		{bob, room, permAct{form: "incident_add_note", values: noteValues, leaves: true}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{form: "timebox_extend", values: extendValues}, ""},
		{bob, room, permAct{form: "timebox_extend", values: extendValues, leaves: true}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{form: "incident_cost", values: costValues}, ""},
		{bob, room, permAct{form: "incident_cost", values: costValues, leaves: true}, roomOnly("change INC-%[1]d")},
		{bob, room, permAct{form: "incident_link_problem", values: linkValues}, ""},
		{bob, room, permAct{form: "incident_link_problem", values: linkValues, leaves: true}, roomOnly("change INC-%[1]d")},
	}
	svc := incident.NewService(h.store, h.clock)
	refusals := h.bot.Stats().Refusals
	for i, tc := range cases {
		name := fmt.Sprintf("%d %s in %s: %s", i, tc.actor, tc.where, tc.act)
		// A fresh incident for each: alice opens it (its TDO); bob joins.
		ch := h.openIncident(fmt.Sprintf("case %d sev1 systems:db", i))
		h.join(ch, bob)
		inc, err := h.store.IncidentByNumber(h.ctx, int64(h.incidentCount()))
		if err != nil {
			t.Fatal(err)
		}
		if tc.act.setup != nil {
			tc.act.setup(h, inc)
		}
		where := random
		if tc.where == room {
			where = ch
		}
		before := h.snapshot(svc, inc.ID, tc.actor)
		h.perform(tc.actor, where, ch, inc, tc.act)
		after := h.snapshot(svc, inc.ID, tc.actor)
		answers := h.answersTo(tc.actor, before.answers)
		if tc.refusal == "" {
			for _, a := range answers {
				if strings.Contains(a, ":no_entry:") {
					t.Errorf("%s: refused: %q", name, a)
				}
			}
			if !tc.act.reads && reflect.DeepEqual(before.state, after.state) {
				t.Errorf("%s: allowed, but nothing changed and no form opened; answers %q", name, answers)
			}
			if tc.act.reads && len(answers) == 0 {
				t.Errorf("%s: not answered", name)
			}
			continue
		}
		refusals++
		want := fmt.Sprintf(tc.refusal, inc.Number)
		if !slices0(answers, want) {
			t.Errorf("%s: answers %q, want a refusal saying %q", name, answers, want)
		}
		if !reflect.DeepEqual(before.state, after.state) {
			t.Errorf("%s: refused, yet something changed:\nbefore %+v\nafter  %+v", name, before.state, after.state)
		}
		if got := h.bot.Stats().Refusals; got != refusals {
			t.Errorf("%s: refusals counted %d, want %d", name, got, refusals)
			refusals = got
		}
	}
}

// slices0 reports whether any answer contains want.
func slices0(answers []string, want string) bool {
	for _, a := range answers {
		if strings.Contains(a, want) {
			return true
		}
	}
	return false
}

// Form values.
var (
	statusValues = map[string]map[string]string{"status": {"status": "identified"}, "message": {"message": "found it"}}
	noteValues   = map[string]map[string]string{"note": {"note": "pool at 100%"}}
	extendValues = map[string]map[string]string{"minutes": {"minutes": "10"}, "reason": {"reason": "heap dump"}}
	costValues   = map[string]map[string]string{"cost_phone": {"cost_phone": "12"}, "cost_revenue": {"cost_revenue": "4000"}}
	linkValues   = map[string]map[string]string{"new_problem": {"new_problem": "pool too small"}}
)

// permSnapshot is what an action may change: the incident, its timeline,
// the forms open for the actor; and what the actor was told so far.
type permSnapshot struct {
	state struct {
		inc      *incident.Incident
		timeline int
		views    int
	}
	answers answerCount
}

func (h *harness) snapshot(svc *incident.Service, id int64, actor string) permSnapshot {
	h.t.Helper()
	var s permSnapshot
	inc, err := svc.Incident(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	timeline, err := svc.Timeline(h.ctx, inc)
	if err != nil {
		h.t.Fatal(err)
	}
	s.state.inc, s.state.timeline, s.state.views = inc, len(timeline), len(h.sim.OpenViews(actor))
	s.answers = h.countAnswers(actor)
	return s
}

// answerCount counts what user was answered: ephemeral messages and
// direct messages.
type answerCount struct{ ephemeral, direct int }

func (h *harness) countAnswers(user string) answerCount {
	return answerCount{len(h.sim.Ephemerals(user)), len(h.sim.Messages(h.sim.DirectChannel(user)))}
}

// allAnswers are the texts user was answered: ephemeral messages, then
// direct messages.
func (h *harness) allAnswers(user string) []string {
	return h.answersTo(user, answerCount{})
}

// answersTo are the answers user got since n.
func (h *harness) answersTo(user string, n answerCount) []string {
	var out []string
	eph := h.ephemeralTexts(user)
	if n.ephemeral <= len(eph) {
		out = append(out, eph[n.ephemeral:]...)
	}
	dms := h.sim.Messages(h.sim.DirectChannel(user))
	for i := n.direct; i < len(dms); i++ {
		out = append(out, dms[i].Text)
	}
	return out
}

// perform does act as actor in channel where, on inc whose room is room.
func (h *harness) perform(actor, where, room string, inc *incident.Incident, act permAct) {
	h.t.Helper()
	switch {
	case act.slash != "":
		h.slash(actor, where, "/incident", fmt.Sprintf(act.slash, inc.Number))
	case act.click != "":
		h.clickIn(actor, room, act.click)
	default:
		was := map[string]bool{}
		for _, v := range h.sim.OpenViews(actor) {
			was[v.ID] = true
		}
		h.clickIn(actor, room, act.form)
		var opened []string
		for _, v := range h.sim.OpenViews(actor) {
			if !was[v.ID] {
				opened = append(opened, v.ID)
			}
		}
		if len(opened) != 1 {
			h.t.Fatalf("%s: forms opened for %s: %v; answers %q", act, actor, opened, h.allAnswers(actor))
		}
		if act.leaves {
			h.leave(room, actor)
		}
		h.submit(actor, opened[0], act.values)
	}
}

// clickIn clicks, as user, the latest button with actionID in channel.
func (h *harness) clickIn(user, channel, actionID string) {
	h.t.Helper()
	msgs := h.sim.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(string(msgs[i].Blocks), `"action_id":"`+actionID+`"`) {
			if _, err := h.sim.Click(h.ctx, user, channel, msgs[i].TS, actionID, ""); err != nil {
				h.t.Fatal(err)
			}
			h.idle()
			return
		}
	}
	h.t.Fatalf("no %s button in %s", actionID, channel)
}
