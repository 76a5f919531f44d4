package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/jobs"
)

// Store satisfies alert.Store and alert.Parallel.
var (
	_ alert.Store    = (*Store)(nil)
	_ alert.Parallel = (*Store)(nil)
)

// groupRow is an alert_groups row.
type groupRow struct {
	ID            int64         `db:"id"`
	Source        string        `db:"source"`
	Key           string        `db:"key"`
	Route         string        `db:"route"`
	Action        string        `db:"action"`
	Title         string        `db:"title"`
	Severity      string        `db:"severity"`
	Labels        string        `db:"labels"`
	Systems       string        `db:"systems"`
	Link          string        `db:"link"`
	Details       string        `db:"details"`
	Status        string        `db:"status"`
	Received      int           `db:"received"`
	Firing        int           `db:"firing"`
	FirstSeen     time.Time     `db:"first_seen"`
	LastSeen      time.Time     `db:"last_seen"`
	ResolvedAt    sql.NullTime  `db:"resolved_at"`
	Storm         bool          `db:"storm"`
	StormMinute   sql.NullTime  `db:"storm_minute"`
	TriageChannel string        `db:"triage_channel"`
	TriageTS      string        `db:"triage_ts"`
	IncidentID    sql.NullInt64 `db:"incident_id"`
	ChangeID      sql.NullInt64 `db:"change_id"`
	Decision      string        `db:"decision"`
	DecidedBy     string        `db:"decided_by"`
	DecidedAt     sql.NullTime  `db:"decided_at"`
	Reason        string        `db:"reason"`
	Version       int64         `db:"version"`
	Refreshed     sql.NullTime  `db:"refreshed"`
}

const groupColumns = `id, source, key, route, action, title, severity, labels, systems, link, details, status,
	received, firing, first_seen, last_seen, resolved_at, storm, storm_minute, triage_channel, triage_ts,
	incident_id, change_id, decision, decided_by, decided_at, reason, version, refreshed`

func (r groupRow) group() (*alert.Group, error) {
	labels, err := decodeLabels(r.Labels)
	if err != nil {
		return nil, fmt.Errorf("reading the labels of ALR-%d: %w", r.ID, err)
	}
	systems, err := decodeList(r.Systems)
	if err != nil {
		return nil, fmt.Errorf("reading the systems of ALR-%d: %w", r.ID, err)
	}
	return &alert.Group{
		ID: r.ID, Source: alert.Source(r.Source), Key: r.Key, Route: r.Route, Action: alert.Action(r.Action),
		Title: r.Title, Severity: r.Severity, Labels: labels, Systems: systems, Link: r.Link, Details: r.Details,
		Status: alert.Status(r.Status), Received: r.Received, Firing: r.Firing,
		FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), ResolvedAt: fromNullTime(r.ResolvedAt),
		Storm: r.Storm, StormMinute: fromNullTime(r.StormMinute), TriageChannel: r.TriageChannel, TriageTS: r.TriageTS,
		IncidentID: r.IncidentID.Int64, ChangeID: r.ChangeID.Int64, Decision: alert.Decision(r.Decision),
		DecidedBy: r.DecidedBy, DecidedAt: fromNullTime(r.DecidedAt), Reason: r.Reason, Version: r.Version,
		Refreshed: fromNullTime(r.Refreshed),
	}, nil
}

// storableGroup rounds g's times as the database stores them, so that the
// group a change returns equals the one read back.
func storableGroup(g *alert.Group) {
	for _, p := range []*time.Time{&g.FirstSeen, &g.LastSeen, &g.ResolvedAt, &g.StormMinute, &g.DecidedAt, &g.Refreshed} {
		if !p.IsZero() {
			*p = ts(*p)
		}
	}
}

// groupArgs are the values of every column of g but id, in the order of
// groupColumns.
func groupArgs(g *alert.Group) []any {
	return []any{string(g.Source), g.Key, g.Route, string(g.Action), g.Title, g.Severity, encodeLabels(g.Labels),
		encodeList(g.Systems), g.Link, g.Details, string(g.Status), g.Received, g.Firing, g.FirstSeen, g.LastSeen,
		nullTime(g.ResolvedAt), g.Storm, nullTime(g.StormMinute), g.TriageChannel, g.TriageTS,
		nullID(g.IncidentID), nullID(g.ChangeID), string(g.Decision), g.DecidedBy, nullTime(g.DecidedAt), g.Reason, g.Version, nullTime(g.Refreshed)}
}

// nullID stores ID 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// encodeLabels stores labels as a JSON object; none as "".
func encodeLabels(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeLabels(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// encodeList stores a list as a JSON array; none as "". An alert's systems
// are the source's words, which may hold commas.
func encodeList(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func decodeList(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var l []string
	err := json.Unmarshal([]byte(s), &l)
	return l, err
}

// alertTx is alert.Tx on a transaction of the store.
type alertTx struct {
	ctx context.Context
	s   *Store
	tx  *txn
	now time.Time
}

// Intake implements alert.Store: f runs in one transaction. On PostgreSQL
// a transaction the server ends as a deadlock or a serialisation failure
// is run again, up to 3 times (alert.Service.Receive takes its locks in an
// order that avoids deadlocks; this is the safety net).
func (s *Store) Intake(ctx context.Context, f func(alert.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.inTx(ctx, func(tx *txn) error {
			return f(&alertTx{ctx: ctx, s: s, tx: tx, now: time.Now()})
		})
		if !retryable(err) {
			break
		}
	}
	return err
}

// retryable reports whether err ended a PostgreSQL transaction that may
// succeed if run again.
func retryable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// lockSuffix locks the rows a select reads, on PostgreSQL; SQLite's write
// lock, taken at BEGIN, covers them.
func (s *Store) lockSuffix() string {
	if s.dialect == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// Group implements alert.Tx.
func (t *alertTx) Group(source alert.Source, key string) (*alert.Group, error) {
	var r groupRow
	err := t.tx.get(t.ctx, &r, `SELECT `+groupColumns+` FROM alert_groups WHERE source = ? AND key = ?`+t.s.lockSuffix(),
		string(source), key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.group()
}

// SaveGroup implements alert.Tx. An insert whose (source, key) is taken,
// by a transaction that committed or one still running (the insert waits
// for it to end), inserts nothing and returns alert.ErrGroupExists.
func (t *alertTx) SaveGroup(g *alert.Group) error {
	storableGroup(g)
	args := groupArgs(g)
	if g.ID != 0 {
		_, err := t.tx.exec(t.ctx, `UPDATE alert_groups SET source = ?, key = ?, route = ?, action = ?, title = ?, severity = ?,
			labels = ?, systems = ?, link = ?, details = ?, status = ?, received = ?, firing = ?, first_seen = ?, last_seen = ?,
			resolved_at = ?, storm = ?, storm_minute = ?, triage_channel = ?, triage_ts = ?, incident_id = ?, change_id = ?,
			decision = ?, decided_by = ?, decided_at = ?, reason = ?, version = ?, refreshed = ? WHERE id = ?`, append(args, g.ID)...)
		return err
	}
	var ids []int64
	if err := t.tx.sel(t.ctx, &ids, `INSERT INTO alert_groups (`+strings.TrimPrefix(groupColumns, "id, ")+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, key) DO NOTHING RETURNING id`, args...); err != nil {
		return err
	}
	if len(ids) == 0 {
		return alert.ErrGroupExists
	}
	g.ID = ids[0]
	return nil
}

// SetMember implements alert.Tx. A fingerprint whose status is unchanged
// (the usual repeat) is not written. On PostgreSQL the look-up and the
// write are one statement.
func (t *alertTx) SetMember(groupID int64, fingerprint string, st alert.Status, at time.Time) (alert.Status, error) {
	if t.s.dialect == DialectPostgres {
		// No row back: the fingerprint was there with this status (the
		// update's condition failed). A row: the status before, NULL if
		// it is new. The CTE reads the snapshot before the insert; the
		// group's lock keeps other intakes of it out.
		var prev []sql.NullString
		err := t.tx.sel(t.ctx, &prev, `WITH old AS (SELECT status FROM alert_members WHERE group_id = $1 AND fingerprint = $2)
			INSERT INTO alert_members (group_id, fingerprint, status, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (group_id, fingerprint) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
				WHERE alert_members.status <> EXCLUDED.status
			RETURNING (SELECT status FROM old)`, groupID, fingerprint, string(st), ts(at))
		if err != nil {
			return "", err
		}
		if len(prev) == 0 {
			return st, nil
		}
		return alert.Status(prev[0].String), nil
	}
	var prev string
	err := t.tx.get(t.ctx, &prev, `SELECT status FROM alert_members WHERE group_id = ? AND fingerprint = ?`, groupID, fingerprint)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = t.tx.exec(t.ctx, `INSERT INTO alert_members (group_id, fingerprint, status, updated_at) VALUES (?, ?, ?, ?)`,
			groupID, fingerprint, string(st), ts(at))
		return "", err
	case err != nil:
		return "", err
	case prev != string(st):
		_, err = t.tx.exec(t.ctx, `UPDATE alert_members SET status = ?, updated_at = ? WHERE group_id = ? AND fingerprint = ?`,
			string(st), ts(at), groupID, fingerprint)
	}
	return alert.Status(prev), err
}

// AddAlert implements alert.Tx.
func (t *alertTx) AddAlert(groupID int64, a *alert.Alert) error {
	return t.tx.get(t.ctx, &a.ID, `INSERT INTO alerts (group_id, source, fingerprint, status, title, severity, labels, systems,
		search_name, link, details, starts_at, ends_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		groupID, string(a.Source), a.Fingerprint, string(a.Status), a.Title, a.Severity, encodeLabels(a.Labels), encodeList(a.Systems),
		a.SearchName, a.Link, a.Details, nullTime(a.StartsAt), nullTime(a.EndsAt), ts(a.ReceivedAt))
}

// Groups implements alert.Tx. On PostgreSQL it is one statement, which
// locks the rows in the order of (source, key) whatever the order of keys.
func (t *alertTx) Groups(keys []alert.Key) ([]*alert.Group, error) {
	out := make([]*alert.Group, len(keys))
	if t.s.dialect != DialectPostgres {
		for i, k := range keys {
			var err error
			if out[i], err = t.Group(k.Source, k.Key); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	sources, ks := make([]string, len(keys)), make([]string, len(keys))
	at := make(map[alert.Key][]int, len(keys))
	for i, k := range keys {
		sources[i], ks[i] = string(k.Source), k.Key
		at[k] = append(at[k], i)
	}
	var rows []groupRow
	if err := t.tx.sel(t.ctx, &rows, `SELECT `+groupColumns+` FROM alert_groups
		WHERE (source, key) IN (SELECT * FROM unnest(?::text[], ?::text[]))
		ORDER BY source, key FOR UPDATE`, pq.StringArray(sources), pq.StringArray(ks)); err != nil {
		return nil, err
	}
	for _, r := range rows {
		g, err := r.group()
		if err != nil {
			return nil, err
		}
		for n, i := range at[alert.Key{Source: g.Source, Key: g.Key}] {
			if n == 0 {
				out[i] = g
			} else {
				c := *g
				out[i] = &c
			}
		}
	}
	return out, nil
}

// SaveGroups implements alert.Tx. On PostgreSQL it is one statement, its
// input arrays.
func (t *alertTx) SaveGroups(gs []*alert.Group) error {
	if t.s.dialect != DialectPostgres || len(gs) == 1 {
		for _, g := range gs {
			if g.ID == 0 {
				return fmt.Errorf("saving a new alert group with SaveGroups")
			}
			if err := t.SaveGroup(g); err != nil {
				return err
			}
		}
		return nil
	}
	if len(gs) == 0 {
		return nil
	}
	n := len(gs)
	ids, received, firing, versions, incidents, changes := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	storm := make([]bool, n)
	text := make([][]string, 21)
	for c := range text {
		text[c] = make([]string, n)
	}
	for i, g := range gs {
		if g.ID == 0 {
			return fmt.Errorf("saving a new alert group with SaveGroups")
		}
		storableGroup(g)
		ids[i], received[i], firing[i], versions[i], incidents[i], changes[i] = g.ID, int64(g.Received), int64(g.Firing), g.Version, g.IncidentID, g.ChangeID
		storm[i] = g.Storm
		for c, v := range []string{string(g.Source), g.Key, g.Route, string(g.Action), g.Title, g.Severity, encodeLabels(g.Labels),
			encodeList(g.Systems), g.Link, g.Details, string(g.Status), pgTime(g.FirstSeen), pgTime(g.LastSeen), pgTime(g.ResolvedAt),
			pgTime(g.StormMinute), g.TriageChannel, g.TriageTS, string(g.Decision), g.DecidedBy, pgTime(g.DecidedAt), g.Reason} {
			text[c][i] = v
		}
	}
	args := []any{pq.Int64Array(ids), pq.Int64Array(received), pq.Int64Array(firing), pq.Int64Array(versions),
		pq.Int64Array(incidents), pq.Int64Array(changes), pq.BoolArray(storm)}
	for _, c := range text {
		args = append(args, pq.StringArray(c))
	}
	refreshed := make([]string, n)
	for i, g := range gs {
		refreshed[i] = pgTime(g.Refreshed)
	}
	args = append(args, pq.StringArray(refreshed))
	_, err := t.tx.exec(t.ctx, `UPDATE alert_groups g SET source = v.source, key = v.key, route = v.route, action = v.action,
			title = v.title, severity = v.severity, labels = v.labels, systems = v.systems, link = v.link, details = v.details,
			status = v.status, received = v.received, firing = v.firing, first_seen = v.first_seen::timestamptz,
			last_seen = v.last_seen::timestamptz, resolved_at = NULLIF(v.resolved_at, '')::timestamptz, storm = v.storm,
			storm_minute = NULLIF(v.storm_minute, '')::timestamptz, triage_channel = v.triage_channel, triage_ts = v.triage_ts,
			incident_id = NULLIF(v.incident_id, 0), change_id = NULLIF(v.change_id, 0), decision = v.decision,
			decided_by = v.decided_by, decided_at = NULLIF(v.decided_at, '')::timestamptz, reason = v.reason,
			version = v.version, refreshed = NULLIF(v.refreshed, '')::timestamptz
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::boolean[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
			$17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[],
			$26::text[], $27::text[], $28::text[], $29::text[])
			AS v (id, received, firing, version, incident_id, change_id, storm,
				source, key, route, action, title, severity, labels, systems, link, details, status, first_seen, last_seen,
				resolved_at, storm_minute, triage_channel, triage_ts, decision, decided_by, decided_at, reason, refreshed)
		WHERE g.id = v.id`, args...)
	return err
}

// Add implements alert.Tx. On PostgreSQL the alerts, the members' new
// statuses and the look-up of their old ones are one statement, its input
// arrays; on SQLite, which pays no round trip, one statement each.
func (t *alertTx) Add(entries []alert.Entry, at time.Time) ([]alert.Status, error) {
	prev := make([]alert.Status, len(entries))
	if t.s.dialect != DialectPostgres {
		for i, e := range entries {
			var err error
			if prev[i], err = t.SetMember(e.GroupID, e.Alert.Fingerprint, e.Alert.Status, at); err != nil {
				return nil, err
			}
			if err := t.AddAlert(e.GroupID, e.Alert); err != nil {
				return nil, err
			}
		}
		return prev, nil
	}
	if len(entries) == 0 {
		return prev, nil
	}
	n := len(entries)
	groups := make([]int64, n)
	cols := make([][]string, 12)
	for c := range cols {
		cols[c] = make([]string, n)
	}
	for i, e := range entries {
		a := e.Alert
		groups[i] = e.GroupID
		for c, v := range []string{string(a.Source), a.Fingerprint, string(a.Status), a.Title, a.Severity,
			encodeLabels(a.Labels), encodeList(a.Systems), a.SearchName, a.Link, a.Details, pgTime(a.StartsAt), pgTime(a.EndsAt)} {
			cols[c][i] = v
		}
	}
	args := []any{pq.Int64Array(groups)}
	for _, c := range cols {
		args = append(args, pq.StringArray(c))
	}
	args = append(args, ts(at))
	var row struct {
		IDs      pq.Int64Array  `db:"ids"`
		Groups   pq.Int64Array  `db:"groups"`
		Prints   pq.StringArray `db:"prints"`
		Statuses pq.StringArray `db:"statuses"`
	}
	// The members' upsert writes each fingerprint's last status once
	// (DISTINCT ON: PostgreSQL refuses to update a row twice in one
	// statement), and not at all when it is unchanged; old reads the
	// statuses before it (a CTE sees the snapshot the statement began
	// with); the groups' locks keep other intakes off these rows. The
	// alerts' IDs come from one sequence, in the order of the rows
	// inserted, which is the input's.
	err := t.tx.get(t.ctx, &row, `WITH input AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY
				AS t (group_id, source, fingerprint, status, title, severity, labels, systems, search_name, link, details, starts_at, ends_at, n)),
		old AS (SELECT m.group_id, m.fingerprint, m.status FROM alert_members m
			JOIN (SELECT DISTINCT group_id, fingerprint FROM input) i ON i.group_id = m.group_id AND i.fingerprint = m.fingerprint),
		last AS (SELECT DISTINCT ON (group_id, fingerprint) group_id, fingerprint, status FROM input ORDER BY group_id, fingerprint, n DESC),
		up AS (INSERT INTO alert_members (group_id, fingerprint, status, updated_at)
			SELECT group_id, fingerprint, status, $14 FROM last
			ON CONFLICT (group_id, fingerprint) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
				WHERE alert_members.status <> EXCLUDED.status),
		ins AS (INSERT INTO alerts (group_id, source, fingerprint, status, title, severity, labels, systems,
				search_name, link, details, starts_at, ends_at, received_at)
			SELECT group_id, source, fingerprint, status, title, severity, labels, systems, search_name, link, details,
				NULLIF(starts_at, '')::timestamptz, NULLIF(ends_at, '')::timestamptz, $14 FROM input ORDER BY n
			RETURNING id)
		SELECT (SELECT array_agg(id ORDER BY id) FROM ins) AS ids,
			(SELECT array_agg(group_id ORDER BY group_id, fingerprint) FROM old) AS groups,
			(SELECT array_agg(fingerprint ORDER BY group_id, fingerprint) FROM old) AS prints,
			(SELECT array_agg(status ORDER BY group_id, fingerprint) FROM old) AS statuses`, args...)
	if err != nil {
		return nil, err
	}
	if len(row.IDs) != n || len(row.Prints) != len(row.Statuses) || len(row.Groups) != len(row.Prints) {
		return nil, fmt.Errorf("storing %d alerts: %d IDs back", n, len(row.IDs))
	}
	type member struct {
		group int64
		print string
	}
	cur := make(map[member]alert.Status, len(row.Prints))
	for i, fp := range row.Prints {
		cur[member{row.Groups[i], fp}] = alert.Status(row.Statuses[i])
	}
	for i, e := range entries {
		e.Alert.ID = row.IDs[i]
		m := member{e.GroupID, e.Alert.Fingerprint}
		prev[i] = cur[m]
		cur[m] = e.Alert.Status
	}
	return prev, nil
}

// pgTime writes a time for a PostgreSQL text array: "" for none.
func pgTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t).Format(time.RFC3339Nano)
}

// Take implements alert.Tx: one upsert, whose row lock (PostgreSQL)
// serialises the new groups of one route's minute.
func (t *alertTx) Take(route string, minute time.Time) (int, error) {
	var n int
	err := t.tx.get(t.ctx, &n, `INSERT INTO alert_storm (route, minute, count) VALUES (?, ?, 1)
		ON CONFLICT (route, minute) DO UPDATE SET count = alert_storm.count + 1 RETURNING count`, route, ts(minute))
	return n, err
}

// Enqueue implements alert.Tx. On PostgreSQL the keyed jobs are one
// statement, inserted in the order of their keys.
func (t *alertTx) Enqueue(js ...jobs.Job) error {
	if t.s.dialect == DialectPostgres && len(js) > 1 {
		var rest []jobs.Job
		var kinds, keys, dues []string
		var payloads pq.ByteaArray
		for _, j := range js {
			if j.Key == "" || j.State == jobs.StateCancelled || !j.CreatedAt.IsZero() {
				rest = append(rest, j)
				continue
			}
			kinds, keys, dues = append(kinds, j.Kind), append(keys, j.Key), append(dues, pgTime(j.DueAt))
			payloads = append(payloads, j.Payload)
		}
		if len(keys) > 0 {
			if _, err := t.tx.exec(t.ctx, `INSERT INTO jobs (kind, key, payload, due_at, state, attempts, last_error, created_at, updated_at)
				SELECT kind, key, payload, due_at::timestamptz, 'pending', 0, '', $5, $5
				FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[]) AS t (kind, key, payload, due_at)
				ORDER BY key
				ON CONFLICT (key) DO NOTHING`, pq.StringArray(kinds), pq.StringArray(keys), payloads, pq.StringArray(dues), ts(t.now)); err != nil {
				return fmt.Errorf("enqueueing %d jobs: %w", len(keys), err)
			}
		}
		js = rest
	}
	for _, j := range js {
		if _, err := t.s.enqueue(t.ctx, t.tx, j, t.now); err != nil {
			return err
		}
	}
	return nil
}

// AlertGroup implements alert.Store.
func (s *Store) AlertGroup(ctx context.Context, id int64) (*alert.Group, error) {
	return s.alertGroup(ctx, s.r, id, "")
}

func (s *Store) alertGroup(ctx context.Context, q querier, id int64, lock string) (*alert.Group, error) {
	var r groupRow
	err := q.get(ctx, &r, `SELECT `+groupColumns+` FROM alert_groups WHERE id = ?`+lock, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("ALR-%d: %w", id, alert.ErrNoGroup)
	}
	if err != nil {
		return nil, fmt.Errorf("reading ALR-%d: %w", id, err)
	}
	return r.group()
}

// UpdateAlertGroup implements alert.Store. The group's row is locked for
// the transaction (FOR UPDATE on PostgreSQL; SQLite's write lock), so
// concurrent changes and intakes apply one after another.
func (s *Store) UpdateAlertGroup(ctx context.Context, id int64, change func(*alert.Group) error, follow func(*alert.Group) []jobs.Job) (*alert.Group, error) {
	var g *alert.Group
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		if g, err = s.alertGroup(ctx, tx, id, s.lockSuffix()); err != nil {
			return err
		}
		if err := change(g); err != nil {
			return err
		}
		g.Version++
		at := alertTx{ctx: ctx, s: s, tx: tx, now: time.Now()}
		if err := at.SaveGroup(g); err != nil {
			return fmt.Errorf("saving %s: %w", g.Ref(), err)
		}
		if follow == nil {
			return nil
		}
		return at.Enqueue(follow(g)...)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// AlertGroups implements alert.Store.
func (s *Store) AlertGroups(ctx context.Context, q alert.GroupQuery) ([]alert.Group, error) {
	var where []string
	var args []any
	if q.IncidentID != 0 {
		where, args = append(where, "incident_id = ?"), append(args, q.IncidentID)
	}
	if q.Route != "" {
		where, args = append(where, "route = ?"), append(args, q.Route)
	}
	if !q.StormMinute.IsZero() {
		where, args = append(where, "storm_minute = ?"), append(args, ts(q.StormMinute))
	}
	if q.Storm {
		where = append(where, "storm")
	}
	query := `SELECT ` + groupColumns + ` FROM alert_groups`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC`
	if q.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, q.Limit)
	}
	var rows []groupRow
	if err := s.r.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	out := make([]alert.Group, len(rows))
	for i, r := range rows {
		g, err := r.group()
		if err != nil {
			return nil, err
		}
		out[i] = *g
	}
	return out, nil
}

// alertRow is an alerts row, with its group's key.
type alertRow struct {
	ID          int64        `db:"id"`
	Source      string       `db:"source"`
	GroupKey    string       `db:"group_key"`
	Fingerprint string       `db:"fingerprint"`
	Status      string       `db:"status"`
	Title       string       `db:"title"`
	Severity    string       `db:"severity"`
	Labels      string       `db:"labels"`
	Systems     string       `db:"systems"`
	SearchName  string       `db:"search_name"`
	Link        string       `db:"link"`
	Details     string       `db:"details"`
	StartsAt    sql.NullTime `db:"starts_at"`
	EndsAt      sql.NullTime `db:"ends_at"`
	ReceivedAt  time.Time    `db:"received_at"`
}

// GroupAlerts implements alert.Store.
func (s *Store) GroupAlerts(ctx context.Context, groupID int64, limit int) ([]alert.Alert, error) {
	var rows []alertRow
	if err := s.r.sel(ctx, &rows, `SELECT a.id, a.source, g.key AS group_key, a.fingerprint, a.status, a.title, a.severity,
		a.labels, a.systems, a.search_name, a.link, a.details, a.starts_at, a.ends_at, a.received_at
		FROM alerts a JOIN alert_groups g ON g.id = a.group_id
		WHERE a.group_id = ? ORDER BY a.id DESC LIMIT ?`, groupID, limit); err != nil {
		return nil, fmt.Errorf("reading the alerts of ALR-%d: %w", groupID, err)
	}
	out := make([]alert.Alert, len(rows))
	for i, r := range rows {
		labels, err := decodeLabels(r.Labels)
		if err != nil {
			return nil, fmt.Errorf("reading the labels of alert %d: %w", r.ID, err)
		}
		systems, err := decodeList(r.Systems)
		if err != nil {
			return nil, fmt.Errorf("reading the systems of alert %d: %w", r.ID, err)
		}
		out[i] = alert.Alert{ID: r.ID, Source: alert.Source(r.Source), GroupKey: r.GroupKey, Fingerprint: r.Fingerprint,
			Status: alert.Status(r.Status), Title: r.Title, Severity: r.Severity, Labels: labels, Systems: systems,
			SearchName: r.SearchName, Link: r.Link, Details: r.Details, StartsAt: fromNullTime(r.StartsAt),
			EndsAt: fromNullTime(r.EndsAt), ReceivedAt: r.ReceivedAt.UTC()}
	}
	return out, nil
}

// CountAlerts implements alert.Store, reading the received_at index.
func (s *Store) CountAlerts(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	if err := s.r.get(ctx, &n, `SELECT count(*) FROM alerts WHERE received_at >= ?`, ts(since)); err != nil {
		return 0, fmt.Errorf("counting alerts: %w", err)
	}
	return n, nil
}

// IntakeParallelism implements alert.Parallel: how many alert intakes
// commit at once (SQLite has one writer; PostgreSQL commits several at
// once, so one need not wait for the one before it to reach the disk).
func (s *Store) IntakeParallelism() int { return s.committers() }
