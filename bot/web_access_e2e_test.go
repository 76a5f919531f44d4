package bot_test

import (
	"testing"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestMaySeeOnTheWeb: the dashboard asks Bot.MaySee, which answers by the
// permission model with no channel to go by: a public incident to anyone,
// a private one to its room's members and commanders only, and to someone
// who joins the room from then on (member_joined_channel).
func TestMaySeeOnTheWeb(t *testing.T) {
	t.Parallel()
	const carol = "U0CAROL"
	h := newHarness(t, withBotConfig(bot.Config{Permissions: access.Settings{Commanders: []string{carol}}}),
		withSimOptions(slacksim.Options{MemberEvents: true}))
	h.openIncident("checkout slow sev3 systems:web")
	h.slash(alice, h.general, "/incident", "open --private "+secretTitle+" sev2 systems:"+secretSystem)
	room := h.room(2).ChannelID

	public, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	private, err := h.store.IncidentByNumber(h.ctx, 2)
	if err != nil || !private.Private {
		t.Fatalf("INC-2 = %+v, %v; want it private", private, err)
	}
	for _, tc := range []struct {
		name string
		user string
		inc  bool // private?
		want bool
	}{
		{"anyone, a public incident", bob, false, true},
		{"the reporter and TDO, in the room", alice, true, true},
		{"someone not in the room", bob, true, false},
		{"a commander", carol, true, true},
		{"an unknown user", "U0NOBODY", true, false},
	} {
		inc := public
		if tc.inc {
			inc = private
		}
		if got := h.bot.MaySee(h.ctx, tc.user, inc); got != tc.want {
			t.Errorf("%s: MaySee(%s, %s) = %v, want %v", tc.name, tc.user, inc.Ref(), got, tc.want)
		}
	}
	h.sim.Join(room, bob)
	h.wait("bob in the room", func() bool { return h.bot.MaySee(h.ctx, bob, private) })
}
