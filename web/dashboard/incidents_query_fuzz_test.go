package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/web/signin"
)

// FuzzReadQueries: any query either reads into a filter a page can run
// (a page from 1, a window that is not reversed) or is refused with a
// message naming what to write; it never panics.
func FuzzReadQueries(f *testing.F) {
	for _, seed := range []string{"", "state=all&severity=sev1&system=web&problem=PRB-3&cost=C2&from=2026-03-01&to=2026-03-02&sort=ttr&order=asc&page=2",
		"severity=sev9", "from=yesterday", "page=-1", "sort=bogus", "cost=none", "q=50%25&kind=deploy&since=7d&person=U0ALICE",
		"since=1d12h&from=2026-01-01", "page=99999999999999999999", "system=%00", "to=0000-01-01", "severity=1&severity=2"} {
		f.Add(seed)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		iq, err := readIncidentQuery(q, time.UTC)
		if err != nil {
			if msg := err.Error(); msg == "" || !strings.ContainsAny(msg, "=:") {
				t.Fatalf("%q: unhelpful error %q", raw, msg)
			}
		} else {
			fl := iq.filter
			if iq.page < 1 || fl.Offset < 0 || fl.Limit != listPageSize || (!fl.From.IsZero() && !fl.To.IsZero() && !fl.From.Before(fl.To)) {
				t.Fatalf("%q: read as %+v, page %d", raw, fl, iq.page)
			}
			if _, err := readIncidentQuery(iq.Form.values(), time.UTC); err != nil {
				t.Fatalf("%q: the form's own values %v are refused: %v", raw, iq.Form.values(), err)
			}
		}
		cq, err := readChangeQuery(q, now, time.UTC)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%q: empty error", raw)
			}
			return
		}
		if cq.page < 1 || cq.filter.Offset < 0 || (!cq.filter.Since.IsZero() && cq.filter.Since.After(now) && cq.Form.Since != "") {
			t.Fatalf("%q: read as %+v", raw, cq.filter)
		}
		if _, err := readChangeQuery(cq.Form.values(), now, time.UTC); err != nil {
			t.Fatalf("%q: the form's own values %v are refused: %v", raw, cq.Form.values(), err)
		}
	})
}

// FuzzListPages: whatever the query, the incidents and changes pages
// answer 200 or a 400 that says what was wrong; never a 500.
func FuzzListPages(f *testing.F) {
	for _, seed := range []string{"", "state=all&sort=ttr&order=asc&page=2", "severity=sev9", "page=-1", "q=%25_%5C&since=2w",
		"from=2026-03-01&to=2026-03-01&cost=none", "system=web_api&problem=PRB-99999999999", "person=%00&kind=Deploy"} {
		f.Add(seed)
	}
	fx := newIncFixture(f)
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := url.ParseRequestURI("/incidents?" + raw); err != nil || strings.ContainsAny(raw, "# ") || len(raw) > 500 {
			return // not a query a request line can carry
		}
		for _, path := range []string{"/incidents?", "/changes?", "/incidents.csv?", "/changes.csv?"} {
			code, body, _ := fx.get(t, "", path+raw)
			if code != 200 && code != 400 {
				t.Fatalf("%s%s: %d\n%s", path, raw, code, body)
			}
		}
	})
}

// FuzzInsightPages: whatever the query, the problems, postmortems,
// actions and trends pages answer 200 or a 400 that says what was wrong;
// never a 500.
func FuzzInsightPages(f *testing.F) {
	for _, seed := range []string{"", "window=all", "window=7d", "window=-1d", "window=99999w", "weeks=52", "weeks=0", "weeks=53",
		"weeks=1e3", "weeks=%2012", "owner=U0ALICE&overdue=yes", "owner=alice", "overdue=maybe", "weeks=12&weeks=4", "window=%00"} {
		f.Add(seed)
	}
	w := newInsightsWorld(f)
	alice := signin.User{ID: "U0ALICE", TeamID: "T1", Name: "Alice"}
	paths := []string{"/problems?", "/postmortems?", "/trends?"}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := url.ParseRequestURI("/trends?" + raw); err != nil || strings.ContainsAny(raw, "# ") || len(raw) > 500 {
			return // not a query a request line can carry
		}
		for _, path := range paths {
			rec := w.get(path+raw, alice)
			if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("%s%s: %d\n%s", path, raw, rec.Code, rec.Body.String())
			}
			if body := strings.ToLower(rec.Body.String()); rec.Code == http.StatusBadRequest &&
				(!strings.Contains(body, `role="alert"`) || !strings.Contains(body, "write") && !strings.Contains(body, "pick")) {
				t.Errorf("%s%s: a 400 that does not say what to write:\n%s", path, raw, rec.Body.String())
			}
		}
	})
}
