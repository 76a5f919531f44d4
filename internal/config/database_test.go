package config

import "testing"

// TestDatabaseURLSet tells the default database from one that was named,
// so that commands that must not create a database can refuse the default.
func TestDatabaseURLSet(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		env     map[string]string
		wantURL string
		wantSet bool
	}{
		{map[string]string{}, DefaultDatabaseURL, false},
		{map[string]string{"SITREP_DATABASE_URL": "sqlite:/var/lib/sitrep/sitrep.db"}, "sqlite:/var/lib/sitrep/sitrep.db", true},
		{map[string]string{"SITREP_DATABASE_URL": "sqlite:sitrep.db"}, "sqlite:sitrep.db", true},
	} {
		cfg, err := Load(func(k string) string { return tc.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DatabaseURL != tc.wantURL || cfg.DatabaseURLSet != tc.wantSet {
			t.Errorf("%v: %q set=%v, want %q set=%v", tc.env, cfg.DatabaseURL, cfg.DatabaseURLSet, tc.wantURL, tc.wantSet)
		}
	}
}
