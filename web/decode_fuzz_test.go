package web

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// FuzzDecodeChanges feeds bodies to the API's reading of changes: it never
// panics; what it refuses it explains, in the API's words (no Go type
// names), naming the change in a batch; what it takes names at most
// incident.MaxSystems systems, an occurred_at within bounds, and no
// external_id twice.
func FuzzDecodeChanges(f *testing.F) {
	for _, seed := range []string{
		`{"system":"web","person":"ci","summary":"x"}`,
		`[{"systems":["a","b"],"person":"ci","summary":"x","external_id":"1"},{"system":"c","person":"ci","summary":"y","external_id":"1"}]`,
		`{"systems":["a","b","c","d","e","f","g","h","i","j","k"],"person":"ci","summary":"x"}`,
		`{"systems":["a",5],"occurred_at":"0001-01-01T00:00:00Z"}`,
		`{"occurred_at":"9999-12-31T23:59:59Z"}`,
		`{"occurred_at":null,"systems":null}`,
		`[{"external_id":"a\u200b"},{"external_id":"a"}]`,
		`{"colour":"red"}`, `[`, `"x"`, `{}{}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		batch, isBatch, aerr := decodeChanges(body)
		if aerr == nil {
			aerr = checkChanges(batch, isBatch, now)
		}
		if aerr != nil {
			if aerr.Error == "" {
				t.Fatalf("%q refused without a word", body)
			}
			for _, goWord := range []string{"changeIn", "systemNames", "web.", "[]string", "time.Time", "Go value"} {
				if strings.Contains(aerr.Error, goWord) {
					t.Errorf("%q refused with %q, which shows %q", body, aerr.Error, goWord)
				}
			}
			if isBatch && aerr.Index != nil && !strings.HasPrefix(aerr.Error, "changes[") {
				t.Errorf("%q: a batch's error %q does not name the change", body, aerr.Error)
			}
			return
		}
		ids := map[string]bool{}
		for i, c := range batch {
			sent := len(c.Systems.names)
			if c.System != "" {
				sent++
			}
			if c.Systems.over || sent > incident.MaxSystems {
				t.Errorf("%q: change %d taken with %d systems", body, i, sent)
			}
			if at := c.OccurredAt; at != nil && (at.Before(incident.EarliestChange) || at.After(now.Add(incident.MaxChangeFuture))) {
				t.Errorf("%q: change %d taken at %s", body, i, at)
			}
			if id := incident.CleanLine(c.ExternalID); isBatch && id != "" {
				if ids[id] {
					t.Errorf("%q: external_id %q taken twice", body, id)
				}
				ids[id] = true
			}
		}
	})
}
