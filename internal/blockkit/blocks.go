package blockkit

import (
	"encoding/json"
	"fmt"
)

// blockList checks an array of blocks holding at most limit blocks.
func (c *checker) blockList(path string, raw json.RawMessage, limit int) {
	blocks, ok := array(raw)
	if !ok {
		c.add(path, "must be an array of blocks")
		return
	}
	if len(blocks) > limit {
		c.add(path, "%d blocks, limit %d", len(blocks), limit)
	}
	for i, b := range blocks {
		c.block(fmt.Sprintf("%s[%d]", path, i), b)
	}
}

// block checks one layout block.
func (c *checker) block(path string, raw json.RawMessage) {
	b, ok := object(raw)
	if !ok {
		c.add(path, "block must be an object")
		return
	}
	if id, ok := b["block_id"]; ok {
		s := str(id)
		c.maxLen(path+".block_id", s, MaxID)
		if s != "" {
			if c.blockIDs == nil {
				c.blockIDs = map[string]string{}
			}
			if first, dup := c.blockIDs[s]; dup {
				c.add(path+".block_id", "%q already used by %s", s, first)
			} else {
				c.blockIDs[s] = path
			}
		}
	}
	typ := str(b["type"])
	switch typ {
	case "section":
		c.section(path, b)
	case "header":
		if _, ok := b["text"]; !ok {
			c.add(path+".text", "required")
		} else {
			c.plainText(path+".text", b["text"], MaxHeaderText)
		}
	case "divider":
	case "actions":
		c.elementList(path+".elements", b["elements"], MaxActionsElements, c.element)
	case "context":
		c.elementList(path+".elements", b["elements"], MaxContextElements, c.contextElement)
	case "image":
		c.image(path, b)
	case "input":
		c.inputs++
		if _, ok := b["label"]; !ok {
			c.add(path+".label", "required")
		} else {
			c.plainText(path+".label", b["label"], MaxInputLabel)
		}
		if h, ok := b["hint"]; ok {
			c.plainText(path+".hint", h, MaxInputLabel)
		}
		if e, ok := b["element"]; !ok {
			c.add(path+".element", "required")
		} else {
			c.element(path+".element", e)
		}
	case "rich_text":
		if _, ok := array(b["elements"]); !ok {
			c.add(path+".elements", "required")
		}
	case "markdown":
		if str(b["text"]) == "" {
			c.add(path+".text", "required")
		}
	case "file", "video", "call", "table", "context_actions", "plan", "task_card", "alert", "card", "carousel":
		// Accepted without deeper checks.
	case "":
		c.add(path+".type", "required")
	default:
		c.add(path+".type", "unknown block type %q", typ)
	}
}

func (c *checker) section(path string, b map[string]json.RawMessage) {
	text, hasText := b["text"]
	fieldsRaw, hasFields := b["fields"]
	if !hasText && !hasFields {
		c.add(path, "section needs text or fields")
	}
	if hasText {
		c.textObject(path+".text", text, MaxSectionText)
	}
	if hasFields {
		fields, ok := array(fieldsRaw)
		switch {
		case !ok:
			c.add(path+".fields", "must be an array of text objects")
		case len(fields) > MaxSectionFields:
			c.add(path+".fields", "%d items, limit %d", len(fields), MaxSectionFields)
		}
		for i, f := range fields {
			c.textObject(fmt.Sprintf("%s.fields[%d]", path, i), f, MaxFieldText)
		}
	}
	if acc, ok := b["accessory"]; ok {
		c.element(path+".accessory", acc)
	}
}

func (c *checker) image(path string, b map[string]json.RawMessage) {
	if str(b["image_url"]) == "" {
		if _, ok := b["slack_file"]; !ok {
			c.add(path+".image_url", "image_url or slack_file required")
		}
	}
	c.maxLen(path+".image_url", str(b["image_url"]), MaxURL)
	if _, ok := b["alt_text"]; !ok {
		c.add(path+".alt_text", "required")
	}
	if t, ok := b["title"]; ok {
		c.plainText(path+".title", t, 2000)
	}
}

// elementList checks an array of 1..limit elements with check.
func (c *checker) elementList(path string, raw json.RawMessage, limit int, check func(string, json.RawMessage)) {
	els, ok := array(raw)
	switch {
	case !ok || raw == nil:
		c.add(path, "required array of elements")
		return
	case len(els) == 0:
		c.add(path, "must not be empty")
	case len(els) > limit:
		c.add(path, "%d elements, limit %d", len(els), limit)
	}
	for i, e := range els {
		check(fmt.Sprintf("%s[%d]", path, i), e)
	}
}

// contextElement checks an element of a context block: a text object or an image.
func (c *checker) contextElement(path string, raw json.RawMessage) {
	e, ok := object(raw)
	if !ok {
		c.add(path, "element must be an object")
		return
	}
	switch typ := str(e["type"]); typ {
	case "plain_text", "mrkdwn":
		c.textObject(path, raw, MaxSectionText)
	case "image":
		if str(e["image_url"]) == "" {
			if _, ok := e["slack_file"]; !ok {
				c.add(path+".image_url", "image_url or slack_file required")
			}
		}
		if _, ok := e["alt_text"]; !ok {
			c.add(path+".alt_text", "required")
		}
	default:
		c.add(path+".type", "context elements are text or image, got %q", typ)
	}
}
