package incident

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlansFor(t *testing.T) {
	t.Parallel()
	plans := Plans{
		Default: Plan{Diagnostics: []string{"grab logs"}, Timebox: map[Severity]time.Duration{Sev1: 15 * time.Minute, Sev3: time.Hour}},
		Systems: map[string]Plan{
			"db":  {Diagnostics: []string{"copy slow-query log", "grab logs"}, Restore: []string{"fail over"}, Timebox: map[Severity]time.Duration{Sev1: 10 * time.Minute, Sev2: 20 * time.Minute}},
			"api": {Diagnostics: []string{"heap dump of one pod"}, Restore: []string{"roll back", "fail over"}, Runbooks: []string{"https://run/api"}, Timebox: map[Severity]time.Duration{Sev1: 5 * time.Minute, Sev2: 30 * time.Minute}},
		},
	}
	got := plans.For([]string{"db", "web", "api"})
	want := Plan{
		Diagnostics: []string{"copy slow-query log", "grab logs", "heap dump of one pod"},
		Restore:     []string{"fail over", "roll back"},
		Runbooks:    []string{"https://run/api"},
		Timebox:     map[Severity]time.Duration{Sev1: 5 * time.Minute, Sev2: 20 * time.Minute, Sev3: time.Hour},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged plan (-want +got):\n%s", diff)
	}
	if got := plans.For([]string{"web"}); !cmp.Equal(got, plans.Default) {
		t.Errorf("no system plan: got %+v, want the default", got)
	}
}

func TestPlanValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		plan  Plan
		field string
	}{
		{Plan{Diagnostics: []string{""}}, "diagnostics[0]"},
		{Plan{Restore: make([]string, MaxPlanSteps+1)}, "restore"},
		{Plan{Timebox: map[Severity]time.Duration{Sev2: 0}}, "diagnose_minutes.sev2"},
		{Plan{Timebox: map[Severity]time.Duration{Sev1: 48 * time.Hour}}, "diagnose_minutes.sev1"},
	} {
		err := tc.plan.Validate()
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != tc.field {
			t.Errorf("Validate(%+v) = %v, want field %s", tc.plan, err, tc.field)
		}
	}
}
