package main

import (
	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/config"
)

// documentNames returns who names people in documents written from a
// shell (exports, reports): Slack, when a bot token is configured; else
// nil, and the documents name people as their timelines recorded them.
func documentNames(cfg config.Config) incident.Names {
	if cfg.Slack.BotToken == "" {
		return nil
	}
	opts := []slack.Option{slack.OptionHTTPClient(newSlackHTTPClient(defaultSlackTimeouts))}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.Slack.APIURL))
	}
	return bot.APINames(slack.New(cfg.Slack.BotToken, opts...))
}
