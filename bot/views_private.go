package bot

import (
	"fmt"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// The views of private incidents outside their room. They name the
// incident by its number alone, with its severity and TDO: never its title,
// description or systems, and never a link to its channel (whose name
// carries no title either, but need not be advertised).

// privateChannelTitle stands for the title in the name of a private
// incident's channel: inc-7-private.
const privateChannelTitle = "private"

// privateAnnouncementView is posted in the incidents channel when a private
// incident opens.
func privateAnnouncementView(inc *incident.Incident) (text string, blocks []slack.Block) {
	line := fmt.Sprintf(":lock: *%s*: a private %s incident was opened; TDO <@%s>", inc.Ref(), inc.Severity.Label(), inc.TDOID)
	text = fmt.Sprintf("%s: a private %s incident was opened", inc.Ref(), inc.Severity.Label())
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// privateUpdateView is the line the incidents channel hears when a private
// incident's status or severity changes.
func privateUpdateView(inc *incident.Incident, e incident.TimelineEntry) (string, []slack.Block) {
	var line string
	switch e.Kind {
	case incident.EntrySeverity:
		line = fmt.Sprintf(":lock: *%s* · a private incident · severity is now *%s* · TDO <@%s>", inc.Ref(), inc.Severity.Label(), inc.TDOID)
	default:
		line = fmt.Sprintf("%s *%s* · a private %s incident is now *%s* · TDO <@%s>", statusEmoji[inc.Status], inc.Ref(),
			inc.Severity.Label(), inc.Status.Label(), inc.TDOID)
		if e.Kind == incident.EntryReopen {
			line += " · reopened"
		}
		if incident.IsUpdate(e) {
			// What it says stays in its room.
			line = fmt.Sprintf("%s *%s* · a private %s incident posted an update, still *%s* · TDO <@%s>", statusEmoji[inc.Status], inc.Ref(),
				inc.Severity.Label(), inc.Status.Label(), inc.TDOID)
		}
	}
	text := fmt.Sprintf("%s is now %s", inc.Ref(), inc.Status.Label())
	if e.Kind == incident.EntrySeverity {
		text = fmt.Sprintf("%s is now %s", inc.Ref(), inc.Severity.Label())
	}
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// closedLineView is the incidents channel's line for a closed incident.
func closedLineView(inc *incident.Incident, channelID string) (string, []slack.Block) {
	line := fmt.Sprintf(":lock: *%s* · %s · closed · <#%s>", inc.Ref(), escapeFit(inc.Title, 200), channelID)
	if inc.Private {
		line = fmt.Sprintf(":lock: *%s* · a private %s incident · closed · TDO <@%s>", inc.Ref(), inc.Severity.Label(), inc.TDOID)
	}
	return inc.Ref() + " closed", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// madePrivateLineView is the incidents channel's line when an incident is
// made private.
func madePrivateLineView(inc *incident.Incident, actor string) (string, []slack.Block) {
	line := fmt.Sprintf(":lock: *%s* was made private by <@%s>; TDO <@%s>. Its details are for its room's members from now on.",
		inc.Ref(), actor, inc.TDOID)
	return inc.Ref() + " was made private", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// movedNoticeView is posted in the public room an incident made private
// leaves, before it is archived: where the work went, without the title.
func movedNoticeView(inc *incident.Incident, actor string) (string, []slack.Block) {
	line := fmt.Sprintf(":lock: <@%s> made *%s* private. It continues in a private channel: everyone who was here has been invited. "+
		"Ask <@%s> (TDO) to add anyone else. This channel is archived now; do not add details here.", actor, inc.Ref(), inc.TDOID)
	return inc.Ref() + " moved to a private channel", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// privateRoomIntroView opens the private room of an incident made private.
func privateRoomIntroView(inc *incident.Incident, actor, oldChannel string) (string, []slack.Block) {
	line := fmt.Sprintf(":lock: <@%s> made %s private. This private channel replaces <#%s>, which is archived; its members were invited. "+
		"Outside this channel sitrep names %s by its number only.", actor, inc.Ref(), oldChannel, inc.Ref())
	return inc.Ref() + " is private now", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// redactedUpdateView replaces, in the incidents channel, an update about an
// incident posted while it was public, once it is made private.
func redactedUpdateView(inc *incident.Incident) (string, []slack.Block) {
	line := fmt.Sprintf(":lock: *%s* · an update about a private incident, hidden since it was made private", inc.Ref())
	return inc.Ref() + " update hidden", []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// movedHeaderView replaces the header in the public room an incident left
// when it was made private.
func movedHeaderView(inc *incident.Incident) (string, []slack.Block) {
	text := inc.Ref() + " is private now"
	return text, []slack.Block{
		slack.NewHeaderBlock(plain(text)),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("It was made private; its details are for the private channel's members. Ask <@%s> (TDO) to be added.", inc.TDOID))),
	}
}

// movedPartView replaces, in the public room an incident left, the
// messages that moved with it (the "what changed?" list, the plan of
// attack).
func movedPartView(inc *incident.Incident) (string, []slack.Block) {
	text := "Moved to " + inc.Ref() + "'s private channel."
	return text, []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}
}
