package bot

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/report"
)

// Header buttons and forms for the record of an incident: its customer
// cost and the problems that caused it.
const (
	actionCost        = "incident_cost"
	actionLinkProblem = "incident_link_problem"

	callbackCost = "incident_cost"
	callbackLink = "incident_link"

	blockPhone      = "cost_phone"
	blockChat       = "cost_chat"
	blockEmail      = "cost_email"
	blockCustomers  = "cost_customers"
	blockRevenue    = "cost_revenue"
	blockHours      = "cost_hours"
	blockChurn      = "cost_churn"
	blockProblem    = "problem"
	blockNewProblem = "new_problem"

	// maxTableRows bounds the problems listed in a message.
	maxTableRows = 15
)

// costField is the header field of an incident's customer cost.
func costField(inc *incident.Incident) string {
	if inc.Cost == nil {
		return "*Customer cost*\nnot entered"
	}
	return "*Customer cost*\n" + inc.Cost.Label()
}

// problemsField lists the linked problems for the header; "" for none.
func problemsField(inc *incident.Incident) string {
	if len(inc.Problems) == 0 {
		return ""
	}
	refs := make([]string, len(inc.Problems))
	for i, id := range inc.Problems {
		refs[i] = "PRB-" + strconv.FormatInt(id, 10)
	}
	return "*Problems*\n" + truncate(strings.Join(refs, ", "), 1900)
}

// problemHelpView lists the /problem forms.
func problemHelpView() (text string, blocks []slack.Block) {
	forms := strings.Join([]string{
		"A *problem* is the cause of one or more incidents; an incident is the customer impact. Rank problems by the customer cost of their incidents and remove the costliest first.",
		"`/problem new <title>` record a problem (PRB-n).",
		"`/problem list` open problems ranked by the customer cost of their incidents.",
		"`/problem show PRB-n` its incidents, their cost, its status.",
		"`/problem close PRB-n <fix>` close it with the fix that removed it.",
		"`/problem pareto [30d|all]` rank problems by cost over a window (default 30 days): the chart and the table, and the vital few that drive 80% of the cost.",
		"In an incident channel: `/incident link PRB-n` (no problem: a form to pick or create one), `/incident unlink PRB-n`, `/incident cost` (the customer cost form).",
	}, "\n")
	return "sitrep /problem commands", []slack.Block{slack.NewSectionBlock(mrkdwn("*sitrep: /problem*\n"+forms), nil, nil)}
}

// costLine writes one ranked problem: "PRB-3 title — USD 1,200 (40%, 3 incidents)".
func costLine(r incident.ParetoRow, currency string) string {
	line := fmt.Sprintf("*%s* %s — %s", r.Problem.Ref(), escapeFit(r.Problem.Title, 80), incident.FormatMoney(currency, r.Cost))
	var notes []string
	if r.Share > 0 {
		notes = append(notes, incident.Percent(r.Share))
	}
	notes = append(notes, count(r.Incidents, "incident"))
	if r.Uncosted > 0 {
		notes = append(notes, fmt.Sprintf("%d without a cost", r.Uncosted))
	}
	if r.Problem.Status == incident.ProblemClosed {
		notes = append(notes, "closed")
	}
	return line + " (" + strings.Join(notes, ", ") + ")"
}

// problemListView ranks the open problems by cost.
func problemListView(p incident.Pareto) (string, []slack.Block) {
	if len(p.Rows) == 0 {
		return "No open problems.", []slack.Block{slack.NewSectionBlock(mrkdwn("No open problems. Record one with `/problem new <title>`."), nil, nil)}
	}
	var lines []string
	for i, r := range p.Rows[:min(len(p.Rows), maxTableRows)] {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, costLine(r, p.Currency)))
	}
	if more := len(p.Rows) - maxTableRows; more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more.", more))
	}
	text := fmt.Sprintf("%d open problems, costliest first", len(p.Rows))
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate("*Open problems by customer cost*\n"+strings.Join(lines, "\n"), 3000)), nil, nil),
		slack.NewContextBlock("", mrkdwn("Cost of all their incidents; an incident with several problems is split evenly among them. `/problem pareto` for the chart.")),
	}
}

// problemView shows one problem with its incidents.
func problemView(d *incident.ProblemDetail, currency string) (string, []slack.Block) {
	p := d.Problem
	status := "Open"
	if p.Status == incident.ProblemClosed {
		status = "Closed " + slackDate(p.ClosedAt) + " by <@" + p.ClosedBy + ">. Fix: " + escapeFit(p.Fix, 500)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Status*\n" + status),
		mrkdwn("*Customer cost*\n" + incident.FormatMoney(currency, d.Cost)),
		mrkdwn("*Incidents*\n" + strconv.Itoa(len(d.Incidents))),
		mrkdwn("*Recorded*\n" + slackDate(p.CreatedAt) + " by <@" + p.CreatedBy + ">"),
	}
	var lines []string
	for _, inc := range d.Incidents[:min(len(d.Incidents), maxTableRows)] {
		cost := "no cost entered"
		if inc.Cost != nil {
			cost = inc.Cost.Label()
			if len(inc.Problems) > 1 {
				cost += fmt.Sprintf(", shared by %d problems", len(inc.Problems))
			}
		}
		lines = append(lines, fmt.Sprintf("• *%s* %s %s — %s", inc.Ref(), inc.Severity.Label(), escapeFit(inc.Title, 80), cost))
	}
	if more := len(d.Incidents) - maxTableRows; more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more.", more))
	}
	if len(lines) == 0 {
		lines = []string{"No incidents linked yet: `/incident link " + p.Ref() + "` in an incident channel."}
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(plainFit(p.Ref()+": "+p.Title, 150))),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil),
	}
	if d.Uncosted > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(":warning: %s without a customer cost: the cost shown leaves them out. `/incident cost` in their channels.", count(d.Uncosted, "incident")))))
	}
	return fmt.Sprintf("%s: %s", p.Ref(), escape(p.Title)), blocks
}

// paretoView is the table posted with the Pareto chart.
func paretoView(p incident.Pareto, title, asker string) (string, []slack.Block) {
	headline := p.Headline()
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(plainFit(title, 150))),
		slack.NewSectionBlock(mrkdwn("*"+escape(headline)+"*"), nil, nil),
	}
	var lines []string
	for i, r := range p.Rows[:min(len(p.Rows), maxTableRows)] {
		mark := ""
		if r.VitalFew {
			mark = " :red_circle:"
		}
		lines = append(lines, fmt.Sprintf("%d. %s, cumulative %s%s", i+1, costLine(r, p.Currency), incident.Percent(r.Cumulative), mark))
	}
	if more := len(p.Rows) - maxTableRows; more > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more in the chart.", more))
	}
	if len(lines) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(escapeFit(strings.Join(report.ParetoNotes(p), " "), 3000))))
	if asker != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Asked by <@"+asker+">. :red_circle: the vital few.")))
	}
	return title + ": " + headline, blocks
}

// annotationView is the room's line for a cost or problem change.
func annotationView(e incident.TimelineEntry) (string, []slack.Block) {
	icon := ":link:"
	switch e.Kind {
	case incident.EntryCost:
		icon = ":moneybag:"
	case incident.EntryUnlinked:
		icon = ":scissors:"
	}
	line := fmt.Sprintf("%s %s — <@%s>", icon, escapeFit(e.Text, 2800), e.Actor)
	return truncate(line, 3000), []slack.Block{slack.NewSectionBlock(mrkdwn(line), nil, nil)}
}

// linkModal offers the open problems and a field for a new one.
func linkModal(inc *incident.Incident, open []incident.Problem) slack.ModalViewRequest {
	var options []*slack.OptionBlockObject
	for _, p := range open {
		if slices.Contains(inc.Problems, p.ID) {
			continue
		}
		options = append(options, slack.NewOptionBlockObject(strconv.FormatInt(p.ID, 10), plain(plainFit(p.Ref()+" "+p.Title, 75)), nil))
	}
	newTitle := slack.NewPlainTextInputBlockElement(plain("Connection pool too small on db-2"), blockNewProblem)
	newTitle.MaxLength = incident.MaxProblemTitle
	blocks := []slack.Block{slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 2000)))}
	if len(options) > 0 {
		pick := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a problem"), blockProblem, options...)
		in := slack.NewInputBlock(blockProblem, plain("Existing problem"), plain("Open problems, newest first"), pick)
		in.Optional = true
		blocks = append(blocks, in)
	}
	in := slack.NewInputBlock(blockNewProblem, plain("Or a new problem"), plain("Names the cause; it becomes PRB-n"), newTitle)
	in.Optional = true
	blocks = append(blocks, in)
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackLink, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Link problem"), Submit: plain("Link"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// costModal is the customer cost form, filled with the cost entered last.
func costModal(inc *incident.Incident, m incident.CostModel) slack.ModalViewRequest {
	var in incident.CostInput
	if inc.Cost != nil {
		in = inc.Cost.Input
	}
	countInput := func(block, label, hint string, v *int) slack.Block {
		e := slack.NewPlainTextInputBlockElement(plain("0"), block)
		e.MaxLength = 9
		if v != nil {
			e.InitialValue = strconv.Itoa(*v)
		}
		b := slack.NewInputBlock(block, plain(label), plain(hint), e)
		b.Optional = true
		return b
	}
	amount := func(block, label, hint string, v *float64) slack.Block {
		e := slack.NewPlainTextInputBlockElement(plain("0"), block)
		e.MaxLength = 15
		if v != nil {
			e.InitialValue = strconv.FormatFloat(*v, 'f', -1, 64)
		}
		b := slack.NewInputBlock(block, plain(label), plain(hint), e)
		b.Optional = true
		return b
	}
	var churnOpts []*slack.OptionBlockObject
	for _, r := range incident.ChurnRisks() {
		churnOpts = append(churnOpts, slack.NewOptionBlockObject(string(r), plain(capitalize(string(r))), nil))
	}
	churn := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), blockChurn, churnOpts...)
	if in.Churn != nil {
		churn.InitialOption = slack.NewOptionBlockObject(string(*in.Churn), plain(capitalize(string(*in.Churn))), nil)
	}
	churnBlock := slack.NewInputBlock(blockChurn, plain("Churn risk"), plain("How likely customers leave over it"), churn)
	churnBlock.Optional = true
	money := func(v float64) string { return incident.FormatMoney(m.Currency, v) }
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackCost, PrivateMetadata: strconv.FormatInt(inc.ID, 10),
		Title: plain("Customer cost"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(escapeFit(inc.Ref()+": "+inc.Title, 500)+
				"\nLeave a field empty if it is not known yet: it is reported as missing, never as zero.")),
			countInput(blockPhone, "Customer contacts by phone", "Priced at "+money(m.Phone)+" each", in.PhoneContacts),
			countInput(blockChat, "Customer contacts by chat", "Priced at "+money(m.Chat)+" each", in.ChatContacts),
			countInput(blockEmail, "Customer contacts by email", "Priced at "+money(m.Email)+" each", in.EmailContacts),
			countInput(blockCustomers, "Customers affected", "Priced at "+money(m.PerCustomer)+" each", in.CustomersAffected),
			amount(blockRevenue, "Revenue lost ("+m.Currency+")", "e.g. 1250.50", in.RevenueLost),
			amount(blockHours, "Engineering hours", "Priced at "+money(m.HourlyRate)+" an hour", in.EngineeringHours),
			churnBlock,
		}},
	}
}

// costInputFromView reads the cost form; problems maps each wrong block to
// what to write instead.
func costInputFromView(state *slack.ViewState) (incident.CostInput, map[string]string) {
	var in incident.CostInput
	problems := map[string]string{}
	if state == nil {
		problems[blockPhone] = "The form came back empty; open it again."
		return in, problems
	}
	value := func(block string) string {
		return strings.TrimSpace(state.Values[block][block].Value)
	}
	for _, f := range []struct {
		block string
		dst   **int
	}{{blockPhone, &in.PhoneContacts}, {blockChat, &in.ChatContacts}, {blockEmail, &in.EmailContacts}, {blockCustomers, &in.CustomersAffected}} {
		v := value(f.block)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
		if err != nil || n < 0 {
			problems[f.block] = "Write a whole number of 0 or more, e.g. 12."
			continue
		}
		*f.dst = &n
	}
	for _, f := range []struct {
		block string
		dst   **float64
	}{{blockRevenue, &in.RevenueLost}, {blockHours, &in.EngineeringHours}} {
		v := value(f.block)
		if v == "" {
			continue
		}
		x, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
		switch {
		case err == nil && x > incident.MaxAmount, errors.Is(err, strconv.ErrRange) && x > 0:
			problems[f.block] = "That is more than the largest amount sitrep takes, " + incident.FormatMoney("", incident.MaxAmount) + ": check the digits."
			continue
		case err != nil || x < 0 || x != x:
			problems[f.block] = "Write an amount of 0 or more, e.g. 1250.50."
			continue
		}
		*f.dst = &x
	}
	if v := state.Values[blockChurn][blockChurn].SelectedOption.Value; v != "" {
		r, err := incident.ParseChurnRisk(v)
		if err != nil {
			problems[blockChurn] = "Choose none, low, medium or high."
		} else {
			in.Churn = &r
		}
	}
	if len(problems) == 0 && in.Empty() {
		problems[blockPhone] = "Fill in at least one field; 0 is a value."
	}
	return in, problems
}
