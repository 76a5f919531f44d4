package slacksim_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

func TestAuthTest(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	resp, err := apiFor(sim).AuthTest()
	if err != nil {
		t.Fatal(err)
	}
	if resp.UserID != sim.BotUserID() || resp.TeamID != sim.TeamID() || resp.BotID == "" {
		t.Errorf("auth.test = %+v", resp)
	}
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(sim.APIURL()))
	if _, err := bad.AuthTest(); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong token: err = %v, want invalid_auth", err)
	}
}

func TestConnectionsOpenTokens(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	for _, tc := range []struct{ name, token, want string }{
		{"bot token", sim.BotToken(), "not_allowed_token_type"},
		{"no token", "", "not_authed"},
		{"wrong app token", "xapp-1-wrong", "invalid_auth"},
	} {
		api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(tc.token))
		_, _, err := api.StartSocketModeContext(ctxT(t))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
	_, url, err := apiFor(sim).StartSocketModeContext(ctxT(t))
	if err != nil || !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("app token: url %q err %v", url, err)
	}
}

func TestSlashCommandArrives(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	a := connect(t, sim, nil)
	hello := a.seen(socketmode.EventTypeHello)[0].Request
	if hello.NumConnections != 1 || hello.ConnectionInfo.AppID == "" {
		t.Errorf("hello = %+v", hello)
	}
	d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "open db is down")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Acked || d.AckedAt.Before(d.SentAt) || d.TriggerID == "" || d.Type != slacksim.TypeSlashCommands {
		t.Errorf("delivery = %+v", d)
	}
	cmds := a.seen(socketmode.EventTypeSlashCommand)
	if len(cmds) != 1 {
		t.Fatalf("got %d slash command events", len(cmds))
	}
	cmd := cmds[0].Data.(slack.SlashCommand)
	want := slack.SlashCommand{Token: cmd.Token, TeamID: sim.TeamID(), TeamDomain: "sitrep-sim", ChannelID: general,
		ChannelName: "general", UserID: alice, UserName: "alice", Command: "/incident", Text: "open db is down",
		ResponseURL: cmd.ResponseURL, TriggerID: d.TriggerID, APIAppID: slacksim.DefaultAppID}
	if cmd != want {
		t.Errorf("slash command\n got %+v\nwant %+v", cmd, want)
	}
	if cmds[0].Request.EnvelopeID != d.EnvelopeID || !cmds[0].Request.AcceptsResponsePayload {
		t.Errorf("envelope = %+v", cmds[0].Request)
	}
	if got := sim.AckLatencies(); len(got) != 1 || got[0] <= 0 {
		t.Errorf("ack latencies = %v", got)
	}
}

func TestUnackedCommandIsRecorded(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{AckTimeout: 100 * time.Millisecond})
	connect(t, sim, func(a *app, e socketmode.Event) {}) // never acks
	d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "help")
	if !errors.Is(err, slacksim.ErrNotAcked) || d.Acked || !d.Late {
		t.Fatalf("err = %v, delivery = %+v", err, d)
	}
	if u := sim.Unacked(); len(u) != 1 || u[0].EnvelopeID != d.EnvelopeID {
		t.Errorf("unacked = %+v", u)
	}
	if len(sim.Deliveries()) != 1 {
		t.Errorf("slash commands must not be redelivered: %d deliveries", len(sim.Deliveries()))
	}
}

func TestEventRedeliveredUntilAcked(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{AckTimeout: 100 * time.Millisecond})
	connect(t, sim, func(a *app, e socketmode.Event) {
		if e.Type == socketmode.EventTypeEventsAPI && e.Request.RetryAttempt >= 2 {
			_ = a.sm.Ack(*e.Request)
		}
	})
	d, err := sim.SendEvent(ctxT(t), map[string]any{"type": "app_mention", "user": alice, "text": "<@UBOT> hi",
		"channel": general, "ts": "1.000001", "event_ts": "1.000001"})
	if err != nil {
		t.Fatal(err)
	}
	if d.RetryAttempt != 2 || d.RetryReason != "timeout" || !d.Acked {
		t.Errorf("acked delivery = %+v", d)
	}
	all := sim.Deliveries()
	if len(all) != 3 {
		t.Fatalf("%d deliveries, want 3", len(all))
	}
	var ids []string
	for i, x := range all {
		var p struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(x.Payload, &p)
		ids = append(ids, p.EventID)
		if x.RetryAttempt != i {
			t.Errorf("delivery %d retry_attempt %d", i, x.RetryAttempt)
		}
	}
	if ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] || all[0].EnvelopeID == all[1].EnvelopeID {
		t.Errorf("retries must keep event_id and change envelope_id: %v", ids)
	}
	if len(sim.Unacked()) != 2 {
		t.Errorf("unacked = %d, want 2", len(sim.Unacked()))
	}
}

func TestEventGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{AckTimeout: 50 * time.Millisecond})
	a := connect(t, sim, func(a *app, e socketmode.Event) {})
	_, err := sim.SendEvent(ctxT(t), json.RawMessage(`{"type":"app_mention","text":"hi"}`))
	if !errors.Is(err, slacksim.ErrNotAcked) {
		t.Fatalf("err = %v", err)
	}
	waitFor(t, sim, func() bool { return len(a.seen(socketmode.EventTypeEventsAPI)) == 4 })
	ev := a.seen(socketmode.EventTypeEventsAPI)[3]
	if ev.Request.RetryAttempt != 3 || ev.Data.(slackevents.EventsAPIEvent).InnerEvent.Type != "app_mention" {
		t.Errorf("last attempt = %+v", ev.Request)
	}
}

func TestDisconnectReconnects(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	a := connect(t, sim, nil)
	sim.Disconnect("refresh_requested")
	waitFor(t, sim, func() bool { return len(a.seen(socketmode.EventTypeConnected)) == 2 && sim.Connections() == 1 })
	if _, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "after"); err != nil {
		t.Fatal(err)
	}
	if n := len(a.seen(socketmode.EventTypeSlashCommand)); n != 1 {
		t.Errorf("%d commands after reconnect", n)
	}
	sim.DropConnections()
	waitFor(t, sim, func() bool { return len(a.seen(socketmode.EventTypeConnected)) == 3 && sim.Connections() == 1 })
}

func TestRedeliverSameEnvelope(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	a := connect(t, sim, nil)
	d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "open x")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Redeliver(ctxT(t), d); err != nil {
		t.Fatal(err)
	}
	cmds := a.seen(socketmode.EventTypeSlashCommand)
	if len(cmds) != 2 || cmds[0].Request.EnvelopeID != cmds[1].Request.EnvelopeID ||
		string(cmds[0].Request.Payload) != string(cmds[1].Request.Payload) {
		t.Errorf("redelivery differs: %d events", len(cmds))
	}
}

func TestManyConnectionsShareEnvelopes(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	a1 := connect(t, sim, nil)
	a2 := connect(t, sim, nil)
	waitFor(t, sim, func() bool { return sim.Connections() == 2 })
	for range 4 {
		if _, err := sim.SlashCommand(ctxT(t), alice, general, "/x", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n1, n2 := len(a1.seen(socketmode.EventTypeSlashCommand)), len(a2.seen(socketmode.EventTypeSlashCommand)); n1 != 2 || n2 != 2 {
		t.Errorf("round robin: %d and %d", n1, n2)
	}
}

func TestConcurrentCommands(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	connect(t, sim, nil)
	connect(t, sim, nil)
	errs := make(chan error, 200)
	for i := range 200 {
		go func() {
			d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "open "+string(rune('a'+i%26)))
			if err == nil && !d.Acked {
				err = errors.New("not acked")
			}
			errs <- err
		}()
	}
	for range 200 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sim.AckLatencies()); n != 200 {
		t.Errorf("%d latencies", n)
	}
}
