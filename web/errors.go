package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
)

// Callers of the API are not authenticated until authorize has run, and
// /healthz never is: no answer carries an error's own text (a driver's
// words, an address, a file path). A 5xx says "internal error" with a
// request ID that the log holds next to the detail; a 4xx keeps its words
// for the caller (what is wrong with the request and what to send).

// RequestIDHeader is the response header that carries a request's ID.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// newRequestID returns a random request ID.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID returns the ID withRequestID gave r, or "".
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request an ID of sitrep's own (a caller's is
// not trusted), in its context and in the response's X-Request-Id header.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// internalError answers 500 without err's text and logs err with the
// request's ID, what failed, and what the caller was told.
func internalError(w http.ResponseWriter, r *http.Request, log *slog.Logger, what, told string, err error) {
	id := requestID(r)
	log.Error(what, "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err, "told", told)
	writeJSON(w, http.StatusInternalServerError, apiError{Error: told, RequestID: id})
}

// wroteRecorder remembers whether a response was started.
type wroteRecorder struct {
	http.ResponseWriter
	wrote bool
}

func (w *wroteRecorder) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *wroteRecorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// recoverPanics answers a handler's panic with a 500 "internal error" (if
// nothing was written yet) and logs it with the request's ID and stack,
// instead of net/http's dropped connection.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &wroteRecorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.Error("HTTP handler panicked", "request_id", requestID(r), "method", r.Method, "path", r.URL.Path,
				"panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error", RequestID: requestID(r)})
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// changeFields lists the fields of a change, for a caller who sent another.
const changeFields = "fields are occurred_at, system, systems, person, summary, reason, kind, link, external_id"

// jsonProblem says what is wrong with a body the JSON decoder refused, in
// the API's words (field names as sent, JSON types), never Go's.
func jsonProblem(err error) *apiError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var pe *time.ParseError
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return &apiError{Error: fmt.Sprintf("unknown field %q: %s", f, changeFields), Field: f}
	case errors.As(err, &te):
		return &apiError{Error: fmt.Sprintf("%s must be %s, not a JSON %s", te.Field, jsonKind(te.Type), te.Value), Field: te.Field}
	case errors.As(err, &pe), strings.HasPrefix(msg, "Time.UnmarshalJSON"):
		return &apiError{Error: "occurred_at must be " + jsonKind(reflect.TypeFor[time.Time]()), Field: "occurred_at"}
	case errors.As(err, &se):
		return &apiError{Error: fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{Error: "invalid JSON: the body ends before its value does"}
	}
	return &apiError{Error: "invalid JSON: send one change as an object, or an array of them"}
}

// plural turns "a string" into "strings".
func plural(kind string) string {
	kind = strings.TrimPrefix(strings.TrimPrefix(kind, "a "), "an ")
	return kind + "s"
}

// jsonKind names a Go type as the JSON a caller sends for it.
func jsonKind(t reflect.Type) string {
	switch {
	case t == nil:
		return "a value"
	case t == reflect.TypeFor[time.Time]():
		return "an RFC 3339 time such as 2026-11-24T09:00:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list of " + plural(jsonKind(t.Elem()))
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return fmt.Sprintf("a %s", t.Kind())
}
