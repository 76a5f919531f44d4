package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sitrep/sitrep/incident"
)

// incidentCommand is a parsed /incident request.
type incidentCommand interface{ incidentCommand() }

// helpCommand asks for the command forms.
type helpCommand struct{}

// openCommand reports a new incident. Modal is set when no title was given:
// the reporter gets a form instead. Private opens a private incident.
type openCommand struct {
	Title    string
	Severity incident.Severity
	Systems  []string
	Modal    bool
	Private  bool
}

// statusCommand moves an incident to another status. Number 0 means the
// incident of the channel the command was typed in.
type statusCommand struct {
	Number  int64
	Status  incident.Status
	Message string
}

// noteCommand adds a note to an incident's timeline.
type noteCommand struct {
	Number int64
	Text   string
}

// severityCommand changes an incident's severity.
type severityCommand struct {
	Number   int64
	Severity incident.Severity
	Reason   string
}

// tdoCommand hands leadership of an incident to User.
type tdoCommand struct {
	Number int64
	User   string
	Reason string
}

// roleCommand gives a role to User.
type roleCommand struct {
	Number int64
	Role   incident.Role
	User   string
}

// closeCommand closes a resolved incident.
type closeCommand struct{ Number int64 }

// changesCommand lists the changes before an incident for another window
// (0: the configured one).
type changesCommand struct {
	Number int64
	Window time.Duration
}

// timeboxCommand starts or restarts the diagnosis clock; Length 0 takes
// the plan's. Reason says why a running clock starts over.
type timeboxCommand struct {
	Number int64
	Length time.Duration
	Reason string
}

// extendCommand gives diagnosis more time, with a reason.
type extendCommand struct {
	Number int64
	By     time.Duration
	Reason string
}

// restoreCommand records that restoring service began.
type restoreCommand struct{ Number int64 }

// onCallCommand shows who is on duty in each rotation.
type onCallCommand struct{}

// listCommand lists the incidents not yet resolved.
type listCommand struct{}

// timelineCommand shows an incident's timeline.
type timelineCommand struct{ Number int64 }

// privateCommand makes an incident private.
type privateCommand struct{ Number int64 }

func (helpCommand) incidentCommand()     {}
func (openCommand) incidentCommand()     {}
func (statusCommand) incidentCommand()   {}
func (noteCommand) incidentCommand()     {}
func (timelineCommand) incidentCommand() {}
func (severityCommand) incidentCommand() {}
func (listCommand) incidentCommand()     {}
func (closeCommand) incidentCommand()    {}
func (tdoCommand) incidentCommand()      {}
func (roleCommand) incidentCommand()     {}
func (onCallCommand) incidentCommand()   {}
func (changesCommand) incidentCommand()  {}
func (timeboxCommand) incidentCommand()  {}
func (extendCommand) incidentCommand()   {}
func (restoreCommand) incidentCommand()  {}
func (privateCommand) incidentCommand()  {}

// usageError is a mistake in what the user typed. Its message says what was
// wrong; Usage shows the form to write instead.
type usageError struct {
	Problem string
	Usage   string
}

func (e *usageError) Error() string { return e.Problem }

const (
	usageOpen     = "/incident open [--private] <title> [sev1|sev2|sev3|sev4] [systems:web,db]"
	usagePrivate  = "/incident private [INC-n]"
	usageStatus   = "/incident status [INC-n] <investigating|identified|monitoring|restored|resolved> [message]"
	usageNote     = "/incident note [INC-n] <text>"
	usageTimeline = "/incident timeline [INC-n]"
	usageRole     = "/incident role [INC-n] <comms|scribe> @user"
	usageTDO      = "/incident tdo [INC-n] @user [reason]"
	usageChanges  = "/incident changes [INC-n] [24h]"
	usageClose    = "/incident close [INC-n] (once resolved)"
	usageSeverity = "/incident sev [INC-n] <1-4> [reason] (a reason is needed to lower it)"
	usageTimebox  = "/incident timebox [INC-n] [30m] [reason]"
	usageExtend   = "/incident extend [INC-n] <10m> <reason>"
	usageRestore  = "/incident restore [INC-n]"
)

// mention is a user mention as Slack sends it: <@U123> or <@U123|name>.
var mention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)

// incWord is an incident reference, "INC-12".
var incWord = regexp.MustCompile(`(?i)^inc-([0-9]{1,12})$`)

// Severity-like words: "sev1", "SEV-2", "sev0", "sev12". Words such as
// "several" are title words.
var sevWord = regexp.MustCompile(`(?i)^sev-?[0-9]+$`)

// parseIncident reads the text after "/incident".
func parseIncident(text string) (incidentCommand, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	switch strings.ToLower(verb) {
	case "", "help":
		return helpCommand{}, nil
	case "open", "new", "declare":
		return parseOpen(rest)
	case "status", "st":
		return parseStatus(rest)
	case "note":
		number, text := incidentRef(rest)
		if text == "" {
			return nil, &usageError{Problem: "The note is empty: write what happened or what was decided.", Usage: usageNote}
		}
		return noteCommand{Number: number, Text: text}, nil
	case "sev", "severity":
		number, rest := incidentRef(rest)
		word, reason, _ := strings.Cut(rest, " ")
		sev, err := incident.ParseSeverity(word)
		if word == "" || err != nil {
			return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a severity: use 1 (worst), 2, 3 or 4.", plainFit(word, 40)), Usage: usageSeverity}
		}
		return severityCommand{Number: number, Severity: sev, Reason: strings.TrimSpace(reason)}, nil
	case "tdo", "lead", "handover":
		number, rest := incidentRef(rest)
		who, reason, _ := strings.Cut(rest, " ")
		m := mention.FindStringSubmatch(who)
		if m == nil {
			problem := "Name the new technical duty officer with an @mention."
			if who != "" {
				problem = fmt.Sprintf("`%s` is not a Slack mention: type @ and pick the person.", plainFit(who, 40))
			}
			return nil, &usageError{Problem: problem, Usage: usageTDO}
		}
		return tdoCommand{Number: number, User: m[1], Reason: strings.TrimSpace(reason)}, nil
	case "role":
		number, rest := incidentRef(rest)
		fields := strings.Fields(rest)
		if len(fields) != 2 {
			return nil, &usageError{Problem: "Name a role and a person: `comms @alice`.", Usage: usageRole}
		}
		role, err := incident.ParseRole(fields[0])
		if err != nil {
			return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a role: use comms (keeps customers and stakeholders told) or scribe (keeps the timeline).", plainFit(fields[0], 40)), Usage: usageRole}
		}
		m := mention.FindStringSubmatch(fields[1])
		if m == nil {
			return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a Slack mention: type @ and pick the person.", plainFit(fields[1], 40)), Usage: usageRole}
		}
		return roleCommand{Number: number, Role: role, User: m[1]}, nil
	case "close":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident close` takes no text besides an incident, e.g. `INC-12`.", Usage: usageClose}
		}
		return closeCommand{Number: number}, nil
	case "changes", "changed":
		number, rest := incidentRef(rest)
		cmd := changesCommand{Number: number}
		if rest != "" {
			d, ok, err := parseWindow(rest)
			switch {
			case !ok:
				return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a window such as 30m, 24h or 7d.", plainFit(rest, 40)), Usage: usageChanges}
			case err != nil:
				return nil, &usageError{Problem: err.Error(), Usage: usageChanges}
			}
			cmd.Window = d
		}
		return cmd, nil
	case "timebox", "clock":
		number, rest := incidentRef(rest)
		cmd := timeboxCommand{Number: number}
		if rest != "" {
			word, reason, _ := strings.Cut(rest, " ")
			d, err := parseMinutes(word)
			if err != nil {
				return nil, &usageError{Problem: err.Error(), Usage: usageTimebox}
			}
			cmd.Length, cmd.Reason = d, strings.TrimSpace(reason)
		}
		return cmd, nil
	case "extend":
		number, rest := incidentRef(rest)
		word, reason, _ := strings.Cut(rest, " ")
		if word == "" {
			return nil, &usageError{Problem: "Say how much longer diagnosis may run, and why.", Usage: usageExtend}
		}
		d, err := parseMinutes(word)
		if err != nil {
			return nil, &usageError{Problem: err.Error(), Usage: usageExtend}
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, &usageError{Problem: "An extension needs a reason: what will the extra time find out?", Usage: usageExtend}
		}
		return extendCommand{Number: number, By: d, Reason: reason}, nil
	case "restore", "restoring":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident restore` takes no text besides an incident, e.g. `INC-12`. Say what you do with `/incident note`.", Usage: usageRestore}
		}
		return restoreCommand{Number: number}, nil
	case "link":
		return parseLink(rest, false)
	case "unlink":
		return parseLink(rest, true)
	case "cost", "costs":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident cost` takes no text besides an incident, e.g. `INC-12`: it opens a form.", Usage: usageCost}
		}
		return costCommand{Number: number}, nil
	case "oncall", "on-call":
		return onCallCommand{}, nil
	case "list", "ls":
		return listCommand{}, nil
	case "private":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident private` takes no text besides an incident, e.g. `INC-12`.", Usage: usagePrivate}
		}
		return privateCommand{Number: number}, nil
	case "public":
		return nil, &usageError{
			Problem: "sitrep never makes a private incident public again: its room may hold what must not leave it. Share what is needed yourself, in your own words.",
			Usage:   "/incident help",
		}
	case "alerts", "alert":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident alerts` takes no text besides an incident, e.g. `INC-12`.", Usage: usageAlerts}
		}
		return alertsCommand{Number: number}, nil
	case "timeline":
		number, rest := incidentRef(rest)
		if rest != "" {
			return nil, &usageError{Problem: "`/incident timeline` takes no text besides an incident, e.g. `INC-12`.", Usage: usageTimeline}
		}
		return timelineCommand{Number: number}, nil
	default:
		return nil, &usageError{
			Problem: fmt.Sprintf("`%s` is not an /incident command.", plainFit(verb, 40)),
			Usage:   "/incident help",
		}
	}
}

// incidentRef takes an "INC-n" off the front of text, if there is one.
func incidentRef(text string) (number int64, rest string) {
	text = strings.TrimSpace(text)
	first, after, _ := strings.Cut(text, " ")
	if m := incWord.FindStringSubmatch(first); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n, strings.TrimSpace(after)
	}
	return 0, text
}

// parseStatus reads "[INC-n] <state> [message]".
func parseStatus(text string) (incidentCommand, error) {
	number, rest := incidentRef(text)
	word, message, _ := strings.Cut(rest, " ")
	if word == "" {
		return nil, &usageError{Problem: "Say which status: investigating, identified, monitoring, restored or resolved.", Usage: usageStatus}
	}
	status, err := incident.ParseStatus(word)
	if err != nil {
		return nil, &usageError{
			Problem: fmt.Sprintf("`%s` is not a status: use investigating, identified, monitoring, restored (service is back) or resolved (the incident is over).", plainFit(word, 40)),
			Usage:   usageStatus,
		}
	}
	return statusCommand{Number: number, Status: status, Message: strings.TrimSpace(message)}, nil
}

// parseOpen reads "[--private] <title> [sevN] [systems:a,b]"; the option,
// severity and systems words may stand anywhere, the rest is the title. A
// word that starts with "--" (or the dash Slack's clients may make of it)
// is an option, and --private is the only one.
func parseOpen(text string) (incidentCommand, error) {
	var (
		cmd         openCommand
		title       []string
		sawSev, sys bool
	)
	for _, w := range strings.Fields(text) {
		lower := strings.ToLower(w)
		if opt, ok := optionWord(lower); ok {
			switch {
			case opt != "private":
				return nil, &usageError{Problem: fmt.Sprintf("`%s` is not an option of `/incident open`: the only one is `--private`.", plainFit(w, 40)), Usage: usageOpen}
			case cmd.Private:
				return nil, &usageError{Problem: "Give `--private` once.", Usage: usageOpen}
			}
			cmd.Private = true
			continue
		}
		switch {
		case sevWord.MatchString(w):
			if sawSev {
				return nil, &usageError{Problem: "Give the severity once, e.g. `sev2`.", Usage: usageOpen}
			}
			sev, err := incident.ParseSeverity(w)
			if err != nil {
				return nil, &usageError{
					Problem: fmt.Sprintf("`%s` is not a severity: use sev1 (worst), sev2, sev3 or sev4.", plainFit(w, 40)),
					Usage:   usageOpen,
				}
			}
			cmd.Severity, sawSev = sev, true
		case strings.HasPrefix(lower, "systems:") || strings.HasPrefix(lower, "system:"):
			if sys {
				return nil, &usageError{Problem: "Name the systems once, comma-separated: `systems:web,db`.", Usage: usageOpen}
			}
			_, list, _ := strings.Cut(w, ":")
			if list == "" {
				return nil, &usageError{Problem: "`systems:` names no system: write `systems:web,db`.", Usage: usageOpen}
			}
			systems, err := incident.ParseSystems(list)
			if err != nil {
				return nil, &usageError{Problem: capitalize(err.Error()) + ".", Usage: usageOpen}
			}
			cmd.Systems, sys = systems, true
		default:
			title = append(title, w)
		}
	}
	cmd.Title = unquote(strings.Join(title, " "))
	if cmd.Title == "" {
		if sawSev || sys {
			return nil, &usageError{Problem: "A title is required: say in a few words what customers see.", Usage: usageOpen}
		}
		cmd.Modal = true
	}
	return cmd, nil
}

// optionWord reports whether w is an option, "--name" (name beginning
// with a letter), and returns the name. Slack's clients may turn "--" into
// an en or em dash as it is typed, so "—private" and "–private" are options
// too; a dash standing alone ("web – api down") is a title word.
func optionWord(w string) (string, bool) {
	for _, prefix := range []string{"--", "—", "–"} {
		if name, ok := strings.CutPrefix(w, prefix); ok && name != "" && unicode.IsLetter([]rune(name)[0]) {
			return name, true
		}
	}
	return "", false
}

// unquote strips one pair of quotes around the whole title, as people
// sometimes type them.
func unquote(s string) string {
	for _, q := range []string{`"`, `'`, "“"} {
		end := q
		if q == "“" {
			end = "”"
		}
		if len(s) >= len(q)+len(end) && strings.HasPrefix(s, q) && strings.HasSuffix(s, end) {
			return strings.TrimSpace(s[len(q) : len(s)-len(end)])
		}
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// minutesWord is a length in minutes or hours: "30", "30m", "30min",
// "1h", "1h30m".
var minutesWord = regexp.MustCompile(`^(?:([0-9]{1,2})h)?(?:([0-9]{1,4})(?:m|min|mins|minutes)?)?$`)

// parseMinutes reads a timebox or extension length, 1 minute to 24 hours.
func parseMinutes(w string) (time.Duration, error) {
	m := minutesWord.FindStringSubmatch(strings.ToLower(strings.TrimSpace(w)))
	if m == nil || m[1] == "" && m[2] == "" {
		return 0, fmt.Errorf("`%s` is not a length such as 10m, 45m or 1h30m.", plainFit(w, 40))
	}
	h, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	d := time.Duration(h)*time.Hour + minutesOf(n)
	if d < incident.MinTimebox || d > incident.MaxTimebox {
		return 0, fmt.Errorf("`%s` is not between 1 minute and 24 hours.", plainFit(w, 40))
	}
	return d, nil
}

// minutesOf is n minutes.
func minutesOf(n int) time.Duration { return time.Duration(n) * time.Minute }
