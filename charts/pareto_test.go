package charts

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
)

// equalBars returns n bars of value v, the first vital ones marked.
func equalBars(n int, v float64, vital int) []Bar {
	bars := make([]Bar, n)
	for i := range bars {
		bars[i] = Bar{Label: string(rune('a' + i)), Value: v, VitalFew: i < vital}
	}
	return bars
}

func TestParetoSeries(t *testing.T) {
	tests := []struct {
		name       string
		data       ParetoData
		labels     []string
		values     []float64
		cumulative []float64
		vital      []bool
	}{{
		name:       "hand-worked shares",
		data:       ParetoData{Bars: []Bar{{"a", 50, true}, {"b", 30, true}, {"c", 20, false}}},
		labels:     []string{"a", "b", "c"},
		values:     []float64{50, 30, 20},
		cumulative: []float64{0.5, 0.8, 1},
		vital:      []bool{true, true, false},
	}, {
		name: "25 bars fold into 19 and 6 others",
		data: ParetoData{Bars: equalBars(25, 4, 2)},
		labels: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
			"k", "l", "m", "n", "o", "p", "q", "r", "s", "6 others"},
		values: []float64{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 24},
		cumulative: []float64{0.04, 0.08, 0.12, 0.16, 0.20, 0.24, 0.28, 0.32, 0.36, 0.40,
			0.44, 0.48, 0.52, 0.56, 0.60, 0.64, 0.68, 0.72, 0.76, 1},
		vital: append([]bool{true, true}, make([]bool, 18)...),
	}, {
		name:       "explicit MaxBars, fold of vital bars stays vital",
		data:       ParetoData{Bars: equalBars(4, 1, 4), MaxBars: 2},
		labels:     []string{"a", "3 others"},
		values:     []float64{1, 3},
		cumulative: []float64{0.25, 1},
		vital:      []bool{true, true},
	}, {
		name:       "exactly MaxBars bars are not folded",
		data:       ParetoData{Bars: equalBars(3, 2, 0), MaxBars: 3},
		labels:     []string{"a", "b", "c"},
		values:     []float64{2, 2, 2},
		cumulative: []float64{1.0 / 3, 2.0 / 3, 1},
		vital:      []bool{false, false, false},
	}, {
		name:       "all zero: cumulative zero, not NaN",
		data:       ParetoData{Bars: equalBars(3, 0, 0)},
		labels:     []string{"a", "b", "c"},
		values:     []float64{0, 0, 0},
		cumulative: []float64{0, 0, 0},
		vital:      []bool{false, false, false},
	}, {
		name:       "label put on one line",
		data:       ParetoData{Bars: []Bar{{Label: "PRB-1\nDisk  fills ", Value: 1}}},
		labels:     []string{"PRB-1 Disk fills"},
		values:     []float64{1},
		cumulative: []float64{1},
		vital:      []bool{false},
	}, {
		name:       "long label wrapped, not cut",
		data:       ParetoData{Bars: []Bar{{Label: "PRB-123 Certificate expiry on the gateway", Value: 1}}},
		labels:     []string{"PRB-123 Certificate\nexpiry on the gateway"},
		values:     []float64{1},
		cumulative: []float64{1},
		vital:      []bool{false},
	}, {
		name:       "label beyond three lines cut",
		data:       ParetoData{Bars: []Bar{{Label: "PRB-9 " + strings.Repeat("abcdefghij ", 8), Value: 1}}},
		labels:     []string{"PRB-9 abcdefghij\nabcdefghij abcdefghij\nabcdefghij abcdefghij…"},
		values:     []float64{1},
		cumulative: []float64{1},
		vital:      []bool{false},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels, values, cumulative, vital := paretoSeries(tt.data)
			if !slices.Equal(labels, tt.labels) {
				t.Errorf("labels = %q, want %q", labels, tt.labels)
			}
			if !slices.Equal(values, tt.values) {
				t.Errorf("values = %v, want %v", values, tt.values)
			}
			if !slices.EqualFunc(cumulative, tt.cumulative, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
				t.Errorf("cumulative = %v, want %v", cumulative, tt.cumulative)
			}
			if !slices.Equal(vital, tt.vital) {
				t.Errorf("vital = %v, want %v", vital, tt.vital)
			}
		})
	}
}

func TestParetoSeriesEndsAtExactlyOne(t *testing.T) {
	// 0.1 ten times does not add up to 1 in floating point; the line must
	// still end at exactly 100%, folded or not.
	for _, maxBars := range []int{0, 4} {
		_, _, cumulative, _ := paretoSeries(ParetoData{Bars: equalBars(10, 0.1, 0), MaxBars: maxBars})
		if last := cumulative[len(cumulative)-1]; last != 1 {
			t.Errorf("MaxBars %d: cumulative ends at %v, want exactly 1", maxBars, last)
		}
	}
	_, _, cumulative, _ := paretoSeries(ParetoData{Bars: paretoBars(5000)})
	if last := cumulative[len(cumulative)-1]; last != 1 {
		t.Errorf("5000 bars: cumulative ends at %v, want exactly 1", last)
	}
}

func TestPareto(t *testing.T) {
	long := "PRB-123 Certificate expiry on the public API gateway"
	tests := []struct {
		name     string
		data     ParetoData
		wants    []string
		unwanted []string
	}{{
		name: "few bars",
		data: ParetoData{Title: "Cost by problem", Unit: "USD", Bars: []Bar{
			{"PRB-3 Disk fills on db-2", 9000, true}, {"PRB-7 Queue lag", 2500, false}, {"PRB-9 DNS", 500, false},
		}},
		wants:    []string{"Cost by problem", "PRB-3 Disk fills on db-2", "PRB-7 Queue lag", "80%", "vital few", "cost (USD)", "100%"},
		unwanted: []string{"others"},
	}, {
		name:     "folded",
		data:     ParetoData{Title: "Top problems", Bars: paretoBars(25)},
		wants:    []string{"Top problems", "PRB-1 Disk fills on db-2", "PRB-19 ", "6 others", "80%", "vital few"},
		unwanted: []string{"PRB-20 "},
	}, {
		name:  "5000 bars",
		data:  ParetoData{Title: "Everything", Bars: paretoBars(5000)},
		wants: []string{"PRB-1 Disk fills on db-2", "4981 others", "80%"},
	}, {
		name:     "custom threshold and long label",
		data:     ParetoData{Title: "t", Threshold: 0.95, MaxBars: 5, Bars: []Bar{{Label: long, Value: 1}}},
		wants:    []string{"95%", "PRB-123 Certificate", "expiry on the public API", "gateway"},
		unwanted: []string{"…"},
	}, {
		name:     "all zero",
		data:     ParetoData{Title: "Free problems", Bars: equalBars(3, 0, 0)},
		wants:    []string{"Free problems", "80%"},
		unwanted: []string{"NaN"},
	}, {
		name:  "empty",
		data:  ParetoData{Title: "Nothing yet"},
		wants: []string{"Nothing yet", "no costed incidents"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Pareto(tt.data, PNG)
			if err != nil {
				t.Fatalf("png: %v", err)
			}
			checkPNG(t, b)
			b, err = Pareto(tt.data, SVG)
			if err != nil {
				t.Fatalf("svg: %v", err)
			}
			checkSVG(t, b, tt.wants, tt.unwanted)
		})
	}
}

func TestParetoErrors(t *testing.T) {
	ok := []Bar{{"a", 1, true}}
	tests := []struct {
		name string
		data ParetoData
		want string
	}{
		{"NaN value", ParetoData{Bars: []Bar{{"a", 1, true}, {"b", math.NaN(), false}}}, `bar 1 ("b"): value NaN is not a number`},
		{"infinite value", ParetoData{Bars: []Bar{{"a", math.Inf(1), false}}}, "not a number"},
		{"negative value", ParetoData{Bars: []Bar{{"a", -2, false}}}, `bar 0 ("a"): value -2 is negative`},
		{"overflowing total", ParetoData{Bars: []Bar{{"a", math.MaxFloat64, false}, {"b", math.MaxFloat64, false}}}, "add up"},
		{"threshold above 1", ParetoData{Bars: ok, Threshold: 1.5}, "threshold 1.5 is outside 0–1"},
		{"NaN threshold", ParetoData{Bars: ok, Threshold: math.NaN()}, "threshold NaN"},
		{"negative MaxBars", ParetoData{Bars: ok, MaxBars: -1}, "max bars -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []Format{PNG, SVG} {
				_, err := Pareto(tt.data, f)
				if err == nil {
					t.Fatalf("%v: no error", f)
				}
				if !strings.HasPrefix(err.Error(), "render pareto chart: ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%v: error %q, want it to start with %q and hold %q", f, err, "render pareto chart: ", tt.want)
				}
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := Pareto(ParetoData{Bars: []Bar{{"a", 1, true}}}, Format(7))
	if err == nil || err.Error() != "render pareto chart: unknown format Format(7)" {
		t.Errorf("error = %v, want unknown format", err)
	}
	if _, err := Weekly(WeeklyData{}, Format(-1)); err == nil {
		t.Error("empty weekly chart in an unknown format: no error")
	}
}

func TestFormatString(t *testing.T) {
	if PNG.String() != "png" || SVG.String() != "svg" {
		t.Errorf("PNG, SVG = %q, %q; want png, svg", PNG, SVG)
	}
}

func TestDeterministic(t *testing.T) {
	d := ParetoData{Title: "Cost", Bars: paretoBars(40), Unit: "USD"}
	for _, f := range []Format{PNG, SVG} {
		a, err := Pareto(d, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Pareto(d, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%v: two renderings of the same data differ", f)
		}
	}
	a, _ := Timeline(sampleTimeline(), SVG)
	b, _ := Timeline(sampleTimeline(), SVG)
	if !bytes.Equal(a, b) {
		t.Error("timeline svg: two renderings of the same data differ")
	}
}

// TestFontsEmbedded checks that every font the charts ask for is in the cache
// filled from gonum's embedded Liberation fonts, rather than substituted.
func TestFontsEmbedded(t *testing.T) {
	bold := sans
	bold.Weight = xfont.WeightBold
	for _, f := range []font.Font{sans, bold} {
		if !font.DefaultCache.Has(f) {
			t.Errorf("font %s is not in the embedded font cache", f.Name())
		}
	}
	b, err := Pareto(ParetoData{Title: "t", Bars: []Bar{{"a", 1, true}}}, SVG)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;")) {
		t.Error("svg text is not set in Liberation Sans with web fallbacks")
	}
}

func TestConcurrentRendering(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				_, err = Pareto(ParetoData{Bars: paretoBars(30)}, Format(i%2))
			case 1:
				_, err = Timeline(sampleTimeline(), Format(i%2))
			case 2:
				_, err = Weekly(WeeklyData{Classes: costClasses, Weeks: sampleWeeks(10)}, Format(i%2))
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestParetoHighlightsVitalFew(t *testing.T) {
	count := func(bars []Bar) (vital, other int) {
		t.Helper()
		b, err := Pareto(ParetoData{Bars: bars}, PNG)
		if err != nil {
			t.Fatal(err)
		}
		return countPixels(t, b, vitalColor), countPixels(t, b, otherColor)
	}
	// Legend swatches are 12×12 pt, about 250 px; bars are much larger.
	const swatch, bar = 400, 5000
	if vital, other := count([]Bar{{"a", 10, true}, {"b", 5, false}}); vital < bar || other < bar {
		t.Errorf("vital and other bars: %d vital-coloured and %d other-coloured pixels, want both over %d", vital, other, bar)
	}
	if vital, _ := count([]Bar{{"a", 10, false}, {"b", 5, false}}); vital > swatch {
		t.Errorf("no vital bars: %d vital-coloured pixels, want only the legend swatch", vital)
	}
}
