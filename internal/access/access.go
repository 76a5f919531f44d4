// Package access decides who may do what in sitrep: one permission model
// for incidents, postmortems and checklists, so that no handler carries a
// rule of its own and no command is a way around another's rule.
//
// A Policy answers Check with nil (allowed) or a *Refusal that names the
// rule and who may do it, written for the person refused. It knows nothing
// of Slack: who is in a channel and who is in a group come from a
// Directory, which the bot implements over the Slack API.
package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Action is something a person asks sitrep to do to a Target.
type Action string

// The actions the policy rules on.
const (
	// ChangeIncident is any change to an incident that is not ruled on
	// below: status, raising severity, note, cost, link, timebox, restore,
	// problem links, reopening.
	ChangeIncident Action = "incident.change"
	// LowerSeverity lowers an incident's severity.
	LowerSeverity Action = "incident.lower_severity"
	// CloseIncident closes an incident.
	CloseIncident Action = "incident.close"
	// GiveRole gives a role (comms, scribe) in an incident.
	GiveRole Action = "incident.role"
	// HandOver makes someone the incident's TDO, including taking command.
	HandOver Action = "incident.hand_over"
	// MakePrivate makes an incident private.
	MakePrivate Action = "incident.make_private"
	// SeeIncident sees a private incident's title, systems and timeline.
	SeeIncident Action = "incident.see"
	// StartPostmortem starts an incident's postmortem.
	StartPostmortem Action = "postmortem.start"
	// MovePostmortem moves a postmortem between its phases (or ends it).
	MovePostmortem Action = "postmortem.phase"
	// HandFacilitation makes someone the postmortem's facilitator.
	HandFacilitation Action = "postmortem.facilitator"
	// AddPostmortemEntry adds (or corrects) a timeline entry, an issue or
	// an action in a postmortem.
	AddPostmortemEntry Action = "postmortem.entry"
	// CompleteAction marks a postmortem action done (or not done).
	CompleteAction Action = "postmortem.action_done"
	// TickChecklist ticks or unticks a step of a checklist run.
	TickChecklist Action = "checklist.tick"
	// AbortChecklist aborts a checklist run.
	AbortChecklist Action = "checklist.abort"
)

// Target is what an action is done to: an incident, its postmortem, a
// postmortem action or a checklist run. Only the fields the action's rule
// reads need be set.
type Target struct {
	// Ref names the target in answers: "INC-3", "CL-2".
	Ref string
	// Room is the channel whose members may act: the incident's room, or
	// the channel a checklist runs in. Empty while it has none.
	Room string
	// TDO is the incident's technical duty officer.
	TDO string
	// Facilitator is the postmortem's facilitator, if any.
	Facilitator string
	// Owner is a postmortem action's owner.
	Owner string
	// Starter is who started a checklist run.
	Starter string
	// Private marks a private incident.
	Private bool
	// Message is the message a checklist run is shown on (its ts), once
	// posted: a tick must come from it.
	Message string
}

// Request is one person asking for one action on one target.
type Request struct {
	// Actor is the person asking (a user ID).
	Actor string
	// Channel is where they typed or clicked: being there shows they are a
	// member of it.
	Channel string
	// Message is the message clicked (its ts), for a tick.
	Message string
	Action  Action
	Target  Target
}

// Refusal is the error of a refused request. Its text is for the person
// refused: what they may not do and who may.
type Refusal struct {
	Action Action
	// Rule names the rule that refused, for the log and metrics: "room",
	// "tdo", "facilitator", "owner", "starter", "channel".
	Rule string
	Text string
}

func (r *Refusal) Error() string { return r.Text }

// UserError marks a Refusal as written for users (incident.UserError).
func (*Refusal) UserError() {}

// Directory says who is in a channel and who is in a user group. The bot
// implements it over Slack (conversations.members, usergroups.users.list),
// never trusting a payload's word for either.
type Directory interface {
	// IsMember reports whether user is in channel.
	IsMember(ctx context.Context, channel, user string) (bool, error)
	// GroupMembers returns the users of a user group.
	GroupMembers(ctx context.Context, group string) ([]string, error)
}

// Who may change an incident (Settings.Changes).
const (
	// ChangesRoom lets the members of an incident's room change it (the
	// default).
	ChangesRoom = "room"
	// ChangesAnyone lets anyone in the workspace change any incident.
	ChangesAnyone = "anyone"
)

// Who may hand over leadership or give a role (Settings.Handover).
const (
	// HandoverChannel lets anyone in the incident's room (the default).
	HandoverChannel = "channel"
	// HandoverTDO lets only the current TDO.
	HandoverTDO = "tdo"
	// HandoverAnyone lets anyone.
	HandoverAnyone = "anyone"
)

// Settings configure a Policy. The zero value is the safe default.
type Settings struct {
	// Commanders are users (IDs) who may do anything, anywhere.
	Commanders []string
	// CommanderGroups are user groups (subteam IDs) whose members are
	// commanders.
	CommanderGroups []string
	// Changes says who may change an incident: ChangesRoom (default) or
	// ChangesAnyone.
	Changes string
	// Handover says who may hand over or give a role: HandoverChannel
	// (default), HandoverTDO or HandoverAnyone.
	Handover string
}

// Policy decides requests.
type Policy struct {
	set Settings
	dir Directory
}

// New returns the policy of s, asking dir about channels and groups.
func New(s Settings, dir Directory) *Policy {
	if s.Changes == "" {
		s.Changes = ChangesRoom
	}
	if s.Handover == "" {
		s.Handover = HandoverChannel
	}
	return &Policy{set: s, dir: dir}
}

// Settings returns the policy's settings, defaults filled in.
func (p *Policy) Settings() Settings { return p.set }

// IsCommander reports whether user is a commander: named, or in a
// commanders' group.
func (p *Policy) IsCommander(ctx context.Context, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	if slices.Contains(p.set.Commanders, user) {
		return true, nil
	}
	for _, g := range p.set.CommanderGroups {
		members, err := p.dir.GroupMembers(ctx, g)
		if err != nil {
			return false, fmt.Errorf("reading the commanders' group: %w", err)
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	return false, nil
}

// InRoom reports whether req's actor is in the target's room: typing there
// shows it, else the directory is asked.
func (p *Policy) InRoom(ctx context.Context, req Request) (bool, error) {
	room := req.Target.Room
	switch {
	case room == "" || req.Actor == "":
		return false, nil
	case req.Channel == room:
		return true, nil
	}
	in, err := p.dir.IsMember(ctx, room, req.Actor)
	if err != nil {
		return false, fmt.Errorf("checking who is in the room: %w", err)
	}
	return in, nil
}

// Check decides req: nil if it is allowed, a *Refusal if not, or another
// error if the directory could not be asked (then nothing may be done).
// Commanders may do anything, except tick a checklist from outside its
// channel: a click must come from the run's own message.
func (p *Policy) Check(ctx context.Context, req Request) error {
	t := req.Target
	if req.Action == TickChecklist {
		// Not a question of who: a tick is only ever valid on the run's own
		// message, in its own channel.
		if t.Room != "" && req.Channel != t.Room || t.Message != "" && req.Message != t.Message {
			return p.refuse(req, "channel", fmt.Sprintf("That checkbox is not on %s's message in <#%s>: tick its steps there.", t.Ref, t.Room))
		}
		return nil
	}
	if cmd, err := p.IsCommander(ctx, req.Actor); err != nil || cmd {
		return err
	}
	switch req.Action {
	case ChangeIncident, SeeIncident, StartPostmortem, AddPostmortemEntry:
		if req.Action == AddPostmortemEntry && req.Actor == t.Facilitator && t.Facilitator != "" {
			return nil // who runs the postmortem may add to it from anywhere
		}
		if req.Action == ChangeIncident && p.set.Changes == ChangesAnyone && !t.Private {
			return nil
		}
		if req.Actor == t.TDO && t.TDO != "" {
			return nil
		}
		return p.roomOnly(ctx, req)
	case LowerSeverity, CloseIncident, MakePrivate:
		if req.Actor == t.TDO && t.TDO != "" {
			return nil
		}
		return p.refuse(req, "tdo", fmt.Sprintf("Only the technical duty officer of %s%s or a commander can %s.", t.Ref, mention(t.TDO), verb(req.Action, t.Ref)))
	case GiveRole, HandOver:
		switch {
		case p.set.Handover == HandoverAnyone && !t.Private:
			return nil
		case req.Actor == t.TDO && t.TDO != "":
			return nil
		case p.set.Handover == HandoverTDO:
			return p.refuse(req, "tdo", fmt.Sprintf("Only the technical duty officer of %s%s or a commander can %s.", t.Ref, mention(t.TDO), verb(req.Action, t.Ref)))
		}
		return p.roomOnly(ctx, req)
	case MovePostmortem, HandFacilitation:
		if req.Actor == t.Facilitator && t.Facilitator != "" || req.Actor == t.TDO && t.TDO != "" {
			return nil
		}
		who := "the facilitator" + mention(t.Facilitator) + ", the technical duty officer" + mention(t.TDO)
		switch t.Facilitator {
		case "":
			who = "the technical duty officer" + mention(t.TDO)
		case t.TDO:
			who = "the facilitator and technical duty officer" + mention(t.TDO)
		}
		return p.refuse(req, "facilitator", fmt.Sprintf("Only %s or a commander can %s.", who, verb(req.Action, t.Ref)))
	case CompleteAction:
		if req.Actor == t.Owner && t.Owner != "" || req.Actor == t.Facilitator && t.Facilitator != "" {
			return nil
		}
		return p.refuse(req, "owner", fmt.Sprintf("Only the action's owner%s, the facilitator%s or a commander can %s.", mention(t.Owner), mention(t.Facilitator), verb(req.Action, t.Ref)))
	case AbortChecklist:
		if req.Actor == t.Starter && t.Starter != "" {
			return nil
		}
		in, err := p.InRoom(ctx, req)
		if err != nil || in {
			return err
		}
		return p.refuse(req, "starter", fmt.Sprintf("Only who started %s%s, people in <#%s> or a commander can %s.", t.Ref, mention(t.Starter), t.Room, verb(req.Action, t.Ref)))
	}
	return p.refuse(req, "unknown", "sitrep does not know that action, so it is not allowed.")
}

// roomOnly allows members of the target's room.
func (p *Policy) roomOnly(ctx context.Context, req Request) error {
	in, err := p.InRoom(ctx, req)
	if err != nil || in {
		return err
	}
	t := req.Target
	if t.Room == "" {
		return p.refuse(req, "room", fmt.Sprintf("%s has no room yet: only its technical duty officer%s or a commander can %s until it does.", t.Ref, mention(t.TDO), verb(req.Action, t.Ref)))
	}
	return p.refuse(req, "room", fmt.Sprintf("Only people in <#%s> or a commander can %s: join the room first.", t.Room, verb(req.Action, t.Ref)))
}

func (p *Policy) refuse(req Request, rule, text string) *Refusal {
	return &Refusal{Action: req.Action, Rule: rule, Text: text}
}

// mention is " <@U…>" for a user, or "" for none.
func mention(user string) string {
	if user == "" {
		return ""
	}
	return " <@" + user + ">"
}

// verb says what the action does to ref, to end "only … can ___".
func verb(a Action, ref string) string {
	switch a {
	case ChangeIncident:
		return "change " + ref
	case LowerSeverity:
		return "lower the severity of " + ref
	case CloseIncident:
		return "close " + ref
	case GiveRole:
		return "give roles in " + ref
	case HandOver:
		return "hand " + ref + " over"
	case MakePrivate:
		return "make " + ref + " private"
	case SeeIncident:
		return "see " + ref
	case StartPostmortem:
		return "start the postmortem of " + ref
	case MovePostmortem:
		return "move the postmortem of " + ref + " on"
	case HandFacilitation:
		return "hand facilitation of the postmortem of " + ref + " over"
	case AddPostmortemEntry:
		return "add to the postmortem of " + ref
	case CompleteAction:
		return "mark " + ref + " done"
	case AbortChecklist:
		return "abort " + ref
	}
	return strings.ReplaceAll(string(a), "_", " ") + " " + ref
}
