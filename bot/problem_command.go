package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/sitrep/sitrep/incident"
)

// problemCommand is a parsed /problem request.
type problemCommand interface{ problemCommand() }

type (
	problemHelp struct{}
	problemNew  struct{ Title string }
	problemList struct{}
	problemShow struct{ ID int64 }
	// problemClose closes a problem with the fix that removed it.
	problemClose struct {
		ID  int64
		Fix string
	}
	// problemPareto ranks problems over a window (0: all time).
	problemPareto struct{ Window time.Duration }
)

func (problemHelp) problemCommand()   {}
func (problemNew) problemCommand()    {}
func (problemList) problemCommand()   {}
func (problemShow) problemCommand()   {}
func (problemClose) problemCommand()  {}
func (problemPareto) problemCommand() {}

const (
	usageProblemNew    = "/problem new <title of the cause>"
	usageProblemShow   = "/problem show PRB-n"
	usageProblemClose  = "/problem close PRB-n <the fix that removed it>"
	usageProblemPareto = "/problem pareto [30d]"
	usageLink          = "/incident link [INC-n] PRB-n (no problem: a form to pick or create one)"
	usageUnlink        = "/incident unlink [INC-n] PRB-n"
	usageCost          = "/incident cost [INC-n] (opens the customer cost form)"

	// defaultParetoWindow is the window of /problem pareto without one.
	defaultParetoWindow = 30 * 24 * time.Hour
)

// parseProblem reads the text after "/problem".
func parseProblem(text string) (problemCommand, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "", "help":
		return problemHelp{}, nil
	case "new", "open", "create":
		if rest == "" {
			return nil, &usageError{Problem: "Name the cause in a few words.", Usage: usageProblemNew}
		}
		return problemNew{Title: unquote(rest)}, nil
	case "list", "ls":
		return problemList{}, nil
	case "show":
		id, err := incident.ParseProblemRef(rest)
		if err != nil {
			return nil, &usageError{Problem: problemRefProblem(rest), Usage: usageProblemShow}
		}
		return problemShow{ID: id}, nil
	case "close", "fixed":
		ref, fix, _ := strings.Cut(rest, " ")
		id, err := incident.ParseProblemRef(ref)
		if err != nil {
			return nil, &usageError{Problem: problemRefProblem(ref), Usage: usageProblemClose}
		}
		if strings.TrimSpace(fix) == "" {
			return nil, &usageError{Problem: "Say what removed the cause, so the record shows how it was fixed.", Usage: usageProblemClose}
		}
		return problemClose{ID: id, Fix: strings.TrimSpace(fix)}, nil
	case "pareto", "rank":
		cmd := problemPareto{Window: defaultParetoWindow}
		switch strings.ToLower(rest) {
		case "":
		case "all":
			cmd.Window = 0
		default:
			d, ok, err := parseWindow(rest)
			switch {
			case !ok:
				return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a window such as 7d, 30d or all.", plainFit(rest, 40)), Usage: usageProblemPareto}
			case err != nil:
				return nil, &usageError{Problem: err.Error(), Usage: usageProblemPareto}
			}
			cmd.Window = d
		}
		return cmd, nil
	default:
		return nil, &usageError{Problem: fmt.Sprintf("`%s` is not a /problem command.", plainFit(verb, 40)), Usage: "/problem help"}
	}
}

func problemRefProblem(ref string) string {
	if ref == "" {
		return "Name the problem, e.g. `PRB-3`."
	}
	return fmt.Sprintf("`%s` is not a problem: write it as `PRB-3`.", plainFit(ref, 40))
}

// linkCommand links (or, with Unlink, unlinks) a problem to an incident;
// Problem 0 asks for the picker form.
type linkCommand struct {
	Number  int64
	Problem int64
	Unlink  bool
}

// costCommand opens the customer cost form.
type costCommand struct{ Number int64 }

func (linkCommand) incidentCommand() {}
func (costCommand) incidentCommand() {}

// parseLink reads "[INC-n] [PRB-n]" after link or unlink.
func parseLink(rest string, unlink bool) (incidentCommand, error) {
	usage := usageLink
	if unlink {
		usage = usageUnlink
	}
	number, rest := incidentRef(rest)
	if rest == "" {
		if unlink {
			return nil, &usageError{Problem: "Name the problem to unlink, e.g. `PRB-3`.", Usage: usage}
		}
		return linkCommand{Number: number}, nil
	}
	id, err := incident.ParseProblemRef(rest)
	if err != nil {
		return nil, &usageError{Problem: problemRefProblem(rest), Usage: usage}
	}
	return linkCommand{Number: number, Problem: id, Unlink: unlink}, nil
}
