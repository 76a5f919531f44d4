package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// These tests run sitrep against the rules of real Slack that the
// simulator enforces (../shared/slack/LIMITS.md): lost answers, eventual
// consistency, membership, response URLs and bots that are not people.

// incidentChannels lists the channels whose names start "inc-<n>-".
func (h *harness) incidentChannels(prefix string) []string {
	var out []string
	for _, ch := range h.sim.Channels() {
		if strings.HasPrefix(ch.Name, prefix) {
			out = append(out, ch.Name)
		}
	}
	return out
}

func TestLostCreateAnswerAdoptsItsChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sim.LoseAnswers("conversations.create", 1)
	h.slash(alice, h.general, "/incident", "open db is down")
	h.wait("the room", func() bool { return h.room(1).Ready })
	if got := h.incidentChannels("inc-1-"); len(got) != 1 || got[0] != "inc-1-db-is-down" {
		t.Fatalf("incident channels %v, want only inc-1-db-is-down (no orphan, no -2)", got)
	}
	r := h.room(1)
	if r.ChannelName != "inc-1-db-is-down" || len(h.sim.Pins(r.ChannelID)) != 1 {
		t.Errorf("room %+v, pins %v", r, h.sim.Pins(r.ChannelID))
	}
	if m := h.sim.Members(r.ChannelID); len(m) != 2 {
		t.Errorf("members of the adopted room: %v", m)
	}
}

func TestChannelOfSomeoneElseIsNotAdopted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withChannel("inc-1-db-is-down"))
	h.sim.LoseAnswers("conversations.create", 1) // the -2 create's answer is lost
	h.slash(alice, h.general, "/incident", "open db is down")
	h.wait("the room", func() bool { return h.room(1).Ready })
	if r := h.room(1); r.ChannelName != "inc-1-db-is-down-2" {
		t.Errorf("room %s, want inc-1-db-is-down-2 (alice's channel is hers; the lost -2 is ours)", r.ChannelName)
	}
	if got := h.incidentChannels("inc-1-"); len(got) != 2 {
		t.Errorf("incident channels %v, want alice's and the room", got)
	}
}

func TestNewChannelIsReadyDespiteSlackCatchingUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withSimOptions(slacksim.Options{CreateLag: 700 * time.Millisecond}))
	h.slash(alice, h.general, "/incident", "open checkout fails sev2")
	r := h.room(1)
	if !r.Ready {
		t.Fatalf("room not ready when the command was done: %+v", r)
	}
	if !strings.Contains(strings.Join(h.ephemeralTexts(alice), "\n"), "<#"+r.ChannelID+">") {
		t.Errorf("the reporter was not told the room is ready: %q", h.ephemeralTexts(alice))
	}
	if n := len(h.sim.Messages(h.sim.DirectChannel(alice))); n != 0 {
		t.Errorf("the reporter got %d direct messages; answers go through the response_url", n)
	}
}

func TestAnswersReachPeopleWhereSitrepIsNot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withChannel("random"))
	random := h.sim.ChannelByName("random").ID
	h.sim.RemoveMember(random, h.sim.BotUserID())
	dm := h.sim.AddDM(alice, bob)
	for _, ch := range []string{random, dm} {
		h.slash(alice, ch, "/incident", "help")
		eph := h.sim.Ephemerals(alice)
		last := eph[len(eph)-1]
		if last.Channel != ch || !last.ViaResponseURL || !strings.Contains(last.Text, "/incident") {
			t.Errorf("help in %s: %+v", ch, last)
		}
	}
	h.slash(alice, dm, "/incident", "frobnicate")
	if last := h.lastEphemeral(alice); !strings.Contains(last, "`frobnicate` is not an /incident command") {
		t.Errorf("mistake in a DM between people answered %q", last)
	}
	if n := len(h.sim.Messages(h.sim.DirectChannel(alice))); n != 0 {
		t.Errorf("%d answers fell back to a direct message", n)
	}
}

func TestBotsCannotLeadOrHoldRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sim.AddUser(slacksim.User{ID: "U0HUBOT", Name: "hubot", RealName: "Hubot", IsBot: true})
	ch := h.openIncident("payments slow")
	for _, tc := range []struct{ text, want string }{
		{"tdo @sitrep it knows everything", "sitrep cannot be technical duty officer: name a person."},
		{"tdo @hubot", "<@U0HUBOT> is a bot and cannot be technical duty officer: name a person."},
		{"role comms @hubot", "<@U0HUBOT> is a bot and cannot be comms: name a person."},
		{"role scribe @sitrep", "sitrep cannot be scribe: name a person."},
	} {
		h.slash(alice, ch, "/incident", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/incident %s answered %q, want %q", tc.text, got, tc.want)
		}
	}
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.TDOID != alice || len(inc.Roles) != 0 {
		t.Errorf("after the refusals: TDO %s, roles %v", inc.TDOID, inc.Roles)
	}
	if m := h.sim.Members(h.room(1).ChannelID); len(m) != 2 {
		t.Errorf("a bot was invited: members %v", m)
	}
}
