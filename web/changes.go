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
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/human"
)

// changeIn is a change as the API reads it.
type changeIn struct {
	// OccurredAt is a pointer so that a missing occurred_at (now) differs
	// from one sent as the zero time (refused).
	OccurredAt *time.Time `json:"occurred_at"`
	// System is a shorthand for one system; Systems for several.
	System     string      `json:"system"`
	Systems    systemNames `json:"systems"`
	Person     string      `json:"person"`
	Summary    string      `json:"summary"`
	Reason     string      `json:"reason"`
	Kind       string      `json:"kind"`
	Link       string      `json:"link"`
	ExternalID string      `json:"external_id"`
}

func (c changeIn) change(source incident.ChangeSource) incident.Change {
	systems := c.Systems.names
	if c.System != "" {
		systems = append([]string{c.System}, systems...)
	}
	var at time.Time
	if c.OccurredAt != nil {
		at = *c.OccurredAt
	}
	return incident.Change{OccurredAt: at, Systems: systems, Person: c.Person, Summary: c.Summary,
		Reason: c.Reason, Kind: incident.ChangeKind(c.Kind), Link: c.Link, ExternalID: c.ExternalID,
		Source: source}
}

// systemNames is the systems of a change as sent: a JSON list of names,
// of which it keeps only incident.MaxSystems. A longer list is marked over
// (and refused by checkChanges) as soon as its next name begins, before
// any more of it is decoded, so a body of 100,000 names costs a scan of
// its bytes, not 100,000 strings.
type systemNames struct {
	names []string
	over  bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *systemNames) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &json.UnmarshalTypeError{Value: jsonValueKind(b), Type: reflect.TypeFor[[]string]()}
	}
	for dec.More() {
		if len(s.names) == incident.MaxSystems {
			s.over = true
			return nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return &json.UnmarshalTypeError{Value: "array holding " + withArticle(jsonValueKind(raw)), Type: reflect.TypeFor[[]string]()}
		}
		s.names = append(s.names, name)
	}
	return nil
}

// withArticle puts "a" or "an" before a kind of JSON value.
func withArticle(kind string) string {
	if strings.IndexByte("aeiou", kind[0]) >= 0 {
		return "an " + kind
	}
	return "a " + kind
}

// jsonValueKind names the kind of the JSON value b, as json.UnmarshalTypeError
// does.
func jsonValueKind(b []byte) string {
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return "value"
	case b[0] == '"':
		return "string"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number"
}

// changeOut is a change as the API writes it.
type changeOut struct {
	ID         int64     `json:"id"`
	OccurredAt time.Time `json:"occurred_at"`
	Systems    []string  `json:"systems"`
	Person     string    `json:"person"`
	Summary    string    `json:"summary"`
	Reason     string    `json:"reason,omitempty"`
	Kind       string    `json:"kind"`
	Link       string    `json:"link,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Source     string    `json:"source"`
	LoggedAt   time.Time `json:"logged_at"`
	// Created, in a POST's answer only, says whether this request stored
	// the change (true) or its external_id was stored already (false: the
	// change shown is the one stored then).
	Created *bool `json:"created,omitempty"`
}

func fromChange(c incident.Change) changeOut {
	return changeOut{ID: c.ID, OccurredAt: c.OccurredAt, Systems: c.Systems, Person: c.Person, Summary: c.Summary,
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
			secret, problem := Bearer(r.Header.Get("Authorization"))
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

// Bearer returns the credentials of an Authorization header of the Bearer
// scheme, in any case (RFC 9110), or says what is wrong with the header:
// the change API and the alert webhooks read tokens alike.
func Bearer(header string) (secret, problem string) {
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
// all or nothing. It answers 201 when the request stored at least one
// change and 200 when every change's external_id was stored already; each
// change in the answer is the one stored, with "created" saying which.
func handlePostChanges(log *incident.ChangeLog, now func() time.Time, logged prometheus.Counter, lg *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("the body is over %d bytes: send at most %d changes a request", MaxBody, incident.MaxChangeBatch)})
			return
		}
		if err != nil {
			lg.Warn("reading a request body", "request_id", requestID(r), "err", err)
			writeJSON(w, http.StatusBadRequest, apiError{Error: "the request body could not be read (sent too slowly, or cut short): send it again"})
			return
		}
		batch, isBatch, aerr := decodeChanges(body)
		if aerr == nil {
			aerr = checkChanges(batch, isBatch, now())
		}
		if aerr != nil {
			writeJSON(w, http.StatusBadRequest, aerr)
			return
		}
		source := incident.APISource(tokenName(r))
		changes := make([]incident.Change, len(batch))
		for i, c := range batch {
			changes[i] = c.change(source)
		}
		created, err := log.LogEach(r.Context(), changes)
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
		out, err := asStored(r.Context(), log, changes, created)
		if err != nil {
			// Stored, but not read back: say so, so that the caller's retry
			// (a no-op for changes with an external_id) reads them.
			internalError(w, r, lg, "reading back changes logged through the API", "internal error: the changes were stored but could not be read back; send the request again to read them", err)
			return
		}
		added := 0
		for _, c := range created {
			if c {
				added++
			}
		}
		logged.Add(float64(added))
		status := http.StatusOK
		if added > 0 {
			status = http.StatusCreated
		}
		writeJSON(w, status, map[string]any{"added": added, "changes": out})
	})
}

// asStored returns the changes as the store holds them, in the order
// given, each marked with whether this request created it. Those stored
// before are read back; those created now are as given, their times to
// the microsecond, the precision both databases keep.
func asStored(ctx context.Context, log *incident.ChangeLog, changes []incident.Change, created []bool) ([]changeOut, error) {
	var before []int64
	for i, c := range changes {
		if !created[i] {
			before = append(before, c.ID)
		}
	}
	byID := make(map[int64]incident.Change, len(before))
	if len(before) > 0 {
		stored, err := log.ByID(ctx, before)
		if err != nil {
			return nil, err
		}
		for _, c := range stored {
			byID[c.ID] = c
		}
	}
	out := make([]changeOut, len(changes))
	for i, c := range changes {
		if created[i] {
			c.OccurredAt = c.OccurredAt.Truncate(time.Microsecond)
			c.LoggedAt = c.LoggedAt.UTC().Truncate(time.Microsecond)
		} else {
			s, ok := byID[c.ID]
			if !ok {
				return nil, fmt.Errorf("change %d (ID %d, external ID %q) is not in the store", i, c.ID, c.ExternalID)
			}
			c = s
		}
		out[i] = fromChange(c)
		out[i].Created = &created[i]
	}
	return out, nil
}

// checkChanges refuses what the API does not take before any change is
// looked at further: more systems than a change may name (counted as
// sent, before any work to find repeats), an occurred_at that is not a
// real time or is over incident.MaxChangeFuture ahead of now, and an external_id that
// repeats an earlier one of the batch. The error names the change (as
// changes[i] in a batch) and the field.
func checkChanges(batch []changeIn, isBatch bool, now time.Time) *apiError {
	name := func(i int, field string) string {
		if !isBatch {
			return field
		}
		return fmt.Sprintf("changes[%d].%s", i, field)
	}
	bad := func(i int, field, msg string) *apiError {
		idx := i
		return &apiError{Error: name(i, field) + " " + msg, Field: field, Index: &idx}
	}
	var firstWith map[string]int
	for i, c := range batch {
		sent := len(c.Systems.names)
		if c.System != "" {
			sent++
		}
		if c.Systems.over || sent > incident.MaxSystems {
			return bad(i, "systems", fmt.Sprintf("names more than %d systems: a change names at most %d, each once", incident.MaxSystems, incident.MaxSystems))
		}
		if at := c.OccurredAt; at != nil {
			switch {
			case at.Before(incident.EarliestChange):
				return bad(i, "occurred_at", fmt.Sprintf("is %s, before %d: send when the change happened, as an RFC 3339 time such as 2026-11-24T09:00:00Z, or leave occurred_at out to mean now",
					at.Format(time.RFC3339), incident.EarliestChange.Year()))
			case at.After(now.Add(incident.MaxChangeFuture)):
				return bad(i, "occurred_at", fmt.Sprintf("is %s, more than %s ahead of the server's clock (%s): send when the change happened, at most %s ahead, or leave occurred_at out to mean now",
					at.Format(time.RFC3339), human.Duration(incident.MaxChangeFuture), now.UTC().Format(time.RFC3339), human.Duration(incident.MaxChangeFuture)))
			}
		}
		if !isBatch {
			continue
		}
		// Compared as they will be stored.
		id := incident.CleanLine(c.ExternalID)
		if id == "" {
			continue
		}
		if firstWith == nil {
			firstWith = make(map[string]int, len(batch))
		}
		if j, ok := firstWith[id]; ok {
			return bad(i, "external_id", fmt.Sprintf("repeats changes[%d] (%q): each change of a batch needs its own external_id", j, id))
		}
		firstWith[id] = i
	}
	return nil
}

// decodeChanges reads one change or an array of them, refusing unknown
// fields and naming what is wrong; isBatch says an array was sent.
func decodeChanges(body []byte) (batch []changeIn, isBatch bool, aerr *apiError) {
	trimmed := bytes.TrimSpace(body)
	var first byte
	if len(trimmed) > 0 {
		first = trimmed[0]
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var err error
	switch first {
	case '[':
		isBatch = true
		err = dec.Decode(&batch)
	case '{':
		var one changeIn
		if err = dec.Decode(&one); err == nil {
			batch = []changeIn{one}
		}
	default:
		return nil, false, &apiError{Error: "send a JSON object (one change) or an array of them"}
	}
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON value")
	}
	if err != nil {
		return nil, false, jsonProblem(err)
	}
	return batch, isBatch, nil
}

// handleGetChanges lists changes: ?system=web&since=24h|RFC3339&until=RFC3339&limit=50.
func handleGetChanges(log *incident.ChangeLog, now func() time.Time, lg *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := incident.ChangeQuery{Limit: 50}
		v := r.URL.Query()
		var parts []string
		for _, s := range v["system"] {
			parts = append(parts, strings.Split(s, ",")...)
		}
		if len(parts) > incident.MaxSystems {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("system names %d systems; ask for at most %d, as system=web,db", len(parts), incident.MaxSystems), Field: "system"})
			return
		}
		for _, part := range parts {
			n, err := incident.NormalizeSystem(part)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: "system"})
				return
			}
			if !slices.Contains(q.Systems, n) {
				q.Systems = append(q.Systems, n)
			}
		}
		var err error
		at := now()
		if q.Since, err = parseWhen(v.Get("since"), at); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "since: " + err.Error(), Field: "since"})
			return
		}
		if q.Until, err = parseWhen(v.Get("until"), at); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "until: " + err.Error(), Field: "until"})
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
		out := make([]changeOut, len(changes))
		for i, c := range changes {
			out[i] = fromChange(c)
		}
		writeJSON(w, http.StatusOK, map[string]any{"changes": out})
	})
}

// parseWhen reads an RFC 3339 time, or a duration back from now as people
// type it ("90m", "24h", "7d", "2w"; see human.ParseDuration).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := human.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-24T09:00:00Z) nor a duration back from now (90m, 24h, 7d, 2w)", s)
	}
	return now.Add(-d), nil
}
