package slacksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A workspace can be kept between runs in a JSON file:
//
//   - Save writes the workspace to a file, atomically (a temporary file in
//     the same folder, synced, then renamed over the old one), so a crash
//     leaves the old file or the new one, never half of one.
//   - Load makes a simulator whose workspace is the one saved at
//     Options.StatePath; a missing file is an error wrapping fs.ErrNotExist
//     (call New for a new workspace), a file that is not a saved workspace
//     an error that names it and says what to do.
//   - With Options.StatePath set, a started simulator saves there when it
//     starts, a moment after each change (saveDelay) and once more in
//     Close. An unchanged workspace is not written again.
//
// The file is indented JSON, readable and diffable. Raw JSON the apps sent
// (blocks, views, metadata payloads) is kept as JSON values and reads back
// compact, as slack-go and the Node clients send it.
//
// What is kept: users, channels (name, private, archived, creator, topic,
// members), direct messages, messages (text, blocks, threads, edits,
// metadata, files), pins, ephemeral messages, open modals, files with their
// bytes, user groups, and the ID counters and last message timestamp, so
// that IDs handed out after Load never collide with saved ones.
//
// What is not: connections and deliveries, trigger_ids and response_urls
// (their lifetimes are seconds and minutes, and their URLs name the old
// address), call counters, rate limits, injected faults and BlockKitErrors.
// A channel conversations.create made a moment before the save is visible
// at once after Load.

// stateVersion is the format Save writes; Load refuses any other.
const stateVersion = 1

// saveDelay lets a burst of changes (one command's messages, pins and
// topic) finish before the automatic save writes them.
const saveDelay = 100 * time.Millisecond

type savedState struct {
	Version    int
	TeamID     string
	BotUserID  string
	Counters   savedCounters
	Users      []User
	Channels   []savedChannel
	Ephemerals map[string][]Ephemeral `json:",omitempty"`
	Views      []View                 `json:",omitempty"`
	Files      []savedFile            `json:",omitempty"`
	UserGroups []UserGroup            `json:",omitempty"`
}

type savedCounters struct {
	Channel, IM, DM, View, File int
	// LastSec and LastSeq are the last message timestamp handed out.
	LastSec int64
	LastSeq int
}

type savedChannel struct {
	Channel
	People     []string  `json:",omitempty"`
	TopicSetBy string    `json:",omitempty"`
	TopicSetAt time.Time `json:",omitzero"`
	IMUser     string    `json:",omitempty"`
	Messages   []Message `json:",omitempty"`
	Pins       []string  `json:",omitempty"`
}

type savedFile struct {
	File
	Length    int
	Uploaded  bool
	Completed bool
	Created   int64
}

// Save writes the workspace to path as JSON, atomically: a reader of path
// sees the previous save or this one, never part of one. The folder must
// exist.
func (s *Sim) Save(path string) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	data, err := s.marshalState()
	if err != nil {
		return fmt.Errorf("slacksim: saving the workspace: %w", err)
	}
	if path == s.opts.StatePath && bytes.Equal(data, s.lastSaved) {
		return nil
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("slacksim: saving the workspace to %s: %w", path, err)
	}
	if path == s.opts.StatePath {
		s.lastSaved = data
	}
	return nil
}

// marshalState renders the workspace as a saved state. The workspace is
// locked only while it is copied; it is rendered after. The copy shares
// what the simulator never changes in place: the bytes of blocks, views,
// metadata and files, which a change replaces whole.
func (s *Sim) marshalState() ([]byte, error) {
	st := s.snapshotState()
	return json.MarshalIndent(st, "", " ")
}

func (s *Sim) snapshotState() savedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &s.ws
	st := savedState{
		Version: stateVersion, TeamID: s.opts.TeamID, BotUserID: s.opts.BotUserID,
		Counters: savedCounters{Channel: w.nextChan, IM: w.nextIM, DM: w.nextDM, View: w.nextView,
			File: w.nextFile, LastSec: w.lastSec, LastSeq: w.lastSeq},
		Ephemerals: make(map[string][]Ephemeral, len(w.ephemerals)),
	}
	for user, eph := range w.ephemerals {
		st.Ephemerals[user] = slices.Clone(eph)
	}
	for _, id := range w.userOrder {
		st.Users = append(st.Users, *w.users[id])
	}
	for _, id := range w.chanOrder {
		ch := w.channels[id]
		sc := savedChannel{Channel: ch.snapshot(), People: slices.Clone(ch.people), TopicSetBy: ch.topicSetBy,
			TopicSetAt: ch.topicSetAt, IMUser: ch.imUser, Pins: slices.Clone(ch.pins),
			Messages: make([]Message, 0, len(ch.messages))}
		for _, m := range ch.messages {
			c := *m
			// A shared file's bytes are kept once, with the file.
			c.Files = slices.Clone(m.Files)
			for i := range c.Files {
				c.Files[i].Content = nil
			}
			sc.Messages = append(sc.Messages, c)
		}
		st.Channels = append(st.Channels, sc)
	}
	for _, id := range w.viewOrder {
		st.Views = append(st.Views, *w.views[id])
	}
	for _, id := range w.fileOrder {
		f := w.files[id]
		st.Files = append(st.Files, savedFile{File: f.File, Length: f.length, Uploaded: f.uploaded,
			Completed: f.completed, Created: f.created})
	}
	for _, g := range w.groups {
		c := *g
		c.Users = slices.Clone(g.Users)
		st.UserGroups = append(st.UserGroups, c)
	}
	slices.SortFunc(st.UserGroups, func(a, b UserGroup) int { return strings.Compare(a.ID, b.ID) })
	return st
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Load returns a simulator configured by opts whose workspace is the one
// saved (by Save, or automatically) at opts.StatePath. When there is no
// such file the error wraps fs.ErrNotExist: call New to start a new
// workspace. A file that cannot be read as a saved workspace gives an error
// that names the file; the file is left as it is.
func Load(opts Options) (*Sim, error) {
	if opts.StatePath == "" {
		return nil, errors.New("slacksim: Load needs Options.StatePath, the file a workspace was saved to")
	}
	data, err := os.ReadFile(opts.StatePath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("slacksim: no saved workspace at %s: %w", opts.StatePath, err)
		}
		return nil, fmt.Errorf("slacksim: reading the saved workspace: %w", err)
	}
	s := New(opts)
	if err := s.restore(data); err != nil {
		return nil, fmt.Errorf("slacksim: %s is not a workspace this simulator can load (%w); move it away to start a new workspace", opts.StatePath, err)
	}
	s.lastSaved = data
	return s, nil
}

// restore replaces the (new) workspace with a saved one.
func (s *Sim) restore(data []byte) error {
	var st savedState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("not valid JSON at byte %d: %w", syn.Offset, err)
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more follows the saved workspace")
	}
	switch {
	case st.Version != stateVersion:
		return fmt.Errorf("format version %d, this simulator reads version %d", st.Version, stateVersion)
	case st.TeamID != s.opts.TeamID:
		return fmt.Errorf("saved for team %q, the simulator is team %q", st.TeamID, s.opts.TeamID)
	case st.BotUserID != s.opts.BotUserID:
		return fmt.Errorf("saved for bot user %q, the simulator's bot is %q", st.BotUserID, s.opts.BotUserID)
	}

	var w workspace
	w.init()
	for _, u := range st.Users {
		if u.ID == "" {
			return errors.New("a user has no ID")
		}
		if _, dup := w.users[u.ID]; dup {
			return fmt.Errorf("user %s is saved twice", u.ID)
		}
		w.users[u.ID] = &u
		w.userOrder = append(w.userOrder, u.ID)
	}
	if w.users[s.opts.BotUserID] == nil {
		w.users[s.opts.BotUserID] = s.ws.users[s.opts.BotUserID]
		w.userOrder = append([]string{s.opts.BotUserID}, w.userOrder...)
	}
	files := map[string]*file{}
	for _, sf := range st.Files {
		if sf.ID == "" {
			return errors.New("a file has no ID")
		}
		if _, dup := files[sf.ID]; dup {
			return fmt.Errorf("file %s is saved twice", sf.ID)
		}
		files[sf.ID] = &file{File: sf.File, length: sf.Length, uploaded: sf.Uploaded, completed: sf.Completed, created: sf.Created}
		w.fileOrder = append(w.fileOrder, sf.ID)
	}
	w.files = files
	maxSec, maxSeq := st.Counters.LastSec, st.Counters.LastSeq
	for _, sc := range st.Channels {
		if sc.ID == "" {
			return errors.New("a channel has no ID")
		}
		if _, dup := w.channels[sc.ID]; dup {
			return fmt.Errorf("channel %s is saved twice", sc.ID)
		}
		ch := &channel{Channel: sc.Channel, people: sc.People, topicSetBy: sc.TopicSetBy, topicSetAt: sc.TopicSetAt,
			imUser: sc.IMUser, pins: sc.Pins, members: map[string]bool{}, byTS: map[string]*Message{}}
		ch.Members = nil
		for _, m := range sc.Members {
			ch.addMember(m)
		}
		for i := range sc.Messages {
			m := &sc.Messages[i]
			if m.TS == "" {
				return fmt.Errorf("a message in channel %s has no ts", sc.ID)
			}
			if ch.byTS[m.TS] != nil {
				return fmt.Errorf("message %s in channel %s is saved twice", m.TS, sc.ID)
			}
			m.Blocks = compactJSON(m.Blocks)
			if m.Metadata != nil {
				m.Metadata.EventPayload = compactJSON(m.Metadata.EventPayload)
			}
			for j := range m.Files {
				if f := files[m.Files[j].ID]; f != nil {
					m.Files[j].Content = slices.Clone(f.Content)
				}
			}
			ch.messages = append(ch.messages, m)
			ch.byTS[m.TS] = m
			if sec, seq, ok := parseTS(m.TS); ok && (sec > maxSec || sec == maxSec && seq > maxSeq) {
				maxSec, maxSeq = sec, seq
			}
		}
		w.channels[ch.ID] = ch
		w.chanOrder = append(w.chanOrder, ch.ID)
		switch {
		case ch.IsIM && ch.imUser != "":
			w.ims[ch.imUser] = ch.ID
		case !ch.IsIM:
			w.byName[ch.Name] = ch.ID
		}
	}
	for _, v := range st.Views {
		if v.ID == "" {
			return errors.New("a view has no ID")
		}
		v.Raw = compactJSON(v.Raw)
		if _, dup := w.views[v.ID]; !dup {
			w.viewOrder = append(w.viewOrder, v.ID)
		}
		w.views[v.ID] = &v
	}
	for user, eph := range st.Ephemerals {
		for i := range eph {
			eph[i].Blocks = compactJSON(eph[i].Blocks)
		}
		w.ephemerals[user] = eph
	}
	for _, g := range st.UserGroups {
		w.groups[g.ID] = &g
		w.groupsByHandle[strings.ToLower(g.Handle)] = &g
	}
	// Counters as saved, and never below an ID the file holds, so that a
	// hand-edited file cannot make a new ID collide with an old one.
	w.nextChan = max(st.Counters.Channel, highestID(w.chanOrder, channelID))
	w.nextIM = st.Counters.IM
	w.nextDM = st.Counters.DM
	w.nextView = max(st.Counters.View, highestID(w.viewOrder, viewID))
	w.nextFile = max(st.Counters.File, highestID(w.fileOrder, fileID))
	w.lastSec, w.lastSeq = maxSec, maxSeq

	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws = w
	s.notifyLocked()
	return nil
}

// compactJSON undoes the indentation Save gives raw JSON (blocks, views,
// metadata payloads), so that they read back as apps sent them: compact.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if raw == nil || string(raw) == "null" { // saved from nil
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

var (
	channelID = regexp.MustCompile(`^C(\d+)$`)
	viewID    = regexp.MustCompile(`^V(\d+)$`)
	fileID    = regexp.MustCompile(`^F(\d+)$`)
)

// highestID returns the largest number in the IDs that match re.
func highestID(ids []string, re *regexp.Regexp) int {
	n := 0
	for _, id := range ids {
		if m := re.FindStringSubmatch(id); m != nil {
			if v, err := strconv.Atoi(m[1]); err == nil && v > n {
				n = v
			}
		}
	}
	return n
}

// parseTS splits a message timestamp "<seconds>.<6 digits>".
func parseTS(ts string) (sec int64, seq int, ok bool) {
	a, b, found := strings.Cut(ts, ".")
	if !found {
		return 0, 0, false
	}
	sec, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.Atoi(b)
	return sec, seq, err1 == nil && err2 == nil
}

// autosave saves the workspace to Options.StatePath now and then a moment
// after each change, until the simulator closes. changed is the change
// signal taken before the first save.
func (s *Sim) autosave(changed chan struct{}) {
	defer s.wg.Done()
	for {
		if err := s.Save(s.opts.StatePath); err != nil {
			s.log.Error("slacksim: saving the workspace", "err", err)
		}
		select {
		case <-s.closed:
			return
		case <-changed:
		}
		select {
		case <-s.closed:
			return
		case <-time.After(saveDelay):
		}
		// Take the next change signal before the snapshot: a change made
		// after the snapshot then wakes the next round.
		s.mu.Lock()
		changed = s.changed
		s.mu.Unlock()
	}
}
