package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/access"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Alert intake in Slack: the jobs alert.Service schedules (a triage
// message posted once and updated in place, an incident opened at once, a
// change logged, an incident told of its alert's repeats and resolution,
// the storm digest), the three triage buttons and their forms, and
// /incident alerts. Every message is rendered from the store when the job
// runs, and found again by its metadata before it is posted, so a retried
// job never posts twice.

// alertsCommand lists the alerts of an incident (/incident alerts).
type alertsCommand struct{ Number int64 }

func (alertsCommand) incidentCommand() {}

// usageAlerts is the form of /incident alerts.
const usageAlerts = "/incident alerts [INC-n]"

// maxAlertRefreshRounds bounds how often one run renders a message again
// because its group changed meanwhile.
const maxAlertRefreshRounds = 8

// registerAlertJobs makes the bot run alert intake's jobs, when it has
// alert intake.
func (b *Bot) registerAlertJobs() {
	if b.alerts == nil {
		return
	}
	b.jobs.Handle(alert.JobTriage, b.alertTriageJob)
	b.jobs.Handle(alert.JobOpen, b.alertOpenJob)
	b.jobs.Handle(alert.JobChange, b.alertChangeJob)
	b.jobs.Handle(alert.JobIncident, b.alertIncidentJob)
	b.jobs.Handle(alert.JobDigest, b.alertDigestJob)
}

// keyLocks serialises work on one key (a group's message, a digest)
// within this process, so two jobs never both find no message and post.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu    sync.Mutex
	users int
}

// lock locks key and returns its unlock.
func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// alertPayload reads an alert job's payload.
func alertPayload(j jobs.Job) (alert.JobPayload, error) {
	var p alert.JobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return p, jobs.Permanent(fmt.Errorf("reading %s job payload: %w", j.Kind, err))
	}
	return p, nil
}

// alertGroup loads group id; a group that is not there fails the job for
// good.
func (b *Bot) alertGroup(ctx context.Context, id int64) (*alert.Group, error) {
	g, err := b.alerts.Group(ctx, id)
	if errors.Is(err, alert.ErrNoGroup) {
		return nil, jobs.Permanent(fmt.Errorf("ALR-%d: %w", id, err))
	}
	if err != nil {
		return nil, fmt.Errorf("loading ALR-%d: %w", id, err)
	}
	return g, nil
}

// alertTriageJob posts a group's triage message, or updates it in place.
// A storm group has none: the digest shows it.
func (b *Bot) alertTriageJob(ctx context.Context, j jobs.Job) error {
	p, err := alertPayload(j)
	if err != nil {
		return err
	}
	return b.showTriage(ctx, p.GroupID)
}

// alertChannel returns the ID of the channel where g's triage message and
// storm digest go: its route's, else the alerts channel of the settings,
// else Config.AlertsChannel. A channel ID is taken as it is; a name is
// created or joined.
func (b *Bot) alertChannel(ctx context.Context, g alert.Group) (string, error) {
	name := strings.TrimPrefix(strings.TrimSpace(b.routeChannel(g.Route)), "#")
	if name == "" {
		name = b.cfg.AlertsChannel
	}
	if isChannelID(name) {
		return name, nil
	}
	return b.namedChannel(ctx, name)
}

// isChannelID reports whether s is a conversation ID rather than a name.
func isChannelID(s string) bool {
	if len(s) < 3 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// triageNow renders g's triage message as the store has it.
func (b *Bot) triageNow(ctx context.Context, g *alert.Group) (string, []slack.Block) {
	var inc *incident.Incident
	if g.IncidentID != 0 {
		i, err := b.incidents.Incident(ctx, g.IncidentID)
		if err != nil {
			b.log.Warn("reading the incident of an alert; its message names none", "alert", g.Ref(), "err", err)
		} else {
			inc = i
		}
	}
	return triageView(*g, b.alertSeverity(*g), inc)
}

// showTriage posts group id's triage message if it has none yet (finding
// an earlier attempt's first), records where it is, and then updates it
// until it shows the group as the store has it.
func (b *Bot) showTriage(ctx context.Context, id int64) error {
	defer b.alertLocks.lock("triage:" + strconv.FormatInt(id, 10))()
	g, err := b.alertGroup(ctx, id)
	if err != nil || g.Storm {
		return err
	}
	shown := int64(-1)
	if g.TriageTS == "" {
		channel, err := b.alertChannel(ctx, *g)
		if err != nil {
			return fmt.Errorf("finding the alerts channel for %s: %w", g.Ref(), err)
		}
		e := onceAs(effectAlertTriage, g.Ref())
		// Any run may follow one that posted and died before recording
		// it: look first, whatever the attempt.
		ts, err := b.findOwn(ctx, channel, "", g.FirstSeen.Add(-lookBack), e.marks)
		if err != nil && !cannotRead(err) {
			return fmt.Errorf("%w: %w", errNotSure, err)
		}
		if ts == "" {
			text, blocks := b.triageNow(ctx, g)
			if ts, err = b.postOnce(ctx, channel, e, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
				return err
			}
			shown = g.Version
		}
		before, ref := g.Version, g.Ref()
		if g, err = b.alerts.Posted(ctx, id, channel, ts); err != nil {
			return fmt.Errorf("recording where %s's message is: %w", ref, err)
		}
		if shown == before && g.Version == before+1 {
			shown = g.Version // only the recording changed it
		}
		b.log.Info("alert triage message posted", "alert", g.Ref(), "channel", channel)
	}
	for round := 1; g.Version != shown; round++ {
		if round > maxAlertRefreshRounds {
			// Every change stores a refresh after it: that one shows the
			// rest.
			b.log.Info("an alert kept changing while its message was updated; its next refresh shows the rest", "alert", g.Ref())
			return nil
		}
		text, blocks := b.triageNow(ctx, g)
		err := b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, g.TriageChannel, g.TriageTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			return err
		})
		if c := slackCode(err); c == "message_not_found" || c == "channel_not_found" || c == "is_archived" {
			return jobs.Permanent(fmt.Errorf("updating %s's message: %w", g.Ref(), err))
		}
		if err != nil {
			return fmt.Errorf("updating %s's message: %w", g.Ref(), err)
		}
		shown = g.Version
		if g, err = b.alertGroup(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// alertOpenJob opens the incident of a group whose route says open: the
// source as its reporter, severity and systems from the route or the
// alert, the alert as its first timeline entry after the opening; then it
// records the incident on the group and sets up the room (the rotation's
// TDO is briefed by direct message there). An incident that cannot be
// opened (no rotation names a TDO) is triaged instead, so the alert is
// seen.
func (b *Bot) alertOpenJob(ctx context.Context, j jobs.Job) error {
	p, err := alertPayload(j)
	if err != nil {
		return err
	}
	g, err := b.alertGroup(ctx, p.GroupID)
	if err != nil {
		return err
	}
	if g.IncidentID != 0 {
		return nil // opened, declared or attached already
	}
	if g.Decision == alert.DecisionDismissed {
		return nil
	}
	req := incident.OpenRequest{
		Title:       alertInput(g.Title, incident.MaxTitle),
		Description: alertDescription(*g),
		Severity:    b.alertSeverity(*g),
		Systems:     validSystems(b.alertSystems(*g)),
		ReportedBy:  g.Source.Name(),
		RequestKey:  declareKey(g.ID),
	}
	inc, created, err := b.incidents.Open(ctx, req)
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		b.log.Warn("an alert's route says open, but no incident can be opened; triaging it instead",
			"alert", g.Ref(), "route", g.Route, "problem", fe.Error())
		return b.showTriage(ctx, g.ID)
	}
	if err != nil {
		return fmt.Errorf("opening the incident of %s: %w", g.Ref(), err)
	}
	if _, _, _, err := b.incidents.NoteAlert(ctx, inc.ID, incident.AlertNote{
		Source: g.Source.Name(), Key: alertEntryKey(g.ID, "opened"), Text: alertOpenedText(*g), Link: g.Link,
	}); err != nil && !errors.Is(err, incident.ErrClosed) {
		return fmt.Errorf("writing %s on %s's timeline: %w", g.Ref(), inc.Ref(), err)
	}
	if _, err := b.alerts.Opened(ctx, g.ID, inc.ID); err != nil {
		return fmt.Errorf("recording %s on %s: %w", inc.Ref(), g.Ref(), err)
	}
	b.log.Info("incident opened by an alert", "incident", inc.Ref(), "alert", g.Ref(), "created", created, "tdo", inc.TDOID)
	b.setUpRoom(ctx, inc)
	return nil
}

// alertEntryKey is the key of a timeline entry about group id: what
// became of it ("opened", "joined", "resolved@…").
func alertEntryKey(id int64, what string) string {
	return "alert:" + strconv.FormatInt(id, 10) + ":" + what
}

// alertChangeJob logs the change of a group whose route says change: to
// the route's systems (else the alert's), by the alert's owner, its
// summary the alert's title and what its result lists, source the
// monitoring product; once per alert (its external ID), then recorded on
// the group.
func (b *Bot) alertChangeJob(ctx context.Context, j jobs.Job) error {
	p, err := alertPayload(j)
	if err != nil {
		return err
	}
	g, err := b.alertGroup(ctx, p.GroupID)
	if err != nil {
		return err
	}
	if b.changes == nil {
		return jobs.Permanent(fmt.Errorf("%s's route logs a change, but sitrep has no change log", g.Ref()))
	}
	// The alert the job is about, not the group's latest: each firing of
	// a deploy search is a change of its own.
	a := alertOf(*g)
	if p.AlertID != 0 {
		one, ok, err := b.alerts.GroupAlert(ctx, g.ID, p.AlertID, 200)
		if err != nil {
			return err
		}
		if ok {
			a = one
		}
	}
	systems := b.alertSystems(*g)
	if r := b.alerts.Route(g.Route); len(r.Systems) == 0 && len(a.Systems) > 0 {
		systems = a.Systems
	}
	c := alertChange(g.Ref(), a, systems, changeKey(p))
	batch := []incident.Change{c}
	_, err = b.changes.Log(ctx, batch)
	var be *incident.BatchError
	if errors.As(err, &be) {
		b.log.Warn("an alert's route logs a change, but the change is refused; triaging it instead",
			"alert", g.Ref(), "route", g.Route, "problem", be.Error())
		return b.showTriage(ctx, g.ID)
	}
	if err != nil {
		return fmt.Errorf("logging %s as a change: %w", g.Ref(), err)
	}
	if batch[0].ID != 0 {
		if _, err := b.alerts.Logged(ctx, g.ID, batch[0].ID); err != nil {
			return fmt.Errorf("recording the change of %s: %w", g.Ref(), err)
		}
	}
	b.log.Info("alert logged as a change", "alert", g.Ref(), "systems", strings.Join(c.Systems, ","), "source", string(c.Source))
	return nil
}

// changeKey is the external ID of the change a JobChange logs: one per
// alert, so a retried or repeated job logs it once.
func changeKey(p alert.JobPayload) string {
	if p.AlertID != 0 {
		return fmt.Sprintf("alert:%d:change:%d", p.GroupID, p.AlertID)
	}
	return fmt.Sprintf("alert:%d:change:v%d", p.GroupID, p.Version)
}

// alertOf is g's latest alert, as the group keeps it.
func alertOf(g alert.Group) alert.Alert {
	return alert.Alert{Source: g.Source, Title: g.Title, Severity: g.Severity, Labels: g.Labels, Systems: g.Systems,
		Link: g.Link, Details: g.Details, Status: g.Status, ReceivedAt: g.LastSeen}
}

// alertChange is the change alert a (of group ref) stands for. Person is
// its owner (Splunk's owner label), else the product; the summary is its
// title and what its result lists (the files of a deploy directory
// search), on one line.
func alertChange(ref string, a alert.Alert, systems []string, externalID string) incident.Change {
	person := a.Labels["owner"]
	if person == "" {
		person = a.Source.Name()
	}
	summary := incident.NormalizeTitle(a.Title)
	var listed []string
	for _, l := range strings.Split(a.Details, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "sid:") {
			listed = append(listed, l)
		}
	}
	if len(listed) > 0 {
		summary += ": " + strings.Join(listed, "; ")
	}
	return incident.Change{
		OccurredAt: a.ReceivedAt,
		Systems:    validSystems(systems),
		Person:     truncate(incident.NormalizeTitle(person), incident.MaxChangePerson),
		Summary:    truncate(incident.NormalizeTitle(summary), incident.MaxChangeSummary),
		Reason:     "noticed by " + a.Source.Name() + " (" + ref + ")",
		Link:       linkOrNone(a.Link),
		Kind:       incident.KindDeploy,
		Source:     changeSourceOf(a.Source),
		ExternalID: truncate(externalID, incident.MaxExternalID),
	}
}

// linkOrNone keeps link if it is a web link of acceptable length.
func linkOrNone(link string) string {
	if alertLink(link, "x") == "" || len(link) > 500 {
		return ""
	}
	return link
}

// changeSourceOf is the change source of a monitoring product.
func changeSourceOf(s alert.Source) incident.ChangeSource {
	switch s {
	case alert.SourceAlertmanager:
		return incident.SourceAlertmanager
	case alert.SourceGrafana:
		return incident.SourceGrafana
	case alert.SourceSplunk:
		return incident.SourceSplunk
	case alert.SourcePagerDuty:
		return incident.SourcePagerDuty
	}
	return incident.SourceWebhook
}

// alertIncidentJob tells the incident a group opened or joined what
// became of it: the header's alert line is brought up to date (count,
// last seen), a group that joined is written on the timeline once, and a
// resolution is written on the timeline once and told in the room.
func (b *Bot) alertIncidentJob(ctx context.Context, j jobs.Job) error {
	p, err := alertPayload(j)
	if err != nil {
		return err
	}
	return b.tellIncident(ctx, p.GroupID, p.Resolved)
}

// tellIncident does alertIncidentJob's work for group id.
func (b *Bot) tellIncident(ctx context.Context, id int64, resolved bool) error {
	g, err := b.alertGroup(ctx, id)
	if err != nil || g.IncidentID == 0 {
		return err
	}
	inc, err := b.incidents.Incident(ctx, g.IncidentID)
	if errors.Is(err, incident.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("the incident of %s: %w", g.Ref(), err))
	}
	if err != nil {
		return err
	}
	if g.Decision == alert.DecisionAttached || g.Decision == alert.DecisionDeclared {
		_, _, _, err := b.incidents.NoteAlert(ctx, inc.ID, incident.AlertNote{
			Source: g.Source.Name(), Key: alertEntryKey(g.ID, "joined"), Text: alertOpenedText(*g), Link: g.Link,
		})
		if err != nil && !errors.Is(err, incident.ErrClosed) {
			return fmt.Errorf("writing %s on %s's timeline: %w", g.Ref(), inc.Ref(), err)
		}
	}
	room, err := b.rooms.Room(ctx, inc.ID)
	if errors.Is(err, incident.ErrNotFound) {
		room = nil
	} else if err != nil {
		return err
	}
	if resolved && !g.ResolvedAt.IsZero() {
		key := alertEntryKey(g.ID, "resolved@"+strconv.FormatInt(g.ResolvedAt.UnixMicro(), 10))
		_, entry, _, err := b.incidents.NoteAlert(ctx, inc.ID, incident.AlertNote{
			Source: g.Source.Name(), Key: key, Text: alertResolvedText(*g), Link: g.Link,
		})
		switch {
		case errors.Is(err, incident.ErrClosed):
			b.log.Info("an alert resolved after its incident closed; not written", "alert", g.Ref(), "incident", inc.Ref())
		case err != nil:
			return fmt.Errorf("writing %s's resolution on %s's timeline: %w", g.Ref(), inc.Ref(), err)
		case room != nil && room.ChannelID != "":
			if err := b.tellRoom(ctx, room.ChannelID, entry); err != nil {
				return err
			}
		}
	}
	if room == nil || room.HeaderTS == "" {
		return nil // the header, when posted, shows the alert as it is then
	}
	return b.refreshHeader(ctx, inc, room, false)
}

// tellRoom posts alert entry e in the room channel, once: any run may
// follow one that wrote the entry and posted it, so it looks first.
func (b *Bot) tellRoom(ctx context.Context, channel string, e incident.TimelineEntry) error {
	eff := onceAs(effectAlertRoom, "entry:"+strconv.FormatInt(e.ID, 10))
	ts, err := b.findOwn(ctx, channel, "", e.At.Add(-lookBack), eff.marks)
	if err != nil && !cannotRead(err) {
		return fmt.Errorf("%w: %w", errNotSure, err)
	}
	if ts != "" {
		return nil
	}
	line := ":white_check_mark: " + alertEntryText(e, 2500)
	return b.post(ctx, channel, eff, line, []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)})
}

// withAlertLine adds to an incident header's closing context the alerts
// that opened or joined inc ("Opened by Alertmanager: HighErrorRate ×12
// (firing)"), the first two and how many more.
func (b *Bot) withAlertLine(ctx context.Context, inc *incident.Incident, header []slack.Block) []slack.Block {
	if b.alerts == nil || len(header) == 0 {
		return header
	}
	groups, err := b.alerts.ForIncident(ctx, inc.ID)
	if err != nil {
		b.log.Warn("reading the alerts of an incident; its header shows none", "incident", inc.Ref(), "err", err)
		return header
	}
	if len(groups) == 0 {
		return header
	}
	cb, ok := header[len(header)-1].(*slack.ContextBlock)
	if !ok || len(cb.ContextElements.Elements) >= 10 {
		return header
	}
	var lines []string
	for i, g := range groups {
		if i == 2 {
			lines = append(lines, fmt.Sprintf("and %s more: `%s`", count(len(groups)-i, "alert"), usageAlerts))
			break
		}
		lines = append(lines, alertLine(g))
	}
	out := append([]slack.Block(nil), header[:len(header)-1]...)
	elems := append([]slack.MixedElement{mrkdwn(truncate(strings.Join(lines, "\n"), 1900))}, cb.ContextElements.Elements...)
	return append(out, slack.NewContextBlock(cb.BlockID, elems...))
}

// alertDigestJob posts the storm digest of a route's minute, or updates
// it in place: one message per route and minute, found by its metadata.
func (b *Bot) alertDigestJob(ctx context.Context, j jobs.Job) error {
	p, err := alertPayload(j)
	if err != nil {
		return err
	}
	if p.Route == "" || p.Minute.IsZero() {
		return jobs.Permanent(errors.New("a storm digest job names no route or minute"))
	}
	minute := p.Minute.UTC()
	key := p.Route + "@" + strconv.FormatInt(minute.Unix(), 10)
	defer b.alertLocks.lock("digest:" + key)()
	groups, err := b.alerts.StormGroups(ctx, p.Route, minute)
	if err != nil {
		return fmt.Errorf("reading the storm of route %s: %w", p.Route, err)
	}
	if len(groups) == 0 {
		return nil
	}
	channel, err := b.alertChannel(ctx, groups[0])
	if err != nil {
		return fmt.Errorf("finding the alerts channel for route %s: %w", p.Route, err)
	}
	e := onceAs(effectAlertDigest, key)
	ts, err := b.findOwn(ctx, channel, "", minute.Add(-lookBack), e.marks)
	if err != nil && !cannotRead(err) {
		return fmt.Errorf("%w: %w", errNotSure, err)
	}
	text, blocks := digestView(p.Route, minute, groups)
	if ts == "" {
		_, err := b.postOnce(ctx, channel, e, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	}
	return b.slack.do(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// onAlertButton handles Declare incident, Attach to incident and Not an
// incident on a triage message: each opens its form. A group decided
// already is answered, and its message brought up to date.
func (b *Bot) onAlertButton(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) {
	if b.alerts == nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "Alert intake is not turned on in this sitrep.", "/incident help")
		return
	}
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, "That button names no alert sitrep knows.", "/incident help")
		return
	}
	g, err := b.alerts.Group(ctx, id)
	if err != nil {
		b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, b.couldNot("read the alert", err, "Nothing changed"), "/incident help")
		return
	}
	if g.Decision != alert.DecisionNone {
		b.reply(ctx, cb.Channel.ID, cb.User.ID, ":information_source: "+g.Ref()+" is decided already: "+decisionText(*g, b.incidentOf(ctx, g.IncidentID)), nil)
		if err := b.showTriage(ctx, id); err != nil {
			b.log.Warn("updating a decided alert's message", "alert", g.Ref(), "err", err)
		}
		return
	}
	var view slack.ModalViewRequest
	switch a.ActionID {
	case actionAlertDeclare:
		view = declareModal(*g, b.alertSeverity(*g))
	case actionAlertAttach:
		open, err := b.incidents.Active(ctx)
		if err != nil {
			b.replyUsage(ctx, cb.Channel.ID, cb.User.ID, b.couldNot("list the open incidents", err, "Nothing changed"), "/incident list")
			return
		}
		var live []incident.Incident
		for _, inc := range open {
			if !inc.Closed() {
				live = append(live, inc)
			}
		}
		view = attachModal(*g, live)
	case actionAlertDismiss:
		view = dismissModal(*g)
	}
	b.openForm(ctx, cb.Channel.ID, cb.User.ID, cb.TriggerID, view, "", "/incident help")
}

// incidentOf returns incident id, or nil (none, or not readable).
func (b *Bot) incidentOf(ctx context.Context, id int64) *incident.Incident {
	if id == 0 {
		return nil
	}
	inc, err := b.incidents.Incident(ctx, id)
	if err != nil {
		return nil
	}
	return inc
}

// onAlertForm checks a submitted triage form; the work runs after the
// ack. Answers go to the submitter by direct message (a form has no
// channel), or in the alerts channel when the group's message is known.
func (b *Bot) onAlertForm(cb slack.InteractionCallback) (any, func(context.Context, string)) {
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil || b.alerts == nil {
		b.log.Warn("a triage form names no alert", "metadata", cb.View.PrivateMetadata)
		return nil, nil
	}
	user := cb.User.ID
	switch cb.View.CallbackID {
	case callbackAlertDeclare:
		req, problems := openRequestFromView(cb)
		if len(problems) > 0 {
			return slack.NewErrorsViewSubmissionResponse(problems), nil
		}
		return nil, func(ctx context.Context, _ string) { b.declareAlert(ctx, id, user, req) }
	case callbackAlertAttach:
		v := formValues(cb)[blockAlertIncident][blockAlertIncident].SelectedOption.Value
		incID, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blockAlertIncident: "Choose an incident."}), nil
		}
		return nil, func(ctx context.Context, _ string) { b.attachAlert(ctx, id, incID, user) }
	case callbackAlertDismiss:
		reason := incident.NormalizeTitle(formValues(cb)[blockAlertReason][blockAlertReason].Value)
		if reason == "" {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blockAlertReason: "Say why it is not an incident, e.g. planned maintenance: the reason is kept with the alert."}), nil
		}
		return nil, func(ctx context.Context, _ string) { b.dismissAlert(ctx, id, user, reason) }
	}
	return nil, nil
}

// alertCouldNot is couldNot for alert intake's use cases: a decision the
// group's state refuses (linked already, marked not an incident, a reason
// missing) is the domain's message, said as it is.
func (b *Bot) alertCouldNot(what string, err error, outcome string) string {
	for _, known := range []error{alert.ErrLinked, alert.ErrDismissed, alert.ErrInvalid, alert.ErrNoGroup} {
		if errors.Is(err, known) {
			text := sentence(err.Error())
			if outcome != "" && outcome != "Nothing changed" {
				text += " " + outcome + "."
			}
			return text
		}
	}
	return b.couldNot(what, err, outcome)
}

// answerIn is where an answer about g goes: its message's channel, else
// the person by direct message.
func answerIn(g *alert.Group, user string) string {
	if g != nil && g.TriageChannel != "" {
		return g.TriageChannel
	}
	return user
}

// declareAlert opens the incident a person declared from group id's
// triage message (its request key the group's, so two declarations open
// one), links the group to it, sets up its room and updates the message.
func (b *Bot) declareAlert(ctx context.Context, id int64, user string, req incident.OpenRequest) {
	g, err := b.alerts.Group(ctx, id)
	if err != nil {
		b.replyUsage(ctx, user, user, b.couldNot("read the alert", err, "Nothing was opened"), "/incident help")
		return
	}
	if g.Decision == alert.DecisionDismissed || (g.IncidentID != 0 && g.Decision != alert.DecisionDeclared) {
		b.reply(ctx, answerIn(g, user), user, ":information_source: Nothing was opened: "+g.Ref()+" is decided already: "+
			decisionText(*g, b.incidentOf(ctx, g.IncidentID)), nil)
		return
	}
	// Reported from a form: the room, once ready, is where the reporter is
	// told (they are invited to it); #alerts may not have them.
	req.Reporter, req.ReportedIn, req.RequestKey = user, "", declareKey(g.ID)
	inc, created, err := b.incidents.Open(ctx, req)
	if err != nil {
		b.replyUsage(ctx, answerIn(g, user), user, b.couldNot("record the incident", err, "Nothing was opened"), usageOpen)
		return
	}
	decided, err := b.alerts.Declare(ctx, g.ID, inc.ID, user)
	if err != nil {
		b.replyUsage(ctx, answerIn(g, user), user, b.alertCouldNot("link "+g.Ref()+" to "+inc.Ref(), err, inc.Ref()+" is open all the same"), "/incident help")
	}
	b.log.Info("incident declared from an alert", "incident", inc.Ref(), "alert", g.Ref(), "by", user, "created", created)
	if created {
		b.setUpRoom(ctx, inc)
	}
	if err == nil {
		b.afterDecision(ctx, decided)
	}
}

// attachAlert links group id to an open incident the person picked, if
// they may change it.
func (b *Bot) attachAlert(ctx context.Context, id, incidentID int64, user string) {
	g, err := b.alerts.Group(ctx, id)
	if err != nil {
		b.replyUsage(ctx, user, user, b.couldNot("read the alert", err, "Nothing changed"), "/incident help")
		return
	}
	inc, err := b.incidents.Incident(ctx, incidentID)
	if err != nil {
		b.replyUsage(ctx, answerIn(g, user), user, b.couldNot("find that incident", err, "Nothing changed"), "/incident list")
		return
	}
	if inc.Closed() {
		b.replyUsage(ctx, answerIn(g, user), user, inc.Ref()+" is closed: attach "+g.Ref()+" to an open incident, or declare one.", "/incident list")
		return
	}
	if !b.mayOnIncidentAnswering(ctx, "", answerIn(g, user), user, access.ChangeIncident, inc, "/incident help") {
		return
	}
	decided, err := b.alerts.Attach(ctx, g.ID, inc.ID, user)
	if err != nil {
		b.replyUsage(ctx, answerIn(g, user), user, b.alertCouldNot("attach "+g.Ref()+" to "+inc.Ref(), err, "Nothing changed"), "/incident help")
		return
	}
	b.log.Info("alert attached to an incident", "incident", inc.Ref(), "alert", g.Ref(), "by", user)
	b.afterDecision(ctx, decided)
}

// dismissAlert records that group id is not an incident, and why.
func (b *Bot) dismissAlert(ctx context.Context, id int64, user, reason string) {
	g, err := b.alerts.Dismiss(ctx, id, user, reason)
	if err != nil {
		b.replyUsage(ctx, answerIn(g, user), user, b.alertCouldNot("mark the alert not an incident", err, "Nothing changed"), "/incident help")
		return
	}
	b.log.Info("alert marked not an incident", "alert", g.Ref(), "by", user)
	b.afterDecision(ctx, g)
}

// afterDecision shows decided group g at once, through the durable jobs
// the decision stored (their keys are alert.Service's): its triage message
// updated and, when it joined an incident, the incident told. A job that
// fails here is retried by the sweeper; run now, it is not run again.
func (b *Bot) afterDecision(ctx context.Context, g *alert.Group) {
	now := b.clock.Now()
	payload, _ := json.Marshal(alert.JobPayload{GroupID: g.ID, Version: g.Version})
	todo := []jobs.Job{{Kind: alert.JobTriage, Key: fmt.Sprintf("%s:%d:v%d", alert.JobTriage, g.ID, g.Version), Payload: payload, DueAt: now}}
	if g.IncidentID != 0 {
		how := "attached"
		if g.Decision == alert.DecisionDeclared {
			how = "declared" // Declare stores none: this is the incident's only word of it
		}
		todo = append(todo, jobs.Job{Kind: alert.JobIncident, Key: fmt.Sprintf("%s:%d:%s@%d", alert.JobIncident, g.ID, how, g.IncidentID),
			Payload: payload, DueAt: now})
	}
	for _, j := range todo {
		if _, err := b.jobs.RunJob(ctx, j); err != nil && !jobs.IsLater(err) {
			b.log.Warn("showing an alert's decision; its job retries", "alert", g.Ref(), "job", j.Kind, "err", err)
		}
	}
}

// onIncidentAlerts handles /incident alerts: the alerts that opened or
// joined the incident.
func (b *Bot) onIncidentAlerts(ctx context.Context, cmd slack.SlashCommand, c alertsCommand) {
	inc, ok := b.findIncident(ctx, cmd, c.Number, usageAlerts)
	if !ok || !b.maySee(ctx, cmd.ChannelID, cmd.UserID, inc, usageAlerts) {
		return
	}
	var groups []alert.Group
	if b.alerts != nil {
		var err error
		if groups, err = b.alerts.ForIncident(ctx, inc.ID); err != nil {
			b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, b.couldNot("read the alerts of "+inc.Ref(), err, ""), usageAlerts)
			return
		}
	}
	text, blocks := incidentAlertsView(inc, groups)
	b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
}
