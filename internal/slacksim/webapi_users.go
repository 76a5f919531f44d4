package slacksim

import "time"

func (s *Sim) authTest(_ *request) response {
	return ok(response{
		"url":                   "https://" + s.opts.TeamDomain + ".slack.com/",
		"team":                  s.opts.TeamName,
		"user":                  s.opts.BotName,
		"team_id":               s.opts.TeamID,
		"user_id":               s.opts.BotUserID,
		"bot_id":                s.opts.BotID,
		"is_enterprise_install": false,
	})
}

func (s *Sim) usersInfo(r *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.ws.users[r.get("user")]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(response{"user": s.userJSON(u)})
}

// userJSON renders a user as users.info does.
func (s *Sim) userJSON(u *User) map[string]any {
	tz := u.TZ
	if tz == "" {
		tz = "UTC"
	}
	offset, label := 0, tz
	if loc, err := time.LoadLocation(tz); err == nil {
		name, off := s.opts.Now().In(loc).Zone()
		offset, label = off, zoneLabel(name)
	}
	display := u.DisplayName
	if display == "" {
		display = u.Name
	}
	out := map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "deleted": false,
		"real_name": u.RealName, "tz": tz, "tz_label": label, "tz_offset": offset,
		"is_bot": u.IsBot, "is_admin": false, "is_owner": false, "is_app_user": false,
		"updated": s.opts.Now().Unix(),
		"profile": map[string]any{
			"real_name": u.RealName, "real_name_normalized": u.RealName,
			"display_name": display, "display_name_normalized": display,
			"team": s.opts.TeamID,
		},
	}
	if u.IsBot {
		out["profile"].(map[string]any)["bot_id"] = s.opts.BotID
	}
	return out
}

// zoneLabels are the long names Slack gives in tz_label ("Pacific Standard
// Time") for the zone abbreviations Go's time package knows; others are
// shown as the abbreviation.
var zoneLabels = map[string]string{
	"UTC": "Coordinated Universal Time", "GMT": "Greenwich Mean Time", "BST": "British Summer Time",
	"CET": "Central European Time", "CEST": "Central European Summer Time",
	"EET": "Eastern European Time", "EEST": "Eastern European Summer Time",
	"EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time", "CST": "Central Standard Time",
	"CDT": "Central Daylight Time", "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
	"PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time", "JST": "Japan Standard Time",
	"KST": "Korea Standard Time", "AEST": "Australian Eastern Standard Time", "AEDT": "Australian Eastern Daylight Time",
}

// zoneLabel returns the long name of a zone abbreviation, as tz_label
// carries it.
func zoneLabel(abbrev string) string {
	if l, ok := zoneLabels[abbrev]; ok {
		return l
	}
	return abbrev
}
