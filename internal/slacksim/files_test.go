package slacksim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRfake-pareto-chart")

// errCode is the Slack error code of err, "HTTP <status>" for a status
// error, or "" for nil.
func errCode(err error) string {
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		return se.Err
	case errors.As(err, &sc):
		return "HTTP " + strconv.Itoa(sc.Code)
	}
	return err.Error()
}

// callRaw posts form to a Web API method with the bot token, bypassing
// slack-go's own argument checks, and returns the error code ("" if ok).
func callRaw(t *testing.T, sim *slacksim.Sim, method string, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, sim.APIURL()+method, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+sim.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.OK != (body.Error == "") {
		t.Errorf("%s: ok=%v with error %q", method, body.OK, body.Error)
	}
	return body.Error
}

// postRaw posts body to url without a token and returns the status and
// response body.
func postRaw(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/octet-stream", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestUploadFile(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	ctx := ctxT(t)

	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(pngBytes), Filename: "pareto.png", FileSize: len(pngBytes),
		Title: "Causes by count", Channel: general, InitialComment: "Here is the Pareto chart", AltTxt: "bar chart",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.ID, "F") || sum.Title != "Causes by count" {
		t.Errorf("summary = %+v", sum)
	}
	files := sim.Files(general)
	if len(files) != 1 {
		t.Fatalf("Files(general) = %+v, want one", files)
	}
	f := files[0]
	if f.ID != sum.ID || f.Name != "pareto.png" || f.Title != "Causes by count" || f.Mimetype != "image/png" ||
		f.AltText != "bar chart" || f.Size != len(pngBytes) || !bytes.Equal(f.Content, pngBytes) ||
		f.Channel != general || f.ThreadTS != "" || f.MessageTS == "" || !f.Shared {
		t.Errorf("file = %+v", f)
	}
	m := sim.Message(general, f.MessageTS)
	if m == nil || m.Text != "Here is the Pareto chart" || m.User != sim.BotUserID() || len(m.Files) != 1 ||
		m.Files[0].ID != f.ID || !bytes.Equal(m.Files[0].Content, pngBytes) {
		t.Fatalf("message = %+v", m)
	}
	m.Files[0].Content[0] = 'X' // a copy: the simulator's bytes stay intact
	if got := sim.File(f.ID); got == nil || !bytes.Equal(got.Content, pngBytes) {
		t.Errorf("File(%s) = %+v after the caller changed its copy", f.ID, got)
	}

	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 || len(hist.Messages[0].Files) != 1 {
		t.Fatalf("history = %+v", hist.Messages)
	}
	hm, hf := hist.Messages[0], hist.Messages[0].Files[0]
	if hm.Timestamp != f.MessageTS || hm.Text != "Here is the Pareto chart" || !hm.Upload || hm.BotID == "" {
		t.Errorf("history message = %+v", hm.Msg)
	}
	if hf.ID != f.ID || hf.Name != "pareto.png" || hf.Title != "Causes by count" || hf.Mimetype != "image/png" ||
		hf.Filetype != "png" || hf.Size != len(pngBytes) || !hf.IsPublic || hf.URLPrivate == "" {
		t.Errorf("history file = %+v", hf)
	}
	var download bytes.Buffer
	if err := api.GetFileContext(ctx, hf.URLPrivate, &download); err != nil || !bytes.Equal(download.Bytes(), pngBytes) {
		t.Errorf("downloading %s: %q, %v", hf.URLPrivate, download.Bytes(), err)
	}
	if status, _ := postRaw(t, hf.URLPrivate, ""); status != http.StatusMethodNotAllowed {
		t.Errorf("POST to url_private: HTTP %d", status)
	}
	if resp, err := http.Get(hf.URLPrivate); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("url_private without a token: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Into a thread, with Content instead of a Reader and no title.
	_, parent, err := api.PostMessage(general, slack.MsgOptionText("timeline follows", false))
	if err != nil {
		t.Fatal(err)
	}
	const log = "12:01 paged\n12:05 acked\n"
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Content: log, Filename: "time line.txt", FileSize: len(log), Channel: general, ThreadTimestamp: parent,
	}); err != nil {
		t.Fatal(err)
	}
	files = sim.Files(general)
	if len(files) != 2 || files[0].ID != f.ID {
		t.Fatalf("Files(general) = %+v, want the PNG then the log", files)
	}
	tf := files[1]
	if tf.Name != "time line.txt" || tf.Title != "time line.txt" || tf.Mimetype != "text/plain" ||
		string(tf.Content) != log || tf.ThreadTS != parent || tf.MessageTS == parent {
		t.Errorf("thread file = %+v", tf)
	}
	if r := sim.Message(general, tf.MessageTS); r == nil || r.ThreadTS != parent || r.Text != "" ||
		len(r.Files) != 1 || r.Files[0].ID != tf.ID {
		t.Errorf("thread reply = %+v", r)
	}
	download.Reset() // url_private paths carry the name escaped
	if err := api.GetFileContext(ctx, strings.Replace(hf.URLPrivate, "F0001/pareto.png", tf.ID+"/time%20line.txt", 1), &download); err != nil || download.String() != log {
		t.Errorf("downloading the log: %q, %v", download.String(), err)
	}
	hist, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general})
	if err != nil || len(hist.Messages) != 2 { // the reply stays in its thread
		t.Errorf("history after the thread upload: %d messages, %v", len(hist.Messages), err)
	}
	if n := len(sim.Files("")); n != 2 {
		t.Errorf("Files(\"\") has %d files, want 2", n)
	}
	if sim.Calls("files.getUploadURLExternal") != 2 || sim.Calls("files.completeUploadExternal") != 2 {
		t.Errorf("calls: get %d, complete %d", sim.Calls("files.getUploadURLExternal"), sim.Calls("files.completeUploadExternal"))
	}
}

func TestUploadFileErrors(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{MaxFileSize: 1024})
	api := apiFor(sim)
	ctx := ctxT(t)
	outside := sim.AddChannel("outside", alice)
	sim.RemoveMember(outside, sim.BotUserID())
	archived := sim.AddChannel("archived")
	if err := api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}

	// start asks for an upload URL for n bytes; upload posts content to it.
	start := func(n int) *slack.GetUploadURLExternalResponse {
		t.Helper()
		u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "x.png", FileSize: n})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	upload := func(u *slack.GetUploadURLExternalResponse, content string) error {
		return api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Filename: "x.png", Content: content})
	}
	complete := func(channel string, ids ...string) error {
		var files []slack.FileSummary
		for _, id := range ids {
			files = append(files, slack.FileSummary{ID: id})
		}
		_, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{Files: files, Channel: channel})
		return err
	}
	uploadTo := func(channel, threadTS string) error {
		_, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "four", Filename: "x.png",
			FileSize: 4, Channel: channel, ThreadTimestamp: threadTS})
		return err
	}
	get := func(form url.Values) func() error {
		return func() error {
			if code := callRaw(t, sim, "files.getUploadURLExternal", form); code != "" {
				return errors.New(code)
			}
			return nil
		}
	}

	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"no filename", get(url.Values{"length": {"4"}}), "invalid_arguments"},
		{"no length", get(url.Values{"filename": {"x.png"}}), "invalid_arguments"},
		{"length not a number", get(url.Values{"filename": {"x.png"}, "length": {"four"}}), "invalid_arguments"},
		{"length 0", get(url.Values{"filename": {"x.png"}, "length": {"0"}}), "missing_argument"},
		{"over MaxFileSize", get(url.Values{"filename": {"x.png"}, "length": {"1025"}}), "file_upload_size_restricted"},
		{"alt_txt too long", get(url.Values{"filename": {"x.png"}, "length": {"4"}, "alt_txt": {strings.Repeat("a", 1001)}}), "alt_txt_too_large"},
		{"unknown channel", func() error { return uploadTo("C9999", "") }, "channel_not_found"},
		{"not in channel", func() error { return uploadTo(outside, "") }, "not_in_channel"},
		{"archived channel", func() error { return uploadTo(archived, "") }, "is_archived"},
		{"unknown thread", func() error { return uploadTo(general, "1.000001") }, "thread_not_found"},
		{"unknown file id", func() error { return complete(general, "F9999") }, "file_not_found"},
		{"never uploaded", func() error { return complete(general, start(4).FileID) }, "file_not_found"},
		{"fewer bytes than length", func() error {
			u := start(10)
			if err := upload(u, "short"); err != nil {
				return err
			}
			return complete(general, u.FileID)
		}, "file_update_failed"},
		{"more bytes than length", func() error {
			u := start(3)
			if err := upload(u, "too long"); err != nil {
				return err
			}
			return complete(general, u.FileID)
		}, "file_update_failed"},
		{"completed twice", func() error {
			u := start(4)
			if err := upload(u, "four"); err != nil {
				return err
			}
			if err := complete(general, u.FileID); err != nil {
				return fmt.Errorf("first completion: %w", err)
			}
			return complete(general, u.FileID)
		}, "file_not_found"},
		{"same file twice", func() error {
			u := start(4)
			if err := upload(u, "four"); err != nil {
				return err
			}
			return complete(general, u.FileID, u.FileID)
		}, "invalid_arguments"},
		{"files not JSON", func() error {
			if code := callRaw(t, sim, "files.completeUploadExternal", url.Values{"files": {"F0001"}, "channel_id": {general}}); code != "" {
				return errors.New(code)
			}
			return nil
		}, "invalid_arguments"},
		{"upload to unknown id", func() error {
			return upload(&slack.GetUploadURLExternalResponse{UploadURL: strings.TrimSuffix(sim.APIURL(), "api/") + "upload/F9999"}, "x")
		}, "HTTP 404"},
	} {
		if got := errCode(tc.call()); got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.want)
		}
	}
	if files := sim.Files(general); len(files) != 1 { // only "completed twice" shared one
		t.Errorf("Files(general) = %+v, want the one completed file", files)
	}
	for _, ch := range []string{outside, archived} {
		if files := sim.Files(ch); len(files) != 0 {
			t.Errorf("Files(%s) = %+v after refusals", ch, files)
		}
	}
}

func TestUploadURL(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	ctx := ctxT(t)
	u, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "notes.md", FileSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.UploadURL, strings.TrimSuffix(sim.APIURL(), "api/")) {
		t.Errorf("upload_url %q is not on the simulator's host (slack-go would not send its token)", u.UploadURL)
	}
	// Raw bytes work as well as multipart, without a token, and the answer is Slack's text.
	if status, body := postRaw(t, u.UploadURL, "hello"); status != http.StatusOK || body != "OK - 5" {
		t.Errorf("raw upload: HTTP %d %q", status, body)
	}
	if f := sim.File(u.FileID); f == nil || string(f.Content) != "hello" || f.Shared || f.Mimetype != "text/markdown" {
		t.Errorf("File before completion = %+v", f)
	}
	if fs := sim.Files(general); len(fs) != 0 {
		t.Errorf("Files(general) lists an unshared upload: %+v", fs)
	}
	// A refused completion leaves the upload usable.
	_, err = api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID}}, Channel: "C9999"})
	if errCode(err) != "channel_not_found" {
		t.Fatalf("completing into C9999: %v", err)
	}
	// Without a channel the file is completed but stays private.
	if _, err := api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID, Title: "Notes"}}}); err != nil {
		t.Fatal(err)
	}
	if f := sim.File(u.FileID); f == nil || f.Shared || f.Title != "Notes" || f.Channel != "" {
		t.Errorf("private file = %+v", f)
	}
	if status, _ := postRaw(t, u.UploadURL, "again"); status != http.StatusNotFound {
		t.Errorf("upload after completion: HTTP %d, want 404", status)
	}
	if len(sim.Messages(general)) != 0 {
		t.Errorf("a private file posted a message: %+v", sim.Messages(general))
	}
}
