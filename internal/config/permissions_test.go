package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/internal/access"
)

// loadYAML loads a configuration file holding text.
func loadYAML(t *testing.T, text string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sitrep.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(env(map[string]string{"SITREP_CONFIG": path}))
}

func TestPermissions(t *testing.T) {
	cfg, err := loadYAML(t, `
permissions:
  commanders:
    - U0ALICE
    - W0BOSS
    - "<@U0CAROL|carol>"
    - S0SRE
    - "<!subteam^S0ONCALL|@oncall>"
    - "<!subteam^S0LEADS>"
  changes: anyone
  handover: tdo
`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Permissions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Commanders, []string{"U0ALICE", "W0BOSS", "U0CAROL"}) ||
		!slices.Equal(s.CommanderGroups, []string{"S0SRE", "S0ONCALL", "S0LEADS"}) ||
		s.Changes != access.ChangesAnyone || s.Handover != access.HandoverTDO {
		t.Errorf("settings = %+v", s)
	}
}

func TestPermissionsDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Permissions()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Commanders)+len(s.CommanderGroups) != 0 || s.Changes != "" || s.Handover != access.HandoverChannel {
		t.Errorf("defaults = %+v", s)
	}
}

func TestPermissionsHandover(t *testing.T) {
	tests := []struct {
		name, yaml, want, wantErr string
	}{
		{"incidents.handover alone still works", "incidents:\n  handover: anyone\n", access.HandoverAnyone, ""},
		{"permissions.handover alone", "permissions:\n  handover: tdo\n", access.HandoverTDO, ""},
		{"both, agreeing", "incidents:\n  handover: tdo\npermissions:\n  handover: tdo\n", access.HandoverTDO, ""},
		{"both, disagreeing", "incidents:\n  handover: anyone\npermissions:\n  handover: tdo\n", "", "permissions.handover \"tdo\" and incidents.handover \"anyone\" disagree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadYAML(t, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			s, err := cfg.Permissions()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.Handover != tc.want {
				t.Errorf("handover = %q (%v), want %q", s.Handover, err, tc.want)
			}
		})
	}
}

func TestPermissionsErrorsNameTheSetting(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"permissions:\n  commanders: [alice]\n", `permissions.commanders[0] "alice"`},
		{"permissions:\n  commanders: [U0A, \"@oncall\"]\n", `permissions.commanders[1] "@oncall"`},
		{"permissions:\n  commanders: [\"<@U0ALICE\"]\n", `permissions.commanders[0]`},
		{"permissions:\n  commanders: [\"<!subteam^U0ALICE>\"]\n", `permissions.commanders[0]`},
		{"permissions:\n  changes: members\n", `permissions.changes "members"`},
		{"permissions:\n  handover: boss\n", `permissions.handover "boss"`},
		{"permissions:\n  commander: [U0A]\n", "commander"},
	}
	for _, tc := range tests {
		_, err := loadYAML(t, tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "sitrep.yaml") {
			t.Errorf("%q: err = %v, want it to name %s and the file", tc.yaml, err, tc.want)
		}
	}
}
