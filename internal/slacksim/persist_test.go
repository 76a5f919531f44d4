package slacksim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// saved is a workspace holding one of every kind of state, the IDs it
// handed out, and the file it was saved to.
type saved struct {
	path                          string
	general, private, inc, old    string
	im, dm                        string
	header, reply, said, chartTS  string
	chart, loose                  string
	channelIDs, fileIDs, allTS    []string
	before                        *slacksim.Sim
	chartBytes, looseBytes        []byte
	viewID                        string
	ephemeralText, groupID, topic string
}

// richWorkspace builds a workspace through the Web API and the drivers, as
// an app and people would, and saves it.
func richWorkspace(t *testing.T) *saved {
	t.Helper()
	sim, general := newSim(t, slacksim.Options{CreateLag: -1})
	api := apiFor(sim)
	ctx := ctxT(t)
	w := &saved{path: filepath.Join(t.TempDir(), "workspace.json"), general: general, before: sim,
		chartBytes: pngBytes, looseBytes: []byte("12:01 paged\n"), topic: "TDO: alice · investigating",
		ephemeralText: "Only you see this", groupID: "S0ONCALL"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sim.AddUser(slacksim.User{ID: "U0CAROL", Name: "carol", RealName: "Carol Shaw", DisplayName: "cshaw", TZ: "Asia/Tokyo"})
	sim.AddUserGroup(slacksim.UserGroup{ID: w.groupID, Handle: "oncall", Name: "On call", Users: []string{alice, "U0CAROL"}})
	_, err := api.SetTopicOfConversation(general, w.topic)
	must(err)

	w.private = sim.AddPrivateChannel("secret", alice, bob)
	sim.Join(w.private, sim.BotUserID())

	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1-db"})
	must(err)
	w.inc = ch.ID
	_, err = api.InviteUsersToConversation(w.inc, alice, bob)
	must(err)
	_, w.header, err = api.PostMessage(w.inc, slack.MsgOptionText("INC-1 db", false),
		slack.MsgOptionBlocks(slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "INC-1 db", false, false))),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "sitrep_header", EventPayload: map[string]any{"incident": 1}}))
	must(err)
	_, _, _, err = api.UpdateMessage(w.inc, w.header, slack.MsgOptionText("INC-1 db is down", false))
	must(err)
	must(api.AddPin(w.inc, slack.ItemRef{Channel: w.inc, Timestamp: w.header}))
	_, w.reply, err = api.PostMessage(w.inc, slack.MsgOptionText("status: identified", false),
		slack.MsgOptionTS(w.header), slack.MsgOptionBroadcast())
	must(err)
	_, err = api.RenameConversation(w.inc, "inc-1-db-down")
	must(err)

	ch, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "old"})
	must(err)
	w.old = ch.ID
	must(api.ArchiveConversation(w.old))

	w.said = sim.Say(alice, general, "hello @bob")
	ch, _, _, err = api.OpenConversation(&slack.OpenConversationParameters{Users: []string{alice}})
	must(err)
	w.im = ch.ID
	_, _, err = api.PostMessage(w.im, slack.MsgOptionText("You are TDO of INC-1", false))
	must(err)
	w.dm = sim.AddDM(alice, bob)
	_, err = api.PostEphemeral(general, alice, slack.MsgOptionText(w.ephemeralText, false))
	must(err)

	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: bytes.NewReader(w.chartBytes),
		Filename: "pareto.png", FileSize: len(w.chartBytes), Channel: w.inc, ThreadTimestamp: w.header, InitialComment: "Pareto"})
	must(err)
	w.chart = sum.ID
	w.chartTS = sim.File(w.chart).MessageTS
	sum, err = api.UploadFileContext(ctx, slack.UploadFileParameters{Content: string(w.looseBytes),
		Filename: "timeline.txt", FileSize: len(w.looseBytes)})
	must(err)
	w.loose = sum.ID

	// A modal open for bob, opened by an app answering his command.
	connect(t, sim, func(a *app, e socketmode.Event) {
		if e.Type == socketmode.EventTypeSlashCommand {
			if _, err := a.api.OpenView(e.Data.(slack.SlashCommand).TriggerID, form()); err != nil {
				t.Errorf("views.open: %v", err)
			}
		}
		if e.Request != nil {
			_ = a.sm.Ack(*e.Request)
		}
	})
	_, err = sim.SlashCommand(ctx, bob, general, "/incident", "open")
	must(err)
	views := sim.OpenViews(bob)
	if len(views) != 1 {
		t.Fatalf("open views = %+v", views)
	}
	w.viewID = views[0].ID

	for _, c := range sim.Channels() {
		w.channelIDs = append(w.channelIDs, c.ID)
		for _, m := range sim.Messages(c.ID) {
			w.allTS = append(w.allTS, m.TS)
		}
	}
	for _, f := range sim.Files("") {
		w.fileIDs = append(w.fileIDs, f.ID)
	}
	must(sim.Save(w.path))
	return w
}

// load starts a simulator on the saved workspace.
func (w *saved) load(t *testing.T) *slacksim.Sim {
	t.Helper()
	sim, err := slacksim.Load(slacksim.Options{StatePath: w.path, CreateLag: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// readBack is everything the read-back methods show of a workspace.
type readBack struct {
	Users      []slacksim.User
	Channels   []slacksim.Channel
	Messages   map[string][]slacksim.Message
	Pins       map[string][]string
	Topics     map[string]string
	Ephemerals map[string][]slacksim.Ephemeral
	Views      map[string][]slacksim.View
	Files      []slacksim.File
	IMs        map[string]string
}

func readAll(sim *slacksim.Sim) readBack {
	rb := readBack{Users: sim.Users(), Channels: sim.Channels(), Files: sim.Files(""),
		Messages: map[string][]slacksim.Message{}, Pins: map[string][]string{}, Topics: map[string]string{},
		Ephemerals: map[string][]slacksim.Ephemeral{}, Views: map[string][]slacksim.View{}, IMs: map[string]string{}}
	for _, c := range rb.Channels {
		rb.Messages[c.ID] = sim.Messages(c.ID)
		rb.Pins[c.ID] = sim.Pins(c.ID)
		rb.Topics[c.ID] = sim.Topic(c.ID)
	}
	for _, u := range rb.Users {
		rb.Ephemerals[u.ID] = sim.Ephemerals(u.ID)
		rb.Views[u.ID] = sim.OpenViews(u.ID)
		rb.IMs[u.ID] = sim.DirectChannel(u.ID)
	}
	return rb
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	w := richWorkspace(t)
	sim := w.load(t)
	if diff := cmp.Diff(readAll(w.before), readAll(sim)); diff != "" {
		t.Fatalf("the loaded workspace differs from the saved one (-saved +loaded):\n%s", diff)
	}
	api := apiFor(sim)
	// Each kind of state, as an app sees it after the load.
	for _, tc := range []struct {
		name  string
		check func() error
	}{
		{"user with display name and time zone", func() error {
			u, err := api.GetUserInfo("U0CAROL")
			if err == nil && (u.Profile.DisplayName != "cshaw" || u.TZ != "Asia/Tokyo") {
				return errors.New("carol is " + u.Profile.DisplayName + " in " + u.TZ)
			}
			return err
		}},
		{"channel topic and members", func() error {
			c, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: w.general})
			if err == nil && (c.Topic.Value != w.topic || c.Topic.Creator != sim.BotUserID()) {
				return errors.New("topic " + c.Topic.Value + " by " + c.Topic.Creator)
			}
			if m := sim.Members(w.general); !slices.Equal(m, []string{alice, sim.BotUserID(), bob}) {
				return errors.New("members " + strings.Join(m, ","))
			}
			return err
		}},
		{"private channel the bot was invited to", func() error {
			c, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: w.private})
			if err == nil && !c.IsPrivate {
				return errors.New("not private")
			}
			return err
		}},
		{"archived channel refuses posts", func() error {
			_, _, err := api.PostMessage(w.old, slack.MsgOptionText("x", false))
			if errCode(err) != "is_archived" {
				return errors.New("posting: " + errCode(err))
			}
			return nil
		}},
		{"renamed channel keeps its new name", func() error {
			if c := sim.ChannelByName("inc-1-db-down"); c == nil || c.ID != w.inc {
				return errors.New("inc-1-db-down not found")
			}
			_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1-db-down"})
			if errCode(err) != "name_taken" {
				return errors.New("creating inc-1-db-down again: " + errCode(err))
			}
			return nil
		}},
		{"edited message with blocks and metadata", func() error {
			h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: w.inc, IncludeAllMetadata: true})
			if err != nil {
				return err
			}
			for _, m := range h.Messages {
				if m.Timestamp == w.header {
					if m.Text != "INC-1 db is down" || m.Edited == nil || m.Metadata.EventType != "sitrep_header" {
						return errors.New("header is " + m.Text)
					}
					return nil
				}
			}
			return errors.New("no header in history")
		}},
		{"thread with a broadcast reply and a file", func() error {
			msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: w.inc, Timestamp: w.header})
			if err == nil && len(msgs) != 3 {
				return fmt.Errorf("thread has %d messages, want the header, the reply and the chart", len(msgs))
			}
			return err
		}},
		{"pins", func() error {
			items, _, err := api.ListPins(w.inc)
			if err == nil && (len(items) != 1 || items[0].Message.Timestamp != w.header) {
				return errors.New("pins differ")
			}
			return err
		}},
		{"the bot's direct message with alice", func() error {
			c, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{alice}})
			if err == nil && c.ID != w.im {
				return errors.New("conversations.open gave " + c.ID + ", not " + w.im)
			}
			return err
		}},
		{"direct message between people", func() error {
			if c := sim.Channel(w.dm); c == nil || !c.IsIM || !slices.Equal(c.Members, []string{alice, bob}) {
				return errors.New("DM lost")
			}
			return nil
		}},
		{"ephemeral", func() error {
			if e := sim.Ephemerals(alice); len(e) != 1 || e[0].Text != w.ephemeralText {
				return errors.New("ephemerals differ")
			}
			return nil
		}},
		{"open modal", func() error {
			if v := sim.OpenViews(bob); len(v) != 1 || v[0].ID != w.viewID || v[0].CallbackID != "incident_open" {
				return errors.New("views differ")
			}
			return nil
		}},
		{"shared file downloads with its bytes", func() error {
			return download(t, sim, w.chart, w.chartBytes)
		}},
		{"file uploaded but not shared", func() error {
			if f := sim.File(w.loose); f == nil || f.Shared || !bytes.Equal(f.Content, w.looseBytes) {
				return errors.New("loose file differs")
			}
			return nil
		}},
		{"user group", func() error {
			users, err := api.GetUserGroupMembers(w.groupID)
			if err == nil && !slices.Equal(users, []string{alice, "U0CAROL"}) {
				return errors.New("members " + strings.Join(users, ","))
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

func download(t *testing.T, sim *slacksim.Sim, id string, want []byte) error {
	t.Helper()
	api := apiFor(sim)
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: sim.File(id).Channel})
	if err != nil {
		return err
	}
	url := ""
	for _, m := range h.Messages {
		for _, f := range m.Files {
			if f.ID == id {
				url = f.URLPrivate
			}
		}
	}
	if url == "" {
		// A file in a thread: find it through the replies.
		f := sim.File(id)
		msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: f.Channel, Timestamp: f.ThreadTS})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			for _, mf := range m.Files {
				if mf.ID == id {
					url = mf.URLPrivate
				}
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+sim.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		return errors.New("downloading " + url + ": " + resp.Status)
	}
	return nil
}

func TestLoadedIDsContinue(t *testing.T) {
	t.Parallel()
	w := richWorkspace(t)
	sim := w.load(t)
	api := apiFor(sim)
	ctx := ctxT(t)
	sim.AddUser(slacksim.User{ID: "U0DAVE", Name: "dave"})
	for _, tc := range []struct {
		name string
		old  []string
		make func() (string, error)
	}{
		{"conversations.create", w.channelIDs, func() (string, error) {
			c, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-2-api"})
			return c.ID, err
		}},
		{"AddChannel", w.channelIDs, func() (string, error) { return sim.AddChannel("ops", alice), nil }},
		{"AddPrivateChannel", w.channelIDs, func() (string, error) { return sim.AddPrivateChannel("hush", bob), nil }},
		{"conversations.open", w.channelIDs, func() (string, error) {
			c, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U0DAVE"}})
			return c.ID, err
		}},
		{"AddDM", w.channelIDs, func() (string, error) { return sim.AddDM(bob, "U0DAVE"), nil }},
		{"files.getUploadURLExternal", w.fileIDs, func() (string, error) {
			s, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "x", Filename: "x.txt", FileSize: 1, Channel: w.general})
			return s.ID, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.make()
			if err != nil {
				t.Fatal(err)
			}
			if id == "" || slices.Contains(tc.old, id) {
				t.Errorf("new ID %q collides with a saved one (%v)", id, tc.old)
			}
		})
	}
	_, ts, err := api.PostMessage(w.general, slack.MsgOptionText("after the load", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range w.allTS {
		if !tsBefore(old, ts) {
			t.Errorf("new message ts %s is not after saved ts %s", ts, old)
		}
	}
}

// tsBefore compares message timestamps "sec.micro" of the same width.
func tsBefore(a, b string) bool {
	return len(a) < len(b) || len(a) == len(b) && a < b
}

func TestLoadRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	w := richWorkspace(t)
	good, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty file", "", "EOF"},
		{"not JSON", "users: [alice]\n", "not valid JSON at byte"},
		{"cut short", string(good[:len(good)/2]), "unexpected EOF"},
		{"newer format", strings.Replace(string(good), `"Version": 1`, `"Version": 2`, 1), "format version 2"},
		{"another team", strings.Replace(string(good), `"TeamID": "T0SIM"`, `"TeamID": "T0OTHER"`, 1), `saved for team "T0OTHER"`},
		{"unknown field", strings.Replace(string(good), `"Version": 1`, `"Version": 1, "Extra": true`, 1), `unknown field "Extra"`},
		{"two workspaces", string(good) + string(good), "more follows the saved workspace"},
		{"channel twice", strings.Replace(string(good), `"ID": "C0003"`, `"ID": "C0001"`, 1), "channel C0001 is saved twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			sim, err := slacksim.Load(slacksim.Options{StatePath: path})
			if err == nil {
				sim.Close()
				t.Fatal("Load accepted it")
			}
			for _, want := range []string{path, tc.want, "move it away to start a new workspace"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Error("a bad file must not read as a missing one")
			}
			if got, _ := os.ReadFile(path); string(got) != tc.content {
				t.Error("Load changed the file")
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "none.json")
		_, err := slacksim.Load(slacksim.Options{StatePath: path})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no saved workspace at "+path) {
			t.Errorf("Load of a missing file: %v, want fs.ErrNotExist naming it", err)
		}
	})
	t.Run("no path", func(t *testing.T) {
		if _, err := slacksim.Load(slacksim.Options{}); err == nil || !strings.Contains(err.Error(), "StatePath") {
			t.Errorf("Load without a path: %v", err)
		}
	})
}

func TestAutosave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ws.json")
	sim := slacksim.New(slacksim.Options{StatePath: path})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	sim.AddUser(slacksim.User{ID: alice, Name: "alice"})
	general := sim.AddChannel("general", alice)
	// Saved a moment after the change, while the simulator runs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Wait(ctx, func() bool {
		data, _ := os.ReadFile(path)
		return bytes.Contains(data, []byte(`"general"`))
	}); err != nil {
		t.Fatalf("the workspace was not saved after a change: %v", err)
	}
	sim.Say(alice, general, "last words")
	sim.Close() // saves what came last
	loaded, err := slacksim.Load(slacksim.Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if msgs := loaded.Messages(general); len(msgs) != 1 || msgs[0].Text != "last words" {
		t.Errorf("messages after Close and Load = %+v", msgs)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only ws.json (no temporary files left)", len(entries))
	}
}

func TestFilesDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "files")
	sim, general := newSim(t, slacksim.Options{FilesDir: dir})
	api := apiFor(sim)
	for _, tc := range []struct{ sent, want string }{
		{"pareto.png", "pareto.png"},
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{"INC-1 postmortem (draft).md", "INC-1_postmortem__draft_.md"},
		{"..", "file"},
		{".hidden", "hidden"},
		{"café.txt", "caf_.txt"},
	} {
		t.Run(tc.sent, func(t *testing.T) {
			content := []byte("bytes of " + tc.sent)
			sum, err := api.UploadFileContext(ctxT(t), slack.UploadFileParameters{Reader: bytes.NewReader(content),
				Filename: tc.sent, FileSize: len(content), Channel: general})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, sum.ID+"-"+tc.want)
			f := sim.File(sum.ID)
			if f.Path != want || f.Name != tc.sent {
				t.Errorf("file %s: Path %q, Name %q; want Path %q and the name as sent", sum.ID, f.Path, f.Name, want)
			}
			if m := sim.Message(general, f.MessageTS); m == nil || len(m.Files) != 1 || m.Files[0].Path != want {
				t.Errorf("the message's file does not say where it was written: %+v", m)
			}
			got, err := os.ReadFile(want)
			if err != nil || !bytes.Equal(got, content) {
				t.Errorf("reading %s: %q, %v", want, got, err)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 7 {
		t.Errorf("%s holds %d entries (%v), want the 7 uploads and nothing beside", dir, len(entries), err)
	}
}

func FuzzSafeFileName(f *testing.F) {
	for _, s := range []string{"pareto.png", "../x", `a\b`, "..", ".", "", "/", strings.Repeat("a", 300) + ".png", "x\x00y", "名前.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := slacksim.SafeFileName(name)
		if got == "" || len(got) > 100 || strings.HasPrefix(got, ".") || strings.ContainsAny(got, "/\\\x00") {
			t.Fatalf("SafeFileName(%q) = %q", name, got)
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
				t.Fatalf("SafeFileName(%q) = %q holds %q", name, got, r)
			}
		}
		dir := "/srv/files"
		if p := filepath.Join(dir, "F0001-"+got); filepath.Dir(p) != dir {
			t.Fatalf("F0001-%s escapes %s: %s", got, dir, p)
		}
	})
}

func TestWaitQuiet(t *testing.T) {
	t.Parallel()
	sim, general := newSim(t, slacksim.Options{})
	api := apiFor(sim)
	// An app posting three messages, one after another: WaitQuiet returns
	// after the last, not between them.
	go func() {
		for _, text := range []string{"one", "two", "three"} {
			time.Sleep(20 * time.Millisecond)
			_, _, _ = api.PostMessage(general, slack.MsgOptionText(text, false))
		}
	}()
	if err := sim.WaitQuiet(ctxT(t), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Messages(general)); n != 3 {
		t.Errorf("WaitQuiet returned with %d of 3 messages posted", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sim.WaitQuiet(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitQuiet after ctx ended = %v", err)
	}
}
