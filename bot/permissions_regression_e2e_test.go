package bot_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
)

// The regressions of issue 15, "Who may do what", each by name.

// TestRoleIsNotABackDoor: carol, who is not in INC-1's room, can neither
// give herself (or anyone) a role, which would invite her, nor take
// command; once refused, she is still outside and INC-1 unchanged.
func TestRoleIsNotABackDoor(t *testing.T) {
	t.Parallel()
	h, random := newPermHarness(t, access.Settings{})
	ch := h.openIncident("checkout down sev1")
	for _, text := range []string{"role INC-1 comms <@U0CAROL>", "role INC-1 scribe <@U0BOB>", "tdo INC-1 <@U0CAROL>", "lead INC-1 <@U0CAROL> I know this"} {
		h.slash(carol, random, "/incident", text)
		if got := h.lastEphemeral(carol); !strings.Contains(got, "Only people in <#"+ch+"> or a commander can") {
			t.Errorf("%q answered %q", text, got)
		}
	}
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if len(inc.Roles) != 0 || inc.TDOID != alice {
		t.Errorf("INC-1 roles %v, TDO %s", inc.Roles, inc.TDOID)
	}
	for _, m := range h.sim.Channel(ch).Members {
		if m == carol {
			t.Error("carol was invited into the room")
		}
	}
	if got := h.bot.Stats().Refusals; got != 4 {
		t.Errorf("refusals = %d, want 4", got)
	}
	// Under the tdo policy a member of the room cannot use a role either.
	h2, _ := newPermHarness(t, access.Settings{Handover: access.HandoverTDO})
	ch2 := h2.openIncident("checkout down sev1")
	h2.join(ch2, bob)
	h2.slash(bob, ch2, "/incident", "role comms <@U0BOB>")
	if got := h2.lastEphemeral(bob); !strings.Contains(got, "Only the technical duty officer of INC-1 <@U0ALICE> or a commander can give roles in INC-1") {
		t.Errorf("role under the tdo policy answered %q", got)
	}
	h2.clickIn(bob, ch2, "incident_take_command")
	if inc, _ := h2.store.IncidentByNumber(h2.ctx, 1); len(inc.Roles) != 0 || inc.TDOID != alice {
		t.Errorf("under the tdo policy: roles %v, TDO %s", inc.Roles, inc.TDOID)
	}
}

// TestOutsiderCannotChangeIncident: from #random, carol can set neither
// severity nor status, nor close INC-1.
func TestOutsiderCannotChangeIncident(t *testing.T) {
	t.Parallel()
	h, random := newPermHarness(t, access.Settings{})
	h.openIncident("checkout down sev2")
	inc0, _ := h.store.IncidentByNumber(h.ctx, 1)
	for _, c := range []struct{ text, want string }{
		{"sev INC-1 1", "or a commander can change INC-1"},
		{"sev INC-1 4 fine now", "Only the technical duty officer of INC-1 <@U0ALICE> or a commander can lower the severity of INC-1"},
		{"status INC-1 resolved", "or a commander can change INC-1"},
		{"close INC-1", "Only the technical duty officer of INC-1 <@U0ALICE> or a commander can close INC-1"},
	} {
		h.slash(carol, random, "/incident", c.text)
		if got := h.lastEphemeral(carol); !strings.Contains(got, c.want) {
			t.Errorf("%q answered %q", c.text, got)
		}
	}
	if inc, _ := h.store.IncidentByNumber(h.ctx, 1); !reflect.DeepEqual(inc, inc0) {
		t.Errorf("INC-1 changed:\n%+v\n%+v", inc0, inc)
	}
}

// TestCommanderGroupMayDoAnything: erin, in the commanders' user group
// (read with usergroups.users.list), takes command of INC-1 and closes it
// from #random; once out of the group (after the cache's minute) she may
// not.
func TestCommanderGroupMayDoAnything(t *testing.T) {
	t.Parallel()
	h, random := newPermHarness(t, access.Settings{CommanderGroups: []string{"S0ONCALL"}})
	h.openIncident("checkout down sev1")
	h.slash(erin, random, "/incident", "tdo INC-1 <@U0ERIN> taking over")
	h.slash(erin, random, "/incident", "sev INC-1 3 contained")
	h.slash(erin, random, "/incident", "status INC-1 resolved")
	h.slash(erin, random, "/incident", "close INC-1")
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	if inc.TDOID != erin || inc.Severity != incident.Sev3 || inc.ClosedAt.IsZero() {
		t.Errorf("INC-1 after erin: %+v; answers %q", inc, h.ephemeralTexts(erin))
	}
	if n := h.sim.Calls("usergroups.users.list"); n != 1 {
		t.Errorf("usergroups.users.list called %d times, want 1 (cached)", n)
	}
	h.sim.SetUserGroupMembers("S0ONCALL", dave)
	h.openIncident("search down sev1")
	h.slash(erin, random, "/incident", "status INC-2 identified")
	if inc, _ := h.store.IncidentByNumber(h.ctx, 2); inc.Status != incident.StatusIdentified {
		t.Errorf("refused within the cache's minute: %q", h.ephemeralTexts(erin))
	}
	h.clock.Advance(2 * time.Minute)
	h.slash(erin, random, "/incident", "status INC-2 monitoring")
	if got := h.lastEphemeral(erin); !strings.Contains(got, "or a commander can change INC-2") {
		t.Errorf("out of the group, erin was answered %q", got)
	}
	h.slash(dave, random, "/incident", "status INC-2 monitoring")
	if inc, _ := h.store.IncidentByNumber(h.ctx, 2); inc.Status != incident.StatusMonitoring {
		t.Errorf("dave, now in the group: status %s; answers %q", inc.Status, h.ephemeralTexts(dave))
	}
}

// TestMembershipFollowsEvents: who may act follows member_joined_channel
// and member_left_channel, without a conversations.members call per check.
func TestMembershipFollowsEvents(t *testing.T) {
	t.Parallel()
	h, random := newPermHarness(t, access.Settings{})
	ch := h.openIncident("checkout down sev1")
	note := func(user, text string) string {
		t.Helper()
		h.slash(user, random, "/incident", "note INC-1 "+text)
		return h.lastEphemeral(user)
	}
	if got := note(carol, "one"); !strings.Contains(got, "join the room first") {
		t.Fatalf("carol outside: %q", got)
	}
	reads := h.sim.Calls("conversations.members")
	h.join(ch, carol)
	if got := note(carol, "two"); !strings.Contains(got, "noted on the timeline for INC-1") {
		t.Errorf("carol after joining: %q", got)
	}
	h.leave(ch, carol)
	if got := note(carol, "three"); !strings.Contains(got, "join the room first") {
		t.Errorf("carol after leaving: %q", got)
	}
	// Invited by the bot (a role), bob becomes a member too.
	h.slash(alice, ch, "/incident", "role comms <@U0BOB>")
	h.idle()
	if got := note(bob, "four"); !strings.Contains(got, "noted on the timeline for INC-1") {
		t.Errorf("bob, invited: %q", got)
	}
	if n := h.sim.Calls("conversations.members") - reads; n != 0 {
		t.Errorf("%d conversations.members calls after the first read, want 0", n)
	}
	inc, _ := h.store.IncidentByNumber(h.ctx, 1)
	timeline, _ := incident.NewService(h.store, h.clock).Timeline(h.ctx, inc)
	var notes []string
	for _, e := range timeline {
		if e.Kind == incident.EntryNote {
			notes = append(notes, e.Text)
		}
	}
	if !reflect.DeepEqual(notes, []string{"two", "four"}) {
		t.Errorf("notes = %q", notes)
	}
}
