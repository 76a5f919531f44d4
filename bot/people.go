package bot

import (
	"context"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // users' time zones resolve on hosts without a zoneinfo database

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// self returns the bot's own user ID, asking Slack (auth.test) the first
// time.
func (b *Bot) self(ctx context.Context) (string, error) {
	b.selfMu.Lock()
	defer b.selfMu.Unlock()
	if b.selfID != "" {
		return b.selfID, nil
	}
	var resp *slack.AuthTestResponse
	err := b.slack.do(ctx, "auth.test", func(ctx context.Context) error {
		var err error
		resp, err = b.api.AuthTestContext(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("asking Slack who sitrep is: %w", err)
	}
	b.selfID = resp.UserID
	return b.selfID, nil
}

// isSelf reports whether user is the bot itself, as far as it knows
// without asking Slack (for checks that must not wait, before an ack).
func (b *Bot) isSelf(user string) bool {
	b.selfMu.Lock()
	defer b.selfMu.Unlock()
	return user != "" && user == b.selfID
}

// notAPerson says why user cannot lead, hold a role, facilitate or own an
// action: a bot (sitrep itself included) cannot be paged, briefed or held
// to account. It returns "" for a person, and for a user Slack cannot tell
// about (Slack refuses those later, with a clearer reason).
func (b *Bot) notAPerson(ctx context.Context, user, role string) string {
	if self, err := b.self(ctx); err == nil && user == self {
		return fmt.Sprintf("sitrep cannot be %s: name a person.", role)
	}
	u, err := b.userFacts(ctx, user)
	if err != nil {
		b.log.Warn("looking up a user before giving them a role", "user", user, "err", err)
		return ""
	}
	if u.isBot {
		return fmt.Sprintf("<@%s> is a bot and cannot be %s: name a person.", user, role)
	}
	return ""
}

// names tells the domain the display names of chat users (incident.Names),
// from the bot's user cache: timeline entries record them as they are
// written.
type names struct{ b *Bot }

// nameWait bounds how long recording a change waits for a name Slack has
// not told yet: a record without the name beats a late record.
const nameWait = 2 * time.Second

// Name returns the user's name, or "" if Slack cannot tell it (at once, in
// one try: the change being recorded does not wait on retries) or id is
// not a user ID.
func (n names) Name(ctx context.Context, id string) string {
	if !isUserID(id) {
		return ""
	}
	ctx, cancel := context.WithTimeout(withSingleTry(ctx), nameWait)
	defer cancel()
	name, err := n.b.lookupUser(ctx, id)
	if err != nil {
		n.b.log.Warn("looking up a name for the record", "user", id, "err", err)
		return ""
	}
	return name
}

// displayName is how sitrep names a user: real name, else display name,
// else handle.
func displayName(u *slack.User) string {
	switch {
	case u.RealName != "":
		return u.RealName
	case u.Profile.DisplayName != "":
		return u.Profile.DisplayName
	}
	return u.Name
}

// APINames returns an incident.Names that asks Slack (users.info) through
// api, once per user, for documents written outside the bot (an export
// from a shell). A user Slack cannot tell about has no name: documents
// then use what the timeline recorded.
func APINames(api *slack.Client) incident.Names {
	return &apiNames{api: api, names: map[string]string{}}
}

type apiNames struct {
	api   *slack.Client
	mu    sync.Mutex
	names map[string]string
}

// Name implements incident.Names.
func (n *apiNames) Name(ctx context.Context, id string) string {
	if !isUserID(id) {
		return ""
	}
	n.mu.Lock()
	name, ok := n.names[id]
	n.mu.Unlock()
	if ok {
		return name
	}
	if u, err := n.api.GetUserInfoContext(ctx, id); err == nil {
		name = displayName(u)
	}
	n.mu.Lock()
	n.names[id] = name
	n.mu.Unlock()
	return name
}

// userLocation returns user's time zone, from users.info tz (cached with
// the rest of what sitrep knows of them), and whether it is theirs; when
// Slack cannot say or names a zone Go does not know, it returns fallback.
func (b *Bot) userLocation(ctx context.Context, user string, fallback *time.Location) (*time.Location, bool) {
	u, err := b.userFacts(ctx, user)
	if err != nil {
		b.log.Warn("looking up a user's time zone", "user", user, "err", err)
		return fallback, false
	}
	if u.tz == "" {
		return fallback, false
	}
	loc, err := time.LoadLocation(u.tz)
	if err != nil {
		b.log.Warn("unknown time zone", "user", user, "tz", u.tz, "err", err)
		return fallback, false
	}
	return loc, true
}

// zoneText names the zone times are read in: the user's own, or the
// fallback when sitrep does not know theirs.
func zoneText(loc *time.Location, theirs bool) string {
	if theirs {
		return loc.String() + ", your Slack time zone"
	}
	return loc.String() + ": sitrep does not know your time zone"
}

// entryTimeText shows a time read from a user in their zone, with the
// zone, and in UTC: "2026-11-24 09:30 EST (America/New_York, your Slack
// time zone), 14:30 UTC".
func entryTimeText(at time.Time, loc *time.Location, theirs bool) string {
	local := at.In(loc)
	text := local.Format("2006-01-02 15:04 MST") + " (" + zoneText(loc, theirs) + ")"
	if _, off := local.Zone(); off != 0 {
		text += ", " + at.UTC().Format("2006-01-02 15:04 UTC")
	}
	return text
}
