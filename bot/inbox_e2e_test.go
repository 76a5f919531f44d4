package bot_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sitrep/sitrep/internal/inbox"
)

// TestEnvelopeIsRecordedAndFinished: a handled command is in the inbox as
// Slack sent it, marked done.
func TestEnvelopeIsRecordedAndFinished(t *testing.T) {
	h := newHarness(t)
	d := h.slash(alice, h.general, "/incident", "open recorded & kept sev2")
	env, err := h.store.Envelope(h.ctx, "cmd:"+d.TriggerID)
	if err != nil {
		t.Fatalf("the command is not in the inbox: %v", err)
	}
	if env.State != inbox.StateDone || env.Type != "slash_commands" || env.EnvelopeID != d.EnvelopeID || string(env.Payload) != string(d.Payload) {
		t.Errorf("inbox row = %s %s %s %s, want done slash_commands %s with the payload as sent", env.State, env.Type, env.EnvelopeID, env.Payload, d.EnvelopeID)
	}
}

// TestUnrecordedCommandIsAnsweredInItsAck: while the database cannot be
// written, a command is acknowledged with an answer that says nothing was
// done, names no internal detail, and nothing is done; once the database
// is back the same command works.
func TestUnrecordedCommandIsAnsweredInItsAck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sitrep.db")
	h := newHarness(t, withDatabase("sqlite:"+path))
	// Another process holds the write lock of SQLite's inbox file
	// (sitrep.inbox.db, beside the database): sitrep cannot record.
	locker, err := sql.Open("sqlite", "file:"+filepath.Join(filepath.Dir(path), "sitrep.inbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(h.ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	d, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", "open while the database is locked sev1")
	if err != nil || !d.Acked {
		t.Fatalf("command not acked: %v", err)
	}
	var ack struct{ Text, ResponseType string }
	_ = json.Unmarshal(d.AckPayload, &ack)
	if !strings.Contains(ack.Text, "could not record this") || !strings.Contains(ack.Text, "Nothing was done") {
		t.Errorf("ack payload = %s, want the could-not-record answer", d.AckPayload)
	}
	if got := h.lastEphemeral(alice); !strings.Contains(got, "could not record this") {
		t.Errorf("alice saw %q, want the could-not-record answer", got)
	}
	for _, bad := range []string{"database is locked", "SQLITE", "sqlite", "busy", "context deadline"} {
		if strings.Contains(string(d.AckPayload), bad) {
			t.Errorf("the answer names an internal detail %q: %s", bad, d.AckPayload)
		}
	}
	if _, err := conn.ExecContext(h.ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	h.idle()
	if n := h.incidentCount(); n != 0 {
		t.Fatalf("%d incidents opened from an unrecorded command, want 0", n)
	}
	h.slash(alice, h.general, "/incident", "open once the database is back sev1")
	if n := h.incidentCount(); n != 1 {
		t.Fatalf("%d incidents after the database came back, want 1", n)
	}
}

// TestUnfinishedEnvelopeIsHandledAfterRestart: an envelope recorded and
// acknowledged by a run that died before handling it is handled when the
// instance starts again, once.
func TestUnfinishedEnvelopeIsHandledAfterRestart(t *testing.T) {
	h := newHarness(t)
	first := h.slash(alice, h.general, "/incident", "open first sev3")
	h.stop()

	// The envelope the dead run recorded: a command like the first one.
	var payload map[string]any
	if err := json.Unmarshal(first.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	payload["trigger_id"] = "T-recorded-before-the-crash"
	payload["text"] = "open recorded before the crash sev2"
	raw, _ := json.Marshal(payload)
	env := inbox.Envelope{Key: "cmd:T-recorded-before-the-crash", EnvelopeID: "E-crash", Type: "slash_commands", Payload: raw, ReceivedAt: h.clock.Now()}
	if ok, err := h.store.RecordEnvelope(h.ctx, env, h.runner.Instance, h.clock.Now().Add(time.Hour)); err != nil || !ok {
		t.Fatalf("recording: %v %v", ok, err)
	}
	// Another instance's unfinished envelope, still leased, is not taken.
	other := env
	other.Key, other.EnvelopeID = "cmd:T-other-instance", "E-other"
	if _, err := h.store.RecordEnvelope(h.ctx, other, "replica-2", h.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	h.boot()
	h.wait("the recorded command to be handled", func() bool { return h.incidentCount() == 2 })
	h.idle()
	h.wait("the reporter to hear of the room", func() bool {
		return strings.Contains(strings.Join(h.ephemeralTexts(alice), "\n"), "INC-2 is open")
	})
	if got, _ := h.store.Envelope(h.ctx, env.Key); got.State != inbox.StateDone || got.Attempts != 2 {
		t.Errorf("replayed envelope is %s at attempt %d, want done at 2", got.State, got.Attempts)
	}
	if got, _ := h.store.Envelope(h.ctx, other.Key); got.State != inbox.StateReceived || got.Attempts != 1 {
		t.Errorf("another instance's envelope is %s at attempt %d, want untouched", got.State, got.Attempts)
	}
	// A second restart handles nothing again.
	h.restart()
	h.idle()
	if n := h.incidentCount(); n != 2 {
		t.Errorf("%d incidents after a second restart, want 2", n)
	}
}
