package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sitrep/sitrep/internal/jobs"
)

// Store satisfies jobs.Queue.
var _ jobs.Queue = (*Store)(nil)

type jobRow struct {
	ID          int64          `db:"id"`
	Kind        string         `db:"kind"`
	Key         sql.NullString `db:"key"`
	Payload     []byte         `db:"payload"`
	DueAt       time.Time      `db:"due_at"`
	State       string         `db:"state"`
	Attempts    int            `db:"attempts"`
	LastError   string         `db:"last_error"`
	LockedUntil sql.NullTime   `db:"locked_until"`
	LockedBy    string         `db:"locked_by"`
	CreatedAt   time.Time      `db:"created_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
}

const jobColumns = `id, kind, key, payload, due_at, state, attempts, last_error, locked_until, locked_by, created_at, updated_at`

func (r jobRow) job() jobs.Job {
	j := jobs.Job{
		ID: r.ID, Kind: r.Kind, Key: r.Key.String, Payload: r.Payload, DueAt: r.DueAt.UTC(),
		State: jobs.State(r.State), Attempts: r.Attempts, LastError: r.LastError,
		LockedBy: r.LockedBy, LockedUntil: r.LockedUntil.Time.UTC(),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if !r.LockedUntil.Valid {
		j.LockedUntil = time.Time{}
	}
	return j
}

// Enqueue implements jobs.Queue. It needs no transaction: the insert is
// one statement, and the key, once taken, keeps its job.
func (s *Store) Enqueue(ctx context.Context, j jobs.Job) (int64, error) {
	return s.enqueue(ctx, s.w, j, time.Now())
}

// enqueue inserts j unless its key is taken, and returns its ID (the
// existing job's when the key is taken). On PostgreSQL the insert and
// the look-up of a taken key are one statement.
func (s *Store) enqueue(ctx context.Context, q querier, j jobs.Job, now time.Time) (int64, error) {
	if j.State == jobs.StateCancelled {
		_, err := q.exec(ctx, `UPDATE jobs SET state = 'cancelled', updated_at = ?
			WHERE key = ? AND state = 'pending'`, ts(now), j.Key)
		if err != nil {
			return 0, fmt.Errorf("cancelling job %s: %w", j.Key, err)
		}
		return 0, nil
	}
	created := ts(now)
	if !j.CreatedAt.IsZero() {
		created = ts(j.CreatedAt)
	}
	var ids []int64
	var err error
	if s.dialect == DialectPostgres {
		// The SELECT reads the statement's snapshot: a key taken by a
		// transaction that committed after it began is not seen, and
		// looked up again below.
		err = q.sel(ctx, &ids, `WITH ins AS (INSERT INTO jobs
			(kind, key, payload, due_at, state, attempts, last_error, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'pending', 0, '', $5, $5)
			ON CONFLICT (key) DO NOTHING RETURNING id)
			SELECT id FROM ins UNION ALL (SELECT id FROM jobs WHERE key = $2) LIMIT 1`,
			j.Kind, nullString(j.Key), j.Payload, ts(j.DueAt), created)
	} else {
		err = q.sel(ctx, &ids, `INSERT INTO jobs
			(kind, key, payload, due_at, state, attempts, last_error, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'pending', 0, '', ?, ?)
			ON CONFLICT (key) DO NOTHING RETURNING id`,
			j.Kind, nullString(j.Key), j.Payload, ts(j.DueAt), created, created)
	}
	if err != nil {
		return 0, fmt.Errorf("enqueueing %s job: %w", j.Kind, err)
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	var id int64
	if err := q.get(ctx, &id, `SELECT id FROM jobs WHERE key = ?`, j.Key); err != nil {
		return 0, fmt.Errorf("finding job %s: %w", j.Key, err)
	}
	return id, nil
}

// ClaimDue implements jobs.Queue. On PostgreSQL the candidates are locked
// with FOR UPDATE SKIP LOCKED, so concurrent claimers take disjoint jobs;
// on SQLite the single write connection serialises claims.
func (s *Store) ClaimDue(ctx context.Context, by string, now time.Time, lease time.Duration, limit int) ([]jobs.Job, error) {
	skipLocked := ""
	if s.dialect == DialectPostgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	now = ts(now)
	var rows []jobRow
	// The two kinds of candidates are looked up apart, each in the order
	// of the (state, due_at, id) index, so that a claim reads about limit
	// rows however many jobs are due, instead of sorting them all.
	err := s.w.sel(ctx, &rows, `UPDATE jobs
		SET state = 'running', locked_until = ?, locked_by = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT id FROM (
				SELECT id, due_at FROM (SELECT id, due_at FROM jobs
					WHERE state = 'running' AND locked_until < ?
					ORDER BY due_at, id LIMIT ?`+skipLocked+`) expired
				UNION ALL
				SELECT id, due_at FROM (SELECT id, due_at FROM jobs
					WHERE state = 'pending' AND due_at <= ?
					ORDER BY due_at, id LIMIT ?`+skipLocked+`) due
			) candidates
			ORDER BY due_at, id LIMIT ?)
		RETURNING `+jobColumns,
		ts(now.Add(lease)), by, now, now, limit, now, limit, limit)
	if err != nil {
		return nil, fmt.Errorf("claiming due jobs: %w", err)
	}
	out := make([]jobs.Job, len(rows))
	for i, r := range rows {
		out[i] = r.job()
	}
	slices.SortFunc(out, func(a, b jobs.Job) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// Claim implements jobs.Queue.
func (s *Store) Claim(ctx context.Context, by string, id int64, now time.Time, lease time.Duration) (jobs.Job, bool, error) {
	now = ts(now)
	var r jobRow
	err := s.w.get(ctx, &r, `UPDATE jobs
		SET state = 'running', locked_until = ?, locked_by = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND (state = 'pending' OR (state = 'running' AND locked_until < ?))
		RETURNING `+jobColumns,
		ts(now.Add(lease)), by, now, id, now)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, false, nil
	}
	if err != nil {
		return jobs.Job{}, false, fmt.Errorf("claiming job %d: %w", id, err)
	}
	return r.job(), true, nil
}

// Renew implements jobs.Queue.
func (s *Store) Renew(ctx context.Context, j jobs.Job, until time.Time) error {
	return s.setClaimed(ctx, j, `locked_until = ?`, ts(until))
}

// Complete implements jobs.Queue.
func (s *Store) Complete(ctx context.Context, j jobs.Job, now time.Time) error {
	return s.setClaimed(ctx, j, `state = 'done', locked_until = NULL, updated_at = ?`, ts(now))
}

// Retry implements jobs.Queue.
func (s *Store) Retry(ctx context.Context, j jobs.Job, due time.Time, reason string) error {
	return s.setClaimed(ctx, j, `state = 'pending', locked_until = NULL, due_at = ?, last_error = ?, updated_at = ?`,
		ts(due), reason, ts(time.Now()))
}

// Fail implements jobs.Queue.
func (s *Store) Fail(ctx context.Context, j jobs.Job, now time.Time, reason string) error {
	return s.setClaimed(ctx, j, `state = 'failed', locked_until = NULL, last_error = ?, updated_at = ?`, reason, ts(now))
}

// Reclaim implements jobs.Queue.
func (s *Store) Reclaim(ctx context.Context, by string, now time.Time) (int, error) {
	now = ts(now)
	res, err := s.w.exec(ctx, `UPDATE jobs
		SET state = 'pending', locked_until = NULL, updated_at = ?,
			due_at = CASE WHEN due_at > ? THEN ? ELSE due_at END,
			last_error = 'its runner stopped while running it; reclaimed when the runner restarted'
		WHERE state = 'running' AND locked_by = ?`, now, now, now, by)
	if err != nil {
		return 0, fmt.Errorf("reclaiming jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("reclaiming jobs: %w", err)
	}
	return int(n), nil
}

// Job returns the job with this ID.
func (s *Store) Job(ctx context.Context, id int64) (jobs.Job, error) {
	var r jobRow
	if err := s.r.get(ctx, &r, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id); err != nil {
		return jobs.Job{}, fmt.Errorf("reading job %d: %w", id, err)
	}
	return r.job(), nil
}

// JobByKey returns the job with this key.
func (s *Store) JobByKey(ctx context.Context, key string) (jobs.Job, error) {
	var r jobRow
	if err := s.r.get(ctx, &r, `SELECT `+jobColumns+` FROM jobs WHERE key = ?`, key); err != nil {
		return jobs.Job{}, fmt.Errorf("reading job %s: %w", key, err)
	}
	return r.job(), nil
}

// setClaimed updates the claimed job j while that claim still holds it:
// leased (locked_until is set exactly while a job is running), by the same
// runner, not claimed again since. The test is on locked_until rather than
// state so that PostgreSQL finds the row by its primary key, not by
// scanning the running jobs of the claim index.
func (s *Store) setClaimed(ctx context.Context, j jobs.Job, set string, args ...any) error {
	res, err := s.w.exec(ctx, `UPDATE jobs SET `+set+`
		WHERE id = ? AND locked_until IS NOT NULL AND locked_by = ? AND attempts = ?`,
		append(args, j.ID, j.LockedBy, j.Attempts)...)
	if err != nil {
		return fmt.Errorf("updating job %d: %w", j.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating job %d: %w", j.ID, err)
	} else if n == 0 {
		return fmt.Errorf("updating job %d: %w", j.ID, jobs.ErrLeaseLost)
	}
	return nil
}
