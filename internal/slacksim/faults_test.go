package slacksim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// postIn posts text in channel through the Web API and returns the
// error; it gives up after 10 s, so a call wrongly held fails the test.
func postIn(api *slack.Client, channel, text string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false))
	return err
}

// hasMessage reports whether channel holds a message with text.
func hasMessage(sim *slacksim.Sim, channel, text string) bool {
	for _, m := range sim.Messages(channel) {
		if m.Text == text {
			return true
		}
	}
	return false
}

func TestHoldAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		n      int
		method string
		// before are the calls made before the one that must be held;
		// none of them may be held.
		before []string
		want   string // the method of the held call
	}{
		{"first call of any method", 1, "", nil, "chat.postMessage"},
		{"third call of any method", 3, "", []string{"users.info", "conversations.info"}, "chat.postMessage"},
		{"second post, other methods not counted", 2, "chat.postMessage", []string{"users.info", "chat.postMessage", "conversations.info"}, "chat.postMessage"},
		{"n below 1 is the next call", 0, "chat.postMessage", []string{"users.info"}, "chat.postMessage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, general := newSim(t, slacksim.Options{})
			api := apiFor(sim)
			hold := sim.HoldAnswer(tc.n, tc.method)
			for _, m := range tc.before {
				var err error
				switch m {
				case "users.info":
					_, err = api.GetUserInfo(alice)
				case "conversations.info":
					_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: general})
				case "chat.postMessage":
					err = postIn(api, general, "before")
				}
				if err != nil {
					t.Fatalf("%s before the held call: %v", m, err)
				}
			}
			select {
			case <-hold.Reached():
				t.Fatal("a call before the n-th was held")
			default:
			}
			returned := make(chan error, 1)
			go func() {
				_, _, err := api.PostMessage(general, slack.MsgOptionText("held", false))
				returned <- err
			}()
			select {
			case <-hold.Reached():
			case <-time.After(10 * time.Second):
				t.Fatal("the held call never reached the hold")
			}
			if !hasMessage(sim, general, "held") {
				t.Error("the held call has not taken effect before its answer was held")
			}
			if got := hold.Call(); got.Method != tc.want || got.Channel != general || !got.Held {
				t.Errorf("held call = %+v, want %s in %s", got, tc.want, general)
			}
			select {
			case err := <-returned:
				t.Fatalf("the held call returned before Release: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			hold.Release()
			if err := <-returned; err != nil {
				t.Errorf("the released call failed: %v", err)
			}
			<-hold.Done()
			if hold.Dropped() {
				t.Error("a released answer counts as dropped")
			}
			// The hold is spent: the next call goes through.
			if err := postIn(api, general, "after"); err != nil {
				t.Error(err)
			}
			log := sim.CallLog()
			var held []string
			for _, c := range log {
				if c.Held {
					held = append(held, c.Method)
				}
			}
			if len(held) != 1 || held[0] != tc.want {
				t.Errorf("held calls in the log = %v, want [%s]", held, tc.want)
			}
		})
	}
}

// TestHoldAnswerDroppedWhenCallerGoes: a caller that goes away while its
// answer is held (a killed process) never gets it; the effect stays.
func TestHoldAnswerDroppedWhenCallerGoes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, sim *slacksim.Sim, general string) error
		// effect reports whether the call took effect.
		effect func(sim *slacksim.Sim, general string) bool
		method string
	}{
		{"web api", func(ctx context.Context, sim *slacksim.Sim, general string) error {
			_, _, err := apiFor(sim).PostMessageContext(ctx, general, slack.MsgOptionText("orphan", false))
			return err
		}, func(sim *slacksim.Sim, general string) bool { return hasMessage(sim, general, "orphan") }, ""},
		{"response_url", func(ctx context.Context, sim *slacksim.Sim, general string) error {
			url := commandResponseURL(t, sim, general)
			return slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: "told"})
		}, func(sim *slacksim.Sim, _ string) bool {
			for _, e := range sim.Ephemerals(alice) {
				if e.Text == "told" && e.ViaResponseURL {
					return true
				}
			}
			return false
		}, slacksim.MethodResponseURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, general := newSim(t, slacksim.Options{})
			hold := sim.HoldAnswer(1, tc.method)
			ctx, cancel := context.WithCancel(context.Background())
			returned := make(chan error, 1)
			go func() { returned <- tc.call(ctx, sim, general) }()
			select {
			case <-hold.Reached():
			case <-time.After(10 * time.Second):
				t.Fatal("the call never reached the hold")
			}
			cancel() // the caller dies: its connection closes
			if err := <-returned; !errors.Is(err, context.Canceled) {
				t.Errorf("the cancelled caller got %v", err)
			}
			select {
			case <-hold.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the held answer was neither dropped nor delivered after the caller went")
			}
			if !hold.Dropped() {
				t.Error("Dropped is false after the caller went")
			}
			if !tc.effect(sim, general) {
				t.Error("the call's effect is gone")
			}
			log := sim.CallLog()
			if len(log) == 0 || !log[len(log)-1].Dropped || log[len(log)-1].Status != 0 {
				t.Errorf("call log = %+v, want the last call dropped with no status", log)
			}
		})
	}
}

// commandResponseURL returns the response_url of a slash command alice
// types in channel, read from the envelope an app receives.
func commandResponseURL(t *testing.T, sim *slacksim.Sim, channel string) string {
	t.Helper()
	connect(t, sim, nil)
	d, err := sim.SlashCommand(ctxT(t), alice, channel, "/incident", "list")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil || p.ResponseURL == "" {
		t.Fatalf("no response_url in %s: %v", d.Payload, err)
	}
	return p.ResponseURL
}

func TestHoldReleasedBeforeReachedDisarms(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	hold := sim.HoldAnswer(1, "chat.postMessage")
	hold.Release()
	done := make(chan error, 1)
	go func() { done <- postIn(apiFor(sim), general, "free") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a disarmed hold still held the call")
	}
	select {
	case <-hold.Reached():
		t.Error("a disarmed hold reports Reached")
	default:
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	const d = 300 * time.Millisecond
	type delay struct {
		method string
		d      time.Duration
	}
	for _, tc := range []struct {
		name    string
		set     []delay // applied in order
		call    string  // the method called
		delayed bool
	}{
		{"every method", []delay{{"", d}}, "chat.postMessage", true},
		{"the method named", []delay{{"chat.postMessage", d}}, "chat.postMessage", true},
		{"another method", []delay{{"users.info", time.Hour}}, "chat.postMessage", false},
		{"a method's own delay wins", []delay{{"", time.Hour}, {"chat.postMessage", d}}, "chat.postMessage", true},
		{"turned off", []delay{{"", time.Hour}, {"", 0}}, "users.info", false},
		{"not socket mode's plumbing", []delay{{"", time.Hour}}, "apps.connections.open", false},
		{"response_url", []delay{{"", d}}, slacksim.MethodResponseURL, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, general := newSim(t, slacksim.Options{})
			url := ""
			if tc.call == slacksim.MethodResponseURL {
				url = commandResponseURL(t, sim, general)
			}
			for _, x := range tc.set {
				sim.Delay(x.method, x.d)
			}
			api := apiFor(sim)
			ctx := ctxT(t)
			effect := make(chan time.Time, 1)
			go func() {
				_ = sim.Wait(ctx, func() bool { return hasMessage(sim, general, "slow") })
				effect <- time.Now()
			}()
			start := time.Now()
			var err error
			switch tc.call {
			case "chat.postMessage":
				err = postIn(api, general, "slow")
			case "users.info":
				_, err = api.GetUserInfoContext(ctx, alice)
			case "apps.connections.open":
				_, _, err = api.StartSocketModeContext(ctx)
			case slacksim.MethodResponseURL:
				err = slack.PostWebhookContext(ctx, url, &slack.WebhookMessage{Text: "slow", ResponseType: "in_channel"})
			}
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if tc.delayed {
				if took < d {
					t.Errorf("answered after %v, before the delay of %v", took, d)
				}
				select {
				case at := <-effect:
					if !at.Before(start.Add(took)) {
						t.Error("the effect showed only after the answer")
					}
				case <-time.After(10 * time.Second):
					t.Error("the delayed call had no effect")
				}
			}
		})
	}
}

func TestCallLog(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	if err := postIn(api, general, "one"); err != nil {
		t.Fatal(err)
	}
	sim.ResetCallLog()
	_ = postIn(api, general, "two")
	_ = postIn(api, "C9999", "nowhere")
	_, _ = api.GetUserInfo(alice)
	// A JSON body names its channel too.
	req, _ := http.NewRequest("POST", sim.APIURL()+"chat.postMessage", bytes.NewBufferString(`{"channel":"`+general+`","text":"json"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sim.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []string
	for i, c := range sim.CallLog() {
		if c.Seq != i+1 || c.At.IsZero() {
			t.Errorf("call %d: Seq %d, At %v", i, c.Seq, c.At)
		}
		got = append(got, strings.Join([]string{c.Method, c.Channel, map[bool]string{true: "ok", false: "refused"}[c.OK]}, " "))
	}
	want := []string{"chat.postMessage " + general + " ok", "chat.postMessage C9999 refused", "users.info  ok", "chat.postMessage " + general + " ok"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("call log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range sim.CallLog() {
		if c.Status != http.StatusOK {
			t.Errorf("%s answered %d", c.Method, c.Status)
		}
	}
}
