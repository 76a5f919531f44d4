// Package blockkit checks Block Kit JSON against the limits Slack documents,
// so a message or modal that Slack would refuse fails in a test instead of in
// a workspace. It works on raw JSON, the bytes that would go on the wire, and
// reports every violation it finds, each with a JSON-ish path such as
// blocks[3].text.text.
package blockkit

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Limits Slack documents for messages and modals.
const (
	MaxMessageBlocks   = 50
	MaxModalBlocks     = 100
	MaxMessageText     = 40000
	MaxSectionText     = 3000
	MaxSectionFields   = 10
	MaxFieldText       = 2000
	MaxHeaderText      = 150
	MaxButtonText      = 75
	MaxButtonValue     = 2000
	MaxOptionText      = 75
	MaxOptionValue     = 150
	MaxID              = 255
	MaxActionsElements = 25
	MaxContextElements = 10
	MaxCheckboxOptions = 10
	MaxSelectOptions   = 100
	MaxModalTitle      = 24
	MaxPrivateMetadata = 3000
	MaxInputLabel      = 2000
	MaxPlaceholder     = 150
	MaxURL             = 3000
)

// Violation is one broken rule: where it is and what is wrong.
type Violation struct {
	// Path locates the offending value, e.g. "blocks[3].text.text".
	Path string
	// Problem says what is wrong, e.g. "3012 characters, limit 3000".
	Problem string
}

// String formats the violation as "path: problem".
func (v Violation) String() string {
	if v.Path == "" {
		return v.Problem
	}
	return v.Path + ": " + v.Problem
}

// Error lists every violation found in one message or modal.
type Error struct {
	// Violations holds each broken rule in document order.
	Violations []Violation
}

// Error joins the violations with "; ".
func (e *Error) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return "block kit: " + strings.Join(parts, "; ")
}

// CheckMessage checks a message's blocks. raw is either a JSON array of
// blocks (what chat.postMessage takes as "blocks") or a message object with
// "text" and/or "blocks" fields. It returns nil, or an *Error listing every
// violation.
func CheckMessage(raw []byte) error {
	c := &checker{}
	trimmed := strings.TrimSpace(string(raw))
	switch {
	case trimmed == "" || trimmed == "null":
		return nil
	case strings.HasPrefix(trimmed, "["):
		c.blockList("blocks", raw, MaxMessageBlocks)
	case strings.HasPrefix(trimmed, "{"):
		var msg map[string]json.RawMessage
		if err := json.Unmarshal(raw, &msg); err != nil {
			c.add("", "not a JSON object: %v", err)
			break
		}
		if t, ok := msg["text"]; ok {
			var s string
			if json.Unmarshal(t, &s) != nil {
				c.add("text", "must be a string")
			} else {
				c.maxLen("text", s, MaxMessageText)
			}
		}
		if b, ok := msg["blocks"]; ok {
			c.blockList("blocks", b, MaxMessageBlocks)
		}
	default:
		c.add("", "not a JSON array of blocks or a message object")
	}
	return c.err()
}

// CheckModal checks a modal view object (what views.open takes as "view").
// It returns nil, or an *Error listing every violation.
func CheckModal(raw []byte) error {
	c := &checker{}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		c.add("", "view is not a JSON object: %v", err)
		return c.err()
	}
	if typ := str(v["type"]); typ != "modal" {
		c.add("type", "must be \"modal\", got %q", typ)
	}
	if _, ok := v["title"]; !ok {
		c.add("title", "required")
	} else {
		c.plainText("title", v["title"], MaxModalTitle)
	}
	for _, k := range []string{"submit", "close"} {
		if t, ok := v[k]; ok && string(t) != "null" {
			c.plainText(k, t, MaxModalTitle)
		}
	}
	c.maxLen("private_metadata", str(v["private_metadata"]), MaxPrivateMetadata)
	c.maxLen("callback_id", str(v["callback_id"]), MaxID)
	c.maxLen("external_id", str(v["external_id"]), MaxID)
	blocks, ok := v["blocks"]
	if !ok {
		c.add("blocks", "required")
	} else {
		c.blockList("blocks", blocks, MaxModalBlocks)
	}
	if c.inputs > 0 {
		if t, ok := v["submit"]; !ok || string(t) == "null" {
			c.add("submit", "required when the view has input blocks")
		}
	}
	return c.err()
}

// checker collects violations while walking one document.
type checker struct {
	vs       []Violation
	blockIDs map[string]string
	inputs   int
}

func (c *checker) add(path, format string, args ...any) {
	c.vs = append(c.vs, Violation{Path: path, Problem: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.vs) == 0 {
		return nil
	}
	return &Error{Violations: c.vs}
}

// maxLen flags s if it has more than limit characters (Unicode code points,
// as Slack counts).
func (c *checker) maxLen(path, s string, limit int) {
	if n := len([]rune(s)); n > limit {
		c.add(path, "%d characters, limit %d", n, limit)
	}
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

func array(raw json.RawMessage) ([]json.RawMessage, bool) {
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false
	}
	return a, true
}
