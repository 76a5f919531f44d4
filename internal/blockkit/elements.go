package blockkit

import (
	"encoding/json"
	"fmt"
)

// element checks one interactive (or image) element.
func (c *checker) element(path string, raw json.RawMessage) {
	e, ok := object(raw)
	if !ok {
		c.add(path, "element must be an object")
		return
	}
	if id, ok := e["action_id"]; ok {
		c.maxLen(path+".action_id", str(id), MaxID)
	}
	if p, ok := e["placeholder"]; ok {
		c.plainText(path+".placeholder", p, MaxPlaceholder)
	}
	typ := str(e["type"])
	switch typ {
	case "button":
		if _, ok := e["text"]; !ok {
			c.add(path+".text", "required")
		} else {
			c.plainText(path+".text", e["text"], MaxButtonText)
		}
		c.maxLen(path+".value", str(e["value"]), MaxButtonValue)
		c.maxLen(path+".url", str(e["url"]), MaxURL)
		if s := str(e["style"]); s != "" && s != "primary" && s != "danger" {
			c.add(path+".style", "must be primary or danger, got %q", s)
		}
	case "static_select", "multi_static_select":
		c.selectOptions(path, e)
	case "checkboxes", "radio_buttons":
		c.options(path+".options", e["options"], MaxCheckboxOptions, true)
	case "overflow":
		opts, _ := array(e["options"])
		if len(opts) < 1 || len(opts) > 5 {
			c.add(path+".options", "%d options, overflow takes 1 to 5", len(opts))
		}
		c.options(path+".options", e["options"], 5, true)
	case "image":
		if str(e["image_url"]) == "" {
			if _, ok := e["slack_file"]; !ok {
				c.add(path+".image_url", "image_url or slack_file required")
			}
		}
		if _, ok := e["alt_text"]; !ok {
			c.add(path+".alt_text", "required")
		}
	case "plain_text_input", "email_text_input", "url_text_input", "number_input",
		"datepicker", "timepicker", "datetimepicker", "rich_text_input", "file_input",
		"users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
		"channels_select", "multi_channels_select", "external_select", "multi_external_select",
		"workflow_button":
		// No limits checked beyond action_id and placeholder.
	case "":
		c.add(path+".type", "required")
	default:
		c.add(path+".type", "unknown element type %q", typ)
	}
}

// selectOptions checks a static select's options or option groups.
func (c *checker) selectOptions(path string, e map[string]json.RawMessage) {
	opts, hasOpts := e["options"]
	groups, hasGroups := e["option_groups"]
	switch {
	case hasOpts && hasGroups:
		c.add(path, "options and option_groups are exclusive")
	case !hasOpts && !hasGroups:
		c.add(path+".options", "required")
	case hasOpts:
		c.options(path+".options", opts, MaxSelectOptions, true)
	default:
		gs, ok := array(groups)
		if !ok {
			c.add(path+".option_groups", "must be an array")
			return
		}
		if len(gs) > MaxSelectOptions {
			c.add(path+".option_groups", "%d groups, limit %d", len(gs), MaxSelectOptions)
		}
		for i, g := range gs {
			gm, _ := object(g)
			gp := fmt.Sprintf("%s.option_groups[%d]", path, i)
			c.plainText(gp+".label", gm["label"], MaxOptionText)
			c.options(gp+".options", gm["options"], MaxSelectOptions, true)
		}
	}
}

// options checks an array of at most limit option objects.
func (c *checker) options(path string, raw json.RawMessage, limit int, required bool) {
	opts, ok := array(raw)
	if !ok || raw == nil {
		if required {
			c.add(path, "required array of options")
		}
		return
	}
	if len(opts) > limit {
		c.add(path, "%d options, limit %d", len(opts), limit)
	}
	for i, o := range opts {
		op := fmt.Sprintf("%s[%d]", path, i)
		om, ok := object(o)
		if !ok {
			c.add(op, "option must be an object")
			continue
		}
		if _, ok := om["text"]; !ok {
			c.add(op+".text", "required")
		} else {
			c.textObject(op+".text", om["text"], MaxOptionText)
		}
		c.maxLen(op+".value", str(om["value"]), MaxOptionValue)
		if d, ok := om["description"]; ok {
			c.textObject(op+".description", d, MaxOptionText)
		}
	}
}

// textObject checks a plain_text or mrkdwn text object of at most limit characters.
func (c *checker) textObject(path string, raw json.RawMessage, limit int) {
	t, ok := object(raw)
	if !ok {
		c.add(path, "must be a text object")
		return
	}
	typ := str(t["type"])
	if typ != "plain_text" && typ != "mrkdwn" {
		c.add(path+".type", "must be plain_text or mrkdwn, got %q", typ)
	}
	s := str(t["text"])
	if s == "" {
		c.add(path+".text", "must not be empty")
	}
	c.maxLen(path+".text", s, limit)
}

// plainText checks a text object that must be plain_text.
func (c *checker) plainText(path string, raw json.RawMessage, limit int) {
	t, ok := object(raw)
	if !ok {
		c.add(path, "must be a plain_text object")
		return
	}
	if typ := str(t["type"]); typ != "plain_text" {
		c.add(path+".type", "must be plain_text, got %q", typ)
	}
	s := str(t["text"])
	if s == "" {
		c.add(path+".text", "must not be empty")
	}
	c.maxLen(path+".text", s, limit)
}
