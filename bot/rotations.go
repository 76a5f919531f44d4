package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// handOffWindow is how long after a hand-off it is still announced, so a
// restart shortly after one still posts it; older ones are not news.
const handOffWindow = time.Hour

// jobHandOff announces one rotation hand-off in the ops channel.
const jobHandOff = "rotation.handoff"

// handOffPayload is a hand-off as it was when it was queued, so a retry
// announces the same one.
type handOffPayload struct {
	Rotation string    `json:"rotation"`
	Member   string    `json:"member"`
	Since    time.Time `json:"since"`
	Next     string    `json:"next"`
	NextAt   time.Time `json:"next_at"`
}

// CheckRotations announces "TDO on duty is now @x" in the ops channel for
// each rotation whose duty changed within the last hour, and returns how
// many it posted now. Each hand-off is a durable job keyed by rotation and
// time, run at once: it is posted once even with several replicas, and a
// post Slack refuses is retried by the job queue (and at the next check).
// The bot runs it every minute; it takes the time from the bot's clock.
func (b *Bot) CheckRotations(ctx context.Context) (int, error) {
	now := b.clock.Now()
	posted := 0
	for _, d := range b.incidents.OnCall() {
		if d.Since.After(now) || now.Sub(d.Since) > handOffWindow {
			continue
		}
		payload, err := json.Marshal(handOffPayload{Rotation: d.Rotation, Member: d.Member, Since: d.Since.UTC(), Next: d.Next, NextAt: d.NextAt.UTC()})
		if err != nil {
			return posted, fmt.Errorf("queueing the %s hand-off: %w", d.Rotation, err)
		}
		key := "rotation:" + d.Rotation + ":" + strconv.FormatInt(d.Since.Unix(), 10)
		ran, err := b.jobs.RunJob(ctx, jobs.Job{Kind: jobHandOff, Key: key, Payload: payload, DueAt: now})
		switch {
		case !ran && err != nil:
			return posted, fmt.Errorf("queueing the %s hand-off: %w", d.Rotation, err)
		case ran && err == nil:
			posted++
		}
		// Ran and failed: the job queue retries it (the runner logged why).
	}
	return posted, nil
}

// handOffJob posts a hand-off in the ops channel, unless a later hand-off
// of the same rotation has made it old news.
func (b *Bot) handOffJob(ctx context.Context, j jobs.Job) error {
	var d handOffPayload
	if err := json.Unmarshal(j.Payload, &d); err != nil {
		return jobs.Permanent(fmt.Errorf("reading the hand-off job: %w", err))
	}
	for _, cur := range b.incidents.OnCall() {
		if cur.Rotation == d.Rotation && cur.Since.After(d.Since) {
			b.log.Info("rotation hand-off not announced: a later one replaced it", "rotation", d.Rotation, "since", d.Since)
			return nil
		}
	}
	channel, err := b.namedChannel(ctx, b.cfg.OpsChannel)
	if err != nil {
		return err
	}
	line := fmt.Sprintf(":rotating_light: TDO on duty for *%s* is now <@%s>. Next: <@%s> from %s.",
		escape(d.Rotation), d.Member, d.Next, slackDate(d.NextAt))
	if err := b.post(ctx, channel, jobEffect(effectHandOff, j), line, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}); err != nil {
		return fmt.Errorf("announcing the %s hand-off: %w", d.Rotation, err)
	}
	return nil
}

// onOnCall handles /incident oncall: who is on duty in each rotation.
func (b *Bot) onOnCall(ctx context.Context, cmd slack.SlashCommand) {
	duties := b.incidents.OnCall()
	if len(duties) == 0 {
		text, blocks := noRotationsView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
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

// noRotationsView answers /incident oncall when no rotation is set up: not
// a mistake of the asker's, so it says how things stand and how an admin
// sets rotations up.
func noRotationsView() (string, []slack.Block) {
	text := ":information_source: No on-call rotations are set up, so whoever reports an incident leads it."
	howTo := "To have the person on duty lead instead, list your rotations under `rotations:` in sitrep.yaml and restart sitrep:\n" +
		"```rotations:\n  - name: ops\n    members: [U012ABCDE, U034FGHIJ]   # Slack member IDs, in order of duty\n" +
		"    handoff: \"0 9 * * MON\"            # cron: Mondays 09:00\n    start: \"2026-11-23 09:00\"\n    default: true```\n" +
		"The README's _On-call rotations_ section has every field."
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil),
		slack.NewSectionBlock(mrkdwn(howTo), nil, nil),
	}
}
