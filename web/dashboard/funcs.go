package dashboard

import (
	"context"
	"html/template"
	"time"

	"github.com/sitrep/sitrep/internal/human"
)

// funcs are the template functions every page may use.
func funcs(d Deps) template.FuncMap {
	return template.FuncMap{
		// when writes a time in the dashboard's zone: "Tue 24 Nov 2026 03:04".
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(d.Location).Format("Mon 2 Jan 2006 15:04")
		},
		// duration says how long, as people say it: "1 h 30 min".
		"duration": human.Duration,
		// name shows a user ID as their display name when known.
		"name": func(id string) string {
			if d.Names == nil || id == "" {
				return id
			}
			if n := d.Names.Name(context.Background(), id); n != "" {
				return n
			}
			return id
		},
	}
}
