package dashboard

import (
	"context"
	"testing"

	"github.com/sitrep/sitrep/incident"
)

// fixedNames knows Alice.
type fixedNames map[string]string

func (f fixedNames) Name(_ context.Context, id string) string { return f[id] }

// TestReporterShown: a person who reported is shown by name; an incident
// monitoring opened shows the product, never a blank or an ID.
func TestReporterShown(t *testing.T) {
	d := Deps{Names: fixedNames{"U0ALICE": "Alice Liddell"}}
	show := funcs(d)["reporter"].(func(*incident.Incident) string)
	db := &Dashboard{d: d}
	for _, tc := range []struct {
		inc  incident.Incident
		want string
	}{
		{incident.Incident{ReporterID: "U0ALICE"}, "Alice Liddell"},
		{incident.Incident{ReporterID: "U0NOBODY"}, "U0NOBODY"},
		{incident.Incident{ReportedBy: "Alertmanager"}, "Alertmanager"},
	} {
		if got := show(&tc.inc); got != tc.want {
			t.Errorf("page: reporter of %+v = %q, want %q", tc.inc, got, tc.want)
		}
		if got := db.reporter(&tc.inc); got != tc.want {
			t.Errorf("CSV: reporter of %+v = %q, want %q", tc.inc, got, tc.want)
		}
	}
}
