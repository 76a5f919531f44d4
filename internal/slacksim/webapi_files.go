package slacksim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sitrep/sitrep/internal/blockkit"
)

// Files upload v2, as slack-go's UploadFileContext drives it:
//
//  1. files.getUploadURLExternal (filename, length) answers an upload_url
//     on the simulator's own host (slack-go sends its token only there) and
//     a file ID.
//  2. A POST to upload_url stores the bytes and answers "OK - <size>" as
//     text. The bytes are the raw body, or in a multipart body the part
//     named "file" (slack-go) or else the first part with a filename (the
//     Node web-api's part is named "body").
//  3. files.completeUploadExternal (files, channel_id, initial_comment,
//     thread_ts, blocks) checks the uploads and shares them into the
//     channel as one message carrying initial_comment and the files.
//
// Error codes are the ones Slack documents for these methods:
//
//   - getUploadURLExternal: invalid_arguments (filename or length missing
//     or not a number), missing_argument (length 0),
//     file_upload_size_restricted (length over Options.MaxFileSize),
//     alt_txt_too_large (alt_txt over 1000 characters).
//   - upload URL: HTTP 404 for an unknown or already completed file ID,
//     HTTP 400 for a multipart body with neither a "file" part nor a part
//     carrying a filename.
//   - completeUploadExternal: invalid_arguments (files not a non-empty JSON
//     array, a file listed twice, or more than one channel: the simulator
//     shares into one channel per call), file_not_found (unknown, never
//     uploaded, or already completed), file_update_failed (the uploaded
//     size differs from the declared length; Slack does not document which
//     code it gives then), then the chat.postMessage rules: channel_not_found,
//     is_archived, not_in_channel, thread_not_found, msg_too_long,
//     invalid_blocks.

// File is an uploaded file as the simulator holds it.
type File struct {
	// ID is the file ID ("F0001").
	ID string
	// Name is the filename given to files.getUploadURLExternal.
	Name string
	// Title is the title given to files.completeUploadExternal, or Name.
	Title string
	// Mimetype is guessed from Name's extension, e.g. "image/png";
	// "application/octet-stream" when the extension is not known.
	Mimetype string
	// AltText is the alt_txt given to files.getUploadURLExternal.
	AltText string
	// Channel is the channel the file was shared into, or empty.
	Channel string
	// ThreadTS is the parent's ts when the file was shared into a thread.
	ThreadTS string
	// MessageTS is the ts of the message that shared the file.
	MessageTS string
	// Size is the number of bytes uploaded.
	Size int
	// Content is the uploaded bytes.
	Content []byte
	// Shared is true once files.completeUploadExternal shared the file
	// into a channel.
	Shared bool
	// Path is where the file's bytes were written when
	// files.completeUploadExternal completed it with Options.FilesDir set
	// ("<FilesDir>/F0001-pareto.png"), else empty.
	Path string
}

type file struct {
	File
	length    int  // as declared to files.getUploadURLExternal
	uploaded  bool // bytes were posted to the upload URL
	completed bool // files.completeUploadExternal accepted it
	created   int64
}

func (f File) clone() File {
	f.Content = slices.Clone(f.Content)
	return f
}

// maxAltText is Slack's limit on alt_txt, in characters.
const maxAltText = 1000

// argError is Slack's invalid_arguments answer with the reason in
// response_metadata.messages.
func argError(reason string) response {
	out := fail("invalid_arguments")
	out["response_metadata"] = map[string]any{"messages": []string{"[ERROR] " + reason}}
	return out
}

func (s *Sim) filesGetUploadURLExternal(r *request) response {
	name := r.get("filename")
	if name == "" {
		return argError("missing required field: filename")
	}
	if !r.has("length") {
		return argError("missing required field: length")
	}
	length, err := strconv.Atoi(r.get("length"))
	switch {
	case err != nil || length < 0:
		return argError("length must be a number of bytes")
	case length == 0:
		return fail("missing_argument")
	case length > s.opts.MaxFileSize:
		return fail("file_upload_size_restricted")
	case len([]rune(r.get("alt_txt"))) > maxAltText:
		return fail("alt_txt_too_large")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.nextFile++
	f := &file{File: File{ID: fmt.Sprintf("F%04d", s.ws.nextFile), Name: name, Title: name,
		Mimetype: mimetype(name), AltText: r.get("alt_txt")}, length: length}
	s.ws.files[f.ID] = f
	s.ws.fileOrder = append(s.ws.fileOrder, f.ID)
	s.notifyLocked()
	return ok(response{"upload_url": s.baseURL + "/upload/" + f.ID, "file_id": f.ID})
}

// serveUpload answers POST /upload/{id}: it stores the bytes of a file
// files.getUploadURLExternal issued. Like Slack's upload URL it needs no
// token. At most the declared length plus one byte is read, so a body that
// is too long is kept truncated and fails files.completeUploadExternal.
func (s *Sim) serveUpload(w http.ResponseWriter, hr *http.Request) {
	id := hr.PathValue("id")
	s.mu.Lock()
	f := s.ws.files[id]
	open := f != nil && !f.completed
	length := 0
	if open {
		length = f.length
	}
	s.mu.Unlock()
	if !open {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	body, err := readUpload(hr, int64(length)+1)
	if err != nil {
		http.Error(w, "bad upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if f.completed {
		s.mu.Unlock()
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	f.Content, f.Size, f.uploaded = body, len(body), true
	s.notifyLocked()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "OK - %d", len(body))
}

// readUpload reads at most limit bytes of the uploaded file: the raw body
// (python-slack-sdk), or in a multipart body the part named "file"
// (slack-go) or else the first part that carries a filename (the Node
// web-api posts its bytes as a part named "body").
func readUpload(hr *http.Request, limit int64) ([]byte, error) {
	ctype, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ctype != "multipart/form-data" {
		return io.ReadAll(io.LimitReader(hr.Body, limit))
	}
	mr, err := hr.MultipartReader()
	if err != nil {
		return nil, err
	}
	var first []byte
	found := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if found {
				return first, nil
			}
			return nil, errors.New(`no "file" part and no part with a filename`)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case part.FormName() == "file":
			return io.ReadAll(io.LimitReader(part, limit))
		case !found && part.FileName() != "":
			if first, err = io.ReadAll(io.LimitReader(part, limit)); err != nil {
				return nil, err
			}
			found = true
		}
	}
}

func (s *Sim) filesCompleteUploadExternal(r *request) response {
	var refs []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.get("files")), &refs); err != nil || len(refs) == 0 {
		return argError("files must be a JSON array of {id, title}")
	}
	target := r.get("channel_id")
	if channels := splitValues(r.get("channels")); len(channels) > 0 {
		if target != "" || len(channels) > 1 {
			return argError("slacksim shares into one channel per call")
		}
		target = channels[0]
	}
	comment := r.get("initial_comment")
	if len([]rune(comment)) > blockkit.MaxMessageText {
		return fail("msg_too_long")
	}
	var blocks json.RawMessage
	if comment == "" && r.has("blocks") { // Slack ignores blocks with a comment
		var code string
		if _, blocks, _, code = s.messageBody(r); code != "" {
			return blockError(code)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	files := make([]*file, len(refs))
	for i, ref := range refs {
		f := s.ws.files[ref.ID]
		switch {
		case f == nil || !f.uploaded || f.completed:
			return fail("file_not_found")
		case slices.Contains(files[:i], f):
			return argError("file " + ref.ID + " is listed twice")
		case f.Size != f.length:
			out := fail("file_update_failed")
			out["response_metadata"] = map[string]any{"messages": []string{fmt.Sprintf(
				"[ERROR] file %s: %d bytes uploaded, length was %d", f.ID, f.Size, f.length)}}
			return out
		}
		files[i] = f
	}
	var ch *channel
	threadTS := r.get("thread_ts")
	if target != "" {
		var refused response
		// chat:write.public covers messages only: sharing a file needs the
		// bot in the channel.
		if ch, refused = s.postableLocked(target, threadTS, false); refused != nil {
			return refused
		}
	}

	now := s.opts.Now().Unix()
	var m *Message
	if ch != nil {
		m = &Message{TS: s.nextTSLocked(), ThreadTS: threadTS, User: s.opts.BotUserID, Text: comment, Blocks: blocks}
	}
	summary := make([]map[string]any, len(files))
	for i, f := range files {
		f.completed, f.created = true, now
		if refs[i].Title != "" {
			f.Title = refs[i].Title
		}
		s.writeFileLocked(f)
		if m != nil {
			f.Shared, f.Channel, f.ThreadTS, f.MessageTS = true, ch.ID, threadTS, m.TS
			m.Files = append(m.Files, f.clone())
		}
		summary[i] = map[string]any{"id": f.ID, "title": f.Title}
	}
	if m != nil {
		ch.messages = append(ch.messages, m)
		ch.byTS[m.TS] = m
	}
	s.notifyLocked()
	return ok(response{"files": summary})
}

// fileURLLocked is the file's url_private, served by serveFile.
func (s *Sim) fileURLLocked(f File) string {
	return s.baseURL + "/files-pri/" + s.opts.TeamID + "-" + f.ID + "/" + url.PathEscape(f.Name)
}

// fileJSONLocked renders a file as Slack puts it in a message's "files".
func (s *Sim) fileJSONLocked(f File) map[string]any {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(f.Name)), ".")
	filetype := ext
	if _, known := mimetypes[ext]; !known {
		filetype = "binary"
	}
	var created int64
	if sf := s.ws.files[f.ID]; sf != nil {
		created = sf.created
	}
	out := map[string]any{
		"id": f.ID, "created": created, "timestamp": created, "name": f.Name, "title": f.Title,
		"mimetype": f.Mimetype, "filetype": filetype, "pretty_type": strings.ToUpper(filetype),
		"user": s.opts.BotUserID, "user_team": s.opts.TeamID, "mode": "hosted", "size": f.Size,
		"is_external": false, "is_public": false, "public_url_shared": false, "editable": false,
		"url_private": s.fileURLLocked(f), "url_private_download": s.fileURLLocked(f) + "?download=1",
	}
	if f.AltText != "" {
		out["alt_txt"] = f.AltText
	}
	if ch := s.ws.channels[f.Channel]; ch != nil {
		out["is_public"] = !ch.IsPrivate
		out["channels"] = []string{ch.ID}
	}
	return out
}

// serveFile answers GET /files-pri/{team}-{id}/{name} (url_private) with a
// completed file's bytes to a request carrying the bot token.
func (s *Sim) serveFile(w http.ResponseWriter, hr *http.Request) {
	if hr.Header.Get("Authorization") != "Bearer "+s.opts.BotToken {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	id, _ := strings.CutPrefix(hr.PathValue("key"), s.opts.TeamID+"-")
	s.mu.Lock()
	f := s.ws.files[id]
	var content []byte
	var ctype string
	found := f != nil && f.completed && f.Name == hr.PathValue("name")
	if found {
		content, ctype = f.Content, f.Mimetype // never changed once completed
	}
	s.mu.Unlock()
	if !found {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	_, _ = w.Write(content)
}

// mimetypes maps lower-case extensions to the mimetype Slack reports.
var mimetypes = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
	"webp": "image/webp", "svg": "image/svg+xml", "pdf": "application/pdf",
	"txt": "text/plain", "log": "text/plain", "md": "text/markdown", "csv": "text/csv",
	"json": "application/json", "html": "text/html", "zip": "application/zip", "gz": "application/gzip",
}

// mimetype guesses a file's mimetype from its name's extension. It uses a
// fixed table rather than the system's, so results do not vary by machine.
func mimetype(name string) string {
	if t, ok := mimetypes[strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")]; ok {
		return t
	}
	return "application/octet-stream"
}

// Files returns copies of the files shared into a channel, oldest first.
// Files("") returns every file files.getUploadURLExternal issued, shared
// or not, in the order it issued them.
func (s *Sim) Files(channelID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, id := range s.ws.fileOrder {
		if f := s.ws.files[id]; channelID == "" || (f.Shared && f.Channel == channelID) {
			out = append(out, f.clone())
		}
	}
	if channelID != "" {
		slices.SortStableFunc(out, func(a, b File) int {
			switch {
			case tsLess(a.MessageTS, b.MessageTS):
				return -1
			case tsLess(b.MessageTS, a.MessageTS):
				return 1
			}
			return 0
		})
	}
	return out
}

// File returns a copy of the file with this ID, or nil.
func (s *Sim) File(id string) *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.ws.files[id]
	if f == nil {
		return nil
	}
	out := f.clone()
	return &out
}
