package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FieldError is a payload sitrep cannot read: Field names where, as a path
// in the JSON sent ("alerts[2].labels.severity"), "" for the body as a
// whole; Problem says what is wrong and what to send. The handler answers
// it 400.
type FieldError struct {
	Field   string
	Problem string
}

// Error implements error: "alerts[2].labels: must be an object, not a JSON array".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}

// bad returns a FieldError at path.
func bad(path, format string, args ...any) *FieldError {
	return &FieldError{Field: path, Problem: fmt.Sprintf(format, args...)}
}

// object is a JSON object being read, with its path in the body, so that
// every problem names the field exactly ("alerts[2].startsAt"). Fields the
// parser does not ask for are not looked at.
type object struct {
	path   string
	fields map[string]json.RawMessage
}

// readObject reads raw, found at path, as a JSON object.
func readObject(path string, raw []byte) (object, error) {
	if k := jsonKind(raw); k != "object" {
		if path == "" {
			return object{}, bad("", "the body must be a JSON object, not %s", withArticle(k))
		}
		return object{}, bad(path, "must be an object, not %s", withArticle(k))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return object{}, syntaxProblem(path, err)
	}
	return object{path: path, fields: fields}, nil
}

// checkJSON refuses a body that is not one well-formed JSON value.
func checkJSON(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return bad("", "the body is empty: send a JSON object")
	}
	if !json.Valid(body) {
		var v any
		return syntaxProblem("", json.Unmarshal(body, &v))
	}
	return nil
}

// syntaxProblem explains a JSON syntax error.
func syntaxProblem(path string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return bad(path, "invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return bad(path, "invalid JSON: %v", err)
}

// at names field name of o.
func (o object) at(name string) string {
	if o.path == "" {
		return name
	}
	return o.path + "." + name
}

// get returns field name, or nil when it is absent or null.
func (o object) get(name string) json.RawMessage {
	raw, ok := o.fields[name]
	if !ok || jsonKind(raw) == "null" {
		return nil
	}
	return raw
}

// has reports whether field name is present and not null.
func (o object) has(name string) bool { return o.get(name) != nil }

// str reads a string field; absent or null is "".
func (o object) str(name string) (string, error) {
	raw := o.get(name)
	if raw == nil {
		return "", nil
	}
	var s string
	if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", bad(o.at(name), "must be a string, not %s", withArticle(jsonKind(raw)))
	}
	return s, nil
}

// required reads a string field that must hold more than white space.
func (o object) required(name, hint string) (string, error) {
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		if o.has(name) {
			return "", bad(o.at(name), "is empty: %s", hint)
		}
		return "", bad(o.at(name), "is missing: %s", hint)
	}
	return s, nil
}

// scalar reads a field that may be a string, a number or true/false as
// text (Splunk's result fields, PagerDuty's number); absent or null is "".
func (o object) scalar(name string) (string, error) {
	raw := o.get(name)
	switch jsonKind(raw) {
	case "null":
		return "", nil
	case "string":
		return o.str(name)
	case "number", "true or false":
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", bad(o.at(name), "must be a string or a number, not %s", withArticle(jsonKind(raw)))
}

// strMap reads an object of strings (labels, annotations); absent or null
// is nil.
func (o object) strMap(name string) (map[string]string, error) {
	raw := o.get(name)
	if raw == nil {
		return nil, nil
	}
	m, err := readObject(o.at(name), raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m.fields))
	for k := range m.fields {
		v, err := m.str(k)
		if err != nil {
			return nil, bad(m.path+"."+quoteKey(k), "must be a string, not %s", withArticle(jsonKind(m.fields[k])))
		}
		out[k] = v
	}
	return out, nil
}

// obj reads an object field; ok is false when it is absent or null.
func (o object) obj(name string) (sub object, ok bool, err error) {
	raw := o.get(name)
	if raw == nil {
		return object{}, false, nil
	}
	sub, err = readObject(o.at(name), raw)
	return sub, err == nil, err
}

// list reads an array field; absent or null is nil.
func (o object) list(name string) ([]json.RawMessage, error) {
	raw := o.get(name)
	if raw == nil {
		return nil, nil
	}
	if k := jsonKind(raw); k != "array" {
		return nil, bad(o.at(name), "must be an array, not %s", withArticle(k))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, syntaxProblem(o.at(name), err)
	}
	return items, nil
}

// strList reads an array of strings; absent or null is nil.
func (o object) strList(name string) ([]string, error) {
	items, err := o.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		var s string
		if jsonKind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
			return nil, bad(fmt.Sprintf("%s[%d]", o.at(name), i), "must be a string, not %s", withArticle(jsonKind(raw)))
		}
		out = append(out, s)
	}
	return out, nil
}

// time reads an RFC 3339 time; absent, null, "" and Go's zero time
// ("0001-01-01T00:00:00Z", which Alertmanager sends for "not yet") are the
// zero time. A time is returned in UTC.
func (o object) time(name string) (time.Time, error) {
	s, err := o.str(name)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, bad(o.at(name), "must be an RFC 3339 time such as 2026-11-24T09:00:00Z, not %q", cut(s, 40))
	}
	if t.IsZero() || t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// only refuses any field of o not in names (the generic format is sitrep's
// own, so a field it does not know is a mistake worth telling).
func (o object) only(names ...string) error {
	var unknown []string
	for k := range o.fields {
		known := false
		for _, n := range names {
			if k == n {
				known = true
				break
			}
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	first := unknown[0]
	for _, k := range unknown[1:] {
		if k < first {
			first = k
		}
	}
	return bad(o.at(quoteKey(first)), "is not a field sitrep reads: the fields are %s", strings.Join(names, ", "))
}

// quoteKey writes an object key for a path: as it is when it is a plain
// name, quoted (and cut) otherwise.
func quoteKey(k string) string {
	plain := k != "" && len(k) <= 64
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			plain = false
			break
		}
	}
	if plain {
		return k
	}
	return fmt.Sprintf("%q", cut(k, 64))
}

// item names element i of the array at path.
func item(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// jsonKind names the kind of the JSON value raw as a sender knows it.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "number"
}

// withArticle writes "a JSON string", "an object"... for a kind.
func withArticle(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "true or false":
		return "true or false"
	case "null":
		return "null"
	}
	return "a " + kind
}

// cut shortens s to at most n runes for a message.
func cut(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
