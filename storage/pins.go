package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// Store satisfies incident.PinStore.
var _ incident.PinStore = (*Store)(nil)

// NotePin implements incident.PinStore. Pinners are ordered by when they
// pinned, then by user ID, so two pins at once agree on who was first.
func (s *Store) NotePin(ctx context.Context, incidentID int64, channel, msgTS, user string, at time.Time) (incident.MessagePin, bool, error) {
	pin := incident.MessagePin{IncidentID: incidentID, Channel: channel, TS: msgTS}
	var again bool
	err := s.inTx(ctx, func(tx *txn) error {
		res, err := tx.exec(ctx, `INSERT INTO message_pins (channel_id, message_ts, user_id, incident_id, pinned_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, message_ts, user_id) DO NOTHING`, channel, msgTS, user, incidentID, ts(at))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		again = n == 0
		var rows []struct {
			User  string `db:"user_id"`
			Entry *int64 `db:"entry_id"`
			Inc   int64  `db:"incident_id"`
		}
		if err := tx.sel(ctx, &rows, `SELECT user_id, entry_id, incident_id FROM message_pins
			WHERE channel_id = ? AND message_ts = ? ORDER BY pinned_at, user_id`, channel, msgTS); err != nil {
			return err
		}
		for _, r := range rows {
			pin.By = append(pin.By, r.User)
			if r.Entry != nil && pin.EntryID == 0 {
				pin.EntryID = *r.Entry
			}
		}
		if len(rows) > 0 {
			pin.IncidentID = rows[0].Inc
		}
		return nil
	})
	if err != nil {
		return incident.MessagePin{}, false, fmt.Errorf("recording the pin of message %s in %s: %w", msgTS, channel, err)
	}
	return pin, again, nil
}

// PinEntry implements incident.PinStore: the entry is recorded on the
// first pinner's row.
func (s *Store) PinEntry(ctx context.Context, channel, ts string, entryID int64) error {
	_, err := s.w.exec(ctx, `UPDATE message_pins SET entry_id = ?
		WHERE channel_id = ? AND message_ts = ? AND user_id = (
			SELECT user_id FROM message_pins WHERE channel_id = ? AND message_ts = ? ORDER BY pinned_at, user_id LIMIT 1)`,
		entryID, channel, ts, channel, ts)
	if err != nil {
		return fmt.Errorf("recording the timeline entry of message %s in %s: %w", ts, channel, err)
	}
	return nil
}
