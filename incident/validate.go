package incident

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on what an incident report may hold. MaxTitle keeps "INC-n: title"
// inside a chat header; the others keep messages readable.
const (
	MaxTitle       = 120
	MaxDescription = 2000
	MaxSystems     = 10
	MaxSystemName  = 40
	// MaxReportedBy bounds the name of a reporter that is not a person
	// (OpenRequest.ReportedBy).
	MaxReportedBy = 40
)

// NormalizeTitle cleans t as CleanLine does (no control, bidi or
// zero-width characters), trims it and folds runs of white space into one
// space. Every one-line text a person writes goes through it.
func NormalizeTitle(t string) string { return strings.Join(strings.Fields(CleanLine(t)), " ") }

// NormalizeSystem lowercases a system name and checks it: a letter or digit
// first, then letters, digits, '.', '_' or '-', at most MaxSystemName long.
func NormalizeSystem(s string) (string, error) {
	n := strings.ToLower(CleanLine(s))
	if n == "" {
		return "", fmt.Errorf("a system name is empty: write systems:web,db with no spaces or empty names")
	}
	if len(n) > MaxSystemName {
		return "", fmt.Errorf("system name %q is longer than %d characters", s, MaxSystemName)
	}
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_' || r == '.')
		if !ok {
			return "", fmt.Errorf("system name %q may hold only letters a-z, digits and - _ . (and must start with a letter or digit)", s)
		}
	}
	return n, nil
}

// ParseSystems reads a comma-separated list ("web, db") into normalised,
// distinct system names, in the order given.
func ParseSystems(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(list, ",") {
		n, err := NormalizeSystem(part)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) > MaxSystems {
		return nil, fmt.Errorf("%d systems named; at most %d", len(out), MaxSystems)
	}
	return out, nil
}

// Validate normalises the request in place and returns the first problem,
// a *FieldError, or nil.
func (r *OpenRequest) Validate() error {
	if p := r.Problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems normalises the request in place and returns every field that is
// wrong, in form order (title, severity, systems, description, reporter), so
// a form can mark each one.
func (r *OpenRequest) Problems() []*FieldError {
	var out []*FieldError
	r.Title = NormalizeTitle(r.Title)
	switch n := utf8.RuneCountInString(r.Title); {
	case n == 0:
		out = append(out, &FieldError{"title", "a title is required: say in a few words what customers see, e.g. \"checkout fails for card payments\""})
	case n > MaxTitle:
		out = append(out, &FieldError{"title", fmt.Sprintf("the title is %d characters; keep it to %d and put details in the description", n, MaxTitle)})
	}
	if r.Severity == 0 {
		r.Severity = DefaultSeverity
	}
	if !r.Severity.Valid() {
		out = append(out, &FieldError{"severity", fmt.Sprintf("severity %d is not one of sev1, sev2, sev3, sev4", int(r.Severity))})
	}
	systems := make([]string, 0, len(r.Systems))
	seen := map[string]bool{}
	for _, s := range r.Systems {
		n, err := NormalizeSystem(s)
		if err != nil {
			out = append(out, &FieldError{"systems", err.Error()})
			systems = nil
			break
		}
		if !seen[n] {
			seen[n] = true
			systems = append(systems, n)
		}
	}
	if len(systems) > MaxSystems {
		out = append(out, &FieldError{"systems", fmt.Sprintf("%d systems named; at most %d", len(systems), MaxSystems)})
	}
	r.Systems = systems
	r.Description = CleanText(r.Description)
	if n := utf8.RuneCountInString(r.Description); n > MaxDescription {
		out = append(out, &FieldError{"description", fmt.Sprintf("the description is %d characters; keep it to %d", n, MaxDescription)})
	}
	r.ReportedBy = NormalizeTitle(r.ReportedBy)
	if n := utf8.RuneCountInString(r.ReportedBy); n > MaxReportedBy {
		out = append(out, &FieldError{"reporter", fmt.Sprintf("the reporter's name is %d characters; keep it to %d", n, MaxReportedBy)})
	}
	if r.Reporter == "" && r.ReportedBy == "" {
		out = append(out, &FieldError{"reporter", "the reporter is unknown"})
	}
	return out
}
