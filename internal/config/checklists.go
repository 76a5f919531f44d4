package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitrep/sitrep/checklist"
)

// Checklists sets where release checklist templates come from.
type Checklists struct {
	// Dir holds the templates (*.yaml). Empty: the three that ship with
	// sitrep (web-release, before-bed, rollback).
	Dir string `yaml:"dir"`
	// IdleReminder is how long a run may sit still before one reminder in
	// its thread, e.g. "15m" (the default).
	IdleReminder string `yaml:"idle_reminder"`
}

// Templates reads the checklist templates; an error names the file and
// line at fault.
func (c *Config) Templates() (checklist.Templates, error) {
	dir := strings.TrimSpace(c.Checklists.Dir)
	if dir == "" {
		return checklist.Examples(), nil
	}
	ts, err := checklist.LoadTemplates(os.DirFS(dir), ".")
	var te *checklist.TemplateError
	if errors.As(err, &te) {
		te.File = filepath.Join(dir, te.File)
		return nil, fmt.Errorf("%s: checklists.dir: %w", c.where(), te)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: checklists.dir %q: %w", c.where(), dir, err)
	}
	return ts, nil
}

// ChecklistIdle parses IdleReminder (default 15 minutes).
func (c *Config) ChecklistIdle() (time.Duration, error) {
	v := strings.TrimSpace(c.Checklists.IdleReminder)
	if v == "" {
		return checklist.DefaultIdle, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("%s: checklists.idle_reminder %q is not a duration of a minute or more, such as 15m", c.where(), v)
	}
	return d, nil
}
