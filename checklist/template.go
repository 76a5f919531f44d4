// Package checklist runs release checklists: a few key steps, strictly
// followed, each ticked by a named person at a recorded time. It holds the
// templates (read from YAML), the runs and the use cases that change them
// (Service). It knows nothing of Slack or SQL: it defines the Store it
// needs, and storage satisfies it.
package checklist

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep/sitrep/incident"
)

// Step is one step of a checklist.
type Step struct {
	Text string `yaml:"text" json:"text"`
	// Critical steps must be ticked; the others may be skipped with a reason.
	Critical bool `yaml:"critical" json:"critical,omitempty"`
	// Help links to how to do it.
	Help string `yaml:"help" json:"help,omitempty"`
}

// Template is a checklist as written: its steps and, if it releases a
// system, which (a completed run goes into the change log).
type Template struct {
	Name   string `yaml:"name"`
	Title  string `yaml:"title"`
	System string `yaml:"system"`
	Steps  []Step `yaml:"steps"`
	// File is where it was read from.
	File string `yaml:"-"`
}

// Limits of a template. A step is short enough to read at 2am, and to fit
// a Slack checkbox (75 characters).
const (
	MaxSteps    = 60
	MaxStepText = 70
	MaxTitle    = 100
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// TemplateError is a template refused, with the file and line at fault.
type TemplateError struct {
	File    string
	Line    int
	Problem string
}

func (e *TemplateError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem) }

// ParseTemplate reads and checks one template file. Errors are
// *TemplateError, naming the file and line.
func ParseTemplate(file string, data []byte) (Template, error) {
	fail := func(line int, format string, args ...any) (Template, error) {
		return Template{}, &TemplateError{File: file, Line: line, Problem: fmt.Sprintf(format, args...)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fail(yamlLine(err), "not valid YAML: %v", err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return fail(1, "a template is a mapping with name, title, system and steps")
	}
	doc := root.Content[0]
	var t Template
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
			if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
				msg = rest
			}
		}
		return fail(yamlLine(err), "%s", msg)
	}
	t.File = file
	line := func(key string) int {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == key {
				return doc.Content[i].Line
			}
		}
		return doc.Line
	}
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.Name == "":
		return fail(doc.Line, "the template has no name: add `name: web-release`")
	case !namePattern.MatchString(t.Name):
		return fail(line("name"), "name %q: use lowercase letters, digits and -, at most 40", t.Name)
	}
	t.Title = incident.NormalizeTitle(t.Title)
	if t.Title == "" {
		t.Title = t.Name
	}
	if n := utf8.RuneCountInString(t.Title); n > MaxTitle {
		return fail(line("title"), "the title is %d characters; keep it to %d", n, MaxTitle)
	}
	if t.System != "" {
		sys, err := incident.NormalizeSystem(t.System)
		if err != nil {
			return fail(line("system"), "system: %v", err)
		}
		t.System = sys
	}
	var stepNodes []*yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "steps" {
			stepNodes = doc.Content[i+1].Content
		}
	}
	switch {
	case len(t.Steps) == 0:
		return fail(line("steps"), "the template has no steps")
	case len(t.Steps) > MaxSteps:
		return fail(line("steps"), "%d steps; keep it to %d", len(t.Steps), MaxSteps)
	}
	seen := map[string]int{}
	for i := range t.Steps {
		s := &t.Steps[i]
		at := line("steps")
		if i < len(stepNodes) {
			at = stepNodes[i].Line
		}
		s.Text = incident.NormalizeTitle(s.Text)
		switch n := utf8.RuneCountInString(s.Text); {
		case n == 0:
			return fail(at, "step %d is empty: write what to do", i+1)
		case n > MaxStepText:
			return fail(at, "step %d is %d characters; keep it to %d (put details behind a help link)", i+1, n, MaxStepText)
		}
		key := strings.ToLower(s.Text)
		if first, dup := seen[key]; dup {
			return fail(at, "step %d repeats step %d (%q)", i+1, first, s.Text)
		}
		seen[key] = i + 1
		if s.Help != "" {
			u, err := url.Parse(s.Help)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fail(at, "step %d: help %q is not an http(s) URL", i+1, s.Help)
			}
		}
	}
	return t, nil
}

// yamlLine digs the line number out of a YAML error, 1 if it has none.
func yamlLine(err error) int {
	var n int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &n)
	}
	return max(n, 1)
}

// Templates is a set of templates by name.
type Templates map[string]Template

// Names returns the template names, sorted.
func (ts Templates) Names() []string {
	out := make([]string, 0, len(ts))
	for n := range ts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LoadTemplates reads every *.yaml and *.yml file in dir of fsys. Two
// templates with one name are refused, naming both files.
func LoadTemplates(fsys fs.FS, dir string) (Templates, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading checklist templates: %w", err)
	}
	out := Templates{}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		t, err := ParseTemplate(file, data)
		if err != nil {
			return nil, err
		}
		if other, dup := out[t.Name]; dup {
			return nil, &TemplateError{File: file, Line: 1, Problem: fmt.Sprintf("name %q is taken by %s", t.Name, other.File)}
		}
		out[t.Name] = t
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no checklist templates (*.yaml) in %s", dir)
	}
	return out, nil
}

//go:embed examples/*.yaml
var examples embed.FS

// Examples returns the templates that ship with sitrep: a web release,
// "before you go to bed" verification and a rollback.
func Examples() Templates {
	t, err := LoadTemplates(examples, "examples")
	if err != nil {
		panic("checklist: shipped examples are invalid: " + err.Error())
	}
	return t
}
