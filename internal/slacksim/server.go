package slacksim

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// request is one Web API call: its parameters from the query, a form body
// (URL-encoded or multipart) or a JSON body, and the token it carried.
type request struct {
	method string
	token  string
	form   url.Values
	json   map[string]json.RawMessage
}

// get returns a parameter as a string. A JSON string is unquoted; any other
// JSON value is returned as raw JSON (so "view" works both as a JSON object
// and as a form field holding JSON).
func (r *request) get(key string) string {
	if raw, ok := r.json[key]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		if string(raw) == "null" {
			return ""
		}
		return string(raw)
	}
	return r.form.Get(key)
}

// has reports whether the parameter was sent at all.
func (r *request) has(key string) bool {
	if _, ok := r.json[key]; ok {
		return true
	}
	_, ok := r.form[key]
	return ok
}

// bool returns a boolean parameter ("true", "1").
func (r *request) bool(key string) bool {
	v := strings.ToLower(r.get(key))
	return v == "true" || v == "1"
}

// response is a Web API answer: a JSON object with "ok" set by reply or fail.
type response map[string]any

// handler answers one Web API method. It returns the response body; ok is
// added by the dispatcher unless the handler set "ok" itself.
type handler func(s *Sim, r *request) response

func fail(code string) response { return response{"ok": false, "error": code} }

func ok(fields response) response {
	if fields == nil {
		fields = response{}
	}
	fields["ok"] = true
	return fields
}

// methods maps Web API method names to their handlers.
var methods = map[string]handler{
	"auth.test":              (*Sim).authTest,
	"apps.connections.open":  (*Sim).appsConnectionsOpen,
	"conversations.create":   (*Sim).conversationsCreate,
	"conversations.invite":   (*Sim).conversationsInvite,
	"conversations.join":     (*Sim).conversationsJoin,
	"conversations.setTopic": (*Sim).conversationsSetTopic,
	"conversations.info":     (*Sim).conversationsInfo,
	"conversations.list":     (*Sim).conversationsList,
	"conversations.history":  (*Sim).conversationsHistory,
	"conversations.replies":  (*Sim).conversationsReplies,
	"conversations.members":  (*Sim).conversationsMembers,
	"conversations.open":     (*Sim).conversationsOpen,
	"conversations.archive":  (*Sim).conversationsArchive,
	"conversations.rename":   (*Sim).conversationsRename,
	"chat.postMessage":       (*Sim).chatPostMessage,
	"chat.update":            (*Sim).chatUpdate,
	"chat.postEphemeral":     (*Sim).chatPostEphemeral,
	"chat.getPermalink":      (*Sim).chatGetPermalink,
	"pins.add":               (*Sim).pinsAdd,
	"pins.remove":            (*Sim).pinsRemove,
	"pins.list":              (*Sim).pinsList,
	"views.open":             (*Sim).viewsOpen,
	"views.update":           (*Sim).viewsUpdate,
	"users.info":             (*Sim).usersInfo,
	"usergroups.users.list":  (*Sim).usergroupsUsersList,
	// Slack rate-limits both at Tier 4; like every method here they are
	// unlimited unless a test calls SetRateLimit.
	"files.getUploadURLExternal":   (*Sim).filesGetUploadURLExternal,
	"files.completeUploadExternal": (*Sim).filesCompleteUploadExternal,
}

// serveAPI answers POST/GET /api/{method}: it counts the call, applies
// injected faults and rate limits, checks the token, and dispatches.
func (s *Sim) serveAPI(w http.ResponseWriter, hr *http.Request) {
	method := hr.PathValue("method")
	s.api.count(method)

	if status, fault := s.api.takeFault(method); fault {
		s.log.Debug("slacksim: injected fault", "method", method, "status", status)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, status, fail("ratelimited"))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>slacksim: injected failure</body></html>")
		return
	}
	if wait, limited := s.api.limit(method, s.opts.Now()); limited {
		w.Header().Set("Retry-After", wait)
		writeJSON(w, http.StatusTooManyRequests, fail("ratelimited"))
		return
	}

	r, err := parseRequest(method, hr)
	if err != nil {
		writeJSON(w, http.StatusOK, fail("invalid_form_data"))
		return
	}
	h, known := methods[method]
	if !known {
		writeJSON(w, http.StatusOK, fail("unknown_method"))
		return
	}
	if code := s.checkToken(method, r.token); code != "" {
		writeJSON(w, http.StatusOK, fail(code))
		return
	}
	resp := h(s, r)
	if _, set := resp["ok"]; !set {
		resp["ok"] = true
	}
	if s.api.takeLost(method) {
		s.log.Debug("slacksim: answer lost after the call took effect", "method", method, "ok", resp["ok"])
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = io.WriteString(w, "<html><body>slacksim: 504 Gateway Timeout</body></html>")
		return
	}
	if resp["ok"] == false {
		s.log.Debug("slacksim: call refused", "method", method, "error", resp["error"])
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkToken returns Slack's error code for a missing or wrong token, or "".
func (s *Sim) checkToken(method, token string) string {
	switch {
	case token == "":
		return "not_authed"
	case method == "apps.connections.open":
		if token == s.opts.AppToken {
			return ""
		}
		if strings.HasPrefix(token, "xoxb-") || strings.HasPrefix(token, "xoxp-") {
			return "not_allowed_token_type"
		}
		return "invalid_auth"
	case token == s.opts.BotToken:
		return ""
	case token == s.opts.AppToken || strings.HasPrefix(token, "xapp-"):
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

func parseRequest(method string, hr *http.Request) (*request, error) {
	r := &request{method: method, form: url.Values{}}
	if auth := hr.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		r.token = strings.TrimPrefix(auth, "Bearer ")
	}
	ctype, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(hr.Body, 8<<20))
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &r.json); err != nil {
				return nil, err
			}
		}
		r.form = hr.URL.Query()
	case "multipart/form-data":
		// Slack takes every method's arguments as multipart/form-data too;
		// the Node web-api sends them so whenever one of them is binary.
		if err := hr.ParseMultipartForm(8 << 20); err != nil {
			return nil, err
		}
		r.form = hr.Form
	default:
		if err := hr.ParseForm(); err != nil {
			return nil, err
		}
		r.form = hr.Form
	}
	if r.token == "" {
		r.token = r.get("token")
	}
	return r, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
