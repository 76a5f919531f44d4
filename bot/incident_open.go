package bot

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
)

// onIncidentCommand handles /incident.
func (b *Bot) onIncidentCommand(ctx context.Context, key string, cmd slack.SlashCommand) {
	parsed, err := parseIncident(cmd.Text)
	var ue *usageError
	if errors.As(err, &ue) {
		b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, ue.Problem, ue.Usage)
		return
	}
	switch c := parsed.(type) {
	case helpCommand:
		text, blocks := helpView()
		b.reply(ctx, cmd.ChannelID, cmd.UserID, text, blocks)
	case statusCommand:
		b.onStatus(ctx, cmd, c)
	case noteCommand:
		b.onNote(ctx, cmd, c)
	case timelineCommand:
		b.onTimeline(ctx, cmd, c)
	case alertsCommand:
		b.onIncidentAlerts(ctx, cmd, c)
	case severityCommand:
		b.onSeverity(ctx, cmd, c)
	case listCommand:
		b.onList(ctx, cmd)
	case closeCommand:
		b.onClose(ctx, cmd, c)
	case tdoCommand:
		b.onHandOver(ctx, cmd, c)
	case roleCommand:
		b.onRole(ctx, cmd, c)
	case onCallCommand:
		b.onOnCall(ctx, cmd)
	case changesCommand:
		b.onChanges(ctx, cmd, c)
	case timeboxCommand:
		b.onTimebox(ctx, cmd, c)
	case extendCommand:
		b.onExtend(ctx, cmd, c)
	case restoreCommand:
		b.onRestore(ctx, cmd, c)
	case linkCommand:
		b.onLink(ctx, cmd, c)
	case costCommand:
		b.onCost(ctx, cmd, c)
	case openCommand:
		if c.Modal {
			b.openIncidentModal(ctx, cmd, c.Private)
			return
		}
		b.openIncident(ctx, incident.OpenRequest{
			Title:      c.Title,
			Severity:   c.Severity,
			Systems:    c.Systems,
			Reporter:   cmd.UserID,
			ReportedIn: cmd.ChannelID,
			RequestKey: key,
			Private:    c.Private,
		})
	case privateCommand:
		b.onMakePrivate(ctx, cmd, c)
	}
}

// openIncidentModal shows the open-incident form, its private checkbox
// ticked if private.
func (b *Bot) openIncidentModal(ctx context.Context, cmd slack.SlashCommand, private bool) {
	view := openModal(cmd.ChannelID, private)
	err := b.slack.do(ctx, "views.open", func(ctx context.Context) error {
		_, err := b.api.OpenViewContext(ctx, cmd.TriggerID, view)
		return err
	})
	if err == nil {
		return
	}
	problem := b.couldNot("show the form", err, "")
	if c := slackCode(err); c == "expired_trigger_id" || c == "invalid_trigger_id" {
		problem = "The form took too long to open. Type the incident on one line instead."
	}
	b.replyUsage(ctx, cmd.ChannelID, cmd.UserID, problem, usageOpen)
}

// openIncident records the incident, then sets up its room at once through
// the durable provisioning job; if Slack is down the job finishes later.
func (b *Bot) openIncident(ctx context.Context, req incident.OpenRequest) {
	inc, created, err := b.incidents.Open(ctx, req)
	switch {
	case err != nil:
		b.replyUsage(ctx, req.ReportedIn, req.Reporter, b.couldNot("record the incident", err, "Nothing was opened"), usageOpen)
		return
	case !created:
		b.log.Info("incident already opened by this request", "incident", inc.Ref())
		return
	}
	b.log.Info("incident opened", "incident", inc.Ref(), "severity", inc.Severity.String(), "reporter", inc.ReporterID)
	b.setUpRoom(ctx, inc)
}

// openRequestFromView reads the open-incident form. problems maps each
// wrong field's block ID to what is wrong with it.
func openRequestFromView(cb slack.InteractionCallback) (incident.OpenRequest, map[string]string) {
	values := formValues(cb)
	get := func(block string) slack.BlockAction { return values[block][block] }
	req := incident.OpenRequest{
		Title:       get(blockTitle).Value,
		Description: get(blockDescription).Value,
		Reporter:    cb.User.ID,
		ReportedIn:  cb.View.PrivateMetadata,
	}
	for _, o := range get(blockPrivate).SelectedOptions {
		if o.Value == optionPrivate {
			req.Private = true
		}
	}
	problems := map[string]string{}
	if sel := get(blockSeverity).SelectedOption.Value; sel != "" {
		sev, err := incident.ParseSeverity(sel)
		if err != nil {
			problems[blockSeverity] = "Choose sev1, sev2, sev3 or sev4."
		}
		req.Severity = sev
	}
	systems, err := incident.ParseSystems(get(blockSystems).Value)
	if err != nil {
		problems[blockSystems] = capitalize(err.Error()) + "."
	}
	req.Systems = systems
	for _, p := range req.Problems() {
		if _, seen := problems[p.Field]; !seen && p.Field != "reporter" {
			problems[p.Field] = capitalize(p.Problem) + "."
		}
	}
	if len(problems) > 0 {
		return req, problems
	}
	return req, nil
}
