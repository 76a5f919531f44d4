package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitrep/sitrep/alert"
)

// MaxBody is the largest body an alert webhook may send (1 MiB); a larger
// one is refused with 413, having read at most MaxBody+1 bytes of it.
const MaxBody = 1 << 20

// DefaultRetryAfter is how long a sender is asked to wait before it sends
// again when sitrep could not store its alerts (the Retry-After of a 503).
const DefaultRetryAfter = 5 * time.Second

// requestIDHeader is the response header web gives every request its ID
// in (web.RequestIDHeader): an error's answer and its log line carry it.
const requestIDHeader = "X-Request-Id"

// Config is what the handler needs.
type Config struct {
	// Receiver stores what is accepted (alert.Service).
	Receiver Receiver
	// Credentials turn sources on: a source without credentials answers
	// 404, as an unknown one does.
	Credentials []Credentials
	// Registerer takes the handler's metrics; nil keeps them to itself.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// RetryAfter is the Retry-After of a 503; 0 is DefaultRetryAfter.
	RetryAfter time.Duration
}

// The outcomes of a webhook request, as metrics count them.
const (
	outcomeAccepted     = "accepted"
	outcomeIgnored      = "ignored"
	outcomeNotFound     = "not_found"
	outcomeUnauthorized = "unauthorized"
	outcomeTooLarge     = "too_large"
	outcomeUnreadable   = "unreadable"
	outcomeMalformed    = "malformed"
	outcomeUnavailable  = "unavailable"
)

// handler serves POST /api/v1/alerts/{source}.
type handler struct {
	receiver   Receiver
	verifiers  map[alert.Source]*verifier
	log        *slog.Logger
	retryAfter string
	requests   *prometheus.CounterVec
	received   *prometheus.CounterVec
}

// NewHandler returns the handler of POST /api/v1/alerts/{source} (the
// source is the request's path value "source", or else the last segment
// of its path). In order, it answers:
//
//   - 404 for a source sitrep does not know or that has no credentials;
//   - 401 for missing or wrong credentials, checked before the body is
//     read (PagerDuty's signature, which covers the body, once it is read);
//   - 413 for a body over MaxBody;
//   - 400 for a payload it cannot read, naming the field, or one the
//     Receiver refuses (alert.ErrInvalid);
//   - 503 with Retry-After when the Receiver fails: nothing was stored,
//     and the sender is asked to send again;
//   - 202 with {"accepted": n, "groups": [{"id", "alert_id", "new",
//     "action", "storm"}, ...]}, one entry per alert, in order, once every
//     alert is stored (or {"accepted": 0, "ignored": "why"} for a
//     PagerDuty event sitrep does not read).
//
// Errors are JSON, {"error": "...", "field": "...", "request_id": "..."},
// as the rest of the API's.
func NewHandler(c Config) http.Handler {
	h := &handler{
		receiver:  c.Receiver,
		verifiers: map[alert.Source]*verifier{},
		log:       c.Log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_alert_requests_total",
			Help: "Alert webhook requests by source and outcome (accepted, ignored, not_found, unauthorized, too_large, unreadable, malformed, unavailable).",
		}, []string{"source", "outcome"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_alerts_received_total",
			Help: "Alerts stored through the alert webhooks by source and outcome: new (started a group), repeat (joined one), storm (started a group over its route's limit).",
		}, []string{"source", "outcome"}),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	ra := c.RetryAfter
	if ra <= 0 {
		ra = DefaultRetryAfter
	}
	h.retryAfter = strconv.Itoa(int((ra + time.Second - 1) / time.Second))
	for _, cr := range c.Credentials {
		if _, known := alert.ParseSource(string(cr.Source)); !known {
			continue
		}
		v, on := newVerifier(cr)
		if !on {
			continue
		}
		if prev, ok := h.verifiers[cr.Source]; ok { // several entries: all accepted
			prev.tokens = append(prev.tokens, v.tokens...)
			prev.secrets = append(prev.secrets, v.secrets...)
			continue
		}
		h.verifiers[cr.Source] = v
	}
	if c.Registerer != nil {
		c.Registerer.MustRegister(h.requests, h.received)
	}
	return h
}

// apiError is the JSON body of every error, in the shape of the rest of
// the API's (web's apiError).
type apiError struct {
	Error     string `json:"error"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// groupOut is what became of one alert, in a 202's answer.
type groupOut struct {
	ID      int64        `json:"id"`
	AlertID int64        `json:"alert_id,omitempty"`
	New     bool         `json:"new"`
	Action  alert.Action `json:"action,omitempty"`
	Storm   bool         `json:"storm"`
}

// accepted is a 202's answer.
type accepted struct {
	Accepted int        `json:"accepted"`
	Groups   []groupOut `json:"groups"`
	Ignored  string     `json:"ignored,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("source")
	if name == "" {
		name = path.Base(r.URL.Path)
	}
	src, known := alert.ParseSource(name)
	v := h.verifiers[src]
	if !known || v == nil {
		h.refuse(w, r, "unknown", outcomeNotFound, http.StatusNotFound, apiError{
			Error: fmt.Sprintf("no alert source %q here: the sources are alertmanager, grafana, splunk, pagerduty and generic, each on once sitrep's configuration gives it credentials", cut(name, 40)),
		})
		return
	}
	label := string(src)
	if !v.signed() {
		if problem := v.checkRequest(r); problem != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sitrep"`)
			h.refuse(w, r, label, outcomeUnauthorized, http.StatusUnauthorized, apiError{Error: problem})
			return
		}
	}
	body, status, problem := readBody(r)
	if status != 0 {
		outcome := outcomeTooLarge
		if status != http.StatusRequestEntityTooLarge {
			outcome = outcomeUnreadable
		}
		h.refuse(w, r, label, outcome, status, apiError{Error: problem})
		return
	}
	if v.signed() {
		if problem := v.checkSignature(strings.Join(r.Header.Values(HeaderPagerDutySignature), ","), body); problem != "" {
			h.refuse(w, r, label, outcomeUnauthorized, http.StatusUnauthorized, apiError{Error: problem})
			return
		}
	}
	p, err := parse(src, body)
	var fe *FieldError
	if errors.As(err, &fe) {
		h.refuse(w, r, label, outcomeMalformed, http.StatusBadRequest, apiError{Error: fe.Error(), Field: fe.Field})
		return
	}
	if err != nil {
		h.fail(w, r, label, "parsing an alert webhook", err)
		return
	}
	if len(p.alerts) == 0 {
		h.requests.WithLabelValues(label, outcomeIgnored).Inc()
		h.log.Info("alert webhook read as nothing", "source", label, "request_id", w.Header().Get(requestIDHeader), "ignored", p.ignored)
		writeJSON(w, http.StatusAccepted, accepted{Groups: []groupOut{}, Ignored: p.ignored})
		return
	}
	res, err := h.receiver.Receive(r.Context(), p.alerts)
	if errors.Is(err, alert.ErrInvalid) {
		// The domain refused an alert: sending it again would not help.
		h.refuse(w, r, label, outcomeMalformed, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, label, "storing alerts", err)
		return
	}
	out := accepted{Accepted: len(p.alerts), Groups: make([]groupOut, 0, len(res.Groups))}
	for _, g := range res.Groups {
		out.Groups = append(out.Groups, groupOut{ID: g.GroupID, AlertID: g.AlertID, New: g.New, Action: g.Action, Storm: g.Storm})
		switch {
		case g.Storm:
			h.received.WithLabelValues(label, "storm").Inc()
		case g.New:
			h.received.WithLabelValues(label, "new").Inc()
		default:
			h.received.WithLabelValues(label, "repeat").Inc()
		}
	}
	h.requests.WithLabelValues(label, outcomeAccepted).Inc()
	h.log.Debug("alerts accepted", "source", label, "request_id", w.Header().Get(requestIDHeader), "alerts", len(p.alerts))
	writeJSON(w, http.StatusAccepted, out)
}

// readBody reads a request's body, at most MaxBody bytes, and returns it,
// or the status and problem to answer with.
func readBody(r *http.Request) (body []byte, status int, problem string) {
	tooLarge := fmt.Sprintf("the body is over %d bytes (1 MiB): send fewer alerts a request (Alertmanager: max_alerts in webhook_config)", MaxBody)
	if r.ContentLength > MaxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, http.StatusBadRequest, "the request body could not be read (sent too slowly, or cut short): send it again"
	}
	if len(body) > MaxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	return body, 0, ""
}

// refuse answers a request sitrep will not take, counting and logging it
// (never with what was sent as credentials).
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, source, outcome string, status int, e apiError) {
	h.requests.WithLabelValues(source, outcome).Inc()
	h.log.Info("alert webhook refused", "source", source, "outcome", outcome, "status", status,
		"request_id", w.Header().Get(requestIDHeader), "path", r.URL.Path, "problem", e.Error)
	writeJSON(w, status, e)
}

// fail answers 503 with Retry-After: nothing was stored, and the sender
// should send the same alerts again. The cause goes to the log only.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, source, what string, err error) {
	id := w.Header().Get(requestIDHeader)
	h.requests.WithLabelValues(source, outcomeUnavailable).Inc()
	h.log.Error(what, "source", source, "request_id", id, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", h.retryAfter)
	writeJSON(w, http.StatusServiceUnavailable, apiError{
		Error:     "sitrep could not store the alerts: nothing was stored; send them again",
		RequestID: id,
	})
}
