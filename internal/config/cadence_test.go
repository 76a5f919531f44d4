package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep/sitrep/incident"
)

func TestCadence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		want       incident.Cadence
		wantErr    string
	}{
		{name: "defaults", yaml: "", want: incident.Cadence{incident.Sev1: 30 * time.Minute, incident.Sev2: time.Hour}},
		{name: "override one, keep the rest", yaml: "incidents:\n  update_every: {sev1: 15m, sev3: 2h}\n",
			want: incident.Cadence{incident.Sev1: 15 * time.Minute, incident.Sev2: time.Hour, incident.Sev3: 2 * time.Hour}},
		{name: "off", yaml: "incidents:\n  update_every: {sev2: off, SEV1: \"0\"}\n", want: incident.Cadence{}},
		{name: "not a severity", yaml: "incidents:\n  update_every: {p1: 30m}\n", wantErr: "incidents.update_every.p1: name a severity"},
		{name: "not a duration", yaml: "incidents:\n  update_every: {sev1: half an hour}\n", wantErr: `incidents.update_every.sev1 "half an hour": give a duration from 5m to 24h`},
		{name: "too often", yaml: "incidents:\n  update_every: {sev1: 1m}\n", wantErr: `incidents.update_every.sev1 "1m"`},
		{name: "too rare", yaml: "incidents:\n  update_every: {sev2: 48h}\n", wantErr: `incidents.update_every.sev2 "48h"`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "c"+string(rune('a'+i))+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(env(map[string]string{"SITREP_CONFIG": path}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.Cadence()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("Cadence() = %v, %v; want an error naming %s and containing %q", got, err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Cadence (-want +got):\n%s", diff)
			}
		})
	}
}
