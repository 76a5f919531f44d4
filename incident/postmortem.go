package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Phase is where a postmortem stands. The phases run in order, so that
// the story is complete before anyone looks for fixes.
type Phase string

// The phases of a postmortem.
const (
	PhaseTimeline Phase = "timeline"
	PhaseIssues   Phase = "issues"
	PhaseActions  Phase = "actions"
	PhaseComplete Phase = "complete"
)

// Number is the phase's place, 1 to 3 (4 once complete).
func (p Phase) Number() int {
	switch p {
	case PhaseTimeline:
		return 1
	case PhaseIssues:
		return 2
	case PhaseActions:
		return 3
	}
	return 4
}

// Label names the phase for people: "phase 1: timeline".
func (p Phase) Label() string {
	if p == PhaseComplete {
		return "complete"
	}
	return fmt.Sprintf("phase %d: %s", p.Number(), p)
}

// Postmortem is the review of one incident, facilitated in three phases:
// the timeline, then the issues it shows, then the actions that address
// them. It is kept as one document with its history.
type Postmortem struct {
	IncidentID int64
	// Facilitator keeps the phases in order and closes each one.
	Facilitator string
	Phase       Phase
	StartedBy   string
	StartedAt   time.Time
	// CompletedAt is set when the last phase closes.
	CompletedAt time.Time
	// Timeline, Issues and Actions are numbered from 1 in the order added.
	Timeline []PMEntry
	Issues   []Issue
	Actions  []Action
	// ChannelID and MessageTS locate the postmortem's message in Slack
	// (empty until posted).
	ChannelID string
	MessageTS string
	// Version counts changes, for showing the latest.
	Version int
}

// PMEntry is one line of the postmortem's timeline: what happened when.
// Entries from the incident's own timeline start it; people add and
// correct entries, and every edit is kept.
type PMEntry struct {
	ID   int
	At   time.Time
	Text string
	// Source is the incident timeline entry it came from (0: added);
	// Kind, Actor and Subject are that entry's.
	Source  int64
	Kind    EntryKind
	Actor   string
	Subject string
	AddedBy string
	// By names who wrote the source entry when no person did: the
	// monitoring product of an alert entry ("Alertmanager").
	By string `json:",omitempty"`
	// Names are the display names the source entry recorded, by user ID.
	Names map[string]string `json:",omitempty"`
	// Edits are the earlier versions, oldest first.
	Edits []Edit
}

// Edit is an earlier version of a timeline entry and who replaced it.
type Edit struct {
	At       time.Time // what the entry said before
	Text     string
	EditedBy string
	EditedAt time.Time
}

// Issue is something the timeline shows went wrong or could go better.
type Issue struct {
	ID   int
	Text string
	// Entry is the timeline entry it was raised on (0: none).
	Entry   int
	AddedBy string
	AddedAt time.Time
}

// Action addresses an issue: one owner, an expected result, a due date.
type Action struct {
	ID       int
	Issue    int
	Owner    string
	Expected string
	// Due is the start of the due day, in the service's time zone.
	Due     time.Time
	AddedBy string
	AddedAt time.Time
	// DoneAt is set when the owner marks it done.
	DoneBy string
	DoneAt time.Time
}

// Done reports whether the action is done.
func (a *Action) Done() bool { return !a.DoneAt.IsZero() }

// Overdue reports whether the action is open after its due day.
func (a *Action) Overdue(now time.Time) bool { return !a.Done() && !now.Before(a.Due.AddDate(0, 0, 1)) }

// Entry returns timeline entry id, or nil.
func (pm *Postmortem) Entry(id int) *PMEntry {
	for i := range pm.Timeline {
		if pm.Timeline[i].ID == id {
			return &pm.Timeline[i]
		}
	}
	return nil
}

// Issue returns issue id, or nil.
func (pm *Postmortem) Issue(id int) *Issue {
	for i := range pm.Issues {
		if pm.Issues[i].ID == id {
			return &pm.Issues[i]
		}
	}
	return nil
}

// Action returns action id, or nil.
func (pm *Postmortem) Action(id int) *Action {
	for i := range pm.Actions {
		if pm.Actions[i].ID == id {
			return &pm.Actions[i]
		}
	}
	return nil
}

// Unaddressed returns the issues with no action yet, in order.
func (pm *Postmortem) Unaddressed() []Issue {
	has := map[int]bool{}
	for _, a := range pm.Actions {
		has[a.Issue] = true
	}
	var out []Issue
	for _, is := range pm.Issues {
		if !has[is.ID] {
			out = append(out, is)
		}
	}
	return out
}

// ActionsOf returns the actions of issue id.
func (pm *Postmortem) ActionsOf(id int) []Action {
	var out []Action
	for _, a := range pm.Actions {
		if a.Issue == id {
			out = append(out, a)
		}
	}
	return out
}

// sortTimeline keeps the timeline in time order (stable, so equal times
// keep the order added).
func (pm *Postmortem) sortTimeline() {
	slices.SortStableFunc(pm.Timeline, func(a, b PMEntry) int { return a.At.Compare(b.At) })
}

// nextID is one more than the largest ID.
func nextID[T any](items []T, id func(T) int) int {
	n := 0
	for _, it := range items {
		n = max(n, id(it))
	}
	return n + 1
}

// PhaseError says a request belongs to another phase, and why the phases
// run in order.
type PhaseError struct {
	Phase Phase
	// Want is the phase the request belongs to.
	Want Phase
}

func (e *PhaseError) Error() string {
	switch {
	case e.Phase == PhaseComplete:
		return "the postmortem is complete: it takes no more changes"
	case e.Phase == PhaseTimeline:
		return "the postmortem is in phase 1: timeline. Phase 1 is about the timeline only: get the story complete and agreed before looking for issues. The facilitator closes it with Timeline complete"
	case e.Phase == PhaseIssues && e.Want == PhaseActions:
		return "the postmortem is in phase 2: issues. Actions come in phase 3, once every issue is on the table, so that fixes address the whole story and not the first problem named. The facilitator closes phase 2 with Issues complete"
	case e.Want.Number() < e.Phase.Number():
		return fmt.Sprintf("the postmortem is in %s: %s is over", e.Phase.Label(), e.Want.Label())
	}
	return fmt.Sprintf("the postmortem is in %s, not %s", e.Phase.Label(), e.Want.Label())
}

// describeEntry writes an incident timeline entry as a postmortem line.
// People are written as mentions ("<@U123>"): Slack shows each by name, and
// an export names them as the entry recorded them (PMEntry.Names).
func describeEntry(e TimelineEntry) string {
	at := func(user string) string { return "<@" + user + ">" }
	switch e.Kind {
	case EntryTDO:
		_, reason, hasReason := strings.Cut(e.Text, ": ")
		from := e.Facts.From
		var text string
		switch {
		case e.Actor == e.Subject && from != "":
			text = "took command from " + at(from)
		case e.Actor == e.Subject:
			text = "took command"
		case from != "" && from != e.Actor:
			text = fmt.Sprintf("handed leadership over from %s to %s", at(from), at(e.Subject))
		default:
			text = "handed leadership over to " + at(e.Subject)
		}
		if hasReason && reason != "took command" {
			text += ": " + reason
		}
		return text
	case EntryRole:
		text := fmt.Sprintf("made %s %s", at(e.Subject), e.Text)
		if from := e.Facts.From; from != "" {
			text += " (was " + at(from) + ")"
		}
		return text
	case EntryPin:
		return fmt.Sprintf("pinned a message of %s: %s", at(e.Subject), e.Text)
	case EntryDiagnostic:
		return "collected " + e.Text
	case EntryUpdateNudge:
		if e.Facts.To != "" {
			return e.Text + "; " + at(e.Facts.To) + " was asked for one"
		}
	}
	return e.Text
}
