package slacksim_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// memberEvents returns the inner events of the events_api deliveries.
func memberEvents(t *testing.T, sim *slacksim.Sim) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range sim.Deliveries() {
		if d.Type != slacksim.TypeEventsAPI {
			continue
		}
		var p struct {
			Type  string         `json:"type"`
			Event map[string]any `json:"event"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil || p.Type != "event_callback" {
			t.Fatalf("payload %s: %v", d.Payload, err)
		}
		out = append(out, p.Event)
	}
	return out
}

func TestMemberEvents(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{MemberEvents: true})
	const carol = "U0CAROL"
	sim.AddUser(slacksim.User{ID: carol, Name: "carol"})
	quiet := sim.AddChannel("quiet", alice)
	sim.RemoveMember(quiet, sim.BotUserID()) // the bot is not there: no events
	a := connect(t, sim, nil)

	sim.Join(general, carol)
	sim.Join(quiet, carol)
	sim.RemoveMember(general, carol)
	if _, err := a.api.InviteUsersToConversation(general, carol); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sim, func() bool { return len(memberEvents(t, sim)) == 3 })
	got := memberEvents(t, sim)
	want := []map[string]any{
		{"type": "member_joined_channel", "user": carol, "channel": general, "channel_type": "C", "team": sim.TeamID()},
		{"type": "member_left_channel", "user": carol, "channel": general, "channel_type": "C", "team": sim.TeamID()},
		{"type": "member_joined_channel", "user": carol, "channel": general, "channel_type": "C", "team": sim.TeamID(), "inviter": sim.BotUserID()},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("event %d: %s = %v, want %v (%v)", i, k, got[i][k], v, got[i])
			}
		}
		if _, has := got[i]["inviter"]; has != (w["inviter"] != nil) {
			t.Errorf("event %d: inviter %v", i, got[i]["inviter"])
		}
	}
}

func TestNoMemberEventsUnsubscribed(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	connect(t, sim, nil)
	sim.Join(general, "U0CAROL")
	sim.RemoveMember(general, bob)
	if n := len(memberEvents(t, sim)); n != 0 {
		t.Errorf("%d events sent to an app not subscribed to them", n)
	}
}

func TestUserGroupsUsersList(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	sim.AddUserGroup(slacksim.UserGroup{ID: "S0ONCALL", Handle: "oncall", Users: []string{alice}})
	sim.AddUserGroup(slacksim.UserGroup{ID: "S0OLD", Handle: "old", Users: []string{bob}, Disabled: true})
	api := apiFor(sim)
	users, err := api.GetUserGroupMembers("S0ONCALL")
	if err != nil || !slices.Equal(users, []string{alice}) {
		t.Errorf("members = %v, %v", users, err)
	}
	sim.SetUserGroupMembers("S0ONCALL", alice, bob)
	if users, _ := api.GetUserGroupMembers("S0ONCALL"); !slices.Equal(users, []string{alice, bob}) {
		t.Errorf("after the edit: members = %v", users)
	}
	for _, id := range []string{"S0NONE", "S0OLD"} {
		if _, err := api.GetUserGroupMembers(id); err == nil || err.Error() != "no_such_subteam" {
			t.Errorf("%s: err = %v, want no_such_subteam", id, err)
		}
	}
	users, err = api.GetUserGroupMembersContext(ctxT(t), "S0OLD", slack.GetUserGroupMembersOptionIncludeDisabled(true))
	if err != nil || !slices.Equal(users, []string{bob}) {
		t.Errorf("disabled group with include_disabled: %v, %v", users, err)
	}
}

func TestConversationsMembersPages(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	for _, id := range []string{"U0C", "U0D", "U0E"} {
		sim.AddUser(slacksim.User{ID: id, Name: strings.ToLower(id)})
		sim.Join(general, id)
	}
	api := apiFor(sim)
	var all []string
	cursor, pages := "", 0
	for {
		page, next, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: general, Cursor: cursor, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		all, cursor, pages = append(all, page...), next, pages+1
		if cursor == "" {
			break
		}
	}
	if want := sim.Members(general); pages != 3 || !slices.Equal(all, want) {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, all, want)
	}
	if _, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: general, Cursor: "nonsense"}); err == nil || err.Error() != "invalid_cursor" {
		t.Errorf("bad cursor: %v", err)
	}
}
