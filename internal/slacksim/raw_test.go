package slacksim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestRawEnvelopes sends envelopes and frames Slack would never send and
// checks what slack-go's socketmode client makes of each, what the
// simulator tracks, and that an ack's response reaches the user.
func TestRawEnvelopes(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{AckTimeout: 300 * time.Millisecond})
	// The app acks what slack-go hands it, a slash command with a
	// response, and a frame slack-go could not read by its envelope_id.
	a := connect(t, sim, func(a *app, e socketmode.Event) {
		switch {
		case e.Type == socketmode.EventTypeSlashCommand:
			_ = a.sm.Ack(*e.Request, map[string]string{"text": "got it"})
		case e.Type == socketmode.EventTypeInteractive || e.Type == socketmode.EventTypeEventsAPI:
			_ = a.sm.Ack(*e.Request)
		case e.Type == socketmode.EventTypeErrorBadMessage:
			var f struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if bad, ok := e.Data.(*socketmode.ErrorBadMessage); ok && json.Unmarshal(bad.Message, &f) == nil && f.EnvelopeID != "" {
				_ = a.sm.Ack(socketmode.Request{EnvelopeID: f.EnvelopeID})
			}
		}
	})
	command := fmt.Sprintf(`{"user_id":%q,"channel_id":%q,"command":"/incident","text":"help","trigger_id":"T1"}`, alice, general)

	tests := []struct {
		name string
		// envelope sends with SendEnvelope; else frame with SendFrame.
		envelope, typ string
		frame         string
		wantErr       bool
		wantTracked   bool
		wantAcked     bool
		wantEvent     socketmode.EventType // "" when slack-go shows nothing
		wantEphemeral string
	}{
		{name: "slash command envelope", envelope: command, typ: slacksim.TypeSlashCommands,
			wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeSlashCommand, wantEphemeral: "got it"},
		{name: "interactive with a null payload", envelope: `null`, typ: slacksim.TypeInteractive,
			wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeInteractive},
		{name: "view submission without state", envelope: `{"type":"view_submission","user":{"id":"U0ALICE"},"view":{"callback_id":"x"}}`,
			typ: slacksim.TypeInteractive, wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeInteractive},
		{name: "payload that is not JSON", envelope: `{"user_id":`, typ: slacksim.TypeSlashCommands, wantErr: true},
		{name: "raw slash command frame", frame: `{"envelope_id":"raw-1","type":"slash_commands","accepts_response_payload":true,"payload":` + command + `}`,
			wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeSlashCommand, wantEphemeral: "got it"},
		{name: "unknown envelope type", frame: `{"envelope_id":"raw-2","type":"mystery","payload":{}}`,
			wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeErrorBadMessage},
		{name: "payload of the wrong type", frame: `{"envelope_id":"raw-3","type":"slash_commands","payload":{"user_id":7}}`,
			wantTracked: true, wantAcked: true, wantEvent: socketmode.EventTypeErrorBadMessage},
		{name: "envelope_id of the wrong type", frame: `{"envelope_id":42,"type":"slash_commands","payload":{}}`,
			wantEvent: socketmode.EventTypeErrorBadMessage},
		{name: "truncated frame", frame: `{"envelope_id":"raw-4","type":"slash_comm`},
		{name: "a frame that is not an object", frame: `"hello"`, wantEvent: socketmode.EventTypeErrorBadMessage},
		{name: "never acked", frame: `{"envelope_id":"raw-5","type":"hello"}`, wantTracked: true, wantEvent: socketmode.EventTypeHello},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.mu.Lock()
			before := len(a.events)
			a.mu.Unlock()
			ephemerals := len(sim.Ephemerals(alice))
			var d *slacksim.Delivery
			var err error
			if tc.frame == "" {
				d, err = sim.SendEnvelope(ctx, tc.typ, json.RawMessage(tc.envelope), true)
			} else {
				d, err = sim.SendFrame(ctx, []byte(tc.frame))
			}
			if tc.wantErr {
				if err == nil {
					t.Fatal("sent; want an error")
				}
				return
			}
			if err != nil && !errors.Is(err, slacksim.ErrNotAcked) {
				t.Fatal(err)
			}
			if (d != nil) != tc.wantTracked {
				t.Fatalf("tracked = %v, want %v", d != nil, tc.wantTracked)
			}
			if d != nil {
				// SendFrame does not wait: wait for the ack or its timeout.
				waitFor(t, sim, func() bool {
					for _, x := range sim.Deliveries() {
						if x.EnvelopeID == d.EnvelopeID {
							return x.Acked || x.Late
						}
					}
					return false
				})
				var got slacksim.Delivery
				for _, x := range sim.Deliveries() {
					if x.EnvelopeID == d.EnvelopeID {
						got = x
					}
				}
				if got.Acked != tc.wantAcked {
					t.Errorf("acked = %v, want %v", got.Acked, tc.wantAcked)
				}
			}
			// A marked hello behind it shows the connection still reads,
			// and that slack-go showed the app what it made of the frame.
			if _, err := sim.SendFrame(ctx, []byte(`{"type":"hello","num_connections":4242}`)); err != nil {
				t.Fatal(err)
			}
			marker := func(e socketmode.Event) bool {
				return e.Type == socketmode.EventTypeHello && e.Request != nil && e.Request.NumConnections == 4242
			}
			var seen []socketmode.EventType
			waitFor(t, sim, func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				seen = nil
				for _, e := range a.events[before:] {
					if marker(e) {
						return true
					}
					seen = append(seen, e.Type)
				}
				return false
			})
			switch {
			case tc.wantEvent == "" && len(seen) != 0:
				t.Errorf("slack-go showed %v; want nothing", seen)
			case tc.wantEvent != "" && (len(seen) != 1 || seen[0] != tc.wantEvent):
				t.Errorf("slack-go showed %v; want [%s]", seen, tc.wantEvent)
			}
			all := sim.Ephemerals(alice)
			switch {
			case tc.wantEphemeral == "" && len(all) != ephemerals:
				t.Errorf("alice got an ephemeral: %+v", all[len(all)-1])
			case tc.wantEphemeral != "" && (len(all) != ephemerals+1 || all[len(all)-1].Text != tc.wantEphemeral):
				t.Errorf("alice's ephemerals = %+v; want one more, %q", all[ephemerals:], tc.wantEphemeral)
			}
		})
	}
	if n := sim.StrayAcks(); n != 0 {
		t.Errorf("%d stray acks: an ack named an envelope the simulator did not track", n)
	}
}
