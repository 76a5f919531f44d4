package slacksim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// sendRaw sends a Web API call the way a client of Slack's HTTP API may:
// form-encoded, or as a JSON body. It returns the decoded answer.
func sendRaw(t *testing.T, sim *slacksim.Sim, method string, form url.Values, body string) map[string]any {
	t.Helper()
	var req *http.Request
	var err error
	if body != "" {
		req, err = http.NewRequest(http.MethodPost, sim.APIURL()+method, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
	} else {
		req, err = http.NewRequest(http.MethodPost, sim.APIURL()+method, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sim.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return out
}

func TestMetadataValidation(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	for _, tc := range []struct {
		name     string
		metadata string // a form field holding JSON
		json     string // else a JSON body's metadata value
		want     string // Slack's error code; "" is accepted
	}{
		{name: "object", metadata: `{"event_type":"sitrep_header","event_payload":{"key":"INC-1"}}`},
		{name: "nested payload", metadata: `{"event_type":"x","event_payload":{"a":{"b":1},"c":[{"d":true}]}}`},
		{name: "guideline not enforced", metadata: `{"event_type":"Not A Guideline Name!","event_payload":{}}`},
		{name: "empty means none", metadata: ``},
		{name: "json body object", json: `{"event_type":"sitrep_plan","event_payload":{"key":"INC-2"}}`},
		{name: "json body string", json: `"{\"event_type\":\"sitrep_plan\",\"event_payload\":{}}"`},
		{name: "not json", metadata: `event_type=x`, want: "invalid_metadata_format"},
		{name: "array", metadata: `[{"event_type":"x","event_payload":{}}]`, want: "invalid_metadata_format"},
		{name: "string", metadata: `"x"`, want: "invalid_metadata_format"},
		{name: "null", metadata: `null`, want: "invalid_metadata_format"},
		{name: "json body array", json: `[1]`, want: "invalid_metadata_format"},
		{name: "no event_type", metadata: `{"event_payload":{}}`, want: "invalid_metadata_schema"},
		{name: "empty event_type", metadata: `{"event_type":" ","event_payload":{}}`, want: "invalid_metadata_schema"},
		{name: "numeric event_type", metadata: `{"event_type":7,"event_payload":{}}`, want: "invalid_metadata_schema"},
		{name: "no payload", metadata: `{"event_type":"x"}`, want: "invalid_metadata_schema"},
		{name: "null payload", metadata: `{"event_type":"x","event_payload":null}`, want: "invalid_metadata_schema"},
		{name: "array payload", metadata: `{"event_type":"x","event_payload":[1]}`, want: "invalid_metadata_schema"},
		{name: "string payload", metadata: `{"event_type":"x","event_payload":"k"}`, want: "invalid_metadata_schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got map[string]any
			if tc.json != "" {
				got = sendRaw(t, sim, "chat.postMessage", nil,
					`{"channel":"`+general+`","text":"hi","metadata":`+tc.json+`}`)
			} else {
				got = sendRaw(t, sim, "chat.postMessage", url.Values{"channel": {general}, "text": {"hi"}, "metadata": {tc.metadata}}, "")
			}
			if tc.want == "" {
				if got["ok"] != true {
					t.Fatalf("refused: %v", got)
				}
				return
			}
			if got["ok"] != false || got["error"] != tc.want {
				t.Errorf("answer %v, want error %s", got, tc.want)
			}
		})
	}
	// A refused update leaves the message as it was.
	_, ts, err := apiFor(sim).PostMessage(general, slack.MsgOptionText("kept", false))
	if err != nil {
		t.Fatal(err)
	}
	got := sendRaw(t, sim, "chat.update", url.Values{"channel": {general}, "ts": {ts}, "text": {"changed"},
		"metadata": {`{"event_type":"x","event_payload":[]}`}}, "")
	if got["error"] != "invalid_metadata_schema" {
		t.Errorf("update with bad metadata: %v", got)
	}
	if m := sim.Message(general, ts); m.Text != "kept" || m.Metadata != nil {
		t.Errorf("after the refused update: %+v", m)
	}
}

// TestMetadataRoundTrip posts and updates with slack-go's own
// MsgOptionMetadata and reads back with its history and replies calls.
func TestMetadataRoundTrip(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	header := slack.SlackMetadata{EventType: "sitrep_header", EventPayload: map[string]any{"key": "INC-7", "n": float64(7)}}
	_, ts, err := api.PostMessage(general, slack.MsgOptionText("header", false), slack.MsgOptionMetadata(header))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessage(general, slack.MsgOptionText("plain", false)); err != nil {
		t.Fatal(err)
	}
	reply := slack.SlackMetadata{EventType: "sitrep_reminder", EventPayload: map[string]any{"key": "run:1:3"}}
	if _, _, err := api.PostMessage(general, slack.MsgOptionText("in the thread", false), slack.MsgOptionTS(ts),
		slack.MsgOptionMetadata(reply)); err != nil {
		t.Fatal(err)
	}
	if m := sim.Message(general, ts); m.Metadata == nil || m.Metadata.EventType != "sitrep_header" ||
		string(m.Metadata.EventPayload) != `{"key":"INC-7","n":7}` {
		t.Fatalf("stored metadata %+v", m.Metadata)
	}

	history := func(all bool) []slack.Message {
		t.Helper()
		h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, IncludeAllMetadata: all})
		if err != nil {
			t.Fatal(err)
		}
		return h.Messages
	}
	for _, tc := range []struct {
		name string
		all  bool
		want []slack.SlackMetadata // newest first; the reply stays in its thread
	}{
		{"without include_all_metadata", false, []slack.SlackMetadata{{}, {}}},
		{"with include_all_metadata", true, []slack.SlackMetadata{{}, header}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := history(tc.all)
			var got []slack.SlackMetadata
			for _, m := range msgs {
				got = append(got, m.Metadata)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("metadata %+v, want %+v", got, tc.want)
			}
		})
	}

	msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: ts, IncludeAllMetadata: true})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("replies %+v, %v", msgs, err)
	}
	if !reflect.DeepEqual(msgs[0].Metadata, header) || !reflect.DeepEqual(msgs[1].Metadata, reply) {
		t.Errorf("thread metadata %+v, %+v", msgs[0].Metadata, msgs[1].Metadata)
	}
	msgs, _, _, err = api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: ts})
	if err != nil || len(msgs) != 2 || msgs[1].Metadata.EventType != "" {
		t.Errorf("replies without include_all_metadata: %+v, %v", msgs, err)
	}

	// chat.update without metadata keeps it; with metadata replaces it.
	if _, _, _, err := api.UpdateMessage(general, ts, slack.MsgOptionText("header v2", false)); err != nil {
		t.Fatal(err)
	}
	if got := history(true)[1]; got.Text != "header v2" || !reflect.DeepEqual(got.Metadata, header) {
		t.Errorf("after an update without metadata: %q %+v", got.Text, got.Metadata)
	}
	moved := slack.SlackMetadata{EventType: "sitrep_header", EventPayload: map[string]any{"key": "INC-8"}}
	if _, _, _, err := api.UpdateMessage(general, ts, slack.MsgOptionText("header v3", false), slack.MsgOptionMetadata(moved)); err != nil {
		t.Fatal(err)
	}
	if got := history(true)[1]; !reflect.DeepEqual(got.Metadata, moved) {
		t.Errorf("after an update with metadata: %+v", got.Metadata)
	}

	// slack-go marshals a SlackMetadata without payload as null: refused.
	_, _, err = api.PostMessage(general, slack.MsgOptionText("x", false), slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "x"}))
	if err == nil || err.Error() != "invalid_metadata_schema" {
		t.Errorf("metadata without payload: %v", err)
	}
}

func TestHistoryWindowAndPaging(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	var ts []string // oldest first
	for _, text := range []string{"m0", "m1", "m2", "m3", "m4"} {
		_, t1, err := api.PostMessage(general, slack.MsgOptionText(text, false))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, t1)
	}
	// A reply is left out; one broadcast to the channel is listed.
	if _, _, err := api.PostMessage(general, slack.MsgOptionText("r", false), slack.MsgOptionTS(ts[0])); err != nil {
		t.Fatal(err)
	}
	_, bcast, err := api.PostMessage(general, slack.MsgOptionText("b", false), slack.MsgOptionTS(ts[0]), slack.MsgOptionBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		params slack.GetConversationHistoryParameters
		want   []string // texts, in order
	}{
		{"all, newest first", slack.GetConversationHistoryParameters{}, []string{"b", "m4", "m3", "m2", "m1", "m0"}},
		{"oldest excluded", slack.GetConversationHistoryParameters{Oldest: ts[2]}, []string{"b", "m4", "m3"}},
		{"oldest included", slack.GetConversationHistoryParameters{Oldest: ts[2], Inclusive: true}, []string{"b", "m4", "m3", "m2"}},
		{"latest excluded", slack.GetConversationHistoryParameters{Latest: ts[2]}, []string{"m1", "m0"}},
		{"latest included", slack.GetConversationHistoryParameters{Latest: ts[2], Inclusive: true}, []string{"m2", "m1", "m0"}},
		{"the message at a ts, more before it", slack.GetConversationHistoryParameters{Latest: ts[3], Inclusive: true, Limit: 1}, []string{"m3"}},
		{"between", slack.GetConversationHistoryParameters{Oldest: ts[0], Latest: ts[4]}, []string{"m3", "m2", "m1"}},
		{"whole seconds", slack.GetConversationHistoryParameters{Oldest: "1"}, []string{"b", "m4", "m3", "m2", "m1", "m0"}},
		{"empty window", slack.GetConversationHistoryParameters{Oldest: ts[4], Latest: ts[0]}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.params
			p.ChannelID = general
			h, err := api.GetConversationHistory(&p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range h.Messages {
				got = append(got, m.Text)
				if m.Text == "b" && (m.SubType != "thread_broadcast" || m.Timestamp != bcast) {
					t.Errorf("broadcast reply %+v", m.Msg)
				}
			}
			if more := tc.params.Limit > 0; !reflect.DeepEqual(got, tc.want) || h.HasMore != more {
				t.Errorf("history %v (has_more %v), want %v (has_more %v)", got, h.HasMore, tc.want, more)
			}
		})
	}

	// Pages of two walk the window once, newest first.
	var got []string
	cursor, pages := "", 0
	for {
		h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Oldest: ts[0], Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range h.Messages {
			got = append(got, m.Text)
		}
		if h.HasMore != (h.ResponseMetaData.NextCursor != "") {
			t.Errorf("page %d: has_more %v, next_cursor %q", pages, h.HasMore, h.ResponseMetaData.NextCursor)
		}
		if cursor = h.ResponseMetaData.NextCursor; cursor == "" {
			break
		}
	}
	if want := []string{"b", "m4", "m3", "m2", "m1"}; !reflect.DeepEqual(got, want) || pages != 3 {
		t.Errorf("paged history %v in %d pages, want %v in 3", got, pages, want)
	}

	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"bad oldest", func() error {
			_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Oldest: "yesterday"})
			return err
		}, "invalid_ts_oldest"},
		{"bad latest", func() error {
			_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Latest: "1.x"})
			return err
		}, "invalid_ts_latest"},
		{"bad cursor", func() error {
			_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Cursor: "nope"})
			return err
		}, "invalid_cursor"},
		{"replies of nothing", func() error {
			_, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: "1.000001"})
			return err
		}, "thread_not_found"},
		{"history nowhere", func() error {
			_, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C9999"})
			return err
		}, "channel_not_found"},
	} {
		if err := tc.call(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: err %v, want %s", tc.name, err, tc.want)
		}
	}

	// Replies: the parent first, then the thread oldest first, in the window.
	msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: ts[0]})
	if err != nil {
		t.Fatal(err)
	}
	var thread []string
	for _, m := range msgs {
		thread = append(thread, m.Text)
	}
	if want := []string{"m0", "r", "b"}; !reflect.DeepEqual(thread, want) {
		t.Errorf("replies %v, want %v", thread, want)
	}
	msgs, _, _, err = api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: ts[0], Oldest: ts[0]})
	if err != nil || len(msgs) != 2 || msgs[0].Text != "r" {
		t.Errorf("replies after the parent: %+v, %v", msgs, err)
	}
}
