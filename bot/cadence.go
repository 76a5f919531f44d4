package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// nudgeJob nudges the TDO in the room when no status update came in time:
// the next nudge is scheduled first, then the nudge posted once.
func (b *Bot) nudgeJob(ctx context.Context, j jobs.Job) error {
	var p incident.NudgePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	n, err := b.incidents.NudgeDue(ctx, p, j.DueAt, lateReason(j))
	switch {
	case errors.Is(err, incident.ErrNoChange):
		b.log.Debug("update nudge has nothing to do", "job", j.Key, "why", err)
		return nil
	case errors.Is(err, incident.ErrNotFound):
		return jobs.Permanent(err)
	case err != nil:
		return err
	}
	room, err := b.rooms.Room(ctx, n.Incident.ID)
	if err != nil || !room.Ready {
		return fmt.Errorf("%s has no room yet; nudging later", n.Incident.Ref())
	}
	b.log.Info("update nudge", "incident", n.Incident.Ref(), "since", n.Since, "tdo", n.Incident.TDOID)
	text, blocks := nudgeView(n, b.clock.Now())
	return b.post(ctx, room.ChannelID, jobEffect(effectNudge, j), text, blocks)
}

// nudgeView asks the TDO for a status update, with Post update (the
// status form).
func nudgeView(n incident.Nudge, now time.Time) (string, []slack.Block) {
	inc := n.Incident
	quiet := durationText(now.Sub(n.Since))
	text := fmt.Sprintf("%s: no status update for %s", inc.Ref(), quiet)
	line := fmt.Sprintf(":mega: <@%s> *No status update on %s for %s.* %s asks for one every %s: what changed, what customers see. It goes to the incidents channel too.",
		inc.TDOID, inc.Ref(), quiet, inc.Severity.Label(), durationText(n.Every))
	if n.Late != "" {
		line += "\n:warning: This nudge " + escapeFit(n.Late, 300) + "."
	}
	post := slack.NewButtonBlockElement(actionUpdateStatus, strconv.FormatInt(inc.ID, 10), plain("Post update"))
	post.Style = slack.StylePrimary
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(line), nil, nil),
		slack.NewActionBlock("nudge_"+strconv.FormatInt(inc.ID, 10), post),
		slack.NewContextBlock("", mrkdwn(escape(fmt.Sprintf("Or type `/incident status %s <message>`.", inc.Status)))),
	}
}
