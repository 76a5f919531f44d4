package bot

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // users' time zones resolve on hosts without a zoneinfo database

	"github.com/slack-go/slack"
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
