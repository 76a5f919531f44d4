package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/web"
)

// Credentials are what one source must send. Alertmanager, Grafana and
// generic senders send a token as "Authorization: Bearer <token>"; Splunk,
// whose webhook alert action cannot set a header, sends it in the URL
// (?token=<token>) or, through an app that can, as a bearer token;
// PagerDuty signs each body with a secret (X-PagerDuty-Signature). Several
// tokens or secrets may be valid at once, so one can be rotated without
// refusing alerts. A source with none is off: its endpoint answers 404.
// Empty strings match nothing.
type Credentials struct {
	Source alert.Source
	// Tokens are the bearer (or, for Splunk, URL) tokens accepted.
	Tokens []string
	// Secrets are PagerDuty's webhook signing secrets.
	Secrets []string
}

// CredentialsFor returns src's credentials from its secrets as
// configuration holds them, each in the field src reads: PagerDuty's are
// signing secrets, every other source's tokens.
func CredentialsFor(src alert.Source, secrets ...string) Credentials {
	if src == alert.SourcePagerDuty {
		return Credentials{Source: src, Secrets: secrets}
	}
	return Credentials{Source: src, Tokens: secrets}
}

// HeaderPagerDutySignature is the header PagerDuty signs its V3 webhooks
// in: one or more "v1=<hex of HMAC-SHA256(secret, body)>", separated by
// commas (one per signing secret while PagerDuty rotates them).
const HeaderPagerDutySignature = "X-PagerDuty-Signature"

// verifier checks one source's credentials. No answer or log holds what a
// caller sent: every comparison runs in constant time, over every token
// or secret, so timing tells neither a secret's length nor which came
// close.
type verifier struct {
	source alert.Source
	// tokens are the SHA-256 digests of the tokens: comparing digests
	// hides the tokens' lengths.
	tokens  [][sha256.Size]byte
	secrets [][]byte
}

// newVerifier returns the verifier of c, and false when c accepts nothing
// for its source.
func newVerifier(c Credentials) (*verifier, bool) {
	v := &verifier{source: c.Source}
	for _, t := range c.Tokens {
		if t != "" {
			v.tokens = append(v.tokens, sha256.Sum256([]byte(t)))
		}
	}
	for _, s := range c.Secrets {
		if s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	if c.Source == alert.SourcePagerDuty {
		return v, len(v.secrets) > 0
	}
	return v, len(v.tokens) > 0
}

// signed reports whether the source is checked on its body (PagerDuty),
// which must then be read before the check.
func (v *verifier) signed() bool { return v.source == alert.SourcePagerDuty }

// checkRequest checks a token source's request before its body is read,
// and returns "" or what is wrong, for the caller.
func (v *verifier) checkRequest(r *http.Request) string {
	if v.source == alert.SourceSplunk {
		if q := r.URL.Query(); q.Has("token") {
			if t := q.Get("token"); t == "" || !v.token(t) {
				return "the token in the URL is not one sitrep accepts for splunk: add ?token=<token> with a token of the splunk source in sitrep's configuration"
			}
			return ""
		}
		if r.Header.Get("Authorization") == "" {
			return "no token sent: add ?token=<token> to the webhook's URL, with a token of the splunk source in sitrep's configuration"
		}
	}
	secret, problem := web.Bearer(r.Header.Get("Authorization"))
	if problem == "" && !v.token(secret) {
		problem = "the token sent is not one sitrep accepts for " + string(v.source)
	}
	if problem != "" {
		return problem + ": send Authorization: Bearer <token>, with a token of the " + string(v.source) + " source in sitrep's configuration"
	}
	return ""
}

// token reports whether t is one of the tokens, comparing with each.
func (v *verifier) token(t string) bool {
	sent := sha256.Sum256([]byte(t))
	match := 0
	for i := range v.tokens {
		match |= subtle.ConstantTimeCompare(sent[:], v.tokens[i][:])
	}
	return match == 1
}

// checkSignature checks PagerDuty's signature header against body and
// returns "" or what is wrong. It accepts the body when any v1 signature
// in the header is the HMAC-SHA256 of the body with any secret.
func (v *verifier) checkSignature(header string, body []byte) string {
	if strings.TrimSpace(header) == "" {
		return "no " + HeaderPagerDutySignature + " header: sitrep accepts only signed PagerDuty V3 webhooks"
	}
	macs := make([][]byte, len(v.secrets))
	for i, s := range v.secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		macs[i] = m.Sum(nil)
	}
	match, seen := 0, 0
	for _, part := range strings.Split(header, ",") {
		hexSig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue // another version of signature
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		seen++
		for _, m := range macs {
			match |= subtle.ConstantTimeCompare(sig, m)
		}
	}
	switch {
	case seen == 0:
		return HeaderPagerDutySignature + " holds no v1=<hex> signature"
	case match != 1:
		return "no signature in " + HeaderPagerDutySignature + " matches the body with a secret sitrep holds for pagerduty: check the webhook subscription's secret in sitrep's configuration"
	}
	return ""
}
