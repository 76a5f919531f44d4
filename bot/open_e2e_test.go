package bot_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./bot -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestOpenWithAllArguments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.slash(alice, h.general, "/incident", "open db is down sev1 systems:web,DB")

	ch := h.sim.ChannelByName("inc-1-db-is-down")
	if ch == nil {
		t.Fatalf("no channel inc-1-db-is-down; channels: %v", h.sim.Channels())
	}
	if members := h.sim.Members(ch.ID); !slices.Contains(members, alice) {
		t.Errorf("members of #%s = %v, want the reporter %s", ch.Name, members, alice)
	}
	if got, want := h.sim.Topic(ch.ID), "SEV1 · Investigating · TDO: Alice Liddell · db is down"; got != want {
		t.Errorf("topic = %q, want %q", got, want)
	}
	msgs := h.sim.Messages(ch.ID)
	// One message: the header carries "what changed?".
	if len(msgs) != 1 || !strings.Contains(plainJSON(t, msgs[0].Blocks), "No changes were logged to web, db in the 24 h before it opened") {
		t.Fatalf("incident channel holds %d messages, want the header carrying what changed (none)", len(msgs))
	}
	header := msgs[0]
	if pins := h.sim.Pins(ch.ID); !slices.Equal(pins, []string{header.TS}) {
		t.Errorf("pins = %v, want the header %s", pins, header.TS)
	}
	golden(t, "header_open.json", indentJSON(t, header.Blocks))

	ann := h.sim.ChannelByName("incidents")
	if ann == nil {
		t.Fatal("no #incidents channel: the announcement has nowhere to go")
	}
	annMsgs := h.sim.Messages(ann.ID)
	if len(annMsgs) != 1 || !strings.Contains(plainJSON(t, annMsgs[0].Blocks), "Join <#"+ch.ID+">") {
		t.Errorf("#incidents messages = %+v, want one announcement linking <#%s>", annMsgs, ch.ID)
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is open: <#"+ch.ID+">") {
		t.Errorf("reporter's answer = %q, want it to link the channel", got)
	}

	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := &incident.Incident{ID: inc.ID, Number: 1, Title: "db is down", Severity: incident.Sev1,
		Status: incident.StatusInvestigating, Systems: []string{"web", "db"}, ReporterID: alice, TDOID: alice,
		ReportedIn: h.general, RequestKey: "cmd:" + d.TriggerID, OpenedAt: epoch,
		// The opening states what it was, with the names as they were.
		Opening: incident.Facts{Severity: incident.Sev1, Title: "db is down", To: alice,
			Names: map[string]string{alice: "Alice Liddell"}}}
	if diff := cmp.Diff(want, inc); diff != "" {
		t.Errorf("stored incident (-want +got):\n%s", diff)
	}
	room := h.room(1)
	if !room.Ready || room.ChannelID != ch.ID || room.HeaderTS != header.TS || room.AnnouncementTS != annMsgs[0].TS {
		t.Errorf("stored room = %+v, want ready with channel %s, header %s", room, ch.ID, header.TS)
	}
}

func TestOpenWithModal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(bob, h.general, "/incident", "open")
	views := h.sim.OpenViews(bob)
	if len(views) != 1 || views[0].CallbackID != "incident_open" {
		t.Fatalf("open views for bob = %+v, want the incident form", views)
	}
	golden(t, "modal_open.json", indentJSON(t, withoutKeys(t, views[0].Raw,
		"id", "hash", "team_id", "app_id", "bot_id", "root_view_id", "previous_view_id", "app_installed_team_id")))
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()

	// Every wrong field is named at once, and nothing is stored.
	d, err := h.sim.Submit(ctx, bob, views[0].ID, map[string]map[string]string{
		"title":       {"title": "   "},
		"severity":    {"severity": "sev2"},
		"systems":     {"systems": "web, b@d"},
		"description": {"description": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.idle()
	for _, field := range []string{`"title"`, `"systems"`} {
		if !strings.Contains(string(d.AckPayload), field) {
			t.Errorf("ack payload %s does not mark the %s field", d.AckPayload, field)
		}
	}
	if !strings.Contains(string(d.AckPayload), `"response_action":"errors"`) {
		t.Errorf("ack payload %s is not a form error", d.AckPayload)
	}
	if n := h.incidentCount(); n != 0 {
		t.Fatalf("a rejected form stored %d incidents", n)
	}

	d, err = h.sim.Submit(ctx, bob, views[0].ID, map[string]map[string]string{
		"title":       {"title": "Checkout fails for card payments"},
		"severity":    {"severity": "sev2"},
		"systems":     {"systems": "payments, web"},
		"description": {"description": "Since 02:50 every card payment returns 502."},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.idle()
	if strings.Contains(string(d.AckPayload), "errors") {
		t.Fatalf("valid form refused: %s", d.AckPayload)
	}
	h.wait("the incident channel", func() bool { return h.sim.ChannelByName("inc-1-checkout-fails-for-card-payments") != nil })
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Severity != incident.Sev2 || !slices.Equal(inc.Systems, []string{"payments", "web"}) ||
		inc.Description != "Since 02:50 every card payment returns 502." || inc.ReporterID != bob || inc.ReportedIn != h.general {
		t.Errorf("incident from the form = %+v", inc)
	}
	if got := h.lastEphemeral(bob); !strings.Contains(got, "INC-1 is open") {
		t.Errorf("bob's answer = %q", got)
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		text string
		want string
	}{
		{"open db is down sev5", "`sev5` is not a severity: use sev1 (worst), sev2, sev3 or sev4."},
		{"open sev1", "A title is required"},
		{"open sev1 systems:web", "A title is required"},
		{"open db systems:", "`systems:` names no system"},
		{"open " + strings.Repeat("long ", 30), "keep it to 120"},
		{"restart everything", "`restart` is not an /incident command"},
	}
	for _, tc := range tests {
		h.slash(alice, h.general, "/incident", tc.text)
		got := h.lastEphemeral(alice)
		if !strings.Contains(got, tc.want) {
			t.Errorf("/incident %s answered %q, want %q", tc.text, got, tc.want)
		}
		if !strings.Contains(got, "Write: `/incident") {
			t.Errorf("/incident %s answer %q does not show the right form", tc.text, got)
		}
	}
	if n := h.incidentCount(); n != 0 {
		t.Errorf("bad input stored %d incidents", n)
	}
	for _, ch := range h.sim.Channels() {
		if strings.HasPrefix(ch.Name, "inc-") {
			t.Errorf("bad input created channel #%s", ch.Name)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "help")
	h.slash(bob, h.general, "/incident", "")
	for _, u := range []string{alice, bob} {
		eph := h.sim.Ephemerals(u)
		if len(eph) != 1 {
			t.Fatalf("%s got %d answers, want 1", u, len(eph))
		}
		golden(t, "help.json", indentJSON(t, eph[0].Blocks))
	}
}

func TestTitleCannotPingChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Slack sends this as "<!channel> <@U0BOB|bob> &amp; <!here> <!everyone> …".
	h.slash(alice, h.general, "/incident", "open @channel @bob & @here <@everyone> fix this sev2")
	h.wait("the room", func() bool { return h.room(1).Ready })
	all := h.allText()
	for _, raw := range []string{"<!channel>", "<!here>", "<!everyone>", "&amp;amp;", "&amp;lt;", "<@U0BOB|"} {
		if strings.Contains(all, raw) {
			t.Errorf("a message holds %q", raw)
		}
	}
	// The announcement mentions bob (he is named, not paged as a crowd);
	// the header, plain text, names him.
	if !strings.Contains(all, "@channel <@U0BOB> &amp; @here &lt;@everyone&gt; fix this") {
		t.Errorf("title not found, escaped once, in messages:\n%s", all)
	}
	if !strings.Contains(all, "INC-1: @channel @bob &amp; @here &lt;@everyone&gt; fix this") {
		t.Errorf("header not found in messages:\n%s", all)
	}
	inc, err := h.store.IncidentByNumber(h.ctx, 1)
	if err != nil || inc.Title != "@channel <@U0BOB|bob> & @here <@everyone> fix this" {
		t.Errorf("stored title %q, %v", inc.Title, err)
	}
	if r := h.room(1); r.ChannelName != "inc-1-channel-bob-here-everyone-fix-this" {
		t.Errorf("channel %s", r.ChannelName)
	}
}

func TestDuplicateEnvelopeIsProcessedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	d := h.slash(alice, h.general, "/incident", "open db is down")
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	for range 3 {
		if err := h.sim.Redeliver(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	h.idle()
	if n := h.incidentCount(); n != 1 {
		t.Errorf("%d incidents after a redelivered envelope, want 1", n)
	}
	var rooms int
	for _, ch := range h.sim.Channels() {
		if strings.HasPrefix(ch.Name, "inc-") {
			rooms++
		}
	}
	if rooms != 1 {
		t.Errorf("%d incident channels, want 1", rooms)
	}
	if n := len(h.ephemeralTexts(alice)); n != 1 {
		t.Errorf("reporter got %d answers, want 1", n)
	}
}

func TestTakenChannelNameGetsSuffix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withChannel("inc-1-db-is-down"), withChannel("inc-1-db-is-down-2"))
	h.slash(alice, h.general, "/incident", "open db is down")
	if h.sim.ChannelByName("inc-1-db-is-down-3") == nil {
		t.Fatalf("no #inc-1-db-is-down-3; channels: %+v", h.sim.Channels())
	}
	if r := h.room(1); r.ChannelName != "inc-1-db-is-down-3" || !r.Ready {
		t.Errorf("room = %+v", r)
	}
}

func TestNonLatinTitle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/incident", "open 数据库宕机 sev1")
	if h.sim.ChannelByName("inc-1") == nil {
		t.Fatalf("no #inc-1; channels: %+v", h.sim.Channels())
	}
}

func TestRateLimitStormOnChannelCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The next 3 conversations.create calls answer 429 Retry-After: 1.
	h.sim.FailNext("conversations.create", 3, 429)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
			defer cancel()
			if _, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", "open storm "+string(rune('a'+i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.idle()
	for n := int64(1); n <= 5; n++ {
		if r := h.room(n); !r.Ready {
			t.Errorf("INC-%d room not ready after the storm: %+v", n, r)
		}
	}
	// A refused creation does not wait in place: its reporter is told the
	// number and the room waits its turn in the room queue.
	queued, open := 0, 0
	for _, e := range h.ephemeralTexts(alice) {
		if strings.Contains(e, "is recorded. Slack limits how fast channels can be made") {
			queued++
		}
		if strings.Contains(e, " is open: <#") {
			open++
		}
	}
	if queued < 3 || open != 5 {
		t.Errorf("reporters told %d times their incident waits its turn (want at least 3) and %d times it is open (want 5)", queued, open)
	}
	if got := h.sim.Calls("conversations.create"); got != 5+3+1 { // 5 rooms, 3 refused, 1 for #incidents
		t.Errorf("conversations.create called %d times, want 9", got)
	}
}

func TestChannelCreationFailsThenSweeperFinishes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Slack is down for channel creation longer than the inline retries.
	h.sim.FailNext("conversations.create", 1000, 503)
	h.slash(alice, h.general, "/incident", "open api down sev2")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is recorded, but its channel could not be created yet (Slack answered HTTP 503)") ||
		strings.Contains(got, "slack server error") {
		t.Errorf("reporter told %q, want to hear it is recorded and will be retried, and why without Go's error text", got)
	}
	if n := h.incidentCount(); n != 1 {
		t.Fatalf("%d incidents stored, want 1 despite Slack failing", n)
	}
	if r := h.room(1); r.Ready || r.ChannelID != "" {
		t.Fatalf("room = %+v, want no channel yet", r)
	}
	// Slack recovers; a sweep before the back-off runs nothing, one after
	// it finishes the room.
	h.sim.FailNext("conversations.create", 0, 0)
	if n, err := h.runner.Sweep(h.ctx); err != nil || n != 0 {
		t.Fatalf("early sweep ran %d jobs (%v), want none before the back-off", n, err)
	}
	h.clock.Advance(time.Minute)
	if n, err := h.runner.Sweep(h.ctx); err != nil || n != 1 {
		t.Fatalf("sweep ran %d jobs (%v), want 1", n, err)
	}
	if r := h.room(1); !r.Ready || h.sim.ChannelByName("inc-1-api-down") == nil {
		t.Fatalf("room after the sweep = %+v", r)
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "INC-1 is open") {
		t.Errorf("reporter's last answer = %q, want the room to be announced ready", got)
	}
}

func TestCrashHalfWayIsFinishedWithoutRepeats(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// pins.add keeps failing: the room stops after the header.
	h.sim.FailNext("pins.add", 1000, 500)
	h.slash(alice, h.general, "/incident", "open queue backlog")
	r := h.room(1)
	if r.Ready || !r.Did("header") || r.Did("pin") {
		t.Fatalf("room = %+v, want the header posted and the pin pending", r)
	}
	h.sim.FailNext("pins.add", 0, 0)
	h.clock.Advance(time.Hour)
	if _, err := h.runner.Sweep(h.ctx); err != nil {
		t.Fatal(err)
	}
	r = h.room(1)
	if !r.Ready {
		t.Fatalf("room not finished by the sweeper: %+v", r)
	}
	msgs := h.sim.Messages(r.ChannelID)
	if len(msgs) != 1 || !strings.Contains(plainJSON(t, msgs[0].Blocks), "What changed before INC-1?") {
		t.Errorf("incident channel holds %d messages after the retry, want the header (carrying what changed) once", len(msgs))
	}
	if pins := h.sim.Pins(r.ChannelID); len(pins) != 1 {
		t.Errorf("pins = %v, want the header", pins)
	}
	if n := h.sim.Calls("conversations.create"); n != 2 { // the room and #incidents
		t.Errorf("conversations.create called %d times, want 2", n)
	}
}

func TestReconnectsAfterDisconnect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sim.Disconnect("refresh_requested")
	h.wait("a new connection", func() bool { return h.sim.Connections() >= 1 })
	h.slash(alice, h.general, "/incident", "open after reconnect")
	if h.sim.ChannelByName("inc-1-after-reconnect") == nil {
		t.Fatal("command after a reconnect was not handled")
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.slash(alice, h.general, "/retro", "start")
	if got := h.lastEphemeral(alice); !strings.Contains(got, "sitrep does not handle `/retro` yet") {
		t.Errorf("answer = %q", got)
	}
}

func TestEventsAreAckedNotRedelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	d, err := h.sim.SendEvent(ctx, map[string]any{"type": "reaction_added", "user": alice, "reaction": "pushpin",
		"item": map[string]any{"type": "message", "channel": h.general, "ts": "1.000001"}})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Acked || d.RetryAttempt != 0 {
		t.Errorf("event delivery = acked %v, retry %d; want acked on the first attempt", d.Acked, d.RetryAttempt)
	}
	if un := h.sim.Unacked(); len(un) != 0 {
		t.Errorf("unacked envelopes: %+v", un)
	}
}

// TestConcurrentOpens fires 50 /incident open commands at once through the
// simulator, on SQLite and on PostgreSQL: numbers 1..50 each once, and 50
// rooms, each ready with its own channel.
func TestConcurrentOpens(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			var opts []harnessOption
			if dialect == "postgres" {
				opts = append(opts, withDatabase(pgtest.URL(t)))
			}
			h := newHarness(t, opts...)
			const n = 50
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
					defer cancel()
					if _, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", fmt.Sprintf("open outage %d sev2", i)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			h.idle()
			list, err := h.store.ListIncidents(h.ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != n {
				t.Fatalf("%d incidents stored, want %d", len(list), n)
			}
			channels := map[string]bool{}
			for i, inc := range list {
				if want := int64(n - i); inc.Number != want {
					t.Fatalf("incident numbers (newest first) break at %d: got INC-%d, want INC-%d", i, inc.Number, want)
				}
				r := h.room(inc.Number)
				if !r.Ready || channels[r.ChannelID] {
					t.Errorf("INC-%d room = %+v: want ready, with a channel of its own", inc.Number, r)
				}
				channels[r.ChannelID] = true
			}
		})
	}
}
