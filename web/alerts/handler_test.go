package alerts_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/web"
	"github.com/sitrep/sitrep/web/alerts"
)

// recorder is a Receiver that keeps what it was given: a fake of sitrep's
// own interface, standing in for alert.Service where the store does not
// matter. err, when set, is what Receive returns (and it keeps nothing).
type recorder struct {
	mu     sync.Mutex
	calls  [][]alert.Alert
	err    error
	nextID int64
}

func (r *recorder) Receive(_ context.Context, as []alert.Alert) (alert.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return alert.Result{}, r.err
	}
	r.calls = append(r.calls, as)
	var res alert.Result
	for range as {
		r.nextID++
		res.Groups = append(res.Groups, alert.Received{AlertID: r.nextID, GroupID: 7, New: r.nextID == 1, Action: alert.ActionTriage})
	}
	return res, nil
}

func (r *recorder) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += len(c)
	}
	return n
}

// The credentials of the tests: two tokens or secrets each, as during a
// rotation.
var creds = []alerts.Credentials{
	{Source: alert.SourceAlertmanager, Tokens: []string{"am-old", "am-new"}},
	{Source: alert.SourceGrafana, Tokens: []string{"gf-token"}},
	{Source: alert.SourceSplunk, Tokens: []string{"sp-old", "sp-new"}},
	{Source: alert.SourcePagerDuty, Secrets: []string{"pd-old", "pd-new"}},
	{Source: alert.SourceGeneric, Tokens: []string{"gen-token", ""}},
}

// tokenOf is a good credential of each token source.
var tokenOf = map[alert.Source]string{
	alert.SourceAlertmanager: "am-new", alert.SourceGrafana: "gf-token", alert.SourceSplunk: "sp-old", alert.SourceGeneric: "gen-token",
}

// server serves the handler through web's routes, as sitrep does.
type server struct {
	*httptest.Server
	rec *recorder
	reg *prometheus.Registry
}

func newServer(t *testing.T, rec alerts.Receiver, cs ...alerts.Credentials) *server {
	t.Helper()
	if cs == nil {
		cs = creds
	}
	reg := prometheus.NewRegistry()
	h := alerts.NewHandler(alerts.Config{Receiver: rec, Credentials: cs, Registerer: reg})
	srv := httptest.NewServer(web.NewHandler(web.Deps{Alerts: h, Registry: reg}))
	t.Cleanup(srv.Close)
	r, _ := rec.(*recorder)
	return &server{Server: srv, rec: r, reg: reg}
}

// answer is a response, its JSON decoded.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (s *server) post(t *testing.T, path string, body []byte, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %q", path, resp.StatusCode, raw)
	}
	return a
}

// metric reads one counter from the registry as /metrics shows it, as
// `name{label="value",...}` with the labels in name order; 0 when absent.
func (s *server) metric(t *testing.T, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

func fixture(t *testing.T, src alert.Source, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", string(src), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// authFor returns the path and headers that authenticate body for src.
func authFor(src alert.Source, body []byte) (string, []string) {
	p := "/api/v1/alerts/" + string(src)
	switch src {
	case alert.SourceSplunk:
		return p + "?token=" + tokenOf[src], nil
	case alert.SourcePagerDuty:
		return p, []string{alerts.HeaderPagerDutySignature, sign(body, "pd-new")}
	}
	return p, []string{"Authorization", "Bearer " + tokenOf[src]}
}

// TestAccepts posts every fixture of every source, authenticated as the
// source is: each is answered 202 with one group per alert, and the
// receiver has the alerts the parser reads from it.
func TestAccepts(t *testing.T) {
	for _, src := range alert.Sources() {
		files, _ := filepath.Glob(filepath.Join("testdata", string(src), "*.json"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			t.Run(string(src)+"/"+name, func(t *testing.T) {
				s := newServer(t, &recorder{})
				body := fixture(t, src, name)
				want, err := alerts.Parse(src, body)
				if err != nil {
					t.Fatal(err)
				}
				p, h := authFor(src, body)
				a := s.post(t, p, body, h...)
				if a.status != http.StatusAccepted {
					t.Fatalf("%d %v", a.status, a.body)
				}
				groups, _ := a.body["groups"].([]any)
				if a.body["accepted"] != float64(len(want)) || len(groups) != len(want) || s.rec.received() != len(want) {
					t.Fatalf("answer %v; %d alerts parsed, %d received", a.body, len(want), s.rec.received())
				}
				if len(want) == 0 {
					if !strings.Contains(a.body["ignored"].(string), "incident.annotated") {
						t.Errorf("an ignored event's answer says %v", a.body)
					}
					if got := s.metric(t, `sitrep_alert_requests_total{outcome="ignored",source="`+string(src)+`"}`); got != 1 {
						t.Errorf("ignored requests counted %v", got)
					}
					return
				}
				g := groups[0].(map[string]any)
				if g["id"] != float64(7) || g["alert_id"] != float64(1) || g["new"] != true || g["action"] != "triage" || g["storm"] != false {
					t.Errorf("first group %v", g)
				}
				if d := len(s.rec.calls[0]); d != len(want) || s.rec.calls[0][0].GroupKey != want[0].GroupKey || s.rec.calls[0][0].Source != src {
					t.Errorf("received %+v", s.rec.calls[0])
				}
				if got := s.metric(t, `sitrep_alert_requests_total{outcome="accepted",source="`+string(src)+`"}`); got != 1 {
					t.Errorf("accepted requests counted %v", got)
				}
				if got := s.metric(t, `sitrep_alerts_received_total{outcome="new",source="`+string(src)+`"}`) +
					s.metric(t, `sitrep_alerts_received_total{outcome="repeat",source="`+string(src)+`"}`); got != float64(len(want)) {
					t.Errorf("alerts counted %v, want %d", got, len(want))
				}
				if got := s.metric(t, `sitrep_http_requests_total{code="202",route="post_alerts"}`); got != 1 {
					t.Errorf("web counted the route %v times", got)
				}
			})
		}
	}
}

// TestRefuses checks every refusal: its status, that the error names what
// is wrong, that it is counted, and that the receiver got nothing.
func TestRefuses(t *testing.T) {
	am := fixture(t, alert.SourceAlertmanager, "firing")
	pd := fixture(t, alert.SourcePagerDuty, "firing")
	gen := fixture(t, alert.SourceGeneric, "firing")
	big := append(append([]byte(`{"version":"4","groupKey":"g","alerts":[],"pad":"`), bytes.Repeat([]byte("x"), alerts.MaxBody)...), '"', '}')
	const amPath = "/api/v1/alerts/alertmanager"
	for _, tc := range []struct {
		name    string
		creds   []alerts.Credentials
		path    string
		body    []byte
		header  []string
		status  int
		says    string
		field   string
		outcome string
	}{
		{name: "unknown source", path: "/api/v1/alerts/nagios", body: am, header: []string{"Authorization", "Bearer am-new"}, status: 404, says: `no alert source "nagios"`, outcome: "unknown:not_found"},
		{name: "source without credentials", creds: []alerts.Credentials{{Source: alert.SourceGrafana, Tokens: []string{""}}, {Source: alert.SourcePagerDuty, Tokens: []string{"t"}}},
			path: "/api/v1/alerts/grafana", body: am, header: []string{"Authorization", "Bearer "}, status: 404, says: "no alert source", outcome: "unknown:not_found"},
		{name: "pagerduty with tokens only", creds: []alerts.Credentials{{Source: alert.SourcePagerDuty, Tokens: []string{"t"}}},
			path: "/api/v1/alerts/pagerduty", body: pd, header: []string{"Authorization", "Bearer t"}, status: 404, says: "no alert source", outcome: "unknown:not_found"},
		{name: "no token", path: amPath, body: am, status: 401, says: "no token sent", outcome: "alertmanager:unauthorized"},
		{name: "wrong token", path: amPath, body: am, header: []string{"Authorization", "Bearer gf-token"}, status: 401, says: "not one sitrep accepts for alertmanager", outcome: "alertmanager:unauthorized"},
		{name: "basic auth", path: amPath, body: am, header: []string{"Authorization", "Basic YTpi"}, status: 401, says: "not of the Bearer scheme", outcome: "alertmanager:unauthorized"},
		{name: "token in the URL is not enough outside splunk", path: amPath + "?token=am-new", body: am, status: 401, says: "no token sent", outcome: "alertmanager:unauthorized"},
		{name: "wrong token, malformed body: 401 first", path: amPath, body: []byte(`{`), header: []string{"Authorization", "Bearer nope"}, status: 401, says: "not one", outcome: "alertmanager:unauthorized"},
		{name: "wrong token, big body: 401 first", path: amPath, body: big, header: []string{"Authorization", "Bearer nope"}, status: 401, says: "not one", outcome: "alertmanager:unauthorized"},
		{name: "splunk no token", path: "/api/v1/alerts/splunk", body: fixture(t, alert.SourceSplunk, "firing"), status: 401, says: "add ?token=", outcome: "splunk:unauthorized"},
		{name: "splunk wrong token", path: "/api/v1/alerts/splunk?token=am-new", body: fixture(t, alert.SourceSplunk, "firing"), status: 401, says: "token in the URL is not one", outcome: "splunk:unauthorized"},
		{name: "splunk empty token", path: "/api/v1/alerts/splunk?token=", body: fixture(t, alert.SourceSplunk, "firing"), status: 401, says: "token in the URL", outcome: "splunk:unauthorized"},
		{name: "pagerduty unsigned", path: "/api/v1/alerts/pagerduty", body: pd, status: 401, says: "no X-PagerDuty-Signature", outcome: "pagerduty:unauthorized"},
		{name: "pagerduty wrong secret", path: "/api/v1/alerts/pagerduty", body: pd, header: []string{alerts.HeaderPagerDutySignature, sign(pd, "pd-older")}, status: 401, says: "no signature", outcome: "pagerduty:unauthorized"},
		{name: "pagerduty signature of another body", path: "/api/v1/alerts/pagerduty", body: pd, header: []string{alerts.HeaderPagerDutySignature, sign(am, "pd-new")}, status: 401, says: "no signature", outcome: "pagerduty:unauthorized"},
		{name: "pagerduty bearer instead", path: "/api/v1/alerts/pagerduty", body: pd, header: []string{"Authorization", "Bearer pd-new"}, status: 401, says: "no X-PagerDuty-Signature", outcome: "pagerduty:unauthorized"},
		{name: "pagerduty not v1", path: "/api/v1/alerts/pagerduty", body: pd, header: []string{alerts.HeaderPagerDutySignature, strings.Replace(sign(pd, "pd-new"), "v1=", "v2=", 1)}, status: 401, says: "no v1=", outcome: "pagerduty:unauthorized"},
		{name: "too large", path: amPath, body: big, header: []string{"Authorization", "Bearer am-new"}, status: 413, says: "over 1048576 bytes", outcome: "alertmanager:too_large"},
		{name: "pagerduty too large before its signature", path: "/api/v1/alerts/pagerduty", body: big, status: 413, says: "over", outcome: "pagerduty:too_large"},
		{name: "malformed", path: amPath, body: []byte(`{"version":"4","groupKey":"g","alerts":[{"status":"firing"},{"status":"firing","labels":[]}]}`), header: []string{"Authorization", "Bearer am-old"},
			status: 400, says: "alerts[1].labels: must be an object, not an array", field: "alerts[1].labels", outcome: "alertmanager:malformed"},
		{name: "wrong version", path: amPath, body: bytes.Replace(am, []byte(`"version": "4"`), []byte(`"version": "5"`), 1), header: []string{"Authorization", "Bearer am-old"},
			status: 400, says: `version: must be "4"`, field: "version", outcome: "alertmanager:malformed"},
		{name: "generic unknown field", path: "/api/v1/alerts/generic", body: bytes.Replace(gen, []byte(`"severity"`), []byte(`"priority"`), 1), header: []string{"Authorization", "Bearer gen-token"},
			status: 400, says: "not a field sitrep reads", field: "priority", outcome: "generic:malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, &recorder{}, tc.creds...)
			a := s.post(t, tc.path, tc.body, tc.header...)
			msg, _ := a.body["error"].(string)
			if a.status != tc.status || !strings.Contains(msg, tc.says) {
				t.Fatalf("%d %v; want %d saying %q", a.status, a.body, tc.status, tc.says)
			}
			if f, _ := a.body["field"].(string); f != tc.field {
				t.Errorf("field %q, want %q", f, tc.field)
			}
			if s.rec.received() != 0 {
				t.Errorf("the receiver got %d alerts of a refused request", s.rec.received())
			}
			for _, secret := range []string{"am-new", "am-old", "pd-new", "pd-old", "sp-old", "gen-token", "nope"} {
				if strings.Contains(msg, secret) {
					t.Errorf("the answer holds a credential: %q", msg)
				}
			}
			if tc.status == 401 && a.header.Get("WWW-Authenticate") == "" && !strings.Contains(tc.path, "pagerduty") {
				t.Errorf("401 without WWW-Authenticate")
			}
			src, outcome, _ := strings.Cut(tc.outcome, ":")
			if got := s.metric(t, `sitrep_alert_requests_total{outcome="`+outcome+`",source="`+src+`"}`); got != 1 {
				t.Errorf("%s counted %v times", tc.outcome, got)
			}
		})
	}
}

// TestRotation checks that every configured token or secret is accepted:
// the old and the new one while a secret is rotated.
func TestRotation(t *testing.T) {
	s := newServer(t, &recorder{})
	am := fixture(t, alert.SourceAlertmanager, "firing")
	for _, tok := range []string{"am-old", "am-new"} {
		if a := s.post(t, "/api/v1/alerts/alertmanager", am, "Authorization", "bearer "+tok); a.status != 202 {
			t.Errorf("token %s: %d %v", tok, a.status, a.body)
		}
	}
	sp := fixture(t, alert.SourceSplunk, "firing")
	for _, p := range []string{"?token=sp-old", "?token=sp-new"} {
		if a := s.post(t, "/api/v1/alerts/splunk"+p, sp); a.status != 202 {
			t.Errorf("splunk %s: %d %v", p, a.status, a.body)
		}
	}
	// Through an app that can set headers, Splunk may send a bearer token.
	if a := s.post(t, "/api/v1/alerts/splunk", sp, "Authorization", "Bearer sp-new"); a.status != 202 {
		t.Errorf("splunk bearer: %d %v", a.status, a.body)
	}
	pd := fixture(t, alert.SourcePagerDuty, "firing")
	for _, tc := range []struct {
		name, header string
		status       int
	}{
		{"old secret alone", sign(pd, "pd-old"), 202},
		{"new secret alone", sign(pd, "pd-new"), 202},
		{"both, as PagerDuty sends them while rotating", sign(pd, "pd-new") + "," + sign(pd, "pd-old"), 202},
		{"a secret sitrep does not hold, then a good one, spaced", sign(pd, "pd-gone") + ", " + sign(pd, "pd-old"), 202},
		{"uppercase hex", strings.ToUpper(strings.TrimPrefix(sign(pd, "pd-new"), "v1=")), 401},
		{"uppercase hex with its version", "v1=" + strings.ToUpper(strings.TrimPrefix(sign(pd, "pd-new"), "v1=")), 202},
		{"two secrets sitrep does not hold", sign(pd, "a") + "," + sign(pd, "b"), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if a := s.post(t, "/api/v1/alerts/pagerduty", pd, alerts.HeaderPagerDutySignature, tc.header); a.status != tc.status {
				t.Errorf("%d %v, want %d", a.status, a.body, tc.status)
			}
		})
	}
	// One secret configured alone accepts its own and refuses the other.
	one := newServer(t, &recorder{}, alerts.Credentials{Source: alert.SourcePagerDuty, Secrets: []string{"pd-new"}})
	if a := one.post(t, "/api/v1/alerts/pagerduty", pd, alerts.HeaderPagerDutySignature, sign(pd, "pd-old")); a.status != 401 {
		t.Errorf("a secret no longer configured: %d", a.status)
	}
}

// TestStoreFails checks that a receiver's failure is a 503 with
// Retry-After, saying nothing was stored, with the request's ID and
// without the cause's words.
func TestStoreFails(t *testing.T) {
	s := newServer(t, &recorder{err: errors.New("pq: connection refused at 10.0.0.5")})
	body := fixture(t, alert.SourceGeneric, "repeated")
	a := s.post(t, "/api/v1/alerts/generic", body, "Authorization", "Bearer gen-token")
	msg, _ := a.body["error"].(string)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "5" || !strings.Contains(msg, "nothing was stored") ||
		strings.Contains(msg, "10.0.0.5") || a.body["request_id"] == "" || a.body["request_id"] != a.header.Get(web.RequestIDHeader) {
		t.Fatalf("%d %v %v", a.status, a.header, a.body)
	}
	if got := s.metric(t, `sitrep_alert_requests_total{outcome="unavailable",source="generic"}`); got != 1 {
		t.Errorf("counted %v", got)
	}
}

// countingBody counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadsBounded checks that a body of unknown length is read no further
// than MaxBody+1 bytes, and a body is not read at all when the token is
// wrong.
func TestReadsBounded(t *testing.T) {
	h := alerts.NewHandler(alerts.Config{Receiver: &recorder{}, Credentials: creds})
	for _, tc := range []struct {
		name   string
		auth   string
		status int
		most   int
	}{
		{"good token", "Bearer am-new", 413, alerts.MaxBody + 1 + 512},
		{"wrong token", "Bearer x", 401, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingBody{r: io.MultiReader(strings.NewReader(`{"version":"4","pad":"`), bytes.NewReader(make([]byte, 4*alerts.MaxBody)))}
			req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", body)
			req.ContentLength = -1
			req.Header.Set("Authorization", tc.auth)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || body.n > tc.most {
				t.Errorf("%d after reading %d bytes; want %d after at most %d", rec.Code, body.n, tc.status, tc.most)
			}
		})
	}
}

// TestNoRouteWithoutHandler checks that web serves no alert route when
// alert intake is off.
func TestNoRouteWithoutHandler(t *testing.T) {
	srv := httptest.NewServer(web.NewHandler(web.Deps{}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v1/alerts/generic", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("%d", resp.StatusCode)
	}
}

// TestReceiverRefuses checks that an alert the domain refuses
// (alert.ErrInvalid) is a 400 in the domain's words, not a 503 the sender
// would retry for ever.
func TestReceiverRefuses(t *testing.T) {
	s := newServer(t, &recorder{err: fmt.Errorf("alert 2: no group key: %w", alert.ErrInvalid)})
	a := s.post(t, "/api/v1/alerts/generic", fixture(t, alert.SourceGeneric, "repeated"), "Authorization", "Bearer gen-token")
	if msg, _ := a.body["error"].(string); a.status != http.StatusBadRequest || !strings.Contains(msg, "alert 2: no group key") || a.header.Get("Retry-After") != "" {
		t.Fatalf("%d %v", a.status, a.body)
	}
}

// TestCredentialsFor checks that configuration's secrets land where each
// source reads them, and that a signature header sent as two lines counts
// as one list.
func TestCredentialsFor(t *testing.T) {
	var cs []alerts.Credentials
	for _, src := range alert.Sources() {
		secret := map[alert.Source]string{alert.SourceAlertmanager: "am-new", alert.SourceGrafana: "gf-token", alert.SourceSplunk: "sp-old",
			alert.SourcePagerDuty: "pd-new", alert.SourceGeneric: "gen-token"}[src]
		cs = append(cs, alerts.CredentialsFor(src, "unused", secret))
	}
	s := newServer(t, &recorder{}, cs...)
	for _, src := range alert.Sources() {
		body := fixture(t, src, "firing")
		p, h := authFor(src, body)
		if a := s.post(t, p, body, h...); a.status != http.StatusAccepted {
			t.Errorf("%s: %d %v", src, a.status, a.body)
		}
	}
	pd := fixture(t, alert.SourcePagerDuty, "firing")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/alerts/pagerduty", bytes.NewReader(pd))
	req.Header.Add(alerts.HeaderPagerDutySignature, sign(pd, "gone"))
	req.Header.Add(alerts.HeaderPagerDutySignature, sign(pd, "pd-new"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("signatures on two header lines: %d", resp.StatusCode)
	}
}
