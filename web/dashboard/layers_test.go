package dashboard

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers: dependencies point inward. storage knows no web package;
// the web packages know no storage (they define what they read, and the
// types they share with storage live in internal/session and
// internal/dashquery, which know neither).
func TestLayers(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot list the packages' dependencies")
	}
	const mod = "github.com/sitrep/sitrep/"
	for _, tc := range []struct {
		pkg string
		// forbidden are import paths it must not depend on, nor on
		// anything under them.
		forbidden []string
	}{
		{mod + "storage", []string{mod + "web", mod + "bot"}},
		{mod + "web/dashboard", []string{mod + "storage", mod + "bot"}},
		{mod + "web/signin", []string{mod + "storage", mod + "bot"}},
		{mod + "internal/session", []string{mod + "storage", mod + "web", mod + "bot", "database/sql", "net/http"}},
		{mod + "internal/dashquery", []string{mod + "storage", mod + "web", mod + "bot", "database/sql", "net/http"}},
	} {
		out, err := exec.Command(goTool, "list", "-deps", tc.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tc.pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go list -deps %s lists nothing", tc.pkg)
		}
		for _, dep := range deps {
			for _, f := range tc.forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", tc.pkg, dep)
				}
			}
		}
	}
}
