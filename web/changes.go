package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitrep/sitrep/incident"
)

// changeJSON is a change as the API reads and writes it.
type changeJSON struct {
	ID         int64     `json:"id,omitempty"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	// System is a shorthand for one system; Systems for several.
	System     string    `json:"system,omitempty"`
	Systems    []string  `json:"systems,omitempty"`
	Person     string    `json:"person"`
	Summary    string    `json:"summary"`
	Reason     string    `json:"reason,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Link       string    `json:"link,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Source     string    `json:"source,omitempty"`
	LoggedAt   time.Time `json:"logged_at,omitzero"`
}

func (c changeJSON) change(source incident.ChangeSource) incident.Change {
	systems := c.Systems
	if c.System != "" {
		systems = append([]string{c.System}, systems...)
	}
	return incident.Change{OccurredAt: c.OccurredAt, Systems: systems, Person: c.Person, Summary: c.Summary,
		Reason: c.Reason, Kind: incident.ChangeKind(c.Kind), Link: c.Link, ExternalID: c.ExternalID,
		Source: source}
}

func fromChange(c incident.Change) changeJSON {
	return changeJSON{ID: c.ID, OccurredAt: c.OccurredAt, Systems: c.Systems, Person: c.Person, Summary: c.Summary,
		Reason: c.Reason, Kind: string(c.Kind), Link: c.Link, ExternalID: c.ExternalID, Source: string(c.Source),
		LoggedAt: c.LoggedAt}
}

// apiError is the JSON body of every error.
type apiError struct {
	Error string `json:"error"`
	// Field names the field that is wrong, when one is.
	Field string `json:"field,omitempty"`
	// Index is the position in a batch of the change that is wrong.
	Index *int `json:"index,omitempty"`
	// RequestID names the request in sitrep's log, on a 5xx.
	RequestID string `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorizer returns a wrapper that lets a request through only with one
// of tokens, and puts that token's name in the request's context (see
// tokenName). The secret sent is hashed and its digest compared with every
// token's, each in constant time, so the answer's timing reveals neither a
// secret's length nor which token came close. The scheme is
// case-insensitive (RFC 9110). No answer or log holds what was sent.
func authorizer(tokens []Token) func(http.Handler) http.Handler {
	digests := make([][sha256.Size]byte, len(tokens))
	for i, t := range tokens {
		digests[i] = sha256.Sum256([]byte(t.Secret))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(tokens) == 0 {
				writeJSON(w, http.StatusForbidden, apiError{Error: "the API is off: set SITREP_API_TOKEN, or api.tokens in the configuration, on the sitrep server to turn it on"})
				return
			}
			secret, problem := bearer(r.Header.Get("Authorization"))
			match := -1
			if problem == "" {
				sent := sha256.Sum256([]byte(secret))
				for i := range digests {
					match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(sent[:], digests[i][:]), i, match)
				}
				if match < 0 {
					problem = "the token sent is not one this server accepts"
				}
			}
			if problem != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="sitrep"`)
				writeJSON(w, http.StatusUnauthorized, apiError{Error: problem + ": send Authorization: Bearer <token>, with the secret of SITREP_API_TOKEN or of a token in api.tokens on the sitrep server"})
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tokens[match].Name)))
		})
	}
}

// bearer returns the credentials of an Authorization header of the Bearer
// scheme, in any case, or says what is wrong with the header.
func bearer(header string) (secret, problem string) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", "no token sent"
	}
	scheme, secret, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", "the Authorization header is not of the Bearer scheme"
	}
	if secret = strings.TrimSpace(secret); secret == "" {
		return "", "no token after Bearer"
	}
	return secret, ""
}

type tokenKey struct{}

// tokenName returns the name of the token authorizer accepted for r.
func tokenName(r *http.Request) string {
	name, _ := r.Context().Value(tokenKey{}).(string)
	return name
}

// handlePostChanges logs one change (a JSON object) or a batch (an array),
// all or nothing.
func handlePostChanges(log *incident.ChangeLog, logged prometheus.Counter, lg *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("the body is over %d bytes: send at most %d changes a request", MaxBody, incident.MaxChangeBatch)})
			return
		}
		if err != nil {
			lg.Warn("reading a request body", "request_id", requestID(r), "err", err)
			writeJSON(w, http.StatusBadRequest, apiError{Error: "the request body could not be read: send it again"})
			return
		}
		batch, aerr := decodeChanges(body)
		if aerr != nil {
			writeJSON(w, http.StatusBadRequest, aerr)
			return
		}
		source := incident.APISource(tokenName(r))
		changes := make([]incident.Change, len(batch))
		for i, c := range batch {
			changes[i] = c.change(source)
		}
		added, err := log.Log(r.Context(), changes)
		var be *incident.BatchError
		if errors.As(err, &be) {
			idx := be.Index
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: be.Error(), Field: be.Err.Field, Index: &idx})
			return
		}
		if err != nil {
			internalError(w, r, lg, "logging changes through the API", "internal error: nothing was stored", err)
			return
		}
		logged.Add(float64(added))
		out := make([]changeJSON, len(changes))
		for i, c := range changes {
			out[i] = fromChange(c)
		}
		writeJSON(w, http.StatusCreated, map[string]any{"added": added, "changes": out})
	})
}

// decodeChanges reads one change or an array of them, refusing unknown
// fields and naming what is wrong.
func decodeChanges(body []byte) ([]changeJSON, *apiError) {
	trimmed := bytes.TrimSpace(body)
	var first byte
	if len(trimmed) > 0 {
		first = trimmed[0]
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var batch []changeJSON
	var err error
	switch first {
	case '[':
		err = dec.Decode(&batch)
	case '{':
		var one changeJSON
		if err = dec.Decode(&one); err == nil {
			batch = []changeJSON{one}
		}
	default:
		return nil, &apiError{Error: "send a JSON object (one change) or an array of them"}
	}
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON value")
	}
	if err != nil {
		return nil, jsonProblem(err)
	}
	return batch, nil
}

// handleGetChanges lists changes: ?system=web&since=24h|RFC3339&until=RFC3339&limit=50.
func handleGetChanges(log *incident.ChangeLog, lg *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := incident.ChangeQuery{Limit: 50}
		v := r.URL.Query()
		for _, s := range v["system"] {
			for _, part := range strings.Split(s, ",") {
				n, err := incident.NormalizeSystem(part)
				if err != nil {
					writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: "system"})
					return
				}
				q.Systems = append(q.Systems, n)
			}
		}
		var err error
		if q.Since, err = parseWhen(v.Get("since")); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: "since"})
			return
		}
		if q.Until, err = parseWhen(v.Get("until")); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: "until"})
			return
		}
		if l := v.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > 1000 {
				writeJSON(w, http.StatusBadRequest, apiError{Error: "limit is a number from 1 to 1000", Field: "limit"})
				return
			}
			q.Limit = n
		}
		changes, err := log.Recent(r.Context(), q)
		if err != nil {
			internalError(w, r, lg, "reading changes through the API", "internal error", err)
			return
		}
		out := make([]changeJSON, len(changes))
		for i, c := range changes {
			out[i] = fromChange(c)
		}
		writeJSON(w, http.StatusOK, map[string]any{"changes": out})
	})
}

// parseWhen reads an RFC 3339 time, or a duration back from now ("24h").
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 24h", s)
	}
	return t, nil
}
