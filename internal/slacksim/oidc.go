package slacksim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sign in with Slack, as Slack documents it (OpenID Connect): the
// discovery document at /.well-known/openid-configuration, the authorize
// page at /openid/connect/authorize, the Web API methods
// openid.connect.token and openid.connect.userInfo, and the signing keys at
// /openid/connect/keys. The simulator's base URL stands for
// https://slack.com, so it is the issuer.
//
// The authorize page asks no one: it signs in as the user named by its
// "user" query parameter (a simulator's extension), else the one
// SetSignInUser chose, else OIDCOptions.SignInUser, and redirects back
// with code and state at once.

// Defaults for OIDCOptions fields left zero.
const (
	DefaultClientID     = "0000000000.0000000000001"
	DefaultClientSecret = "slacksimclientsecret00000000000"
	// CodeLifetime is how long an authorization code may be exchanged
	// (Slack: 10 minutes), measured with Options.Now.
	CodeLifetime = 10 * time.Minute
	// IDTokenLifetime is how long an id_token is valid, as Slack's are.
	IDTokenLifetime = 5 * time.Minute
)

// OIDCOptions configures Sign in with Slack: the app's credentials and
// who signs in.
type OIDCOptions struct {
	// ClientID and ClientSecret are the app's credentials. Defaults
	// DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// RedirectURIs are the app's registered redirect URLs; a
	// redirect_uri must start with one of them (as Slack matches). Empty:
	// any http(s) URL is accepted.
	RedirectURIs []string
	// SignInUser is the user the authorize page signs in as when the
	// request names none. Empty: the first person (not the bot) added.
	SignInUser string
}

// oidcState is the provider's keys, codes and access tokens.
type oidcState struct {
	keyOnce sync.Once
	key     *rsa.PrivateKey
	kid     string

	mu     sync.Mutex
	user   string // SetSignInUser's choice
	codes  map[string]*oidcGrant
	tokens map[string]string // access token → user ID
}

// oidcGrant is what one authorization code stands for.
type oidcGrant struct {
	user, clientID, redirectURI, nonce string
	issued                             time.Time
	used                               bool
}

func (o OIDCOptions) withDefaults() OIDCOptions {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	return o
}

// oidcRoutes adds the OpenID Connect endpoints to mux. The two Web API
// methods get routes of their own: they take the app's credentials or a
// user's token, not the bot token serveAPI checks.
func (s *Sim) oidcRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", s.serveOIDCDiscovery)
	mux.HandleFunc("GET /openid/connect/authorize", s.serveOIDCAuthorize)
	mux.HandleFunc("GET /openid/connect/keys", s.serveOIDCKeys)
	mux.HandleFunc("/api/openid.connect.token", s.serveOIDCToken)
	mux.HandleFunc("/api/openid.connect.userInfo", s.serveOIDCUserInfo)
}

// Issuer returns the OpenID Connect issuer: the simulator's base URL,
// standing for https://slack.com. It is empty before Start.
func (s *Sim) Issuer() string { return s.baseURL }

// ClientID returns the app's client ID for Sign in with Slack.
func (s *Sim) ClientID() string { return s.opts.OIDC.ClientID }

// ClientSecret returns the app's client secret for Sign in with Slack.
func (s *Sim) ClientSecret() string { return s.opts.OIDC.ClientSecret }

// SetSignInUser makes the authorize page sign in as user from now on
// (when the request names none). Empty goes back to OIDCOptions.SignInUser.
func (s *Sim) SetSignInUser(user string) {
	s.oidc.mu.Lock()
	s.oidc.user = user
	s.oidc.mu.Unlock()
}

// SignInUser returns the user Sign in with Slack signs in as when the
// authorize request names none ("" for the default).
func (s *Sim) SignInUser() string {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	return s.oidc.user
}

// signingKey returns the RSA key id_tokens are signed with, made on first
// use.
func (s *Sim) signingKey() (*rsa.PrivateKey, string) {
	s.oidc.keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("slacksim: making an RSA key: %v", err))
		}
		s.oidc.key, s.oidc.kid = key, "slacksim-"+randomHex(4)
	})
	return s.oidc.key, s.oidc.kid
}

func (s *Sim) serveOIDCDiscovery(w http.ResponseWriter, _ *http.Request) {
	b := s.baseURL
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                b,
		"authorization_endpoint":                b + "/openid/connect/authorize",
		"token_endpoint":                        b + "/api/openid.connect.token",
		"userinfo_endpoint":                     b + "/api/openid.connect.userInfo",
		"jwks_uri":                              b + "/openid/connect/keys",
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "auth_time", "iss"},
		"claims_parameter_supported":            false,
		"request_parameter_supported":           false,
		"request_uri_parameter_supported":       true,
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
	})
}

func (s *Sim) serveOIDCKeys(w http.ResponseWriter, _ *http.Request) {
	key, kid := s.signingKey()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
}

// authorizeError answers the authorize page's refusal as Slack shows one:
// a page naming the error, since the redirect URI cannot be trusted.
func authorizeError(w http.ResponseWriter, code, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!doctype html><title>Sign in with Slack: %s</title><h1>%s</h1><p>%s</p>\n",
		code, code, html.EscapeString(detail))
}

// redirectAllowed reports whether uri is one the app registered.
func (s *Sim) redirectAllowed(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	if len(s.opts.OIDC.RedirectURIs) == 0 {
		return true
	}
	return slices.ContainsFunc(s.opts.OIDC.RedirectURIs, func(p string) bool { return strings.HasPrefix(uri, p) })
}

func (s *Sim) serveOIDCAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.OIDC.ClientID {
		authorizeError(w, "invalid_client_id", "client_id is not this app's.")
		return
	}
	redirect := q.Get("redirect_uri")
	if !s.redirectAllowed(redirect) {
		authorizeError(w, "bad_redirect_uri", "redirect_uri is not one of the app's redirect URLs.")
		return
	}
	back, _ := url.Parse(redirect)
	answer := back.Query()
	if st := q.Get("state"); st != "" {
		answer.Set("state", st)
	}
	refuse := func(code string) {
		answer.Set("error", code)
		back.RawQuery = answer.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		refuse("unsupported_response_type")
		return
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		refuse("invalid_scope")
		return
	}
	user := q.Get("user")
	s.oidc.mu.Lock()
	if user == "" {
		user = s.oidc.user
	}
	s.oidc.mu.Unlock()
	if user == "" {
		user = s.opts.OIDC.SignInUser
	}
	s.mu.Lock()
	if user == "" {
		for _, id := range s.ws.userOrder {
			if u := s.ws.users[id]; u != nil && !u.IsBot {
				user = id
				break
			}
		}
	}
	_, known := s.ws.users[user]
	s.mu.Unlock()
	if !known {
		refuse("access_denied")
		return
	}
	code := randomHex(20)
	s.oidc.mu.Lock()
	if s.oidc.codes == nil {
		s.oidc.codes = map[string]*oidcGrant{}
	}
	s.oidc.codes[code] = &oidcGrant{user: user, clientID: s.opts.OIDC.ClientID, redirectURI: redirect, nonce: q.Get("nonce"), issued: s.opts.Now()}
	s.oidc.mu.Unlock()
	answer.Set("code", code)
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// serveOIDCToken is openid.connect.token: a code for an access token and
// an id_token. The client authenticates in the form (client_secret_post)
// or with HTTP Basic (client_secret_basic).
func (s *Sim) serveOIDCToken(w http.ResponseWriter, hr *http.Request) {
	s.api.count("openid.connect.token")
	r, err := parseRequest("openid.connect.token", hr)
	if err != nil {
		writeJSON(w, http.StatusOK, fail("invalid_form_data"))
		return
	}
	id, secret := r.get("client_id"), r.get("client_secret")
	if bid, bsecret, ok := hr.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	if id == "" {
		writeJSON(w, http.StatusOK, fail("invalid_arguments"))
		return
	}
	if id != s.opts.OIDC.ClientID {
		writeJSON(w, http.StatusOK, fail("invalid_client_id"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.OIDC.ClientSecret)) != 1 {
		writeJSON(w, http.StatusOK, fail("bad_client_secret"))
		return
	}
	if gt := r.get("grant_type"); gt != "" && gt != "authorization_code" {
		writeJSON(w, http.StatusOK, fail("invalid_grant_type"))
		return
	}
	s.oidc.mu.Lock()
	g := s.oidc.codes[r.get("code")]
	switch {
	case g == nil || g.used || s.opts.Now().Sub(g.issued) > CodeLifetime:
		s.oidc.mu.Unlock()
		writeJSON(w, http.StatusOK, fail("invalid_code"))
		return
	case g.redirectURI != r.get("redirect_uri"):
		s.oidc.mu.Unlock()
		writeJSON(w, http.StatusOK, fail("bad_redirect_uri"))
		return
	}
	g.used = true
	access := "xoxp-" + randomHex(24)
	if s.oidc.tokens == nil {
		s.oidc.tokens = map[string]string{}
	}
	s.oidc.tokens[access] = g.user
	s.oidc.mu.Unlock()

	now := s.opts.Now()
	claims := s.userClaims(g.user)
	claims["iss"] = s.baseURL
	claims["aud"] = g.clientID
	claims["iat"] = now.Unix()
	claims["auth_time"] = now.Unix()
	claims["exp"] = now.Add(IDTokenLifetime).Unix()
	claims["at_hash"] = atHash(access)
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	idToken, err := s.signJWT(claims)
	if err != nil {
		writeJSON(w, http.StatusOK, fail("internal_error"))
		return
	}
	writeJSON(w, http.StatusOK, ok(response{"access_token": access, "token_type": "Bearer", "id_token": idToken}))
}

// serveOIDCUserInfo is openid.connect.userInfo: who holds this access
// token.
func (s *Sim) serveOIDCUserInfo(w http.ResponseWriter, hr *http.Request) {
	s.api.count("openid.connect.userInfo")
	r, err := parseRequest("openid.connect.userInfo", hr)
	if err != nil {
		writeJSON(w, http.StatusOK, fail("invalid_form_data"))
		return
	}
	if r.token == "" {
		writeJSON(w, http.StatusOK, fail("not_authed"))
		return
	}
	s.oidc.mu.Lock()
	user, known := s.oidc.tokens[r.token]
	s.oidc.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusOK, fail("invalid_auth"))
		return
	}
	claims := s.userClaims(user)
	claims["ok"] = true
	writeJSON(w, http.StatusOK, claims)
}

// userClaims are the claims Slack gives about a user, in id_tokens and
// userInfo alike.
func (s *Sim) userClaims(id string) map[string]any {
	s.mu.Lock()
	u := s.ws.users[id]
	var name, handle string
	if u != nil {
		name, handle = u.RealName, u.Name
	}
	s.mu.Unlock()
	if name == "" {
		name = handle
	}
	if handle == "" {
		handle = strings.ToLower(id)
	}
	given, family, _ := strings.Cut(name, " ")
	return map[string]any{
		"sub":                           id,
		"https://slack.com/user_id":     id,
		"https://slack.com/team_id":     s.opts.TeamID,
		"https://slack.com/team_name":   s.opts.TeamName,
		"https://slack.com/team_domain": s.opts.TeamDomain,
		"email":                         handle + "@" + s.opts.TeamDomain + ".example",
		"email_verified":                true,
		"name":                          name,
		"given_name":                    given,
		"family_name":                   family,
		"locale":                        "en-US",
	}
}

// signJWT signs claims as a compact JWS with RS256.
func (s *Sim) signJWT(claims map[string]any) (string, error) {
	key, kid := s.signingKey()
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + b64(sig), nil
}

// atHash is the id_token's at_hash for an RS256 access token: the left
// half of its SHA-256, base64url.
func atHash(access string) string {
	sum := sha256.Sum256([]byte(access))
	return b64(sum[:len(sum)/2])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
