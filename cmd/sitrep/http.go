package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web"
	"github.com/sitrep/sitrep/web/alerts"
	"github.com/sitrep/sitrep/web/dashboard"
	"github.com/sitrep/sitrep/web/signin"
)

// httpServer is the running change API.
type httpServer struct {
	srv  *http.Server
	done chan struct{}
	addr string
	// stopWarm ends the dashboard's warm-up, and warmed is closed once it
	// has (nil without a dashboard).
	stopWarm context.CancelFunc
	warmed   chan struct{}
}

// startHTTP serves the change API, authorised by tokens (cfg.APITokens),
// /healthz and /metrics on cfg.HTTPAddr, within web.DefaultServerLimits.
func startHTTP(ctx context.Context, cfg config.Config, tokens []config.APIToken, store *storage.Store, a *app, log *slog.Logger) (*httpServer, error) {
	return startHTTPWithin(ctx, cfg, tokens, store, a, log, web.DefaultServerLimits())
}

// startHTTPWithin is startHTTP within limits: a test's are short, so that
// it sees slow clients cut off in well under a second.
func startHTTPWithin(ctx context.Context, cfg config.Config, tokens []config.APIToken, store *storage.Store, a *app, log *slog.Logger, limits web.ServerLimits) (*httpServer, error) {
	return startHTTPSite(ctx, cfg, tokens, store, a, log, limits, nil)
}

// startHTTPSite is startHTTPWithin that also serves the web dashboard
// behind Sign in with Slack when site is not nil, and the alert webhooks of
// the sources cfg configures, plus those of extra (the demo's).
func startHTTPSite(ctx context.Context, cfg config.Config, tokens []config.APIToken, store *storage.Store, a *app, log *slog.Logger, limits web.ServerLimits, site *siteConfig, extra ...alerts.Credentials) (*httpServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stat := func(name, help string, f func() int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) }))
	}
	stat("sitrep_envelopes_total", "Socket Mode envelopes received.", func() int64 { return a.bot.Stats().Envelopes })
	stat("sitrep_acks_total", "Socket Mode envelopes acked.", func() int64 { return a.bot.Stats().Acks })
	stat("sitrep_slack_calls_total", "Slack Web API calls, retries included.", func() int64 { return a.bot.Stats().SlackCalls })
	stat("sitrep_slack_retries_total", "Slack Web API calls that were retries.", func() int64 { return a.bot.Stats().SlackRetries })
	stat("sitrep_refusals_total", "Requests the permission model refused (each is logged with user, action and target).", func() int64 { return a.bot.Stats().Refusals })
	stat("sitrep_handler_panics_total", "Envelope handlers that panicked and were recovered (each is a bug; the log has its stack).", func() int64 { return a.bot.Stats().Panics })
	var clk clock.Clock = clock.Real{}
	if a != nil && a.clock != nil {
		clk = a.clock
	}
	webTokens := make([]web.Token, len(tokens))
	names := make([]string, len(tokens))
	for i, t := range tokens {
		webTokens[i] = web.Token{Name: t.Name, Secret: t.Secret}
		names[i] = t.Name
	}
	var wake func()
	if a != nil && a.runner != nil {
		wake = a.runner.Wake
	}
	alertHandler, alertNames, err := alertWebhooks(cfg, store, clk, wake, reg, log, extra)
	if err != nil {
		return nil, err
	}
	var handler http.Handler = web.NewHandler(web.Deps{
		Changes: incident.NewChangeLog(store, clk), Now: clk.Now, Ping: store.Ping, Tokens: webTokens,
		Alerts: alertHandler, Registry: reg, Log: log.With("component", "web"),
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("SITREP_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	if len(tokens) == 0 {
		log.Warn("no API token (SITREP_API_TOKEN or api.tokens) is set: the change API refuses calls until one is", "addr", ln.Addr().String())
	}
	var warm func(context.Context)
	if site != nil {
		handler, warm, err = serveDashboard(ctx, ln.Addr().String(), handler, store, site, log)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
	}
	s := &httpServer{srv: web.NewServer(handler, limits, log.With("component", "web")), done: make(chan struct{}), addr: ln.Addr().String()}
	if warm != nil {
		var wctx context.Context
		wctx, s.stopWarm = context.WithCancel(ctx)
		s.warmed = make(chan struct{})
		go func() {
			defer close(s.warmed)
			warm(wctx)
		}()
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "err", err)
		}
	}()
	log.Info("HTTP API listening", "addr", s.addr, "tokens", strings.Join(names, ","), "alert_sources", strings.Join(alertNames, ","))
	return s, nil
}

// alertWebhooks returns the handler of POST /api/v1/alerts/{source}: alert
// intake over store, routed by cfg's alerts section, for the sources cfg
// gives credentials to and those of extra; and the sources' names. A
// configured source whose variable is unset is an error naming it. wake,
// when not nil, is called after alerts that started a group are stored, so
// that their triage message, incident or change starts at once.
func alertWebhooks(cfg config.Config, store *storage.Store, clk clock.Clock, wake func(), reg prometheus.Registerer, log *slog.Logger, extra []alerts.Credentials) (http.Handler, []string, error) {
	settings, err := cfg.AlertSettings()
	if err != nil {
		return nil, nil, err
	}
	sources, err := cfg.AlertSources()
	if err != nil {
		return nil, nil, err
	}
	creds := slices.Clone(extra)
	for _, s := range sources {
		creds = append(creds, alerts.CredentialsFor(s.Source, s.Secrets...))
	}
	var names []string
	for _, c := range creds {
		names = append(names, string(c.Source))
	}
	h := alerts.NewHandler(alerts.Config{
		Receiver: wakingReceiver{alert.NewService(store, clk, settings), wake}, Credentials: creds,
		Registerer: reg, Log: log.With("component", "alerts"),
	})
	return h, names, nil
}

// shutdown stops the server, letting requests in flight finish.
func (s *httpServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
	if s.stopWarm != nil {
		s.stopWarm()
		<-s.warmed
	}
}

// siteConfig turns on the web dashboard, behind Sign in with Slack.
type siteConfig struct {
	// Issuer is Slack's OpenID Connect issuer (signin.SlackIssuer) or a
	// simulator's base URL.
	Issuer, ClientID, ClientSecret string
	// BaseURL is where people reach sitrep; empty is the listening
	// address over http (the demo).
	BaseURL string
	// TeamID is the app's workspace: only its people may sign in.
	TeamID   string
	MaySee   func(ctx context.Context, user string, inc *incident.Incident) bool
	Names    incident.Names
	Location *time.Location
	Currency string
	Now      func() time.Time
}

// The environment that turns the dashboard on in `sitrep run`.
const (
	envClientID     = "SLACK_CLIENT_ID"
	envClientSecret = "SLACK_CLIENT_SECRET"
	envBaseURL      = "SITREP_BASE_URL"
)

// siteFromEnv reads the dashboard's settings: nil (off) when none is set,
// an error naming the missing ones when only some are.
func siteFromEnv(getenv func(string) string) (*siteConfig, error) {
	id, secret, base := getenv(envClientID), getenv(envClientSecret), getenv(envBaseURL)
	if id == "" && secret == "" && base == "" {
		return nil, nil
	}
	var missing []string
	for _, v := range []struct{ name, v string }{{envClientID, id}, {envClientSecret, secret}, {envBaseURL, base}} {
		if v.v == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the web dashboard needs %s, %s and %s set together; %s missing (the client ID and secret are under Basic Information of the Slack app, and %s is the address people open, like https://sitrep.example.com, whose /signin/callback must be one of the app's redirect URLs)",
			envClientID, envClientSecret, envBaseURL, strings.Join(missing, " and "), envBaseURL)
	}
	return &siteConfig{Issuer: signin.SlackIssuer, ClientID: id, ClientSecret: secret, BaseURL: base}, nil
}

// issuerFor returns the OpenID Connect issuer that goes with a Slack API
// URL: Slack's own, or a simulator's base URL (SLACK_API_URL without /api/).
func issuerFor(apiURL string) string {
	if apiURL == "" {
		return signin.SlackIssuer
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return signin.SlackIssuer
	}
	return u.Scheme + "://" + u.Host
}

// serveDashboard returns api with the dashboard and sign-in beside it:
// /api/, /healthz and /metrics stay api's; every other path is the
// dashboard's.
//
// warm reads the trends of the longest window once, so that the first
// visitor after a start does not wait for the weeks to be read: the store
// keeps them, and reads again only the days that change.
func serveDashboard(ctx context.Context, addr string, api http.Handler, store *storage.Store, site *siteConfig, log *slog.Logger) (h http.Handler, warm func(context.Context), err error) {
	base := site.BaseURL
	if base == "" {
		base = "http://" + addr
	}
	auth, err := signin.New(ctx, signin.Config{
		Issuer: site.Issuer, ClientID: site.ClientID, ClientSecret: site.ClientSecret,
		BaseURL: base, TeamID: site.TeamID, Store: store,
		Secure: signin.SecureCookies(addr, base), Now: site.Now,
		Log: log.With("component", "signin"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("the web dashboard: %w", err)
	}
	clk := nowClock(site.Now)
	incidents := incident.NewService(store, clk)
	costs := incidents.CostModel()
	if site.Currency != "" {
		costs.Currency = site.Currency
	}
	incidents.SetCostModel(costs)
	postmortems := incident.NewPostmortems(store, incidents, incident.NewChangeLog(store, clk), clk)
	trends := incident.TrendReader{Store: store, Location: site.Location}
	dash, err := dashboard.New(dashboard.Deps{
		Incidents: store, Changes: store,
		Problems:    incident.NewProblems(store, incidents, clk),
		Postmortems: dashboard.PostmortemSource{Postmortems: postmortems, Incidents: incidents},
		Trends:      trends,
		MaySee:      site.MaySee, Names: site.Names, TeamID: site.TeamID,
		Now: site.Now, Location: site.Location, Currency: site.Currency,
		Log: log.With("component", "dashboard"),
	})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/metrics", api)
	auth.Routes(mux)
	dash.Routes(mux, auth.Guard)
	// Any other path asks for sign-in first: a visitor learns nothing,
	// not even which pages exist.
	mux.Handle("/", auth.Guard(http.NotFoundHandler()))
	go auth.RunPruner(ctx, time.Hour)
	log.Info("web dashboard on", "url", base+"/", "issuer", site.Issuer, "team", site.TeamID)
	warm = func(ctx context.Context) {
		start := time.Now()
		if _, err := trends.Trends(ctx, clk.Now(), incident.MaxTrendWeeks); err != nil {
			if ctx.Err() == nil {
				log.Warn("reading the dashboard's trends ahead of the first visit; the first visit reads them", "err", err)
			}
			return
		}
		log.Debug("dashboard trends read ahead", "weeks", incident.MaxTrendWeeks, "took", time.Since(start))
	}
	return mux, warm, nil
}

// nowClock is a clock.Clock reading now; nil reads the wall clock.
type nowClock func() time.Time

// Now implements clock.Clock.
func (f nowClock) Now() time.Time {
	if f == nil {
		return time.Now().UTC()
	}
	return f().UTC()
}

// wakingReceiver is alert intake that wakes the job runner when an alert
// started a group: the jobs of a new group are due at once, the runner's
// next look may be seconds away. A repeat's refresh is due later and waits.
type wakingReceiver struct {
	svc  *alert.Service
	wake func()
}

// Receive stores alerts, then wakes the runner if any started a group.
func (w wakingReceiver) Receive(ctx context.Context, in []alert.Alert) (alert.Result, error) {
	res, err := w.svc.Receive(ctx, in)
	if err == nil && w.wake != nil && slices.ContainsFunc(res.Groups, func(g alert.Received) bool { return g.New }) {
		w.wake()
	}
	return res, err
}
