package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/report"
)

// PostmortemReader is what the postmortems pages read. PostmortemSource
// joins the use cases that satisfy it.
type PostmortemReader interface {
	// OpenActions returns the actions not done, of every postmortem,
	// owned by owner ("" for anyone's).
	OpenActions(ctx context.Context, owner string) ([]incident.OwnedAction, error)
	// Incident returns the incident with this ID, or incident.ErrNotFound.
	Incident(ctx context.Context, id int64) (*incident.Incident, error)
	// ByNumber returns incident INC-number, or incident.ErrNotFound.
	ByNumber(ctx context.Context, number int64) (*incident.Incident, error)
	// Document gathers an incident's postmortem for export, or
	// incident.ErrNoPostmortem (or ErrNotFound) when it has none.
	Document(ctx context.Context, incidentID int64) (*incident.PostmortemDocument, error)
}

// PostmortemSource is the PostmortemReader of a running sitrep: the
// postmortem use cases and the incidents they belong to.
type PostmortemSource struct {
	Postmortems *incident.Postmortems
	Incidents   *incident.Service
}

// OpenActions implements PostmortemReader.
func (s PostmortemSource) OpenActions(ctx context.Context, owner string) ([]incident.OwnedAction, error) {
	return s.Postmortems.OpenActions(ctx, owner)
}

// Incident implements PostmortemReader.
func (s PostmortemSource) Incident(ctx context.Context, id int64) (*incident.Incident, error) {
	return s.Incidents.Incident(ctx, id)
}

// ByNumber implements PostmortemReader.
func (s PostmortemSource) ByNumber(ctx context.Context, number int64) (*incident.Incident, error) {
	return s.Incidents.ByNumber(ctx, number)
}

// Document implements PostmortemReader.
func (s PostmortemSource) Document(ctx context.Context, incidentID int64) (*incident.PostmortemDocument, error) {
	return s.Postmortems.Document(ctx, incidentID)
}

// postmortemRoutes adds the postmortems pages.
func (db *Dashboard) postmortemRoutes(page func(pattern string, h http.HandlerFunc)) {
	if db.d.Postmortems == nil {
		return
	}
	page("GET /postmortems", db.actions)
	page("GET /postmortems/{ref}", db.postmortem)
}

// userIDPattern is a Slack user ID, as an owner filter names one.
var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// actionsPage is the data of the open actions page.
type actionsPage struct {
	Owner       string
	OverdueOnly bool
	Owners      []ownerCount
	Actions     []actionRow
	// Total and Overdue count every open action, before the filters.
	Total, Overdue int
}

type ownerCount struct {
	ID, Name      string
	Open, Overdue int
}

type actionRow struct {
	Incident   string
	Link       bool
	Private    bool
	Expected   string
	Issue      string
	Owner      string
	Due        string
	Overdue    bool
	DaysLate   int
	Postmortem string
	due        time.Time
}

// actions lists the open actions, overdue first, then by due date.
func (db *Dashboard) actions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	owner := q.Get("owner")
	if owner != "" && !userIDPattern.MatchString(owner) {
		db.badRequest(w, r, fmt.Sprintf("owner %q is not a Slack user ID: pick an owner from the list, or leave it empty for everyone (it looks like U012ABCDEF).", owner))
		return
	}
	overdueOnly := false
	switch v := q.Get("overdue"); v {
	case "", "no":
	case "yes":
		overdueOnly = true
	default:
		db.badRequest(w, r, fmt.Sprintf("overdue %q is not yes or no: write overdue=yes to show only overdue actions.", v))
		return
	}
	open, err := db.d.Postmortems.OpenActions(r.Context(), "")
	if err != nil {
		db.fail(w, r, "listing open actions", err)
		return
	}
	now := db.d.Now()
	data := actionsPage{Owner: owner, OverdueOnly: overdueOnly, Total: len(open)}
	byOwner := map[string]*ownerCount{}
	incs := map[int64]*incident.Incident{}
	for _, oa := range open {
		a := oa.Action
		late := a.Overdue(now)
		oc := byOwner[a.Owner]
		if oc == nil {
			oc = &ownerCount{ID: a.Owner, Name: db.insightName(r.Context(), a.Owner)}
			byOwner[a.Owner] = oc
		}
		oc.Open++
		if late {
			oc.Overdue++
			data.Overdue++
		}
		if (owner != "" && a.Owner != owner) || (overdueOnly && !late) {
			continue
		}
		inc, ok := incs[oa.IncidentID]
		if !ok {
			inc, err = db.incidentOfAction(r.Context(), oa.IncidentID)
			if err != nil {
				db.fail(w, r, "reading the incident of an action", err)
				return
			}
			incs[oa.IncidentID] = inc
		}
		row := actionRow{Owner: oc.Name, Due: a.Due.In(db.d.Location).Format("Mon 2 Jan 2006"), due: a.Due, Overdue: late, Expected: db.insightPlain(r.Context(), a.Expected),
			Issue: db.insightPlain(r.Context(), oa.Issue)}
		if late {
			row.DaysLate = int(now.Sub(a.Due.AddDate(0, 0, 1))/(24*time.Hour)) + 1
		}
		if inc != nil {
			row.Incident, row.Private = inc.Ref(), inc.Private
			if db.insightSees(r, inc) {
				row.Link, row.Postmortem = true, "/postmortems/"+inc.Ref()
			} else {
				row.Expected, row.Issue = "an action of "+incident.PrivateLabel, ""
			}
		}
		data.Actions = append(data.Actions, row)
	}
	slices.SortStableFunc(data.Actions, func(a, b actionRow) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.Owner, b.Owner))
	})
	for _, oc := range byOwner {
		data.Owners = append(data.Owners, *oc)
	}
	slices.SortFunc(data.Owners, func(a, b ownerCount) int {
		return cmp.Or(cmp.Compare(b.Overdue, a.Overdue), cmp.Compare(b.Open, a.Open), cmp.Compare(a.Name, b.Name))
	})
	db.render(w, r, http.StatusOK, "postmortems", "Postmortem actions", "postmortems", data)
}

// incidentOfAction reads the incident an action's postmortem belongs
// to; nil if it is gone.
func (db *Dashboard) incidentOfAction(ctx context.Context, incidentID int64) (*incident.Incident, error) {
	inc, err := db.d.Postmortems.Incident(ctx, incidentID)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, nil
	}
	return inc, err
}

// postmortemRef reads "INC-7", "inc-7" or "7".
func postmortemRef(ref string) (int64, error) {
	t := strings.ToUpper(ref)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "INC"), "-")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not an incident reference: write it as INC-7", ref)
	}
	return n, nil
}

// postmortemPage is the data of one postmortem's page.
type postmortemPage struct {
	Incident string
	Phase    string
	Download string
	Body     template.HTML
}

// postmortem shows an incident's postmortem as its Markdown export reads,
// or (for INC-7.md) hands that export over as a file.
func (db *Dashboard) postmortem(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	ref, download := strings.CutSuffix(ref, ".md")
	number, err := postmortemRef(ref)
	if err != nil {
		db.badRequest(w, r, "postmortem: "+err.Error()+", as in /postmortems/INC-7 (or /postmortems/INC-7.md to download it).")
		return
	}
	missing := fmt.Sprintf("INC-%d has no postmortem that you may see.", number)
	inc, err := db.d.Postmortems.ByNumber(r.Context(), number)
	if errors.Is(err, incident.ErrNotFound) {
		db.notFound(w, r, missing)
		return
	}
	if err != nil {
		db.fail(w, r, "reading an incident", err)
		return
	}
	if !db.insightSees(r, inc) {
		// As if it did not exist: a private incident's existence is
		// not told by its postmortem either.
		db.notFound(w, r, missing)
		return
	}
	doc, err := db.d.Postmortems.Document(r.Context(), inc.ID)
	if errors.Is(err, incident.ErrNotFound) || errors.Is(err, incident.ErrNoPostmortem) {
		db.notFound(w, r, missing)
		return
	}
	if err != nil {
		db.fail(w, r, "reading a postmortem", err)
		return
	}
	if doc.Location == nil {
		doc.Location = db.d.Location
	}
	md := report.PostmortemMarkdown(doc)
	if download {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="postmortem-`+inc.Ref()+`.md"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte(md))
		return
	}
	data := postmortemPage{Incident: inc.Ref(), Phase: doc.Postmortem.Phase.Label(), Download: "/postmortems/" + inc.Ref() + ".md", Body: markdownHTML(md)}
	db.render(w, r, http.StatusOK, "postmortem", "Postmortem of "+inc.Ref(), "postmortems", data)
}
