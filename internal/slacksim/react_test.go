package slacksim_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

func TestReactSendsReactionAdded(t *testing.T) {
	sim, general := newSim(t, slacksim.Options{})
	a := connect(t, sim, nil)
	ts := sim.Say(bob, general, "db-2 disk is full")
	d, err := sim.React(ctxT(t), alice, general, ts, ":pushpin:")
	if err != nil || d == nil {
		t.Fatalf("React = %v, %v", d, err)
	}
	var cb struct {
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(d.Payload, &cb); err != nil {
		t.Fatal(err)
	}
	var ev slackevents.ReactionAddedEvent
	if err := json.Unmarshal(cb.Event, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "reaction_added" || ev.User != alice || ev.Reaction != "pushpin" || ev.ItemUser != bob ||
		ev.Item.Type != "message" || ev.Item.Channel != general || ev.Item.Timestamp != ts || ev.EventTimestamp == "" {
		t.Errorf("event = %+v", ev)
	}
	waitFor(t, sim, func() bool { return len(a.seen(socketmode.EventTypeEventsAPI)) >= 1 })
}

func TestReactRefuses(t *testing.T) {
	sim, general := newSim(t, slacksim.Options{})
	connect(t, sim, nil)
	ts := sim.Say(bob, general, "hello")
	secret := sim.AddPrivateChannel("secret", bob)
	hidden := sim.Say(bob, secret, "psst")
	for _, tc := range []struct {
		name, user, channel, ts, emoji, want string
	}{
		{"bad name", alice, general, ts, "push pin", "invalid_name"},
		{"upper case", alice, general, ts, "PushPin", "invalid_name"},
		{"no message", alice, general, "1.000001", "pushpin", "message_not_found"},
		{"unknown user", "U0NOBODY", general, ts, "pushpin", "unknown user"},
		{"private, not a member", alice, secret, hidden, "pushpin", "not in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sim.React(ctxT(t), tc.user, tc.channel, tc.ts, tc.emoji); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("React = %v, want an error with %q", err, tc.want)
			}
		})
	}
	// The bot is not in #secret: the reaction is made, no event is sent.
	if d, err := sim.React(ctxT(t), bob, secret, hidden, "eyes"); err != nil || d != nil {
		t.Errorf("React outside the bot's channels = %v, %v; want no delivery", d, err)
	}
}

// TestReactionsAreKept checks a reaction stays on its message, as
// conversations.history shows it, and that reacting again with the same
// emoji adds nothing and sends no second event; another person's
// reaction counts.
func TestReactionsAreKept(t *testing.T) {
	sim, general := newSim(t, slacksim.Options{})
	connect(t, sim, nil)
	ts := sim.Say(bob, general, "db-2 disk is full")
	if _, err := sim.React(ctxT(t), alice, general, ts, "pushpin"); err != nil {
		t.Fatal(err)
	}
	if d, err := sim.React(ctxT(t), alice, general, ts, "pushpin"); err == nil || d != nil || !strings.Contains(err.Error(), "already_reacted") {
		t.Errorf("second reaction = %v, %v; want already_reacted and no event", d, err)
	}
	if _, err := sim.React(ctxT(t), bob, general, ts, "pushpin"); err != nil {
		t.Fatal(err)
	}
	h, err := apiFor(sim).GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Latest: ts, Inclusive: true, Limit: 1})
	if err != nil || len(h.Messages) != 1 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	r := h.Messages[0].Reactions
	if len(r) != 1 || r[0].Name != "pushpin" || r[0].Count != 2 || strings.Join(r[0].Users, ",") != alice+","+bob {
		t.Errorf("reactions = %+v, want pushpin by alice and bob", r)
	}
}
