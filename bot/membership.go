package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// How long the membership cache trusts what it read from Slack.
const (
	// rosterTTL bounds how long a channel's members are trusted without
	// asking Slack again. member_joined_channel and member_left_channel
	// keep them current meanwhile; the limit only mends a missed event.
	rosterTTL = 15 * time.Minute
	// groupTTL bounds how long a user group's members are trusted: no
	// event says a group changed.
	groupTTL = 60 * time.Second
)

// membership caches who is in which channel (conversations.members, read
// in full once) and in which user group (usergroups.users.list), so that
// the permission model asks Slack once per channel, not once per check.
type membership struct {
	mu      sync.Mutex
	rosters map[string]*roster
	groups  map[string]groupEntry
	// reading counts the reads of a channel in flight; pending holds the
	// events that came meanwhile, applied to what the read returns (which
	// may predate them).
	reading map[string]int
	pending map[string][]memberChange
}

type memberChange struct {
	user   string
	joined bool
}

// roster is a channel's members as last read, kept current by events.
type roster struct {
	members map[string]bool
	read    time.Time
}

type groupEntry struct {
	users []string
	read  time.Time
}

func newMembership() *membership {
	return &membership{rosters: map[string]*roster{}, groups: map[string]groupEntry{},
		reading: map[string]int{}, pending: map[string][]memberChange{}}
}

// isMember answers from the cache while it is fresh, else reads the
// channel's members from Slack (every page) first.
func (b *Bot) isMember(ctx context.Context, channel, user string) (bool, error) {
	now := b.clock.Now()
	m := b.members
	m.mu.Lock()
	r := m.rosters[channel]
	if r != nil && now.Sub(r.read) < rosterTTL {
		in := r.members[user]
		m.mu.Unlock()
		return in, nil
	}
	m.reading[channel]++
	m.mu.Unlock()
	members, err := b.channelMembers(ctx, channel)
	m.mu.Lock()
	defer m.mu.Unlock()
	changes := m.pending[channel]
	if m.reading[channel]--; m.reading[channel] == 0 {
		delete(m.reading, channel)
		delete(m.pending, channel)
	}
	if err != nil {
		return false, err
	}
	fresh := &roster{members: make(map[string]bool, len(members)), read: now}
	for _, u := range members {
		fresh.members[u] = true
	}
	m.rosters[channel] = fresh
	for _, c := range changes {
		fresh.apply(c)
	}
	return fresh.members[user], nil
}

// channelMembers reads every page of conversations.members.
func (b *Bot) channelMembers(ctx context.Context, channel string) ([]string, error) {
	var all []string
	cursor := ""
	for {
		var page []string
		err := b.slack.do(ctx, "conversations.members", func(ctx context.Context) error {
			var err error
			page, cursor, err = b.api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: channel, Cursor: cursor, Limit: 1000})
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if cursor == "" {
			return all, nil
		}
	}
}

// memberChanged records that user joined or left channel. A channel not
// cached is left alone: it is read in full when first asked about.
func (m *membership) memberChanged(channel, user string, joined bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := memberChange{user: user, joined: joined}
	if m.reading[channel] > 0 {
		m.pending[channel] = append(m.pending[channel], c)
	}
	if r := m.rosters[channel]; r != nil {
		r.apply(c)
	}
}

func (r *roster) apply(c memberChange) {
	if c.joined {
		r.members[c.user] = true
	} else {
		delete(r.members, c.user)
	}
}

// groupMembers answers from the cache for groupTTL, else asks Slack.
func (b *Bot) groupMembers(ctx context.Context, group string) ([]string, error) {
	now := b.clock.Now()
	m := b.members
	m.mu.Lock()
	g, ok := m.groups[group]
	m.mu.Unlock()
	if ok && now.Sub(g.read) < groupTTL {
		return g.users, nil
	}
	var users []string
	err := b.slack.do(ctx, "usergroups.users.list", func(ctx context.Context) error {
		var err error
		users, err = b.api.GetUserGroupMembersContext(ctx, group)
		return err
	})
	if err != nil {
		return nil, err
	}
	users = slices.Clone(users)
	m.mu.Lock()
	m.groups[group] = groupEntry{users: users, read: now}
	m.mu.Unlock()
	return users, nil
}

// onMemberEvent keeps the membership cache current with
// member_joined_channel and member_left_channel.
func (b *Bot) onMemberEvent(data any) bool {
	switch e := data.(type) {
	case *slackevents.MemberJoinedChannelEvent:
		b.members.memberChanged(e.Channel, e.User, true)
	case slackevents.MemberJoinedChannelEvent:
		b.members.memberChanged(e.Channel, e.User, true)
	case *slackevents.MemberLeftChannelEvent:
		b.members.memberChanged(e.Channel, e.User, false)
	case slackevents.MemberLeftChannelEvent:
		b.members.memberChanged(e.Channel, e.User, false)
	default:
		return false
	}
	return true
}
