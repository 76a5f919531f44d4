package demo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// Rendering turns Block Kit into lines a person can read in a terminal:
// headers in capitals, fields as "Name: value", buttons numbered.

// button is a clickable element shown in the output, numbered for :click.
type button struct {
	channel  string
	ts       string
	actionID string
	value    string
	label    string
}

// drawn collects what an output shows that a person can act on: its
// buttons, numbered for :click, and whether a message drew checkboxes
// (the checklist :tick acts on).
type drawn struct {
	buttons []button
	boxes   bool
}

type block struct {
	Type     string          `json:"type"`
	Text     *textObj        `json:"text"`
	Fields   []textObj       `json:"fields"`
	Elements json.RawMessage `json:"elements"`
	Label    *textObj        `json:"label"`
	Element  *element        `json:"element"`
	BlockID  string          `json:"block_id"`
	Optional bool            `json:"optional"`
	// Accessory is a section's element on the right, e.g. a button.
	Accessory *element `json:"accessory"`
}

type textObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type           string   `json:"type"`
	Text           *textObj `json:"text"`
	ActionID       string   `json:"action_id"`
	Value          string   `json:"value"`
	Options        []option `json:"options"`
	InitialOption  *option  `json:"initial_option"`
	InitialOptions []option `json:"initial_options"`
	Placeholder    *textObj `json:"placeholder"`
	Multiline      bool     `json:"multiline"`
}

type option struct {
	Text        textObj  `json:"text"`
	Value       string   `json:"value"`
	Description *textObj `json:"description"`
}

// renderBlocks writes blocks as indented text lines. Buttons are appended to
// d.buttons and shown with their number; checkboxes are drawn as [x] and
// [ ], numbered from 1 across the message, the numbers :tick takes.
func renderBlocks(raw []byte, channel, ts string, d *drawn, names func(string) string) []string {
	var blocks []block
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var lines []string
	box := 0
	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text != nil {
				lines = append(lines, "== "+mrkdwn(b.Text.Text, names)+" ==")
			}
		case "section":
			if b.Text != nil {
				lines = append(lines, splitLines(mrkdwn(b.Text.Text, names))...)
			}
			for _, f := range b.Fields {
				lines = append(lines, fieldLine(mrkdwn(f.Text, names)))
			}
			if e := b.Accessory; e != nil && e.Type == "button" && e.Text != nil && len(lines) > 0 {
				d.buttons = append(d.buttons, button{channel: channel, ts: ts, actionID: e.ActionID, value: e.Value, label: e.Text.Text})
				lines[len(lines)-1] += fmt.Sprintf("  [%d] %s", len(d.buttons), e.Text.Text)
			}
		case "context":
			var els []textObj
			_ = json.Unmarshal(b.Elements, &els)
			for _, e := range els {
				lines = append(lines, "  ("+mrkdwn(e.Text, names)+")")
			}
		case "actions":
			var els []element
			_ = json.Unmarshal(b.Elements, &els)
			var labels []string
			for _, e := range els {
				switch {
				case e.Type == "checkboxes":
					d.boxes = true
					for _, o := range e.Options {
						box++
						lines = append(lines, checkboxLine(box, o, ticked(e, o.Value), names))
					}
				case e.Type == "button" && e.Text != nil:
					d.buttons = append(d.buttons, button{channel: channel, ts: ts, actionID: e.ActionID, value: e.Value, label: e.Text.Text})
					labels = append(labels, fmt.Sprintf("[%d] %s", len(d.buttons), e.Text.Text))
				}
			}
			if len(labels) > 0 {
				lines = append(lines, strings.Join(labels, "  "))
			}
		case "divider":
			lines = append(lines, "----")
		case "input":
			lines = append(lines, inputLines(b)...)
		}
	}
	return lines
}

// ticked reports whether the option with value is ticked in a checkboxes
// element: one of its initial_options.
func ticked(e element, value string) bool {
	for _, o := range e.InitialOptions {
		if o.Value == value {
			return true
		}
	}
	return false
}

// checkboxLine draws option n of a message's checkboxes: "[x] 3. Deploy —
// @bob · 12:01". The number is shown unless the label starts with it.
func checkboxLine(n int, o option, on bool, names func(string) string) string {
	mark := "[ ]"
	if on {
		mark = "[x]"
	}
	label := mrkdwn(o.Text.Text, names)
	if !strings.Contains(label, strconv.Itoa(n)+". ") {
		label = strconv.Itoa(n) + ". " + label
	}
	line := mark + " " + label
	if o.Description != nil && o.Description.Text != "" {
		line += " — " + mrkdwn(o.Description.Text, names)
	}
	return line
}

// fieldLine turns "*Severity*\nSEV1" into "Severity: SEV1".
func fieldLine(s string) string {
	name, value, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return strings.Trim(name, "*") + ": " + strings.ReplaceAll(value, "\n", " ")
}

// inputLines renders a form's input as what to type after :submit, with
// the choices of a select or checkboxes as the keys :submit takes.
func inputLines(b block) []string {
	label := b.BlockID
	if b.Label != nil {
		label = b.Label.Text
	}
	opt := ""
	if b.Optional {
		opt = " (optional)"
	}
	hint := ""
	var more []string
	if e := b.Element; e != nil {
		switch e.Type {
		case "static_select", "radio_buttons", "checkboxes", "multi_static_select":
			keys := optionKeys(e.Options)
			plain := true
			for i, o := range e.Options {
				if !strings.EqualFold(o.Text.Text, keys[i]) {
					plain = false
				}
			}
			hint = " one of"
			if e.Type == "checkboxes" || e.Type == "multi_static_select" {
				hint = " any of (comma-separated)"
			}
			if plain {
				hint += " " + strings.Join(keys, ", ")
			} else {
				hint += ":"
				for i, o := range e.Options {
					more = append(more, "      "+optionLine(keys[i], o.Text.Text))
				}
			}
			if e.InitialOption != nil {
				for i, o := range e.Options {
					if o.Value == e.InitialOption.Value {
						hint += " (default " + keys[i] + ")"
					}
				}
			}
		case "plain_text_input":
			if e.Placeholder != nil {
				hint = " e.g. " + e.Placeholder.Text
			}
		case "users_select":
			hint = " a person, e.g. @bob"
		case "multi_users_select":
			hint = " people, e.g. @bob,@carol"
		case "datepicker":
			hint = " a date, e.g. 2030-01-31"
		}
	}
	return append([]string{fmt.Sprintf("  %s%s: %s=…%s", label, opt, b.BlockID, hint)}, more...)
}

// leadingNumber reads the number a label starts with: "9. Verify" is 9.
var leadingNumber = regexp.MustCompile(`^([0-9]+)[.)] `)

// optionKeys returns what a person types to choose each option: the number
// its label starts with when every label starts with a different one (a
// person sees "9. Verify canary" and types 9, whatever the option's value),
// else its value.
func optionKeys(opts []option) []string {
	keys := make([]string, len(opts))
	seen := map[string]bool{}
	numbered := true
	for i, o := range opts {
		m := leadingNumber.FindStringSubmatch(o.Text.Text)
		if m == nil || seen[m[1]] {
			numbered = false
			break
		}
		seen[m[1]] = true
		keys[i] = m[1]
	}
	if !numbered {
		for i, o := range opts {
			keys[i] = o.Value
		}
	}
	return keys
}

// optionLine shows one choice: its label, after its key unless the label
// starts with it ("9. Verify canary", "sev1: SEV1 — down for everyone").
func optionLine(key, label string) string {
	if len(label) >= len(key) && strings.EqualFold(label[:len(key)], key) {
		return label
	}
	return key + ": " + label
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// fileLine renders a shared file as "📎 pareto.png (image/png, 34 KB)",
// with a second line "  file: /tmp/…/F0001-pareto.png" when the simulator
// wrote it to a folder, so that it can be opened.
func fileLine(f slacksim.File) string {
	line := fmt.Sprintf("📎 %s (%s, %s)", f.Name, f.Mimetype, byteSize(f.Size))
	if f.Path != "" {
		line += "\n  file: " + f.Path
	}
	return line
}

// byteSize renders n bytes as "512 B", "34 KB" or "1.5 MB".
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}

var (
	userRef    = regexp.MustCompile(`<@([A-Z0-9]+)>`)
	channelRef = regexp.MustCompile(`<#([A-Z0-9]+)(?:\|[^>]*)?>`)
	dateRef    = regexp.MustCompile(`<!date\^(\d+)\^[^|>]*\|([^>]*)>`)
	linkRef    = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]+)>`)
)

// mrkdwn renders Slack mrkdwn for a terminal: mentions become @name and
// #channel, dates their fallback, entities their characters.
func mrkdwn(s string, names func(string) string) string {
	s = userRef.ReplaceAllStringFunc(s, func(m string) string {
		return "@" + names("@"+userRef.FindStringSubmatch(m)[1])
	})
	s = channelRef.ReplaceAllStringFunc(s, func(m string) string {
		return "#" + names("#"+channelRef.FindStringSubmatch(m)[1])
	})
	s = dateRef.ReplaceAllString(s, "$2")
	s = linkRef.ReplaceAllString(s, "$2 ($1)")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// clockTime renders a Slack ts ("1732451234.000100") as a time of day.
func clockTime(ts string) string {
	sec, _, _ := strings.Cut(ts, ".")
	var n int64
	fmt.Sscan(sec, &n)
	return time.Unix(n, 0).UTC().Format("15:04")
}
