package incident

import (
	"fmt"
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
