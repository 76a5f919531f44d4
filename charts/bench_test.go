package charts

import "testing"

// The bot renders a Pareto chart of up to 5,000 problems within 300 ms.
func BenchmarkParetoPNG(b *testing.B) { benchPareto(b, PNG) }

func BenchmarkParetoSVG(b *testing.B) { benchPareto(b, SVG) }

func benchPareto(b *testing.B, f Format) {
	d := ParetoData{Title: "Customer cost by problem", Bars: paretoBars(5000), Unit: "USD"}
	for b.Loop() {
		if _, err := Pareto(d, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTimelinePNG(b *testing.B) {
	d := sampleTimeline()
	for b.Loop() {
		if _, err := Timeline(d, PNG); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWeeklyPNG(b *testing.B) {
	d := WeeklyData{Title: "Incidents per week", Classes: costClasses, Weeks: sampleWeeks(52)}
	for b.Loop() {
		if _, err := Weekly(d, PNG); err != nil {
			b.Fatal(err)
		}
	}
}
