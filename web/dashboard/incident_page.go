package dashboard

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/report"
	"github.com/sitrep/sitrep/internal/slacktext"
)

// incidentView is an incident page's data.
type incidentView struct {
	Inc *incident.Incident
	// Open is set while the incident is not closed: the page follows it.
	Open   bool
	Events string
	Slack  slackLinks
	// Channel is the room's name, "inc-7-db-down".
	Channel  string
	Roles    []incRole
	TTR      time.Duration
	Restored bool
	Timeline []incEntry
	Changes  []incChange
	Plan     incident.Plan
	// PlanBox is the diagnosis time the plan allows at the incident's
	// severity (0: none set).
	PlanBox    time.Duration
	Adherence  incident.Adherence
	HasTimebox bool
	// Boxes are every diagnosis box, numbered from 1.
	Boxes       []incBox
	Description string
	Problems    []incProblem
	Postmortem  *incPostmortem
	Chart       template.HTML
	Updated     time.Time
}

type incBox struct {
	N int
	incident.BoxAdherence
}

type incRole struct{ Role, Who string }

// incEntry is a timeline entry as shown: names as recorded.
type incEntry struct {
	ID   int64
	At   time.Time
	Who  string
	Kind string
	Text string
}

// incChange is a change "what changed?" listed, with the room's verdict.
type incChange struct {
	incident.Change
	// Other: a change to a system the incident does not name.
	Other   bool
	Person  string
	Verdict string // "suspect", "not related" or ""
	By      string
	At      time.Time
}

type incProblem struct {
	Ref, Title, Status string
}

// incPostmortem is the postmortem as the incident page summarises it.
type incPostmortem struct {
	Phase, Facilitator string
	Completed          time.Time
	Entries            int
	Issues             []incident.Issue
	Actions            []incAction
	Link               string
}

type incAction struct {
	ID, Issue       int
	Owner, Expected string
	Due             time.Time
	Done, Overdue   bool
}

func (db *Dashboard) incidentPage(w http.ResponseWriter, r *http.Request) {
	inc, ok := db.incidentForPage(w, r)
	if !ok {
		return
	}
	v, err := db.incidentView(r.Context(), inc)
	if err != nil {
		db.fail(w, r, "showing "+inc.Ref(), err)
		return
	}
	db.render(w, r, http.StatusOK, "incident", inc.Ref()+": "+slacktext.PlainNames(inc.Title, db.whoIs), "incidents", v)
}

// incidentView gathers what the incident page shows.
func (db *Dashboard) incidentView(ctx context.Context, inc *incident.Incident) (*incidentView, error) {
	rd := db.d.Incidents
	now := db.d.Now()
	v := &incidentView{Inc: inc, Open: !inc.Closed(), Events: "/incidents/" + inc.Ref() + "/events", Plan: inc.Plan,
		PlanBox: inc.Plan.Timebox[inc.Severity], Updated: now}
	v.TTR, v.Restored = inc.TimeToRestore()
	for _, role := range incident.Roles() {
		if u := inc.Roles[role]; u != "" {
			v.Roles = append(v.Roles, incRole{string(role), db.whoIs(u)})
		}
	}
	room, err := rd.Room(ctx, inc.ID)
	switch {
	case err == nil:
		v.Channel, v.Slack = room.ChannelName, db.channelLinks(room.ChannelID)
	case !errors.Is(err, incident.ErrNotFound):
		return nil, err
	}
	timeline, err := rd.Timeline(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	// The opening leads, as in Slack's timeline: what the incident was
	// opened as, not what it is now.
	for _, e := range append([]incident.TimelineEntry{incident.OpeningEntry(inc)}, timeline...) {
		name := func(id string) string {
			if n := e.NameOf(id); n != "" {
				return n
			}
			return db.whoIs(id)
		}
		v.Timeline = append(v.Timeline, incEntry{ID: e.ID, At: e.At, Who: name(e.Actor), Kind: entryKindLabel(e.Kind),
			Text: slacktext.PlainNames(e.Text, name)})
	}
	shown, err := rd.ShownChanges(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	verdicts := incident.Verdicts(timeline)
	for _, c := range shown {
		line := incChange{Change: c.Change, Other: c.Other, Person: db.whoIs(c.Person)}
		if e, ok := verdicts[c.ID]; ok {
			line.Verdict, line.At = "suspect", e.At
			if e.Kind == incident.EntryUnrelated {
				line.Verdict = "not related"
			}
			line.By = e.NameOf(e.Actor)
			if line.By == "" {
				line.By = db.whoIs(e.Actor)
			}
		}
		v.Changes = append(v.Changes, line)
	}
	v.Adherence, v.HasTimebox = inc.Timebox.Adherence(now)
	for i, b := range v.Adherence.Boxes {
		v.Boxes = append(v.Boxes, incBox{i + 1, b})
	}
	v.Description = slacktext.PlainNames(inc.Description, db.whoIs)
	problems, err := rd.LinkedProblems(ctx, inc.Problems)
	if err != nil {
		return nil, err
	}
	for _, id := range inc.Problems {
		p := problems[id]
		p.ID = id
		v.Problems = append(v.Problems, incProblem{Ref: p.Ref(), Title: slacktext.PlainNames(p.Title, db.whoIs), Status: string(p.Status)})
	}
	pm, err := rd.Postmortem(ctx, inc.ID)
	switch {
	case err == nil:
		v.Postmortem = db.postmortemSummary(inc, pm, now)
	case !errors.Is(err, incident.ErrNotFound):
		return nil, err
	}
	chart, err := report.TimelineChart(inc, now, db.d.Location, charts.SVG)
	if err != nil {
		return nil, fmt.Errorf("drawing the timeline of %s: %w", inc.Ref(), err)
	}
	if v.Chart, err = trustedChartSVG(chart); err != nil {
		return nil, fmt.Errorf("the timeline chart of %s: %w", inc.Ref(), err)
	}
	return v, nil
}

// postmortemSummary is what the incident page shows of its postmortem.
func (db *Dashboard) postmortemSummary(inc *incident.Incident, pm *incident.Postmortem, now time.Time) *incPostmortem {
	out := &incPostmortem{Phase: pm.Phase.Label(), Facilitator: db.whoIs(pm.Facilitator), Completed: pm.CompletedAt,
		Entries: len(pm.Timeline), Issues: pm.Issues, Link: "/postmortems/" + inc.Ref()}
	for i := range out.Issues {
		out.Issues[i].Text = slacktext.PlainNames(out.Issues[i].Text, db.whoIs)
	}
	for _, a := range pm.Actions {
		out.Actions = append(out.Actions, incAction{ID: a.ID, Issue: a.Issue, Owner: db.whoIs(a.Owner),
			Expected: slacktext.PlainNames(a.Expected, db.whoIs), Due: a.Due, Done: a.Done(), Overdue: a.Overdue(now)})
	}
	return out
}

// entryKindLabel says what kind of entry it is, in words.
func entryKindLabel(k incident.EntryKind) string {
	switch k {
	case incident.EntryTDO:
		return "TDO"
	case incident.EntryLinked:
		return "problem linked"
	case incident.EntryUnlinked:
		return "problem unlinked"
	case incident.EntryPrivate:
		return "made private"
	case incident.EntryUnrelated:
		return "not related"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// chartSVGElements are the elements our chart renderer (gonum's vgsvg) writes;
// anything else means the bytes are not what it wrote.
var chartSVGElements = map[string]bool{"svg": true, "g": true, "path": true, "text": true, "tspan": true, "rect": true,
	"line": true, "polyline": true, "polygon": true, "circle": true, "ellipse": true, "defs": true, "clipPath": true,
	"title": true, "desc": true, "style": true, "image": true, "use": true}

// trustedChartSVG checks that b is an SVG image as our renderer draws it (well
// formed; drawing elements only; no scripts, event handlers or links
// outside the image) and returns it for inlining in a page, without its
// XML prolog. The chart escapes its own text; this is the guard that
// makes template.HTML safe here.
func trustedChartSVG(b []byte) (template.HTML, error) {
	start := bytes.Index(b, []byte("<svg"))
	if start < 0 {
		return "", errors.New("no <svg> element")
	}
	b = b[start:]
	dec := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("not well-formed SVG: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && t.Name.Local != "svg" {
				return "", fmt.Errorf("root element <%s>, not <svg>", t.Name.Local)
			}
			depth++
			if !chartSVGElements[t.Name.Local] {
				return "", fmt.Errorf("unexpected element <%s>", t.Name.Local)
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(name, "on") {
					return "", fmt.Errorf("event attribute %s on <%s>", a.Name.Local, t.Name.Local)
				}
				if name == "href" && !strings.HasPrefix(a.Value, "#") && !strings.HasPrefix(a.Value, "data:image/png;base64,") {
					return "", fmt.Errorf("link %q on <%s>", a.Value, t.Name.Local)
				}
			}
		case xml.EndElement:
			depth--
		case xml.Directive, xml.ProcInst:
			return "", errors.New("a directive inside the image")
		}
	}
	if depth != 0 {
		return "", errors.New("unclosed element")
	}
	return template.HTML(b), nil //nolint:gosec // checked above: our renderer's SVG
}
