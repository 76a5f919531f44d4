package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// The dashboard's trends read narrow rows: each incident of the window
// with its times, severity, cost class and diagnosis clock (its
// generation, start, deadline and end taken out of the JSON by the
// database, so that, but for clocks with earlier boxes, no JSON is decoded
// here); and the actions due in the window from their postmortems. The
// window's incidents are found through the index on opened_at
// (incidents_costs). A page of trends reads tens of thousands of rows, so
// each dialect gives them in the form it hands over fastest:
//
//   - PostgreSQL: times as seconds since the epoch (to the microsecond),
//     one column each.
//   - SQLite: few columns, as the driver's cost is per column: the five
//     incident times as their stored text joined by "|", severity and
//     class as one number, and the clock as a JSON array of its four
//     fields (or whole, when it has earlier boxes). Its own date
//     functions keep only milliseconds, so times are read here.

// trendIncidentsPostgres is TrendIncidents' query on PostgreSQL.
func trendIncidentsPostgres() string {
	epoch := func(expr string) string { return `EXTRACT(EPOCH FROM ` + expr + `)::float8` }
	tb := func(field string) string { return epoch(`(tb->>'` + field + `')::timestamptz`) }
	return `SELECT ` + epoch("opened_at") + `, ` + epoch("acknowledged_at") + `, ` + epoch("restored_at") + `, ` +
		epoch("resolved_at") + `, ` + epoch("closed_at") + `, severity,
		CASE WHEN cost = '' THEN 0 ELSE COALESCE((cost::jsonb->>'class')::int, 0) END,
		COALESCE((tb->>'generation')::int, 0), ` + tb("started_at") + `, ` + tb("deadline") + `, ` + tb("ended_at") + `,
		CASE WHEN tb->'earlier' IS NOT NULL THEN timebox ELSE '' END
		FROM incidents CROSS JOIN LATERAL (SELECT CASE WHEN timebox = '' THEN NULL ELSE timebox::jsonb END AS tb) AS clock
		WHERE opened_at >= ? AND opened_at < ?`
}

// trendIncidentsSQLite is TrendIncidents' query on SQLite. The cost's
// class is the digit after "class": (json.Marshal writes it so; C1-C4).
const trendIncidentsSQLite = `SELECT opened_at || '|' || COALESCE(acknowledged_at, '') || '|' || COALESCE(restored_at, '') || '|' ||
	COALESCE(resolved_at, '') || '|' || COALESCE(closed_at, ''),
	severity * 10 + CASE WHEN cost = '' THEN 0 ELSE CAST(substr(cost, instr(cost, '"class":') + 8, 1) AS INTEGER) END,
	CASE WHEN timebox = '' THEN '' WHEN instr(timebox, '"earlier"') > 0 THEN timebox
		ELSE json_extract(timebox, '$.generation', '$.started_at', '$.deadline', '$.ended_at') END
	FROM incidents WHERE opened_at >= ? AND opened_at < ?`

// epochTime is a time PostgreSQL gave as seconds since the epoch; zero
// for NULL.
func epochTime(f sql.NullFloat64) time.Time {
	if !f.Valid {
		return time.Time{}
	}
	return time.UnixMicro(int64(math.Round(f.Float64 * 1e6))).UTC()
}

// TrendIncidents implements incident.TrendStore. A diagnosis clock comes
// back with what its verdict needs (generation, start, deadline, end);
// one with earlier boxes comes back whole.
func (s *Store) TrendIncidents(ctx context.Context, from, to time.Time) ([]incident.TrendIncident, error) {
	query := trendIncidentsPostgres()
	if s.dialect == DialectSQLite {
		query = trendIncidentsSQLite
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(query), ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading the incidents of the trends: %w", err)
	}
	defer rows.Close()
	scan := s.scanTrendPostgres
	if s.dialect == DialectSQLite {
		scan = scanTrendSQLite
	}
	out := make([]incident.TrendIncident, 0, 1024)
	for rows.Next() {
		ti, err := scan(rows)
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

func (s *Store) scanTrendPostgres(rows *sql.Rows) (incident.TrendIncident, error) {
	var (
		t                           [8]sql.NullFloat64
		severity, class, generation int
		whole                       string
	)
	if err := rows.Scan(&t[0], &t[1], &t[2], &t[3], &t[4], &severity, &class, &generation, &t[5], &t[6], &t[7], &whole); err != nil {
		return incident.TrendIncident{}, err
	}
	ti := incident.TrendIncident{OpenedAt: epochTime(t[0]), AcknowledgedAt: epochTime(t[1]), RestoredAt: epochTime(t[2]),
		ResolvedAt: epochTime(t[3]), ClosedAt: epochTime(t[4]), Severity: incident.Severity(severity), Class: incident.CostClass(class)}
	switch {
	case whole != "":
		tb, err := wholeTimebox(whole)
		if err != nil {
			return ti, err
		}
		ti.Timebox = tb
	case generation > 0:
		ti.Timebox = &incident.Timebox{Generation: generation, StartedAt: epochTime(t[5]), Deadline: epochTime(t[6]), EndedAt: epochTime(t[7])}
	}
	return ti, nil
}

func scanTrendSQLite(rows *sql.Rows) (incident.TrendIncident, error) {
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
		t, err := parseStoredTime(field)
		if err != nil {
			return ti, err
		}
		*p = t
	}
	switch {
	case clock == "":
	case clock[0] == '{':
		tb, err := wholeTimebox(clock)
		if err != nil {
			return ti, err
		}
		ti.Timebox = tb
	default:
		tb, err := clockFields(clock)
		if err != nil {
			return ti, fmt.Errorf("reading the timebox of an incident opened %s: %w", ti.OpenedAt.Format(time.RFC3339), err)
		}
		ti.Timebox = tb
	}
	return ti, nil
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

// clockFields reads SQLite's [generation,"started","deadline","ended"]
// (an absent one null); nil for a clock never started.
func clockFields(arr string) (*incident.Timebox, error) {
	inner, ok := strings.CutPrefix(arr, "[")
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return nil, fmt.Errorf("timebox fields %q are not a JSON array", arr)
	}
	parts := strings.Split(inner, ",")
	if len(parts) != 4 {
		return nil, fmt.Errorf("timebox fields %q are not four", arr)
	}
	gen, err := strconv.Atoi(parts[0])
	if err != nil && parts[0] != "null" {
		return nil, fmt.Errorf("timebox generation %q: %w", parts[0], err)
	}
	if gen <= 0 {
		return nil, nil
	}
	tb := &incident.Timebox{Generation: gen}
	for i, p := range []*time.Time{&tb.StartedAt, &tb.Deadline, &tb.EndedAt} {
		v := parts[i+1]
		if v == "null" {
			continue
		}
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("timebox time %s is not a JSON string", v)
		}
		if *p, err = parseStoredTime(v[1 : len(v)-1]); err != nil {
			return nil, err
		}
	}
	return tb, nil
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
