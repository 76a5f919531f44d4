package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Store satisfies checklist.Store.
var _ checklist.Store = (*Store)(nil)

type runRow struct {
	ID         int64          `db:"id"`
	Template   string         `db:"template"`
	Title      string         `db:"title"`
	System     string         `db:"system"`
	Label      string         `db:"label"`
	Steps      string         `db:"steps"`
	ChannelID  string         `db:"channel_id"`
	MessageTS  string         `db:"message_ts"`
	StartedBy  string         `db:"started_by"`
	StartedAt  time.Time      `db:"started_at"`
	State      string         `db:"state"`
	EndedAt    sql.NullTime   `db:"ended_at"`
	Reason     string         `db:"reason"`
	Version    int            `db:"version"`
	RequestKey sql.NullString `db:"request_key"`
}

const runColumns = `id, template, title, system, label, steps, channel_id, message_ts, started_by, started_at, state, ended_at, reason, version, request_key`

func (r runRow) run() (*checklist.Run, error) {
	var steps []checklist.Step
	if err := json.Unmarshal([]byte(r.Steps), &steps); err != nil {
		return nil, fmt.Errorf("reading the steps of CL-%d: %w", r.ID, err)
	}
	return &checklist.Run{
		ID: r.ID, Template: r.Template, Title: r.Title, System: r.System, Label: r.Label, Steps: steps,
		ChannelID: r.ChannelID, MessageTS: r.MessageTS, StartedBy: r.StartedBy, StartedAt: r.StartedAt.UTC(),
		State: checklist.State(r.State), EndedAt: fromNullTime(r.EndedAt), Reason: r.Reason, Version: r.Version,
		RequestKey: r.RequestKey.String,
	}, nil
}

// CreateRun implements checklist.Store.
func (s *Store) CreateRun(ctx context.Context, r *checklist.Run, follow func(*checklist.Run) []jobs.Job) error {
	steps, err := json.Marshal(r.Steps)
	if err != nil {
		return err
	}
	r.StartedAt = ts(r.StartedAt)
	err = s.inTx(ctx, func(tx *txn) error {
		if err := tx.get(ctx, &r.ID, `INSERT INTO checklist_runs
			(template, title, system, label, steps, channel_id, message_ts, started_by, started_at, state, reason, version, request_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?) RETURNING id`,
			r.Template, r.Title, r.System, r.Label, string(steps), r.ChannelID, r.MessageTS, r.StartedBy, r.StartedAt,
			string(r.State), nullString(r.RequestKey)); err != nil {
			return fmt.Errorf("inserting the checklist run: %w", err)
		}
		if follow == nil {
			return nil
		}
		for _, j := range follow(r) {
			if _, err := s.enqueue(ctx, tx, j, r.StartedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && r.RequestKey != "" && isUniqueViolation(err) {
		existing, err := s.runWhere(ctx, s.r, "request_key = ?", r.RequestKey)
		if err != nil {
			return err
		}
		*r = *existing
		return fmt.Errorf("request %s started %s already: %w", r.RequestKey, r.Ref(), checklist.ErrDuplicate)
	}
	return err
}

// Run implements checklist.Store.
func (s *Store) Run(ctx context.Context, id int64) (*checklist.Run, error) {
	return s.runWhere(ctx, s.r, "id = ?", id)
}

func (s *Store) runWhere(ctx context.Context, q querier, where string, arg any) (*checklist.Run, error) {
	var r runRow
	err := q.get(ctx, &r, `SELECT `+runColumns+` FROM checklist_runs WHERE `+where, arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("checklist run %v: %w", arg, checklist.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading checklist run: %w", err)
	}
	return r.run()
}

type eventRow struct {
	RunID  int64     `db:"run_id"`
	Seq    int       `db:"seq"`
	At     time.Time `db:"at"`
	Actor  string    `db:"actor"`
	Action string    `db:"action"`
	Step   int       `db:"step"`
	Reason string    `db:"reason"`
}

// Events implements checklist.Store.
func (s *Store) Events(ctx context.Context, runID int64) ([]checklist.Event, error) {
	return s.events(ctx, s.r, runID)
}

func (s *Store) events(ctx context.Context, q querier, runID int64) ([]checklist.Event, error) {
	var rows []eventRow
	if err := q.sel(ctx, &rows, `SELECT run_id, seq, at, actor, action, step, reason
		FROM checklist_events WHERE run_id = ? ORDER BY seq`, runID); err != nil {
		return nil, fmt.Errorf("reading the events of CL-%d: %w", runID, err)
	}
	out := make([]checklist.Event, len(rows))
	for i, r := range rows {
		out[i] = checklist.Event{RunID: r.RunID, Seq: r.Seq, At: r.At.UTC(), Actor: r.Actor, Action: checklist.Action(r.Action), Step: r.Step, Reason: r.Reason}
	}
	return out, nil
}

// UpdateRun implements checklist.Store. The run row is locked for the
// transaction (FOR UPDATE on PostgreSQL; SQLite's write lock at BEGIN).
func (s *Store) UpdateRun(ctx context.Context, id int64, change func(*checklist.Run, []checklist.Event) ([]checklist.Event, error),
	follow func(*checklist.Run, []checklist.Event) []jobs.Job) (*checklist.Run, []checklist.Event, error) {
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var run *checklist.Run
	var added []checklist.Event
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		if run, err = s.runWhere(ctx, tx, "id = ?"+lock, id); err != nil {
			return err
		}
		events, err := s.events(ctx, tx, id)
		if err != nil {
			return err
		}
		if added, err = change(run, events); err != nil {
			return err
		}
		for i := range added {
			e := &added[i]
			run.Version++
			e.RunID, e.Seq, e.At = id, run.Version, ts(e.At)
			if _, err := tx.exec(ctx, `INSERT INTO checklist_events (run_id, seq, at, actor, action, step, reason)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, e.RunID, e.Seq, e.At, e.Actor, string(e.Action), e.Step, e.Reason); err != nil {
				return fmt.Errorf("recording on %s: %w", run.Ref(), err)
			}
		}
		run.EndedAt = tsOrZero(run.EndedAt)
		if _, err := tx.exec(ctx, `UPDATE checklist_runs SET state = ?, ended_at = ?, reason = ?, version = ? WHERE id = ?`,
			string(run.State), nullTime(run.EndedAt), run.Reason, run.Version, id); err != nil {
			return fmt.Errorf("updating %s: %w", run.Ref(), err)
		}
		if follow == nil {
			return nil
		}
		for _, j := range follow(run, added) {
			if _, err := s.enqueue(ctx, tx, j, j.DueAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return run, added, nil
}

func tsOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return ts(t)
}

// SetRunMessage implements checklist.Store.
func (s *Store) SetRunMessage(ctx context.Context, id int64, channel, ts string) error {
	if _, err := s.w.exec(ctx, `UPDATE checklist_runs SET channel_id = ?, message_ts = ? WHERE id = ?`, channel, ts, id); err != nil {
		return fmt.Errorf("recording the message of CL-%d: %w", id, err)
	}
	return nil
}

// ActiveRuns implements checklist.Store.
func (s *Store) ActiveRuns(ctx context.Context, limit int) ([]checklist.Run, error) {
	var rows []runRow
	if err := s.r.sel(ctx, &rows, `SELECT `+runColumns+` FROM checklist_runs
		WHERE state = 'active' ORDER BY id DESC LIMIT ?`, limit); err != nil {
		return nil, fmt.Errorf("listing checklist runs: %w", err)
	}
	out := make([]checklist.Run, 0, len(rows))
	for _, r := range rows {
		run, err := r.run()
		if err != nil {
			return nil, err
		}
		out = append(out, *run)
	}
	return out, nil
}
