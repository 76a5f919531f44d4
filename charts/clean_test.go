package charts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
)

// svgText is a <text> element of an SVG: its content, the x of its left
// edge, and whether an enclosing group rotates it.
type svgText struct {
	text    string
	x       float64
	rotated bool
}

// svgTextElements returns the <text> elements of the SVG b.
func svgTextElements(t *testing.T, b []byte) []svgText {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out []svgText
	var groups []bool // for each open <g>, whether it rotates
	var cur *svgText
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch tok.Name.Local {
			case "g":
				groups = append(groups, strings.Contains(attr["transform"], "rotate("))
			case "text":
				x, _ := strconv.ParseFloat(attr["x"], 64)
				cur = &svgText{x: x}
				for _, r := range groups {
					cur.rotated = cur.rotated || r
				}
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				out = append(out, *cur)
				cur = nil
			}
		case xml.CharData:
			if cur != nil {
				cur.text += string(tok)
			}
		}
	}
}

// dashedLineXs returns the x of each vertical dashed line (a marker) in the
// SVG b.
func dashedLineXs(t *testing.T, b []byte) []float64 {
	t.Helper()
	var xs []float64
	for _, m := range regexp.MustCompile(`<path d="M([0-9.]+),[0-9.]+L([0-9.]+),[0-9.]+" style="[^"]*stroke-dasharray`).FindAllSubmatch(b, -1) {
		x0, _ := strconv.ParseFloat(string(m[1]), 64)
		x1, _ := strconv.ParseFloat(string(m[2]), 64)
		if x0 == x1 {
			xs = append(xs, x0)
		}
	}
	return xs
}

// TestNonLatinTitlesAndLabels: characters Liberation Sans lacks (CJK,
// emoji) are drawn as a visible placeholder, one per emoji sequence, never
// dropped; the Latin text around them stays.
func TestNonLatinTitlesAndLabels(t *testing.T) {
	t.Parallel()
	title := "INC-7 決済が失敗 👩\u200D💻 checkout ❤\uFE0F café Ж"
	want := "INC-7 □□□□□ □ checkout □ café Ж"
	tl := sampleTimeline()
	tl.Title = title
	tl.Spans[0].Label = "復旧 restore"
	b, err := Timeline(tl, SVG)
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, b, []string{want, "□□ restore"}, []string{"決", "\u200D"})
	if png, err := Timeline(tl, PNG); err != nil {
		t.Fatal(err)
	} else {
		checkPNG(t, png)
	}

	b, err = Pareto(ParetoData{Title: title, Bars: []Bar{{"PRB-1 データベース 🔥 full", 3, true}, {"PRB-2 DNS", 1, false}}}, SVG)
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, b, []string{want, "PRB-1 □□□□□□ □ full"}, []string{"デ", "🔥"})
}

func TestDrawable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain ascii – → …": "plain ascii – → …",
		"é ü ñ Ж α":         "é ü ñ Ж α",
		"決済":                "□□",
		"👩\u200D💻":          "□",
		"👍🏽 ok":             "□ ok",
		"🇬🇧":                "□□",
		"a\u200Db":          "a\u200Db",
	} {
		if got := drawable(in); got != want {
			t.Errorf("drawable(%+q) = %+q, want %+q", in, got, want)
		}
	}
}

// TestParetoLabelsRotatedNotCut: a long problem label is drawn whole,
// wrapped over rotated lines, not cut to a prefix.
func TestParetoLabelsRotatedNotCut(t *testing.T) {
	t.Parallel()
	long := "PRB-123 Certificate expiry on the public API gateway"
	b, err := Pareto(ParetoData{Title: "t", Bars: []Bar{{long, 5, true}, {"PRB-2 DNS", 1, false}}}, SVG)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range svgTextElements(t, b) {
		if strings.HasPrefix(e.text, "PRB-123") || len(lines) > 0 && len(lines) < 3 && !strings.HasPrefix(e.text, "PRB-") {
			if !e.rotated {
				t.Errorf("label line %q is not rotated", e.text)
			}
			lines = append(lines, e.text)
		}
	}
	if got := strings.Join(lines, " "); got != long {
		t.Errorf("label drawn as %q, want all of %q", lines, long)
	}
	if bytes.Contains(b, []byte("…")) {
		t.Error("a label is cut")
	}
}

// TestDurationsClearMarkerLines: a span's duration is never drawn across a
// marker's line, here a 2 min span ending a minute before "restored".
func TestDurationsClearMarkerLines(t *testing.T) {
	t.Parallel()
	d := TimelineData{
		Title: "INC-9",
		Spans: []Span{
			{Label: "open → restored", Start: t0, End: t0.Add(60 * time.Minute)},
			{Label: "diagnosis timebox", Start: t0.Add(57 * time.Minute), End: t0.Add(59 * time.Minute)},
			{Label: "follow-up", Start: t0.Add(20 * time.Minute), End: t0.Add(59*time.Minute + 30*time.Second)},
		},
		Markers: []Marker{{"opened", t0}, {"restored", t0.Add(60 * time.Minute)}, {"resolved", t0.Add(61 * time.Minute)}},
	}
	b, err := Timeline(d, SVG)
	if err != nil {
		t.Fatal(err)
	}
	lines := dashedLineXs(t, b)
	if len(lines) != 3 {
		t.Fatalf("found %d marker lines, want 3", len(lines))
	}
	sty := textStyle(9, grey)
	seen := 0
	for _, e := range svgTextElements(t, b) {
		if e.text != "2m" && e.text != "1h00m" && e.text != "39m" {
			continue
		}
		seen++
		w := float64(sty.Width(e.text) / vg.Points(1))
		for _, x := range lines {
			if x >= e.x-1 && x <= e.x+w+1 {
				t.Errorf("duration %q spans %.1f–%.1f, across the marker line at %.1f", e.text, e.x, e.x+w, x)
			}
		}
	}
	if seen != 3 {
		t.Errorf("found %d of the 3 durations", seen)
	}
}
