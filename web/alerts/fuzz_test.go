package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/alert"
)

// fuzzParse feeds bodies to src's parser: it never panics; what it
// refuses is a *FieldError that says something, in the sender's words (no
// Go type names); every alert it returns passes checkAlert.
func fuzzParse(f *testing.F, src alert.Source, seeds ...string) {
	files, _ := filepath.Glob(filepath.Join("testdata", string(src), "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append(seeds, `{}`, `[]`, `null`, `"x"`, `{"alerts":null}`, `{`, "\x00") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := Parse(src, body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Problem == "" {
				t.Fatalf("%q refused with %v, not a FieldError that says why", body, err)
			}
			for _, goWord := range []string{"json.RawMessage", "map[string]", "[]string", "time.Time", "Go value", "alert.Alert"} {
				if strings.Contains(err.Error(), goWord) {
					t.Fatalf("%q refused in Go's words: %v", body, err)
				}
			}
			if got != nil {
				t.Fatalf("%q: alerts and an error", body)
			}
			return
		}
		for i, a := range got {
			checkAlert(t, src, i, a)
		}
	})
}

func FuzzParseAlertmanager(f *testing.F) {
	fuzzParse(f, alert.SourceAlertmanager,
		`{"version":"4","groupKey":"g","alerts":[{"status":"firing"}]}`,
		`{"version":"4","groupKey":"\u0000","alerts":[{"status":"resolved","labels":{"alertname":"\u202e"},"endsAt":"2026-01-01T00:00:00Z"}]}`,
		`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"a":1}}]}`)
}

func FuzzParseGrafana(f *testing.F) {
	fuzzParse(f, alert.SourceGrafana,
		`{"alerts":[{"status":"firing","fingerprint":""}]}`,
		`{"alerts":[{"status":"firing","labels":{},"annotations":{"summary":"\n"}}]}`)
}

func FuzzParseSplunk(f *testing.F) {
	fuzzParse(f, alert.SourceSplunk,
		`{"search_name":"s","result":{"a":["x",1,true]}}`,
		`{"search_name":" ","result":{}}`)
}

func FuzzParsePagerDuty(f *testing.F) {
	fuzzParse(f, alert.SourcePagerDuty,
		`{"event":{"event_type":"incident.triggered","data":{"id":"P","number":1}}}`,
		`{"event":{"event_type":"pagey.ping"}}`)
}

func FuzzParseGeneric(f *testing.F) {
	fuzzParse(f, alert.SourceGeneric,
		`{"key":"k","title":"t"}`,
		`[{"key":"k","title":"t","systems":["a,b"]}]`,
		`{"key":"k","title":"t","link":"https://x.example/a|b"}`)
}

// FuzzSignature feeds X-PagerDuty-Signature headers to the check: it never
// panics, and it accepts a header only when the header holds the body's
// signature with one of the secrets.
func FuzzSignature(f *testing.F) {
	secrets := []string{"old-secret", "new-secret"}
	v, _ := newVerifier(Credentials{Source: alert.SourcePagerDuty, Secrets: secrets})
	body := []byte(`{"event":{}}`)
	good := map[string]bool{}
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		good[hex.EncodeToString(m.Sum(nil))] = true
		f.Add("v1=" + hex.EncodeToString(m.Sum(nil)))
	}
	f.Add("v1=00, v1=zz,v0=1")
	f.Add("")
	f.Add(",,,v1=")
	f.Fuzz(func(t *testing.T, header string) {
		ok := v.checkSignature(header, body) == ""
		holds := false
		for _, part := range strings.Split(header, ",") {
			if h, found := strings.CutPrefix(strings.TrimSpace(part), "v1="); found {
				if b, err := hex.DecodeString(h); err == nil && good[hex.EncodeToString(b)] {
					holds = true
				}
			}
		}
		if ok != holds {
			t.Fatalf("header %q accepted=%v, holds a good signature=%v", header, ok, holds)
		}
	})
}
