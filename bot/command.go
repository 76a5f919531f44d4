package bot

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sitrep/sitrep/incident"
)

// incidentCommand is a parsed /incident request.
type incidentCommand interface{ incidentCommand() }

// helpCommand asks for the command forms.
type helpCommand struct{}

// openCommand reports a new incident. Modal is set when no title was given:
// the reporter gets a form instead.
type openCommand struct {
	Title    string
	Severity incident.Severity
	Systems  []string
	Modal    bool
}

func (helpCommand) incidentCommand() {}
func (openCommand) incidentCommand() {}

// usageError is a mistake in what the user typed. Its message says what was
// wrong; Usage shows the form to write instead.
type usageError struct {
	Problem string
	Usage   string
}

func (e *usageError) Error() string { return e.Problem }

const usageOpen = "/incident open <title> [sev1|sev2|sev3|sev4] [systems:web,db]"

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
	default:
		return nil, &usageError{
			Problem: fmt.Sprintf("`%s` is not an /incident command.", truncate(verb, 40)),
			Usage:   "/incident help",
		}
	}
}

// parseOpen reads "<title> [sevN] [systems:a,b]"; the severity and systems
// words may stand anywhere, the rest is the title.
func parseOpen(text string) (incidentCommand, error) {
	var (
		cmd         openCommand
		title       []string
		sawSev, sys bool
	)
	for _, w := range strings.Fields(text) {
		lower := strings.ToLower(w)
		switch {
		case sevWord.MatchString(w):
			if sawSev {
				return nil, &usageError{Problem: "Give the severity once, e.g. `sev2`.", Usage: usageOpen}
			}
			sev, err := incident.ParseSeverity(w)
			if err != nil {
				return nil, &usageError{
					Problem: fmt.Sprintf("`%s` is not a severity: use sev1 (worst), sev2, sev3 or sev4.", w),
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
