package incident

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AlertNote is an alert from monitoring to write on an incident's timeline
// (an EntryAlert): the alert that opened or joined it, or its resolution.
type AlertNote struct {
	// Source names the monitoring product, as people write it
	// ("Alertmanager"); it is the entry's author.
	Source string
	// Key identifies the alert event (the group and what became of it): an
	// incident records each key once, so a retried job writes nothing more.
	Key string
	// Text says what happened: "HighErrorRate — error rate 12% on checkout".
	Text string
	// Link leads back to the alert in its product; optional.
	Link string
}

// MaxAlertKey bounds AlertNote.Key.
const MaxAlertKey = 200

// NoteAlert writes note on the incident's timeline as an EntryAlert, once
// per note.Key: when an entry with that key is there already, it is
// returned with created false and nothing is written. Text longer than
// MaxNote is cut. A closed incident takes none (ErrClosed).
func (s *Service) NoteAlert(ctx context.Context, incidentID int64, note AlertNote) (inc *Incident, entry TimelineEntry, created bool, err error) {
	note.Source = NormalizeTitle(note.Source)
	note.Text = CleanText(note.Text)
	note.Link = strings.TrimSpace(CleanLine(note.Link))
	switch {
	case note.Key == "" || utf8.RuneCountInString(note.Key) > MaxAlertKey:
		return nil, TimelineEntry{}, false, &FieldError{"key", fmt.Sprintf("an alert entry needs a key of 1 to %d characters", MaxAlertKey)}
	case note.Text == "":
		return nil, TimelineEntry{}, false, &FieldError{"text", "the alert entry has no text"}
	}
	note.Text = truncateRunes(note.Text, MaxNote)
	note.Source = truncateRunes(note.Source, MaxReportedBy)
	timeline, err := s.store.Timeline(ctx, incidentID)
	if err != nil {
		return nil, TimelineEntry{}, false, fmt.Errorf("reading the timeline: %w", err)
	}
	for _, e := range timeline {
		if e.Kind == EntryAlert && e.Facts.Key == note.Key {
			inc, err := s.store.Incident(ctx, incidentID)
			return inc, e, false, err
		}
	}
	inc, entry, err = s.record(ctx, incidentID, "", func(inc *Incident, _ time.Time) (TimelineEntry, error) {
		return TimelineEntry{Kind: EntryAlert, Text: note.Text,
			Facts: Facts{Source: note.Source, Key: note.Key, Link: note.Link}}, nil
	})
	if err != nil {
		return nil, TimelineEntry{}, false, err
	}
	return inc, entry, true, nil
}
