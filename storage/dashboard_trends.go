package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// The dashboard's trends read narrow rows: each incident of the window
// with its times, severity, cost class and diagnosis clock; and the
// actions due in the window from their postmortems. The window's
// incidents are found through the index on opened_at (incidents_costs).
//
// A page of trends reads tens of thousands of rows, and the drivers' cost
// is per column, so a row is three: the five incident times joined by "|"
// (PostgreSQL: microseconds since the epoch; SQLite: the stored text, as
// its own date functions keep only milliseconds), severity×10 + cost class
// (the digit after "class":, as json.Marshal writes a Cost; C1-C4), and
// the clock's JSON as stored, of which quickTimebox reads the four fields
// a verdict needs without decoding the rest (JSON functions in the
// database cost more than that, on either dialect).

// trendIncidentsSQL is TrendIncidents' query in the store's dialect.
func (s *Store) trendIncidentsSQL() string {
	if s.dialect == DialectSQLite {
		return `SELECT opened_at || '|' || COALESCE(acknowledged_at, '') || '|' || COALESCE(restored_at, '') || '|' ||
			COALESCE(resolved_at, '') || '|' || COALESCE(closed_at, ''),
			severity * 10 + CASE WHEN cost = '' THEN 0 ELSE CAST(substr(cost, instr(cost, '"class":') + 8, 1) AS INTEGER) END,
			timebox FROM incidents WHERE opened_at >= ? AND opened_at < ?`
	}
	micros := func(col string) string {
		return `COALESCE((EXTRACT(EPOCH FROM ` + col + `) * 1000000)::bigint::text, '')`
	}
	return `SELECT ` + micros("opened_at") + ` || '|' || ` + micros("acknowledged_at") + ` || '|' || ` + micros("restored_at") +
		` || '|' || ` + micros("resolved_at") + ` || '|' || ` + micros("closed_at") + `,
		severity * 10 + CASE WHEN cost = '' THEN 0 ELSE CAST(substr(cost, strpos(cost, '"class":') + 8, 1) AS INTEGER) END,
		timebox FROM incidents WHERE opened_at >= ? AND opened_at < ?`
}

// TrendIncidents implements incident.TrendStore. A diagnosis clock comes
// back with what its verdict needs (generation, start, deadline, end);
// one with earlier boxes comes back whole.
//
// The rows of each day (UTC) of openings are kept, with the day's version
// (the sum of its shards' in trend_days, migration 00028, moved by
// triggers on incidents, so it only grows); only
// the days whose version moved since are read again. The versions are
// read before the rows, so rows kept are never older than their version:
// a change committed in between is read now and read again next time.
// The answer shares the clocks (Timebox) of the kept rows: callers read
// them, never change them.
func (s *Store) TrendIncidents(ctx context.Context, from, to time.Time) ([]incident.TrendIncident, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, nil
	}
	first, last := trendDay(from), trendDay(to.Add(-time.Nanosecond))
	c := &s.trends
	c.mu.Lock()
	defer c.mu.Unlock()
	versions := map[string]int64{}
	var rows []struct {
		Day     string `db:"day"`
		Version int64  `db:"version"`
	}
	db := s.r.db
	if err := db.SelectContext(ctx, &rows, db.Rebind(`SELECT day, CAST(SUM(version) AS BIGINT) AS version FROM trend_days WHERE day >= ? AND day <= ? GROUP BY day`),
		first.Format(time.DateOnly), last.Format(time.DateOnly)); err != nil {
		return nil, fmt.Errorf("reading which days of incidents changed: %w", err)
	}
	for _, r := range rows {
		versions[r.Day] = r.Version
	}
	if c.days == nil {
		c.days = map[string]trendDayRows{}
	}
	// Each run of days whose rows are not kept, or kept at another
	// version, is read again in one query.
	var runStart time.Time
	refresh := func(end time.Time) error {
		if runStart.IsZero() {
			return nil
		}
		incs, err := s.readTrendIncidents(ctx, runStart, end)
		if err != nil {
			return err
		}
		byDay := map[string][]incident.TrendIncident{}
		for _, ti := range incs {
			k := ti.OpenedAt.UTC().Format(time.DateOnly)
			byDay[k] = append(byDay[k], ti)
		}
		for d := runStart; d.Before(end); d = d.AddDate(0, 0, 1) {
			k := d.Format(time.DateOnly)
			c.days[k] = trendDayRows{version: versions[k], incs: byDay[k]}
		}
		runStart = time.Time{}
		return nil
	}
	n := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		if kept, ok := c.days[k]; ok && kept.version == versions[k] {
			if err := refresh(d); err != nil {
				return nil, err
			}
			n += len(kept.incs)
			continue
		}
		if runStart.IsZero() {
			runStart = d
		}
	}
	if err := refresh(last.AddDate(0, 0, 1)); err != nil {
		return nil, err
	}
	out := make([]incident.TrendIncident, 0, n)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, ti := range c.days[d.Format(time.DateOnly)].incs {
			if !ti.OpenedAt.Before(from) && ti.OpenedAt.Before(to) {
				out = append(out, ti)
			}
		}
	}
	// Days older than the longest window are let go.
	oldest := last.AddDate(0, 0, -7*incident.MaxTrendWeeks-7).Format(time.DateOnly)
	for k := range c.days {
		if k < oldest {
			delete(c.days, k)
		}
	}
	return out, nil
}

// trendCache keeps the trend rows of each day of openings read (see
// TrendIncidents).
type trendCache struct {
	mu sync.Mutex
	// days are by UTC day, "2006-01-02".
	days map[string]trendDayRows
}

// trendDayRows are the trend rows of the incidents opened on one day, as
// of the day's version.
type trendDayRows struct {
	version int64
	incs    []incident.TrendIncident
}

// trendDay is the start (UTC) of t's day.
func trendDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// readTrendIncidents reads the trend rows of the incidents opened at or
// after from and before to.
func (s *Store) readTrendIncidents(ctx context.Context, from, to time.Time) ([]incident.TrendIncident, error) {
	// The readers' pool: on SQLite a page of trends never holds the one
	// writer's connection.
	db := s.r.db
	// Counted first (from the index alone), so the rows are read into a
	// slice of their size, not one grown and copied as they come.
	var n int
	if err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM incidents WHERE opened_at >= ? AND opened_at < ?`), ts(from), ts(to)); err != nil {
		return nil, fmt.Errorf("counting the incidents of the trends: %w", err)
	}
	rows, err := db.QueryContext(ctx, db.Rebind(s.trendIncidentsSQL()), ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
	}
	defer rows.Close()
	out := make([]incident.TrendIncident, 0, n+n/16)
	for rows.Next() {
		ti, err := scanTrend(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
	}
	return out, nil
}

func scanTrend(rows *sql.Rows) (incident.TrendIncident, error) {
	var (
		times, clock string
		sevClass     int
	)
	if err := rows.Scan(&times, &sevClass, &clock); err != nil {
		return incident.TrendIncident{}, err
	}
	ti := incident.TrendIncident{Severity: incident.Severity(sevClass / 10), Class: incident.CostClass(sevClass % 10)}
	for i, p := range []*time.Time{&ti.OpenedAt, &ti.AcknowledgedAt, &ti.RestoredAt, &ti.ResolvedAt, &ti.ClosedAt} {
		field, rest, _ := strings.Cut(times, "|")
		times = rest
		if field == "" {
			if i == 0 {
				return ti, errors.New("an incident without its opening time")
			}
			continue
		}
		t, err := trendTime(field)
		if err != nil {
			return ti, err
		}
		*p = t
	}
	if clock != "" {
		tb, ok := quickTimebox(clock)
		if !ok {
			var err error
			if tb, err = wholeTimebox(clock); err != nil {
				return ti, fmt.Errorf("reading the timebox of an incident opened %s: %w", ti.OpenedAt.Format(time.RFC3339), err)
			}
		}
		if tb.Generation > 0 {
			ti.Timebox = tb
		}
	}
	return ti, nil
}

// trendTime reads a time of a trend row: microseconds since the epoch, or
// a time as stored.
func trendTime(field string) (time.Time, error) {
	if field[0] != '-' && len(field) > 4 && field[4] == '-' {
		return parseStoredTime(field)
	}
	us, err := strconv.ParseInt(field, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading time %q: %w", field, err)
	}
	return time.UnixMicro(us).UTC(), nil
}

// wholeTimebox decodes a timebox as stored.
func wholeTimebox(text string) (*incident.Timebox, error) {
	var tb incident.Timebox
	if err := json.Unmarshal([]byte(text), &tb); err != nil {
		return nil, fmt.Errorf("reading a timebox: %w", err)
	}
	tb = utcTimebox(tb)
	return &tb, nil
}

// quickTimebox reads, from a timebox as stored, what its verdict needs:
// generation, start, deadline and end. ok is false for one it cannot read
// so (with earlier boxes, or not as json.Marshal writes incident.Timebox):
// decode that one whole.
func quickTimebox(text string) (*incident.Timebox, bool) {
	if strings.Contains(text, `"earlier"`) || !strings.HasPrefix(text, `{"generation":`) {
		return nil, false
	}
	rest := text[len(`{"generation":`):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	gen, err := strconv.Atoi(rest[:n])
	if err != nil {
		return nil, false
	}
	tb := &incident.Timebox{Generation: gen}
	for _, f := range []struct {
		key      string
		at       *time.Time
		required bool
	}{{`"started_at":"`, &tb.StartedAt, true}, {`"deadline":"`, &tb.Deadline, true}, {`"ended_at":"`, &tb.EndedAt, false}} {
		i := strings.Index(rest, f.key)
		if i < 0 {
			if f.required {
				return nil, false
			}
			continue
		}
		v := rest[i+len(f.key):]
		j := strings.IndexByte(v, '"')
		if j < 0 {
			return nil, false
		}
		t, ok := fastTime(v[:j])
		if !ok {
			return nil, false
		}
		if t.Year() > 1 {
			*f.at = t
		}
	}
	return tb, true
}

// parseStoredTime reads a time as SQLite holds it ("2026-11-24
// 03:00:00.123456+00:00", or with no zone for UTC) or as JSON writes it
// (RFC 3339): by position, as a page may read thousands; anything else
// goes to time.Parse.
func parseStoredTime(s string) (time.Time, error) {
	if t, ok := fastTime(s); ok {
		return t, nil
	}
	b := []byte(s)
	if len(b) > 10 && b[10] == ' ' {
		b[10] = 'T'
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", string(b)); err2 != nil {
			return time.Time{}, fmt.Errorf("reading time %q: %w", s, err)
		}
	}
	return t.UTC(), nil
}

// fastTime reads "YYYY-MM-DD?HH:MM:SS[.fraction][Z|±HH:MM]" (? a space
// or T); ok is false for any other text.
func fastTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nsec := s[19:], 0
	if rest != "" && rest[0] == '.' {
		i, scale := 1, 100_000_000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 || i > 10 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okh := num(len(s)-5, 2)
		m, okm := num(len(s)-2, 2)
		if !okh || !okm || h > 23 || m > 59 {
			return time.Time{}, false
		}
		offset = (h*60 + m) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 April
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// TrendActions implements incident.TrendStore: the postmortems holding an
// action due in the window (found through postmortem_actions) are read,
// as only their documents know when each action was done.
func (s *Store) TrendActions(ctx context.Context, from, to time.Time) ([]incident.TrendAction, error) {
	var docs []string
	if err := s.r.db.SelectContext(ctx, &docs, s.r.db.Rebind(`SELECT doc FROM postmortems WHERE incident_id IN
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
