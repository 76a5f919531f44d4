package slacksim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/slacksim"
)

func TestWebAPIErrors(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	outside := sim.AddChannel("outside", alice)
	sim.RemoveMember(outside, sim.BotUserID())
	_, ts, err := api.PostMessage(general, slack.MsgOptionText("hello", false))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 3001)
	badBlocks := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", long, false, false), nil, nil))
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"create taken", func() error {
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "general"})
			return err
		}, "name_taken"},
		{"create upper", func() error {
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "Inc-1"})
			return err
		}, "invalid_name_specials"},
		{"create space", func() error {
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc 1"})
			return err
		}, "invalid_name_specials"},
		{"create long", func() error {
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: strings.Repeat("a", 81)})
			return err
		}, "invalid_name_maxlength"},
		{"create empty", func() error { _, err := api.CreateConversation(slack.CreateConversationParams{}); return err }, "invalid_name_required"},
		{"post nowhere", func() error { _, _, err := api.PostMessage("C9999", slack.MsgOptionText("x", false)); return err }, "channel_not_found"},
		{"post empty", func() error { _, _, err := api.PostMessage(general); return err }, "no_text"},
		{"post bad blocks", func() error { _, _, err := api.PostMessage(general, badBlocks); return err }, "invalid_blocks"},
		{"topic outside", func() error { _, err := api.SetTopicOfConversation(outside, "x"); return err }, "not_in_channel"},
		{"topic long", func() error { _, err := api.SetTopicOfConversation(general, strings.Repeat("t", 251)); return err }, "too_long"},
		{"invite outside", func() error { _, err := api.InviteUsersToConversation(outside, bob); return err }, "not_in_channel"},
		{"invite member", func() error { _, err := api.InviteUsersToConversation(general, alice); return err }, "already_in_channel"},
		{"invite nobody", func() error { _, err := api.InviteUsersToConversation(general, "U404"); return err }, "user_not_found"},
		{"update missing", func() error {
			_, _, _, err := api.UpdateMessage(general, "1.000001", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"pin missing", func() error { return api.AddPin(general, slack.ItemRef{Timestamp: "1.000001"}) }, "message_not_found"},
		{"pin outside", func() error { return api.AddPin(outside, slack.ItemRef{Timestamp: ts}) }, "not_in_channel"},
		{"user missing", func() error { _, err := api.GetUserInfo("U404"); return err }, "user_not_found"},
		{"ephemeral to stranger", func() error { _, err := api.PostEphemeral(outside, bob, slack.MsgOptionText("x", false)); return err }, "not_in_channel"},
		{"open bad trigger", func() error { _, err := api.OpenView("nope", slack.ModalViewRequest{}); return err }, "invalid_trigger_id"},
	} {
		err := tc.call()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	if got := len(sim.BlockKitErrors()); got != 1 {
		t.Errorf("BlockKitErrors has %d entries, want 1 (the invalid_blocks post)", got)
	}
	if err := api.AddPin(general, slack.ItemRef{Timestamp: ts}); err != nil {
		t.Fatal(err)
	}
	if err := api.AddPin(general, slack.ItemRef{Timestamp: ts}); err == nil || err.Error() != "already_pinned" {
		t.Errorf("second pin: %v", err)
	}
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{CreateLag: -1})
	api := apiFor(sim)
	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1-db-is-down"})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.IsMember || ch.Name != "inc-1-db-is-down" || !strings.HasPrefix(ch.ID, "C") {
		t.Errorf("created %+v", ch)
	}
	if _, err := api.InviteUsersToConversation(ch.ID, alice, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversation(ch.ID, alice, "U0CAROL"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("invite with unknown user: %v", err)
	}
	if _, err := api.SetTopicOfConversation(ch.ID, "SEV1 · Investigating"); err != nil {
		t.Fatal(err)
	}
	_, ts1, err := api.PostMessage(ch.ID, slack.MsgOptionText("header", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("acts", slack.NewButtonBlockElement("ack", "v1", slack.NewTextBlockObject("plain_text", "Ack", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	_, ts2, err := api.PostMessage("#inc-1-db-is-down", slack.MsgOptionText("second", false))
	if err != nil || !(ts1 < ts2) {
		t.Fatalf("ts %q then %q, err %v", ts1, ts2, err)
	}
	if _, _, _, err := api.UpdateMessage(ch.ID, ts1, slack.MsgOptionText("header v2", false)); err != nil {
		t.Fatal(err)
	}
	if err := api.AddPin(ch.ID, slack.ItemRef{Timestamp: ts1}); err != nil {
		t.Fatal(err)
	}
	got := sim.ChannelByName("inc-1-db-is-down")
	if got == nil || strings.Join(got.Members, ",") != "UBOT,U0ALICE,U0BOB" || sim.Topic(got.ID) != "SEV1 · Investigating" {
		t.Fatalf("channel = %+v", got)
	}
	m := sim.Message(ch.ID, ts1)
	if m == nil || m.Text != "header v2" || !m.Edited || m.UpdatedCount != 1 || len(m.Blocks) == 0 {
		t.Errorf("updated message = %+v", m)
	}
	if pins := sim.Pins(ch.ID); len(pins) != 1 || pins[0] != ts1 {
		t.Errorf("pins = %v", pins)
	}
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: ch.ID})
	if err != nil || info.Topic.Value != "SEV1 · Investigating" {
		t.Errorf("info = %+v, %v", info, err)
	}
	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch.ID})
	if err != nil || len(hist.Messages) != 2 || hist.Messages[0].Timestamp != ts2 {
		t.Errorf("history = %+v, %v", hist, err)
	}
	// Pagination walks every channel exactly once.
	for i := range 5 {
		sim.AddChannel("extra-" + string(rune('a'+i)))
	}
	var names []string
	cursor := ""
	for {
		chans, next, err := api.GetConversations(&slack.GetConversationsParameters{Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chans {
			names = append(names, c.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(names) != 7 {
		t.Errorf("listed %v", names)
	}
	u, err := api.GetUserInfo(bob)
	if err != nil || u.RealName != "Bob Dobbs" || u.TZ != "America/New_York" || u.TZOffset > -4*3600 || u.Profile.DisplayName != "bob" {
		t.Errorf("users.info = %+v, %v", u, err)
	}
	// A message to a user ID lands in the bot's direct message with them.
	dm, _, err := api.PostMessage(alice, slack.MsgOptionText("psst", false))
	if err != nil || dm != sim.DirectChannel(alice) || len(sim.Messages(dm)) != 1 {
		t.Errorf("direct message to %s: %v", dm, err)
	}
	if _, err := api.PostEphemeral(ch.ID, alice, slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	if e := sim.Ephemerals(alice); len(e) != 1 || e[0].Text != "only you" || e[0].Channel != ch.ID {
		t.Errorf("ephemerals = %+v", e)
	}
}

func TestRateLimitsAndFaults(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sim, general := newSim(t, slacksim.Options{Now: clk.Now})
	api := apiFor(sim)
	sim.SetRateLimit("chat.postMessage", 20, 2)
	post := func() error { _, _, err := api.PostMessage(general, slack.MsgOptionText("x", false)); return err }
	for range 2 {
		if err := post(); err != nil {
			t.Fatal(err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("over the limit: %v", err)
	}
	clk.Advance(3 * time.Second)
	if err := post(); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	sim.SetRateLimit("chat.postMessage", 0, 0)

	sim.FailNext("pins.add", 1, 429)
	if err := api.AddPin(general, slack.ItemRef{Timestamp: "1.1"}); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("FailNext 429: %v", err)
	}
	sim.FailNext("pins.add", 2, 503)
	for range 2 {
		var sc slack.StatusCodeError
		if err := api.AddPin(general, slack.ItemRef{Timestamp: "1.1"}); !errors.As(err, &sc) || sc.Code != 503 {
			t.Errorf("FailNext 503: %v", err)
		}
	}
	if err := api.AddPin(general, slack.ItemRef{Timestamp: "1.1"}); err == nil || err.Error() != "message_not_found" {
		t.Errorf("after faults: %v", err)
	}
	if sim.Calls("pins.add") != 4 || sim.Calls("chat.postMessage") != 4 || sim.TotalCalls() != 8 {
		t.Errorf("calls: pins %d post %d total %d", sim.Calls("pins.add"), sim.Calls("chat.postMessage"), sim.TotalCalls())
	}
	sim.ResetCalls()
	if sim.TotalCalls() != 0 {
		t.Error("ResetCalls")
	}
}

func TestArchive(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	ch := sim.AddChannel("inc-1-old")
	if err := api.ArchiveConversation(ch); err != nil {
		t.Fatal(err)
	}
	if c := sim.Channel(ch); c == nil || !c.IsArchived {
		t.Fatalf("channel = %+v, want archived", c)
	}
	if _, _, err := api.PostMessage(ch, slack.MsgOptionText("hello", false)); err == nil || err.Error() != "is_archived" {
		t.Errorf("post to an archived channel = %v, want is_archived", err)
	}
	if err := api.ArchiveConversation(ch); err == nil || err.Error() != "already_archived" {
		t.Errorf("archive twice = %v, want already_archived", err)
	}
	if err := api.ArchiveConversation(general); err == nil || err.Error() != "cant_archive_general" {
		t.Errorf("archive #general = %v", err)
	}
}

// TestUsersInfoTimeZone checks users.info's time zone fields as Slack
// documents them: tz the IANA name, tz_label the zone's long name as it
// stands on the day (standard or daylight time), tz_offset in seconds.
func TestUsersInfoTimeZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tz     string
		at     time.Time
		label  string
		offset int
	}{
		{"America/Los_Angeles", time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "Pacific Standard Time", -8 * 3600},
		{"America/Los_Angeles", time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), "Pacific Daylight Time", -7 * 3600},
		{"Europe/London", time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), "British Summer Time", 3600},
		{"Asia/Tokyo", time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "Japan Standard Time", 9 * 3600},
		{"", time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "Coordinated Universal Time", 0},
	} {
		t.Run(tc.tz+tc.label, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(tc.at)
			sim, _ := newSim(t, slacksim.Options{Now: clk.Now})
			sim.AddUser(slacksim.User{ID: "U0ZED", Name: "zed", TZ: tc.tz})
			u, err := apiFor(sim).GetUserInfo("U0ZED")
			if err != nil {
				t.Fatal(err)
			}
			want := tc.tz
			if want == "" {
				want = "UTC"
			}
			if u.TZ != want || u.TZLabel != tc.label || u.TZOffset != tc.offset {
				t.Errorf("tz %q, tz_label %q, tz_offset %d; want %q, %q, %d", u.TZ, u.TZLabel, u.TZOffset, want, tc.label, tc.offset)
			}
		})
	}
}
