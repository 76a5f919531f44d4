package charts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"
)

// checkPNG fails t unless b is a 1200×600 PNG with a real drawing on it.
func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 1200 || got.Y != 600 {
		t.Fatalf("png size = %v, want 1200×600", got)
	}
	var pix []uint8 // 4 bytes a pixel; direct access keeps -race runs quick
	switch img := img.(type) {
	case *image.RGBA:
		pix = img.Pix
	case *image.NRGBA:
		pix = img.Pix
	default:
		t.Fatalf("decoded png is a %T, want RGBA", img)
	}
	colours := map[[4]uint8]bool{}
	inked := 0
	for i := 0; i+4 <= len(pix); i += 4 {
		c := [4]uint8(pix[i : i+4])
		if len(colours) < 8 {
			colours[c] = true
		}
		if c != [4]uint8{255, 255, 255, 255} {
			inked++
		}
	}
	// Even a title and a one-line message ink over 1000 pixels, anti-aliased.
	if inked < 1000 || len(colours) < 8 {
		t.Errorf("png looks blank: %d non-white pixels, %d colours", inked, len(colours))
	}
}

// countPixels returns how many pixels of the PNG b are exactly c.
func countPixels(t *testing.T, b []byte, c color.Color) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		t.Fatalf("decoded png is a %T, want *image.RGBA", img)
	}
	want := color.RGBAModel.Convert(c).(color.RGBA)
	n := 0
	for i := 0; i+4 <= len(rgba.Pix); i += 4 {
		if [4]uint8(rgba.Pix[i:i+4]) == [4]uint8{want.R, want.G, want.B, want.A} {
			n++
		}
	}
	return n
}

// svgTexts fails t unless b is well-formed XML, and returns its <text> contents.
func svgTexts(t *testing.T, b []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var texts []string
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		}
	}
	if !bytes.Contains(b, []byte(`width="900pt" height="450pt"`)) {
		t.Errorf("svg is not 900×450 pt")
	}
	return texts
}

// checkSVG fails t unless b is well-formed XML with each of wants in a text
// element, and none of unwanted.
func checkSVG(t *testing.T, b []byte, wants, unwanted []string) {
	t.Helper()
	texts := svgTexts(t, b)
	all := strings.Join(texts, "\n")
	for _, w := range wants {
		if !containsText(texts, w) {
			t.Errorf("svg has no text %q; texts:\n%s", w, all)
		}
	}
	for _, u := range unwanted {
		if containsText(texts, u) {
			t.Errorf("svg has unwanted text %q", u)
		}
	}
}

func containsText(texts []string, want string) bool {
	for _, s := range texts {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

// paretoBars returns n bars with costs falling like 1/rank, the smallest
// prefix reaching 80% of the total marked vital.
func paretoBars(n int) []Bar {
	bars := make([]Bar, n)
	total := 0.0
	for i := range bars {
		bars[i] = Bar{
			Label: fmt.Sprintf("PRB-%d %s", i+1, problemNames[i%len(problemNames)]),
			Value: float64(int(120000 / float64(i+1))),
		}
		total += bars[i].Value
	}
	running := 0.0
	for i := range bars {
		if running >= 0.8*total {
			break
		}
		running += bars[i].Value
		bars[i].VitalFew = true
	}
	return bars
}

var problemNames = []string{
	"Disk fills on db-2",
	"Certificate expiry on the public API gateway",
	"Queue consumer lag",
	"Flaky DNS resolver",
	"Payment provider timeouts",
	"OOM kills in search indexer",
}

// t0 is a fixed instant so that test output does not depend on the clock.
var t0 = time.Date(2026, time.March, 3, 14, 2, 0, 0, time.UTC)

func sampleTimeline() TimelineData {
	return TimelineData{
		Title: "INC-42 Checkout errors",
		Spans: []Span{
			{Label: "open → restored", Start: t0, End: t0.Add(97 * time.Minute)},
			{Label: "diagnosis timebox", Start: t0.Add(6 * time.Minute), End: t0.Add(36 * time.Minute)},
			{Label: "mitigation", Start: t0.Add(40 * time.Minute), End: t0.Add(97 * time.Minute)},
			{Label: "follow-up", Start: t0.Add(100 * time.Minute)},
		},
		Markers: []Marker{
			{Label: "opened", At: t0},
			{Label: "acknowledged", At: t0.Add(3 * time.Minute)},
			{Label: "restored", At: t0.Add(97 * time.Minute)},
			{Label: "resolved", At: t0.Add(130 * time.Minute)},
		},
	}
}

var costClasses = []string{"C1", "C2", "C3", "C4", "no cost"}

// sampleWeeks returns n weeks of made-up but deterministic counts.
func sampleWeeks(n int) []Week {
	start := time.Date(2025, time.January, 6, 0, 0, 0, 0, time.UTC)
	weeks := make([]Week, n)
	for i := range weeks {
		counts := make([]int, len(costClasses))
		for j := range counts {
			counts[j] = (i*7 + j*3) % (j + 3)
		}
		weeks[i] = Week{Start: start.AddDate(0, 0, 7*i), Counts: counts}
	}
	return weeks
}
