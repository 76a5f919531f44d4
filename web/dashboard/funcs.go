package dashboard

import (
	"context"
	"html/template"
	"net/url"
	"strconv"
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

// pageLink returns the link to page n (from 1) of a paged list at path
// with the filters v, page 1 without a page parameter.
func pageLink(path string, v url.Values) func(n int) string {
	return func(n int) string {
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		} else {
			v.Del("page")
		}
		return path + "?" + v.Encode()
	}
}
