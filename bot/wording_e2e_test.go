package bot_test

import (
	"strings"
	"testing"
	"time"
)

// lastEphemeralBlocks returns the blocks of the latest ephemeral message
// user got, indented for a golden file.
func (h *harness) lastEphemeralBlocks(user string) []byte {
	h.t.Helper()
	eph := h.sim.Ephemerals(user)
	if len(eph) == 0 {
		h.t.Fatalf("%s got no ephemeral message", user)
	}
	return indentJSON(h.t, eph[len(eph)-1].Blocks)
}

// TestChangeListSaysItsWindowInWords: /change list says "24 h" and
// "7 days", never "24h0m0s" or "168 h".
func TestChangeListSaysItsWindowInWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct{ text, want string }{
		{"list billing", "No changes to billing in the last 24 h"},
		{"list billing 7d", "No changes to billing in the last 7 days"},
		{"list billing 36h", "No changes to billing in the last 36 h"},
		{"list billing 90m", "No changes to billing in the last 1 h 30 min"},
	} {
		h.slash(alice, h.general, "/change", tc.text)
		if got := h.lastEphemeral(alice); !strings.Contains(got, tc.want) {
			t.Errorf("/change %s answered %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestChangeWithASystemInWords: "/change Web Server: restarted" says what a
// system name may hold and which to write.
func TestChangeWithASystemInWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/change", "Web Server: restarted")
	golden(t, "change_system_with_space.json", h.lastEphemeralBlocks(alice))
	if got := h.lastEphemeral(alice); !strings.Contains(got, "`Web Server` is not a system name") || !strings.Contains(got, "Write `web-server:`") ||
		strings.Contains(got, "Start with the system and a colon") {
		t.Errorf("answered %q", got)
	}
	h.slash(alice, h.general, "/change", "web-server: restarted")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "Logged:") {
		t.Errorf("the suggested form answered %q", got)
	}
}

// TestNoteOnAClosedIncident: a note on a closed incident is told plainly
// that the incident is closed and where late findings go, not given a
// usage line.
func TestNoteOnAClosedIncident(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ch := h.openIncident("cache stampede sev2")
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	h.slash(alice, ch, "/incident", "note one more thing")
	golden(t, "note_on_closed.json", h.lastEphemeralBlocks(alice))
	got := h.lastEphemeral(alice)
	for _, bad := range []string{"the incident is closed", "Write:"} {
		if strings.Contains(got, bad) {
			t.Errorf("answer %q holds %q", got, bad)
		}
	}
	if !strings.Contains(got, "INC-1 was closed on 2026-11-24 03:04 UTC, so sitrep did not add the note") ||
		!strings.Contains(got, "`/postmortem entry INC-1 <time> <what happened>`") {
		t.Errorf("answer %q", got)
	}
}

// TestCloseSummaryOfAnOverrunTimebox: a box overrun by 26 s says when
// restoring began, in words.
func TestCloseSummaryOfAnOverrunTimebox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlans(dbPlans))
	ch := h.openIncident("db is down sev1 systems:db")
	h.clock.Advance(10*time.Minute + 26*time.Second)
	h.sweep()
	h.slash(alice, ch, "/incident", "status restored")
	h.slash(alice, ch, "/incident", "status resolved")
	h.slash(alice, ch, "/incident", "close")
	msgs := h.sim.Messages(ch)
	summary := msgs[len(msgs)-1]
	golden(t, "summary_overrun.json", indentJSON(t, summary.Blocks))
	if got := plainJSON(t, summary.Blocks); !strings.Contains(got, "Restoring began 26 s after the diagnosis time was up.") ||
		strings.Contains(got, "Expiry to restore") {
		t.Errorf("close summary: %s", got)
	}
}
