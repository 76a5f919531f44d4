package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
	"github.com/sitrep/sitrep/internal/human"
)

// Reading the query of the incidents and changes pages. Every value is
// checked; a wrong one is a *filterError whose text names the parameter,
// what was given and the forms accepted, shown on a 400 page.

// listPageSize is how many rows a page of a list shows.
const listPageSize = 50

// filterError is a query value the page cannot read.
type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

// badFilter makes a *filterError for parameter name.
func badFilter(name, value, accepted string) error {
	return &filterError{fmt.Sprintf("%s=%q is not understood: %s.", name, value, accepted)}
}

// filterReader reads a page's query, keeping its first error.
type filterReader struct {
	q   url.Values
	err error
}

// get returns the single value of name ("" when absent). A parameter
// given twice is an error: which one was meant cannot be known.
func (r *filterReader) get(name string) string {
	vs := r.q[name]
	if len(vs) > 1 {
		r.fail(&filterError{fmt.Sprintf("%s is given %d times: give it once, e.g. ?%s=%s.", name, len(vs), name, url.QueryEscape(vs[0]))})
	}
	if len(vs) == 0 {
		return ""
	}
	return strings.TrimSpace(vs[0])
}

func (r *filterReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// page reads the page number: a whole number from 1, default 1.
func (r *filterReader) page() int {
	v := r.get("page")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		r.fail(badFilter("page", v, "write a page number from 1, e.g. page=2"))
		return 1
	}
	return n
}

// day reads a date, YYYY-MM-DD, as the start of that day in loc.
func (r *filterReader) day(name string, loc *time.Location) time.Time {
	v := r.get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		r.fail(badFilter(name, v, "write a date as YYYY-MM-DD, e.g. "+name+"=2026-03-01"))
		return time.Time{}
	}
	return t
}

// dateRange reads from and to (both inclusive days) as [from, to+1 day).
func (r *filterReader) dateRange(loc *time.Location) (from, to time.Time) {
	from, to = r.day("from", loc), r.day("to", loc)
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		r.fail(&filterError{fmt.Sprintf("from=%s is after to=%s: give the earlier date as from.", r.get("from"), r.get("to"))})
	}
	return from, to
}

// system reads a system name, normalised.
func (r *filterReader) system() string {
	v := r.get("system")
	if v == "" {
		return ""
	}
	n, err := incident.NormalizeSystem(v)
	if err != nil {
		r.fail(badFilter("system", v, "write one system name, e.g. system=web ("+err.Error()+")"))
	}
	return n
}

// incidentQuery is the incidents list's query, read and checked.
type incidentQuery struct {
	filter dashquery.IncidentFilter
	page   int
	// Form holds the values as the filter form shows them.
	Form incidentForm
}

// incidentForm is the filter form's values, as given (normalised).
type incidentForm struct {
	State, Severity, System, Problem, Cost, From, To, Sort, Order string
}

// values returns the form as a query, without empty values.
func (f incidentForm) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"state", f.State}, {"severity", f.Severity}, {"system", f.System}, {"problem", f.Problem},
		{"cost", f.Cost}, {"from", f.From}, {"to", f.To}, {"sort", f.Sort}, {"order", f.Order}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// readIncidentQuery reads the incidents list's query. Defaults: open
// incidents, newest first, page 1.
func readIncidentQuery(q url.Values, loc *time.Location) (incidentQuery, error) {
	r := &filterReader{q: q}
	var out incidentQuery
	f := &out.filter

	switch v := strings.ToLower(r.get("state")); v {
	case "", "open":
		out.Form.State = "open"
	case "all":
		f.All, out.Form.State = true, "all"
	default:
		r.fail(badFilter("state", v, "write state=open (not yet resolved, the default) or state=all"))
	}
	if v := r.get("severity"); v != "" {
		sev, err := incident.ParseSeverity(v)
		if err != nil {
			r.fail(badFilter("severity", v, "write one of sev1, sev2, sev3, sev4 (sev1 is the worst), e.g. severity=sev1"))
		}
		f.Severity, out.Form.Severity = sev, sev.String()
	}
	f.System = r.system()
	out.Form.System = f.System
	if v := r.get("problem"); v != "" {
		id, err := incident.ParseProblemRef(v)
		if err != nil || id < 1 {
			r.fail(badFilter("problem", v, "write a problem as PRB-<number>, e.g. problem=PRB-3"))
		}
		f.Problem = id
		out.Form.Problem = "PRB-" + strconv.FormatInt(id, 10)
	}
	if v := r.get("cost"); v != "" {
		switch c := strings.ToUpper(v); c {
		case "C1", "C2", "C3", "C4":
			f.CostClass, out.Form.Cost = incident.CostClass(c[1]-'0'), c
		case "NONE":
			f.NoCost, out.Form.Cost = true, "none"
		default:
			r.fail(badFilter("cost", v, "write a cost class, C1 (the costliest) to C4, or none for incidents with no cost entered, e.g. cost=C1"))
		}
	}
	f.From, f.To = r.dateRange(loc)
	out.Form.From, out.Form.To = r.get("from"), r.get("to")

	switch v := strings.ToLower(r.get("sort")); v {
	case "", string(dashquery.SortOpened):
		f.Sort = dashquery.SortOpened
	case string(dashquery.SortSeverity):
		f.Sort = dashquery.SortSeverity
	case string(dashquery.SortRestore):
		f.Sort = dashquery.SortRestore
	default:
		r.fail(badFilter("sort", v, "write sort=opened (when opened, the default), sort=severity or sort=ttr (time to restore)"))
	}
	out.Form.Sort = string(f.Sort)
	// Each order's natural way first: newest, worst, longest.
	f.Desc = f.Sort != dashquery.SortSeverity
	switch v := strings.ToLower(r.get("order")); v {
	case "":
	case "asc":
		f.Desc = false
	case "desc":
		f.Desc = true
	default:
		r.fail(badFilter("order", v, "write order=asc (ascending) or order=desc (descending)"))
	}
	out.Form.Order = "asc"
	if f.Desc {
		out.Form.Order = "desc"
	}
	out.page = r.page()
	f.Offset, f.Limit = (out.page-1)*listPageSize, listPageSize
	if r.err != nil {
		return incidentQuery{}, r.err
	}
	return out, nil
}

// changeQuery is the change log's query, read and checked.
type changeQuery struct {
	filter dashquery.ChangeFilter
	// person is the person searched for; the handler turns it into
	// filter.People.
	person personSearch
	page   int
	Form   changeForm
}

// changeForm is the change search form's values, as given.
type changeForm struct {
	System, Person, Kind, Text, Since, From, To string
}

func (f changeForm) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"system", f.System}, {"person", f.Person}, {"kind", f.Kind}, {"q", f.Text},
		{"since", f.Since}, {"from", f.From}, {"to", f.To}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// maxSearchText bounds the text searched for, in bytes.
const maxSearchText = 200

// readChangeQuery reads the change log's query. now ends a since window.
func readChangeQuery(q url.Values, now time.Time, loc *time.Location) (changeQuery, error) {
	r := &filterReader{q: q}
	var out changeQuery
	f := &out.filter
	f.System = r.system()
	out.Form.System = f.System
	if v := r.get("person"); v != "" {
		if len(v) > incident.MaxChangePerson {
			r.fail(badFilter("person", v[:20]+"…", fmt.Sprintf("write a user ID or a name of at most %d characters, e.g. person=U0ALICE", incident.MaxChangePerson)))
		}
		out.person, out.Form.Person = readPerson(v), v
	}
	if v := strings.ToLower(r.get("kind")); v != "" {
		var names []string
		for _, k := range incident.ChangeKinds() {
			names = append(names, string(k))
			if string(k) == v {
				f.Kind = k
			}
		}
		if f.Kind == "" {
			r.fail(badFilter("kind", v, "write one of "+strings.Join(names, ", ")+", e.g. kind=deploy"))
		}
		out.Form.Kind = v
	}
	if v := r.get("q"); v != "" {
		if len(v) > maxSearchText {
			r.fail(badFilter("q", v[:20]+"…", fmt.Sprintf("search for at most %d characters of a change's summary or reason", maxSearchText)))
		}
		f.Text, out.Form.Text = v, v
	}
	if v := r.get("since"); v != "" {
		d, err := human.ParseDuration(v)
		switch {
		case err != nil:
			r.fail(badFilter("since", v, "write how far back to look as 30m, 24h, 7d or 2w ("+err.Error()+")"))
		case d <= 0:
			r.fail(badFilter("since", v, "write a window longer than nothing, e.g. since=24h"))
		default:
			f.Since = now.Add(-d)
		}
		out.Form.Since = v
	}
	from, to := r.dateRange(loc)
	out.Form.From, out.Form.To = r.get("from"), r.get("to")
	if out.Form.Since != "" && (!from.IsZero() || !to.IsZero()) {
		r.fail(errors.New("since and from/to are both given: search either the last while (since=7d) or between dates (from=2026-03-01&to=2026-03-07)"))
	}
	if f.Since.IsZero() {
		f.Since = from
	}
	f.Until = to
	out.page = r.page()
	f.Offset, f.Limit = (out.page-1)*listPageSize, listPageSize+1
	if r.err != nil {
		return changeQuery{}, r.err
	}
	return out, nil
}
