package checklist

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestExamplesAreValid(t *testing.T) {
	t.Parallel()
	ex := Examples()
	if got := strings.Join(ex.Names(), " "); got != "before-bed rollback web-release" {
		t.Errorf("shipped templates = %s", got)
	}
	if ex["web-release"].System != "web" || len(ex["web-release"].Steps) != 10 || !ex["web-release"].Steps[1].Critical {
		t.Errorf("web-release = %+v", ex["web-release"])
	}
}

func TestParseTemplateRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"missing name", "title: x\nsteps:\n  - text: a\n", "t.yaml:1: the template has no name"},
		{"bad name", "name: Web Release\nsteps:\n  - text: a\n", "t.yaml:1: name \"Web Release\""},
		{"no steps", "name: x\nsteps: []\n", "t.yaml:2: the template has no steps"},
		{"empty step", "name: x\nsteps:\n  - text: a\n  - text: \"  \"\n", "t.yaml:4: step 2 is empty"},
		{"duplicate step", "name: x\nsteps:\n  - text: Deploy\n  - text: check\n  - text: deploy\n", "t.yaml:5: step 3 repeats step 1"},
		{"long step", "name: x\nsteps:\n  - text: " + strings.Repeat("a", 71) + "\n", "t.yaml:3: step 1 is 71 characters; keep it to 70"},
		{"bad help", "name: x\nsteps:\n  - text: a\n    help: wiki/page\n", "t.yaml:3: step 1: help \"wiki/page\" is not an http(s) URL"},
		{"unknown field", "name: x\nsteps:\n  - text: a\n    critcal: true\n", "t.yaml:4: field critcal not found in type checklist.Step"},
		{"bad system", "name: x\nsystem: we b\nsteps:\n  - text: a\n", "t.yaml:2: system:"},
		{"not yaml", "name: [x\n", "t.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplate("t.yaml", []byte(tc.body))
			var te *TemplateError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want a TemplateError saying %q", err, tc.want)
			}
		})
	}
}

func TestLoadTemplates(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"a.yaml":     {Data: []byte("name: deploy\ntitle: Deploy\nsystem: API\nsteps:\n  - text: go\n    critical: true\n")},
		"b.yml":      {Data: []byte("name: check\nsteps:\n  - text: look\n")},
		"notes.txt":  {Data: []byte("not a template")},
		"sub/c.yaml": {Data: []byte("name: ignored\n")},
	}
	ts, err := LoadTemplates(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts["deploy"].System != "api" || ts["check"].Title != "check" || ts["deploy"].File != "a.yaml" {
		t.Errorf("templates = %+v", ts)
	}
	fsys["c.yaml"] = &fstest.MapFile{Data: []byte("name: deploy\nsteps:\n  - text: x\n")}
	if _, err := LoadTemplates(fsys, "."); err == nil || !strings.Contains(err.Error(), `c.yaml:1: name "deploy" is taken by a.yaml`) {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := LoadTemplates(fstest.MapFS{"x.txt": {}}, "."); err == nil {
		t.Error("a directory with no templates was accepted")
	}
}

func FuzzParseTemplate(f *testing.F) {
	f.Add([]byte("name: x\nsteps:\n  - text: a\n    critical: true\n"))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := ParseTemplate("f.yaml", data)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Line < 1 {
				t.Fatalf("error %v is not a TemplateError with a line", err)
			}
			return
		}
		if tmpl.Name == "" || len(tmpl.Steps) == 0 || len(tmpl.Steps) > MaxSteps {
			t.Fatalf("accepted %+v", tmpl)
		}
		for _, s := range tmpl.Steps {
			if s.Text == "" {
				t.Fatalf("accepted an empty step: %+v", tmpl)
			}
		}
	})
}
