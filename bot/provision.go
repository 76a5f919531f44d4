package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// The steps of setting up an incident room. The channel comes first and is
// saved at once (its ID must survive a crash); the other steps run in lanes
// at the same time (see provision) and the room is saved once more at the
// end, Ready. A step done but not saved (a crash in between) is done again
// by the retry, and each is safe to redo: a message is found again by its
// metadata (postOnce), an invitation answers already_in_channel, a pin
// already_pinned, and a topic is set to the same text.
const (
	stepChannel  = "channel"
	stepInvite   = "invite"
	stepTopic    = "topic"
	stepHeader   = "header"
	stepPin      = "pin"
	stepChanges  = "changes"
	stepAnnounce = "announce"
	stepNotify   = "notify"
	stepBrief    = "brief"
)

// writtenAhead are the steps recorded as done before they are done: their
// effect (an ephemeral answer) cannot be looked up in Slack, so a retry
// must never repeat it; a crash in between loses it instead.
var writtenAhead = map[string]bool{stepNotify: true, stepQueued: true}

// maxNameSuffix bounds the suffixes tried when a channel name is taken.
const maxNameSuffix = 20

// settleWaits are the waits before each retry of a call that answered
// channel_not_found on a channel Slack has just created (Slack's eventual
// consistency lasts a few hundred milliseconds): 1.5 s in all, so a room is
// ready in under 2 s, then the job queue takes over.
var settleWaits = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// settling runs try, and again after each of the settle waits for as long
// as it reports that Slack does not know a channel it has just created.
func settling(ctx context.Context, try func() (unknown bool)) {
	for _, wait := range settleWaits {
		if !try() || sleep(ctx, wait) != nil {
			return
		}
	}
	try()
}

// provisionJob runs the incident.JobProvision job: set up the incident's room.
func (b *Bot) provisionJob(ctx context.Context, j jobs.Job) error {
	var p incident.ProvisionPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("reading provision job payload: %w", err))
	}
	inc, err := b.incidents.Incident(ctx, p.IncidentID)
	if errors.Is(err, incident.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("incident %d: %w", p.IncidentID, err))
	}
	if err != nil {
		return fmt.Errorf("loading incident %d: %w", p.IncidentID, err)
	}
	room, err := b.rooms.Room(ctx, inc.ID)
	if errors.Is(err, incident.ErrNotFound) {
		room = &incident.Room{IncidentID: inc.ID}
	} else if err != nil {
		return fmt.Errorf("loading the room of %s: %w", inc.Ref(), err)
	}
	err = b.provision(ctx, inc, room)
	var wait *waitTurn
	if errors.As(err, &wait) {
		return wait.later
	}
	if err != nil && !room.Did(stepChannel) && !room.Did(stepQueued) && j.Attempts == 1 && inc.ReporterID != "" {
		// Tell the reporter once; the success message follows when a
		// later attempt gets through.
		text, blocks := usageReply(provisionDelayedReply(inc, failureReason(err)), "")
		b.reply(ctx, inc.ReportedIn, inc.ReporterID, text, blocks)
	}
	return err
}

// roomStep is one step of setting up a room.
type roomStep struct {
	name string
	do   func(context.Context, *incident.Incident, *incident.Room) error
	// optional steps that fail for good are logged and skipped: the room
	// is usable without them.
	optional bool
}

// provision does the room's remaining steps: the channel (saved at once),
// then the others in lanes that run at the same time, since none waits for
// another across lanes. The announcement (in the incidents channel) and the
// brief (a direct message) start at once; in the new channel the
// invitation goes first, as Slack may not know the channel for a moment
// (it is retried in place until Slack does), then the header with its pin
// (and "what changed?" and the plan of attack, when they do not fit in the
// header) and the topic. The room is saved once more when all are done,
// Ready and with the reporter's answer recorded ahead, and then the
// reporter is told. When a step fails, what the others did is saved before
// the error is returned, so the retry does only the rest.
//
// Each lane sets room fields of its own (HeaderTS, AnnouncementTS, ...);
// the steps done are marked under a lock.
func (b *Bot) provision(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if !room.Did(stepChannel) {
		if err := b.createPaced(ctx, inc, room); err != nil {
			return err
		}
		room.Mark(stepChannel)
		if err := b.saveRoom(ctx, room); err != nil {
			return err
		}
	}
	l := &lanes{b: b, inc: inc, room: room}
	l.run(ctx,
		func(ctx context.Context) error {
			invited := l.steps(ctx, roomStep{stepInvite, b.inviteResponders, false})
			inChannel := l.run(ctx,
				func(ctx context.Context) error {
					return l.steps(ctx, roomStep{stepHeader, b.postHeader, false}, roomStep{stepPin, b.pinHeader, true},
						roomStep{stepChanges, b.postWhatChanged, true}, roomStep{stepPlan, b.postPlan, true})
				},
				func(ctx context.Context) error { return l.steps(ctx, roomStep{stepTopic, b.setTopicOnce, true}) })
			return errors.Join(invited, inChannel)
		},
		func(ctx context.Context) error { return l.steps(ctx, roomStep{stepAnnounce, b.announce, true}) },
		func(ctx context.Context) error { return l.steps(ctx, roomStep{stepBrief, b.briefAtOpen, true}) },
	)
	if err := l.err(); err != nil {
		if serr := b.saveRoom(ctx, room); serr != nil {
			b.log.Warn("saving the steps done before one failed; the retry does them again", "incident", inc.Ref(), "err", serr)
		}
		return err
	}
	if room.Ready && room.Did(stepNotify) {
		return nil
	}
	notify := !room.Did(stepNotify)
	room.Mark(stepNotify) // written ahead: an ephemeral answer cannot be looked up
	room.Ready = true
	if err := b.saveRoom(ctx, room); err != nil {
		return err
	}
	if notify {
		return b.notifyReporter(ctx, inc, room)
	}
	return nil
}

// lanes runs a room's steps in lanes at once, marking the steps done
// under a lock and keeping the errors of those that failed.
type lanes struct {
	b    *Bot
	inc  *incident.Incident
	room *incident.Room

	mu   sync.Mutex // guards room.Done and errs
	errs []error
}

// run runs each lane in a goroutine of its own and waits for them all; it
// returns their errors joined.
func (l *lanes) run(ctx context.Context, lanes ...func(context.Context) error) error {
	errs := make([]error, len(lanes))
	var wg sync.WaitGroup
	for i, lane := range lanes {
		wg.Go(func() { errs[i] = lane(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// steps does the steps not done yet in order, stopping at the first that
// fails, whose error it keeps and returns.
func (l *lanes) steps(ctx context.Context, steps ...roomStep) error {
	for _, s := range steps {
		l.mu.Lock()
		did := l.room.Did(s.name)
		l.mu.Unlock()
		if did {
			continue
		}
		err := l.b.roomStep(ctx, l.inc, l.room, s)
		l.mu.Lock()
		if err != nil {
			l.errs = append(l.errs, err)
		} else {
			l.room.Mark(s.name)
		}
		l.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// err returns the errors of the steps that failed, joined.
func (l *lanes) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.errs...)
}

// roomStep does step s, retrying in place for a moment while Slack does
// not know the channel it has just created, rather than leave the room to
// the job queue. An optional step that fails for good is logged and
// counts as done.
func (b *Bot) roomStep(ctx context.Context, inc *incident.Incident, room *incident.Room, s roomStep) error {
	var err error
	settling(ctx, func() bool {
		err = s.do(ctx, inc, room)
		return s.name != stepChannel && slackCode(err) == "channel_not_found"
	})
	if err == nil {
		return nil
	}
	if !s.optional || isTransient(err) {
		return fmt.Errorf("setting up %s (%s): %w", inc.Ref(), s.name, err)
	}
	b.log.Error("incident room step failed for good; skipped", "incident", inc.Ref(), "step", s.name, "err", err)
	return nil
}

func (b *Bot) saveRoom(ctx context.Context, room *incident.Room) error {
	room.UpdatedAt = b.clock.Now()
	if err := b.rooms.SaveRoom(ctx, room); err != nil {
		return fmt.Errorf("saving room of incident %d: %w", room.IncidentID, err)
	}
	return nil
}

// isTransient reports whether a failed step may succeed later: Slack may
// recover, a step cut short by shutdown is simply not done yet, and one
// that could not tell whether it was done already may tell next time.
func isTransient(err error) bool {
	return transient(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, errNotSure)
}

// createChannel creates inc-<n>-<slug>, with a suffix if the name is taken.
// A private incident's channel is private and named inc-<n>-private:
// channel names show in places its members do not control (links,
// mentions, exports), so they carry no title.
func (b *Bot) createChannel(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	title := inc.Title
	if inc.Private {
		title = privateChannelTitle
		room.Mark(stepPrivateRoom)
	}
	for suffix := 1; suffix <= maxNameSuffix; suffix++ {
		name := channelName(inc.Number, title, suffix)
		var ch *slack.Channel
		err := b.slack.do(ctx, "conversations.create", func(ctx context.Context) error {
			var err error
			ch, err = b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
			return err
		})
		if slackCode(err) == "name_taken" {
			// The name may be taken by our own earlier try, whose answer was
			// lost: then that channel is the room.
			id, err := b.ownChannel(ctx, inc, name)
			if err != nil {
				return err
			}
			if id != "" {
				b.log.Info("adopted the channel an earlier try created", "incident", inc.Ref(), "channel", name)
				room.ChannelID, room.ChannelName = id, name
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		room.ChannelID, room.ChannelName = ch.ID, ch.Name
		return nil
	}
	return fmt.Errorf("every channel name from %s to -%d is taken", channelName(inc.Number, title, 1), maxNameSuffix)
}

// ownChannel returns the ID of the channel called name if sitrep itself
// created it, it is not archived, and no other incident has it as its room:
// the channel an earlier conversations.create made before its answer was
// lost. It returns "" for a channel that is someone else's. A channel just
// created may not be listed yet, so a name that is taken but not found is
// looked for again for a moment.
func (b *Bot) ownChannel(ctx context.Context, inc *incident.Incident, name string) (string, error) {
	self, err := b.self(ctx)
	if err != nil {
		return "", err
	}
	var ch *slack.Channel
	settling(ctx, func() bool {
		ch, err = b.channelNamed(ctx, name)
		return err == nil && ch == nil
	})
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// Slack's clock and ours may differ a little; a channel made before the
	// incident opened is an older one of the same name.
	if ch == nil || ch.Creator != self || ch.IsArchived || ch.Created.Time().Before(inc.OpenedAt.Add(-5*time.Minute)) {
		return "", nil
	}
	other, err := b.rooms.RoomByChannel(ctx, ch.ID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return ch.ID, nil
	case err != nil:
		return "", fmt.Errorf("checking who has channel #%s: %w", name, err)
	case other.IncidentID == inc.ID:
		return ch.ID, nil
	}
	return "", nil
}

// inviteResponders invites the reporter and the TDO.
func (b *Bot) inviteResponders(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	var users []string // monitoring reports with no person to invite
	for _, u := range []string{inc.ReporterID, inc.TDOID} {
		if u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return nil
	}
	err := b.slack.do(ctx, "conversations.invite", func(ctx context.Context) error {
		_, err := b.api.InviteUsersToConversationContext(ctx, room.ChannelID, users...)
		return err
	})
	switch slackCode(err) {
	case "already_in_channel", "cant_invite_self":
		return nil
	}
	return err
}

// setTopic sets the channel topic: severity, status, TDO.
func (b *Bot) setTopic(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	topic := topicText(inc, b.userName(ctx, inc.TDOID))
	return b.slack.do(ctx, "conversations.setTopic", func(ctx context.Context) error {
		_, err := b.api.SetTopicOfConversationContext(ctx, room.ChannelID, topic)
		return err
	})
}

// setTopicOnce sets the room's topic, unless a retry finds it set already:
// Slack tells the channel each time its topic is set, even to the same
// text.
func (b *Bot) setTopicOnce(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if j, ok := jobs.Current(ctx); ok && j.Attempts > 1 {
		var ch *slack.Channel
		err := b.slack.do(ctx, "conversations.info", func(ctx context.Context) error {
			var err error
			ch, err = b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: room.ChannelID})
			return err
		})
		if err == nil && ch.Topic.Value == topicText(inc, b.userName(ctx, inc.TDOID)) {
			return nil
		}
	}
	return b.setTopic(ctx, inc, room)
}

// postHeader posts the header message that the room keeps pinned, with
// "what changed?" and the plan of attack in it when they fit (see
// fitParts); a part that does not fit is left to its own step. It runs
// while other lanes mark their steps, so it reads no room.Done.
func (b *Bot) postHeader(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	var changes, plan []slack.Block
	if b.changes != nil && room.ChangesTS == "" {
		shown, err := b.collectChanges(ctx, inc, b.cfg.WhatChangedWindow)
		if err != nil {
			return err
		}
		_, changes = whatChangedView(inc, shown, nil, b.cfg.WhatChangedWindow)
	}
	if hasPlan(inc) && room.PlanTS == "" {
		_, plan = planView(inc, nil)
	}
	return b.postHeaderWith(ctx, inc, room, nil, changes, plan)
}

// postHeaderWith posts inc's header, with suspects, carrying the parts
// given that fit; the room records the message as its header and as its
// "what changed?" list and plan of attack for the parts it carries.
func (b *Bot) postHeaderWith(ctx context.Context, inc *incident.Incident, room *incident.Room, suspects []string, changes, plan []slack.Block) error {
	parts := fitParts(changes, plan)
	text, header := headerView(inc, inc.ReportedIn, suspects)
	header = b.withAlertLine(ctx, inc, header)
	blocks := headerMessageView(header, parts, changes, plan)
	ts, err := b.postOnce(ctx, room.ChannelID, onceAs(effectHeader, inc.Ref()),
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return err
	}
	room.HeaderTS = ts
	if parts.changes {
		room.ChangesTS = ts
	}
	if parts.plan {
		room.PlanTS = ts
	}
	return nil
}

// mergedParts returns the parts that room's header message carries.
func mergedParts(room *incident.Room) headerParts {
	return headerParts{
		changes: room.ChangesTS != "" && room.ChangesTS == room.HeaderTS,
		plan:    room.PlanTS != "" && room.PlanTS == room.HeaderTS,
	}
}

// headerNow renders room's header message as the store has it: the
// incident, the suspects, and the parts it carries with their verdicts and
// ticks.
func (b *Bot) headerNow(ctx context.Context, inc *incident.Incident, room *incident.Room) (string, []slack.Block, error) {
	parts := mergedParts(room)
	var timeline []incident.TimelineEntry
	var shown []incident.ShownChange
	var err error
	if b.changes != nil || parts.plan {
		if timeline, err = b.incidents.Timeline(ctx, inc); err != nil {
			return "", nil, err
		}
	}
	verdicts := incident.Verdicts(timeline)
	if b.changes != nil && (parts.changes || len(verdicts) > 0) {
		if shown, err = b.changes.Shown(ctx, inc.ID); err != nil {
			return "", nil, err
		}
	}
	text, header := headerView(inc, inc.ReportedIn, suspectLines(shown, verdicts))
	header = b.withAlertLine(ctx, inc, header)
	var changes, plan []slack.Block
	if parts.changes {
		_, changes = whatChangedView(inc, shown, verdicts, b.cfg.WhatChangedWindow)
	}
	if parts.plan {
		_, plan = planView(inc, incident.Diagnostics(timeline))
	}
	return text, headerMessageView(header, parts, changes, plan), nil
}

// refreshHeader renders room's header message from the store (and the
// topic, if withTopic). Changes shown at the same time can reach Slack out
// of order, so after each update it reads the store again and renders once
// more if the incident, or what the message shows of it, changed: whichever
// update lands last is followed by such a check, and Slack ends up showing
// what the store holds.
func (b *Bot) refreshHeader(ctx context.Context, inc *incident.Incident, room *incident.Room, withTopic bool) error {
	merged := mergedParts(room) != headerParts{}
	for round := 1; ; round++ {
		text, blocks, err := b.headerNow(ctx, inc, room)
		if err != nil {
			return err
		}
		if err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, room.ChannelID, room.HeaderTS,
				slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		}); err != nil {
			return err
		}
		if withTopic {
			if err := b.setTopic(ctx, inc, room); err != nil {
				return err
			}
		}
		now, err := b.incidents.Incident(ctx, inc.ID)
		if err != nil {
			return err
		}
		same := reflect.DeepEqual(now, inc)
		if same && merged {
			_, again, err := b.headerNow(ctx, now, room)
			if err != nil {
				return err
			}
			same = sameBlocks(blocks, again)
		}
		if same {
			return nil
		}
		if round == maxRefreshRounds {
			return fmt.Errorf("%s kept changing while its header was updated", inc.Ref())
		}
		inc = now
	}
}

// sameBlocks reports whether two renderings are the same message.
func sameBlocks(a, b []slack.Block) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// pinHeader pins the header.
func (b *Bot) pinHeader(ctx context.Context, _ *incident.Incident, room *incident.Room) error {
	err := b.slack.do(ctx, "pins.add", func(ctx context.Context) error {
		return b.api.AddPinContext(ctx, room.ChannelID, slack.NewRefToMessage(room.ChannelID, room.HeaderTS))
	})
	if slackCode(err) == "already_pinned" {
		return nil
	}
	return err
}

// announce posts the new incident in the incidents channel.
func (b *Bot) announce(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	channel, err := b.incidentsChannel(ctx)
	if err != nil {
		return err
	}
	text, blocks := announcementView(inc, room.ChannelID)
	if inc.Private {
		text, blocks = privateAnnouncementView(inc)
	}
	ts, err := b.postOnce(ctx, channel, onceAs(effectAnnouncement, inc.Ref()),
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		room.AnnouncementTS = ts
	}
	return err
}

// notifyReporter tells the reporter, where they reported it, that the room is
// ready.
func (b *Bot) notifyReporter(ctx context.Context, inc *incident.Incident, room *incident.Room) error {
	if inc.ReporterID == "" {
		return nil // monitoring reported it: nobody to tell
	}
	channel := inc.ReportedIn
	if channel == "" {
		channel = room.ChannelID
	}
	b.reply(ctx, channel, inc.ReporterID, openedReply(inc, room.ChannelID), nil)
	return nil
}

// incidentsChannel returns the ID of the configured incidents channel,
// creating it or joining it the first time if need be.
func (b *Bot) incidentsChannel(ctx context.Context) (string, error) {
	return b.namedChannel(ctx, b.cfg.IncidentsChannel)
}

// namedChannel returns the ID of the public channel called name, creating
// it or joining it the first time if need be.
func (b *Bot) namedChannel(ctx context.Context, name string) (string, error) {
	b.channelMu.Lock()
	defer b.channelMu.Unlock()
	if id, ok := b.channels[name]; ok {
		return id, nil
	}
	id, member, err := b.findChannel(ctx, name)
	if err != nil {
		return "", err
	}
	switch {
	case id == "":
		err = b.slack.do(ctx, "conversations.create", func(ctx context.Context) error {
			ch, err := b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name})
			if err == nil {
				id = ch.ID
			}
			return err
		})
		if err != nil {
			return "", fmt.Errorf("creating channel #%s: %w", name, err)
		}
		b.log.Info("created channel", "channel", name, "id", id)
		b.awaitChannel(ctx, id)
	case !member:
		err = b.slack.do(ctx, "conversations.join", func(ctx context.Context) error {
			_, _, _, err := b.api.JoinConversationContext(ctx, id)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("joining channel #%s: %w", name, err)
		}
	}
	b.channels[name] = id
	return id, nil
}

// awaitChannel waits, for at most the settle waits, until Slack answers for
// the channel id it has just created: for a moment after
// conversations.create other calls may answer channel_not_found.
func (b *Bot) awaitChannel(ctx context.Context, id string) {
	settling(ctx, func() bool {
		err := b.slack.do(ctx, "conversations.info", func(ctx context.Context) error {
			_, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
			return err
		})
		return slackCode(err) == "channel_not_found"
	})
}

// findChannel looks an unarchived public channel up by name.
func (b *Bot) findChannel(ctx context.Context, name string) (id string, member bool, err error) {
	ch, err := b.listChannels(ctx, name, true, "public_channel")
	if ch == nil || err != nil {
		return "", false, err
	}
	return ch.ID, ch.IsMember, nil
}

// channelNamed looks a channel up by name, archived ones included: a
// public one, or a private one the bot is in (Slack lists no other); nil if
// there is none.
func (b *Bot) channelNamed(ctx context.Context, name string) (*slack.Channel, error) {
	return b.listChannels(ctx, name, false, "public_channel", "private_channel")
}

// listChannels pages through the channels of types for the one called name.
func (b *Bot) listChannels(ctx context.Context, name string, excludeArchived bool, types ...string) (*slack.Channel, error) {
	cursor := ""
	for {
		var page []slack.Channel
		err := b.slack.do(ctx, "conversations.list", func(ctx context.Context) error {
			var err error
			page, cursor, err = b.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, Limit: 200, ExcludeArchived: excludeArchived, Types: types,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("looking for channel #%s: %w", name, err)
		}
		for i := range page {
			if page[i].Name == name {
				return &page[i], nil
			}
		}
		if cursor == "" {
			return nil, nil
		}
	}
}

// userName returns a user's real name (else display name, else handle)
// for plain text such as topics; on failure it falls back to the user ID.
func (b *Bot) userName(ctx context.Context, id string) string {
	name, err := b.lookupUser(ctx, id)
	if err != nil {
		b.log.Warn("looking up user name", "user", id, "err", err)
		return id
	}
	return name
}

// lookupUser returns a user's name from a cache refreshed hourly, asking
// Slack (users.info) on a miss; an unknown user is Slack's user_not_found.
func (b *Bot) lookupUser(ctx context.Context, id string) (string, error) {
	u, err := b.userFacts(ctx, id)
	return u.name, err
}

// userFacts returns what sitrep knows of a user (name, whether a bot) from
// a cache refreshed hourly, asking Slack (users.info) on a miss.
func (b *Bot) userFacts(ctx context.Context, id string) (userInfo, error) {
	b.usersMu.Lock()
	u, ok := b.users[id]
	b.usersMu.Unlock()
	if ok && b.clock.Now().Sub(u.fetched) < time.Hour {
		return u, nil
	}
	var user *slack.User
	err := b.slack.do(ctx, "users.info", func(ctx context.Context) error {
		var err error
		user, err = b.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return userInfo{}, err
	}
	u = userInfo{name: displayName(user), isBot: user.IsBot || user.ID == "USLACKBOT", tz: user.TZ, fetched: b.clock.Now()}
	b.usersMu.Lock()
	b.users[id] = u
	b.usersMu.Unlock()
	return u, nil
}
