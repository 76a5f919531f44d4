package slacksim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a person (or the bot) in the workspace.
type User struct {
	// ID is the user's ID, e.g. "U0ALICE".
	ID string
	// Name is the handle, e.g. "alice".
	Name string
	// RealName is the full name, e.g. "Alice Liddell".
	RealName string
	// DisplayName is the profile's display name; empty means Name.
	DisplayName string
	// TZ is an IANA time zone, e.g. "Europe/London"; empty means UTC.
	TZ string
	// IsBot marks the bot user.
	IsBot bool
}

// Channel is a conversation as the read-back methods return it.
type Channel struct {
	// ID is the channel's ID ("C0001"), or "D…" for a direct message.
	ID string
	// Name is the channel name without "#"; for a direct message it is
	// "@" and the other user's name.
	Name string
	// IsPrivate is true for private channels.
	IsPrivate bool
	// IsIM is true for a direct message: between the bot and one user, or
	// (AddDM) between two people, which the bot cannot see.
	IsIM bool
	// Creator is the ID of the user who created the channel.
	Creator string
	// Created is when the channel was created.
	Created time.Time
	// Topic is the channel topic.
	Topic string
	// Members are the member IDs, in the order they joined.
	Members []string
	// IsArchived is true once the channel is archived; nothing can be
	// posted in it then.
	IsArchived bool
}

// Message is a message in a channel.
type Message struct {
	// TS is the message timestamp, its ID within the channel.
	TS string
	// ThreadTS is the parent's ts for a threaded reply, else empty.
	ThreadTS string
	// User is the author's ID.
	User string
	// Text is the message text (the notification fallback with blocks).
	Text string
	// Blocks is the raw JSON array of blocks, or nil.
	Blocks json.RawMessage
	// Edited is true once chat.update changed the message.
	Edited bool
	// UpdatedCount counts chat.update calls on the message.
	UpdatedCount int
	// Files are the files shared with the message (by
	// files.completeUploadExternal), or nil.
	Files []File
	// Metadata is the metadata the app attached (see metadata.go), or nil.
	Metadata *Metadata
	// Broadcast is true for a thread reply also sent to the channel
	// (reply_broadcast): conversations.history lists it.
	Broadcast bool
	// Reactions are the emoji people reacted with, in the order first
	// used, each with who reacted.
	Reactions []Reaction `json:",omitempty"`
}

// Reaction is one emoji on a message and the users who reacted with it.
type Reaction struct {
	Name  string
	Users []string
}

// clone returns a copy of m that shares no memory with it.
func (m *Message) clone() Message {
	out := *m
	out.Blocks = slices.Clone(m.Blocks)
	out.Files = slices.Clone(m.Files)
	out.Metadata = m.Metadata.clone()
	out.Reactions = slices.Clone(m.Reactions)
	for i := range out.Reactions {
		out.Reactions[i].Users = slices.Clone(m.Reactions[i].Users)
	}
	for i := range out.Files {
		out.Files[i].Content = slices.Clone(m.Files[i].Content)
	}
	return out
}

// Ephemeral is a message only one user saw.
type Ephemeral struct {
	// Channel is the channel it was shown in.
	Channel string
	// User is the user who saw it.
	User string
	// TS is the message_ts chat.postEphemeral returned.
	TS string
	// Text is the message text.
	Text string
	// Blocks is the raw JSON array of blocks, or nil.
	Blocks json.RawMessage
	// ViaResponseURL is true when the app answered through the
	// response_url of a command or action, false for chat.postEphemeral.
	ViaResponseURL bool
}

// View is a modal open for a user.
type View struct {
	// ID is the view ID ("V0001").
	ID string
	// User is the user the view is open for.
	User string
	// CallbackID is the view's callback_id.
	CallbackID string
	// PrivateMetadata is the view's private_metadata.
	PrivateMetadata string
	// Hash changes on every views.update.
	Hash string
	// Raw is the view object as views.open returned it (with id, state …).
	Raw json.RawMessage
}

// UserGroup is a user group (a "subteam"), mentioned as @handle.
type UserGroup struct {
	// ID is the group's ID, e.g. "S0ONCALL".
	ID string
	// Handle is what people type after '@', e.g. "oncall".
	Handle string
	// Name is the group's display name.
	Name string
	// Users are the members' IDs.
	Users []string
	// Disabled marks a disabled group: usergroups.users.list finds it
	// only with include_disabled.
	Disabled bool
}

type channel struct {
	Channel
	// visibleAt is when a channel made by conversations.create becomes
	// visible to other Web API calls (real time; zero: at once).
	visibleAt time.Time
	// people are the two members of a direct message between people, which
	// the bot is not part of.
	people     []string
	topicSetBy string
	topicSetAt time.Time
	members    map[string]bool
	messages   []*Message
	byTS       map[string]*Message
	pins       []string
	imUser     string
}

type trigger struct {
	user     string
	issuedAt time.Time
	used     bool
}

type workspace struct {
	users      map[string]*User
	userOrder  []string
	channels   map[string]*channel
	chanOrder  []string
	byName     map[string]string
	ims        map[string]string // user ID -> IM channel ID
	nextChan   int
	nextIM     int
	ephemerals map[string][]Ephemeral
	views      map[string]*View
	viewOrder  []string
	nextView   int
	triggers   map[string]*trigger
	lastSec    int64
	lastSeq    int
	bkErrors   []error
	files      map[string]*file
	fileOrder  []string
	nextFile   int

	groups         map[string]*UserGroup
	groupsByHandle map[string]*UserGroup
	hooks          map[string]*hook
	nextDM         int
}

func (w *workspace) init() {
	w.users = map[string]*User{}
	w.channels = map[string]*channel{}
	w.byName = map[string]string{}
	w.ims = map[string]string{}
	w.ephemerals = map[string][]Ephemeral{}
	w.views = map[string]*View{}
	w.triggers = map[string]*trigger{}
	w.files = map[string]*file{}
	w.groups = map[string]*UserGroup{}
	w.groupsByHandle = map[string]*UserGroup{}
	w.hooks = map[string]*hook{}
}

// AddUserGroup adds (or replaces) a user group, so that "@handle" typed in
// a slash command arrives as "<!subteam^ID|@handle>".
func (s *Sim) AddUserGroup(g UserGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.Users = slices.Clone(g.Users)
	s.ws.groups[g.ID] = &g
	s.ws.groupsByHandle[strings.ToLower(g.Handle)] = &g
	s.notifyLocked()
}

// AddDM opens a direct message between two people, which the bot is not
// part of, and returns its ID ("D1…"). A slash command can be typed there;
// the bot cannot see it (chat.postEphemeral and chat.postMessage answer
// channel_not_found), so only the command's response_url reaches it.
func (s *Sim) AddDM(a, b string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.nextDM++
	ch := &channel{
		Channel: Channel{ID: fmt.Sprintf("D1%03d", s.ws.nextDM), Name: "directmessage", IsIM: true, IsPrivate: true,
			Creator: a, Created: s.opts.Now()},
		members: map[string]bool{},
		byTS:    map[string]*Message{},
		people:  []string{a, b},
	}
	ch.addMember(a)
	ch.addMember(b)
	s.ws.channels[ch.ID] = ch
	s.ws.chanOrder = append(s.ws.chanOrder, ch.ID)
	s.notifyLocked()
	return ch.ID
}

// AddUser adds (or replaces) a user. The caller chooses the ID.
func (s *Sim) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ws.users[u.ID]; !ok {
		s.ws.userOrder = append(s.ws.userOrder, u.ID)
	}
	s.ws.users[u.ID] = &u
	s.notifyLocked()
}

// AddChannel creates a public channel named name with these members and
// returns its ID ("C0001", "C0002", …). Its creator is the first member (the
// bot if none is named). The bot is always a member, as if it had been
// invited; use RemoveMember to take it out. If a channel of that name
// exists, its ID is returned and the members are added to it.
func (s *Sim) AddChannel(name string, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[s.ws.byName[name]]
	if ch == nil {
		creator := s.opts.BotUserID
		if len(members) > 0 {
			creator = members[0]
		}
		ch = s.createChannelLocked(name, false, creator)
		ch.addMember(s.opts.BotUserID)
	}
	for _, m := range members {
		ch.addMember(m)
	}
	s.notifyLocked()
	return ch.ID
}

// AddPrivateChannel adds a private channel that members made (the first is
// its creator) and returns its ID. The bot is not in it: to the bot's Web
// API calls it does not exist (channel_not_found), as in Slack, until a
// member invites it (Join with the bot's ID).
func (s *Sim) AddPrivateChannel(name string, members ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.createChannelLocked(name, true, members[0])
	for _, m := range members {
		ch.addMember(m)
	}
	s.notifyLocked()
	return ch.ID
}

// Join puts user in a channel, as a person joining it in Slack would.
// With Options.MemberEvents it returns once the app acked the
// member_joined_channel event (or could not be reached).
func (s *Sim) Join(channelID, user string) {
	s.mu.Lock()
	var ev map[string]any
	if ch := s.ws.channels[channelID]; ch != nil && ch.addMember(user) {
		ev = s.memberEventLocked(ch, user, "", true)
		s.notifyLocked()
	}
	s.mu.Unlock()
	s.sendMemberEvent(ev, true)
}

// Say posts text in a channel as user, as a person typing a message would,
// and returns the message's ts ("" if there is no such channel). The text
// is stored as Slack stores it: escaped, with "@bob" as "<@U0BOB>" and
// "@here" as "<!here>" (see format.go). No event is sent for it.
func (s *Sim) Say(user, channelID, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[channelID]
	if ch == nil {
		return ""
	}
	m := &Message{TS: s.nextTSLocked(), User: user, Text: s.formatMessageLocked(text)}
	ch.messages = append(ch.messages, m)
	ch.byTS[m.TS] = m
	s.notifyLocked()
	return m.TS
}

// RemoveMember takes user out of a channel, as a person leaving it would
// (and for tests of not_in_channel). With Options.MemberEvents it returns
// once the app acked the member_left_channel event.
func (s *Sim) RemoveMember(channelID, user string) {
	s.mu.Lock()
	ch := s.ws.channels[channelID]
	if ch == nil || !ch.members[user] {
		s.mu.Unlock()
		return
	}
	delete(ch.members, user)
	ch.Members = slices.DeleteFunc(ch.Members, func(m string) bool { return m == user })
	ev := s.memberEventLocked(ch, user, "", false)
	s.notifyLocked()
	s.mu.Unlock()
	s.sendMemberEvent(ev, true)
}

func (s *Sim) createChannelLocked(name string, private bool, creator string) *channel {
	s.ws.nextChan++
	ch := &channel{
		Channel: Channel{ID: fmt.Sprintf("C%04d", s.ws.nextChan), Name: name, IsPrivate: private,
			Creator: creator, Created: s.opts.Now()},
		members: map[string]bool{},
		byTS:    map[string]*Message{},
	}
	ch.addMember(creator)
	s.ws.channels[ch.ID] = ch
	s.ws.chanOrder = append(s.ws.chanOrder, ch.ID)
	s.ws.byName[name] = ch.ID
	return ch
}

// imLocked returns the direct-message channel between the bot and user,
// opening it if needed.
func (s *Sim) imLocked(user string) *channel {
	if id, ok := s.ws.ims[user]; ok {
		return s.ws.channels[id]
	}
	s.ws.nextIM++
	name := "@" + user
	if u := s.ws.users[user]; u != nil {
		name = "@" + u.Name
	}
	ch := &channel{
		Channel: Channel{ID: fmt.Sprintf("D%04d", s.ws.nextIM), Name: name, IsIM: true, IsPrivate: true,
			Creator: s.opts.BotUserID, Created: s.opts.Now()},
		members: map[string]bool{},
		byTS:    map[string]*Message{},
		imUser:  user,
	}
	ch.addMember(s.opts.BotUserID)
	ch.addMember(user)
	s.ws.channels[ch.ID] = ch
	s.ws.chanOrder = append(s.ws.chanOrder, ch.ID)
	s.ws.ims[user] = ch.ID
	return ch
}

func (c *channel) addMember(u string) bool {
	if c.members[u] {
		return false
	}
	c.members[u] = true
	c.Members = append(c.Members, u)
	return true
}

func (c *channel) snapshot() Channel {
	out := c.Channel
	out.Members = slices.Clone(c.Members)
	return out
}

// nextTSLocked returns a message timestamp "<unix seconds>.<6 digits>",
// strictly increasing across the workspace.
func (s *Sim) nextTSLocked() string {
	sec := s.opts.Now().Unix()
	if sec <= s.ws.lastSec {
		sec = s.ws.lastSec
		s.ws.lastSeq++
		if s.ws.lastSeq > 999999 {
			sec++
			s.ws.lastSeq = 1
		}
	} else {
		s.ws.lastSeq = 1
	}
	s.ws.lastSec = sec
	return fmt.Sprintf("%d.%06d", sec, s.ws.lastSeq)
}

// channelLocked finds a channel by ID, by name, or by "#name", as the Web
// API sees it for the bot: a private channel or direct message the bot is
// not in does not exist, and neither does a channel conversations.create
// made less than Options.CreateLag ago (Slack's eventual consistency).
func (s *Sim) channelLocked(ref string) *channel {
	ch := s.ws.channels[ref]
	if ch == nil {
		if id, ok := s.ws.byName[strings.TrimPrefix(ref, "#")]; ok {
			ch = s.ws.channels[id]
		}
	}
	if ch == nil || !s.visibleLocked(ch) {
		return nil
	}
	return ch
}

// visibleLocked reports whether the bot's Web API calls can see ch.
func (s *Sim) visibleLocked(ch *channel) bool {
	if (ch.IsPrivate || ch.IsIM) && !ch.members[s.opts.BotUserID] {
		return false
	}
	return ch.visibleAt.IsZero() || !time.Now().Before(ch.visibleAt)
}

// recordBlockKitLocked remembers a Block Kit violation for BlockKitErrors.
func (s *Sim) recordBlockKitLocked(err error) {
	s.ws.bkErrors = append(s.ws.bkErrors, err)
}

// Channel returns a copy of the channel with this ID, or nil.
func (s *Sim) Channel(id string) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[id]
	if ch == nil {
		return nil
	}
	out := ch.snapshot()
	return &out
}

// ChannelByName returns a copy of the channel named name (without "#"), or nil.
func (s *Sim) ChannelByName(name string) *Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[s.ws.byName[strings.TrimPrefix(name, "#")]]
	if ch == nil {
		return nil
	}
	out := ch.snapshot()
	return &out
}

// Channels returns copies of every channel, direct messages included, in
// creation order.
func (s *Sim) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.ws.chanOrder))
	for _, id := range s.ws.chanOrder {
		out = append(out, s.ws.channels[id].snapshot())
	}
	return out
}

// DirectChannel returns the ID of the bot's direct-message channel with
// user, or "" if the bot never wrote to them.
func (s *Sim) DirectChannel(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws.ims[user]
}

// Members returns the member IDs of a channel in join order.
func (s *Sim) Members(channelID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.ws.channels[channelID]; ch != nil {
		return slices.Clone(ch.Members)
	}
	return nil
}

// Topic returns a channel's topic.
func (s *Sim) Topic(channelID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.ws.channels[channelID]; ch != nil {
		return ch.Topic
	}
	return ""
}

// Messages returns copies of a channel's messages, oldest first.
func (s *Sim) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[channelID]
	if ch == nil {
		return nil
	}
	out := make([]Message, len(ch.messages))
	for i, m := range ch.messages {
		out[i] = m.clone()
	}
	return out
}

// Message returns a copy of the message with this ts, or nil.
func (s *Sim) Message(channelID, ts string) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[channelID]
	if ch == nil || ch.byTS[ts] == nil {
		return nil
	}
	m := ch.byTS[ts].clone()
	return &m
}

// Pins returns the ts of every pinned message in a channel, in pin order.
func (s *Sim) Pins(channelID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.ws.channels[channelID]; ch != nil {
		return slices.Clone(ch.pins)
	}
	return nil
}

// Ephemerals returns copies of the ephemeral messages user saw, oldest first.
func (s *Sim) Ephemerals(user string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.ws.ephemerals[user]
	out := make([]Ephemeral, len(src))
	for i, e := range src {
		out[i] = e
		out[i].Blocks = slices.Clone(e.Blocks)
	}
	return out
}

// OpenViews returns copies of the modals open for user, oldest first.
func (s *Sim) OpenViews(user string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.ws.viewOrder {
		if v := s.ws.views[id]; v.User == user {
			c := *v
			c.Raw = slices.Clone(v.Raw)
			out = append(out, c)
		}
	}
	return out
}

// Users returns copies of every user, the bot first, then in the order
// they were added.
func (s *Sim) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.ws.userOrder))
	for _, id := range s.ws.userOrder {
		out = append(out, *s.ws.users[id])
	}
	return out
}

// BlockKitErrors returns every Block Kit violation the simulator saw:
// each invalid_blocks or invalid_arguments rejection, and bad views or
// modal errors in acks. A test can fail at cleanup if it is not empty.
func (s *Sim) BlockKitErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ws.bkErrors)
}
