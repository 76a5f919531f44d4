package bot_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// These tests hold sitrep to "nothing doubled": every message a job or a
// command posts carries Slack message metadata (what it is and which one),
// and a post that may have happened already (its answer lost, or its job
// retried after it posted but before it recorded so) finds that message
// instead of posting again.

// newOnceHarness is a harness whose simulated Slack stamps messages with
// the bot's fake clock: a look back from when a job began (the bot's time)
// must find what Slack stamped then (Slack's time), as in production where
// both clocks are the real one.
func newOnceHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	fake := clock.NewFake(epoch)
	return newHarness(t, append([]harnessOption{withClock(fake), withSimOptions(slacksim.Options{Now: fake.Now})}, opts...)...)
}

// marked returns the messages of channel, thread replies included, whose
// metadata says they are of kind.
func (h *harness) marked(channel, kind string) []slacksim.Message {
	var out []slacksim.Message
	for _, m := range h.sim.Messages(channel) {
		if m.Metadata != nil && m.Metadata.EventType == kind {
			out = append(out, m)
		}
	}
	return out
}

// only returns the one message of kind in channel, failing if there are
// none or several.
func (h *harness) only(channel, kind string) slacksim.Message {
	h.t.Helper()
	msgs := h.marked(channel, kind)
	if len(msgs) != 1 {
		h.t.Fatalf("%d %s messages in %s, want 1", len(msgs), kind, channel)
	}
	return msgs[0]
}

// lookups counts the Web API calls sitrep makes to read back what it did.
func (h *harness) lookups() int {
	return h.sim.Calls("conversations.history") + h.sim.Calls("conversations.replies") + h.sim.Calls("conversations.open")
}

// eventTypeGuideline is Slack's guideline for a metadata event_type.
var eventTypeGuideline = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkNothingDoubled fails if any channel holds two messages with the
// same metadata (kind and key), or two files of the same name and title.
func (h *harness) checkNothingDoubled() {
	h.t.Helper()
	for _, ch := range h.sim.Channels() {
		seen := map[string]string{}
		for _, m := range h.sim.Messages(ch.ID) {
			if m.Metadata == nil {
				if m.User == h.sim.BotUserID() && len(m.Files) == 0 {
					h.t.Errorf("a message in %s carries no metadata: %q", ch.Name, m.Text)
				}
				continue
			}
			if !eventTypeGuideline.MatchString(m.Metadata.EventType) {
				h.t.Errorf("event_type %q breaks Slack's guideline (a-z first, then a-z, 0-9, _)", m.Metadata.EventType)
			}
			var p struct {
				Key string `json:"key"`
			}
			if err := json.Unmarshal(m.Metadata.EventPayload, &p); err != nil || p.Key == "" {
				h.t.Errorf("%s message %s has payload %s, want a key", m.Metadata.EventType, m.TS, m.Metadata.EventPayload)
			}
			id := m.Metadata.EventType + " " + p.Key
			if first, dup := seen[id]; dup {
				h.t.Errorf("%s posted twice in %s: %s and %s", id, ch.Name, first, m.TS)
			}
			seen[id] = m.TS
		}
		files := map[string]bool{}
		for _, f := range h.sim.Files(ch.ID) {
			id := f.ThreadTS + " " + f.Name + " " + f.Title
			if files[id] {
				h.t.Errorf("%s (%s) uploaded twice in %s", f.Name, f.Title, ch.Name)
			}
			files[id] = true
		}
	}
}

// onceStep is one thing sitrep is asked to do in TestEveryEffectOnce.
type onceStep struct {
	name string
	act  func(h *harness)
	// posts and uploads are how many messages the step posts and files it
	// shares; a lost-answer run loses every one's answer.
	posts, uploads int
	// retry, when set, is the read-back method the step's first post (made
	// by a job) calls first: a retried run loses that post's answer and
	// makes the look fail, so the job fails and its next attempt must
	// find the post.
	retry string
	// want lists the kinds of message the step posts and in which channel,
	// each exactly once.
	want []wantPost
	// check checks what the store recorded of the posts.
	check func(h *harness)
}

type wantPost struct {
	where func(h *harness) string
	kind  string
	n     int
}

// Where the posts go.
var (
	inRoom = func(h *harness) string {
		if inc, err := h.store.IncidentByNumber(h.ctx, 1); err == nil {
			if r, err := h.store.Room(h.ctx, inc.ID); err == nil {
				return r.ChannelID
			}
		}
		return ""
	}
	inIncidents = named("incidents")
	inGeneral   = func(h *harness) string { return h.general }
	inBobsDM    = func(h *harness) string { return h.sim.DirectChannel(bob) }
	inOps       = named("ops")
	inReview    = named("ops-review")
)

// named is the channel called name ("" until it exists).
func named(name string) func(h *harness) string {
	return func(h *harness) string {
		if ch := h.sim.ChannelByName(name); ch != nil {
			return ch.ID
		}
		return ""
	}
}

func once(where func(*harness) string, kind string) wantPost { return wantPost{where, kind, 1} }

// none expects no message of kind.
func none(where func(*harness) string, kind string) wantPost { return wantPost{where, kind, 0} }

// onceSteps walks through every kind of post: a room set up, a hand-off,
// the clock, a status change, a checklist (start, reminder, summary), a
// postmortem and an action notice, a change to the record, the Pareto chart
// and the postmortem export, the close, a rotation hand-off and the
// operations review with its charts.
func onceSteps() []onceStep {
	return []onceStep{
		{name: "room set-up", act: func(h *harness) { h.slash(alice, h.general, "/incident", "open db is down sev1 systems:db") },
			posts: 2, retry: "conversations.history",
			// The header carries "what changed?" and the plan of attack.
			want: []wantPost{once(inRoom, "sitrep_header"), none(inRoom, "sitrep_what_changed"), none(inRoom, "sitrep_plan"),
				once(inIncidents, "sitrep_announcement")},
			check: func(h *harness) {
				r := h.room(1)
				if !r.Ready {
					h.t.Fatalf("room not ready: %+v", r)
				}
				for field, m := range map[string]struct{ got, want string }{
					"header":       {r.HeaderTS, h.only(r.ChannelID, "sitrep_header").TS},
					"what changed": {r.ChangesTS, h.only(r.ChannelID, "sitrep_header").TS},
					"plan":         {r.PlanTS, h.only(r.ChannelID, "sitrep_header").TS},
					"announcement": {r.AnnouncementTS, h.only(inIncidents(h), "sitrep_announcement").TS},
				} {
					if m.got != m.want {
						h.t.Errorf("the room records the %s as %s, but it is %s", field, m.got, m.want)
					}
				}
				if pins := h.sim.Pins(r.ChannelID); len(pins) != 1 || pins[0] != r.HeaderTS {
					h.t.Errorf("pins %v, want the header %s", pins, r.HeaderTS)
				}
				told := 0
				for _, e := range h.ephemeralTexts(alice) {
					if strings.Contains(e, "INC-1 is open: <#"+r.ChannelID+">") {
						told++
					}
				}
				if told != 1 {
					h.t.Errorf("the reporter was told %d times that the room is ready", told)
				}
				h.sim.Join(r.ChannelID, bob)
			}},
		{name: "hand-off", act: func(h *harness) { h.slash(alice, inRoom(h), "/incident", "tdo <@U0BOB> knows the db") },
			posts: 2, retry: "conversations.history",
			want: []wantPost{once(inRoom, "sitrep_people"), once(inBobsDM, "sitrep_brief")}},
		{name: "clock warning", act: func(h *harness) {
			h.clock.Set(time.Date(2026, 11, 24, 3, 12, 10, 0, time.UTC)) // the warning is due at 03:12:05
			h.sweep()
			h.sweep()
		}, posts: 1, retry: "conversations.history", want: []wantPost{once(inRoom, "sitrep_timebox")}},
		{name: "clock expiry", act: func(h *harness) {
			h.clock.Set(time.Date(2026, 11, 24, 3, 14, 10, 0, time.UTC)) // the deadline is 03:14:05
			h.sweep()
			h.sweep()
		}, posts: 1, retry: "conversations.history", want: []wantPost{once(inRoom, "sitrep_timebox")}},
		{name: "status change", act: func(h *harness) { h.slash(bob, inRoom(h), "/incident", "status identified replica lag") },
			posts: 2, retry: "conversations.history",
			want: []wantPost{once(inRoom, "sitrep_status"), once(inIncidents, "sitrep_status_update")},
			check: func(h *harness) {
				// The header found after a lost answer is the one updated.
				if m := h.only(inRoom(h), "sitrep_header"); m.UpdatedCount == 0 || !strings.Contains(plainJSON(h.t, m.Blocks), "Identified") {
					h.t.Errorf("the header was not updated: %d updates", m.UpdatedCount)
				}
			}},
		{name: "checklist start", act: func(h *harness) { h.slash(alice, h.general, "/checklist", "start web-release v2.15.0") },
			posts: 1, retry: "conversations.history", want: []wantPost{once(inGeneral, "sitrep_checklist")},
			check: func(h *harness) {
				m := h.only(h.general, "sitrep_checklist")
				if run, err := h.store.Run(h.ctx, 1); err != nil || run.MessageTS != m.TS {
					h.t.Fatalf("CL-1 records its message as %+v (%v), but it is %s", run, err, m.TS)
				}
				h.tickBoxes(bob, 1, 0)
				if m := h.sim.Message(h.general, m.TS); m.UpdatedCount == 0 || !strings.Contains(m.Text, "1 of 10") {
					h.t.Errorf("the tick did not reach the checklist message: %q, %d updates", m.Text, m.UpdatedCount)
				}
			}},
		{name: "checklist reminder", act: func(h *harness) {
			h.clock.Advance(16 * time.Minute)
			h.sweep()
			h.sweep()
		}, posts: 1, retry: "conversations.replies", want: []wantPost{once(inGeneral, "sitrep_reminder")},
			check: func(h *harness) {
				if m := h.only(h.general, "sitrep_reminder"); m.ThreadTS != h.only(h.general, "sitrep_checklist").TS {
					h.t.Errorf("the reminder is not in the checklist's thread: %+v", m)
				}
			}},
		{name: "checklist summary", act: func(h *harness) { h.slash(alice, h.general, "/checklist", "abort CL-1 rolled back") },
			posts: 1, retry: "conversations.replies", want: []wantPost{once(inGeneral, "sitrep_checklist_summary")},
			check: func(h *harness) {
				if m := h.only(h.general, "sitrep_checklist_summary"); !m.Broadcast || m.ThreadTS != h.only(h.general, "sitrep_checklist").TS {
					h.t.Errorf("the summary is not in the checklist's thread and the channel: %+v", m)
				}
			}},
		{name: "restored", act: func(h *harness) { h.slash(bob, inRoom(h), "/incident", "status restored failed over") },
			posts: 2, want: []wantPost{once(inRoom, "sitrep_status"), once(inIncidents, "sitrep_status_update")}},
		{name: "postmortem", act: func(h *harness) { h.slash(alice, inRoom(h), "/postmortem", "start") },
			posts: 1, retry: "conversations.history", want: []wantPost{once(inRoom, "sitrep_postmortem")},
			check: func(h *harness) {
				m := h.only(inRoom(h), "sitrep_postmortem")
				if pm := h.pm(); pm.MessageTS != m.TS {
					h.t.Fatalf("the postmortem records its message as %s, but it is %s", pm.MessageTS, m.TS)
				}
				h.slash(alice, inRoom(h), "/postmortem", "next")
				if m := h.sim.Message(inRoom(h), m.TS); m.UpdatedCount == 0 || !strings.Contains(plainJSON(h.t, m.Blocks), "Phase 2 of 3") {
					h.t.Errorf("the next phase did not reach the postmortem message: %d updates", m.UpdatedCount)
				}
				h.slash(alice, inRoom(h), "/postmortem", "issue failover by hand")
				h.slash(alice, inRoom(h), "/postmortem", "next")
				h.slash(alice, inRoom(h), "/postmortem", "action")
			}},
		{name: "action notice", act: func(h *harness) {
			h.submit(alice, h.openView(alice, "pm_action").ID, map[string]map[string]string{"pm_issue": {"pm_issue": "1"},
				"pm_owner": {"pm_owner": bob}, "pm_expected": {"pm_expected": "failover is one command"}, "pm_due": {"pm_due": "2026-12-01"}})
		}, posts: 1, retry: "conversations.open", want: []wantPost{once(inBobsDM, "sitrep_action_notice")}},
		{name: "problem ranked", act: func(h *harness) {
			h.slash(alice, h.general, "/problem", "new Pool too small")
			h.slash(alice, inRoom(h), "/incident", "link PRB-1")
		}, want: []wantPost{once(inGeneral, "sitrep_answer"), once(inRoom, "sitrep_annotation")}},
		{name: "pareto chart", act: func(h *harness) { h.slash(bob, h.general, "/problem", "pareto") },
			posts: 1, uploads: 1, want: []wantPost{once(inGeneral, "sitrep_answer")},
			check: func(h *harness) {
				answers := h.marked(h.general, "sitrep_answer") // PRB-1 opened, then the table
				table := answers[len(answers)-1]
				if files := h.sim.Files(h.general); len(files) != 1 || files[0].ThreadTS != table.TS {
					h.t.Errorf("chart files %+v, want one in the table's thread", files)
				}
			}},
		{name: "postmortem export", act: func(h *harness) { h.slash(alice, inRoom(h), "/postmortem", "export") },
			uploads: 1,
			check: func(h *harness) {
				if files := h.sim.Files(inRoom(h)); len(files) != 1 || files[0].Name != "postmortem-INC-1.md" {
					h.t.Errorf("exported files %+v, want one", files)
				}
			}},
		{name: "resolved", act: func(h *harness) { h.slash(bob, inRoom(h), "/incident", "status resolved") },
			posts: 2, want: []wantPost{once(inRoom, "sitrep_status"), once(inIncidents, "sitrep_status_update")}},
		{name: "close", act: func(h *harness) { h.slash(bob, inRoom(h), "/incident", "close") },
			posts: 2, retry: "conversations.history", want: []wantPost{once(inRoom, "sitrep_summary"), once(inIncidents, "sitrep_closed")}},
		{name: "rotation hand-off", act: func(h *harness) {
			h.clock.Set(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
			if _, err := h.bot.CheckRotations(h.ctx); err != nil {
				h.t.Fatal(err)
			}
		}, posts: 1, want: []wantPost{once(inOps, "sitrep_rotation_handoff")}},
		{name: "operations review", act: func(h *harness) {
			if _, err := h.bot.CheckOpsReview(h.ctx); err != nil {
				h.t.Fatal(err)
			}
			h.sweep()
		}, posts: 1, uploads: 2, retry: "conversations.history", want: []wantPost{once(inReview, "sitrep_review")},
			check: func(h *harness) {
				review := h.only(inReview(h), "sitrep_review")
				files := h.sim.Files(inReview(h))
				if len(files) != 2 || files[0].ThreadTS != review.TS || files[1].ThreadTS != review.TS {
					h.t.Errorf("review charts %+v, want two in the review's thread", files)
				}
			}},
	}
}

// TestEveryEffectOnce runs every kind of post three ways: on a first
// attempt (which reads nothing back), with every answer lost after Slack
// acted (each post finds itself before retrying), and with the job retried
// after its post took effect unrecorded (its next attempt finds the post).
// Each leaves exactly one message, and the store records its ts.
func TestEveryEffectOnce(t *testing.T) {
	t.Parallel()
	daily, err := cron.ParseStandard("CRON_TZ=UTC 0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	rotation := incident.Rotation{Name: "db", Members: []string{alice, bob}, Schedule: daily,
		Start: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	for _, mode := range []string{"first attempt", "answers lost", "job retried"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newOnceHarness(t, withPlans(dbPlans), withRotations(rotation), withBotConfig(bot.Config{OpsReviewSchedule: daily}))
			for _, step := range onceSteps() {
				before := make([]int, len(step.want))
				for i, w := range step.want {
					before[i] = len(h.marked(w.where(h), w.kind))
				}
				lookupsBefore, retryBefore := h.lookups(), h.sim.Calls(step.retry)
				retried := mode == "job retried" && step.retry != ""
				switch {
				case mode == "answers lost":
					h.sim.LoseAnswers("chat.postMessage", step.posts)
					h.sim.LoseAnswers("files.completeUploadExternal", step.uploads)
				case retried:
					h.sim.LoseAnswers("chat.postMessage", 1)
					h.sim.FailNext(step.retry, 1, http.StatusBadRequest)
				}
				step.act(h)
				if retried {
					h.clock.Advance(10 * time.Second) // past the job's back-off
					h.sweep()
				}
				for i, w := range step.want {
					if got := len(h.marked(w.where(h), w.kind)) - before[i]; got != w.n {
						t.Errorf("%s: %d new %s messages, want %d", step.name, got, w.kind, w.n)
					}
				}
				switch lookups := h.lookups() - lookupsBefore; {
				case mode == "first attempt" && lookups != 0:
					t.Errorf("%s: a first attempt read back %d times", step.name, lookups)
				case mode == "answers lost" && step.posts+step.uploads > 0 && lookups == 0:
					t.Errorf("%s: lost answers were not looked for", step.name)
				case retried && h.sim.Calls(step.retry)-retryBefore < 2:
					t.Errorf("%s: the job's next attempt did not look (%d calls of %s)", step.name, h.sim.Calls(step.retry)-retryBefore, step.retry)
				}
				if step.check != nil {
					step.check(h)
				}
				if t.Failed() {
					t.Fatalf("stopped after %s", step.name)
				}
			}
			h.checkNothingDoubled()
		})
	}
}

// TestReporterToldOnceWhenRecordingFails: telling the reporter the room is
// ready is an ephemeral answer, which cannot be looked up in Slack, so the
// step is recorded before the answer goes out, in the room's final save.
// Here that save fails once (the store refuses the write): only the
// channel is recorded, the reporter hears nothing from that attempt, and
// the retry redoes the other steps without doubling any (each finds its
// earlier effect) and tells the reporter exactly once.
func TestReporterToldOnceWhenRecordingFails(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sitrep.db")
	h := newOnceHarness(t, withDatabase("sqlite:"+file))
	db, err := sql.Open("sqlite", file+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// While the row is there, a room may not record the notify step.
	for _, stmt := range []string{
		`CREATE TABLE test_refuse_notify (x INTEGER)`,
		`INSERT INTO test_refuse_notify VALUES (1)`,
		`CREATE TRIGGER test_refuse_notify BEFORE UPDATE ON incident_rooms
		 WHEN ',' || NEW.done || ',' LIKE '%,notify,%' AND ',' || OLD.done || ',' NOT LIKE '%,notify,%'
		   AND EXISTS (SELECT 1 FROM test_refuse_notify)
		 BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`,
	} {
		if _, err := db.ExecContext(h.ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	told := func() int {
		n := 0
		for _, e := range h.ephemeralTexts(alice) {
			if strings.Contains(e, "INC-1 is open") {
				n++
			}
		}
		return n
	}

	h.slash(alice, h.general, "/incident", "open db is down")
	if r := h.room(1); r.Ready || r.Did("notify") || !r.Did("channel") || r.Did("announce") {
		t.Fatalf("room after the refused write: %+v, want the channel alone recorded", r)
	}
	if n := told(); n != 0 {
		t.Fatalf("the reporter was told %d times before the step was recorded", n)
	}
	if _, err := db.ExecContext(h.ctx, `DELETE FROM test_refuse_notify`); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	h.sweep()
	if r := h.room(1); !r.Ready {
		t.Fatalf("room after the retry: %+v", r)
	}
	h.sweep()
	if n := told(); n != 1 {
		t.Errorf("the reporter was told %d times, want once", n)
	}
	h.checkNothingDoubled()
}
