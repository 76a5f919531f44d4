package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

func TestShowFiles(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice"})
	general := sim.AddChannel("general", "U0ALICE")
	var out bytes.Buffer
	c := New(sim, func(context.Context) error { return nil }, &out, "U0ALICE", general)

	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chart := strings.Repeat("p", 34*1024)
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: chart, Filename: "pareto.png",
		FileSize: len(chart), Channel: general, InitialComment: "Causes by count"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "12:01 paged\n",
		Filename: "timeline.txt", FileSize: 12, Channel: general}); err != nil {
		t.Fatal(err)
	}
	c.Show()
	got := out.String()
	for _, want := range []string{
		"  Causes by count\n  📎 pareto.png (image/png, 34 KB)\n",
		"sitrep · msg 2\n  📎 timeline.txt (text/plain, 12 B)\n", // no empty comment line
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int]string{0: "0 B", 1023: "1023 B", 1024: "1 KB", 34 * 1024: "34 KB", 1536: "2 KB", 3 << 19: "1.5 MB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// world is a simulated workspace with alice, bob and carol, an app that
// acks every envelope without answering (so the console's commands and
// clicks reach it as Slack sends them), and a console acting as alice in
// #general.
type world struct {
	sim     *slacksim.Sim
	api     *slack.Client
	c       *Console
	out     *bytes.Buffer
	general string
	ctx     context.Context
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	for _, u := range []slacksim.User{{ID: "U0ALICE", Name: "alice"}, {ID: "U0BOB", Name: "bob"}, {ID: "U0CAROL", Name: "carol", DisplayName: "Caz"}} {
		sim.AddUser(u)
	}
	general := sim.AddChannel("general", "U0ALICE", "U0BOB", "U0CAROL")
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionAppLevelToken(sim.AppToken()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	sm := socketmode.New(api)
	go func() { _ = sm.RunContext(ctx) }()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-sm.Events:
				if e.Request != nil {
					_ = sm.Ack(*e.Request)
				}
			}
		}
	}()
	if err := sim.Wait(ctx, func() bool { return sim.Connections() > 0 }); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := New(sim, func(context.Context) error { return nil }, &out, "U0ALICE", general)
	return &world{sim: sim, api: api, c: c, out: &out, general: general, ctx: ctx}
}

// lastPayload returns the payload of the last envelope of type typ.
func (w *world) lastPayload(t *testing.T, typ string) map[string]any {
	t.Helper()
	ds := w.sim.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Type == typ {
			var p map[string]any
			if err := json.Unmarshal(ds[i].Payload, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("no %s envelope was sent", typ)
	return nil
}

// TestAtNameIsThePerson: "@bob" typed in a command reaches the app as
// Slack's client sends a person picked after "@" (should_escape), by name
// or display name; an unknown @name stays as typed.
func TestAtNameIsThePerson(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct{ typed, want string }{
		{"tdo @bob he knows the db", "tdo <@U0BOB|bob> he knows the db"},
		{"tdo @Bob.", "tdo <@U0BOB|bob>."},
		{"role comms @caz", "role comms <@U0CAROL|carol>"},
		{"tdo @dave", "tdo @dave"},
		{"note @bob & <the team>", "note <@U0BOB|bob> &amp; &lt;the team&gt;"},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			if err := w.c.Exec(w.ctx, "/incident "+tc.typed); err != nil {
				t.Fatal(err)
			}
			if got := w.lastPayload(t, slacksim.TypeSlashCommands)["text"]; got != tc.want {
				t.Errorf("command text = %q, want %q", got, tc.want)
			}
		})
	}
}

// checklistBlocks is a message with 12 steps in two checkboxes groups, as
// bot/views_checklist.go draws a run (values are 0-based step indexes,
// labels 1-based), steps 1 and 11 ticked.
const checklistBlocks = `[
 {"type":"section","text":{"type":"mrkdwn","text":"*CL-3* · 2 of 12"}},
 {"type":"actions","block_id":"cl3_g0_v2","elements":[{"type":"checkboxes","action_id":"checklist_steps_0",
  "options":[` + `{"text":{"type":"mrkdwn","text":"1. one"},"value":"0","description":{"type":"mrkdwn","text":"<@U0BOB> · 10:01 UTC"}},
   {"text":{"type":"mrkdwn","text":"2. two"},"value":"1"},{"text":{"type":"mrkdwn","text":"3. three"},"value":"2"},
   {"text":{"type":"mrkdwn","text":"4. four"},"value":"3"},{"text":{"type":"mrkdwn","text":"5. five"},"value":"4"},
   {"text":{"type":"mrkdwn","text":"6. six"},"value":"5"},{"text":{"type":"mrkdwn","text":"7. seven"},"value":"6"},
   {"text":{"type":"mrkdwn","text":"8. eight"},"value":"7"},{"text":{"type":"mrkdwn","text":"9. nine"},"value":"8"},
   {"text":{"type":"mrkdwn","text":"10. ten"},"value":"9"}],
  "initial_options":[{"text":{"type":"mrkdwn","text":"1. one"},"value":"0","description":{"type":"mrkdwn","text":"<@U0BOB> · 10:01 UTC"}}]}]},
 {"type":"actions","block_id":"cl3_g1_v2","elements":[{"type":"checkboxes","action_id":"checklist_steps_1",
  "options":[{"text":{"type":"mrkdwn","text":"11. eleven"},"value":"10"},{"text":{"type":"mrkdwn","text":"12. twelve"},"value":"11"}],
  "initial_options":[{"text":{"type":"mrkdwn","text":"11. eleven"},"value":"10"}]}]}
]`

func (w *world) postChecklist(t *testing.T, text string) string {
	t.Helper()
	var blocks slack.Blocks
	if err := json.Unmarshal([]byte(checklistBlocks), &blocks); err != nil {
		t.Fatal(err)
	}
	_, ts, err := w.api.PostMessageContext(w.ctx, w.general, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks.BlockSet...))
	if err != nil {
		t.Fatal(err)
	}
	w.c.Show()
	return ts
}

func TestChecklistDrawn(t *testing.T) {
	w := newWorld(t)
	w.postChecklist(t, "CL-3 Release: 2 of 12")
	got := w.out.String()
	for _, want := range []string{
		"  [x] 1. one — @bob · 10:01 UTC\n  [ ] 2. two\n",
		"  [ ] 10. ten\n  [x] 11. eleven\n  [ ] 12. twelve\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestTickSendsTheWholeGroup: a tick is the block_actions payload Slack
// sends for a click on a checkbox, its selected_options the group's whole
// new selection, in the second group for step 12.
func TestTickSendsTheWholeGroup(t *testing.T) {
	w := newWorld(t)
	ts := w.postChecklist(t, "CL-3 Release: 2 of 12")
	for _, tc := range []struct {
		line, action string
		want         []string
	}{
		{":tick 2", "checklist_steps_0", []string{"0", "1"}},
		{":tick 12", "checklist_steps_1", []string{"10", "11"}},
		{":untick 1", "checklist_steps_0", []string{}},
		{":tick CL-3 3", "checklist_steps_0", []string{"0", "2"}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if err := w.c.Exec(w.ctx, tc.line); err != nil {
				t.Fatal(err)
			}
			p := w.lastPayload(t, slacksim.TypeInteractive)
			if p["type"] != "block_actions" {
				t.Fatalf("payload type %v", p["type"])
			}
			if c := p["container"].(map[string]any); c["message_ts"] != ts || c["channel_id"] != w.general {
				t.Errorf("container = %v", c)
			}
			a := p["actions"].([]any)[0].(map[string]any)
			var got []string
			for _, o := range a["selected_options"].([]any) {
				got = append(got, o.(map[string]any)["value"].(string))
			}
			if a["action_id"] != tc.action || a["type"] != "checkboxes" || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("action %v %v selected %v, want %s %v", a["action_id"], a["type"], got, tc.action, tc.want)
			}
		})
	}
}

func TestTickRefuses(t *testing.T) {
	w := newWorld(t)
	if err := w.c.Exec(w.ctx, ":tick 1"); err == nil || !strings.Contains(err.Error(), "no checklist has been shown yet: start one with /checklist start") {
		t.Errorf(":tick before any checklist = %v", err)
	}
	w.postChecklist(t, "CL-3 Release: 2 of 12")
	sent := len(w.sim.Deliveries())
	for _, tc := range []struct{ line, want string }{
		{":tick", "say which step: write :tick 3 for step 3 of the checklist shown last, or :tick CL-2 3"},
		{":tick three", `"three" is not a step number: write :tick 3`},
		{":tick 0", `"0" is not a step number`},
		{":tick 13", "the checklist shown last has steps 1 to 12; there is no step 13"},
		{":tick CL-3 13", "CL-3 has steps 1 to 12; there is no step 13"},
		{":tick 1", "step 1 is ticked already (:untick 1 clears it)"},
		{":untick 2", "step 2 is not ticked"},
		{":tick CL-9 1", "no checklist CL-9 in the workspace: /checklist status lists those running"},
		{":tick 1 2", "say which step"},
		{":untick", "say which step: write :untick 3"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if err := w.c.Exec(w.ctx, tc.line); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s = %v, want %q", tc.line, err, tc.want)
			}
		})
	}
	if n := len(w.sim.Deliveries()); n != sent {
		t.Errorf("refused ticks sent %d envelopes", n-sent)
	}
}

func TestReactRefuses(t *testing.T) {
	w := newWorld(t)
	if err := w.c.Exec(w.ctx, ":react pushpin"); err == nil || !strings.Contains(err.Error(), "no message has been shown yet") {
		t.Errorf(":react before any message = %v", err)
	}
	if err := w.c.Exec(w.ctx, "the disk is full"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{":react", "say which emoji and which message: write :react pushpin 3"},
		{":react pushpin 1 2", "say which emoji and which message"},
		{":react Push_Pin", `"Push_Pin" is not an emoji name: write it as Slack does, lower case without colons`},
		{":react pushpin two", `"two" is not a message number`},
		{":react pushpin 2", "no message 2: the output shows msg 1 to msg 1"},
		{":react pushpin 0", "no message 0"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if err := w.c.Exec(w.ctx, tc.line); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s = %v, want %q", tc.line, err, tc.want)
			}
		})
	}
	// :pushpin: with colons, on msg 1: the app hears reaction_added.
	if err := w.c.Exec(w.ctx, ":react :pushpin: 1"); err != nil {
		t.Fatal(err)
	}
	p := w.lastPayload(t, slacksim.TypeEventsAPI)
	ev := p["event"].(map[string]any)
	if ev["type"] != "reaction_added" || ev["reaction"] != "pushpin" || ev["user"] != "U0ALICE" || ev["item"].(map[string]any)["channel"] != w.general {
		t.Errorf("event = %v", ev)
	}
	if !strings.Contains(w.out.String(), "(alice reacted :pushpin: to msg 1 in #general)") {
		t.Errorf("output:\n%s", w.out.String())
	}
}

// TestFormKeys: a select is filled with what a person sees. The skip form
// of a checklist labels steps 1-based and carries 0-based values: step=9
// sends the value of "9. …", which is "8".
func TestFormKeys(t *testing.T) {
	w := newWorld(t)
	skip := element{Type: "static_select", Options: []option{
		{Text: textObj{Text: "1. Announce"}, Value: "0"}, {Text: textObj{Text: "9. Post the notes"}, Value: "8"}, {Text: textObj{Text: "10. Close"}, Value: "9"}}}
	status := element{Type: "static_select", Options: []option{
		{Text: textObj{Text: "Investigating"}, Value: "investigating"}, {Text: textObj{Text: "Identified"}, Value: "identified"}}}
	private := element{Type: "checkboxes", Options: []option{{Text: textObj{Text: "Private incident"}, Value: "private"}}}
	for _, tc := range []struct {
		name  string
		e     element
		typed string
		want  string
		err   string
	}{
		{"step as labelled", skip, "9", "8", ""},
		{"last step", skip, "10", "9", ""},
		{"a value is not a label", skip, "8", "", "step=8: choose one of 1, 9, 10"},
		{"status by value", status, "Identified", "identified", ""},
		{"unknown status", status, "fixed", "", "step=fixed: choose one of investigating, identified"},
		{"checkbox", private, "private", "private", ""},
		{"user by @name", element{Type: "users_select"}, "@bob", "U0BOB", ""},
		{"user by name", element{Type: "users_select"}, "carol", "U0CAROL", ""},
		{"user by ID", element{Type: "users_select"}, "U0BOB", "U0BOB", ""},
		{"users", element{Type: "multi_users_select"}, "@bob,@caz", "U0BOB,U0CAROL", ""},
		{"unknown user", element{Type: "users_select"}, "@dave", "", "step=@dave: no such person; name one of alice, bob, carol as @name"},
		{"text", element{Type: "plain_text_input"}, "as typed, @bob", "as typed, @bob", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.c.formValue("step", tc.e, tc.typed)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("formValue = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("formValue = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	lines := inputLines(block{Type: "input", BlockID: "step", Label: &textObj{Text: "Step"}, Element: &skip})
	if got := strings.Join(lines, "\n"); got != "  Step: step=… one of:\n      1. Announce\n      9. Post the notes\n      10. Close" {
		t.Errorf("skip form drawn as\n%s", got)
	}
	lines = inputLines(block{Type: "input", BlockID: "status", Label: &textObj{Text: "Status"}, Element: &status})
	if got := strings.Join(lines, "\n"); got != "  Status: status=… one of investigating, identified" {
		t.Errorf("status drawn as\n%s", got)
	}
}

func TestClickByLabel(t *testing.T) {
	c := &Console{buttons: []button{{label: "Skip a step…"}, {label: "Restore now"}, {label: "Restore"}}}
	for label, want := range map[string]int{"Skip a step…": 1, "skip": 1, "restore": 3, "Restore now": 2, "Extend": 0} {
		if got := c.buttonByLabel(label); got != want {
			t.Errorf("buttonByLabel(%q) = %d, want %d", label, got, want)
		}
	}
}

// FuzzSplitArgs: :submit's splitting never panics, and a line of fields
// without quotes or spaces in them splits back into those fields.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`a=1 b="x y"`, `title="checkout fails <!channel>" severity=sev2`, `"`, `a="" b`, "  a   b  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := splitArgs(s)
		if err != nil {
			if strings.Count(s, `"`)%2 == 0 {
				t.Errorf("splitArgs(%q) refused balanced quotes: %v", s, err)
			}
			return
		}
		if !strings.ContainsAny(s, `"`) {
			if want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }); strings.Join(fields, "\x01") != strings.Join(want, "\x01") {
				t.Errorf("splitArgs(%q) = %q", s, fields)
			}
		}
	})
}

// TestAsSignsInAsThatPerson checks that :as makes the dashboard's Sign in
// with Slack sign in as the console's new user.
func TestAsSignsInAsThatPerson(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice"})
	sim.AddUser(slacksim.User{ID: "U0BOB", Name: "bob"})
	general := sim.AddChannel("general", "U0ALICE", "U0BOB")
	sim.SetSignInUser("U0ALICE")
	var out bytes.Buffer
	c := New(sim, func(context.Context) error { return nil }, &out, "U0ALICE", general)
	if err := c.Exec(context.Background(), ":as bob"); err != nil {
		t.Fatal(err)
	}
	if got := sim.SignInUser(); got != "U0BOB" {
		t.Errorf("after :as bob, Sign in with Slack signs in as %q, want U0BOB", got)
	}
}
