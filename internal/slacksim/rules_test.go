package slacksim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// These tests pin the Slack rules the simulator enforces by default, each
// with the client that would get it wrong. See ../shared/slack/LIMITS.md.

// commandText types text as alice in channel and returns the text field of
// the slash_commands payload the app received.
func commandText(t *testing.T, sim *slacksim.Sim, channel, text string, raw bool) (string, slack.SlashCommand) {
	t.Helper()
	send := sim.SlashCommand
	if raw {
		send = sim.SlashCommandRaw
	}
	d, err := send(ctxT(t), alice, channel, "/incident", text)
	if err != nil {
		t.Fatal(err)
	}
	var cmd slack.SlashCommand
	if err := json.Unmarshal(d.Payload, &cmd); err != nil {
		t.Fatal(err)
	}
	return cmd.Text, cmd
}

func TestSlashCommandTextArrivesFormatted(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	sim.AddUserGroup(slacksim.UserGroup{ID: "S0ONCALL", Handle: "oncall", Name: "On call", Users: []string{bob}})
	ops := sim.AddChannel("ops", alice)
	connect(t, sim, nil)
	for _, tc := range []struct{ typed, want string }{
		{"open db & cache down", "open db &amp; cache down"},
		{"latency > 5s <3", "latency &gt; 5s &lt;3"},
		{"tdo @bob he knows the db", "tdo <@U0BOB|bob> he knows the db"},
		{"note asked @Bob, then @alice.", "note asked <@U0BOB|bob>, then <@U0ALICE|alice>."},
		{"note see #ops and #nowhere", "note see <#" + ops + "|ops> and #nowhere"},
		{"note @channel @here @everyone", "note <!channel> <!here> <!everyone>"},
		{"note paging @oncall", "note paging <!subteam^S0ONCALL|@oncall>"},
		{"note mail bob@example.com or @nobody", "note mail bob@example.com or @nobody"},
		{"note https://status.example.com/a?b=1&c=2.", "note <https://status.example.com/a?b=1&amp;c=2>."},
		{"note :fire: “quoted” café", "note :fire: “quoted” café"},
		{"note <@U0BOB> typed by hand", "note &lt;@U0BOB&gt; typed by hand"},
	} {
		if got, _ := commandText(t, sim, general, tc.typed, false); got != tc.want {
			t.Errorf("typed %q\n arrived %q\n want    %q", tc.typed, got, tc.want)
		}
	}
	if got, _ := commandText(t, sim, general, "a &amp; <@U0BOB|bob>", true); got != "a &amp; <@U0BOB|bob>" {
		t.Errorf("raw text changed: %q", got)
	}
}

// postHook posts body to a response_url and returns the HTTP status.
func postHook(t *testing.T, url string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestResponseURL(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sim, _ := newSim(t, slacksim.Options{Now: clk.Now})
	outside := sim.AddChannel("outside", alice)
	sim.RemoveMember(outside, sim.BotUserID())
	dm := sim.AddDM(alice, bob)
	api := apiFor(sim)
	connect(t, sim, nil)

	// chat.postEphemeral needs the bot in the channel; in a DM between two
	// people the bot sees no channel at all. The response_url works in both.
	if _, err := api.PostEphemeral(outside, alice, slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_in_channel" {
		t.Errorf("postEphemeral outside: %v, want not_in_channel", err)
	}
	if _, err := api.PostEphemeral(dm, alice, slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("postEphemeral in a DM between people: %v, want channel_not_found", err)
	}
	if _, _, err := api.PostMessage(dm, slack.MsgOptionText("x", false)); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("postMessage in a DM between people: %v, want channel_not_found", err)
	}
	for _, ch := range []string{outside, dm} {
		_, cmd := commandText(t, sim, ch, "help", false)
		if err := slack.PostWebhook(cmd.ResponseURL, &slack.WebhookMessage{Text: "answer in " + ch}); err != nil {
			t.Fatalf("response_url in %s: %v", ch, err)
		}
	}
	eph := sim.Ephemerals(alice)
	if len(eph) != 2 || eph[0].Channel != outside || eph[1].Channel != dm || !eph[1].ViaResponseURL || eph[1].Text != "answer in "+dm {
		t.Fatalf("ephemerals %+v", eph)
	}

	// Five answers per URL; the sixth is refused, and so is any after 30 min.
	_, cmd := commandText(t, sim, outside, "help", false)
	for i := range 5 {
		if code := postHook(t, cmd.ResponseURL, map[string]any{"text": "n"}); code != http.StatusOK {
			t.Fatalf("use %d: HTTP %d", i+1, code)
		}
	}
	if code := postHook(t, cmd.ResponseURL, map[string]any{"text": "n"}); code != http.StatusNotFound {
		t.Errorf("sixth use: HTTP %d, want 404", code)
	}
	_, cmd = commandText(t, sim, outside, "help", false)
	clk.Advance(31 * time.Minute)
	if code := postHook(t, cmd.ResponseURL, map[string]any{"text": "late"}); code != http.StatusNotFound {
		t.Errorf("after 31 minutes: HTTP %d, want 404", code)
	}
	_, cmd = commandText(t, sim, outside, "help", false)
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"empty", map[string]any{}, http.StatusBadRequest},
		{"bad blocks", map[string]any{"text": "x", "blocks": []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Repeat("x", 3001)}}}}, http.StatusBadRequest},
		{"in channel", map[string]any{"text": "for everyone", "response_type": "in_channel"}, http.StatusOK},
	} {
		if code := postHook(t, cmd.ResponseURL, tc.body); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
	if msgs := sim.Messages(outside); len(msgs) != 1 || msgs[0].Text != "for everyone" {
		t.Errorf("in_channel answer: %+v", msgs)
	}
}

func TestMembershipForFilesAndPosts(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	outside := sim.AddChannel("outside", alice)
	sim.RemoveMember(outside, sim.BotUserID())
	api := apiFor(sim)
	ctx := ctxT(t)
	// chat:write.public: a message goes into a public channel the bot has
	// not joined; a file share does not.
	if _, _, err := api.PostMessage(outside, slack.MsgOptionText("announcement", false)); err != nil {
		t.Errorf("post to a public channel not joined: %v", err)
	}
	upload := func() error {
		_, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: strings.NewReader("png"), FileSize: 3,
			Filename: "pareto.png", Channel: outside})
		return err
	}
	if err := upload(); !strings.HasSuffix(errText(err), "not_in_channel") {
		t.Errorf("file share before joining: %v, want not_in_channel", err)
	}
	if _, _, _, err := api.JoinConversation(outside); err != nil {
		t.Fatal(err)
	}
	if err := upload(); err != nil {
		t.Errorf("file share after joining: %v", err)
	}

	strict, _ := newSim(t, slacksim.Options{NoWritePublic: true})
	out2 := strict.AddChannel("outside", alice)
	strict.RemoveMember(out2, strict.BotUserID())
	if _, _, err := apiFor(strict).PostMessage(out2, slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_in_channel" {
		t.Errorf("without chat:write.public: %v, want not_in_channel", err)
	}
	secret := strict.AddChannel("secret", alice)
	strict.RemoveMember(secret, strict.BotUserID())
	if _, _, _, err := apiFor(strict).JoinConversation(secret); err != nil {
		t.Errorf("joining a public channel: %v", err)
	}
}

func TestLostAnswerThenNameTaken(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	sim.LoseAnswers("conversations.create", 1)
	_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-5-db-down"})
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusGatewayTimeout {
		t.Fatalf("first create: %v, want HTTP 504", err)
	}
	ch := sim.ChannelByName("inc-5-db-down")
	if ch == nil || ch.Creator != sim.BotUserID() {
		t.Fatalf("the lost create did not take effect: %+v", ch)
	}
	if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-5-db-down"}); err == nil || err.Error() != "name_taken" {
		t.Errorf("retry: %v, want name_taken", err)
	}
}

func TestNewChannelNotFoundForAMoment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		lag  time.Duration
		want string
	}{
		{"default lag", 0, "channel_not_found"},
		{"lag off", -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, _ := newSim(t, slacksim.Options{CreateLag: tc.lag})
			api := apiFor(sim)
			ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-7-web"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = api.InviteUsersToConversation(ch.ID, alice)
			if got := errText(err); got != tc.want {
				t.Fatalf("invite at once: %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				return
			}
			// A client that gives up here leaves the room half made; one that
			// retries briefly gets through.
			deadline := time.Now().Add(2 * time.Second)
			for errText(err) == "channel_not_found" && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				_, err = api.InviteUsersToConversation(ch.ID, alice)
			}
			if err != nil {
				t.Fatalf("invite after the lag: %v", err)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCantInviteSelf(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	_, err := apiFor(sim).InviteUsersToConversation(general, sim.BotUserID())
	if errText(err) != "cant_invite_self" {
		t.Errorf("inviting the bot: %v, want cant_invite_self", err)
	}
	u, err := apiFor(sim).GetUserInfo(sim.BotUserID())
	if err != nil || !u.IsBot {
		t.Errorf("users.info of the bot: %+v, %v", u, err)
	}
}

func TestRateLimitIsPerMethod(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sim, general := newSim(t, slacksim.Options{Now: clk.Now})
	api := apiFor(sim)
	_, ts, err := api.PostMessage(general, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	sim.SetRateLimit("chat.update", 20, 1)
	update := func() error {
		_, _, _, err := api.UpdateMessage(general, ts, slack.MsgOptionText("y", false))
		return err
	}
	if err := update(); err != nil {
		t.Fatal(err)
	}
	// A client that waits only for the call that got the 429, while its
	// other chat.update calls go out, is refused on every one of them.
	var rl *slack.RateLimitedError
	for i := range 3 {
		if err := update(); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
			t.Fatalf("chat.update %d inside Retry-After: %v", i, err)
		}
	}
	if _, _, err := api.PostMessage(general, slack.MsgOptionText("other method", false)); err != nil {
		t.Errorf("another method is not limited: %v", err)
	}
	clk.Advance(3 * time.Second)
	if err := update(); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}
