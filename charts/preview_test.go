package charts

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPreview writes one chart of each kind, as PNG and SVG, to the directory
// named by CHARTS_PREVIEW_DIR, for a human to look at. It does nothing
// when the variable is unset.
func TestPreview(t *testing.T) {
	dir := os.Getenv("CHARTS_PREVIEW_DIR")
	if dir == "" {
		t.Skip("CHARTS_PREVIEW_DIR not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	charts := map[string]func(Format) ([]byte, error){
		"pareto": func(f Format) ([]byte, error) {
			return Pareto(ParetoData{Title: "Customer cost by problem, last 90 days", Bars: paretoBars(25), Unit: "USD"}, f)
		},
		"timeline": func(f Format) ([]byte, error) { return Timeline(sampleTimeline(), f) },
		"weekly": func(f Format) ([]byte, error) {
			return Weekly(WeeklyData{Title: "Incidents per week by cost class", Classes: costClasses, Weeks: sampleWeeks(52)}, f)
		},
	}
	for name, chart := range charts {
		for _, f := range []Format{PNG, SVG} {
			b, err := chart(f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+"."+f.String()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
