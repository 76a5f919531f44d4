package signin_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web/signin"
)

// clock is a settable clock for sessions' expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// site is sitrep's sign-in in front of a guarded page, against the
// simulator's Sign in with Slack, with sessions in a real SQLite file.
type site struct {
	sim   *slacksim.Sim
	srv   *httptest.Server
	store *storage.Store
	clock *clock
}

const secretPage = "the guarded page's data"

type siteOpts struct {
	simTeam string // the workspace the simulator signs in to
	secret  string // the client secret sitrep is configured with
	secure  bool
}

func newSite(t *testing.T, o siteOpts) *site {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	sim := slacksim.New(slacksim.Options{TeamID: o.simTeam, Now: clk.Now})
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell"})
	sim.AddUser(slacksim.User{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs"})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	store, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := &site{sim: sim, store: store, clock: clk}
	mux := http.NewServeMux()
	s.srv = httptest.NewUnstartedServer(mux)
	secret := o.secret
	if secret == "" {
		secret = sim.ClientSecret()
	}
	auth, err := signin.New(ctx, signin.Config{
		Issuer: sim.Issuer(), ClientID: sim.ClientID(), ClientSecret: secret,
		BaseURL: "http://" + s.srv.Listener.Addr().String(), TeamID: slacksim.DefaultTeamID,
		Store: store, Secure: o.secure, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	auth.Routes(mux)
	mux.Handle("/incidents", auth.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := signin.UserFrom(r.Context())
		io.WriteString(w, secretPage+" for "+u.Name+" ("+u.ID+") csrf="+signin.CSRFToken(r.Context()))
	})))
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// browser is a client with a cookie jar that follows redirects.
func (s *site) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// noFollow is c that stops at the first redirect.
func noFollow(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn signs c in through the simulator as user, starting at /incidents.
func (s *site) signIn(t *testing.T, c *http.Client, user string) string {
	t.Helper()
	s.sim.SetSignInUser(user)
	resp, body := get(t, c, s.srv.URL+"/incidents")
	m := regexp.MustCompile(`href="(/signin/slack[^"]*)"`).FindStringSubmatch(body)
	if resp.Request.URL.Path != "/signin" || m == nil {
		t.Fatalf("a signed-out visit ended at %s (%d) with no Sign in with Slack button: %s", resp.Request.URL, resp.StatusCode, body)
	}
	resp, body = get(t, c, s.srv.URL+html.UnescapeString(m[1]))
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/incidents" {
		t.Fatalf("sign-in ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	return body
}

// csrfOf reads the CSRF token the guarded page shows.
func csrfOf(body string) string {
	_, tok, _ := strings.Cut(body, "csrf=")
	return tok
}

func TestSignInFlow(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})
	c := s.browser(t)

	// Signed out: a redirect to sign-in naming the page, and no data.
	resp, body := get(t, noFollow(c), s.srv.URL+"/incidents?open=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fincidents%3Fopen%3D1" {
		t.Errorf("signed-out visit: %d to %q, want 303 to /signin?next=…", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(body, secretPage) {
		t.Errorf("signed-out visit shows the page's data: %q", body)
	}

	resp, _ = get(t, noFollow(c), s.srv.URL+"/signin")
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the sign-in page may be framed or cached: %v", resp.Header)
	}

	body = s.signIn(t, c, "U0ALICE")
	if !strings.Contains(body, "for Alice Liddell (U0ALICE)") || csrfOf(body) == "" {
		t.Errorf("after sign-in the page shows %q, want Alice and a CSRF token", body)
	}
	// Signed in, /signin goes straight on, and /account names them.
	if resp, _ := get(t, noFollow(c), s.srv.URL+"/signin?next=/incidents"); resp.Header.Get("Location") != "/incidents" {
		t.Errorf("signed in, /signin answered %d to %q, want a redirect to /incidents", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := get(t, c, s.srv.URL+"/account"); !strings.Contains(body, "Alice Liddell (U0ALICE) of workspace T0SIM") {
		t.Errorf("/account says %q", body)
	}
	if n := s.sim.Calls("openid.connect.userInfo"); n != 1 {
		t.Errorf("openid.connect.userInfo called %d times, want 1", n)
	}

	// The session is in the database under the hash of its cookie only.
	u, _ := url.Parse(s.srv.URL)
	var cookie string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == signin.SessionCookie {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie after sign-in")
	}
	if _, err := s.store.Session(context.Background(), cookie); err == nil {
		t.Error("the store finds the session by its cookie's value: it must keep only a hash")
	}
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		s := newSite(t, siteOpts{secure: secure})
		c := noFollow(s.browser(t))
		resp, _ := get(t, c, s.srv.URL+"/signin/slack")
		state := checkCookie(t, resp, signin.StateCookie, secure)
		// To the simulator and back by hand; a Secure cookie is not sent
		// back over http by the jar, so it is handed over.
		resp, _ = get(t, c, resp.Header.Get("Location"))
		req, _ := http.NewRequest("GET", resp.Header.Get("Location"), nil)
		if secure && state != nil {
			req.AddCookie(&http.Cookie{Name: state.Name, Value: state.Value})
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkCookie(t, resp, signin.SessionCookie, secure)
	}
}

// checkCookie checks the flags of cookie name set by resp and returns it.
func checkCookie(t *testing.T, resp *http.Response, name string, secure bool) *http.Cookie {
	t.Helper()
	for _, ck := range resp.Cookies() {
		if ck.Name != name || ck.MaxAge < 0 {
			continue
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure {
			t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Secure %v; want true, Lax, %v", name, ck.HttpOnly, ck.SameSite, ck.Secure, secure)
		}
		if want := map[string]string{signin.SessionCookie: "/", signin.StateCookie: "/signin"}[name]; ck.Path != want {
			t.Errorf("cookie %s has path %q, want %q", name, ck.Path, want)
		}
		return ck
	}
	t.Errorf("no cookie %s set (status %d, Set-Cookie %q)", name, resp.StatusCode, resp.Header.Values("Set-Cookie"))
	return nil
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, base string
		want       bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"[::1]:8080", "http://localhost:8080", false},
		{"localhost:8080", "http://localhost:8080", false},
		{"127.0.0.1:8080", "https://sitrep.example.com", true},
		{":8080", "http://sitrep.example.com", true},
		{"0.0.0.0:8080", "http://10.0.0.1:8080", true},
		{"10.0.0.1:8080", "http://10.0.0.1:8080", true},
	} {
		if got := signin.SecureCookies(tc.addr, tc.base); got != tc.want {
			t.Errorf("SecureCookies(%q, %q) = %v, want %v", tc.addr, tc.base, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/incidents", "/incidents"},
		{"/incidents/INC-4?tab=timeline", "/incidents/INC-4?tab=timeline"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/\tevil", "/"},
		{"/ok\r\nSet-Cookie: x", "/"},
		{"/signin?next=/x", "/"},
		{"/signout", "/"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // a path on this site
	} {
		if got := signin.SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenRedirect: however next is written, signing in lands on this site.
func TestOpenRedirect(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		c := s.browser(t)
		c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host == "evil.example" || req.URL.Scheme == "javascript" {
				t.Errorf("next=%q led the browser to %s", next, req.URL)
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, _ := get(t, c, s.srv.URL+"/signin/slack?next="+url.QueryEscape(next))
		if resp.Request.URL.Host != strings.TrimPrefix(s.srv.URL, "http://") || resp.Request.URL.Path != "/" {
			t.Errorf("next=%q: signed in and landed at %s, want / on this site", next, resp.Request.URL)
		}
	}
}

// callbackURL starts a sign-in with c and returns where the simulator sends
// it back, without going there.
func (s *site) callbackURL(t *testing.T, c *http.Client) string {
	t.Helper()
	nf := noFollow(c)
	resp, _ := get(t, nf, s.srv.URL+"/signin/slack?next=/incidents")
	resp, _ = get(t, nf, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("simulator's authorize page answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})

	t.Run("bad state", func(t *testing.T) {
		c := s.browser(t)
		cb, _ := url.Parse(s.callbackURL(t, c))
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		resp, body := get(t, noFollow(c), cb.String())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
			t.Errorf("forged state: %d %q, want 400 naming the state", resp.StatusCode, body)
		}
		if _, body := get(t, noFollow(c), s.srv.URL+"/incidents"); strings.Contains(body, secretPage) {
			t.Error("a forged state signed the browser in")
		}
	})

	t.Run("no state cookie", func(t *testing.T) {
		c := s.browser(t)
		cb := s.callbackURL(t, c)
		resp, body := get(t, noFollow(s.browser(t)), cb) // another browser
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Sign in again") {
			t.Errorf("callback in another browser: %d %q, want 400", resp.StatusCode, body)
		}
	})

	t.Run("replayed code", func(t *testing.T) {
		c := s.browser(t)
		first := s.callbackURL(t, c)
		if resp, _ := get(t, c, first); resp.StatusCode != 200 {
			t.Fatalf("first use of the code: %d", resp.StatusCode)
		}
		// An attacker (or a reload) brings the same code with a fresh state.
		c2 := s.browser(t)
		fresh, _ := url.Parse(s.callbackURL(t, c2))
		old, _ := url.Parse(first)
		q := fresh.Query()
		q.Set("code", old.Query().Get("code"))
		fresh.RawQuery = q.Encode()
		resp, body := get(t, noFollow(c2), fresh.String())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already used or has expired") {
			t.Errorf("replayed code: %d %q, want 400 saying it was used", resp.StatusCode, body)
		}
		if _, body := get(t, noFollow(c2), s.srv.URL+"/incidents"); strings.Contains(body, secretPage) {
			t.Error("a replayed code signed the browser in")
		}
	})

	t.Run("wrong nonce", func(t *testing.T) {
		c := s.browser(t)
		cb := s.callbackURL(t, c)
		u, _ := url.Parse(cb)
		var st *http.Cookie
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == signin.StateCookie {
				st = ck
			}
		}
		if st == nil {
			t.Fatal("no state cookie for the callback")
		}
		parts := strings.Split(st.Value, ".")
		parts[1] = "another-nonce"
		req, _ := http.NewRequest("GET", cb, nil)
		req.AddCookie(&http.Cookie{Name: signin.StateCookie, Value: strings.Join(parts, ".")})
		resp, err := noFollow(&http.Client{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "could not be verified") {
			t.Errorf("id_token with another nonce: %d %q, want 400", resp.StatusCode, b)
		}
		if resp.Header.Get("Set-Cookie") != "" && strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), signin.SessionCookie+"=") {
			t.Error("a wrong nonce began a session")
		}
	})

	t.Run("denied at Slack", func(t *testing.T) {
		c := s.browser(t)
		cb, _ := url.Parse(s.callbackURL(t, c))
		q := cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		resp, body := get(t, noFollow(c), cb.String())
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "access_denied") {
			t.Errorf("denied: %d %q, want 403 naming Slack's answer", resp.StatusCode, body)
		}
	})
}

func TestWrongSecret(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{secret: "not-the-secret"})
	c := s.browser(t)
	resp, body := get(t, c, s.srv.URL+"/signin/slack?next=/incidents")
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, secretPage) {
		t.Errorf("wrong client secret: %d %q, want 400 and no data", resp.StatusCode, body)
	}
}

func TestWrongTeam(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{simTeam: "T0OTHER"})
	c := s.browser(t)
	resp, body := get(t, c, s.srv.URL+"/signin/slack?next=/incidents")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "serves only its own workspace") {
		t.Errorf("another workspace: %d %q, want 403 saying which workspace", resp.StatusCode, body)
	}
	if strings.Contains(body, secretPage) {
		t.Error("another workspace's user saw the page")
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})

	// Idle: 12 hours without a request end the session.
	c := s.browser(t)
	s.signIn(t, c, "U0ALICE")
	s.clock.Add(11 * time.Hour)
	if _, body := get(t, noFollow(c), s.srv.URL+"/incidents"); !strings.Contains(body, secretPage) {
		t.Fatal("session ended after 11 idle hours")
	}
	s.clock.Add(12*time.Hour + time.Second)
	resp, body := get(t, noFollow(c), s.srv.URL+"/incidents")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(body, secretPage) {
		t.Errorf("after 12 idle hours: %d %q, want a redirect to sign in", resp.StatusCode, body)
	}

	// Sliding, but never beyond 7 days.
	c = s.browser(t)
	s.signIn(t, c, "U0BOB")
	for range 15 { // 15 × 11 h = 6 d 21 h
		s.clock.Add(11 * time.Hour)
		if _, body := get(t, noFollow(c), s.srv.URL+"/incidents"); !strings.Contains(body, secretPage) {
			t.Fatal("a session in use ended before 7 days")
		}
	}
	s.clock.Add(11 * time.Hour)
	if resp, _ := get(t, noFollow(c), s.srv.URL+"/incidents"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session in use for more than 7 days: %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestSignOutCSRF(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})
	c := s.browser(t)
	tok := csrfOf(s.signIn(t, c, "U0ALICE"))
	for _, tc := range []struct{ name, form string }{
		{"missing", ""},
		{"wrong", "csrf=" + url.QueryEscape(tok+"x")},
		{"empty", "csrf="},
	} {
		resp, err := noFollow(c).Post(s.srv.URL+"/signout", "application/x-www-form-urlencoded", strings.NewReader(tc.form))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with CSRF %s: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	if _, body := get(t, noFollow(c), s.srv.URL+"/incidents"); !strings.Contains(body, secretPage) {
		t.Fatal("a refused sign-out ended the session")
	}
	resp, err := noFollow(c).Post(s.srv.URL+"/signout", "application/x-www-form-urlencoded", strings.NewReader("csrf="+url.QueryEscape(tok)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signedout" {
		t.Errorf("sign-out: %d to %q, want 303 to /signedout", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, noFollow(c), s.srv.URL+"/incidents"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want a redirect to sign in", resp.StatusCode)
	}
	// Signed out, a POST is sent to sign in, not refused for its CSRF.
	resp, err = noFollow(c).Post(s.srv.URL+"/signout", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("signed-out POST: %d to %q, want 303 to /signin", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestGuardPOST: a guarded form handler gets only requests with the token.
func TestGuardPOST(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})
	c := s.browser(t)
	tok := csrfOf(s.signIn(t, c, "U0ALICE"))
	post := func(form string, hdr string) int {
		req, _ := http.NewRequest("POST", s.srv.URL+"/incidents", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if hdr != "" {
			req.Header.Set("X-CSRF-Token", hdr)
		}
		resp, err := noFollow(c).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("", ""); got != http.StatusForbidden {
		t.Errorf("POST without a token: %d, want 403", got)
	}
	if got := post("csrf="+url.QueryEscape(tok), ""); got != http.StatusOK {
		t.Errorf("POST with the form token: %d, want 200", got)
	}
	if got := post("", tok); got != http.StatusOK {
		t.Errorf("POST with the header token: %d, want 200", got)
	}
}

// TestStoreDown: when sessions cannot be read, a page says so (503) and
// shows nothing, rather than sending a signed-in person to sign in again.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOpts{})
	c := s.browser(t)
	s.signIn(t, c, "U0ALICE")
	s.store.Close()
	resp, body := get(t, noFollow(c), s.srv.URL+"/incidents")
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, secretPage) {
		t.Errorf("with the database closed: %d %q, want 503 and no data", resp.StatusCode, body)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	good := signin.Config{Issuer: "https://slack.com", ClientID: "1.2", ClientSecret: "s", BaseURL: "https://sitrep.example.com", TeamID: "T1", Store: store}
	for _, tc := range []struct {
		name string
		edit func(*signin.Config)
		want string
	}{
		{"no client ID", func(c *signin.Config) { c.ClientID = "" }, "SLACK_CLIENT_ID"},
		{"no secret or base URL", func(c *signin.Config) { c.ClientSecret, c.BaseURL = "", "" }, "SLACK_CLIENT_SECRET, SITREP_BASE_URL"},
		{"a base URL without scheme", func(c *signin.Config) { c.BaseURL = "sitrep.example.com" }, "SITREP_BASE_URL \"sitrep.example.com\": write the address"},
		{"a base URL of another scheme", func(c *signin.Config) { c.BaseURL = "ftp://sitrep.example.com" }, "like https://sitrep.example.com"},
		{"no store", func(c *signin.Config) { c.Store = nil }, "session store"},
	} {
		cfg := good
		tc.edit(&cfg)
		if _, err := signin.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
