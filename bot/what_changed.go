package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// postWhatChanged posts, in a new incident's room, the last changes to its
// systems before it opened, so the room starts from what changed. When the
// systems have fewer, the latest changes elsewhere fill the list, marked as
// other systems.
func (b *Bot) postWhatChanged(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if b.changes == nil {
		return nil
	}
	q := incident.ChangeQuery{
		Since: inc.OpenedAt.Add(-b.cfg.WhatChangedWindow),
		Until: inc.OpenedAt.Add(time.Second),
		Limit: b.cfg.WhatChangedCount,
	}
	var onSystems []incident.Change
	if len(inc.Systems) > 0 {
		sq := q
		sq.Systems = inc.Systems
		var err error
		if onSystems, err = b.changes.Recent(ctx, sq); err != nil {
			return err
		}
	}
	var others []incident.Change
	if missing := b.cfg.WhatChangedCount - len(onSystems); missing > 0 {
		oq := q
		oq.Limit = b.cfg.WhatChangedCount + len(onSystems)
		all, err := b.changes.Recent(ctx, oq)
		if err != nil {
			return err
		}
		shown := map[int64]bool{}
		for _, c := range onSystems {
			shown[c.ID] = true
		}
		for _, c := range all {
			if !shown[c.ID] && len(others) < missing {
				others = append(others, c)
			}
		}
	}
	text, blocks := whatChangedView(inc, onSystems, others, b.cfg.WhatChangedWindow)
	return b.post(ctx, room.ChannelID, text, blocks)
}

// whatChangedView renders the "what changed?" message.
func whatChangedView(inc *incident.Incident, onSystems, others []incident.Change, window time.Duration) (string, []slack.Block) {
	scope := "any system"
	if len(inc.Systems) > 0 {
		scope = escape(strings.Join(inc.Systems, ", "))
	}
	title := "What changed before " + inc.Ref() + "?"
	if len(onSystems)+len(others) == 0 {
		text := fmt.Sprintf(":mag: *%s* No changes were logged to %s in the %s before it opened. Log changes as they happen (`%s`, the API or `sitrep change add`) and the next incident starts here.",
			title, scope, durationText(window), usageChange)
		return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plain(title))}
	intro := fmt.Sprintf("The last changes to %s in the %s before %s opened, newest first.", scope, durationText(window), inc.Ref())
	if len(onSystems) == 0 && len(inc.Systems) > 0 {
		intro = fmt.Sprintf("No changes to %s in the %s before %s opened; the latest changes elsewhere:", scope, durationText(window), inc.Ref())
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(intro)))
	for _, c := range onSystems {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(whatChangedLine(c, inc.OpenedAt, false)), nil, nil))
	}
	for _, c := range others {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(whatChangedLine(c, inc.OpenedAt, len(inc.Systems) > 0)), nil, nil))
	}
	return title, blocks
}

// whatChangedLine renders one change relative to the opening.
func whatChangedLine(c incident.Change, opened time.Time, other bool) string {
	when := durationText(opened.Sub(c.OccurredAt)) + " before it opened"
	if c.OccurredAt.After(opened) {
		when = durationText(c.OccurredAt.Sub(opened)) + " after it opened"
	}
	line := fmt.Sprintf("*%s* · %s", escape(strings.Join(c.Systems, ", ")), when)
	if other {
		line += " · _other system_"
	}
	who := escape(c.Person)
	if userID.MatchString(c.Person) {
		who = "<@" + c.Person + ">"
	}
	line += fmt.Sprintf("\n%s: %s", who, escapeFit(c.Summary, 500))
	if c.Reason != "" {
		line += "\n_because_ " + escapeFit(c.Reason, 500)
	}
	if c.Link != "" {
		line += " <" + escape(c.Link) + "|link>"
	}
	return line
}
