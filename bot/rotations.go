package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/inbox"
)

// handOffWindow is how long after a hand-off it is still announced, so a
// restart shortly after one still posts it; older ones are not news.
const handOffWindow = time.Hour

// CheckRotations posts "TDO on duty is now @x" in the ops channel for each
// rotation whose duty changed within the last hour and was not announced
// yet, and returns how many it posted. Each hand-off is claimed in the
// envelope log first, so it is posted once even with several replicas. The
// bot runs it every minute; it takes the time from the bot's clock.
func (b *Bot) CheckRotations(ctx context.Context) (int, error) {
	now := b.clock.Now()
	posted := 0
	for _, d := range b.incidents.OnCall() {
		if d.Since.After(now) || now.Sub(d.Since) > handOffWindow {
			continue
		}
		key := "rotation:" + d.Rotation + ":" + strconv.FormatInt(d.Since.Unix(), 10)
		first, err := b.inbox.RecordEnvelope(ctx, inbox.Envelope{Key: key, Type: "rotation", Payload: []byte("{}"), ReceivedAt: now}, b.owner(), now)
		if err != nil {
			return posted, fmt.Errorf("claiming the %s hand-off: %w", d.Rotation, err)
		}
		if !first {
			continue
		}
		channel, err := b.namedChannel(ctx, b.cfg.OpsChannel)
		if err != nil {
			return posted, err
		}
		line := fmt.Sprintf(":rotating_light: TDO on duty for *%s* is now <@%s>. Next: <@%s> from %s.",
			escape(d.Rotation), d.Member, d.Next, slackDate(d.NextAt))
		if err := b.post(ctx, channel, onceAs(effectHandOff, key), line, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}); err != nil {
			return posted, fmt.Errorf("announcing the %s hand-off: %w", d.Rotation, err)
		}
		posted++
	}
	return posted, nil
}

// onOnCall handles /incident oncall: who is on duty in each rotation.
func (b *Bot) onOnCall(ctx context.Context, cmd slack.SlashCommand) {
	duties := b.incidents.OnCall()
	if len(duties) == 0 {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID,
			"No on-call rotations are set up, so the reporter leads new incidents. Add them under `rotations:` in sitrep.yaml (see the README).", "/incident oncall")
		return
	}
	text, blocks := onCallView(duties)
	b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
}

// onCallView lists each rotation's duty.
func onCallView(duties []incident.Duty) (string, []slack.Block) {
	var lines []string
	for _, d := range duties {
		lines = append(lines, fmt.Sprintf("*%s*: <@%s> on duty since %s · next <@%s> from %s",
			escape(d.Rotation), d.Member, slackDate(d.Since), d.Next, slackDate(d.NextAt)))
	}
	text := "On call now"
	return text, []slack.Block{
		slack.NewHeaderBlock(plain(text)),
		slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil),
	}
}
