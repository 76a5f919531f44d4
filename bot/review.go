package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/report"
)

// The jobs of the daily operations review: the review message, then each
// chart in its thread. Keys name the scheduled slot, so a slot is posted
// once, also across replicas and restarts.
const (
	jobOpsReview      = "report.ops_review"
	jobOpsReviewChart = "report.ops_review_chart"

	// reviewGrace is how late a scheduled review is still posted (after a
	// restart, say); older slots are not news.
	reviewGrace = time.Hour
)

// reviewPayload names the slot of a review and, for a chart, where the
// review was posted.
type reviewPayload struct {
	Slot    time.Time `json:"slot"`
	Channel string    `json:"channel,omitempty"`
	TS      string    `json:"ts,omitempty"`
	Chart   string    `json:"chart,omitempty"`
}

// lastSlot returns the latest time sched fires at or before now, if it is
// within grace of now.
func lastSlot(sched interface{ Next(time.Time) time.Time }, now time.Time, grace time.Duration) (time.Time, bool) {
	var slot time.Time
	for t := sched.Next(now.Add(-grace - time.Second)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		slot = t
	}
	return slot, !slot.IsZero()
}

// CheckOpsReview queues the daily operations review when its schedule
// fired within the last hour and it was not queued yet; it reports whether
// a slot was due. The bot runs it every minute, on its clock; the job
// sweeper posts the review.
func (b *Bot) CheckOpsReview(ctx context.Context) (bool, error) {
	if b.reviews == nil || b.cfg.OpsReviewSchedule == nil {
		return false, nil
	}
	slot, ok := lastSlot(b.cfg.OpsReviewSchedule, b.clock.Now(), reviewGrace)
	if !ok {
		return false, nil
	}
	payload, _ := json.Marshal(reviewPayload{Slot: slot.UTC()})
	_, err := b.jobs.Enqueue(ctx, jobs.Job{Kind: jobOpsReview, Key: jobOpsReview + ":" + slot.UTC().Format(time.RFC3339),
		Payload: payload, DueAt: slot})
	if err != nil {
		return true, fmt.Errorf("queueing the operations review of %s: %w", slot.Format(time.RFC3339), err)
	}
	return true, nil
}

// opsReviewJob posts the review of a slot in the review channel and queues
// its charts for the thread.
func (b *Bot) opsReviewJob(ctx context.Context, j jobs.Job) error {
	p, err := reviewPayloadOf(j)
	if err != nil {
		return err
	}
	rv, err := b.reviews.OpsReview(ctx, p.Slot, b.cfg.OpsReviewWindow)
	if err != nil {
		return err
	}
	// Posted for everyone in the review channel: private incidents are
	// counted but not named.
	rv = rv.Redacted()
	channel, err := b.namedChannel(ctx, b.cfg.OpsReviewChannel)
	if err != nil {
		return err
	}
	text, blocks := opsReviewView(rv)
	ts, err := b.postOnce(ctx, channel, onceAs(effectReview, p.Slot.UTC().Format(time.RFC3339)), slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return err
	}
	b.log.Info("operations review posted", "slot", p.Slot, "incidents", len(rv.Incidents), "channel", channel)
	for _, chart := range []string{"pareto", "weekly"} {
		cp, _ := json.Marshal(reviewPayload{Slot: p.Slot, Channel: channel, TS: ts, Chart: chart})
		key := jobOpsReviewChart + ":" + p.Slot.Format(time.RFC3339) + ":" + chart
		if _, err := b.jobs.RunJob(ctx, jobs.Job{Kind: jobOpsReviewChart, Key: key, Payload: cp, DueAt: b.clock.Now()}); err != nil {
			b.log.Warn("review chart not posted yet; the job queue will retry", "chart", chart, "err", err)
		}
	}
	return nil
}

// opsReviewChartJob uploads one chart of a posted review in its thread,
// reading only what that chart shows.
func (b *Bot) opsReviewChartJob(ctx context.Context, j jobs.Job) error {
	p, err := reviewPayloadOf(j)
	if err != nil {
		return err
	}
	var chart report.Chart
	switch p.Chart {
	case "pareto":
		pareto, err := b.reviews.Pareto(ctx, p.Slot)
		if err != nil {
			return err
		}
		chart, err = report.ReviewPareto(pareto, b.reviews.ParetoWindow, charts.PNG)
		if err != nil {
			return jobs.Permanent(err)
		}
	case "weekly":
		weeks, err := b.reviews.Weeks(ctx, p.Slot)
		if err != nil {
			return err
		}
		chart, err = report.ReviewWeekly(weeks, charts.PNG)
		if err != nil {
			return jobs.Permanent(err)
		}
	default:
		return jobs.Permanent(fmt.Errorf("no review chart %q", p.Chart))
	}
	return b.upload(ctx, p.Channel, p.TS, chart.Name, chart.Title, chart.Alt, chart.Data)
}

// reviewPayloadOf reads a review job's payload.
func reviewPayloadOf(j jobs.Job) (reviewPayload, error) {
	var p reviewPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	return p, nil
}

// maxReviewLines bounds the incidents a review message lists.
const maxReviewLines = 15

// opsReviewView is the review message.
func opsReviewView(rv incident.Review) (string, []slack.Block) {
	loc := rv.Location
	if loc == nil {
		loc = time.UTC
	}
	title := "Operations review, " + rv.To.In(loc).Format("Mon 2 Jan")
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(title)),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Incidents opened from %s to %s (%s).",
			rv.From.In(loc).Format("Mon 15:04"), rv.To.In(loc).Format("Mon 15:04"), loc))),
	}
	var lines []string
	for _, ri := range rv.Incidents[:min(len(rv.Incidents), maxReviewLines)] {
		lines = append(lines, reviewLine(ri))
	}
	if more := len(rv.Incidents) - maxReviewLines; more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more: `sitrep report` lists them all.", more))
	}
	incidents := "*Incidents*\nNone opened. :tada:"
	if len(lines) > 0 {
		incidents = "*Incidents*\n" + strings.Join(lines, "\n") + "\n" + escape(report.CostSentence(rv))
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(incidents, 3000)), nil, nil))

	problems := "*Open problems by customer cost*\nNone open."
	if rows := rv.Open.Rows; len(rows) > 0 {
		var pl []string
		for i, r := range rows[:min(len(rows), report.TopProblems)] {
			pl = append(pl, fmt.Sprintf("%d. %s", i+1, costLine(r, rv.Open.Currency)))
		}
		problems = "*Open problems by customer cost*\n" + strings.Join(pl, "\n")
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(problems, 3000)), nil, nil))
	pareto := fmt.Sprintf("*%s*\n%s", escape(report.ParetoTitle(rv.ParetoWindow)), escape(rv.Pareto.Headline()))
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(pareto, 3000)), nil, nil))
	facts := "*Changes*\n" + escape(report.ChangesSentence(rv))
	if len(rv.Overdue) > 0 {
		var ol []string
		for _, oa := range rv.Overdue[:min(len(rv.Overdue), maxReviewLines)] {
			a := oa.Action
			ol = append(ol, fmt.Sprintf("• <@%s>: %s (due %s)", a.Owner, escapeFit(a.Expected, 200), a.Due.In(loc).Format("Mon 2 Jan")))
		}
		facts += fmt.Sprintf("\n*Overdue postmortem actions (%d)*\n", len(rv.Overdue)) + strings.Join(ol, "\n")
	}
	if s := report.TimeboxSentence(rv); s != "" {
		facts += "\n*Timebox adherence*\n" + escape(s)
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(facts, 3000)), nil, nil),
		slack.NewContextBlock("", mrkdwn("Charts in the thread. `sitrep report` prints this review as Markdown.")))
	return title + ": " + count(len(rv.Incidents), "incident"), blocks
}

// reviewLine is one incident of the review.
func reviewLine(ri incident.ReviewedIncident) string {
	inc := ri.Incident
	cost := "no cost entered"
	if inc.Cost != nil {
		cost = inc.Cost.Label()
	}
	restore := "not restored"
	if d, ok := inc.TimeToRestore(); ok {
		restore = "restored in " + durationText(d)
	}
	line := fmt.Sprintf("• *%s* %s %s — %s · %s · TDO %s", inc.Ref(), inc.Severity.Label(), escapeFit(inc.Title, 80), cost, restore,
		tdoChain(ri.Summary.TDOs))
	if ri.Summary.HasTimebox {
		line += " · timebox " + adherenceText(ri.Summary.Timebox)
	}
	return line
}
