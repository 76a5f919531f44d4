package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Store satisfies incident.PostmortemStore.
var _ incident.PostmortemStore = (*Store)(nil)

// CreatePostmortem implements incident.PostmortemStore.
func (s *Store) CreatePostmortem(ctx context.Context, pm *incident.Postmortem, follow func(*incident.Postmortem) []jobs.Job) error {
	storablePostmortem(pm)
	var existing *incident.Postmortem
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		existing, err = s.postmortemIn(ctx, tx, pm.IncidentID, "")
		switch {
		case err == nil:
			return incident.ErrDuplicate
		case !errors.Is(err, incident.ErrNotFound):
			return err
		}
		pm.Version = 1
		doc, err := json.Marshal(pm)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO postmortems (incident_id, doc, version, updated_at) VALUES (?, ?, ?, ?)`,
			pm.IncidentID, string(doc), pm.Version, ts(pm.StartedAt)); err != nil {
			return fmt.Errorf("inserting the postmortem: %w", err)
		}
		return s.enqueueAll(ctx, tx, follow, pm)
	})
	if errors.Is(err, incident.ErrDuplicate) || isUniqueViolation(err) {
		if existing == nil {
			if existing, err = s.Postmortem(ctx, pm.IncidentID); err != nil {
				return err
			}
		}
		*pm = *existing
		return incident.ErrDuplicate
	}
	return err
}

func (s *Store) enqueueAll(ctx context.Context, tx *txn, follow func(*incident.Postmortem) []jobs.Job, pm *incident.Postmortem) error {
	if follow == nil {
		return nil
	}
	for _, j := range follow(pm) {
		if _, err := s.enqueue(ctx, tx, j, j.DueAt); err != nil {
			return err
		}
	}
	return nil
}

// Postmortem implements incident.PostmortemStore.
func (s *Store) Postmortem(ctx context.Context, incidentID int64) (*incident.Postmortem, error) {
	return s.postmortemIn(ctx, s.r, incidentID, "")
}

func (s *Store) postmortemIn(ctx context.Context, q querier, incidentID int64, lock string) (*incident.Postmortem, error) {
	var doc string
	err := q.get(ctx, &doc, `SELECT doc FROM postmortems WHERE incident_id = ?`+lock, incidentID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("postmortem of incident %d: %w", incidentID, incident.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the postmortem of incident %d: %w", incidentID, err)
	}
	pm := new(incident.Postmortem)
	if err := json.Unmarshal([]byte(doc), pm); err != nil {
		return nil, fmt.Errorf("reading the postmortem of incident %d: %w", incidentID, err)
	}
	utcPostmortem(pm)
	return pm, nil
}

// UpdatePostmortem implements incident.PostmortemStore: the row is locked
// for the transaction, the document rewritten with its version increased,
// its actions mirrored.
func (s *Store) UpdatePostmortem(ctx context.Context, incidentID int64, change func(*incident.Postmortem) error,
	follow func(*incident.Postmortem) []jobs.Job) (*incident.Postmortem, error) {
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var pm *incident.Postmortem
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		if pm, err = s.postmortemIn(ctx, tx, incidentID, lock); err != nil {
			return err
		}
		mirrored := actionMirror(pm)
		if err := change(pm); err != nil {
			return err
		}
		pm.Version++
		storablePostmortem(pm)
		doc, err := json.Marshal(pm)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE postmortems SET doc = ?, version = ?, updated_at = ? WHERE incident_id = ?`,
			string(doc), pm.Version, ts(time.Now()), incidentID); err != nil {
			return fmt.Errorf("updating the postmortem of incident %d: %w", incidentID, err)
		}
		if actionMirror(pm) != mirrored {
			if err := mirrorActions(ctx, tx, pm); err != nil {
				return err
			}
		}
		return s.enqueueAll(ctx, tx, follow, pm)
	})
	if err != nil {
		return nil, err
	}
	return pm, nil
}

// actionMirror is what postmortem_actions holds of pm, to tell whether a
// change touched it.
func actionMirror(pm *incident.Postmortem) string {
	var b strings.Builder
	for _, a := range pm.Actions {
		fmt.Fprintf(&b, "%d %s %d %t\n", a.ID, a.Owner, a.Due.Unix(), a.Done())
	}
	return b.String()
}

// mirrorActions rewrites pm's rows in postmortem_actions.
func mirrorActions(ctx context.Context, tx *txn, pm *incident.Postmortem) error {
	if _, err := tx.exec(ctx, `DELETE FROM postmortem_actions WHERE incident_id = ?`, pm.IncidentID); err != nil {
		return err
	}
	for _, a := range pm.Actions {
		if _, err := tx.exec(ctx, `INSERT INTO postmortem_actions (incident_id, action_id, owner, due, done)
			VALUES (?, ?, ?, ?, ?)`, pm.IncidentID, a.ID, a.Owner, ts(a.Due), a.Done()); err != nil {
			return fmt.Errorf("recording action %d: %w", a.ID, err)
		}
	}
	return nil
}

// OpenActions implements incident.PostmortemStore.
func (s *Store) OpenActions(ctx context.Context, owner string) ([]incident.OwnedAction, error) {
	query, args := `SELECT incident_id, action_id FROM postmortem_actions WHERE done = ? ORDER BY due, incident_id, action_id`, []any{false}
	if owner != "" {
		query, args = `SELECT incident_id, action_id FROM postmortem_actions WHERE done = ? AND owner = ? ORDER BY due, incident_id, action_id`,
			[]any{false, owner}
	}
	var rows []struct {
		IncidentID int64 `db:"incident_id"`
		ActionID   int   `db:"action_id"`
	}
	if err := s.r.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("listing open actions: %w", err)
	}
	docs := map[int64]*incident.Postmortem{}
	var out []incident.OwnedAction
	for _, r := range rows {
		pm, ok := docs[r.IncidentID]
		if !ok {
			var err error
			if pm, err = s.Postmortem(ctx, r.IncidentID); err != nil {
				return nil, err
			}
			docs[r.IncidentID] = pm
		}
		a := pm.Action(r.ActionID)
		if a == nil {
			continue
		}
		oa := incident.OwnedAction{IncidentID: r.IncidentID, Action: *a}
		if is := pm.Issue(a.Issue); is != nil {
			oa.Issue = is.Text
		}
		out = append(out, oa)
	}
	return out, nil
}

// postmortemTimes points at every time of pm.
func postmortemTimes(pm *incident.Postmortem) []*time.Time {
	out := []*time.Time{&pm.StartedAt, &pm.CompletedAt}
	for i := range pm.Timeline {
		e := &pm.Timeline[i]
		out = append(out, &e.At)
		for j := range e.Edits {
			out = append(out, &e.Edits[j].At, &e.Edits[j].EditedAt)
		}
	}
	for i := range pm.Issues {
		out = append(out, &pm.Issues[i].AddedAt)
	}
	for i := range pm.Actions {
		a := &pm.Actions[i]
		out = append(out, &a.Due, &a.AddedAt, &a.DoneAt)
	}
	return out
}

// storablePostmortem rounds pm's times as stored; utcPostmortem gives them
// the UTC location after reading.
func storablePostmortem(pm *incident.Postmortem) {
	for _, p := range postmortemTimes(pm) {
		if !p.IsZero() {
			*p = ts(*p)
		}
	}
}

func utcPostmortem(pm *incident.Postmortem) {
	for _, p := range postmortemTimes(pm) {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
}
