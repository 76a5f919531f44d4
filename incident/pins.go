package incident

import (
	"context"
	"time"
)

// MessagePin is what is known of one chat message pinned to an incident's
// timeline: it is added to the timeline once, however many people pin it.
type MessagePin struct {
	IncidentID int64
	// Channel and TS name the message.
	Channel, TS string
	// By lists who pinned it, first first: the timeline entry is the
	// first's.
	By []string
	// EntryID is the timeline entry made of the message; 0 until made.
	EntryID int64
}

// First is who pinned the message first.
func (p MessagePin) First() string {
	if len(p.By) == 0 {
		return ""
	}
	return p.By[0]
}

// PinStore remembers which chat messages were pinned to a timeline, and by
// whom, so a message pinned twice is one entry.
type PinStore interface {
	// NotePin records that user pinned the message ts in channel to the
	// timeline of incident incidentID, at at, and returns what is known of
	// the message; again reports that user had pinned it before.
	NotePin(ctx context.Context, incidentID int64, channel, ts, user string, at time.Time) (pin MessagePin, again bool, err error)
	// PinEntry records the timeline entry made of the message.
	PinEntry(ctx context.Context, channel, ts string, entryID int64) error
}
