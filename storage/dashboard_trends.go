package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// The dashboard's trends read narrow rows: the times, severity and cost
// class of each incident of the window (the class taken out of the cost's
// JSON by the database, so only incidents with a diagnosis clock have JSON
// to decode here), and the actions due in the window from their
// postmortems. The window's incidents are found through the index on
// opened_at (incidents_costs).

// costClassSQL is the cost class of an incidents row, 0 when no cost was
// entered: the one place the dialects differ.
func (s *Store) costClassSQL() string {
	if s.dialect == DialectSQLite {
		return `CASE WHEN cost = '' THEN 0 ELSE COALESCE(json_extract(cost, '$.class'), 0) END`
	}
	return `CASE WHEN cost = '' THEN 0 ELSE COALESCE((cost::json->>'class')::int, 0) END`
}

// TrendIncidents implements incident.TrendStore.
func (s *Store) TrendIncidents(ctx context.Context, from, to time.Time) ([]incident.TrendIncident, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT opened_at, acknowledged_at, restored_at, resolved_at, closed_at,
		severity, `+s.costClassSQL()+`, timebox FROM incidents WHERE opened_at >= ? AND opened_at < ?`), ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
	}
	defer rows.Close()
	var out []incident.TrendIncident
	for rows.Next() {
		var (
			ti                           incident.TrendIncident
			ack, restored, resolved, clo sql.NullTime
			severity, class              int
			timebox                      string
		)
		if err := rows.Scan(&ti.OpenedAt, &ack, &restored, &resolved, &clo, &severity, &class, &timebox); err != nil {
			return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
		}
		ti.OpenedAt = ti.OpenedAt.UTC()
		ti.AcknowledgedAt, ti.RestoredAt, ti.ResolvedAt, ti.ClosedAt = fromNullTime(ack), fromNullTime(restored), fromNullTime(resolved), fromNullTime(clo)
		ti.Severity, ti.Class = incident.Severity(severity), incident.CostClass(class)
		if timebox != "" {
			if err := json.Unmarshal([]byte(timebox), &ti.Timebox); err != nil {
				return nil, fmt.Errorf("reading the timebox of an incident opened %s: %w", ti.OpenedAt.Format(time.RFC3339), err)
			}
			ti.Timebox = utcTimebox(ti.Timebox)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
	}
	return out, nil
}

// TrendActions implements incident.TrendStore: the postmortems holding an
// action due in the window (found through postmortem_actions) are read,
// as only their documents know when each action was done.
func (s *Store) TrendActions(ctx context.Context, from, to time.Time) ([]incident.TrendAction, error) {
	var docs []string
	if err := s.db.SelectContext(ctx, &docs, s.db.Rebind(`SELECT doc FROM postmortems WHERE incident_id IN
		(SELECT incident_id FROM postmortem_actions WHERE due >= ? AND due < ?) ORDER BY incident_id`), ts(from), ts(to)); err != nil {
		return nil, fmt.Errorf("reading the actions of the trends: %w", err)
	}
	var out []incident.TrendAction
	for _, doc := range docs {
		pm := new(incident.Postmortem)
		if err := json.Unmarshal([]byte(doc), pm); err != nil {
			return nil, fmt.Errorf("reading a postmortem of the trends: %w", err)
		}
		utcPostmortem(pm)
		for _, a := range pm.Actions {
			if a.Due.Before(from) || !a.Due.Before(to) {
				continue
			}
			out = append(out, incident.TrendAction{Due: a.Due, DoneAt: a.DoneAt})
		}
	}
	return out, nil
}

var _ incident.TrendStore = (*Store)(nil)
