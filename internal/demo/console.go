// Package demo is the terminal console of `sitrep demo`: a person types
// slash commands as a user of the simulated workspace and reads what the bot
// posts, rendered as text.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sitrep/sitrep/internal/human"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// Help lists the console's own commands.
const Help = `Type a slash command as the current user, in the current channel:
  /incident open db is down sev1 systems:db,api
  /incident tdo @bob he knows the db       (@name is the person, as in Slack)
  /checklist start web-release v2.14.0
Type anything else to post it as a message in the channel.
Console commands:
  :as NAME              act as another user (alice, bob, carol)
  :in #CHANNEL          act in another channel
  :click N              press button [N] of the output
  :click LABEL          press the last button of the output with this label
  :tick N               tick step N of the checklist shown last (:tick CL-2 N for another)
  :untick N             clear step N again
  :react EMOJI N        react to message N of the output (msg N), e.g. :react pushpin 3;
                        without N, to the last message shown
  :submit k=v k="a b"   submit the form open for you (field=value; people as @bob)
  :wait 30m             let time pass (up to 7d, e.g. 2h, 1d): warnings, deadlines,
                        reminders and reports come when due
  :down 5m              stop sitrep, let time pass, start it again
  :channels             list channels
  :help                 this text
  :quit                 leave
Lines starting with # are comments.
In a config file (--config FILE, or ./sitrep.yaml), name the demo's people by
their user IDs: U0ALICE (alice), U0BOB (bob), U0CAROL (carol).`

// Console drives a simulated workspace and prints what changes in it.
type Console struct {
	sim  *slacksim.Sim
	idle func(context.Context) error
	out  io.Writer

	// Step lets d pass on the demo clock (none: d is 0) and runs the
	// jobs then due, as the sweeper would; nil: :wait is not offered, and
	// due jobs are left to sitrep's own sweeper.
	Step func(ctx context.Context, d time.Duration) error
	// Down stops sitrep, lets d pass and starts it again; nil: :down is
	// not offered.
	Down func(ctx context.Context, d time.Duration) error

	// mu serialises Exec and Poll, which both print.
	mu sync.Mutex

	user    string // ID
	channel string // ID

	shownMsgs  map[string]int // channel ID + ts → update count shown
	shownEph   map[string]int // user ID → ephemerals shown
	shownViews map[string]bool
	started    bool // the seeded workspace has been looked at
	topics     map[string]string
	pins       map[string]bool
	buttons    []button
	// msgs are the messages of the last output that showed any, numbered
	// for :react; boxes is the message whose checkboxes were drawn last.
	msgs  []msgRef
	boxes *msgRef
	// pre is printed before the next output (a new line after a prompt).
	pre string
}

// msgRef names a message of the workspace.
type msgRef struct{ channel, ts string }

// New returns a console acting as user in channel (both IDs). idle waits
// until the bot has finished its work.
func New(sim *slacksim.Sim, idle func(context.Context) error, out io.Writer, user, channel string) *Console {
	c := &Console{
		sim: sim, idle: idle, out: out, user: user, channel: channel,
		shownMsgs: map[string]int{}, shownEph: map[string]int{}, shownViews: map[string]bool{},
		topics: map[string]string{}, pins: map[string]bool{},
	}
	c.Show() // mark the seeded state as seen
	return c
}

// Prompt returns "alice in #general> ".
func (c *Console) Prompt() string {
	return c.name("@"+c.user) + " in #" + c.name("#"+c.channel) + "> "
}

// ErrQuit is returned by Exec for :quit.
var ErrQuit = errors.New("quit")

// Poll prints what changed since the last output (a warning or a nudge
// that came on its own, while nobody typed) and reports whether it printed
// anything.
func (c *Console) Poll() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pre = "\n" // the prompt is waiting on its line
	defer func() { c.pre = "" }()
	return c.Show()
}

// waitStep is how far :wait moves the clock between sweeps: under
// incident.Late, so that what is due fires on time.
const waitStep = 30 * time.Second

// maxWait is the longest :wait or :down.
const maxWait = 7 * 24 * time.Hour

// Exec runs one line. Errors are the person's mistakes, to print and go on,
// except ErrQuit.
func (c *Console) Exec(ctx context.Context, line string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	line = strings.TrimSpace(line)
	switch {
	case line == "" || strings.HasPrefix(line, "#"):
		return nil
	case strings.HasPrefix(line, "/"):
		cmd, text, _ := strings.Cut(line, " ")
		if _, err := c.sim.SlashCommand(ctx, c.user, c.channel, cmd, strings.TrimSpace(text)); err != nil {
			return fmt.Errorf("sending %s: %w", cmd, err)
		}
		return c.settle(ctx)
	case strings.HasPrefix(line, ":") && len(line) > 1 && line[1] != ' ':
		verb, arg, _ := strings.Cut(line[1:], " ")
		return c.console(ctx, verb, strings.TrimSpace(arg))
	default:
		// A message, as typed in Slack's message box.
		if c.sim.Say(c.user, c.channel, line) == "" {
			return fmt.Errorf("cannot post in #%s", c.name("#"+c.channel))
		}
		return c.settle(ctx)
	}
}

func (c *Console) console(ctx context.Context, verb, arg string) error {
	switch verb {
	case "quit", "q", "exit":
		return ErrQuit
	case "help", "h":
		fmt.Fprintln(c.out, Help)
	case "as":
		id := c.userID(strings.TrimPrefix(arg, "@"))
		if id == "" {
			return fmt.Errorf("no user %q: try %s", arg, strings.Join(c.userNames(), ", "))
		}
		c.user = id
		// Sign in with Slack (the dashboard) signs in as the console's
		// user from now on; a browser signed in already stays so until
		// it signs out.
		c.sim.SetSignInUser(id)
		c.enter()
	case "in":
		ch := c.sim.ChannelByName(strings.TrimPrefix(arg, "#"))
		if ch == nil {
			return fmt.Errorf("no channel %q: :channels lists them", arg)
		}
		c.channel = ch.ID
		c.enter()
	case "channels":
		for _, ch := range c.sim.Channels() {
			prefix := "#"
			if ch.IsIM {
				prefix = "direct message "
			}
			fmt.Fprintf(c.out, "  %s%s  %d messages  %s\n", prefix, ch.Name, len(c.sim.Messages(ch.ID)), c.sim.Topic(ch.ID))
		}
	case "wait", "down":
		d, err := human.ParseDuration(arg)
		if err != nil || d <= 0 || d > maxWait {
			return fmt.Errorf("say how long, up to 7d: :%s 30m, :%s 2h or :%s 1d", verb, verb, verb)
		}
		if verb == "down" {
			if c.Down == nil {
				return fmt.Errorf(":down is not offered here")
			}
			fmt.Fprintf(c.out, "(sitrep is down for %s)\n", human.Duration(d))
			if err := c.Down(ctx, d); err != nil {
				return fmt.Errorf("restarting sitrep: %w", err)
			}
			fmt.Fprintln(c.out, "(sitrep is back)")
			return c.settle(ctx)
		}
		if c.Step == nil {
			return fmt.Errorf(":wait is not offered here")
		}
		// Step by step, showing what comes as it comes.
		for left := d; left > 0; left -= waitStep {
			if err := c.Step(ctx, min(left, waitStep)); err != nil {
				return err
			}
			if err := c.show(ctx); err != nil {
				return err
			}
		}
		fmt.Fprintf(c.out, "(%s later)\n", human.Duration(d))
		return nil
	case "tick", "untick":
		return c.tick(ctx, verb == "tick", arg)
	case "react":
		return c.react(ctx, arg)
	case "click":
		n, err := strconv.Atoi(arg)
		if err != nil {
			n = c.buttonByLabel(arg)
		}
		if n < 1 || n > len(c.buttons) {
			return fmt.Errorf("no button [%s]: the output shows %d", arg, len(c.buttons))
		}
		btn := c.buttons[n-1]
		if _, err := c.sim.Click(ctx, c.user, btn.channel, btn.ts, btn.actionID, btn.value); err != nil {
			return fmt.Errorf("clicking [%d] %s: %w", n, btn.label, err)
		}
		return c.settle(ctx)
	case "submit":
		return c.submit(ctx, arg)
	default:
		return fmt.Errorf("unknown console command :%s (:help lists them)", verb)
	}
	return nil
}

func (c *Console) submit(ctx context.Context, arg string) error {
	views := c.sim.OpenViews(c.user)
	if len(views) == 0 {
		return fmt.Errorf("no form is open for %s", c.name("@"+c.user))
	}
	view := views[len(views)-1]
	pairs, err := splitArgs(arg)
	if err != nil {
		return err
	}
	inputs := formInputs(view.Raw)
	values := map[string]map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("write field=value, not %q", p)
		}
		in, ok := inputs[k]
		if !ok {
			return fmt.Errorf("the form has no field %q: it has %s", k, strings.Join(slices.Sorted(maps.Keys(inputs)), ", "))
		}
		v, err := c.formValue(k, in, v)
		if err != nil {
			return err
		}
		values[k] = map[string]string{in.ActionID: v}
	}
	d, err := c.sim.Submit(ctx, c.user, view.ID, values)
	if err != nil {
		return fmt.Errorf("submitting the form: %w", err)
	}
	if len(d.AckPayload) > 0 && strings.Contains(string(d.AckPayload), `"errors"`) {
		fmt.Fprintf(c.out, "form refused: %s\n", d.AckPayload)
	}
	return c.settle(ctx)
}

// formInputs returns a form's input elements by block ID.
func formInputs(raw []byte) map[string]element {
	var blocks []block
	_ = json.Unmarshal(viewBlocks(raw), &blocks)
	out := map[string]element{}
	for _, b := range blocks {
		if b.Type == "input" && b.Element != nil {
			out[b.BlockID] = *b.Element
		}
	}
	return out
}

// formValue turns what a person typed for field into what Slack sends: for
// a select or checkboxes the value of the option with that key (see
// optionKeys: the number a person sees), for a user picker a user ID
// (@bob, bob and U0BOB all name bob).
func (c *Console) formValue(field string, e element, typed string) (string, error) {
	switch e.Type {
	case "static_select", "radio_buttons", "checkboxes", "multi_static_select":
		keys := optionKeys(e.Options)
		var out []string
		for _, t := range splitList(typed, e.Type == "checkboxes" || e.Type == "multi_static_select") {
			i := slices.IndexFunc(keys, func(k string) bool { return strings.EqualFold(k, t) })
			if i < 0 {
				return "", fmt.Errorf("%s=%s: choose one of %s", field, t, strings.Join(keys, ", "))
			}
			out = append(out, e.Options[i].Value)
		}
		return strings.Join(out, ","), nil
	case "users_select", "multi_users_select":
		var out []string
		for _, t := range splitList(typed, e.Type == "multi_users_select") {
			id := c.userID(strings.TrimPrefix(t, "@"))
			if id == "" {
				return "", fmt.Errorf("%s=%s: no such person; name one of %s as @name", field, t, strings.Join(c.userNames(), ", "))
			}
			out = append(out, id)
		}
		return strings.Join(out, ","), nil
	}
	return typed, nil
}

// splitList splits a comma-separated list when many is true; else it is
// one item.
func splitList(s string, many bool) []string {
	if !many {
		return []string{strings.TrimSpace(s)}
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// buttonByLabel returns the number of the last button of the output whose
// label is label, or failing that starts with it ("Skip" for "Skip a
// step…"), or 0.
func (c *Console) buttonByLabel(label string) int {
	for _, prefix := range []bool{false, true} {
		for i := len(c.buttons) - 1; i >= 0; i-- {
			l := strings.ToLower(c.buttons[i].label)
			want := strings.ToLower(label)
			if l == want || prefix && strings.HasPrefix(l, want) {
				return i + 1
			}
		}
	}
	return 0
}

// settle waits for the bot to finish, runs the jobs its work left due now
// (what the sweeper would run within seconds), waits again, then shows
// what changed: the output of a line is all that line caused, the same on
// every run.
func (c *Console) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.idle(ctx); err != nil {
		return fmt.Errorf("waiting for sitrep: %w", err)
	}
	if c.Step != nil {
		if err := c.Step(ctx, 0); err != nil {
			return fmt.Errorf("running sitrep's due jobs: %w", err)
		}
		if err := c.idle(ctx); err != nil {
			return fmt.Errorf("waiting for sitrep: %w", err)
		}
	}
	c.Show()
	return nil
}

// show waits for the bot to finish, then shows what changed.
func (c *Console) show(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.idle(ctx); err != nil {
		return fmt.Errorf("waiting for sitrep: %w", err)
	}
	c.Show()
	return nil
}

// Show prints what changed in the workspace since the last call: new or
// edited messages (with the files they share), topics, pins, private
// answers and forms. It reports whether it printed anything.
func (c *Console) Show() bool {
	first := !c.started
	c.started = true
	var lines []string
	// The buttons of this output; they replace the last output's only if
	// something is shown, so :click still finds them after a quiet poll.
	// Its messages likewise, for :react, if it shows any.
	var d drawn
	var msgs []msgRef
	var boxes *msgRef
	for _, ch := range c.sim.Channels() {
		where := "#" + ch.Name
		if ch.IsIM {
			where = "direct message " + ch.Name
		}
		if topic := c.sim.Topic(ch.ID); topic != c.topics[ch.ID] {
			c.topics[ch.ID] = topic
			lines = append(lines, fmt.Sprintf("#%s topic: %s", ch.Name, topic))
		}
		pins := c.sim.Pins(ch.ID)
		for _, m := range c.sim.Messages(ch.ID) {
			key := ch.ID + "/" + m.TS
			shown, seen := c.shownMsgs[key]
			if seen && shown == m.UpdatedCount {
				continue
			}
			c.shownMsgs[key] = m.UpdatedCount
			head := fmt.Sprintf("%s · %s · %s", where, clockTime(m.TS), c.name("@"+m.User))
			if seen {
				head += " (edited)"
			}
			if slices.Contains(pins, m.TS) {
				c.pins[key] = true
				head += " (pinned)"
			}
			msgs = append(msgs, msgRef{ch.ID, m.TS})
			head += fmt.Sprintf(" · msg %d", len(msgs))
			lines = append(lines, head)
			hadBoxes := d.boxes
			d.boxes = false
			body := c.messageLines(&d, ch.ID, m.TS, m.Text, m.Blocks)
			if d.boxes {
				boxes = &msgRef{ch.ID, m.TS}
			}
			d.boxes = d.boxes || hadBoxes
			if len(m.Files) > 0 && len(body) == 1 && body[0] == "" {
				body = nil // a file shared without a comment
			}
			for _, f := range m.Files {
				body = append(body, fileLine(f))
			}
			lines = append(lines, indent(body)...)
		}
	}
	for _, u := range c.sim.Users() {
		eph := c.sim.Ephemerals(u.ID)
		for _, e := range eph[min(c.shownEph[u.ID], len(eph)):] {
			lines = append(lines, fmt.Sprintf("(only %s sees, in #%s)", u.Name, c.name("#"+e.Channel)))
			lines = append(lines, indent(c.messageLines(&d, e.Channel, "", e.Text, e.Blocks))...)
		}
		c.shownEph[u.ID] = len(eph)
		for _, v := range c.sim.OpenViews(u.ID) {
			if c.shownViews[v.ID] {
				continue
			}
			c.shownViews[v.ID] = true
			lines = append(lines, fmt.Sprintf("(form for %s) fill it with :submit field=value …", u.Name))
			lines = append(lines, indent(renderBlocks(viewBlocks(v.Raw), "", "", &d, c.name))...)
		}
	}
	if first {
		return false // the seeded workspace is not news
	}
	if len(lines) > 0 {
		c.buttons = d.buttons
		fmt.Fprint(c.out, c.pre)
	}
	if len(msgs) > 0 {
		c.msgs = msgs
	}
	if boxes != nil {
		c.boxes = boxes
	}
	for _, l := range lines {
		fmt.Fprintln(c.out, l)
	}
	return len(lines) > 0
}

func (c *Console) messageLines(d *drawn, channel, ts, text string, blocks []byte) []string {
	if lines := renderBlocks(blocks, channel, ts, d, c.name); len(lines) > 0 {
		return lines
	}
	return splitLines(mrkdwn(text, c.name))
}

// name resolves "@U123" to a user name and "#C123" to a channel name.
func (c *Console) name(ref string) string {
	id := ref[1:]
	if ref[0] == '@' {
		for _, u := range c.sim.Users() {
			if u.ID == id {
				return u.Name
			}
		}
		if id == "" {
			return "sitrep"
		}
		return id
	}
	if ch := c.sim.Channel(id); ch != nil {
		return ch.Name
	}
	return id
}

func (c *Console) userID(name string) string {
	for _, u := range c.sim.Users() {
		if !u.IsBot && (strings.EqualFold(u.Name, name) || u.ID == name || u.DisplayName != "" && strings.EqualFold(u.DisplayName, name)) {
			return u.ID
		}
	}
	return ""
}

func (c *Console) userNames() []string {
	var out []string
	for _, u := range c.sim.Users() {
		if !u.IsBot {
			out = append(out, u.Name)
		}
	}
	return out
}

func indent(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}

// viewBlocks extracts the blocks of a view's JSON.
func viewBlocks(raw []byte) []byte {
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v.Blocks
}

// splitArgs splits `a=1 b="x y"` into fields, honouring double quotes. It
// reads bytes, not runes: quotes and spaces are ASCII, and the rest is
// kept exactly as typed.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("a quote is not closed in %q", s)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

// enter makes the current user a member of the current channel, as going
// to a channel in Slack to type in it joins it (only members can type).
func (c *Console) enter() {
	if ch := c.sim.Channel(c.channel); ch != nil && !ch.IsIM && !slices.Contains(ch.Members, c.user) {
		c.sim.Join(c.channel, c.user)
	}
}
