package charts

import (
	"slices"
	"testing"
)

func TestWeekly(t *testing.T) {
	tests := []struct {
		name     string
		data     WeeklyData
		wants    []string
		unwanted []string
	}{{
		name:     "a year",
		data:     WeeklyData{Title: "Incidents per week", Classes: costClasses, Weeks: sampleWeeks(52)},
		wants:    []string{"Incidents per week", "C1", "C2", "C3", "C4", "no cost", "Jan 06", "incidents"},
		unwanted: []string{"Jan 13"}, // thinned out: every third week is labelled
	}, {
		name:  "one quiet week",
		data:  WeeklyData{Title: "Quiet", Classes: []string{"C1", "no cost"}, Weeks: []Week{{Start: t0, Counts: []int{0, 0}}}},
		wants: []string{"Quiet", "C1", "no cost", "Mar 03", "0", "1"},
	}, {
		name:  "few weeks, every one labelled",
		data:  WeeklyData{Classes: costClasses, Weeks: sampleWeeks(4)},
		wants: []string{"Jan 06", "Jan 13", "Jan 20", "Jan 27"},
	}, {
		name:  "no weeks",
		data:  WeeklyData{Title: "This quarter", Classes: costClasses},
		wants: []string{"This quarter", "no incidents"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Weekly(tt.data, PNG)
			if err != nil {
				t.Fatalf("png: %v", err)
			}
			checkPNG(t, b)
			b, err = Weekly(tt.data, SVG)
			if err != nil {
				t.Fatalf("svg: %v", err)
			}
			checkSVG(t, b, tt.wants, tt.unwanted)
		})
	}
}

func TestWeeklyErrors(t *testing.T) {
	tests := []struct {
		name string
		data WeeklyData
		want string
	}{
		{"too few counts", WeeklyData{Classes: costClasses, Weeks: []Week{{Start: t0, Counts: []int{1, 2}}}},
			"week 0 (2026-03-03): 2 counts for 5 classes"},
		{"too many counts", WeeklyData{Classes: []string{"C1"}, Weeks: []Week{{t0, []int{1}}, {t0, []int{1, 2}}}},
			"week 1 (2026-03-03): 2 counts for 1 classes"},
		{"negative count", WeeklyData{Classes: []string{"C1", "C2"}, Weeks: []Week{{t0, []int{1, -1}}}},
			`week 0 (2026-03-03): count -1 for class "C2" is negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Weekly(tt.data, PNG)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "render weekly chart: " + tt.want; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

func TestIntegerTicks(t *testing.T) {
	tests := []struct {
		max  float64
		want []string
	}{
		{1.08, []string{"0", "1"}},
		{7.5, []string{"0", "1", "2", "3", "4", "5", "6", "7"}},
		{21.6, []string{"0", "5", "10", "15", "20"}},
		{130, []string{"0", "20", "40", "60", "80", "100", "120"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tick := range (integerTicks{}).Ticks(0, tt.max) {
			got = append(got, tick.Label)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ticks up to %v = %q, want %q", tt.max, got, tt.want)
		}
	}
}
