package slacksim_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestOIDCErrors: the authorize page and openid.connect.token refuse as
// Slack does, and a code is good once.
func TestOIDCErrors(t *testing.T) {
	t.Parallel()
	sim := slacksim.New(slacksim.Options{OIDC: slacksim.OIDCOptions{RedirectURIs: []string{"http://app.example/signin/callback"}}})
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell"})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	nf := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const redirect = "http://app.example/signin/callback"

	// Discovery names the simulator as issuer and its endpoints.
	var disc map[string]any
	getJSON(t, sim.Issuer()+"/.well-known/openid-configuration", &disc)
	if disc["issuer"] != sim.Issuer() || disc["token_endpoint"] != sim.Issuer()+"/api/openid.connect.token" {
		t.Errorf("discovery: %v", disc)
	}
	var keys struct{ Keys []map[string]string }
	getJSON(t, sim.Issuer()+"/openid/connect/keys", &keys)
	if len(keys.Keys) != 1 || keys.Keys[0]["alg"] != "RS256" || keys.Keys[0]["e"] != "AQAB" {
		t.Errorf("keys: %v", keys)
	}

	authorize := func(clientID, redirectURI, scope string) *http.Response {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "scope": {scope},
			"response_type": {"code"}, "state": {"st8"}, "nonce": {"n0nce"}}
		resp, err := nf.Get(sim.Issuer() + "/openid/connect/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct{ name, client, redirect, want string }{
		{"unknown client", "123.456", redirect, "invalid_client_id"},
		{"unregistered redirect", sim.ClientID(), "http://evil.example/cb", "bad_redirect_uri"},
	} {
		resp := authorize(tc.client, tc.redirect, "openid profile email")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("authorize with %s: %d, want 400 (%s)", tc.name, resp.StatusCode, tc.want)
		}
	}
	if loc := authorize(sim.ClientID(), redirect, "profile").Header.Get("Location"); !strings.Contains(loc, "error=invalid_scope") {
		t.Errorf("authorize without openid scope sent back to %q, want error=invalid_scope", loc)
	}
	loc, _ := url.Parse(authorize(sim.ClientID(), redirect, "openid profile email").Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "st8" || loc.Host != "app.example" {
		t.Fatalf("authorize sent back to %s, want the redirect URI with code and state", loc)
	}

	token := func(form url.Values) map[string]any {
		resp, err := http.PostForm(sim.Issuer()+"/api/openid.connect.token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	good := url.Values{"client_id": {sim.ClientID()}, "client_secret": {sim.ClientSecret()}, "code": {code}, "redirect_uri": {redirect}, "grant_type": {"authorization_code"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"wrong client", with("client_id", "1.2"), "invalid_client_id"},
		{"wrong secret", with("client_secret", "nope"), "bad_client_secret"},
		{"other redirect", with("redirect_uri", "http://app.example/other"), "bad_redirect_uri"},
		{"unknown code", with("code", "nope"), "invalid_code"},
	} {
		if out := token(tc.form); out["ok"] != false || out["error"] != tc.want {
			t.Errorf("token with %s: %v, want error %s", tc.name, out, tc.want)
		}
	}
	out := token(good)
	if out["ok"] != true || out["id_token"] == "" || out["token_type"] != "Bearer" {
		t.Fatalf("token: %v", out)
	}
	access, _ := out["access_token"].(string)
	if again := token(good); again["error"] != "invalid_code" {
		t.Errorf("the same code twice: %v, want invalid_code", again)
	}
	// The id_token's claims as Slack documents them.
	parts := strings.Split(out["id_token"].(string), ".")
	var claims map[string]any
	if b, err := b64decode(parts[1]); err != nil || json.Unmarshal(b, &claims) != nil {
		t.Fatalf("id_token payload %q: %v", parts[1], err)
	}
	for k, v := range map[string]any{"iss": sim.Issuer(), "sub": "U0ALICE", "aud": sim.ClientID(), "nonce": "n0nce",
		"https://slack.com/user_id": "U0ALICE", "https://slack.com/team_id": slacksim.DefaultTeamID, "name": "Alice Liddell"} {
		if claims[k] != v {
			t.Errorf("id_token claim %s = %v, want %v", k, claims[k], v)
		}
	}

	userInfo := func(tok string) map[string]any {
		req, _ := http.NewRequest("GET", sim.Issuer()+"/api/openid.connect.userInfo", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	if u := userInfo(access); u["ok"] != true || u["sub"] != "U0ALICE" || u["https://slack.com/team_id"] != slacksim.DefaultTeamID {
		t.Errorf("userInfo: %v", u)
	}
	if u := userInfo("xoxp-nope"); u["error"] != "invalid_auth" {
		t.Errorf("userInfo with a wrong token: %v, want invalid_auth", u)
	}
	if u := userInfo(""); u["error"] != "not_authed" {
		t.Errorf("userInfo without a token: %v, want not_authed", u)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", u, err, b)
	}
}

func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
