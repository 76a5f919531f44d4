package slacksim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// nodeApp is app.mjs (internal/slacksim/nodeclient) running under node:
// Slack's official @slack/socket-mode and @slack/web-api clients talking to
// the simulator.
type nodeApp struct {
	t      *testing.T
	stdin  io.WriteCloser
	lines  chan string   // stdout, one line each; closed at EOF
	exited chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's error, set before exited is closed

	mu     sync.Mutex
	seen   []string
	stderr bytes.Buffer
}

// lockedWriter serialises writes into the app's stderr buffer.
type lockedWriter struct{ a *nodeApp }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	return w.a.stderr.Write(p)
}

// nodeClientDir is the folder holding package.json and app.mjs.
const nodeClientDir = "nodeclient"

// ensureNodeModules skips the test when node or npm is missing, and runs
// npm ci when node_modules is not there yet. Under CI=true a failing
// npm ci fails the test instead of skipping it.
func ensureNodeModules(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH, so Slack's official Node clients cannot be run against the simulator (install Node.js and npm to run this test)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(nodeClientDir, "node_modules")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeClientDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("npm ci in %s failed: %v\n%s", nodeClientDir, err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// startNodeApp runs app.mjs against sim until ctx ends or the test is
// cleaned up, whichever comes first.
func startNodeApp(ctx context.Context, t *testing.T, sim *slacksim.Sim) *nodeApp {
	t.Helper()
	a := &nodeApp{t: t, lines: make(chan string, 1024), exited: make(chan struct{})}
	cmd := exec.CommandContext(ctx, "node", "app.mjs")
	cmd.Dir = nodeClientDir
	cmd.Env = append(os.Environ(),
		"SLACK_API_URL="+sim.APIURL(),
		"SLACK_BOT_TOKEN="+sim.BotToken(),
		"SLACK_APP_TOKEN="+sim.AppToken(),
	)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	cmd.Stderr = lockedWriter{a}
	// Stdout goes through an io.Pipe so that Wait returns only once all of
	// it has been copied; closing the writer after Wait ends the scan.
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	var err error
	a.stdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(a.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			a.mu.Lock()
			a.seen = append(a.seen, line)
			a.mu.Unlock()
			select {
			case a.lines <- line:
			default: // nobody is reading that far behind; never block the app
			}
		}
	}()
	go func() {
		a.err = cmd.Wait()
		_ = stdoutW.Close()
		close(a.exited)
	}()
	t.Cleanup(func() {
		_ = a.stdin.Close() // app.mjs stops when its stdin closes
		select {
		case <-a.exited:
		case <-time.After(3 * time.Second):
			t.Errorf("app.mjs did not exit within 3s of its stdin closing; killing it")
		}
		_ = cmd.Process.Kill() // a no-op once it has exited
		<-a.exited
		a.mu.Lock()
		defer a.mu.Unlock()
		if t.Failed() {
			t.Logf("app.mjs stdout:\n%s", strings.Join(a.seen, "\n"))
			t.Logf("app.mjs stderr:\n%s", a.stderr.String())
		}
	})
	return a
}

// expect reads stdout lines until one starts with prefix and returns it.
// A line starting with "error" fails the test at once.
func (a *nodeApp) expect(ctx context.Context, prefix string) string {
	a.t.Helper()
	for {
		select {
		case line, ok := <-a.lines:
			if !ok {
				a.t.Fatalf("app.mjs exited while the test waited for %q", prefix)
			}
			if strings.HasPrefix(line, "error") {
				a.t.Fatalf("app.mjs: %s", line)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-ctx.Done():
			a.t.Fatalf("waiting for app.mjs to print %q: %v", prefix, ctx.Err())
		}
	}
}

// stop closes the app's stdin and waits for it to exit with status 0.
func (a *nodeApp) stop(ctx context.Context) {
	a.t.Helper()
	if err := a.stdin.Close(); err != nil {
		a.t.Fatal(err)
	}
	select {
	case <-a.exited:
		if a.err != nil {
			a.t.Errorf("app.mjs exited with %v", a.err)
		}
	case <-ctx.Done():
		a.t.Fatalf("app.mjs did not exit after its stdin closed: %v", ctx.Err())
	}
}

// send writes one command line to the app's stdin.
func (a *nodeApp) send(line string) {
	a.t.Helper()
	if _, err := io.WriteString(a.stdin, line+"\n"); err != nil {
		a.t.Fatal(err)
	}
}

// TestOfficialNodeClients connects Slack's own Node clients to the
// simulator and drives through them a slash command answered with a
// message and a button, one answered in its ack, a Socket Mode refresh (disconnect, reconnect), a
// click on the button answered with chat.update, a plain chat.postMessage
// and a files.uploadV2; then it checks what the workspace holds.
func TestOfficialNodeClients(t *testing.T) {
	ensureNodeModules(t)
	sim, general := newSim(t, slacksim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := startNodeApp(ctx, t, sim)
	a.expect(ctx, "connected")
	if n := sim.Connections(); n != 1 {
		t.Fatalf("%d socket mode connections, want 1", n)
	}

	// (1) A slash command, acked and answered with chat.postMessage.
	cmd, err := sim.SlashCommand(ctx, alice, general, "/incident", "open db is down")
	if err != nil {
		t.Fatal(err)
	}
	a.expect(ctx, "slash_command /incident "+general)
	posted := strings.Fields(a.expect(ctx, "posted"))
	if len(posted) != 3 || posted[1] != general {
		t.Fatalf("app.mjs printed %q", posted)
	}
	ts := posted[2]
	msg := sim.Message(general, ts)
	if msg == nil {
		t.Fatalf("no message %s in #general", ts)
	}
	if msg.User != sim.BotUserID() || msg.Text != "Incident opened: open db is down" {
		t.Errorf("posted message = %+v", msg)
	}
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
		t.Fatalf("blocks %s: %v", msg.Blocks, err)
	}
	if len(blocks) != 2 || blocks[0].Type != "section" || blocks[1].Type != "actions" ||
		len(blocks[1].Elements) != 1 || blocks[1].Elements[0].Type != "button" ||
		blocks[1].Elements[0].ActionID != "ack_button" || blocks[1].Elements[0].Value != "ack" {
		t.Errorf("posted blocks = %s", msg.Blocks)
	}

	// (1b) A slash command answered in the ack itself: ack("Usage: …")
	// shows the response to the user who typed it.
	help, err := sim.SlashCommand(ctx, alice, general, "/incident", "help")
	if err != nil {
		t.Fatal(err)
	}
	a.expect(ctx, "helped /incident "+alice)
	if eph := sim.Ephemerals(alice); len(eph) != 1 || eph[0].Text != "Usage: /incident <summary>" || eph[0].Channel != general {
		t.Errorf("alice sees %+v, want the usage", eph)
	}

	// A refresh: Slack's disconnect frame, then the client reconnects
	// through apps.connections.open by itself (after its own back-off).
	opens := sim.Calls("apps.connections.open")
	sim.Disconnect("refresh_requested")
	a.expect(ctx, "reconnecting")
	a.expect(ctx, "connected")
	if got := sim.Calls("apps.connections.open"); got != opens+1 {
		t.Errorf("apps.connections.open called %d times for the reconnect, want 1", got-opens)
	}

	// (2) A click on the button, acked and answered with chat.update, over
	// the new connection.
	click, err := sim.Click(ctx, bob, general, ts, "ack_button", "")
	if err != nil {
		t.Fatal(err)
	}
	a.expect(ctx, "clicked ack_button ack "+bob)
	a.expect(ctx, "updated "+general+" "+ts)
	msg = sim.Message(general, ts)
	if msg == nil || !msg.Edited || msg.UpdatedCount != 1 || msg.Text != "Acknowledged by <@"+bob+">" {
		t.Errorf("updated message = %+v", msg)
	}
	if msg != nil && strings.Contains(string(msg.Blocks), "ack_button") {
		t.Errorf("updated message still has the button: %s", msg.Blocks)
	}

	// (3) A plain chat.postMessage.
	a.send("post " + general + " all clear")
	plain := strings.Fields(a.expect(ctx, "posted"))
	if len(plain) != 3 || plain[1] != general {
		t.Fatalf("app.mjs printed %q", plain)
	}
	if m := sim.Message(general, plain[2]); m == nil || m.Text != "all clear" || m.Blocks != nil || m.User != sim.BotUserID() {
		t.Errorf("plain message = %+v", m)
	}

	// (4) files.uploadV2: getUploadURLExternal, the upload, then
	// completeUploadExternal sharing the file into the channel.
	a.send("upload " + general + " notes.txt root cause: full disk")
	fileID := strings.TrimPrefix(a.expect(ctx, "uploaded "), "uploaded ")
	f := sim.File(fileID)
	if f == nil || string(f.Content) != "root cause: full disk" || !f.Shared || f.Channel != general || f.Name != "notes.txt" {
		t.Errorf("uploaded file = %+v", f)
	} else if m := sim.Message(general, f.MessageTS); m == nil || m.Text != "Here is notes.txt" || len(m.Files) != 1 {
		t.Errorf("file message = %+v", m)
	}
	if got := len(sim.Messages(general)); got != 3 {
		t.Errorf("#general holds %d messages, want 3", got)
	}

	// Every envelope was acked in time; a plain ack (@slack/socket-mode
	// sends "payload":{}) has no payload.
	ds := sim.Deliveries()
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3: %+v", len(ds), ds)
	}
	for i, want := range []struct{ id, typ, payload string }{
		{cmd.EnvelopeID, slacksim.TypeSlashCommands, ""},
		{help.EnvelopeID, slacksim.TypeSlashCommands, `{"text":"Usage: /incident <summary>"}`},
		{click.EnvelopeID, slacksim.TypeInteractive, ""},
	} {
		d := ds[i]
		if d.EnvelopeID != want.id || d.Type != want.typ || !d.Acked || d.Late || string(d.AckPayload) != want.payload {
			t.Errorf("delivery %d: %s %s acked %v late %v ack payload %q; want %s %s acked with payload %q",
				i, d.Type, d.EnvelopeID, d.Acked, d.Late, d.AckPayload, want.typ, want.id, want.payload)
		}
	}
	if u := sim.Unacked(); len(u) != 0 {
		t.Errorf("%d envelopes were not acked in time", len(u))
	}
	if errs := sim.BlockKitErrors(); len(errs) != 0 {
		t.Errorf("Block Kit errors: %v", errs)
	}
	// The client answered the simulator's pings and got pongs to its own
	// (it drops a connection whose pongs stop), so it connected only twice.
	if got := sim.Calls("apps.connections.open"); got != 2 {
		t.Errorf("apps.connections.open called %d times, want 2 (start and refresh)", got)
	}

	// The app disconnects cleanly and exits 0 when its stdin closes.
	a.stop(ctx)
	if err := sim.Wait(ctx, func() bool { return sim.Connections() == 0 }); err != nil {
		t.Errorf("the app's connection stayed open: %v", err)
	}
}
