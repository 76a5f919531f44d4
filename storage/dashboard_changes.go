package storage

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
)

// The web dashboard's change log: a search by system, person, kind, text
// and time window, newest first and paged, and the incidents whose rooms
// judged each change suspect.

// DashboardChanges returns up to f.Limit changes f selects, newest first,
// from f.Offset. Ask for one more than a page to learn whether there is a
// next one: it counts nothing, so its cost follows the page, not the log.
func (s *Store) DashboardChanges(ctx context.Context, f dashquery.ChangeFilter) ([]incident.Change, error) {
	return s.dashboardChanges(ctx, f, changeSearchWindow)
}

// dashboardChanges is DashboardChanges reading window changes first for a
// text (tests make it small).
func (s *Store) dashboardChanges(ctx context.Context, f dashquery.ChangeFilter, window int) ([]incident.Change, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []incident.Change
	err := s.eachChange(ctx, f, window, f.Offset, f.Limit, func(c incident.Change) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// EachDashboardChange calls fn with every change f selects, newest first,
// ignoring its Offset and Limit: the CSV download. It reads a thousand at
// a time and holds no connection while fn runs.
func (s *Store) EachDashboardChange(ctx context.Context, f dashquery.ChangeFilter, fn func(incident.Change) error) error {
	const chunk = 1000
	for offset := 0; ; offset += chunk {
		n := 0
		if err := s.eachChange(ctx, f, changeSearchWindow, offset, chunk, func(c incident.Change) error {
			n++
			return fn(c)
		}); err != nil {
			return err
		}
		if n < chunk {
			return nil
		}
	}
}

// changeSearchWindow is how many of the newest changes a text search reads
// first, in order: a text that many changes hold fills a page from them,
// and one that few hold is then looked up in the text index instead.
const changeSearchWindow = 5_000

// eachChange reads limit changes of f from offset, then calls fn with
// each (after the rows are closed); a text is first looked for in the
// newest window changes.
func (s *Store) eachChange(ctx context.Context, f dashquery.ChangeFilter, window, offset, limit int, fn func(incident.Change) error) error {
	var conds []string
	var args []any
	// With a system, the walk starts from change_systems' (system,
	// occurred_at) key; without, from changes' occurred_at index.
	from, at, id := "changes c", "c.occurred_at", "c.id"
	if f.System != "" {
		from, at, id = "change_systems cs JOIN changes c ON c.id = cs.change_id", "cs.occurred_at", "cs.change_id"
		conds, args = append(conds, "cs.system = ?"), append(args, f.System)
	}
	if people := lowerPeople(f.People); len(people) > 0 {
		// Each on the index of lower(person), newest first.
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(people)), ", ")
		conds = append(conds, "lower(c.person) IN ("+marks+")")
		for _, p := range people {
			args = append(args, p)
		}
	}
	if f.Kind != "" {
		conds, args = append(conds, "c.kind = ?"), append(args, string(f.Kind))
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, at+" >= ?"), append(args, ts(f.Since))
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, at+" < ?"), append(args, ts(f.Until))
	}
	cols := "c." + strings.ReplaceAll(changeColumns, ", ", ", c.")
	order := ` ORDER BY ` + at + ` DESC, ` + id + ` DESC`
	var rows []changeRow
	if f.Text == "" {
		if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+cols+` FROM `+from+dashWhere(conds)+order+
			` LIMIT ? OFFSET ?`), append(args, limit, offset)...); err != nil {
			return fmt.Errorf("searching the change log: %w", err)
		}
		return eachChangeRow(rows, fn)
	}
	pattern := "%" + dashEscapeLike(strings.ToLower(f.Text)) + "%"
	like := `(lower(c.summary) LIKE ? ESCAPE '\' OR lower(c.reason) LIKE ? ESCAPE '\')`
	// First the newest changes of the window: a page is complete when it
	// fills from them, since every match before it is among them.
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT c.* FROM (SELECT `+cols+` FROM `+from+dashWhere(conds)+order+
		` LIMIT ?) c WHERE `+like+` ORDER BY c.occurred_at DESC, c.id DESC LIMIT ? OFFSET ?`),
		append(append(slices.Clone(args), window), pattern, pattern, limit, offset)...); err != nil {
		return fmt.Errorf("searching the change log: %w", err)
	}
	if len(rows) == limit {
		return eachChangeRow(rows, fn)
	}
	// A window that holds no more than those was read whole: the page is
	// complete, if short.
	var inWindow int
	if err := s.db.GetContext(ctx, &inWindow, s.db.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM `+from+dashWhere(conds)+
		` LIMIT ?) w`), append(slices.Clone(args), window+1)...); err != nil {
		return fmt.Errorf("searching the change log: %w", err)
	}
	if inWindow <= window {
		return eachChangeRow(rows, fn)
	}
	rows = rows[:0]
	if s.dialect == DialectSQLite && utf8.RuneCountInString(f.Text) >= 3 {
		// On SQLite the changes holding the text come from its trigram
		// index (migration 00025), which leads the join (CROSS JOIN
		// keeps it first), and only they are checked and sorted.
		from = "changes_text t CROSS JOIN changes c ON c.id = t.rowid"
		if f.System != "" {
			from += " JOIN change_systems cs ON cs.change_id = c.id AND cs.occurred_at = c.occurred_at"
		}
		conds = append([]string{"changes_text MATCH ?"}, conds...)
		args = append([]any{`"` + strings.ReplaceAll(f.Text, `"`, `""`) + `"`}, args...)
	} else {
		// On PostgreSQL the trigram index of the text (migration 00025,
		// where pg_trgm could be added) finds the candidates for the
		// expression it indexes; like checks them.
		if s.dialect == DialectPostgres {
			conds, args = append(conds, `lower(c.summary || ' ' || c.reason) LIKE ? ESCAPE '\'`), append(args, pattern)
		}
		conds, args = append(conds, like), append(args, pattern, pattern)
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`SELECT `+cols+` FROM `+from+dashWhere(conds)+order+
		` LIMIT ? OFFSET ?`), append(args, limit, offset)...); err != nil {
		return fmt.Errorf("searching the change log: %w", err)
	}
	return eachChangeRow(rows, fn)
}

// lowerPeople returns people in lower case, each once, without empty ones.
func lowerPeople(people []string) []string {
	var out []string
	for _, p := range people {
		if p = strings.ToLower(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// eachChangeRow calls fn with each row's change.
func eachChangeRow(rows []changeRow, fn func(incident.Change) error) error {
	for _, r := range rows {
		if err := fn(r.change()); err != nil {
			return err
		}
	}
	return nil
}

// SuspectedBy returns, for each of these changes, the incidents whose
// latest verdict on it is suspect (a change marked suspect and then not
// related is not), by number ascending. Verdicts are the incidents'
// timeline entries (incident.EntrySuspect, incident.EntryUnrelated),
// found through a partial index on them (migration 00025).
func (s *Store) SuspectedBy(ctx context.Context, changeIDs []int64) (map[int64][]dashquery.SuspectRef, error) {
	out := map[int64][]dashquery.SuspectRef{}
	if len(changeIDs) == 0 {
		return out, nil
	}
	subjects := make([]string, len(changeIDs))
	for i, id := range changeIDs {
		subjects[i] = strconv.FormatInt(id, 10)
	}
	query, args, err := sqlx.In(`SELECT t.subject, t.kind, i.number, i.private FROM timeline_entries t
		JOIN incidents i ON i.id = t.incident_id
		WHERE t.kind IN ('suspect', 'unrelated') AND t.subject IN (?) ORDER BY t.at, t.id`, subjects)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Subject string `db:"subject"`
		Kind    string `db:"kind"`
		Number  int64  `db:"number"`
		Private bool   `db:"private"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("reading the verdicts on changes: %w", err)
	}
	type key struct {
		change int64
		number int64
	}
	latest := map[key]dashquery.SuspectRef{}
	suspect := map[key]bool{}
	for _, r := range rows {
		id, err := strconv.ParseInt(r.Subject, 10, 64)
		if err != nil {
			continue
		}
		k := key{id, r.Number}
		latest[k] = dashquery.SuspectRef{Number: r.Number, Private: r.Private}
		suspect[k] = r.Kind == string(incident.EntrySuspect)
	}
	for k, ref := range latest {
		if suspect[k] {
			out[k.change] = append(out[k.change], ref)
		}
	}
	for _, refs := range out {
		sort.Slice(refs, func(i, j int) bool { return refs[i].Number < refs[j].Number })
	}
	return out, nil
}

// ChangePeople returns who logged changes, each person once as logged
// (one spelling of those that differ only in case), in lower-case order,
// at most limit of them: the people a search by name is matched against.
// It skips from one person to the next on the index of lower(person), so
// it reads a row per person, not per change.
func (s *Store) ChangePeople(ctx context.Context, limit int) ([]string, error) {
	var people []string
	err := s.db.SelectContext(ctx, &people, s.db.Rebind(`WITH RECURSIVE p(person, n) AS (
		SELECT (SELECT person FROM changes ORDER BY lower(person) LIMIT 1), 1
		UNION ALL
		SELECT (SELECT c.person FROM changes c WHERE lower(c.person) > lower(p.person) ORDER BY lower(c.person) LIMIT 1), p.n + 1
		FROM p WHERE p.person IS NOT NULL AND p.n < ?)
		SELECT person FROM p WHERE person IS NOT NULL`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing who logged changes: %w", err)
	}
	return people, nil
}
