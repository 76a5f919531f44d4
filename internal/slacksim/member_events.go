package slacksim

import (
	"context"
	"strconv"
	"time"
)

// memberEventLocked builds the member_joined_channel (joined) or
// member_left_channel event of user in ch, as Slack documents it: type,
// user, channel, channel_type ("C" public, "G" private), team, and for a
// join by invitation the inviter. It returns nil when the app would get
// none: not subscribed (Options.MemberEvents), a direct message, a channel
// the bot is not in, or the bot itself. Call with s.mu held.
func (s *Sim) memberEventLocked(ch *channel, user, inviter string, joined bool) map[string]any {
	if !s.opts.MemberEvents || ch.IsIM || !ch.members[s.opts.BotUserID] || user == s.opts.BotUserID {
		return nil
	}
	kind := "C"
	if ch.IsPrivate {
		kind = "G"
	}
	ev := map[string]any{
		"type":         "member_left_channel",
		"user":         user,
		"channel":      ch.ID,
		"channel_type": kind,
		"team":         s.opts.TeamID,
		"event_ts":     strconv.FormatInt(s.opts.Now().Unix(), 10) + ".000100",
	}
	if joined {
		ev["type"] = "member_joined_channel"
		if inviter != "" {
			ev["inviter"] = inviter
		}
	}
	return ev
}

// sendMemberEvent sends ev (nil: nothing) to the app. With wait it returns
// once the event was acked or could not be delivered; else it is sent in
// the background, as Slack sends events after the call that caused them.
// With no Socket Mode connection open the event is dropped (and logged).
func (s *Sim) sendMemberEvent(ev map[string]any, wait bool) {
	if ev == nil {
		return
	}
	send := func() {
		if s.Connections() == 0 {
			s.log.Debug("slacksim: no connection for a member event; dropped", "type", ev["type"], "channel", ev["channel"])
			return
		}
		limit := s.opts.AckTimeout * time.Duration(max(s.opts.EventRetries, 0)+2)
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		go func() {
			select {
			case <-s.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := s.SendEvent(ctx, ev); err != nil {
			s.log.Debug("slacksim: member event not delivered", "type", ev["type"], "err", err)
		}
	}
	if wait {
		send()
		return
	}
	select {
	case <-s.closed:
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		send()
	}()
}
