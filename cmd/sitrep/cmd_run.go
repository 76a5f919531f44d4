package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/web"
)

// runBot is `sitrep run`: connect to a Slack workspace and serve until
// SIGINT or SIGTERM, then drain in-flight work and close the database.
func runBot(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sitrep run\n\nConnects to Slack with SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see the README).")
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	started := time.Now()
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if err := cfg.Slack.CheckSlack(); err != nil {
		return fmt.Errorf("cannot connect to Slack:\n%w", err)
	}
	tokens, err := cfg.APITokens()
	if err != nil {
		return fmt.Errorf("cannot serve the change API:\n%w", err)
	}
	site, err := siteFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("cannot serve the web dashboard:\n%w", err)
	}
	log, err := newLogger(stderr, getenv)
	if err != nil {
		return err
	}
	opts := []slack.Option{slack.OptionAppLevelToken(cfg.Slack.AppToken), slack.OptionHTTPClient(newSlackHTTPClient(defaultSlackTimeouts))}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.Slack.APIURL))
		shown := cfg.Slack.APIURL
		if u, err := url.Parse(shown); err == nil {
			shown = u.Redacted() // a password in the URL is not logged
		}
		log.Info("using the Slack API at SLACK_API_URL instead of Slack's own", "url", shown)
	}
	api := slack.New(cfg.Slack.BotToken, opts...)
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("checking SLACK_BOT_TOKEN with Slack (auth.test): %w", err)
	}
	log.Info("authenticated with Slack", "team", auth.Team, "bot_user", auth.UserID)

	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	log.Info("database ready", "dialect", store.Dialect())

	a, err := newApp(cfg, store, api, clock.Real{}, log)
	if err != nil {
		return err
	}
	if site != nil {
		if err := completeSite(site, cfg, auth.TeamID, api, a); err != nil {
			return err
		}
	} else {
		log.Info("the web dashboard is off: set " + envClientID + ", " + envClientSecret + " and " + envBaseURL + " to serve it (see the README)")
	}
	srv, err := startHTTPSite(ctx, cfg, tokens, store, a, log, web.DefaultServerLimits(), site)
	if err != nil {
		return err
	}
	defer srv.shutdown()
	go func() {
		select {
		case <-a.bot.Connected():
			log.Info("sitrep is running", "instance", cfg.Instance, "start_to_connected", time.Since(started).Round(time.Millisecond))
		case <-ctx.Done():
		}
	}()
	err = a.bot.Run(ctx)
	log.Info("sitrep stopped")
	return err
}

// completeSite fills in what the dashboard reads from the running bot:
// the workspace, who may see a private incident, names, the zone and the
// currency.
func completeSite(site *siteConfig, cfg config.Config, teamID string, api *slack.Client, a *app) error {
	review, err := cfg.OpsReview()
	if err != nil {
		return err
	}
	costs, err := cfg.CostModel()
	if err != nil {
		return err
	}
	site.Issuer = issuerFor(cfg.Slack.APIURL)
	site.TeamID = teamID
	site.MaySee = a.bot.MaySee
	site.Names = bot.APINames(api)
	site.Location = review.Location
	site.Currency = costs.Currency
	site.Now = a.clock.Now
	return nil
}
