package slacksim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// found is an interactive element located in a block list.
type found struct {
	blockID string
	el      map[string]any
}

// blockIDOf returns a block's block_id, or a stable stand-in ("sim-<i>") for
// a block without one, as Slack fills in a random one.
func blockIDOf(b map[string]any, i int) string {
	if id, _ := b["block_id"].(string); id != "" {
		return id
	}
	return fmt.Sprintf("sim-%d", i)
}

// findAction finds the element with actionID in a JSON block list.
func findAction(blocks json.RawMessage, actionID string) (found, bool) {
	var list []map[string]any
	if json.Unmarshal(blocks, &list) != nil {
		return found{}, false
	}
	for i, b := range list {
		var els []any
		switch b["type"] {
		case "actions":
			els, _ = b["elements"].([]any)
		case "section":
			els = []any{b["accessory"]}
		case "input":
			els = []any{b["element"]}
		}
		for _, e := range els {
			el, _ := e.(map[string]any)
			if el != nil && el["action_id"] == actionID {
				return found{blockID: blockIDOf(b, i), el: el}, true
			}
		}
	}
	return found{}, false
}

// options returns an element's options, flattening option groups.
func options(el map[string]any) []map[string]any {
	var out []map[string]any
	add := func(list any) {
		arr, _ := list.([]any)
		for _, o := range arr {
			if m, ok := o.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	add(el["options"])
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				add(gm["options"])
			}
		}
	}
	return out
}

func optionByValue(el map[string]any, value string) (map[string]any, error) {
	for _, o := range options(el) {
		if o["value"] == value {
			return map[string]any{"text": o["text"], "value": o["value"]}, nil
		}
	}
	return nil, fmt.Errorf("slacksim: element %v has no option with value %q", el["action_id"], value)
}

func splitValues(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// elementValue renders what a user chose in an element the way Slack puts
// it in an action or in view state: value, selected_option(s),
// selected_user(s), … The element type says which. set is false when the
// user gave no value, and the element's initial value is used.
func elementValue(el map[string]any, value string, set bool) (map[string]any, error) {
	typ, _ := el["type"].(string)
	out := map[string]any{"type": typ}
	if !set {
		return initialValue(el, out), nil
	}
	switch typ {
	case "button":
		if value == "" {
			value, _ = el["value"].(string)
		}
		out["value"] = value
		out["text"] = el["text"]
		if st, ok := el["style"]; ok {
			out["style"] = st
		}
	case "static_select", "external_select", "radio_buttons", "overflow":
		if value == "" {
			out["selected_option"] = nil
			break
		}
		o, err := optionByValue(el, value)
		if err != nil {
			return nil, err
		}
		out["selected_option"] = o
	case "multi_static_select", "multi_external_select", "checkboxes":
		sel := []any{}
		for _, v := range splitValues(value) {
			o, err := optionByValue(el, v)
			if err != nil {
				return nil, err
			}
			sel = append(sel, o)
		}
		out["selected_options"] = sel
	case "users_select":
		out["selected_user"] = value
	case "multi_users_select":
		out["selected_users"] = splitValues(value)
	case "conversations_select":
		out["selected_conversation"] = value
	case "multi_conversations_select":
		out["selected_conversations"] = splitValues(value)
	case "channels_select":
		out["selected_channel"] = value
	case "multi_channels_select":
		out["selected_channels"] = splitValues(value)
	case "datepicker":
		out["selected_date"] = value
	case "timepicker":
		out["selected_time"] = value
	default: // plain_text_input, email/url/number inputs, …
		if value == "" {
			out["value"] = nil
		} else {
			out["value"] = value
		}
	}
	return out, nil
}

// initialValue is the state of an element the user left alone.
func initialValue(el map[string]any, out map[string]any) map[string]any {
	switch out["type"] {
	case "static_select", "external_select", "radio_buttons":
		out["selected_option"] = el["initial_option"]
	case "multi_static_select", "multi_external_select", "checkboxes":
		if v, ok := el["initial_options"]; ok {
			out["selected_options"] = v
		} else {
			out["selected_options"] = []any{}
		}
	case "users_select":
		out["selected_user"] = el["initial_user"]
	case "conversations_select":
		out["selected_conversation"] = el["initial_conversation"]
	case "channels_select":
		out["selected_channel"] = el["initial_channel"]
	case "datepicker":
		out["selected_date"] = el["initial_date"]
	case "timepicker":
		out["selected_time"] = el["initial_time"]
	default:
		out["value"] = el["initial_value"]
	}
	return out
}

// Click has user click (or choose in) the element with actionID in the
// message messageTS of channelID — a channel message, or an ephemeral
// message user saw there — and sends the block_actions interaction Slack
// sends, with a fresh trigger_id. value is what the user chose: for a
// button "" means the button's own value; for a select or radio buttons it
// is the option value; for checkboxes or multi-selects a comma-separated
// list; for user, conversation and channel pickers an ID. It waits for the
// ack like SlashCommand.
func (s *Sim) Click(ctx context.Context, user, channelID, messageTS, actionID, value string) (*Delivery, error) {
	return s.click(ctx, user, channelID, messageTS, nil, actionID, value)
}

// ClickStale is Click by a client that still shows an older version of the
// message: seen, the blocks it shows (a Message's Blocks read earlier). The
// action carries seen's block ID and element, as a client that has not yet
// redrawn the message sends them.
func (s *Sim) ClickStale(ctx context.Context, user, channelID, messageTS string, seen json.RawMessage, actionID, value string) (*Delivery, error) {
	return s.click(ctx, user, channelID, messageTS, seen, actionID, value)
}

func (s *Sim) click(ctx context.Context, user, channelID, messageTS string, seen json.RawMessage, actionID, value string) (*Delivery, error) {
	s.mu.Lock()
	ch := s.ws.channels[channelID]
	if ch == nil || s.ws.users[user] == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: click: unknown channel %q or user %q", channelID, user)
	}
	var blocks json.RawMessage
	var message map[string]any
	ephemeral := false
	if m := ch.byTS[messageTS]; m != nil {
		blocks = slices.Clone(m.Blocks)
		if seen != nil {
			blocks = slices.Clone(seen)
		}
		message = s.messageJSONLocked(m)
	} else {
		for _, e := range s.ws.ephemerals[user] {
			if e.Channel == channelID && e.TS == messageTS {
				blocks, ephemeral = slices.Clone(e.Blocks), true
			}
		}
		if !ephemeral {
			s.mu.Unlock()
			return nil, fmt.Errorf("slacksim: click: no message %s in %s", messageTS, channelID)
		}
	}
	f, okAct := findAction(blocks, actionID)
	if !okAct {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: click %q in message %s: %w", actionID, messageTS, errNoElement)
	}
	trig := s.issueTriggerLocked(user)
	hookURL := s.responseURLLocked("actions", user, channelID, messageTS, ephemeral)
	userRef := s.userRefLocked(user)
	channelName := ch.Name
	actionTS := s.nextTSLocked()
	s.mu.Unlock()

	action, err := elementValue(f.el, value, true)
	if err != nil {
		return nil, err
	}
	action["action_id"] = actionID
	action["block_id"] = f.blockID
	action["action_ts"] = actionTS
	payload := map[string]any{
		"type":                  "block_actions",
		"user":                  userRef,
		"api_app_id":            s.opts.AppID,
		"token":                 verificationToken,
		"container":             map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channelID, "is_ephemeral": ephemeral},
		"trigger_id":            trig,
		"team":                  s.teamRef(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": channelID, "name": channelName},
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          hookURL,
		"actions":               []any{action},
	}
	if message != nil {
		payload["message"] = message
	}
	return s.sendInteraction(ctx, trig, payload, false, nil)
}

// Submit has user submit the open modal viewID with values keyed by
// block_id, then action_id (the shape of Slack's state.values): for a
// plain_text_input the text ("" sends null), for a static_select or radio
// buttons the option value, for checkboxes or multi-selects a
// comma-separated list of option values, for pickers an ID or date. Input
// elements not named keep their initial value. A required input left empty
// is refused, as Slack's client would. Submit sends the view_submission
// interaction and waits for the ack. An ack without payload, or with
// response_action "clear", closes the view; "errors" leaves it open (the
// ack payload is in the Delivery); "update" replaces it; "push" opens
// another.
func (s *Sim) Submit(ctx context.Context, user, viewID string, values map[string]map[string]string) (*Delivery, error) {
	s.mu.Lock()
	v := s.ws.views[viewID]
	if v == nil || v.User != user {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacksim: submit: no view %q open for %s", viewID, user)
	}
	raw := slices.Clone(v.Raw)
	trig := s.issueTriggerLocked(user)
	userRef := s.userRefLocked(user)
	s.mu.Unlock()

	var view map[string]any
	if err := json.Unmarshal(raw, &view); err != nil {
		return nil, fmt.Errorf("slacksim: submit: stored view: %w", err)
	}
	state, err := viewState(view, values)
	if err != nil {
		return nil, err
	}
	view["state"] = map[string]any{"values": state}
	payload := map[string]any{
		"type":                  "view_submission",
		"team":                  s.teamRef(),
		"user":                  userRef,
		"api_app_id":            s.opts.AppID,
		"token":                 verificationToken,
		"trigger_id":            trig,
		"view":                  view,
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	return s.sendInteraction(ctx, trig, payload, true, func(d Delivery) { s.applyViewAck(user, viewID, d.AckPayload) })
}

// viewState builds state.values for a view's input blocks.
func viewState(view map[string]any, values map[string]map[string]string) (map[string]any, error) {
	blocks, _ := view["blocks"].([]any)
	state := map[string]any{}
	seen := map[string]bool{}
	for i, b := range blocks {
		bm, _ := b.(map[string]any)
		if bm == nil || bm["type"] != "input" {
			continue
		}
		el, _ := bm["element"].(map[string]any)
		if el == nil {
			continue
		}
		blockID := blockIDOf(bm, i)
		actionID, _ := el["action_id"].(string)
		if actionID == "" {
			actionID = fmt.Sprintf("sim-action-%d", i)
		}
		value, set := values[blockID][actionID]
		if set {
			seen[blockID+"\x00"+actionID] = true
		}
		optional, _ := bm["optional"].(bool)
		if !optional && set && value == "" {
			return nil, fmt.Errorf("slacksim: submit: input %s/%s is required", blockID, actionID)
		}
		ev, err := elementValue(el, value, set)
		if err != nil {
			return nil, err
		}
		state[blockID] = map[string]any{actionID: ev}
	}
	for blockID, acts := range values {
		for actionID := range acts {
			if !seen[blockID+"\x00"+actionID] {
				return nil, fmt.Errorf("slacksim: submit: the view has no input %s/%s", blockID, actionID)
			}
		}
	}
	return state, nil
}
