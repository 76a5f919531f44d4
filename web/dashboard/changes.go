package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// ChangeReader is what the change log pages read; storage.Store
// satisfies it.
type ChangeReader interface {
	// DashboardChanges returns up to f.Limit changes f selects, newest
	// first, from f.Offset.
	DashboardChanges(ctx context.Context, f dashquery.ChangeFilter) ([]incident.Change, error)
	// EachDashboardChange calls fn with every change f selects.
	EachDashboardChange(ctx context.Context, f dashquery.ChangeFilter, fn func(incident.Change) error) error
	// SuspectedBy returns the incidents whose latest verdict on each
	// change is suspect.
	SuspectedBy(ctx context.Context, changeIDs []int64) (map[int64][]dashquery.SuspectRef, error)
	// ChangePeople returns who logged changes, each once as logged, at
	// most limit of them.
	ChangePeople(ctx context.Context, limit int) ([]string, error)
}

// changeRoutes adds the changes pages.
func (db *Dashboard) changeRoutes(page func(pattern string, h http.HandlerFunc)) {
	if db.d.Changes == nil {
		return
	}
	page("GET /changes", db.changeList)
	page("GET /changes.csv", db.changeCSV)
}

// changeLogRow is a change as the log shows it.
type changeLogRow struct {
	incident.Change
	Person   string
	Summary  string
	Reason   string
	Suspects []suspectLink
}

type suspectLink struct {
	Ref     string
	Private bool
}

// changeListPage is the change log's data.
type changeListPage struct {
	Form  changeForm
	Kinds []incident.ChangeKind
	Rows  []changeLogRow
	Page  int
	Pager pager
	// From and Until say the window searched, when one is.
	From, Until time.Time
	// NamesPartial says a person search did not look up every name.
	NamesPartial bool
}

// searchPeople returns the people q's person search matches (nil when q
// searches for no person); nobody is true when it searches for someone
// no change could name.
func (db *Dashboard) searchPeople(ctx context.Context, q changeQuery) (people []string, partial, nobody bool, err error) {
	if q.Form.Person == "" {
		return nil, false, false, nil
	}
	people, partial, err = db.people(ctx, q.person)
	return people, partial, err == nil && len(people) == 0, err
}

func (db *Dashboard) changeList(w http.ResponseWriter, r *http.Request) {
	q, err := readChangeQuery(r.URL.Query(), db.d.Now(), db.d.Location)
	if err != nil {
		db.badRequest(w, r, err.Error())
		return
	}
	var partial, nobody bool
	if q.filter.People, partial, nobody, err = db.searchPeople(r.Context(), q); err != nil {
		db.fail(w, r, "finding the people searched for", err)
		return
	}
	var changes []incident.Change
	if !nobody {
		if changes, err = db.d.Changes.DashboardChanges(r.Context(), q.filter); err != nil {
			db.fail(w, r, "searching the change log", err)
			return
		}
	}
	more := len(changes) > listPageSize
	if more {
		changes = changes[:listPageSize]
	}
	suspects, err := db.suspects(r.Context(), changes)
	if err != nil {
		db.fail(w, r, "reading verdicts on changes", err)
		return
	}
	p := changeListPage{Form: q.Form, Kinds: incident.ChangeKinds(), Page: q.page, From: q.filter.Since, Until: q.filter.Until,
		NamesPartial: partial}
	for _, c := range changes {
		p.Rows = append(p.Rows, db.changeRowOf(c, suspects[c.ID]))
	}
	p.Pager = listPager("/changes", q.Form.values(), q.page, 0, more, "← Newer", "Older →")
	db.render(w, r, http.StatusOK, "changes", "Change log", "changes", p)
}

// suspects reads the incidents that judged each change suspect.
func (db *Dashboard) suspects(ctx context.Context, changes []incident.Change) (map[int64][]dashquery.SuspectRef, error) {
	ids := make([]int64, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	return db.d.Changes.SuspectedBy(ctx, ids)
}

// changeRowOf shows c: people by name, mentions as names.
func (db *Dashboard) changeRowOf(c incident.Change, refs []dashquery.SuspectRef) changeLogRow {
	row := changeLogRow{Change: c, Person: db.whoIs(c.Person), Summary: slacktext.PlainNames(c.Summary, db.whoIs),
		Reason: slacktext.PlainNames(c.Reason, db.whoIs)}
	for _, ref := range refs {
		row.Suspects = append(row.Suspects, suspectLink{Ref: "INC-" + strconv.FormatInt(ref.Number, 10), Private: ref.Private})
	}
	// Only web links are links; anything else is shown as text.
	if !strings.HasPrefix(c.Link, "https://") && !strings.HasPrefix(c.Link, "http://") {
		row.Link = ""
	}
	return row
}

// changeCSVHeader names the columns of /changes.csv.
var changeCSVHeader = []string{"id", "occurred_at", "systems", "person", "kind", "summary", "reason", "link", "source", "logged_at", "suspected_by"}

// changeCSV writes every change the filters select (all pages) as CSV.
func (db *Dashboard) changeCSV(w http.ResponseWriter, r *http.Request) {
	q, err := readChangeQuery(r.URL.Query(), db.d.Now(), db.d.Location)
	if err != nil {
		db.badRequest(w, r, err.Error())
		return
	}
	var nobody bool
	if q.filter.People, _, nobody, err = db.searchPeople(r.Context(), q); err != nil {
		db.fail(w, r, "finding the people searched for", err)
		return
	}
	cw := newCSVDownload(w, "changes.csv", changeCSVHeader)
	// Verdicts are read a batch at a time, as the changes come.
	var batch []incident.Change
	flush := func() error {
		suspects, err := db.suspects(r.Context(), batch)
		if err != nil {
			return err
		}
		for _, c := range batch {
			var refs []string
			for _, s := range suspects[c.ID] {
				refs = append(refs, "INC-"+strconv.FormatInt(s.Number, 10))
			}
			cw.write([]string{strconv.FormatInt(c.ID, 10), c.OccurredAt.UTC().Format(time.RFC3339), strings.Join(c.Systems, " "),
				db.whoIs(c.Person), string(c.Kind), slacktext.PlainNames(c.Summary, db.whoIs), slacktext.PlainNames(c.Reason, db.whoIs),
				c.Link, string(c.Source), c.LoggedAt.UTC().Format(time.RFC3339), strings.Join(refs, " ")})
		}
		batch = batch[:0]
		return cw.err()
	}
	if nobody {
		cw.flush()
		return
	}
	err = db.d.Changes.EachDashboardChange(r.Context(), q.filter, func(c incident.Change) error {
		if batch = append(batch, c); len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	cw.flush()
	if err == nil {
		err = cw.err()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		db.d.Log.Error("writing changes as CSV", "err", err)
	}
}
