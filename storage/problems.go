package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// Store satisfies incident.ProblemStore.
var _ incident.ProblemStore = (*Store)(nil)

type problemRow struct {
	ID        int64        `db:"id"`
	Title     string       `db:"title"`
	Status    string       `db:"status"`
	CreatedBy string       `db:"created_by"`
	CreatedAt time.Time    `db:"created_at"`
	Fix       string       `db:"fix"`
	ClosedBy  string       `db:"closed_by"`
	ClosedAt  sql.NullTime `db:"closed_at"`
}

const problemColumns = `id, title, status, created_by, created_at, fix, closed_by, closed_at`

func (r problemRow) problem() incident.Problem {
	return incident.Problem{ID: r.ID, Title: r.Title, Status: incident.ProblemStatus(r.Status), CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), Fix: r.Fix, ClosedBy: r.ClosedBy, ClosedAt: fromNullTime(r.ClosedAt)}
}

// CreateProblem implements incident.ProblemStore.
func (s *Store) CreateProblem(ctx context.Context, p *incident.Problem) error {
	p.CreatedAt = ts(p.CreatedAt)
	err := s.w.get(ctx, &p.ID, `INSERT INTO problems (title, status, created_by, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, p.Title, string(p.Status), p.CreatedBy, p.CreatedAt)
	if err != nil {
		return fmt.Errorf("inserting the problem: %w", err)
	}
	return nil
}

// Problem implements incident.ProblemStore.
func (s *Store) Problem(ctx context.Context, id int64) (*incident.Problem, error) {
	return s.problemWhere(ctx, s.r, id, "")
}

func (s *Store) problemWhere(ctx context.Context, q querier, id int64, lock string) (*incident.Problem, error) {
	var r problemRow
	err := q.get(ctx, &r, `SELECT `+problemColumns+` FROM problems WHERE id = ?`+lock, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("PRB-%d: %w", id, incident.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading PRB-%d: %w", id, err)
	}
	p := r.problem()
	return &p, nil
}

// UpdateProblem implements incident.ProblemStore.
func (s *Store) UpdateProblem(ctx context.Context, id int64, change func(*incident.Problem) error) (*incident.Problem, error) {
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var p *incident.Problem
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		if p, err = s.problemWhere(ctx, tx, id, lock); err != nil {
			return err
		}
		if err := change(p); err != nil {
			return err
		}
		p.ClosedAt = ts(p.ClosedAt)
		_, err = tx.exec(ctx, `UPDATE problems SET title = ?, status = ?, fix = ?, closed_by = ?, closed_at = ?
			WHERE id = ?`, p.Title, string(p.Status), p.Fix, p.ClosedBy, nullTime(p.ClosedAt), p.ID)
		if err != nil {
			return fmt.Errorf("updating %s: %w", p.Ref(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListProblems implements incident.ProblemStore.
func (s *Store) ListProblems(ctx context.Context, status incident.ProblemStatus) ([]incident.Problem, error) {
	var rows []problemRow
	query, args := `SELECT `+problemColumns+` FROM problems ORDER BY id`, []any{}
	if status != "" {
		query, args = `SELECT `+problemColumns+` FROM problems WHERE status = ? ORDER BY id`, []any{string(status)}
	}
	if err := s.r.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("listing problems: %w", err)
	}
	out := make([]incident.Problem, len(rows))
	for i, r := range rows {
		out[i] = r.problem()
	}
	return out, nil
}

// ProblemIncidents implements incident.ProblemStore.
func (s *Store) ProblemIncidents(ctx context.Context, id int64) ([]incident.Incident, error) {
	var rows []incidentRow
	if err := s.r.sel(ctx, &rows, `SELECT `+incidentColumns+` FROM incidents
		WHERE id IN (SELECT incident_id FROM incident_problems WHERE problem_id = ?) ORDER BY number DESC`, id); err != nil {
		return nil, fmt.Errorf("listing the incidents of PRB-%d: %w", id, err)
	}
	return incidentsOf(rows)
}

// CostTally implements incident.ProblemStore: incident.Tally computed by
// the database, so ranking 100,000 incidents reads one row per problem.
func (s *Store) CostTally(ctx context.Context, since time.Time) (incident.CostTally, error) {
	var t incident.CostTally
	var totals struct {
		Incidents  int     `db:"incidents"`
		Costed     int     `db:"costed"`
		Total      float64 `db:"total"`
		Linked     int     `db:"linked"`
		LinkedNum  int     `db:"linked_costed"`
		Shared     int     `db:"shared"`
		LinkedCost float64 `db:"linked_cost"`
	}
	err := s.r.get(ctx, &totals, `SELECT COUNT(*) AS incidents, COUNT(cost_amount) AS costed,
		COALESCE(SUM(cost_amount), 0) AS total,
		COALESCE(SUM(CASE WHEN problem_count > 0 THEN 1 ELSE 0 END), 0) AS linked,
		COALESCE(SUM(CASE WHEN problem_count > 0 AND cost_amount IS NOT NULL THEN 1 ELSE 0 END), 0) AS linked_costed,
		COALESCE(SUM(CASE WHEN problem_count > 1 THEN 1 ELSE 0 END), 0) AS shared,
		COALESCE(SUM(CASE WHEN problem_count > 0 THEN cost_amount END), 0) AS linked_cost
		FROM incidents WHERE opened_at >= ?`, ts(since))
	if err != nil {
		return t, fmt.Errorf("adding up incident costs: %w", err)
	}
	t.Incidents, t.Costed, t.Total = totals.Incidents, totals.Costed, totals.Total
	t.Linked, t.Shared, t.LinkedCost = totals.Linked, totals.Shared, totals.LinkedCost
	t.LinkedCosted = totals.LinkedNum
	var rows []struct {
		ProblemID int64   `db:"problem_id"`
		Cost      float64 `db:"cost"`
		Incidents int     `db:"incidents"`
		Uncosted  int     `db:"uncosted"`
	}
	err = s.r.sel(ctx, &rows, `SELECT problem_id,
		COALESCE(SUM(cost_amount * weight), 0) AS cost, COUNT(*) AS incidents,
		COUNT(*) - COUNT(cost_amount) AS uncosted
		FROM incident_problems WHERE opened_at >= ? GROUP BY problem_id ORDER BY problem_id`, ts(since))
	if err != nil {
		return t, fmt.Errorf("adding up costs by problem: %w", err)
	}
	t.ByProblem = make([]incident.ProblemCost, len(rows))
	for i, r := range rows {
		t.ByProblem[i] = incident.ProblemCost{ProblemID: r.ProblemID, Cost: r.Cost, Incidents: r.Incidents, Uncosted: r.Uncosted}
	}
	return t, nil
}

// linkProblems rewrites the incident's rows in incident_problems from
// inc.Problems, each weighted 1/n, with its opening and cost, and tallies
// again every problem it was or is linked to, in ID order (so concurrent
// writers lock problems in one order).
func linkProblems(ctx context.Context, tx *txn, inc *incident.Incident) error {
	var before []int64
	if err := tx.sel(ctx, &before, `DELETE FROM incident_problems WHERE incident_id = ? RETURNING problem_id`, inc.ID); err != nil {
		return fmt.Errorf("unlinking the problems of %s: %w", inc.Ref(), err)
	}
	for _, id := range inc.Problems {
		if _, err := tx.exec(ctx, `INSERT INTO incident_problems (incident_id, problem_id, weight, opened_at, cost_amount)
			VALUES (?, ?, ?, ?, ?)`, inc.ID, id, 1/float64(len(inc.Problems)), ts(inc.OpenedAt), costAmount(inc.Cost)); err != nil {
			return fmt.Errorf("linking PRB-%d to %s: %w", id, inc.Ref(), err)
		}
	}
	touched := append(before, inc.Problems...)
	slices.Sort(touched)
	for _, id := range slices.Compact(touched) {
		if err := retally(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// retally computes problem id's tally again from its incident_problems
// rows (an index range of that problem alone): exact, where adding and
// subtracting would let rounding creep in.
func retally(ctx context.Context, tx *txn, id int64) error {
	_, err := tx.exec(ctx, `UPDATE problems SET
		tally_incidents = (SELECT COUNT(*) FROM incident_problems WHERE problem_id = ?),
		tally_uncosted = (SELECT COUNT(*) - COUNT(cost_amount) FROM incident_problems WHERE problem_id = ?),
		tally_cost = (SELECT COALESCE(SUM(cost_amount * weight), 0) FROM incident_problems WHERE problem_id = ?)
		WHERE id = ?`, id, id, id, id)
	if err != nil {
		return fmt.Errorf("adding up the cost of PRB-%d: %w", id, err)
	}
	return nil
}

// ProblemTallies implements incident.ProblemStore: each problem's
// all-time tally with this status ("" for all), read from the problems
// table alone.
func (s *Store) ProblemTallies(ctx context.Context, status incident.ProblemStatus) ([]incident.ProblemCost, error) {
	q := `SELECT id, tally_cost, tally_incidents, tally_uncosted FROM problems WHERE tally_incidents > 0`
	var args []any
	if status != "" {
		q += ` AND status = ?`
		args = append(args, string(status))
	}
	var rows []struct {
		ID        int64   `db:"id"`
		Cost      float64 `db:"tally_cost"`
		Incidents int     `db:"tally_incidents"`
		Uncosted  int     `db:"tally_uncosted"`
	}
	if err := s.r.sel(ctx, &rows, q+` ORDER BY id`, args...); err != nil {
		return nil, fmt.Errorf("reading the problems' costs: %w", err)
	}
	out := make([]incident.ProblemCost, len(rows))
	for i, r := range rows {
		out[i] = incident.ProblemCost{ProblemID: r.ID, Cost: r.Cost, Incidents: r.Incidents, Uncosted: r.Uncosted}
	}
	return out, nil
}

// Store satisfies incident.ReviewStore.
var _ incident.ReviewStore = (*Store)(nil)

// IncidentsOpened implements incident.ReviewStore.
func (s *Store) IncidentsOpened(ctx context.Context, from, to time.Time) ([]incident.Incident, error) {
	var rows []incidentRow
	if err := s.r.sel(ctx, &rows, `SELECT `+incidentColumns+` FROM incidents
		WHERE opened_at >= ? AND opened_at < ? ORDER BY opened_at, number`, ts(from), ts(to)); err != nil {
		return nil, fmt.Errorf("listing incidents opened from %s: %w", from.Format(time.RFC3339), err)
	}
	return incidentsOf(rows)
}
