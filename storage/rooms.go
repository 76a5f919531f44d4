package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
)

type roomRow struct {
	IncidentID     int64          `db:"incident_id"`
	ChannelID      sql.NullString `db:"channel_id"`
	ChannelName    string         `db:"channel_name"`
	HeaderTS       string         `db:"header_ts"`
	AnnouncementTS string         `db:"announcement_ts"`
	ChangesTS      string         `db:"changes_ts"`
	PlanTS         string         `db:"plan_ts"`
	Done           string         `db:"done"`
	Ready          bool           `db:"ready"`
	UpdatedAt      time.Time      `db:"updated_at"`
}

const roomColumns = `incident_id, channel_id, channel_name, header_ts, announcement_ts, changes_ts, plan_ts, done, ready, updated_at`

func (r roomRow) room() *incident.Room {
	var done []string
	if r.Done != "" {
		done = strings.Split(r.Done, ",")
	}
	return &incident.Room{
		IncidentID: r.IncidentID, ChannelID: r.ChannelID.String, ChannelName: r.ChannelName,
		HeaderTS: r.HeaderTS, AnnouncementTS: r.AnnouncementTS, ChangesTS: r.ChangesTS, PlanTS: r.PlanTS, Done: done, Ready: r.Ready,
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// Room implements incident.Store.
func (s *Store) Room(ctx context.Context, incidentID int64) (*incident.Room, error) {
	return s.roomWhere(ctx, "incident_id = ?", incidentID)
}

// RoomByChannel implements incident.Store.
func (s *Store) RoomByChannel(ctx context.Context, channelID string) (*incident.Room, error) {
	return s.roomWhere(ctx, "channel_id = ?", channelID)
}

// RoomsOf returns the rooms of the incidents with these IDs, by incident
// ID, in one query; an incident with no room is not in the map.
func (s *Store) RoomsOf(ctx context.Context, incidentIDs []int64) (map[int64]*incident.Room, error) {
	out := make(map[int64]*incident.Room, len(incidentIDs))
	if len(incidentIDs) == 0 {
		return out, nil
	}
	in, arg := s.inIDs("incident_id", incidentIDs)
	var rows []roomRow
	if err := s.r.sel(ctx, &rows, `SELECT `+roomColumns+` FROM incident_rooms WHERE `+in, arg); err != nil {
		return nil, fmt.Errorf("reading rooms: %w", err)
	}
	for i := range rows {
		r := rows[i].room()
		out[r.IncidentID] = r
	}
	return out, nil
}

func (s *Store) roomWhere(ctx context.Context, where string, arg any) (*incident.Room, error) {
	var r roomRow
	err := s.r.get(ctx, &r, `SELECT `+roomColumns+` FROM incident_rooms WHERE `+where, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("room with %s: %w", strings.ReplaceAll(where, "?", fmt.Sprint(arg)), incident.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading room: %w", err)
	}
	return r.room(), nil
}

// SaveRoom implements incident.Store: insert or replace the room.
func (s *Store) SaveRoom(ctx context.Context, r *incident.Room) error {
	for _, step := range r.Done {
		if strings.Contains(step, ",") {
			return fmt.Errorf("saving room of incident %d: step name %q holds a comma", r.IncidentID, step)
		}
	}
	_, err := s.w.exec(ctx, `INSERT INTO incident_rooms (`+roomColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET
			channel_id = excluded.channel_id, channel_name = excluded.channel_name,
			header_ts = excluded.header_ts, announcement_ts = excluded.announcement_ts, changes_ts = excluded.changes_ts, plan_ts = excluded.plan_ts,
			done = excluded.done, ready = excluded.ready, updated_at = excluded.updated_at`,
		r.IncidentID, nullString(r.ChannelID), r.ChannelName, r.HeaderTS, r.AnnouncementTS, r.ChangesTS, r.PlanTS,
		strings.Join(r.Done, ","), r.Ready, ts(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("saving room of incident %d: %w", r.IncidentID, err)
	}
	return nil
}
