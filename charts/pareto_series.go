package charts

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Pareto defaults and how the label under each bar is laid out.
const (
	defaultThreshold = 0.8
	defaultMaxBars   = 20
	labelLineRunes   = 24 // a bar's label wraps at this many runes a line,
	maxLabelLines    = 3  // on at most this many lines, rotated
)

// checkPareto rejects data that cannot be drawn honestly.
func checkPareto(d ParetoData) error {
	if math.IsNaN(d.Threshold) || d.Threshold < 0 || d.Threshold > 1 {
		return fmt.Errorf("threshold %v is outside 0–1", d.Threshold)
	}
	if d.MaxBars < 0 {
		return fmt.Errorf("max bars %d is negative", d.MaxBars)
	}
	total := 0.0
	for i, b := range d.Bars {
		total += b.Value
		switch {
		case math.IsNaN(b.Value) || math.IsInf(b.Value, 0):
			return fmt.Errorf("bar %d (%q): value %v is not a number", i, b.Label, b.Value)
		case b.Value < 0:
			return fmt.Errorf("bar %d (%q): value %v is negative", i, b.Label, b.Value)
		}
	}
	if math.IsInf(total, 0) {
		return errors.New("values add up to more than a float64 holds")
	}
	return nil
}

// threshold returns the cumulative share of the reference line.
func threshold(d ParetoData) float64 {
	if d.Threshold == 0 {
		return defaultThreshold
	}
	return d.Threshold
}

// paretoSeries returns the series drawn for valid d: the bars after folding,
// with labels truncated, and the cumulative share after each bar.
//
// MaxBars counts every bar drawn, the fold included: 25 bars with MaxBars 20
// are drawn as 19 bars plus one "6 others" bar. The fold is highlighted as
// vital only when every bar in it is. The cumulative share ends at exactly 1,
// or is all zeros when every value is zero.
func paretoSeries(d ParetoData) (labels []string, values, cumulative []float64, vital []bool) {
	bars := d.Bars
	maxBars := d.MaxBars
	if maxBars == 0 {
		maxBars = defaultMaxBars
	}
	keep := len(bars)
	if keep > maxBars {
		keep = maxBars - 1
	}
	for _, b := range bars[:keep] {
		labels = append(labels, wrapLabel(b.Label, labelLineRunes, maxLabelLines))
		values = append(values, b.Value)
		vital = append(vital, b.VitalFew)
	}
	if rest := bars[keep:]; len(rest) > 0 {
		sum, allVital := 0.0, true
		for _, b := range rest {
			sum += b.Value
			allVital = allVital && b.VitalFew
		}
		labels = append(labels, fmt.Sprintf("%d others", len(rest)))
		values = append(values, sum)
		vital = append(vital, allVital)
	}

	// Summing the drawn values in drawing order makes the last running
	// total equal the total bit for bit, so the line ends at exactly 1.
	total := 0.0
	for _, v := range values {
		total += v
	}
	cumulative = make([]float64, len(values))
	running := 0.0
	for i, v := range values {
		running += v
		if total > 0 {
			cumulative[i] = running / total
		}
	}
	return labels, values, cumulative, vital
}

// wrapLabel puts s on lines of at most width runes, breaking between words
// (and inside a word longer than a line), with what the font cannot draw
// replaced (drawable). Only text beyond the last of maxLines lines is cut,
// ending it with "…".
func wrapLabel(s string, width, maxLines int) string {
	var lines []string
	var line []rune
	for _, w := range strings.Fields(drawable(s)) {
		word := []rune(w)
		if len(line) > 0 && len(line)+1+len(word) <= width {
			line = append(append(line, ' '), word...)
			continue
		}
		if len(line) > 0 {
			lines = append(lines, string(line))
		}
		for len(word) > width {
			lines = append(lines, string(word[:width]))
			word = word[width:]
		}
		line = word
	}
	if len(line) > 0 {
		lines = append(lines, string(line))
	}
	if len(lines) > maxLines {
		last := []rune(lines[maxLines-1])
		if len(last) >= width {
			last = last[:width-1]
		}
		lines = append(lines[:maxLines-1], strings.TrimRight(string(last), " ")+"…")
	}
	return strings.Join(lines, "\n")
}
