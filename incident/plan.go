package incident

import (
	"fmt"
	"slices"
	"time"
)

// Plan is a plan of attack: which diagnostics to collect, and how long
// diagnosis may run before service must be restored. Restore first;
// diagnose inside the timebox.
type Plan struct {
	// Diagnostics are short steps: "heap dump of one api pod".
	Diagnostics []string `json:"diagnostics,omitempty"`
	// Timebox is how long diagnosis may run, by severity.
	Timebox map[Severity]time.Duration `json:"timebox,omitempty"`
	// Restore are the steps that bring service back.
	Restore []string `json:"restore,omitempty"`
	// Runbooks link to fuller instructions.
	Runbooks []string `json:"runbooks,omitempty"`
}

// Plans holds the plan of attack of each system and the default.
type Plans struct {
	Default Plan
	Systems map[string]Plan
}

// For merges the plans of systems (the default when none has one): every
// diagnostic and restore step once, in order, and the strictest timebox of
// each severity.
func (p Plans) For(systems []string) Plan {
	var parts []Plan
	for _, s := range systems {
		if plan, ok := p.Systems[s]; ok {
			parts = append(parts, plan)
		}
	}
	if len(parts) == 0 {
		return p.Default
	}
	merged := Plan{Timebox: map[Severity]time.Duration{}}
	for _, part := range parts {
		for _, d := range part.Diagnostics {
			if !slices.Contains(merged.Diagnostics, d) {
				merged.Diagnostics = append(merged.Diagnostics, d)
			}
		}
		for _, r := range part.Restore {
			if !slices.Contains(merged.Restore, r) {
				merged.Restore = append(merged.Restore, r)
			}
		}
		for _, r := range part.Runbooks {
			if !slices.Contains(merged.Runbooks, r) {
				merged.Runbooks = append(merged.Runbooks, r)
			}
		}
		for sev, d := range part.Timebox {
			if cur, ok := merged.Timebox[sev]; !ok || d < cur {
				merged.Timebox[sev] = d
			}
		}
	}
	// A severity no system plans for takes the default's.
	for sev, d := range p.Default.Timebox {
		if _, ok := merged.Timebox[sev]; !ok {
			merged.Timebox[sev] = d
		}
	}
	return merged
}

// Limits on a plan.
const (
	MaxPlanSteps  = 20
	MaxStepLength = 200
	MaxTimebox    = 24 * time.Hour
)

// Validate checks a plan, naming the field that is wrong.
func (p Plan) Validate() error {
	for _, f := range []struct {
		name  string
		steps []string
	}{{"diagnostics", p.Diagnostics}, {"restore", p.Restore}} {
		if len(f.steps) > MaxPlanSteps {
			return &FieldError{f.name, fmt.Sprintf("%d steps; keep it to %d", len(f.steps), MaxPlanSteps)}
		}
		for i, s := range f.steps {
			if s == "" || len([]rune(s)) > MaxStepLength {
				return &FieldError{fmt.Sprintf("%s[%d]", f.name, i), fmt.Sprintf("each step is 1 to %d characters", MaxStepLength)}
			}
		}
	}
	for sev, d := range p.Timebox {
		if !sev.Valid() {
			return &FieldError{"diagnose_minutes", fmt.Sprintf("severity %d is not sev1..sev4", int(sev))}
		}
		if d <= 0 || d > MaxTimebox {
			return &FieldError{"diagnose_minutes." + sev.String(), fmt.Sprintf("%v is not between 1 minute and 24 hours", d)}
		}
	}
	return nil
}
