package bot_test

import (
	"strings"
	"testing"

	"github.com/sitrep/sitrep/incident"
)

// hidden are characters that can hide or disguise text: none of them may
// reach the store or any message sitrep posts.
var hidden = []string{"\x00", "\x1b", "\u202E", "\u200B", "\u2066", "\uFEFF", "\u200E"}

// checkNoHidden fails t if s holds any of the hidden characters.
func checkNoHidden(t *testing.T, what, s string) {
	t.Helper()
	for _, c := range hidden {
		if strings.Contains(s, c) {
			t.Errorf("%s holds %+q: %+q", what, c, s)
		}
	}
}

// TestUserTextIsCleaned sends control, bidi-override and zero-width
// characters through a slash command, a form, a note and a change, and
// checks that none of them is stored or posted, while emoji sequences and
// CJK stay whole.
func TestUserTextIsCleaned(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("pay\u200Bments\x1b[31m down \u202Eexe.gpj 👩\u200D💻 決済 sev2")
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "payments[31m down exe.gpj 👩\u200D💻 決済"; inc.Title != want {
		t.Errorf("stored title %+q, want %+q", inc.Title, want)
	}
	if topic := h.sim.Topic(ch); !strings.Contains(topic, "👩\u200D💻 決済") {
		t.Errorf("topic %+q lost the emoji sequence or the CJK", topic)
	}

	h.slash(alice, ch, "/incident", "note rolled\u2066 back\u2069\x00 deploy\uFEFF 412\u200E")
	h.slash(alice, ch, "/incident", "status identified found\u202E it")
	h.slash(alice, h.general, "/change", "web\u200B: restarted\u202E the pool because\x1b leak")
	timeline, err := h.store.Timeline(h.ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range timeline {
		checkNoHidden(t, "timeline entry", e.Text)
		texts = append(texts, e.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"rolled back deploy 412", "Status investigating → identified: found it"} {
		if !strings.Contains(all, want) {
			t.Errorf("timeline %q lacks %q", all, want)
		}
	}
	changes, err := h.store.Changes(h.ctx, incident.ChangeQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Summary != "restarted the pool" || changes[0].Reason != "leak" || changes[0].Systems[0] != "web" {
		t.Errorf("stored changes %+v, want web: restarted the pool because leak", changes)
	}

	// A form: the incident form's title and description.
	h.slash(bob, h.general, "/incident", "open")
	views := h.sim.OpenViews(bob)
	if len(views) != 1 {
		t.Fatalf("open views for bob = %+v, want the incident form", views)
	}
	if _, err := h.sim.Submit(h.ctx, bob, views[0].ID, map[string]map[string]string{
		"title":       {"title": "login\u202E fails\x07"},
		"severity":    {"severity": "sev3"},
		"systems":     {"systems": "auth"},
		"description": {"description": "line one\u200B\r\nline\ttwo\x00"},
	}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	second, err := h.store.IncidentByNumber(h.ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if second.Title != "login fails" || second.Description != "line one\nline two" {
		t.Errorf("form stored title %+q, description %+q", second.Title, second.Description)
	}
	checkNoHidden(t, "what sitrep posted", h.allText())
}
