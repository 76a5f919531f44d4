package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// incidentRow is an incidents row.
type incidentRow struct {
	ID          int64          `db:"id"`
	Number      int64          `db:"number"`
	Title       string         `db:"title"`
	Description string         `db:"description"`
	Severity    int            `db:"severity"`
	Status      string         `db:"status"`
	Systems     string         `db:"systems"`
	ReporterID  string         `db:"reporter_id"`
	ReportedBy  string         `db:"reported_by"`
	TDOID       string         `db:"tdo_id"`
	ReportedIn  string         `db:"reported_in"`
	RequestKey  sql.NullString `db:"request_key"`
	OpenedAt    time.Time      `db:"opened_at"`
	AckedAt     sql.NullTime   `db:"acknowledged_at"`
	RestoredAt  sql.NullTime   `db:"restored_at"`
	ResolvedAt  sql.NullTime   `db:"resolved_at"`
	ClosedAt    sql.NullTime   `db:"closed_at"`
	Roles       string         `db:"roles"`
	Plan        string         `db:"plan"`
	Timebox     string         `db:"timebox"`
	Cost        string         `db:"cost"`
	ProblemIDs  string         `db:"problem_ids"`
	Private     bool           `db:"private"`
	Opening     string         `db:"opening"`
}

const incidentColumns = `id, number, title, description, severity, status, systems,
	reporter_id, tdo_id, reported_in, request_key, opened_at,
	acknowledged_at, restored_at, resolved_at, closed_at, roles, plan, timebox, cost, problem_ids, private, opening, reported_by`

func (r incidentRow) incident() (*incident.Incident, error) {
	var systems []string
	if r.Systems != "" {
		// System names cannot hold commas (incident.NormalizeSystem).
		systems = strings.Split(r.Systems, ",")
	}
	var plan incident.Plan
	var timebox incident.Timebox
	if r.Plan != "" {
		if err := json.Unmarshal([]byte(r.Plan), &plan); err != nil {
			return nil, fmt.Errorf("reading the plan of INC-%d: %w", r.Number, err)
		}
	}
	if r.Timebox != "" {
		if err := json.Unmarshal([]byte(r.Timebox), &timebox); err != nil {
			return nil, fmt.Errorf("reading the timebox of INC-%d: %w", r.Number, err)
		}
		timebox = utcTimebox(timebox)
	}
	var cost *incident.Cost
	if r.Cost != "" {
		cost = new(incident.Cost)
		if err := json.Unmarshal([]byte(r.Cost), cost); err != nil {
			return nil, fmt.Errorf("reading the cost of INC-%d: %w", r.Number, err)
		}
		cost.SetAt = cost.SetAt.UTC()
	}
	problems, err := decodeIDs(r.ProblemIDs)
	if err != nil {
		return nil, fmt.Errorf("reading the problems of INC-%d: %w", r.Number, err)
	}
	opening, err := decodeFacts(r.Opening)
	if err != nil {
		return nil, fmt.Errorf("reading the opening of INC-%d: %w", r.Number, err)
	}
	return &incident.Incident{
		ID: r.ID, Number: r.Number, Title: r.Title, Description: r.Description,
		Severity: incident.Severity(r.Severity), Status: incident.Status(r.Status), Systems: systems,
		ReporterID: r.ReporterID, ReportedBy: r.ReportedBy, TDOID: r.TDOID, ReportedIn: r.ReportedIn,
		RequestKey: r.RequestKey.String, OpenedAt: r.OpenedAt.UTC(),
		AcknowledgedAt: fromNullTime(r.AckedAt), RestoredAt: fromNullTime(r.RestoredAt), ResolvedAt: fromNullTime(r.ResolvedAt),
		ClosedAt: fromNullTime(r.ClosedAt), Roles: decodeRoles(r.Roles), Plan: plan, Timebox: timebox,
		Cost: cost, Problems: problems, Private: r.Private, Opening: opening,
	}, nil
}

// utcTimebox gives every time of t the UTC location, as the store's other
// times have.
func utcTimebox(t incident.Timebox) incident.Timebox {
	for _, p := range timeboxTimes(&t) {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return t
}

// timeboxTimes points at every time of t.
func timeboxTimes(t *incident.Timebox) []*time.Time {
	out := []*time.Time{&t.StartedAt, &t.Deadline, &t.WarnDue, &t.WarnedAt, &t.ExpiredAt, &t.EndedAt, &t.RestoreBegan}
	for i := range t.Earlier {
		b := &t.Earlier[i]
		out = append(out, &b.StartedAt, &b.Deadline, &b.EndedAt)
	}
	return out
}

// encodePlan and encodeTimebox store an incident's plan and clock as JSON;
// a zero value is stored as ”.
func encodePlan(p incident.Plan) string {
	if len(p.Diagnostics)+len(p.Timebox)+len(p.Restore)+len(p.Runbooks) == 0 {
		return ""
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func encodeTimebox(t incident.Timebox) string {
	if t.IsZero() {
		return ""
	}
	b, _ := json.Marshal(t)
	return string(b)
}

// storable rounds inc's times as the database stores them, so that the
// incident a change returns equals the one read back.
func storable(inc *incident.Incident) {
	times := append([]*time.Time{&inc.OpenedAt, &inc.AcknowledgedAt, &inc.RestoredAt, &inc.ResolvedAt, &inc.ClosedAt},
		timeboxTimes(&inc.Timebox)...)
	if inc.Cost != nil {
		times = append(times, &inc.Cost.SetAt)
	}
	for _, p := range times {
		if !p.IsZero() {
			*p = ts(*p)
		}
	}
}

// encodeCost stores a cost as JSON and its amount as a number (NULL: no
// cost entered).
func encodeCost(c *incident.Cost) (string, any) {
	if c == nil {
		return "", nil
	}
	b, _ := json.Marshal(c)
	return string(b), c.Amount
}

// costAmount is a cost's amount, or nil for none.
func costAmount(c *incident.Cost) any {
	_, amount := encodeCost(c)
	return amount
}

// encodeIDs stores IDs as "1,2,3"; decodeIDs reads them back.
func encodeIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func decodeIDs(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int64, len(parts))
	for i, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// encodeRoles stores roles as "comms=U1,scribe=U2" (role names and user IDs
// hold neither ',' nor '=').
func encodeRoles(roles map[incident.Role]string) string {
	var parts []string
	for _, role := range incident.Roles() {
		if u := roles[role]; u != "" {
			parts = append(parts, string(role)+"="+u)
		}
	}
	return strings.Join(parts, ",")
}

func decodeRoles(s string) map[incident.Role]string {
	if s == "" {
		return nil
	}
	out := map[incident.Role]string{}
	for _, part := range strings.Split(s, ",") {
		if role, user, ok := strings.Cut(part, "="); ok {
			out[incident.Role(role)] = user
		}
	}
	return out
}

func fromNullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// CreateIncident implements incident.Store: the next number from a counter
// row (locked by the update, so concurrent creates queue and numbers are
// gapless), the incident, and the follow-up jobs, in one transaction. On
// PostgreSQL the number and the incident are one statement; a request key
// already taken is then told by the unique index, after the transaction
// that took it committed.
func (s *Store) CreateIncident(ctx context.Context, inc *incident.Incident, follow func(*incident.Incident) []jobs.Job) error {
	var existing *incident.Incident
	err := s.inTx(ctx, func(tx *txn) error {
		storable(inc)
		args := []any{inc.Title, inc.Description, int(inc.Severity), string(inc.Status),
			strings.Join(inc.Systems, ","), inc.ReporterID, inc.TDOID, inc.ReportedIn,
			nullString(inc.RequestKey), inc.OpenedAt, encodePlan(inc.Plan), encodeTimebox(inc.Timebox), inc.Private, encodeFacts(inc.Opening), inc.ReportedBy}
		if s.dialect == DialectPostgres {
			var row struct {
				ID     int64 `db:"id"`
				Number int64 `db:"number"`
			}
			if err := tx.get(ctx, &row, `WITH n AS (UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value)
				INSERT INTO incidents (number, `+createColumns+`)
				VALUES ((SELECT value FROM n), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, number`, args...); err != nil {
				return fmt.Errorf("inserting the incident: %w", err)
			}
			inc.ID, inc.Number = row.ID, row.Number
		} else {
			if err := tx.get(ctx, &inc.Number,
				`UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value`); err != nil {
				return fmt.Errorf("numbering the incident: %w", err)
			}
			if inc.RequestKey != "" {
				// SQLite's write lock, taken at BEGIN, makes this
				// check and the insert one step.
				old, err := s.incidentWhere(ctx, tx, "request_key = ?", inc.RequestKey)
				if err == nil {
					existing = old
					return incident.ErrDuplicate
				}
				if !errors.Is(err, incident.ErrNotFound) {
					return err
				}
			}
			if err := tx.get(ctx, &inc.ID, `INSERT INTO incidents (number, `+createColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, append([]any{inc.Number}, args...)...); err != nil {
				return fmt.Errorf("inserting the incident: %w", err)
			}
		}
		if follow == nil {
			return nil
		}
		for _, j := range follow(inc) {
			if _, err := s.enqueue(ctx, tx, j, inc.OpenedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && inc.RequestKey != "" && (errors.Is(err, incident.ErrDuplicate) || isUniqueViolation(err)) {
		if existing == nil {
			if existing, err = s.incidentWhere(ctx, s.r, "request_key = ?", inc.RequestKey); err != nil {
				return fmt.Errorf("reading the incident of request %s: %w", inc.RequestKey, err)
			}
		}
		*inc = *existing
		return fmt.Errorf("request %s opened %s already: %w", inc.RequestKey, inc.Ref(), incident.ErrDuplicate)
	}
	return err
}

// createColumns are the columns CreateIncident sets besides the number.
const createColumns = `title, description, severity, status, systems, reporter_id, tdo_id, reported_in, request_key, opened_at, plan, timebox, private, opening, reported_by`

// Incident implements incident.Store.
func (s *Store) Incident(ctx context.Context, id int64) (*incident.Incident, error) {
	return s.incidentWhere(ctx, s.r, "id = ?", id)
}

// IncidentByNumber implements incident.Store.
func (s *Store) IncidentByNumber(ctx context.Context, number int64) (*incident.Incident, error) {
	return s.incidentWhere(ctx, s.r, "number = ?", number)
}

// ListIncidents returns up to limit incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context, limit int) ([]incident.Incident, error) {
	var rows []incidentRow
	if err := s.r.sel(ctx, &rows,
		`SELECT `+incidentColumns+` FROM incidents ORDER BY number DESC LIMIT ?`, limit); err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return incidentsOf(rows)
}

// UnresolvedIncidents implements incident.Store: every incident not yet
// resolved, newest first, read through a partial index on them alone
// (migration 00019), so its cost does not grow with history.
func (s *Store) UnresolvedIncidents(ctx context.Context) ([]incident.Incident, error) {
	var rows []incidentRow
	if err := s.r.sel(ctx, &rows,
		// The literal, not a parameter: only then can the planner see
		// that the partial index covers the query.
		`SELECT `+incidentColumns+` FROM incidents WHERE status <> 'resolved' ORDER BY number DESC`); err != nil {
		return nil, fmt.Errorf("listing unresolved incidents: %w", err)
	}
	return incidentsOf(rows)
}

// incidentsOf reads rows as incidents.
func incidentsOf(rows []incidentRow) ([]incident.Incident, error) {
	out := make([]incident.Incident, len(rows))
	for i, r := range rows {
		inc, err := r.incident()
		if err != nil {
			return nil, err
		}
		out[i] = *inc
	}
	return out, nil
}

// UpdateIncident implements incident.Store. The incident row is locked
// for the transaction (FOR UPDATE on PostgreSQL; SQLite's write lock is
// taken at BEGIN), so concurrent changes apply one after another.
func (s *Store) UpdateIncident(ctx context.Context, id int64, change func(*incident.Incident) ([]incident.TimelineEntry, error),
	follow func(*incident.Incident, []incident.TimelineEntry) []jobs.Job) (*incident.Incident, []incident.TimelineEntry, error) {
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var inc *incident.Incident
	var entries []incident.TimelineEntry
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		inc, err = s.incidentWhere(ctx, tx, "id = ?"+lock, id)
		if err != nil {
			return err
		}
		oldIDs, oldCost := encodeIDs(inc.Problems), inc.Cost
		before := updateArgs(inc)
		if entries, err = change(inc); err != nil {
			return err
		}
		storable(inc)
		ids := encodeIDs(inc.Problems)
		// A change that only adds to the timeline (a note) leaves the row
		// as it was: it stays locked, and is not written again.
		if after := updateArgs(inc); !reflect.DeepEqual(before, after) {
			if _, err := tx.exec(ctx, `UPDATE incidents SET
				title = ?, description = ?, severity = ?, status = ?, systems = ?, tdo_id = ?,
				acknowledged_at = ?, restored_at = ?, resolved_at = ?, closed_at = ?, roles = ?, plan = ?, timebox = ?,
				cost = ?, cost_amount = ?, problem_ids = ?, problem_count = ?, private = (private OR ?) WHERE id = ?`,
				append(after, inc.ID)...); err != nil {
				return fmt.Errorf("updating %s: %w", inc.Ref(), err)
			}
		}
		if ids != oldIDs || costAmount(oldCost) != costAmount(inc.Cost) {
			if err := linkProblems(ctx, tx, inc); err != nil {
				return err
			}
		}
		for i := range entries {
			e := &entries[i]
			e.IncidentID, e.At = inc.ID, ts(e.At)
			if err := tx.get(ctx, &e.ID, `INSERT INTO timeline_entries (incident_id, at, actor, kind, subject, text, facts)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.IncidentID, e.At, e.Actor, string(e.Kind), e.Subject, e.Text, encodeFacts(e.Facts)); err != nil {
				return fmt.Errorf("adding to the timeline of %s: %w", inc.Ref(), err)
			}
		}
		if follow == nil {
			return nil
		}
		for _, j := range follow(inc, entries) {
			if _, err := s.enqueue(ctx, tx, j, j.DueAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return inc, entries, nil
}

// updateArgs are the values UpdateIncident writes, in the order of its
// UPDATE.
func updateArgs(inc *incident.Incident) []any {
	cost, amount := encodeCost(inc.Cost)
	return []any{inc.Title, inc.Description, int(inc.Severity), string(inc.Status), strings.Join(inc.Systems, ","), inc.TDOID,
		nullTime(inc.AcknowledgedAt), nullTime(inc.RestoredAt), nullTime(inc.ResolvedAt), nullTime(inc.ClosedAt), encodeRoles(inc.Roles),
		encodePlan(inc.Plan), encodeTimebox(inc.Timebox), cost, amount, encodeIDs(inc.Problems), len(inc.Problems), inc.Private}
}

// entryRow is a timeline_entries row.
type entryRow struct {
	ID         int64     `db:"id"`
	IncidentID int64     `db:"incident_id"`
	At         time.Time `db:"at"`
	Actor      string    `db:"actor"`
	Kind       string    `db:"kind"`
	Subject    string    `db:"subject"`
	Text       string    `db:"text"`
	Facts      string    `db:"facts"`
}

const entryColumns = `id, incident_id, at, actor, kind, subject, text, facts`

// entry reads the row; facts that cannot be read are dropped (the text
// still tells what happened) rather than hiding the whole timeline.
func (r entryRow) entry() incident.TimelineEntry {
	facts, _ := decodeFacts(r.Facts)
	return incident.TimelineEntry{ID: r.ID, IncidentID: r.IncidentID, At: r.At.UTC(), Actor: r.Actor,
		Kind: incident.EntryKind(r.Kind), Subject: r.Subject, Text: r.Text, Facts: facts}
}

// encodeFacts writes facts as JSON; no facts are the empty string.
func encodeFacts(f incident.Facts) string {
	if f.Empty() {
		return ""
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// decodeFacts reads what encodeFacts wrote.
func decodeFacts(s string) (incident.Facts, error) {
	var f incident.Facts
	if s == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return incident.Facts{}, fmt.Errorf("reading entry facts: %w", err)
	}
	return f, nil
}

// Timeline implements incident.Store.
func (s *Store) Timeline(ctx context.Context, incidentID int64) ([]incident.TimelineEntry, error) {
	var rows []entryRow
	if err := s.r.sel(ctx, &rows, `SELECT `+entryColumns+`
		FROM timeline_entries WHERE incident_id = ? ORDER BY at, id`, incidentID); err != nil {
		return nil, fmt.Errorf("reading timeline of incident %d: %w", incidentID, err)
	}
	out := make([]incident.TimelineEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// TimelineEntry implements incident.Store.
func (s *Store) TimelineEntry(ctx context.Context, id int64) (incident.TimelineEntry, error) {
	var r entryRow
	err := s.r.get(ctx, &r, `SELECT `+entryColumns+` FROM timeline_entries WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return incident.TimelineEntry{}, fmt.Errorf("timeline entry %d: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return incident.TimelineEntry{}, fmt.Errorf("reading timeline entry %d: %w", id, err)
	}
	return r.entry(), nil
}

func (s *Store) incidentWhere(ctx context.Context, q querier, where string, arg any) (*incident.Incident, error) {
	var r incidentRow
	err := q.get(ctx, &r, `SELECT `+incidentColumns+` FROM incidents WHERE `+where, arg)
	if errors.Is(err, sql.ErrNoRows) {
		cond := strings.TrimSuffix(strings.ReplaceAll(where, "?", fmt.Sprint(arg)), " FOR UPDATE")
		return nil, fmt.Errorf("incident with %s: %w", cond, incident.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading incident: %w", err)
	}
	return r.incident()
}
