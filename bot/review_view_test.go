package bot

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// blocksJSON is blocks as JSON without HTML escaping, as Slack gets them.
func blocksJSON(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestOpsReviewViewListsOverdueActions(t *testing.T) {
	t.Parallel()
	to := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	rv := incident.Review{From: to.Add(-24 * time.Hour), To: to, Currency: "USD", Overdue: []incident.OwnedAction{{
		IncidentID: 1, Issue: "alarms page nobody",
		Action: incident.Action{ID: 1, Issue: 1, Owner: "U0BOB", Expected: "alarms <!here> page", Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	}}}
	_, blocks := opsReviewView(rv)
	body := blocksJSON(t, blocks)
	if !strings.Contains(body, "*Overdue postmortem actions (1)*") || !strings.Contains(body, "<@U0BOB>: alarms &lt;!here&gt; page (due Tue 1 Dec)") {
		t.Errorf("review blocks: %s", body)
	}
	rv.Overdue = nil
	if _, blocks := opsReviewView(rv); strings.Contains(blocksJSON(t, blocks), "Overdue") {
		t.Error("a review without overdue actions mentions them")
	}
}
