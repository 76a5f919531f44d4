package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
)

// The web dashboard's incidents list (dashquery.IncidentFilter): filtered,
// sorted and paged in SQL, with counts by status, so a page costs the
// same with 100,000 incidents in the history as with 100 (indexes in
// migration 00025).

// incidentWhere returns f's conditions, all but the open/all one, and
// their arguments.
func incidentWhere(f dashquery.IncidentFilter, dialect string) (conds []string, args []any) {
	if f.Severity != 0 {
		conds, args = append(conds, "severity = ?"), append(args, int(f.Severity))
	}
	if f.System != "" {
		conds = append(conds, `NOT private AND (',' || systems || ',') LIKE ? ESCAPE '\'`)
		args = append(args, "%,"+dashEscapeLike(f.System)+",%")
	}
	if f.Problem != 0 {
		conds = append(conds, "id IN (SELECT incident_id FROM incident_problems WHERE problem_id = ?)")
		args = append(args, f.Problem)
	}
	switch {
	case f.NoCost:
		conds = append(conds, "cost = ''")
	case f.CostClass != 0:
		conds, args = append(conds, costClassExpr(dialect)+" = ?"), append(args, int(f.CostClass))
	}
	if !f.From.IsZero() {
		conds, args = append(conds, "opened_at >= ?"), append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, "opened_at < ?"), append(args, ts(f.To))
	}
	return conds, args
}

// costClassExpr is the class an incident's cost was priced in (0: none),
// read from the stored cost: the class it had when priced, as the header
// showed it.
func costClassExpr(dialect string) string {
	if dialect == DialectPostgres {
		return `(CASE WHEN cost = '' THEN 0 ELSE (cost::jsonb ->> 'class')::int END)`
	}
	return `(CASE WHEN cost = '' THEN 0 ELSE json_extract(cost, '$.class') END)`
}

// incidentOrder is f's ORDER BY, each written as an index of migration
// 00025 is, so a page reads 50 rows of an index, not the table.
func incidentOrder(f dashquery.IncidentFilter, dialect string) string {
	switch f.Sort {
	case dashquery.SortSeverity:
		// Ties newest first (mildest first: oldest first), on the index
		// (severity, number DESC).
		if f.Desc {
			return "severity DESC, number ASC"
		}
		return "severity ASC, number DESC"
	case dashquery.SortRestore:
		// Incidents not restored come last either way.
		if f.Desc {
			return ttrKey(dialect, "-1") + " DESC, number DESC"
		}
		return ttrKey(dialect, "1e12") + " ASC, number ASC"
	default:
		if f.Desc {
			return "number DESC"
		}
		return "number ASC"
	}
}

// ttrKey is an incident's time to restore, or unrestored when it has not
// been restored: the expressions of migration 00025's indexes.
func ttrKey(dialect, unrestored string) string {
	if dialect == DialectPostgres {
		return "(CASE WHEN restored_at IS NULL THEN " + unrestored + " ELSE EXTRACT(EPOCH FROM restored_at - opened_at) END)"
	}
	return "(CASE WHEN restored_at IS NULL THEN " + unrestored + " ELSE julianday(restored_at) - julianday(opened_at) END)"
}

// dashEscapeLike escapes LIKE's wildcards (and the escape) in s, for ESCAPE '\'.
func dashEscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// DashboardIncidents returns the page of incidents f selects, how many it
// selects in all, and how many by status.
func (s *Store) DashboardIncidents(ctx context.Context, f dashquery.IncidentFilter) (dashquery.IncidentPage, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	conds, args := incidentWhere(f, s.dialect)
	page := dashquery.IncidentPage{ByStatus: map[incident.Status]int{}}
	var counts []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &counts, s.db.Rebind(`SELECT status, COUNT(*) AS n FROM incidents`+
		dashWhere(conds)+` GROUP BY status`), args...); err != nil {
		return dashquery.IncidentPage{}, fmt.Errorf("counting incidents: %w", err)
	}
	for _, c := range counts {
		page.ByStatus[incident.Status(c.Status)] = c.N
		if f.All || c.Status != string(incident.StatusResolved) {
			page.Total += c.N
		}
	}
	if page.Total == 0 || f.Offset >= page.Total {
		return page, nil
	}
	rows, err := s.incidentRows(ctx, f, conds, args, f.Offset, f.Limit)
	if err != nil {
		return dashquery.IncidentPage{}, err
	}
	page.Incidents, err = incidentsOf(rows)
	return page, err
}

// incidentRows reads limit rows of f from offset.
func (s *Store) incidentRows(ctx context.Context, f dashquery.IncidentFilter, conds []string, args []any, offset, limit int) ([]incidentRow, error) {
	if !f.All {
		// The literal, so the planner sees the partial index of the
		// unresolved (migration 00019) covers the query.
		conds = append(conds, "status <> 'resolved'")
	}
	var rows []incidentRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+incidentColumns+` FROM incidents`+dashWhere(conds)+
		` ORDER BY `+incidentOrder(f, s.dialect)+` LIMIT ? OFFSET ?`), append(args, limit, offset)...); err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return rows, nil
}

// EachDashboardIncident calls fn with every incident f selects, in its
// order, ignoring its Offset and Limit: the CSV download. It reads a
// thousand at a time and holds no connection while fn runs, so a slow
// reader never blocks the database (SQLite has one connection).
func (s *Store) EachDashboardIncident(ctx context.Context, f dashquery.IncidentFilter, fn func(*incident.Incident) error) error {
	const chunk = 1000
	conds, args := incidentWhere(f, s.dialect)
	for offset := 0; ; offset += chunk {
		rows, err := s.incidentRows(ctx, f, conds, args, offset, chunk)
		if err != nil {
			return err
		}
		for _, r := range rows {
			inc, err := r.incident()
			if err != nil {
				return err
			}
			if err := fn(inc); err != nil {
				return err
			}
		}
		if len(rows) < chunk {
			return nil
		}
	}
}

// dashWhere joins conditions into " WHERE a AND b", or "".
func dashWhere(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// IncidentVersion reads the version of the incident with this ID.
func (s *Store) IncidentVersion(ctx context.Context, id int64) (dashquery.IncidentVersion, error) {
	var r struct {
		Status    string        `db:"status"`
		Severity  int           `db:"severity"`
		TDOID     string        `db:"tdo_id"`
		ClosedAt  sql.NullTime  `db:"closed_at"`
		LastEntry sql.NullInt64 `db:"last_entry"`
	}
	err := s.db.GetContext(ctx, &r, s.db.Rebind(`SELECT status, severity, tdo_id, closed_at,
		(SELECT MAX(id) FROM timeline_entries WHERE incident_id = incidents.id) AS last_entry
		FROM incidents WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return dashquery.IncidentVersion{}, fmt.Errorf("incident %d: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return dashquery.IncidentVersion{}, fmt.Errorf("reading the version of incident %d: %w", id, err)
	}
	return dashquery.IncidentVersion{Status: incident.Status(r.Status), Severity: incident.Severity(r.Severity), TDOID: r.TDOID,
		Closed: r.ClosedAt.Valid, LastEntry: r.LastEntry.Int64}, nil
}

// LinkedProblems returns the problems with these IDs (those that exist),
// by ID: the problems an incident page links.
func (s *Store) LinkedProblems(ctx context.Context, ids []int64) (map[int64]incident.Problem, error) {
	out := map[int64]incident.Problem{}
	if len(ids) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT `+problemColumns+` FROM problems WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []problemRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("reading problems: %w", err)
	}
	for _, r := range rows {
		p := r.problem()
		out[p.ID] = p
	}
	return out, nil
}
