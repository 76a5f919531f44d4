package slacksim_test

// Tests for the places where the simulator disagreed with Slack's official
// Node clients (@slack/socket-mode, @slack/web-api). Each speaks the wire
// format those clients use directly, so they run without Node;
// TestOfficialNodeClients runs the clients themselves.

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// dialRaw opens a Socket Mode connection the way the Node client does
// (apps.connections.open with the app token in an Authorization header,
// then a WebSocket), reads hello and returns the connection.
func dialRaw(t *testing.T, sim *slacksim.Sim) *websocket.Conn {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, sim.APIURL()+"apps.connections.open", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+sim.AppToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var open struct {
		OK    bool   `json:"ok"`
		URL   string `json:"url"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&open); err != nil || !open.OK {
		t.Fatalf("apps.connections.open: %+v %v", open, err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(open.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	var hello struct{ Type string }
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("first frame: %+v %v", hello, err)
	}
	return ws
}

// commandAcked types /incident in channel as alice, answers the envelope
// on ws with ack (its %q is replaced by the quoted envelope ID) and returns
// the delivery.
func commandAcked(t *testing.T, sim *slacksim.Sim, ws *websocket.Conn, channel, ack string) *slacksim.Delivery {
	t.Helper()
	type result struct {
		d   *slacksim.Delivery
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := sim.SlashCommand(ctxT(t), alice, channel, "/incident", "help")
		done <- result{d, err}
	}()
	var env struct {
		EnvelopeID string `json:"envelope_id"`
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&env); err != nil {
		t.Fatal(err)
	}
	frame := strings.Replace(ack, "%q", `"`+env.EnvelopeID+`"`, 1)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.d
}

// TestAckPayloadShapes: @slack/socket-mode acks every envelope with
// {"envelope_id":…,"payload":{…}}, and a plain ack() sends "payload":{}.
// Slack takes an empty payload as a plain ack, so the Delivery must show no
// AckPayload for it, while a payload with content is kept.
func TestAckPayloadShapes(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	ws := dialRaw(t, sim)
	for _, tc := range []struct {
		name, ack string // ack's %q is the envelope ID
		want      string // AckPayload, "" for nil
	}{
		{"slack-go, no payload", `{"envelope_id":%q}`, ""},
		{"null payload", `{"envelope_id":%q,"payload":null}`, ""},
		{"node plain ack", `{"envelope_id":%q,"payload":{}}`, ""},
		{"node plain ack, spaced", `{"envelope_id":%q,"payload": { } }`, ""},
		{"node ack with text", `{"envelope_id":%q,"payload":{"text":"on it"}}`, `{"text":"on it"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := commandAcked(t, sim, ws, general, tc.ack)
			if !d.Acked || string(d.AckPayload) != tc.want {
				t.Errorf("Acked %v, AckPayload %q, want %q", d.Acked, d.AckPayload, tc.want)
			}
		})
	}
	if u := sim.Unacked(); len(u) != 0 {
		t.Errorf("unacked: %+v", u)
	}
}

// TestSlashCommandAckResponse: a slash command's ack may carry the
// command's response. @slack/socket-mode sends ack("text") as
// "payload":{"text":"text"} and ack({…}) as the object. Slack shows the
// response to the user who typed the command, or in the channel with
// response_type "in_channel"; the simulator used to drop it.
func TestSlashCommandAckResponse(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	ws := dialRaw(t, sim)
	section := `[{"type":"section","text":{"type":"mrkdwn","text":"*usage*"}}]`
	long := `[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("x", 3001) + `"}}]`
	for _, tc := range []struct {
		name, payload string
		shown         string // "user" (an Ephemeral), "channel" (a message) or "" (nowhere)
		text          string // the response's text
		blocks        bool   // the response keeps its blocks
		bkError       bool   // a Block Kit error is recorded
	}{
		{"plain ack", `{}`, "", "", false, false},
		{"ack(text)", `{"text":"usage: /incident open"}`, "user", "usage: /incident open", false, false},
		{"ephemeral with blocks", `{"response_type":"ephemeral","text":"usage","blocks":` + section + `}`, "user", "usage", true, false},
		{"blocks only", `{"blocks":` + section + `}`, "user", "", true, false},
		{"in_channel", `{"response_type":"in_channel","text":"opening","blocks":` + section + `}`, "channel", "opening", true, false},
		{"invalid blocks", `{"text":"x","blocks":` + long + `}`, "", "", false, true},
		{"nothing to show", `{"response_type":"in_channel"}`, "", "", false, true},
		{"unknown response_type", `{"response_type":"thread","text":"x"}`, "", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ephemerals, messages, bkErrors := len(sim.Ephemerals(alice)), len(sim.Messages(general)), len(sim.BlockKitErrors())
			commandAcked(t, sim, ws, general, `{"envelope_id":%q,"payload":`+tc.payload+`}`)
			newEph := sim.Ephemerals(alice)[ephemerals:]
			newMsgs := sim.Messages(general)[messages:]
			switch {
			case tc.shown == "user" && (len(newEph) != 1 || newEph[0].Text != tc.text || newEph[0].Channel != general ||
				(newEph[0].Blocks != nil) != tc.blocks):
				t.Errorf("ephemerals shown: %+v, want one with text %q, blocks %v", newEph, tc.text, tc.blocks)
			case tc.shown != "user" && len(newEph) != 0:
				t.Errorf("ephemerals shown: %+v, want none", newEph)
			}
			switch {
			case tc.shown == "channel" && (len(newMsgs) != 1 || newMsgs[0].Text != tc.text ||
				newMsgs[0].User != sim.BotUserID() || (newMsgs[0].Blocks != nil) != tc.blocks):
				t.Errorf("messages posted: %+v, want one by the bot with text %q, blocks %v", newMsgs, tc.text, tc.blocks)
			case tc.shown != "channel" && len(newMsgs) != 0:
				t.Errorf("messages posted: %+v, want none", newMsgs)
			}
			want := 0
			if tc.bkError {
				want = 1
			}
			if got := len(sim.BlockKitErrors()) - bkErrors; got != want {
				t.Errorf("%d new Block Kit errors (%v), want %d", got, sim.BlockKitErrors(), want)
			}
		})
	}
}

// multipartBody builds a multipart/form-data body from parts; a part with a
// filename is a file part.
func multipartBody(t *testing.T, parts ...[3]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		name, filename, content := p[0], p[1], p[2]
		h := textproto.MIMEHeader{}
		if filename != "" {
			h.Set("Content-Disposition", `form-data; name="`+name+`"; filename="`+filename+`"`)
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", `form-data; name="`+name+`"`)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

// TestUploadBodies: each official client posts the file's bytes to the
// upload URL its own way. The Node web-api (filesUploadV2) sends a
// multipart part named "body" with a filename, which the simulator used to
// refuse with HTTP 400 as it only looked for a part named "file".
func TestUploadBodies(t *testing.T) {
	t.Parallel()
	sim, _ := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	for _, tc := range []struct {
		name       string
		body       func() (string, io.Reader)
		wantStatus int
		want       string
	}{
		{"raw bytes (python-slack-sdk)", func() (string, io.Reader) {
			return "application/octet-stream", strings.NewReader("hello")
		}, http.StatusOK, "hello"},
		{`multipart "file" (slack-go)`, func() (string, io.Reader) {
			return multipartBody(t, [3]string{"file", "notes.txt", "hello"})
		}, http.StatusOK, "hello"},
		{`multipart "body" with a filename (Node web-api)`, func() (string, io.Reader) {
			return multipartBody(t, [3]string{"body", "Untitled", "hello"})
		}, http.StatusOK, "hello"},
		{`"file" wins over an earlier file part`, func() (string, io.Reader) {
			return multipartBody(t, [3]string{"thumb", "t.png", "thumb"}, [3]string{"file", "notes.txt", "hello"})
		}, http.StatusOK, "hello"},
		{"fields before the file part", func() (string, io.Reader) {
			return multipartBody(t, [3]string{"filename", "", "notes.txt"}, [3]string{"body", "notes.txt", "hello"})
		}, http.StatusOK, "hello"},
		{"no file part", func() (string, io.Reader) {
			return multipartBody(t, [3]string{"body", "", "hello"})
		}, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := api.GetUploadURLExternalContext(ctxT(t), slack.GetUploadURLExternalParameters{FileName: "notes.txt", FileSize: 5})
			if err != nil {
				t.Fatal(err)
			}
			ctype, body := tc.body()
			resp, err := http.Post(u.UploadURL, ctype, body)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("HTTP %d %q, want %d", resp.StatusCode, answer, tc.wantStatus)
			}
			f := sim.File(u.FileID)
			if tc.want != "" && (f == nil || string(f.Content) != tc.want || string(answer) != "OK - 5") {
				t.Errorf("answer %q, file %+v, want content %q", answer, f, tc.want)
			}
		})
	}
}

// TestAPIRequestEncodings: Slack takes a method's arguments URL-encoded,
// as JSON (token in an Authorization header) or as multipart/form-data,
// and the token from the Authorization header or a token argument. The
// Node web-api sends URL-encoded arguments with JSON-string fields, and
// multipart/form-data whenever an argument is binary; the simulator used to
// ignore multipart arguments (chat.postMessage answered no_text).
func TestAPIRequestEncodings(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]`
	form := url.Values{"channel": {general}, "text": {"hi"}, "blocks": {blocks}}
	withToken := url.Values{"token": {sim.BotToken()}}
	for k, v := range form {
		withToken[k] = v
	}
	for _, tc := range []struct {
		name   string
		method string
		query  string
		ctype  string
		body   func() io.Reader
		bearer bool
	}{
		{"form, bearer (Node web-api, slack-go)", http.MethodPost, "", "application/x-www-form-urlencoded",
			func() io.Reader { return strings.NewReader(form.Encode()) }, true},
		{"form with charset, token argument", http.MethodPost, "", "application/x-www-form-urlencoded; charset=utf-8",
			func() io.Reader { return strings.NewReader(withToken.Encode()) }, false},
		{"JSON, bearer", http.MethodPost, "", "application/json; charset=utf-8",
			func() io.Reader {
				return strings.NewReader(`{"channel":"` + general + `","text":"hi","blocks":` + blocks + `}`)
			}, true},
		{"multipart, bearer (Node web-api with a binary argument)", http.MethodPost, "", "",
			func() io.Reader { return nil }, true},
		{"multipart, token argument", http.MethodPost, "", "",
			func() io.Reader { return nil }, false},
		{"GET query, bearer", http.MethodGet, "?" + form.Encode(), "",
			func() io.Reader { return nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype, body := tc.ctype, tc.body()
			if strings.HasPrefix(tc.name, "multipart") {
				parts := [][3]string{{"channel", "", general}, {"text", "", "hi"}, {"blocks", "", blocks},
					{"attachment_bytes", "blob", "\x00\x01"}}
				if !tc.bearer {
					parts = append(parts, [3]string{"token", "", sim.BotToken()})
				}
				ctype, body = multipartBody(t, parts...)
			}
			req, err := http.NewRequestWithContext(ctxT(t), tc.method, sim.APIURL()+"chat.postMessage"+tc.query, body)
			if err != nil {
				t.Fatal(err)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if tc.bearer {
				req.Header.Set("Authorization", "Bearer "+sim.BotToken())
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
				TS    string `json:"ts"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if !got.OK {
				t.Fatalf("chat.postMessage: %s", got.Error)
			}
			m := sim.Message(general, got.TS)
			if m == nil || m.Text != "hi" || !json.Valid(m.Blocks) || !strings.Contains(string(m.Blocks), "*hi*") {
				t.Errorf("message = %+v", m)
			}
		})
	}
	if errs := sim.BlockKitErrors(); len(errs) != 0 {
		t.Errorf("Block Kit errors: %v", errs)
	}
}
