package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// checklistRef is a run's reference as a person types it: "CL-2".
var checklistRef = regexp.MustCompile(`(?i)^cl-[0-9]+$`)

// boxGroup is one checkboxes element of a message, as Slack's client
// holds it: which options it shows and which are ticked.
type boxGroup struct {
	actionID string
	values   []string // option values, in order
	ticked   []string // values of initial_options
}

// tick ticks (on) or unticks step N of a checklist: the one whose boxes
// were shown last, or the one arg names ("CL-2 3"). It sends what Slack
// sends for a click on a checkbox: a block_actions payload whose action
// carries the group's whole new set of selected_options.
func (c *Console) tick(ctx context.Context, on bool, arg string) error {
	verb := "tick"
	if !on {
		verb = "untick"
	}
	usage := fmt.Sprintf("write :%s 3 for step 3 of the checklist shown last, or :%s CL-2 3", verb, verb)
	fields := strings.Fields(arg)
	var ref string
	if len(fields) == 2 && checklistRef.MatchString(fields[0]) {
		ref, fields = strings.ToUpper(fields[0]), fields[1:]
	}
	if len(fields) != 1 {
		return fmt.Errorf("say which step: %s", usage)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(fields[0], "."))
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a step number: %s", fields[0], usage)
	}
	msg, err := c.checklistMessage(ref)
	if err != nil {
		return err
	}
	m := c.sim.Message(msg.channel, msg.ts)
	if m == nil {
		return fmt.Errorf("the checklist's message is gone")
	}
	groups := boxGroups(m.Blocks)
	name := ref
	if name == "" {
		name = "the checklist shown last"
	}
	total := 0
	for _, g := range groups {
		total += len(g.values)
	}
	if total == 0 {
		return fmt.Errorf("%s has no boxes left to tick: it is finished", name)
	}
	if n > total {
		return fmt.Errorf("%s has steps 1 to %d; there is no step %d", name, total, n)
	}
	for _, g := range groups {
		if n > len(g.values) {
			n -= len(g.values)
			continue
		}
		v := g.values[n-1]
		was := slices.Contains(g.ticked, v)
		switch {
		case on && was:
			return fmt.Errorf("step %s is ticked already (:untick %s clears it)", fields[0], fields[0])
		case !on && !was:
			return fmt.Errorf("step %s is not ticked", fields[0])
		}
		// The group as the client shows it after the click, in the
		// options' order.
		var selected []string
		for _, o := range g.values {
			if o == v && on || o != v && slices.Contains(g.ticked, o) {
				selected = append(selected, o)
			}
		}
		if _, err := c.sim.Click(ctx, c.user, msg.channel, msg.ts, g.actionID, strings.Join(selected, ",")); err != nil {
			return fmt.Errorf("ticking step %s: %w", fields[0], err)
		}
		return c.settle(ctx)
	}
	return nil // not reached: n <= total
}

// checklistMessage finds the message of the checklist ref ("CL-2"), or
// with ref "" the message whose boxes were shown last.
func (c *Console) checklistMessage(ref string) (msgRef, error) {
	if ref == "" {
		if c.boxes == nil {
			return msgRef{}, fmt.Errorf("no checklist has been shown yet: start one with /checklist start web-release v1.0 (/checklist list shows them)")
		}
		return *c.boxes, nil
	}
	// A checklist's message text starts with its reference; it comes
	// before its summary, which starts so too.
	var found *msgRef
	for _, ch := range c.sim.Channels() {
		for _, m := range c.sim.Messages(ch.ID) {
			if found == nil && m.ThreadTS == "" && strings.HasPrefix(m.Text, ref+" ") {
				found = &msgRef{ch.ID, m.TS}
			}
		}
	}
	if found == nil {
		return msgRef{}, fmt.Errorf("no checklist %s in the workspace: /checklist status lists those running", ref)
	}
	return *found, nil
}

// boxGroups returns the checkboxes elements of a message's blocks.
func boxGroups(raw []byte) []boxGroup {
	var blocks []block
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []boxGroup
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		var els []element
		_ = json.Unmarshal(b.Elements, &els)
		for _, e := range els {
			if e.Type != "checkboxes" {
				continue
			}
			g := boxGroup{actionID: e.ActionID}
			for _, o := range e.Options {
				g.values = append(g.values, o.Value)
			}
			for _, o := range e.InitialOptions {
				g.ticked = append(g.ticked, o.Value)
			}
			out = append(out, g)
		}
	}
	return out
}

// react adds a reaction as the current user to message N of the output
// ("pushpin 3"), or to the last message shown ("pushpin").
func (c *Console) react(ctx context.Context, arg string) error {
	const usage = "write :react pushpin 3 for message 3 of the output (msg 3), or :react pushpin for the last one"
	fields := strings.Fields(arg)
	if len(fields) == 0 || len(fields) > 2 {
		return fmt.Errorf("say which emoji and which message: %s", usage)
	}
	emoji := strings.Trim(fields[0], ":")
	if !validEmoji.MatchString(emoji) {
		return fmt.Errorf("%q is not an emoji name: write it as Slack does, lower case without colons (pushpin, eyes, white_check_mark); %s", fields[0], usage)
	}
	if len(c.msgs) == 0 {
		return fmt.Errorf("no message has been shown yet to react to")
	}
	n := len(c.msgs)
	if len(fields) == 2 {
		var err error
		n, err = strconv.Atoi(strings.TrimPrefix(fields[1], "msg"))
		if err != nil {
			return fmt.Errorf("%q is not a message number: %s", fields[1], usage)
		}
		if n < 1 || n > len(c.msgs) {
			return fmt.Errorf("no message %d: the output shows msg 1 to msg %d", n, len(c.msgs))
		}
	}
	m := c.msgs[n-1]
	if _, err := c.sim.React(ctx, c.user, m.channel, m.ts, emoji); err != nil {
		return fmt.Errorf("reacting with :%s: to msg %d: %w", emoji, n, err)
	}
	fmt.Fprintf(c.out, "(%s reacted :%s: to msg %d in #%s)\n", c.name("@"+c.user), emoji, n, c.name("#"+m.channel))
	return c.settle(ctx)
}

// validEmoji is an emoji name as Slack writes it in a reaction.
var validEmoji = regexp.MustCompile(`^[a-z0-9_+'-]+(::skin-tone-[2-6])?$`)
