package slacksim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestPrivateChannels checks the simulator against what Slack documents for
// private channels: the bot sees only those it is in (others answer
// channel_not_found), conversations.list shows them only when types asks for
// private_channel, a channel made with is_private has its creator as a
// member and is is_channel and is_private (not is_group, which only pre-2021
// private channels have), and no one types in a private channel they are not
// in.
func TestPrivateChannels(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{CreateLag: -1})
	api := apiFor(sim)
	ctx := context.Background()

	theirs := sim.AddPrivateChannel("alices-secrets", alice)
	for name, call := range map[string]func() error{
		"conversations.info": func() error {
			_, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: theirs})
			return err
		},
		"conversations.members": func() error {
			_, _, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: theirs})
			return err
		},
		"chat.postMessage": func() error {
			_, _, err := api.PostMessageContext(ctx, theirs, slack.MsgOptionText("hi", false))
			return err
		},
	} {
		if err := call(); err == nil || err.Error() != "channel_not_found" {
			t.Errorf("%s on a private channel the bot is not in = %v, want channel_not_found", name, err)
		}
	}

	ours, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-private", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ours.IsPrivate || !ours.IsChannel || ours.IsGroup || !ours.IsMember {
		t.Errorf("created private channel = is_private %v, is_channel %v, is_group %v, is_member %v; want true, true, false, true",
			ours.IsPrivate, ours.IsChannel, ours.IsGroup, ours.IsMember)
	}
	names := func(types ...string) string {
		chans, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Types: types})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range chans {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(); got != "general" {
		t.Errorf("conversations.list (default types) = %s, want general only", got)
	}
	if got := names("public_channel", "private_channel"); got != "general,inc-1-private" {
		t.Errorf("conversations.list with private_channel = %s, want general,inc-1-private (not alices-secrets)", got)
	}

	if _, err := sim.SlashCommand(ctx, bob, ours.ID, "/incident", "list"); err == nil {
		t.Error("bob typed in a private channel he is not in")
	}
	if _, err := api.InviteUsersToConversationContext(ctx, ours.ID, bob); err != nil {
		t.Fatal(err)
	}
	if got := sim.Members(ours.ID); len(got) != 2 {
		t.Errorf("members after the invite = %v", got)
	}
}

// TestRename checks conversations.rename as Slack documents it: only the
// channel's creator may rename it, a taken name is refused, the new name is
// what the channel is found by.
func TestRename(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{CreateLag: -1})
	api := apiFor(sim)
	ctx := context.Background()
	ours, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-zanzibar"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.RenameConversationContext(ctx, ours.ID, "general"); err == nil || err.Error() != "name_taken" {
		t.Errorf("renaming to a taken name = %v, want name_taken", err)
	}
	if _, err := api.RenameConversationContext(ctx, general, "town-square"); err == nil || err.Error() != "not_authorized" {
		t.Errorf("renaming a channel alice made = %v, want not_authorized", err)
	}
	ch, err := api.RenameConversationContext(ctx, ours.ID, "inc-1-moved")
	if err != nil || ch.Name != "inc-1-moved" || sim.ChannelByName("inc-1-moved") == nil || sim.ChannelByName("inc-1-zanzibar") != nil {
		t.Errorf("rename = %+v, %v", ch, err)
	}
}
