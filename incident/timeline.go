package incident

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// EntryKind says what a timeline entry records.
type EntryKind string

// The kinds of timeline entry.
const (
	EntryOpened   EntryKind = "opened"
	EntryStatus   EntryKind = "status"
	EntryReopen   EntryKind = "reopen"
	EntrySeverity EntryKind = "severity"
	EntryNote     EntryKind = "note"
	EntryClosed   EntryKind = "closed"
	EntryTDO      EntryKind = "tdo"
	EntryRole     EntryKind = "role"
	EntryPin      EntryKind = "pin"
	// EntrySuspect and EntryUnrelated record a verdict on a change listed
	// in the room; Subject is the change's ID.
	EntrySuspect   EntryKind = "suspect"
	EntryUnrelated EntryKind = "unrelated"
	// EntryCost records a customer cost entered; EntryLinked and
	// EntryUnlinked a problem linked or unlinked (Subject is "PRB-n").
	EntryCost     EntryKind = "cost"
	EntryLinked   EntryKind = "problem_linked"
	EntryUnlinked EntryKind = "problem_unlinked"
	// EntryPrivate records an incident made private.
	EntryPrivate EntryKind = "made_private"
	// EntryAlert records an alert from monitoring: the one that opened or
	// joined the incident, or its resolution. Facts.Source names the
	// product, Facts.Key the alert event, Facts.Link leads to it.
	EntryAlert EntryKind = "alert"
)

// TimelineEntry is one thing that happened during an incident: a state
// change, a note, a decision. The timeline is the postmortem's raw material.
type TimelineEntry struct {
	ID         int64
	IncidentID int64
	At         time.Time
	// Actor is the chat user who did it.
	Actor string
	Kind  EntryKind
	// Subject is the chat user the entry is about, if any: the new TDO of
	// a hand-off.
	Subject string
	Text    string
	// Facts are what the entry states, recorded when it was written and
	// never derived again from the incident's later state.
	Facts Facts
}

// Facts are the particulars of a timeline entry, fixed when it is written:
// a correction is a new entry, never a change to these.
type Facts struct {
	// Severity is the severity the entry set (a severity change) or
	// stated (the opening); FromSeverity the one it replaced.
	Severity     Severity `json:"severity,omitempty"`
	FromSeverity Severity `json:"from_severity,omitempty"`
	// From and To are the people of a hand-over or a role given: who held
	// it before (empty if nobody) and who holds it now.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Title is the incident's title, for the opening.
	Title string `json:"title,omitempty"`
	// Rotation names the on-call rotation that chose the first TDO, for
	// the opening; empty if the reporter leads.
	Rotation string `json:"rotation,omitempty"`
	// Message is the chat ID (ts) of the message a pin entry holds.
	Message string `json:"message,omitempty"`
	// Source names the monitoring product of an alert entry, or of the
	// opening of an incident no person reported ("Alertmanager"); Key
	// identifies the alert event an entry records, so it is recorded
	// once; Link leads back to the alert.
	Source string `json:"source,omitempty"`
	Key    string `json:"key,omitempty"`
	Link   string `json:"link,omitempty"`
	// Names maps the chat user IDs the entry names (actor, subject, from,
	// to) to their display names as they were when it was written.
	Names map[string]string `json:"names,omitempty"`
}

// Empty reports whether no facts were recorded (an entry written before
// they were).
func (f Facts) Empty() bool {
	return f.Severity == 0 && f.FromSeverity == 0 && f.From == "" && f.To == "" && f.Title == "" && f.Rotation == "" && f.Message == "" &&
		f.Source == "" && f.Key == "" && f.Link == "" && len(f.Names) == 0
}

// Names tells the display name of a chat user. The chat adapter satisfies
// it; the domain asks it only outside transactions.
type Names interface {
	// Name returns the user's display name, or "" if it is not known.
	Name(ctx context.Context, userID string) string
}

// mentionPattern finds a user mention in sitrep's text, "<@U123>".
var mentionPattern = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// mentioned returns the user IDs mentioned in texts, so that documents can
// name them.
func mentioned(texts ...string) []string {
	var out []string
	for _, t := range texts {
		for _, m := range mentionPattern.FindAllStringSubmatch(t, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// NameOf returns the display name the entry recorded for user, or "".
func (e TimelineEntry) NameOf(user string) string {
	return e.Facts.Names[user]
}

// statusOrder ranks the statuses; going to a lower rank is a reopen.
var statusOrder = map[Status]int{
	StatusInvestigating: 0,
	StatusIdentified:    1,
	StatusMonitoring:    2,
	StatusRestored:      3,
	StatusResolved:      4,
}

// Statuses lists the statuses in order.
func Statuses() []Status {
	return []Status{StatusInvestigating, StatusIdentified, StatusMonitoring, StatusRestored, StatusResolved}
}

// ParseStatus reads a status name, case-insensitive.
func ParseStatus(text string) (Status, error) {
	s := Status(strings.ToLower(strings.TrimSpace(text)))
	if _, ok := statusOrder[s]; !ok {
		var names []string
		for _, st := range Statuses() {
			names = append(names, string(st))
		}
		return "", fmt.Errorf("%q is not a status: use one of %s", text, strings.Join(names, ", "))
	}
	return s, nil
}

// MaxNote is the longest note or status message, in runes.
const MaxNote = 2000
