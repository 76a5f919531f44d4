package slacksim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/sitrep/sitrep/internal/blockkit"
)

// invalidView answers a modal that breaks Block Kit rules as Slack does:
// invalid_arguments, with each problem in response_metadata.messages.
func invalidView(err error) response {
	var msgs []string
	var bk *blockkit.Error
	if errors.As(err, &bk) {
		for _, v := range bk.Violations {
			msgs = append(msgs, "[ERROR] "+v.String())
		}
	} else {
		msgs = []string{"[ERROR] " + err.Error()}
	}
	out := fail("invalid_arguments")
	out["response_metadata"] = map[string]any{"messages": msgs}
	return out
}

// storeViewLocked renders and stores a view for user under id (a new one
// if id is "").
func (s *Sim) storeViewLocked(id, user string, raw []byte) (*View, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if id == "" {
		s.ws.nextView++
		id = fmt.Sprintf("V%04d", s.ws.nextView)
	}
	hash := fmt.Sprintf("%d.%s", s.opts.Now().Unix(), randomHex(4))
	for k, def := range map[string]any{"private_metadata": "", "callback_id": "", "external_id": "",
		"clear_on_close": false, "notify_on_close": false, "submit": nil, "close": nil} {
		if _, ok := v[k]; !ok {
			v[k] = def
		}
	}
	v["id"] = id
	v["team_id"] = s.opts.TeamID
	v["state"] = map[string]any{"values": map[string]any{}}
	v["hash"] = hash
	v["previous_view_id"] = nil
	v["root_view_id"] = id
	v["app_id"] = s.opts.AppID
	v["app_installed_team_id"] = s.opts.TeamID
	v["bot_id"] = s.opts.BotID
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	callback, _ := v["callback_id"].(string)
	meta, _ := v["private_metadata"].(string)
	view := &View{ID: id, User: user, CallbackID: callback, PrivateMetadata: meta, Hash: hash, Raw: out}
	if _, exists := s.ws.views[id]; !exists {
		s.ws.viewOrder = append(s.ws.viewOrder, id)
	}
	s.ws.views[id] = view
	return view, nil
}

func (s *Sim) viewsOpen(r *request) response {
	trig := r.get("trigger_id")
	raw := []byte(r.get("view"))
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ws.triggers[trig]
	switch {
	case t == nil:
		return fail("invalid_trigger_id")
	case t.used:
		return fail("exchanged_trigger_id")
	case s.opts.Now().Sub(t.issuedAt) > s.opts.TriggerLifetime:
		return fail("expired_trigger_id")
	}
	if err := blockkit.CheckModal(raw); err != nil {
		s.recordBlockKitLocked(fmt.Errorf("views.open: %w", err))
		return invalidView(err)
	}
	v, err := s.storeViewLocked("", t.user, raw)
	if err != nil {
		return invalidView(err)
	}
	t.used = true
	s.notifyLocked()
	return ok(response{"view": json.RawMessage(slices.Clone(v.Raw))})
}

func (s *Sim) viewsUpdate(r *request) response {
	raw := []byte(r.get("view"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *View
	if id := r.get("view_id"); id != "" {
		v = s.ws.views[id]
	} else if ext := r.get("external_id"); ext != "" {
		for _, cand := range s.ws.views {
			var m map[string]any
			if json.Unmarshal(cand.Raw, &m) == nil && m["external_id"] == ext {
				v = cand
			}
		}
	}
	if v == nil {
		return fail("not_found")
	}
	if h := r.get("hash"); h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	if err := blockkit.CheckModal(raw); err != nil {
		s.recordBlockKitLocked(fmt.Errorf("views.update: %w", err))
		return invalidView(err)
	}
	nv, err := s.storeViewLocked(v.ID, v.User, raw)
	if err != nil {
		return invalidView(err)
	}
	s.notifyLocked()
	return ok(response{"view": json.RawMessage(slices.Clone(nv.Raw))})
}

// viewAck is a view_submission ack payload.
type viewAck struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
	View           json.RawMessage   `json:"view"`
}

// applyViewAck does what Slack does with the ack of a view_submission.
func (s *Sim) applyViewAck(user, viewID string, payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	closeView := func(id string) {
		delete(s.ws.views, id)
		s.ws.viewOrder = slices.DeleteFunc(s.ws.viewOrder, func(x string) bool { return x == id })
	}
	if len(payload) == 0 {
		closeView(viewID)
		return
	}
	var a viewAck
	if err := json.Unmarshal(payload, &a); err != nil {
		s.recordBlockKitLocked(fmt.Errorf("view_submission ack: payload is not a response: %w", err))
		return
	}
	switch a.ResponseAction {
	case "", "clear":
		for _, id := range slices.Clone(s.ws.viewOrder) {
			if s.ws.views[id].User == user && (a.ResponseAction == "clear" || id == viewID) {
				closeView(id)
			}
		}
	case "errors":
		v := s.ws.views[viewID]
		if v == nil {
			return
		}
		inputs := inputBlockIDs(v.Raw)
		for blockID := range a.Errors {
			if !inputs[blockID] {
				s.recordBlockKitLocked(fmt.Errorf("view_submission ack: errors name %q, not an input block of view %s", blockID, viewID))
			}
		}
	case "update", "push":
		if err := blockkit.CheckModal(a.View); err != nil {
			s.recordBlockKitLocked(fmt.Errorf("view_submission ack %s: %w", a.ResponseAction, err))
			return
		}
		id := viewID
		if a.ResponseAction == "push" {
			id = ""
		}
		if _, err := s.storeViewLocked(id, user, a.View); err != nil {
			s.recordBlockKitLocked(fmt.Errorf("view_submission ack %s: %w", a.ResponseAction, err))
		}
	default:
		s.recordBlockKitLocked(fmt.Errorf("view_submission ack: unknown response_action %q", a.ResponseAction))
	}
}

func inputBlockIDs(raw json.RawMessage) map[string]bool {
	var v struct {
		Blocks []map[string]any `json:"blocks"`
	}
	_ = json.Unmarshal(raw, &v)
	out := map[string]bool{}
	for i, b := range v.Blocks {
		if b["type"] == "input" {
			out[blockIDOf(b, i)] = true
		}
	}
	return out
}
