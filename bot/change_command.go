package bot

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// changeCommand is a parsed /change request.
type changeCommand interface{ changeCommand() }

// logChange logs one change typed on one line.
type logChange struct {
	Systems []string
	Summary string
	Reason  string
	Link    string
}

// listChanges lists recent changes.
type listChanges struct {
	Systems []string
	Window  time.Duration
}

// changeForm asks for the change form; changeHelp for the forms.
type (
	changeForm struct{}
	changeHelp struct{}
)

func (logChange) changeCommand()   {}
func (listChanges) changeCommand() {}
func (changeForm) changeCommand()  {}
func (changeHelp) changeCommand()  {}

const (
	usageChange     = "/change <system>: <what was done> [because <reason>]"
	usageChangeList = "/change list [system] [24h]"
	// defaultChangeWindow is how far back /change list looks by default.
	defaultChangeWindow = 24 * time.Hour
	// maxChangeWindow bounds how far back /change list looks.
	maxChangeWindow = 90 * 24 * time.Hour
)

var (
	because = regexp.MustCompile(`(?i)\s+because\s+`)
	// urlWord is a link as Slack sends it (<https://…> or <https://…|label>)
	// or as typed into a form.
	urlWord = regexp.MustCompile(`^<?(https?://[^\s<>|]+)(?:\|[^<>]*)?>?$`)
	window  = regexp.MustCompile(`^(\d{1,4})([mhd])$`)
)

// parseChange reads the text after "/change".
func parseChange(text string) (changeCommand, error) {
	text = strings.TrimSpace(text)
	verb, rest, _ := strings.Cut(text, " ")
	switch strings.ToLower(verb) {
	case "":
		return changeForm{}, nil
	case "help":
		return changeHelp{}, nil
	case "list", "ls":
		return parseChangeList(rest)
	}
	head, what, ok := strings.Cut(text, ":")
	if !ok {
		return nil, &usageError{Problem: "Start with the system and a colon, e.g. `web: raised the pool to 50`.", Usage: usageChange}
	}
	if strings.ContainsAny(head, " \t") && !strings.Contains(head, ",") {
		return nil, &usageError{Problem: systemWithSpace(head), Usage: usageChange}
	}
	systems, err := incident.ParseSystems(strings.ReplaceAll(head, " ", ""))
	if err != nil || len(systems) == 0 {
		problem := "Name the system before the colon, e.g. `web:`."
		if err != nil {
			problem = capitalize(err.Error()) + "."
		}
		return nil, &usageError{Problem: problem, Usage: usageChange}
	}
	cmd := logChange{Systems: systems}
	// A link anywhere in the text becomes the change's link.
	var words []string
	for _, w := range strings.Fields(what) {
		if m := urlWord.FindStringSubmatch(w); cmd.Link == "" && m != nil {
			cmd.Link = m[1]
			continue
		}
		words = append(words, w)
	}
	what = strings.Join(words, " ")
	if loc := because.FindStringIndex(" " + what); loc != nil {
		cmd.Summary = strings.TrimSpace((" " + what)[:loc[0]])
		cmd.Reason = strings.TrimSpace((" " + what)[loc[1]:])
	} else {
		cmd.Summary = strings.TrimSpace(what)
	}
	if cmd.Summary == "" {
		return nil, &usageError{Problem: "Say what was done after the colon.", Usage: usageChange}
	}
	return cmd, nil
}

// parseChangeList reads "[system[,system]] [window]" in either order.
func parseChangeList(text string) (changeCommand, error) {
	cmd := listChanges{Window: defaultChangeWindow}
	for _, w := range strings.Fields(text) {
		if d, ok, err := parseWindow(w); ok {
			if err != nil {
				return nil, &usageError{Problem: err.Error(), Usage: usageChangeList}
			}
			cmd.Window = d
			continue
		}
		systems, err := incident.ParseSystems(w)
		if err != nil {
			return nil, &usageError{Problem: fmt.Sprintf("`%s` is neither a system nor a window such as 24h or 7d.", plainFit(w, 40)), Usage: usageChangeList}
		}
		cmd.Systems = append(cmd.Systems, systems...)
	}
	return cmd, nil
}

// parseWindow reads a look-back window: "30m", "24h", "7d". ok is false
// when w is not written as a window at all; err when it is out of range.
func parseWindow(w string) (d time.Duration, ok bool, err error) {
	m := window.FindStringSubmatch(strings.ToLower(w))
	if m == nil {
		return 0, false, nil
	}
	n, _ := strconv.Atoi(m[1])
	d = time.Duration(n) * map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if d <= 0 || d > maxChangeWindow {
		return 0, true, errors.New("Look back between 1m and 90d.")
	}
	return d, true, nil
}

// systemWithSpace explains that head, the text before the colon, is not a
// system name because it holds spaces, and suggests one that is: either
// the system was written in words ("Web Server"), or the colon came
// after more than the system ("web restarted: ok").
func systemWithSpace(head string) string {
	words := strings.Fields(strings.ToLower(head))
	suggest := strings.Join(words, "-")
	if _, err := incident.NormalizeSystem(suggest); err != nil || len(words) > 3 {
		return fmt.Sprintf("`%s` is not a system name: a system name is one word of letters a-z, digits and - _ . with no spaces, "+
			"written before the colon, e.g. `web: raised the pool to 50` (several: `web,db:`).", plainFit(head, 40))
	}
	return fmt.Sprintf("`%s` is not a system name: a system name is one word of letters a-z, digits and - _ . with no spaces. "+
		"Write `%s:` (several: `%s,db:`).", plainFit(head, 40), suggest, suggest)
}
