package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SlackIssuer is Slack's OpenID Connect issuer.
const SlackIssuer = "https://slack.com"

// Defaults for Config fields left zero.
const (
	// DefaultIdle is how long a session lasts unused: a night's sleep.
	DefaultIdle = 12 * time.Hour
	// DefaultMaxAge is the longest a session lasts however much it is
	// used; then Slack is asked again.
	DefaultMaxAge = 7 * 24 * time.Hour
	// SignInWindow is how long a visitor has between leaving for Slack
	// and coming back (the state cookie's life).
	SignInWindow = 10 * time.Minute
)

// The cookies.
const (
	// SessionCookie holds the session's secret.
	SessionCookie = "sitrep_session"
	// StateCookie holds a sign-in's state, nonce and destination while
	// the visitor is at Slack.
	StateCookie = "sitrep_signin"
)

// touchEvery is how stale a session's last-seen time may get before a
// request records it again: not every page view writes to the database.
const touchEvery = time.Minute

// Config configures sign-in.
type Config struct {
	// Issuer is the OpenID Connect issuer: SlackIssuer, or the
	// simulator's base URL.
	Issuer string
	// ClientID and ClientSecret are the Slack app's credentials
	// (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET).
	ClientID, ClientSecret string
	// BaseURL is where people reach sitrep ("https://sitrep.example.com");
	// Slack sends them back to BaseURL + "/signin/callback", which must be
	// one of the app's redirect URLs.
	BaseURL string
	// TeamID is the app's workspace: people of any other are refused.
	TeamID string
	// Store keeps the sessions.
	Store Store
	// Secure marks cookies Secure. Use SecureCookies to decide it.
	Secure bool
	// Idle and MaxAge bound a session; defaults DefaultIdle and
	// DefaultMaxAge.
	Idle, MaxAge time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HTTPClient calls Slack; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
}

// SecureCookies reports whether cookies must be marked Secure for a
// server listening on addr and reached at baseURL: always when baseURL is
// https, and otherwise unless addr is a loopback address (a developer's
// machine, or the demo), where a plain-http browser would drop them.
func SecureCookies(addr, baseURL string) bool {
	if u, err := url.Parse(baseURL); err == nil && u.Scheme == "https" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Auth signs people in with Slack and keeps their sessions.
type Auth struct {
	cfg      Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	ctx      context.Context // carries the HTTP client for oauth2 and oidc
}

// New returns sign-in configured by cfg. It reads the issuer's discovery
// document; when that cannot be had (Slack unreachable at start) it uses
// the endpoints Slack documents under the issuer, and says so in the log.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"SLACK_CLIENT_ID", cfg.ClientID}, {"SLACK_CLIENT_SECRET", cfg.ClientSecret},
		{"SITREP_BASE_URL", cfg.BaseURL}, {"the workspace's team ID", cfg.TeamID}, {"the issuer", cfg.Issuer},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("sign-in with Slack needs %s", strings.Join(missing, ", "))
	}
	if cfg.Store == nil {
		return nil, errors.New("sign-in with Slack needs a session store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("SITREP_BASE_URL %q: write the address people use to reach sitrep, like https://sitrep.example.com", cfg.BaseURL)
	}
	if cfg.Secure && base.Scheme == "http" {
		cfg.Log.Warn("cookies are marked Secure but SITREP_BASE_URL is http://: browsers will not keep them over http, so nobody can sign in; set an https:// address (behind a TLS proxy), or listen on a loopback address", "base_url", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	a := &Auth{cfg: cfg, ctx: oidc.ClientContext(context.Background(), cfg.HTTPClient)}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, cfg.HTTPClient), 10*time.Second)
	defer cancel()
	a.provider, err = oidc.NewProvider(dctx, cfg.Issuer)
	if err != nil {
		cfg.Log.Warn("could not read the OpenID Connect discovery document; using Slack's documented endpoints", "issuer", cfg.Issuer, "err", err)
		is := strings.TrimRight(cfg.Issuer, "/")
		a.provider = (&oidc.ProviderConfig{
			IssuerURL: is, AuthURL: is + "/openid/connect/authorize", TokenURL: is + "/api/openid.connect.token",
			UserInfoURL: is + "/api/openid.connect.userInfo", JWKSURL: is + "/openid/connect/keys",
			Algorithms: []string{oidc.RS256},
		}).NewProvider(a.ctx)
	}
	a.verifier = a.provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now})
	a.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint:    a.provider.Endpoint(),
		RedirectURL: cfg.BaseURL + "/signin/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}
	a.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return a, nil
}

// Routes adds the sign-in pages to mux: /signin (a page with the Sign in
// with Slack button), /signin/slack (off to Slack), /signin/callback (back
// from Slack), /signout (POST, with the CSRF token), /signedout and
// /account (who is signed in).
func (a *Auth) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /signin", a.signinPage)
	mux.HandleFunc("GET /signin/slack", a.signin)
	mux.Handle("GET /account", a.Guard(http.HandlerFunc(a.account)))
	mux.HandleFunc("GET /signin/callback", a.callback)
	mux.Handle("POST /signout", a.Guard(RequireCSRF(http.HandlerFunc(a.signout))))
	mux.HandleFunc("GET /signedout", a.signedOut)
}

// random returns n random bytes, base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashID is what the store keeps of a session's secret.
func hashID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// cookie returns a cookie with sitrep's flags.
func (a *Auth) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: a.cfg.Secure, SameSite: http.SameSiteLaxMode}
}

// SafeNext returns next when it is a path on this site to go back to
// after signing in, and "/" otherwise: no other host, no scheme, no
// "//host" or "/\host" that a browser would read as another site, and not
// the sign-in pages themselves.
func SafeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	if u.Path == "/signin" || strings.HasPrefix(u.Path, "/signin/") || u.Path == "/signout" {
		return "/"
	}
	return next
}

// signinPage offers the Sign in with Slack button; a visitor already
// signed in goes on to next.
func (a *Auth) signinPage(w http.ResponseWriter, r *http.Request) {
	next := SafeNext(r.URL.Query().Get("next"))
	if _, ok := a.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	renderPage(w, pageData{Status: http.StatusOK, Title: "Sign in",
		Text: "sitrep shows its incidents, changes, problems and postmortems to the people of its Slack workspace. Sign in with your Slack account.",
		Href: "/signin/slack?next=" + url.QueryEscape(next), Button: "Sign in with Slack"})
}

// account tells who is signed in, with the sign-out button.
func (a *Auth) account(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	renderPage(w, pageData{Status: http.StatusOK, Title: "Signed in",
		Text: "You are signed in as " + u.Name + " (" + u.ID + ") of workspace " + u.TeamID + ".",
		Href: "/signout", Button: "Sign out", CSRF: CSRFToken(r.Context())})
}

// signin sends the visitor to Slack with a fresh state and nonce, kept in
// a short-lived cookie with where to go afterwards.
func (a *Auth) signin(w http.ResponseWriter, r *http.Request) {
	next := SafeNext(r.URL.Query().Get("next"))
	if _, ok := a.session(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	state, nonce := random(24), random(24)
	value := state + "." + nonce + "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	http.SetCookie(w, a.cookie(StateCookie, value, "/signin", int(SignInWindow/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oidc.Nonce(nonce)), http.StatusFound)
}

// slackClaims are the claims sitrep reads from Slack's id_token.
type slackClaims struct {
	Sub        string `json:"sub"`
	UserID     string `json:"https://slack.com/user_id"`
	TeamID     string `json:"https://slack.com/team_id"`
	TeamName   string `json:"https://slack.com/team_name"`
	Name       string `json:"name"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
}

// callback is where Slack sends the visitor back: the state is checked
// against the cookie (used once), the code exchanged, the id_token
// verified (issuer, audience, expiry, signature, nonce), the workspace
// checked, and a session begun.
func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(StateCookie)
	// The state cookie is good for one attempt, whatever happens.
	http.SetCookie(w, a.cookie(StateCookie, "", "/signin", -1))
	if err != nil {
		a.page(w, http.StatusBadRequest, "Sign-in did not complete",
			"This browser did not bring back the note sitrep gave it on the way to Slack: sign-in took longer than 10 minutes, was started in another browser, or cookies are blocked for this site. Sign in again.")
		return
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || parts[0] == "" || !equal(parts[0], q.Get("state")) {
		a.cfg.Log.Warn("sign-in callback with a state that does not match its cookie", "remote", r.RemoteAddr)
		a.page(w, http.StatusBadRequest, "Sign-in did not complete",
			"The answer from Slack does not belong to the sign-in this browser started (its state does not match). Sign in again.")
		return
	}
	nonce := parts[1]
	nextBytes, _ := base64.RawURLEncoding.DecodeString(parts[2])
	next := SafeNext(string(nextBytes))
	if e := q.Get("error"); e != "" {
		a.page(w, http.StatusForbidden, "Slack did not sign you in",
			"Slack answered "+e+". Sign in again, and allow sitrep to see who you are.")
		return
	}
	code := q.Get("code")
	if code == "" {
		a.page(w, http.StatusBadRequest, "Sign-in did not complete", "Slack's answer carried no code. Sign in again.")
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), a.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	tok, err := a.oauth.Exchange(ctx, code)
	if err != nil {
		a.cfg.Log.Warn("Slack refused the sign-in code", "err", err)
		a.page(w, http.StatusBadRequest, "Sign-in did not complete",
			"Slack would not take this sign-in's code: it was already used or has expired. Sign in again.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		a.cfg.Log.Error("Slack's token answer carried no id_token")
		a.page(w, http.StatusBadGateway, "Sign-in did not complete", "Slack's answer carried no identity. Try again in a moment.")
		return
	}
	idt, err := a.verifier.Verify(ctx, raw)
	if err == nil && !equal(idt.Nonce, nonce) {
		err = errors.New("the id_token's nonce is not this sign-in's")
	}
	var cl slackClaims
	if err == nil {
		err = idt.Claims(&cl)
	}
	if err == nil && (cl.UserID == "" || cl.TeamID == "") {
		err = errors.New("the id_token names no Slack user or team")
	}
	if err != nil {
		a.cfg.Log.Warn("refused Slack's id_token", "err", err)
		a.page(w, http.StatusBadRequest, "Sign-in did not complete", "The identity Slack sent could not be verified. Sign in again.")
		return
	}
	if cl.TeamID != a.cfg.TeamID {
		a.cfg.Log.Warn("refused a sign-in from another workspace", "user", cl.UserID, "team", cl.TeamID)
		team := cl.TeamName
		if team == "" {
			team = cl.TeamID
		}
		a.page(w, http.StatusForbidden, "Not this workspace",
			"You signed in to the Slack workspace "+team+"; this sitrep serves only its own workspace ("+a.cfg.TeamID+"). Sign in to that workspace in Slack, then sign in here again.")
		return
	}
	if info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		a.cfg.Log.Warn("openid.connect.userInfo failed; using the id_token's claims", "err", err)
	} else if info.Subject != cl.Sub {
		a.cfg.Log.Warn("openid.connect.userInfo names another user than the id_token", "id_token", cl.Sub, "userinfo", info.Subject)
		a.page(w, http.StatusBadRequest, "Sign-in did not complete", "Slack named two different people for this sign-in. Sign in again.")
		return
	} else {
		var fresh slackClaims
		if info.Claims(&fresh) == nil && fresh.Name != "" {
			cl.Name = fresh.Name
		}
	}
	name := cl.Name
	if name == "" {
		name = strings.TrimSpace(cl.GivenName + " " + cl.FamilyName)
	}
	if name == "" {
		name = cl.UserID
	}
	now := a.cfg.Now().UTC()
	secret := random(32)
	s := Session{IDHash: hashID(secret), User: User{ID: cl.UserID, TeamID: cl.TeamID, Name: name},
		CSRF: random(32), Created: now, LastSeen: now, Expires: now.Add(min(a.cfg.Idle, a.cfg.MaxAge))}
	if err := a.cfg.Store.CreateSession(r.Context(), s); err != nil {
		a.cfg.Log.Error("could not record a session", "user", cl.UserID, "err", err)
		a.page(w, http.StatusInternalServerError, "Sign-in did not complete", "sitrep could not record your session; the log has the detail. Try again in a moment.")
		return
	}
	if n, err := a.cfg.Store.PruneSessions(r.Context(), now); err != nil {
		a.cfg.Log.Warn("could not prune expired sessions", "err", err)
	} else if n > 0 {
		a.cfg.Log.Info("pruned expired web sessions", "count", n)
	}
	a.cfg.Log.Info("signed in to the dashboard", "user", cl.UserID)
	http.SetCookie(w, a.cookie(SessionCookie, secret, "/", int(a.cfg.MaxAge/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session (the Guard and RequireCSRF let it through).
func (a *Auth) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := a.cfg.Store.DeleteSession(r.Context(), hashID(c.Value)); err != nil {
			a.cfg.Log.Error("could not end a session", "err", err)
			a.page(w, http.StatusInternalServerError, "Sign-out did not complete", "sitrep could not end your session; the log has the detail. Try again.")
			return
		}
	}
	u, _ := UserFrom(r.Context())
	a.cfg.Log.Info("signed out of the dashboard", "user", u.ID)
	http.SetCookie(w, a.cookie(SessionCookie, "", "/", -1))
	http.Redirect(w, r, "/signedout", http.StatusSeeOther)
}

func (a *Auth) signedOut(w http.ResponseWriter, _ *http.Request) {
	renderPage(w, pageData{Status: http.StatusOK, Title: "Signed out", Text: "You are signed out of sitrep.",
		Href: "/signin", Button: "Sign in again"})
}

// Prune deletes expired sessions; run it now and then (sign-in does too).
func (a *Auth) Prune(ctx context.Context) (int64, error) {
	return a.cfg.Store.PruneSessions(ctx, a.cfg.Now().UTC())
}

// RunPruner prunes expired sessions every interval until ctx ends.
func (a *Auth) RunPruner(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.Prune(ctx); err != nil {
				a.cfg.Log.Warn("could not prune expired sessions", "err", err)
			} else if n > 0 {
				a.cfg.Log.Info("pruned expired web sessions", "count", n)
			}
		}
	}
}
