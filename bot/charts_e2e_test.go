package bot_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/charts"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/report"
)

// TestParetoChartThroughSlack ranks two problems whose titles the chart
// font cannot wholly draw (CJK and an emoji sequence) or that are too
// long for one line, and asks for the Pareto in Slack. The chart uploaded
// through the simulator is a PNG byte for byte the one the renderer
// draws for the same ranking, whose SVG (the same layout) shows each
// missing character as one placeholder, never drops one, and wraps the
// long label (up to three lines) instead of cutting it; the table posted with it, and the
// upload's alt text, carry the titles whole.
func TestParetoChartThroughSlack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const (
		cjk  = "決済 timeouts 👩‍💻 at peak"
		long = "Connection pool on the primary db too small for Monday peak"
	)
	ch1 := h.openIncident("checkout slow sev2 systems:web")
	ch2 := h.openIncident("login errors sev3 systems:auth")
	h.slash(alice, h.general, "/problem", "new "+cjk)
	h.slash(alice, h.general, "/problem", "new "+long)
	h.slash(alice, ch1, "/incident", "link PRB-1")
	h.slash(alice, ch2, "/incident", "link PRB-2")
	for _, ch := range []string{ch1, ch2} {
		h.slash(alice, ch, "/incident", "cost")
		v := h.openView(alice, "incident_cost")
		amount := "12000"
		if ch == ch2 {
			amount = "800"
		}
		h.submit(alice, v.ID, map[string]map[string]string{"cost_revenue": {"cost_revenue": amount}})
	}

	h.slash(alice, h.general, "/problem", "pareto")
	files := h.sim.Files(h.general)
	if len(files) != 1 || files[0].Name != "pareto.png" {
		t.Fatalf("files = %+v", files)
	}
	uploaded := files[0]
	if _, err := png.Decode(bytes.NewReader(uploaded.Content)); err != nil {
		t.Fatalf("the uploaded chart is not a PNG: %v", err)
	}

	incidents := incident.NewService(h.store, h.clock)
	p, err := incident.NewProblems(h.store, incidents, h.clock).Pareto(h.ctx, h.clock.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	title := report.ParetoTitle(30 * 24 * time.Hour)
	want, err := report.ParetoChart(p, title, charts.PNG)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(uploaded.Content, want) {
		t.Fatalf("the chart uploaded through Slack (%d bytes) is not the one drawn for this ranking (%d bytes)", len(uploaded.Content), len(want))
	}
	svg, err := report.ParetoChart(p, title, charts.SVG)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"PRB-1 □□ timeouts □ at", ">peak<", "PRB-2 Connection pool on", "the primary db too small", "for Monday peak"} {
		if !bytes.Contains(svg, []byte(w)) {
			t.Errorf("the chart's labels lack %q (a character dropped or a label cut)", w)
		}
	}
	if bytes.Contains(svg, []byte("…")) {
		t.Error("a label was cut short instead of wrapped")
	}
	if uploaded.AltText != p.Headline() || uploaded.Title != title {
		t.Errorf("upload title %q, alt %q", uploaded.Title, uploaded.AltText)
	}
	var table string
	for _, m := range h.sim.Messages(h.general) {
		if m.TS == uploaded.ThreadTS {
			table = plainJSON(t, m.Blocks)
		}
	}
	for _, w := range []string{cjk, long} {
		if !strings.Contains(table, w) {
			t.Errorf("the table posted with the chart lacks the whole title %q:\n%s", w, table)
		}
	}
}
