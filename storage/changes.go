package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Store satisfies incident.ChangeStore.
var _ incident.ChangeStore = (*Store)(nil)

type changeRow struct {
	ID         int64          `db:"id"`
	OccurredAt time.Time      `db:"occurred_at"`
	Systems    string         `db:"systems"`
	Person     string         `db:"person"`
	Summary    string         `db:"summary"`
	Reason     string         `db:"reason"`
	Kind       string         `db:"kind"`
	Link       string         `db:"link"`
	Source     string         `db:"source"`
	ExternalID sql.NullString `db:"external_id"`
	LoggedAt   time.Time      `db:"logged_at"`
}

const changeColumns = `id, occurred_at, systems, person, summary, reason, kind, link, source, external_id, logged_at`

func (r changeRow) change() incident.Change {
	return incident.Change{
		ID: r.ID, OccurredAt: r.OccurredAt.UTC(), Systems: strings.Split(r.Systems, ","), Person: r.Person,
		Summary: r.Summary, Reason: r.Reason, Kind: incident.ChangeKind(r.Kind), Link: r.Link,
		Source: incident.ChangeSource(r.Source), ExternalID: r.ExternalID.String, LoggedAt: r.LoggedAt.UTC(),
	}
}

// LogChanges implements incident.ChangeStore.
func (s *Store) LogChanges(ctx context.Context, changes []incident.Change, follow func([]incident.Change) []jobs.Job) ([]bool, error) {
	stored := make([]bool, len(changes))
	err := s.inTx(ctx, func(tx *txn) error {
		if s.dialect == DialectPostgres {
			if err := logChangesBulk(ctx, tx, changes, stored); err != nil {
				return err
			}
			return s.followChanges(ctx, tx, changes, stored, follow)
		}
		insert := `INSERT INTO changes (occurred_at, systems, person, summary, reason, kind, link, source, external_id, logged_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (external_id) DO NOTHING RETURNING id`
		system := `INSERT INTO change_systems (change_id, system, occurred_at) VALUES (?, ?, ?)`
		for i := range changes {
			c := &changes[i]
			var ids []int64
			if err := tx.sel(ctx, &ids, insert, ts(c.OccurredAt), strings.Join(c.Systems, ","), c.Person, c.Summary,
				c.Reason, string(c.Kind), c.Link, string(c.Source), nullString(c.ExternalID), ts(c.LoggedAt)); err != nil {
				return fmt.Errorf("storing change %d: %w", i, err)
			}
			if len(ids) == 0 {
				// The external ID is taken: report the stored change's ID.
				if err := tx.get(ctx, &c.ID, `SELECT id FROM changes WHERE external_id = ?`, c.ExternalID); err != nil {
					return fmt.Errorf("finding change %s: %w", c.ExternalID, err)
				}
				continue
			}
			c.ID, stored[i] = ids[0], true
			for _, sys := range c.Systems {
				if _, err := tx.exec(ctx, system, c.ID, sys, ts(c.OccurredAt)); err != nil {
					return fmt.Errorf("indexing change %d: %w", i, err)
				}
			}
		}
		return s.followChanges(ctx, tx, changes, stored, follow)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// followChanges enqueues the jobs follow returns for the changes stored.
func (s *Store) followChanges(ctx context.Context, tx *txn, changes []incident.Change, stored []bool, follow func([]incident.Change) []jobs.Job) error {
	if follow == nil {
		return nil
	}
	var added []incident.Change
	for i, ok := range stored {
		if ok {
			added = append(added, changes[i])
		}
	}
	for _, j := range follow(added) {
		if _, err := s.enqueue(ctx, tx, j, j.DueAt); err != nil {
			return err
		}
	}
	return nil
}

// logChangesBulk stores a batch on PostgreSQL in two statements whatever
// its size, each prepared once: IDs are taken from the identity sequence
// first, so each row's ID is known; then the changes go as one array a
// column, their systems are indexed in the same statement, and the IDs it
// returns say which rows were stored (the rest repeated an external ID).
func logChangesBulk(ctx context.Context, tx *txn, changes []incident.Change, stored []bool) error {
	var ids []int64
	if err := tx.sel(ctx, &ids, `SELECT nextval(pg_get_serial_sequence('changes', 'id')) FROM generate_series(1, ?)`, len(changes)); err != nil {
		return fmt.Errorf("numbering changes: %w", err)
	}
	n := len(changes)
	var (
		occurred, logged                                  = make([]string, n), make([]string, n)
		systems, person, summary, reason, kind, link, src = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		external                                          = make([]string, n)
	)
	for i := range changes {
		c := &changes[i]
		c.ID = ids[i]
		occurred[i], logged[i] = ts(c.OccurredAt).Format(time.RFC3339Nano), ts(c.LoggedAt).Format(time.RFC3339Nano)
		systems[i], person[i], summary[i], reason[i] = strings.Join(c.Systems, ","), c.Person, c.Summary, c.Reason
		kind[i], link[i], src[i], external[i] = string(c.Kind), c.Link, string(c.Source), c.ExternalID
	}
	var inserted []int64
	// System names hold no commas (incident.NormalizeSystem): splitting
	// the stored list gives the systems back.
	if err := tx.sel(ctx, &inserted, `WITH ins AS (
			INSERT INTO changes (id, occurred_at, systems, person, summary, reason, kind, link, source, external_id, logged_at)
			OVERRIDING SYSTEM VALUE
			SELECT u.id, u.occurred_at, u.systems, u.person, u.summary, u.reason, u.kind, u.link, u.source, NULLIF(u.external_id, ''), u.logged_at
			FROM unnest(?::bigint[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])
				AS u(id, occurred_at, systems, person, summary, reason, kind, link, source, external_id, logged_at)
			ON CONFLICT (external_id) DO NOTHING
			RETURNING id, systems, occurred_at),
		indexed AS (INSERT INTO change_systems (change_id, system, occurred_at)
			SELECT id, unnest(string_to_array(systems, ',')), occurred_at FROM ins)
		SELECT id FROM ins`,
		pq.Array(ids), pq.Array(occurred), pq.Array(systems), pq.Array(person), pq.Array(summary), pq.Array(reason),
		pq.Array(kind), pq.Array(link), pq.Array(src), pq.Array(external), pq.Array(logged)); err != nil {
		return fmt.Errorf("storing changes: %w", err)
	}
	isNew := make(map[int64]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	for i := range changes {
		c := &changes[i]
		if stored[i] = isNew[c.ID]; !stored[i] {
			// Its external ID was taken: report the stored change's ID.
			if err := tx.get(ctx, &c.ID, `SELECT id FROM changes WHERE external_id = ?`, c.ExternalID); err != nil {
				return fmt.Errorf("finding change %s: %w", c.ExternalID, err)
			}
		}
	}
	return nil
}

// Changes implements incident.ChangeStore. With systems, it reads each
// system's newest changes from the (system, occurred_at) index and merges
// them, so the cost follows the limit, not the size of the log.
func (s *Store) Changes(ctx context.Context, q incident.ChangeQuery) ([]incident.Change, error) {
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, ts(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, ts(q.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = " AND " + strings.Join(where, " AND ")
	}
	var ids []int64
	if len(q.Systems) == 0 {
		if err := s.r.sel(ctx, &ids, `SELECT id FROM changes WHERE 1 = 1`+cond+
			` ORDER BY occurred_at DESC, id DESC LIMIT ?`, append(args, q.Limit)...); err != nil {
			return nil, fmt.Errorf("listing changes: %w", err)
		}
	} else {
		seen := map[int64]bool{}
		for _, sys := range q.Systems {
			var some []int64
			if err := s.r.sel(ctx, &some, `SELECT change_id FROM change_systems WHERE system = ?`+cond+
				` ORDER BY occurred_at DESC, change_id DESC LIMIT ?`, append(append([]any{sys}, args...), q.Limit)...); err != nil {
				return nil, fmt.Errorf("listing changes to %s: %w", sys, err)
			}
			for _, id := range some {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	changes, err := s.ChangesByID(ctx, ids)
	if len(changes) > q.Limit {
		changes = changes[:q.Limit]
	}
	return changes, err
}

// ChangesByID implements incident.ChangeStore.
func (s *Store) ChangesByID(ctx context.Context, ids []int64) ([]incident.Change, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, arg := s.inIDs("id", ids)
	var rows []changeRow
	if err := s.r.sel(ctx, &rows, `SELECT `+changeColumns+` FROM changes WHERE `+in, arg); err != nil {
		return nil, fmt.Errorf("reading changes: %w", err)
	}
	out := make([]incident.Change, len(rows))
	for i, r := range rows {
		out[i] = r.change()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OccurredAt.Equal(out[j].OccurredAt) {
			return out[i].OccurredAt.After(out[j].OccurredAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// ShowChanges implements incident.ChangeStore. On PostgreSQL it is one
// statement, whatever the number of changes: their IDs go as arrays.
func (s *Store) ShowChanges(ctx context.Context, incidentID int64, shown []incident.ShownChange) error {
	if len(shown) == 0 {
		return nil
	}
	if s.dialect == DialectPostgres {
		ids, others := make([]int64, len(shown)), make([]bool, len(shown))
		for i, c := range shown {
			ids[i], others[i] = c.ID, c.Other
		}
		// Appended after what was shown before.
		if _, err := s.w.exec(ctx, `INSERT INTO incident_changes (incident_id, change_id, position, other)
			SELECT $1, u.change_id, (SELECT COALESCE(MAX(position) + 1, 0) FROM incident_changes WHERE incident_id = $1) + u.n - 1, u.other
			FROM unnest($2::bigint[], $3::boolean[]) WITH ORDINALITY AS u(change_id, other, n)
			ON CONFLICT (incident_id, change_id) DO NOTHING`, incidentID, pq.Array(ids), pq.Array(others)); err != nil {
			return fmt.Errorf("recording the changes shown for incident %d: %w", incidentID, err)
		}
		return nil
	}
	return s.inTx(ctx, func(tx *txn) error {
		// Appended after what was shown before.
		var next int
		if err := tx.get(ctx, &next, `SELECT COALESCE(MAX(position) + 1, 0) FROM incident_changes WHERE incident_id = ?`, incidentID); err != nil {
			return fmt.Errorf("recording the changes shown for incident %d: %w", incidentID, err)
		}
		q := `INSERT INTO incident_changes (incident_id, change_id, position, other) VALUES (?, ?, ?, ?)
			ON CONFLICT (incident_id, change_id) DO NOTHING`
		for i, c := range shown {
			if _, err := tx.exec(ctx, q, incidentID, c.ID, next+i, c.Other); err != nil {
				return fmt.Errorf("recording the changes shown for incident %d: %w", incidentID, err)
			}
		}
		return nil
	})
}

// ShownChanges implements incident.ChangeStore.
func (s *Store) ShownChanges(ctx context.Context, incidentID int64) ([]incident.ShownChange, error) {
	var rows []struct {
		changeRow
		Other bool `db:"other"`
	}
	cols := "c." + strings.ReplaceAll(changeColumns, ", ", ", c.")
	if err := s.r.sel(ctx, &rows, `SELECT `+cols+`, ic.other FROM incident_changes ic
		JOIN changes c ON c.id = ic.change_id WHERE ic.incident_id = ? ORDER BY ic.position`, incidentID); err != nil {
		return nil, fmt.Errorf("reading the changes shown for incident %d: %w", incidentID, err)
	}
	out := make([]incident.ShownChange, len(rows))
	for i, r := range rows {
		out[i] = incident.ShownChange{Change: r.change(), Other: r.Other}
	}
	return out, nil
}

// PendRoomChanges implements incident.ChangeStore. On PostgreSQL the
// incident's room row is locked first, so two changes logged at once to
// the same incident join one window.
func (s *Store) PendRoomChanges(ctx context.Context, incidentID int64, changeIDs []int64, joinBy, due time.Time, notice string, open func(string) jobs.Job) (string, error) {
	err := s.inTx(ctx, func(tx *txn) error {
		if s.dialect == DialectPostgres {
			if _, err := tx.exec(ctx, `SELECT 1 FROM incident_rooms WHERE incident_id = ? FOR UPDATE`, incidentID); err != nil {
				return err
			}
		}
		var windows []struct {
			Notice string    `db:"notice"`
			DueAt  time.Time `db:"due_at"`
		}
		if err := tx.sel(ctx, &windows, `SELECT notice, due_at FROM room_change_notices
			WHERE incident_id = ? AND told_at IS NULL AND due_at > ? ORDER BY due_at LIMIT 1`, incidentID, ts(joinBy)); err != nil {
			return err
		}
		joined := len(windows) == 1
		if joined {
			notice, due = windows[0].Notice, windows[0].DueAt
		}
		opened := false
		q := `INSERT INTO room_change_notices (incident_id, change_id, notice, due_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (incident_id, change_id) DO NOTHING`
		for _, id := range changeIDs {
			res, err := tx.exec(ctx, q, incidentID, id, notice, ts(due))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 && !joined {
				opened = true
			}
		}
		if opened {
			if _, err := s.enqueue(ctx, tx, open(notice), time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("queueing changes for the room of incident %d: %w", incidentID, err)
	}
	return notice, nil
}

// PendingRoomChanges implements incident.ChangeStore.
func (s *Store) PendingRoomChanges(ctx context.Context, notice string) ([]incident.Change, error) {
	var ids []int64
	if err := s.r.sel(ctx, &ids, `SELECT change_id FROM room_change_notices
		WHERE notice = ? AND told_at IS NULL`, notice); err != nil {
		return nil, fmt.Errorf("reading the changes of %s: %w", notice, err)
	}
	return s.ChangesByID(ctx, ids)
}

// RoomChangesTold implements incident.ChangeStore.
func (s *Store) RoomChangesTold(ctx context.Context, notice string, at time.Time) error {
	if _, err := s.w.exec(ctx, `UPDATE room_change_notices SET told_at = ?
		WHERE notice = ? AND told_at IS NULL`, ts(at), notice); err != nil {
		return fmt.Errorf("recording %s as told: %w", notice, err)
	}
	return nil
}
