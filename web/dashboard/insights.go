package dashboard

import (
	"bytes"
	"context"
	"html/template"
	"net/http"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/slacktext"
	"github.com/sitrep/sitrep/web/signin"
)

// Helpers shared by the problems, postmortems and trends pages.

// insightSees reports whether the signed-in person may see private
// incident inc: a public one anyone may; a private one whoever MaySee
// allows, or with no MaySee, its TDO alone.
func (db *Dashboard) insightSees(r *http.Request, inc *incident.Incident) bool {
	if !inc.Private {
		return true
	}
	u, ok := signin.UserFrom(r.Context())
	if !ok || u.ID == "" {
		return false
	}
	if db.d.MaySee == nil {
		return u.ID == inc.TDOID
	}
	return db.d.MaySee(r.Context(), u.ID, inc)
}

// insightSVG makes a chart drawn by package charts fit to sit inside a
// page: the XML declaration is dropped, and a chart holding anything that
// could run (which charts never draws: its texts are escaped) is refused.
func insightSVG(svg []byte) (template.HTML, bool) {
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	lower := bytes.ToLower(svg)
	for _, bad := range []string{"<script", "<foreignobject", "javascript:", "onload=", "onclick="} {
		if bytes.Contains(lower, []byte(bad)) {
			return "", false
		}
	}
	return template.HTML(svg), true //nolint:gosec // drawn by package charts, texts escaped, checked above
}

// insightPlain writes sitrep's text (mentions kept as user IDs) as plain
// text for a page, people shown by name where known.
func (db *Dashboard) insightPlain(ctx context.Context, s string) string {
	return slacktext.PlainNames(s, func(id string) string {
		if db.d.Names == nil {
			return ""
		}
		return db.d.Names.Name(ctx, id)
	})
}

// insightName shows a user ID as their display name, or the ID.
func (db *Dashboard) insightName(ctx context.Context, id string) string {
	if db.d.Names != nil && id != "" {
		if n := db.d.Names.Name(ctx, id); n != "" {
			return n
		}
	}
	return id
}
