package slacksim_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/slacksim"
)

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject("plain_text", s, false, false)
}

func form() slack.ModalViewRequest {
	sev := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Severity"), "severity",
		slack.NewOptionBlockObject("sev1", plain("SEV1"), nil), slack.NewOptionBlockObject("sev2", plain("SEV2"), nil))
	sev.InitialOption = slack.NewOptionBlockObject("sev2", plain("SEV2"), nil)
	desc := slack.NewInputBlock("description", plain("Description"), nil, slack.NewPlainTextInputBlockElement(nil, "description"))
	desc.Optional = true
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Open an incident"), Submit: plain("Open"),
		CallbackID: "incident_open", PrivateMetadata: "C0001",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("title", plain("Title"), nil, slack.NewPlainTextInputBlockElement(nil, "title")),
			slack.NewInputBlock("severity", plain("Severity"), nil, sev),
			desc,
		}}}
}

func TestSubmitAndAckPayload(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	var mu sync.Mutex
	var subs []slack.InteractionCallback
	connect(t, sim, func(a *app, e socketmode.Event) {
		switch e.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := e.Data.(slack.SlashCommand)
			_, err := a.api.OpenView(cmd.TriggerID, form())
			if err != nil {
				t.Errorf("views.open: %v", err)
			}
			_ = a.sm.Ack(*e.Request)
		case socketmode.EventTypeInteractive:
			cb := e.Data.(slack.InteractionCallback)
			mu.Lock()
			subs = append(subs, cb)
			mu.Unlock()
			if strings.TrimSpace(cb.View.State.Values["title"]["title"].Value) == "" {
				_ = a.sm.Ack(*e.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"title": "Say what customers see"}))
				return
			}
			_ = a.sm.Ack(*e.Request)
		default:
			if e.Request != nil {
				_ = a.sm.Ack(*e.Request)
			}
		}
	})
	if _, err := sim.SlashCommand(ctxT(t), bob, general, "/incident", "open"); err != nil {
		t.Fatal(err)
	}
	views := sim.OpenViews(bob)
	if len(views) != 1 || views[0].CallbackID != "incident_open" || views[0].PrivateMetadata != "C0001" {
		t.Fatalf("open views = %+v", views)
	}
	d, err := sim.Submit(ctxT(t), bob, views[0].ID, map[string]map[string]string{"title": {"title": "  "}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.AckPayload), `"response_action":"errors"`) || len(sim.OpenViews(bob)) != 1 {
		t.Fatalf("ack payload %s, views %d", d.AckPayload, len(sim.OpenViews(bob)))
	}
	d, err = sim.Submit(ctxT(t), bob, views[0].ID, map[string]map[string]string{
		"title": {"title": "db down"}, "severity": {"severity": "sev1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.AckPayload) != 0 || len(sim.OpenViews(bob)) != 0 {
		t.Errorf("ack %s left %d views open", d.AckPayload, len(sim.OpenViews(bob)))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(subs) != 2 {
		t.Fatalf("%d submissions", len(subs))
	}
	first, cb := subs[0], subs[1]
	if first.View.State.Values["severity"]["severity"].SelectedOption.Value != "sev2" {
		t.Errorf("untouched select should keep its initial option: %+v", first.View.State.Values["severity"])
	}
	if cb.Type != slack.InteractionTypeViewSubmission || cb.User.ID != bob || cb.View.ID != views[0].ID ||
		cb.View.CallbackID != "incident_open" || cb.View.PrivateMetadata != "C0001" || cb.TriggerID == "" ||
		cb.View.State.Values["title"]["title"].Value != "db down" ||
		cb.View.State.Values["severity"]["severity"].SelectedOption.Value != "sev1" ||
		cb.View.State.Values["description"]["description"].Value != "" {
		t.Errorf("view_submission = %+v", cb)
	}
	if _, err := sim.Submit(ctxT(t), bob, views[0].ID, nil); err == nil {
		t.Error("submitting a closed view should fail")
	}
	if errs := sim.BlockKitErrors(); len(errs) != 0 {
		t.Errorf("BlockKitErrors = %v", errs)
	}
}

func TestClickShape(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	var mu sync.Mutex
	var got []slack.InteractionCallback
	a := connect(t, sim, func(a *app, e socketmode.Event) {
		if e.Type == socketmode.EventTypeInteractive {
			mu.Lock()
			got = append(got, e.Data.(slack.InteractionCallback))
			mu.Unlock()
		}
		if e.Request != nil {
			_ = a.sm.Ack(*e.Request)
		}
	})
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Status"), "status",
		slack.NewOptionBlockObject("restored", plain("Restored"), nil))
	_, ts, err := a.api.PostMessage(general, slack.MsgOptionText("checklist", false), slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Step 1", false, false), nil, slack.NewAccessory(sel)),
		slack.NewActionBlock("", slack.NewButtonBlockElement("tick", "step-1", plain("Tick")))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Click(ctxT(t), alice, general, ts, "tick", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Click(ctxT(t), alice, general, ts, "status", "restored"); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Click(ctxT(t), alice, general, ts, "nope", ""); err == nil {
		t.Error("clicking a missing action_id should fail")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d interactions", len(got))
	}
	cb := got[0]
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != alice || cb.Channel.ID != general ||
		cb.Container.MessageTs != ts || cb.Container.ChannelID != general || cb.Message.Timestamp != ts ||
		cb.TriggerID == "" || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("block_actions = %+v", cb)
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != "tick" || act.Value != "step-1" || act.BlockID == "" || act.Type != "button" || act.ActionTs == "" {
		t.Errorf("action = %+v", act)
	}
	if len(cb.Message.Blocks.BlockSet) != 2 {
		t.Errorf("message blocks = %d", len(cb.Message.Blocks.BlockSet))
	}
	if act := got[1].ActionCallback.BlockActions[0]; act.SelectedOption.Value != "restored" || act.Type != "static_select" {
		t.Errorf("select action = %+v", act)
	}
}

func TestTriggerLifetime(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sim, general := newSim(t, slacksim.Options{Now: clk.Now})
	connect(t, sim, nil)
	api := apiFor(sim)
	for _, tc := range []struct {
		name  string
		after time.Duration
		twice bool
		want  string
	}{
		{"fresh", time.Second, false, ""},
		{"expired", 3*time.Second + time.Millisecond, false, "expired_trigger_id"},
		{"used twice", 0, true, "exchanged_trigger_id"},
	} {
		d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "open")
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(tc.after)
		_, err = api.OpenView(d.TriggerID, form())
		if tc.twice && err == nil {
			_, err = api.OpenView(d.TriggerID, form())
		}
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestInvalidModalRefused(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	connect(t, sim, nil)
	d, err := sim.SlashCommand(ctxT(t), alice, general, "/incident", "open")
	if err != nil {
		t.Fatal(err)
	}
	v := form()
	v.Title = plain("A title far longer than twenty-four characters")
	_, err = apiFor(sim).OpenView(d.TriggerID, v)
	if err == nil || err.Error() != "invalid_arguments" {
		t.Fatalf("err = %v", err)
	}
	if errs := sim.BlockKitErrors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "title.text") {
		t.Errorf("BlockKitErrors = %v", errs)
	}
}
