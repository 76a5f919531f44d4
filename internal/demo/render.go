package demo

import (
	"encoding/json"
	"fmt"
	"regexp"
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
	Type          string   `json:"type"`
	Text          *textObj `json:"text"`
	ActionID      string   `json:"action_id"`
	Value         string   `json:"value"`
	Options       []option `json:"options"`
	InitialOption *option  `json:"initial_option"`
	Placeholder   *textObj `json:"placeholder"`
	Multiline     bool     `json:"multiline"`
}

type option struct {
	Text  textObj `json:"text"`
	Value string  `json:"value"`
}

// renderBlocks writes blocks as indented text lines. Buttons are appended to
// *buttons and shown with their number.
func renderBlocks(raw []byte, channel, ts string, buttons *[]button, names func(string) string) []string {
	var blocks []block
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var lines []string
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
				*buttons = append(*buttons, button{channel: channel, ts: ts, actionID: e.ActionID, value: e.Value, label: e.Text.Text})
				lines[len(lines)-1] += fmt.Sprintf("  [%d] %s", len(*buttons), e.Text.Text)
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
				if e.Type != "button" || e.Text == nil {
					continue
				}
				*buttons = append(*buttons, button{channel: channel, ts: ts, actionID: e.ActionID, value: e.Value, label: e.Text.Text})
				labels = append(labels, fmt.Sprintf("[%d] %s", len(*buttons), e.Text.Text))
			}
			if len(labels) > 0 {
				lines = append(lines, strings.Join(labels, "  "))
			}
		case "divider":
			lines = append(lines, "----")
		case "input":
			lines = append(lines, inputLine(b))
		}
	}
	return lines
}

// fieldLine turns "*Severity*\nSEV1" into "Severity: SEV1".
func fieldLine(s string) string {
	name, value, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return strings.Trim(name, "*") + ": " + strings.ReplaceAll(value, "\n", " ")
}

func inputLine(b block) string {
	label := b.BlockID
	if b.Label != nil {
		label = b.Label.Text
	}
	opt := ""
	if b.Optional {
		opt = " (optional)"
	}
	hint := ""
	if b.Element != nil {
		switch b.Element.Type {
		case "static_select":
			var vals []string
			for _, o := range b.Element.Options {
				vals = append(vals, o.Value)
			}
			hint = " one of " + strings.Join(vals, ", ")
			if b.Element.InitialOption != nil {
				hint += " (default " + b.Element.InitialOption.Value + ")"
			}
		case "plain_text_input":
			if b.Element.Placeholder != nil {
				hint = " e.g. " + b.Element.Placeholder.Text
			}
		case "users_select":
			hint = " a user ID, e.g. U0BOB"
		case "datepicker":
			hint = " a date, e.g. 2030-01-31"
		}
	}
	return fmt.Sprintf("  %s%s: %s=…%s", label, opt, b.BlockID, hint)
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
