package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// Malformed envelopes over the socket: the bot must ack every envelope it
// can name, never panic (not even into a recover), and go on serving.

// fuzzTarget is the workspace the seeds point at: a room with a header, so
// that clicks and forms reach past their first checks.
type fuzzTarget struct {
	general, room, headerTS, hookURL string
	incidentID                       string
}

// fuzzWorld opens INC-1 so the seeds can name a real incident and room.
func fuzzWorld(h *harness) fuzzTarget {
	h.t.Helper()
	h.slash(alice, h.general, "/incident", "open Fuzzed checkout sev2 systems:web")
	room := h.room(1)
	msgs := h.sim.Messages(room.ChannelID)
	if room.ChannelID == "" || len(msgs) == 0 {
		h.t.Fatal("INC-1 has no room with a header")
	}
	// A response_url of the simulator that was never issued: answering on
	// it fails (as an expired one does on Slack), and reply falls back.
	base := strings.TrimSuffix(h.sim.APIURL(), "/api/")
	return fuzzTarget{general: h.general, room: room.ChannelID, headerTS: msgs[0].TS,
		hookURL: base + "/commands/" + h.sim.TeamID() + "/fuzz", incidentID: fmt.Sprint(room.IncidentID)}
}

// envelopeSeeds are envelope frames of the shapes Slack sends (and a few
// it does not), aimed at w.
func envelopeSeeds(w fuzzTarget) map[string][]byte {
	user := map[string]any{"id": alice, "username": "alice", "name": "alice", "team_id": "T0SIM"}
	team := map[string]any{"id": "T0SIM", "domain": "sitrep-sim"}
	frame := func(typ string, accepts bool, payload any) []byte {
		b, err := json.Marshal(map[string]any{"envelope_id": "seed", "type": typ,
			"accepts_response_payload": accepts, "payload": payload, "retry_attempt": 0, "retry_reason": ""})
		if err != nil {
			panic(err)
		}
		return b
	}
	slash := func(channel, command, text string) []byte {
		return frame("slash_commands", true, map[string]any{
			"token": "t", "team_id": "T0SIM", "team_domain": "sitrep-sim", "channel_id": channel,
			"channel_name": "general", "user_id": alice, "user_name": "alice", "command": command, "text": text,
			"api_app_id": "A0SITREP", "is_enterprise_install": "false", "response_url": w.hookURL,
			"trigger_id": "1.2.fuzz",
		})
	}
	click := func(actionID, typ, value string) []byte {
		action := map[string]any{"action_id": actionID, "block_id": "b1", "type": typ, "value": value,
			"action_ts": "1700000000.1", "text": map[string]any{"type": "plain_text", "text": "Go"}}
		if typ == "checkboxes" {
			action["selected_options"] = []any{map[string]any{"value": "0", "text": map[string]any{"type": "plain_text", "text": "step"}}}
		}
		return frame("interactive", false, map[string]any{
			"type": "block_actions", "user": user, "api_app_id": "A0SITREP", "token": "t", "trigger_id": "1.2.fuzz",
			"team": team, "channel": map[string]any{"id": w.room, "name": "inc-1"},
			"container": map[string]any{"type": "message", "message_ts": w.headerTS, "channel_id": w.room, "is_ephemeral": false},
			"message":   map[string]any{"type": "message", "ts": w.headerTS, "text": "header", "blocks": []any{}},
			"state":     map[string]any{"values": map[string]any{}}, "response_url": w.hookURL,
			"actions": []any{action},
		})
	}
	input := func(block, typ string, value map[string]any) (map[string]any, map[string]any) {
		blk := map[string]any{"type": "input", "block_id": block, "label": map[string]any{"type": "plain_text", "text": block},
			"element": map[string]any{"type": typ, "action_id": block}}
		v := map[string]any{"type": typ}
		for k, x := range value {
			v[k] = x
		}
		return blk, map[string]any{block: v}
	}
	type field struct {
		block, typ string
		value      map[string]any
	}
	submit := func(callback, metadata string, fields []field, withState, withBlocks bool) []byte {
		var blocks []any
		values := map[string]any{}
		for _, f := range fields {
			blk, v := input(f.block, f.typ, f.value)
			blocks = append(blocks, blk)
			values[f.block] = v
		}
		view := map[string]any{"id": "V0FUZZ", "team_id": "T0SIM", "type": "modal", "callback_id": callback,
			"private_metadata": metadata, "hash": "1.abc", "title": map[string]any{"type": "plain_text", "text": "Form"}}
		if withBlocks {
			view["blocks"] = blocks
		}
		if withState {
			view["state"] = map[string]any{"values": values}
		}
		return frame("interactive", true, map[string]any{"type": "view_submission", "team": team, "user": user,
			"api_app_id": "A0SITREP", "token": "t", "trigger_id": "1.2.fuzz", "view": view, "response_urls": []any{}})
	}
	text := func(s string) map[string]any { return map[string]any{"value": s} }
	option := func(s string) map[string]any {
		return map[string]any{"selected_option": map[string]any{"value": s, "text": map[string]any{"type": "plain_text", "text": s}}}
	}
	event := func(e map[string]any) []byte {
		return frame("events_api", false, map[string]any{"token": "t", "team_id": "T0SIM", "api_app_id": "A0SITREP",
			"event": e, "type": "event_callback", "event_id": "Ev0FUZZ", "event_time": 1700000000,
			"authorizations": []any{map[string]any{"team_id": "T0SIM", "user_id": "UBOT", "is_bot": true}}})
	}

	seeds := map[string][]byte{
		"slash incident help":      slash(w.general, "/incident", "help"),
		"slash incident list":      slash(w.general, "/incident", "list"),
		"slash incident open":      slash(w.general, "/incident", "open"),
		"slash status in room":     slash(w.room, "/incident", "status identified found it"),
		"slash timeline in room":   slash(w.room, "/incident", "timeline"),
		"slash change list":        slash(w.general, "/change", "list web 24h"),
		"slash checklist list":     slash(w.general, "/checklist", "list"),
		"slash problem list":       slash(w.general, "/problem", "list"),
		"slash postmortem help":    slash(w.room, "/postmortem", "help"),
		"slash unknown command":    slash(w.general, "/nope", "what"),
		"view closed":              frame("interactive", false, map[string]any{"type": "view_closed", "user": user, "team": team, "view": map[string]any{"id": "V0FUZZ", "callback_id": "incident_open"}, "is_cleared": false}),
		"shortcut":                 frame("interactive", false, map[string]any{"type": "shortcut", "callback_id": "open_incident", "trigger_id": "1.2.fuzz", "user": user, "team": team, "token": "t"}),
		"message action":           frame("interactive", false, map[string]any{"type": "message_action", "callback_id": "add_to_timeline", "trigger_id": "1.2.fuzz", "user": user, "team": team, "channel": map[string]any{"id": w.room}, "message": map[string]any{"type": "message", "ts": w.headerTS, "text": "hi"}, "response_url": w.hookURL}),
		"reaction added":           event(map[string]any{"type": "reaction_added", "user": alice, "reaction": "pushpin", "item": map[string]any{"type": "message", "channel": w.room, "ts": w.headerTS}, "item_user": alice, "event_ts": "1700000000.2"}),
		"app mention":              event(map[string]any{"type": "app_mention", "user": alice, "text": "<@UBOT> hi", "ts": "1700000000.3", "channel": w.general, "event_ts": "1700000000.3"}),
		"message":                  event(map[string]any{"type": "message", "user": alice, "text": "hello", "ts": "1700000000.4", "channel": w.general, "event_ts": "1700000000.4"}),
		"unknown event":            event(map[string]any{"type": "totally_new_event", "user": alice}),
		"event callback no event":  frame("events_api", false, map[string]any{"type": "event_callback", "event_id": "Ev1"}),
		"unknown envelope type":    frame("mystery", true, map[string]any{}),
		"hello":                    []byte(`{"type":"hello","num_connections":2,"debug_info":{"host":"applink-fuzz","approximate_connection_time":18060},"connection_info":{"app_id":"A0SITREP"}}`),
		"disconnect":               []byte(`{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-fuzz"}}`),
		"disconnect link disabled": []byte(`{"type":"disconnect","reason":"link_disabled","debug_info":{"host":"applink-fuzz"}}`),
	}
	for _, c := range []struct{ action, typ, value string }{
		{"incident_take_command", "button", w.incidentID},
		{"incident_update_status", "button", w.incidentID},
		{"incident_add_note", "button", w.incidentID},
		{"change_suspect", "button", w.incidentID + ":1"},
		{"timebox_extend", "button", w.incidentID},
		{"plan_diagnostic", "button", w.incidentID + ":0:1"},
		{"checklist_skip", "button", "1"},
		{"checklist_steps_1", "checkboxes", ""},
		{"incident_cost", "button", w.incidentID},
		{"incident_link_problem", "button", w.incidentID},
		{"pm_add_entry", "button", w.incidentID},
		{"pm_action_done", "button", w.incidentID + ":1"},
		{"not_a_sitrep_button", "button", "x"},
	} {
		seeds["click "+c.action] = click(c.action, c.typ, c.value)
	}
	forms := []struct {
		callback, metadata string
		fields             []field
	}{
		{"incident_open", w.general, []field{{"title", "plain_text_input", text("checkout down")}, {"severity", "static_select", option("sev2")}, {"systems", "plain_text_input", text("web")}, {"description", "plain_text_input", text("")}}},
		{"incident_status", w.incidentID, []field{{"status", "static_select", option("identified")}, {"message", "plain_text_input", text("found")}}},
		{"incident_note", w.incidentID, []field{{"note", "plain_text_input", text("a note")}}},
		{"change_log", w.general, []field{{"systems", "plain_text_input", text("web")}, {"summary", "plain_text_input", text("deployed")}, {"kind", "static_select", option("deploy")}}},
		{"timebox_extend", w.incidentID, []field{{"minutes", "plain_text_input", text("10")}, {"reason", "plain_text_input", text("need logs")}}},
		{"checklist_skip", "1", []field{{"step", "static_select", option("0")}, {"reason", "plain_text_input", text("n/a")}}},
		{"incident_cost", w.incidentID, []field{{"cost_phone", "plain_text_input", text("3")}, {"cost_churn", "static_select", option("low")}}},
		{"incident_link", w.incidentID, []field{{"problem", "static_select", option("1")}, {"new_problem", "plain_text_input", text("")}}},
		{"pm_entry", w.incidentID + ":0", []field{{"pm_time", "plain_text_input", text("03:00")}, {"pm_text", "plain_text_input", text("it broke")}}},
		{"pm_issue", w.incidentID + ":0", []field{{"pm_text", "plain_text_input", text("no alert")}}},
		{"pm_action", w.incidentID, []field{{"pm_issue", "static_select", option("1")}, {"pm_owner", "users_select", map[string]any{"selected_user": bob}}, {"pm_expected", "plain_text_input", text("alerts")}, {"pm_due", "datepicker", map[string]any{"selected_date": "2026-12-01"}}}},
		{"unknown_form", "", nil},
	}
	for _, f := range forms {
		seeds["submit "+f.callback] = submit(f.callback, f.metadata, f.fields, true, true)
		seeds["submit "+f.callback+" without state"] = submit(f.callback, f.metadata, f.fields, false, true)
	}
	seeds["submit incident_open without state or blocks"] = submit(forms[0].callback, forms[0].metadata, forms[0].fields, false, false)
	return seeds
}

// mutate changes frame at random: fields deleted, nulled, of another type
// or holding odd strings, and sometimes the whole frame cut short.
func mutate(r *rand.Rand, frame []byte) []byte {
	var tree any
	if err := json.Unmarshal(frame, &tree); err != nil {
		return frame
	}
	for range 1 + r.IntN(3) {
		var all []slot
		collect(tree, func(v any) { tree = v }, nil, &all)
		s := all[r.IntN(len(all))]
		switch k := r.IntN(4); {
		case k == 0 && s.del != nil:
			s.del()
		case k == 1:
			s.set(nil)
		case k == 2:
			s.set(oddValues[r.IntN(len(oddValues))])
		default:
			s.set(oddStrings[r.IntN(len(oddStrings))])
		}
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return frame
	}
	if r.IntN(5) == 0 && len(out) > 1 {
		out = out[:r.IntN(len(out))]
	}
	return out
}

var oddValues = []any{42, -1, 1e300, true, false, "", []any{}, map[string]any{}, []any{1, "a", nil}, map[string]any{"x": 1}}

var oddStrings = []any{"", " ", "0", "-1", "1:2:3", ":", "99999999999999999999", "INC-1", "PRB-0",
	"<!channel> &amp; <@U0BOB|bob>", strings.Repeat("x", 5000), "\u0000\ufffd", "sev9", "null", "{}"}

// slot is one value in a JSON tree, with how to replace or remove it.
type slot struct {
	set func(any)
	del func() // nil for the root
}

// collect lists every value under v (v included), in a fixed order.
func collect(v any, set func(any), del func(), out *[]slot) {
	*out = append(*out, slot{set: set, del: del})
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collect(x[k], func(n any) { x[k] = n }, func() { delete(x, k) }, out)
		}
	case []any:
		for i := range x {
			collect(x[i], func(n any) { x[i] = n }, func() { set(slices.Delete(slices.Clone(x), i, i+1)) }, out)
		}
	}
}

// sendMalformed sends frames over the socket, all at once (a disconnect
// frame on its own, after the others), and waits until the bot has dealt
// with them. It returns what went wrong, or "".
func sendMalformed(h *harness, frames ...[]byte) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	panics := h.bot.Stats().Panics
	var ids []string // the envelopes the bot must ack
	var disconnects [][]byte
	for _, frame := range frames {
		var req socketmode.Request
		if json.Unmarshal(frame, &req) == nil && req.Type == "disconnect" {
			disconnects = append(disconnects, frame)
			continue
		}
		d, err := h.sim.SendFrame(ctx, frame)
		if err != nil {
			return "sending: " + err.Error()
		}
		if d != nil && (d.Type == slacksim.TypeSlashCommands || d.Type == slacksim.TypeInteractive || d.Type == slacksim.TypeEventsAPI) {
			ids = append(ids, d.EnvelopeID)
		}
	}
	var late []string
	err := h.sim.Wait(ctx, func() bool {
		late = late[:0]
		pending := 0
		for _, x := range h.sim.Deliveries() {
			if slices.Contains(ids, x.EnvelopeID) {
				switch {
				case x.Late && !x.Acked:
					late = append(late, x.EnvelopeID)
				case !x.Acked:
					pending++
				}
			}
		}
		return pending == 0
	})
	if err != nil || len(late) > 0 {
		return fmt.Sprintf("envelopes %v were not acked (%v)", late, err)
	}
	for _, frame := range disconnects {
		// slack-go closes the connection it read this on and opens another.
		before := h.sim.SocketConns()
		if _, err := h.sim.SendFrame(ctx, frame); err != nil {
			return "sending: " + err.Error()
		}
		err := h.sim.Wait(ctx, func() bool {
			now := h.sim.SocketConns()
			kept := 0
			for _, c := range now {
				if slices.ContainsFunc(before, func(b slacksim.SocketConn) bool { return b.ID == c.ID }) {
					kept++
				}
			}
			return kept < len(before) && len(now) >= len(before)
		})
		if err != nil {
			return "the bot did not reconnect after a disconnect: " + err.Error()
		}
	}
	idle, cancelIdle := context.WithTimeout(ctx, 10*time.Second)
	defer cancelIdle()
	err = h.bot.WaitIdle(idle)
	if n := h.bot.Stats().Panics; n != panics {
		return fmt.Sprintf("%d handlers panicked (recovered; run with SITREP_TEST_LOG=1 for the stacks)", n-panics)
	}
	if err != nil {
		return "the bot did not go idle: " + err.Error()
	}
	return ""
}

// unique gives the seed placeholders of frame (envelope ID, trigger ID,
// event ID) the number n, so that the bot does not take it for Slack
// redelivering an envelope it handled.
func unique(frame []byte, n int) []byte {
	return []byte(strings.NewReplacer(
		`"envelope_id":"seed"`, fmt.Sprintf(`"envelope_id":"fuzz-%d"`, n),
		`1.2.fuzz`, fmt.Sprintf("1.2.fuzz%d", n),
		`Ev0FUZZ`, fmt.Sprintf("Ev0FUZZ%d", n),
	).Replace(string(frame)))
}

// stillServes checks the bot opens an incident end to end.
func stillServes(h *harness, title string) {
	h.t.Helper()
	n := h.incidentCount()
	h.slash(bob, h.general, "/incident", "open "+title+" sev3")
	if got := h.incidentCount(); got != n+1 {
		h.t.Fatalf("after the malformed envelopes /incident open stored %d incidents, want 1", got-n)
	}
	if room := h.room(int64(n + 1)); room.ChannelID == "" || h.sim.Channel(room.ChannelID) == nil {
		h.t.Fatalf("INC-%d has no room after the malformed envelopes", n+1)
	}
}

// TestMalformedEnvelopes sends a few hundred seeded mutations of the seed
// shapes over the socket, one at a time, then checks the bot still opens an
// incident end to end. (The seeds themselves run as FuzzEnvelope's corpus.)
func TestMalformedEnvelopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seeds := envelopeSeeds(fuzzWorld(h))
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	// SITREP_FUZZ_SEED and SITREP_FUZZ_MUTATIONS explore further than the
	// suite's fixed run.
	seed, mutations := uint64(14), 200
	if s, err := strconv.ParseUint(os.Getenv("SITREP_FUZZ_SEED"), 10, 64); err == nil {
		seed = s
	}
	if n, err := strconv.Atoi(os.Getenv("SITREP_FUZZ_MUTATIONS")); err == nil && n > 0 {
		mutations = n
	}
	r := rand.New(rand.NewPCG(seed, seed))
	// Mutations go out in batches, so that handlers run side by side as
	// they do in a busy workspace; a failure names the batch.
	const batch = 10
	for first := 0; first < mutations; first += batch {
		var frames [][]byte
		var what []string
		for i := first; i < first+batch; i++ {
			name := names[r.IntN(len(names))]
			// The IDs go in before mutating, so they may be mutated too.
			frames = append(frames, mutate(r, unique(seeds[name], i)))
			what = append(what, fmt.Sprintf("mutation %d of %q", i, name))
		}
		if problem := sendMalformed(h, frames...); problem != "" {
			var b strings.Builder
			for i, f := range frames {
				fmt.Fprintf(&b, "\n%s: %.1000s", what[i], f)
			}
			t.Fatalf("mutations %d to %d: %s%s", first, first+batch-1, problem, b.String())
		}
	}
	stillServes(h, "Still here after the fuzz")
	t.Logf("%d frames sent; %d envelopes acked", mutations, len(h.sim.Deliveries())-len(h.sim.Unacked()))
}

// FuzzEnvelope sends one frame over the socket to a running bot. Its seeds
// (run by go test) are the shapes of envelopes Slack sends; go test
// -fuzz=FuzzEnvelope ./bot mutates them.
func FuzzEnvelope(f *testing.F) {
	h := newHarness(f)
	seeds := envelopeSeeds(fuzzWorld(h))
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f.Add(seeds[name])
	}
	n, broken := 0, false
	f.Fuzz(func(t *testing.T, frame []byte) {
		if broken {
			t.Fatal("the bot broke on an earlier input")
		}
		n++
		if problem := sendMalformed(h, unique(frame, n)); problem != "" {
			broken = true
			t.Fatalf("%s\nframe: %.2000s", problem, frame)
		}
	})
}

// TestUnreadableEnvelopes sends envelopes slack-go cannot read: each is
// acked (so Slack does not send it again), and a slash command's ack tells
// the person it failed.
func TestUnreadableEnvelopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name, typ, payload string
		wantAck            string
	}{
		{"slash command with a number for text", slacksim.TypeSlashCommands,
			fmt.Sprintf(`{"user_id":%q,"channel_id":%q,"command":"/incident","text":5}`, alice, h.general),
			`{"text":"sitrep failed to handle this command; it has been logged. Please try again."}`},
		{"click with actions of the wrong type", slacksim.TypeInteractive, `{"type":"block_actions","actions":"open"}`, ""},
		{"event that is a list", slacksim.TypeEventsAPI, `[1,2]`, ""},
		{"envelope of an unknown type", "mystery", `{}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := h.sim.SendEnvelope(ctx, tc.typ, json.RawMessage(tc.payload), true)
			if err != nil {
				t.Fatal(err)
			}
			if string(d.AckPayload) != tc.wantAck {
				t.Errorf("ack payload = %s, want %q", d.AckPayload, tc.wantAck)
			}
		})
	}
	h.idle()
	if got := h.ephemeralTexts(alice); len(got) != 1 || !strings.Contains(got[0], "sitrep failed to handle this command") {
		t.Errorf("alice was told %q, want one answer that her command failed", got)
	}
	if n := h.bot.Stats().Panics; n != 0 {
		t.Errorf("%d handlers panicked", n)
	}
}

// TestFormsWithoutStateAreAnswered submits every sitrep form with no state
// (as a payload cut short would): each is answered, by the form's errors in
// its ack or by a message to the person, never by a panic or silence.
func TestFormsWithoutStateAreAnswered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seeds := envelopeSeeds(fuzzWorld(h))
	var names []string
	for name := range seeds {
		if strings.HasPrefix(name, "submit ") && strings.Contains(name, "without state") && !strings.Contains(name, "unknown_form") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 11 {
		t.Fatalf("%d forms without state among the seeds, want every form", len(names))
	}
	dm := func() int { return len(h.sim.Messages(h.sim.DirectChannel(alice))) }
	for i, name := range names {
		before, beforeDM := len(h.sim.Ephemerals(alice)), dm()
		frame := unique(seeds[name], 10000+i)
		if problem := sendMalformed(h, frame); problem != "" {
			t.Fatalf("%s: %s", name, problem)
		}
		var ack json.RawMessage
		for _, d := range h.sim.Deliveries() {
			if d.EnvelopeID == fmt.Sprintf("fuzz-%d", 10000+i) {
				ack = d.AckPayload
			}
		}
		errorsInAck := strings.Contains(string(ack), `"response_action":"errors"`)
		if !errorsInAck && len(h.sim.Ephemerals(alice)) == before && dm() == beforeDM {
			t.Errorf("%s: acked with %s and alice was told nothing", name, ack)
		}
	}
}
