package bot

import (
	"fmt"
	"strings"
	"time"
)

// postmortemCommand is a parsed /postmortem request. Number 0 means the
// incident of the channel the command was typed in.
type postmortemCommand interface{ postmortemCommand() }

type (
	pmHelp  struct{}
	pmStart struct{ Number int64 }
	pmNext  struct{ Number int64 }
	// pmFacilitator hands facilitation to User.
	pmFacilitator struct {
		Number int64
		User   string
	}
	// pmEntry adds a timeline entry at At (zero: a form).
	pmEntry struct {
		Number int64
		At     string
		Text   string
	}
	// pmIssue raises an issue.
	pmIssue struct {
		Number int64
		Text   string
	}
	pmAction  struct{ Number int64 }
	pmActions struct{}
	pmExport  struct{ Number int64 }
)

func (pmHelp) postmortemCommand()        {}
func (pmStart) postmortemCommand()       {}
func (pmNext) postmortemCommand()        {}
func (pmFacilitator) postmortemCommand() {}
func (pmEntry) postmortemCommand()       {}
func (pmIssue) postmortemCommand()       {}
func (pmAction) postmortemCommand()      {}
func (pmActions) postmortemCommand()     {}
func (pmExport) postmortemCommand()      {}

const (
	usagePMStart       = "/postmortem start [INC-n] (once service is restored)"
	usagePMFacilitator = "/postmortem facilitator [INC-n] @user (the facilitator, the TDO or a commander)"
	usagePMNext        = "/postmortem next [INC-n] (the facilitator, the TDO or a commander closes the phase)"
	usagePMEntry       = "/postmortem entry [INC-n] <14:05 | 2026-11-24 14:05> <what happened> (no text: a form)"
	usagePMIssue       = "/postmortem issue [INC-n] <what went wrong or could go better>"
	usagePMAction      = "/postmortem action [INC-n] (opens the action form)"
	usagePMExport      = "/postmortem export [INC-n]"
)

// parsePostmortem reads the text after "/postmortem".
func parsePostmortem(text string) (postmortemCommand, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	number, rest := incidentRef(rest)
	bare := func(cmd postmortemCommand, usage string) (postmortemCommand, error) {
		if rest != "" {
			return nil, &usageError{Problem: fmt.Sprintf("`/postmortem %s` takes no text besides an incident, e.g. `INC-12`.", strings.ToLower(verb)), Usage: usage}
		}
		return cmd, nil
	}
	switch strings.ToLower(verb) {
	case "", "help":
		return pmHelp{}, nil
	case "start":
		return bare(pmStart{Number: number}, usagePMStart)
	case "next", "done":
		return bare(pmNext{Number: number}, usagePMNext)
	case "facilitator", "facilitate":
		m := mention.FindStringSubmatch(rest)
		if m == nil {
			problem := "Name the new facilitator with an @mention."
			if rest != "" {
				problem = fmt.Sprintf("`%s` is not a Slack mention: type @ and pick the person.", plainFit(rest, 40))
			}
			return nil, &usageError{Problem: problem, Usage: usagePMFacilitator}
		}
		return pmFacilitator{Number: number, User: m[1]}, nil
	case "entry", "add":
		if rest == "" {
			return pmEntry{Number: number}, nil
		}
		at, text := splitEntryTime(rest)
		if at == "" {
			return nil, &usageError{Problem: "Start with the time it happened, e.g. `14:05` or `2026-11-24 14:05`.", Usage: usagePMEntry}
		}
		if text == "" {
			return nil, &usageError{Problem: "Say what happened at " + at + ".", Usage: usagePMEntry}
		}
		return pmEntry{Number: number, At: at, Text: text}, nil
	case "issue":
		if rest == "" {
			return nil, &usageError{Problem: "Say what went wrong or could go better.", Usage: usagePMIssue}
		}
		return pmIssue{Number: number, Text: rest}, nil
	case "action":
		return bare(pmAction{Number: number}, usagePMAction)
	case "actions", "mine":
		return pmActions{}, nil
	case "export":
		return bare(pmExport{Number: number}, usagePMExport)
	default:
		return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a /postmortem command.", plainFit(verb, 40)), Usage: "/postmortem help"}
	}
}

// splitEntryTime takes "14:05" or "2026-11-24 14:05" off the front of text.
func splitEntryTime(text string) (at, rest string) {
	first, after, _ := strings.Cut(text, " ")
	if _, err := time.Parse("15:04", first); err == nil {
		return first, strings.TrimSpace(after)
	}
	if _, err := time.Parse("2006-01-02", first); err == nil {
		clock, more, _ := strings.Cut(strings.TrimSpace(after), " ")
		if _, err := time.Parse("15:04", clock); err == nil {
			return first + " " + clock, strings.TrimSpace(more)
		}
	}
	return "", text
}

// parseEntryTime reads an entry time in loc: "2026-11-24 14:05", or
// "14:05" on the day of day.
func parseEntryTime(s string, day time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation("2006-01-02 15:04", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", s, loc); err == nil {
		d := day.In(loc)
		return time.Date(d.Year(), d.Month(), d.Day(), t.Hour(), t.Minute(), 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("`%s` is not a time: write 14:05 (the day the incident opened) or 2026-11-24 14:05", plainFit(s, 40))
}
