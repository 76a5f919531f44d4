package bot

import (
	"context"

	"github.com/sitrep/sitrep/incident"
)

// MaySee reports whether user may see private incident inc's details on
// the web dashboard, by the permission model Slack's surface uses
// (access.SeeIncident): a member of its room, its TDO or a commander.
// Everyone may see a public incident. When the permission model cannot be
// asked (Slack unreachable), the answer is no. A person on the web is in
// no channel, so membership is looked up, never assumed.
func (b *Bot) MaySee(ctx context.Context, user string, inc *incident.Incident) bool {
	return b.canSee(ctx, "", user, inc)
}
