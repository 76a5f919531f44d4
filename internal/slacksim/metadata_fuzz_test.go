package slacksim

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseMetadata: whatever a client sends as metadata, the simulator
// answers with no metadata, Slack's error code, or metadata that renders
// back as an object with a non-empty event_type and an object payload.
func FuzzParseMetadata(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"event_type":"sitrep_header","event_payload":{"key":"INC-1"}}`,
		`{"event_type":"","event_payload":{}}`, `{"event_type":"x","event_payload":null}`, `{"event_type":1}`,
		`{"event_type":"x","event_payload":{"a":[{"b":true}]}}`, `{"event_type":"x","event_payload":{}} trailing`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		md, code := parseMetadata(raw)
		switch {
		case code != "":
			if md != nil || (code != "invalid_metadata_format" && code != "invalid_metadata_schema") {
				t.Fatalf("%q: metadata %+v with code %q", raw, md, code)
			}
		case md == nil:
			if strings.TrimSpace(raw) != "" {
				t.Fatalf("%q: neither metadata nor an error", raw)
			}
		default:
			out, err := json.Marshal(md.json())
			if err != nil {
				t.Fatalf("%q: rendering %+v: %v", raw, md, err)
			}
			again, code := parseMetadata(string(out))
			if code != "" || again.EventType != md.EventType || string(again.EventPayload) != string(md.EventPayload) {
				t.Fatalf("%q: rendered as %s, read back as %+v (%s)", raw, out, again, code)
			}
		}
	})
}

func FuzzValidTS(f *testing.F) {
	for _, seed := range []string{"1700000000.000100", "1", "", ".5", "1.", "1.2.3", "-1", "1e9"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ts string) {
		if !validTS(ts) {
			return
		}
		sec, frac, _ := strings.Cut(ts, ".")
		if sec == "" || strings.Trim(sec+frac, "0123456789") != "" {
			t.Fatalf("%q accepted as a timestamp", ts)
		}
		// An accepted timestamp orders against itself consistently.
		if tsLess(ts, ts) {
			t.Fatalf("%q is less than itself", ts)
		}
	})
}
