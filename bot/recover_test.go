package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/inbox"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
)

// recoverRig is a bot (not running) and a socketmode client connected to
// the simulator, so a test can hand the bot an event the simulator sent.
type recoverRig struct {
	sim     *slacksim.Sim
	bot     *Bot
	client  *socketmode.Client
	general string
}

func newRecoverRig(t *testing.T) *recoverRig {
	t.Helper()
	sim := slacksim.New(slacksim.Options{AckTimeout: 2 * time.Second})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice"})
	general := sim.AddChannel("general", "U0ALICE")
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(sim.AppToken()))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := New(Config{}, Deps{API: api, Inbox: store, Jobs: jobs.NewRunner(store, clock.Real{}, log), Log: log})
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = client.RunContext(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &recoverRig{sim: sim, bot: b, client: client, general: general}
}

// next returns the next event of the client that carries an envelope.
func (r *recoverRig) next(t *testing.T) socketmode.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case evt := <-r.client.Events:
			if evt.Request != nil && evt.Request.EnvelopeID != "" {
				return evt
			}
		case <-timeout:
			t.Fatal("no envelope reached the client")
		}
	}
}

// TestRecoverEnvelope panics in the handling of real envelopes and checks
// what Slack (the simulator) gets: one ack, carrying the failure where the
// envelope takes a response, and an answer to the person otherwise.
func TestRecoverEnvelope(t *testing.T) {
	t.Parallel()
	r := newRecoverRig(t)
	alice := "U0ALICE"
	command := fmt.Sprintf(`{"user_id":%q,"channel_id":%q,"command":"/incident","text":"help"}`, alice, r.general)
	click := fmt.Sprintf(`{"type":"block_actions","user":{"id":%q},"channel":{"id":%q},"actions":[{"action_id":"x","block_id":"b"}]}`, alice, r.general)
	form := fmt.Sprintf(`{"type":"view_submission","user":{"id":%q},"view":{"callback_id":"incident_open","blocks":[{"type":"section","block_id":"s","text":{"type":"mrkdwn","text":"x"}},{"type":"input","block_id":"title","label":{"type":"plain_text","text":"Title"},"element":{"type":"plain_text_input","action_id":"title"}}]}}`, alice)

	tests := []struct {
		name      string
		typ       string
		payload   string
		accepts   bool
		ackFirst  bool   // the handler acked before it panicked
		wantAck   string // the ack's payload, "" for a plain ack
		wantReply string // what alice is told privately, besides the ack
	}{
		{name: "slash command before its ack", typ: slacksim.TypeSlashCommands, payload: command, accepts: true,
			wantAck: `{"text":"` + failedCommandText + `"}`},
		{name: "slash command after its ack", typ: slacksim.TypeSlashCommands, payload: command, accepts: true, ackFirst: true,
			wantReply: failedCommandText},
		{name: "form before its ack", typ: slacksim.TypeInteractive, payload: form, accepts: true,
			wantAck: `{"response_action":"errors","errors":{"title":"` + failedFormText + `"}}`},
		{name: "click before its ack", typ: slacksim.TypeInteractive, payload: click,
			wantReply: failedActionText},
		{name: "event before its ack", typ: slacksim.TypeEventsAPI, payload: `{"type":"event_callback","event":{"type":"reaction_added","user":"U0ALICE"}}`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(r.sim.Ephemerals(alice))
			sent := make(chan *slacksim.Delivery, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				d, _ := r.sim.SendEnvelope(ctx, tc.typ, json.RawMessage(tc.payload), tc.accepts)
				sent <- d
			}()
			evt := r.next(t)
			func() {
				defer r.bot.recoverEnvelope(r.client, evt)
				if tc.ackFirst {
					r.bot.ack(r.client, evt.Request, nil)
				}
				panic("boom")
			}()
			d := <-sent
			if d == nil || !d.Acked {
				t.Fatalf("delivery = %+v, want it acked", d)
			}
			if string(d.AckPayload) != tc.wantAck {
				t.Errorf("ack payload = %s, want %q", d.AckPayload, tc.wantAck)
			}
			if got := r.bot.Stats().Panics; got != int64(i+1) {
				t.Errorf("Stats().Panics = %d, want %d", got, i+1)
			}
			wantEphemerals := 0
			if tc.wantReply != "" || tc.wantAck != "" && tc.typ == slacksim.TypeSlashCommands {
				wantEphemerals = 1
			}
			if tc.wantReply != "" {
				waitUntil(t, r.sim, func() bool { return len(r.sim.Ephemerals(alice)) > before })
			}
			if err := r.bot.WaitIdle(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := r.sim.Ephemerals(alice)[before:]
			if len(got) != wantEphemerals {
				t.Fatalf("alice was told %+v; want %d message(s)", got, wantEphemerals)
			}
			if tc.wantReply != "" && !strings.Contains(got[0].Text, tc.wantReply) {
				t.Errorf("alice was told %q, want %q", got[0].Text, tc.wantReply)
			}
		})
	}
	if n := r.sim.StrayAcks(); n != 0 {
		t.Errorf("%d envelopes were acked twice", n)
	}
}

// TestSpawnRecoverAnswers panics in the handling of a slash command after
// its ack: the person is answered through the command's response_url.
func TestSpawnRecoverAnswers(t *testing.T) {
	t.Parallel()
	r := newRecoverRig(t)
	sent := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := r.sim.SlashCommand(ctx, "U0ALICE", r.general, "/incident", "help")
		sent <- err
	}()
	evt := r.next(t)
	cmd := evt.Data.(slack.SlashCommand)
	r.bot.ack(r.client, evt.Request, nil)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	env := inbox.Envelope{Key: "cmd:" + cmd.TriggerID, EnvelopeID: evt.Request.EnvelopeID, Type: evt.Request.Type, ReceivedAt: time.Now()}
	r.bot.process(context.Background(), r.bot.startWork(), env, &handling{user: cmd.UserID, channel: cmd.ChannelID, responseURL: cmd.ResponseURL,
		run: func(context.Context) { panic("boom") }})
	if err := r.bot.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := r.sim.Ephemerals("U0ALICE")
	if len(got) != 1 || !strings.Contains(got[0].Text, "sitrep failed to handle this; it has been logged") {
		t.Fatalf("alice was told %+v, want that sitrep failed", got)
	}
	if calls := r.sim.Calls("response_url"); calls != 1 {
		t.Errorf("%d answers went through the response_url, want 1", calls)
	}
	if n := r.bot.Stats().Panics; n != 1 {
		t.Errorf("Stats().Panics = %d, want 1", n)
	}
}

func waitUntil(t *testing.T, sim *slacksim.Sim, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Wait(ctx, cond); err != nil {
		t.Fatal(err)
	}
}
