package signin

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
)

// equal compares two secrets in constant time; empty never matches.
func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session returns the live session of r's cookie, moving its expiry when
// it was last seen more than a minute ago. An expired session is deleted.
func (a *Auth) session(r *http.Request) (Session, bool) {
	s, ok, err := a.lookup(r)
	if err != nil {
		a.cfg.Log.Error("could not read a session", "err", err)
	}
	return s, ok
}

// lookup is session, with the store's failure (not a missing session).
func (a *Auth) lookup(r *http.Request) (Session, bool, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Session{}, false, nil
	}
	id := hashID(c.Value)
	s, err := a.cfg.Store.Session(r.Context(), id)
	if errors.Is(err, ErrNoSession) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	now := a.cfg.Now().UTC()
	end := s.Created.Add(a.cfg.MaxAge)
	if !now.Before(s.Expires) || !now.Before(end) || s.User.TeamID != a.cfg.TeamID {
		if err := a.cfg.Store.DeleteSession(r.Context(), id); err != nil {
			a.cfg.Log.Warn("could not delete an expired session", "err", err)
		}
		return Session{}, false, nil
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		exp := now.Add(a.cfg.Idle)
		if exp.After(end) {
			exp = end
		}
		if err := a.cfg.Store.TouchSession(r.Context(), id, now, exp); err != nil {
			a.cfg.Log.Warn("could not extend a session", "err", err)
		} else {
			s.LastSeen, s.Expires = now, exp
		}
	}
	return s, true, nil
}

// Guard lets through only requests of a signed-in session, with the user
// (WithUser) and the CSRF token (WithCSRFToken) in their context. Any
// other visitor is sent to /signin with the page they asked for in next
// (GET and HEAD only), and learns nothing else. A request that changes
// something (not GET, HEAD or OPTIONS) must also pass RequireCSRF's check.
func (a *Auth) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok, err := a.lookup(r)
		if err != nil {
			a.cfg.Log.Error("could not read a session", "path", r.URL.Path, "err", err)
			renderPage(w, pageData{Status: http.StatusServiceUnavailable, Title: "sitrep cannot check who you are",
				Text: "sitrep could not read its sessions from the database just now; the log has the detail. Reload in a moment.",
				Href: r.URL.RequestURI(), Button: "Reload"})
			return
		}
		if !ok {
			if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
				http.SetCookie(w, a.cookie(SessionCookie, "", "/", -1))
			}
			w.Header().Set("Cache-Control", "no-store")
			to := "/signin"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				if n := SafeNext(r.URL.RequestURI()); n != "/" {
					to += "?next=" + url.QueryEscape(n)
				}
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		ctx := WithCSRFToken(WithUser(r.Context(), s.User), s.CSRF)
		r = r.WithContext(ctx)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
		default:
			RequireCSRF(next).ServeHTTP(w, r)
		}
	})
}

// maxForm bounds a form's body.
const maxForm = 64 << 10

// RequireCSRF refuses (403) a request whose form field "csrf" (or header
// X-CSRF-Token) is not the session's token. It belongs inside Guard.
func RequireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := CSRFToken(r.Context())
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			got = r.PostFormValue("csrf")
		}
		if !equal(want, got) {
			renderPage(w, pageData{Status: http.StatusForbidden, Title: "Form refused",
				Text: "This form did not carry this session's security token (it came from another site, or from a page open before you signed in again). Go back, reload the page, and send it again.",
				Href: "/", Button: "Back to sitrep"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pageData is one of sign-in's own pages.
type pageData struct {
	Status      int
	Title, Text string
	// Action is the page's button: a link (Href) or, with CSRF set, a
	// POST form to Href.
	Href, Button, CSRF string
}

// page answers with a page saying text and offering to sign in.
func (a *Auth) page(w http.ResponseWriter, status int, title, text string) {
	renderPage(w, pageData{Status: status, Title: title, Text: text, Href: "/signin", Button: "Sign in with Slack"})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · sitrep</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header class="top"><a class="brand" href="/">sitrep</a></header>
<main id="main">
<h1>{{.Title}}</h1>
<p{{if ge .Status 400}} class="problem" role="alert"{{end}}>{{.Text}}</p>
{{if .CSRF}}<form method="post" action="{{.Href}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit">{{.Button}}</button>
</form>{{else if .Href}}<p><a class="button" href="{{.Href}}">{{.Button}}</a></p>{{end}}
</main>
</body>
</html>
`))

func renderPage(w http.ResponseWriter, p pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(p.Status)
	_ = pageTemplate.Execute(w, p)
}
