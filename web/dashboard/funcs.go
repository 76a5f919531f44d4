package dashboard

import (
	"context"
	"github.com/sitrep/sitrep/incident"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/internal/human"
)

// funcs are the template functions every page may use.
func funcs(d Deps) template.FuncMap {
	name := func(id string) string {
		if d.Names == nil || id == "" {
			return id
		}
		if n := d.Names.Name(context.Background(), id); n != "" {
			return n
		}
		return id
	}
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
		"name": name,
		// reporter shows who reported an incident: a person's name, or
		// the monitoring product that opened it ("Alertmanager").
		"reporter": func(inc *incident.Incident) string {
			who, person := inc.Reporter()
			if person {
				return name(who)
			}
			return who
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

// pager is the control under every paged list (template "pager").
type pager struct {
	// Page is the page shown, from 1; Pages how many there are, 0 when
	// the list does not count them (the change log).
	Page, Pages int
	// Prev and Next link the neighbouring pages, "" when there is none.
	Prev, Next string
	// PrevText and NextText name the links ("← Previous", "← Newer").
	PrevText, NextText string
	// CSV downloads every page of the list with the same filters.
	CSV string
}

// listPager links page of the list at path (with the filters v) to its
// neighbours and to its CSV (path + ".csv"): a previous page from 2 on
// (the last one, past the end), a next one while more follow.
func listPager(path string, v url.Values, page, pages int, more bool, prevText, nextText string) pager {
	link := pageLink(path, v)
	p := pager{Page: page, Pages: pages, PrevText: prevText, NextText: nextText}
	if page > 1 {
		prev := page - 1
		if pages > 0 {
			prev = min(prev, pages)
		}
		p.Prev = link(prev)
	}
	if more {
		p.Next = link(page + 1)
	}
	p.CSV = path + ".csv" + strings.TrimPrefix(link(1), path)
	return p
}
