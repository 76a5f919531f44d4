package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/sitrep/sitrep/internal/human"
)

// trendBar is one week of a duration chart: its median and 90th
// percentile; N zero when nothing was measured.
type trendBar struct {
	Week        string
	N           int
	Median, P90 time.Duration
}

// trendBarsSVG draws weekly durations as a small bar chart, oldest week
// on the left: the 90th percentile as a light bar, the median as a dark
// one inside it. Every text is escaped; the table beside it holds the
// same numbers for those who cannot see it.
func trendBarsSVG(title string, bars []trendBar) template.HTML {
	const width, height, top, bottom, left = 600.0, 140.0, 18.0, 18.0, 4.0
	var peak time.Duration
	for _, b := range bars {
		peak = max(peak, b.P90, b.Median)
	}
	if peak <= 0 || len(bars) == 0 {
		return ""
	}
	slot := (width - left) / float64(len(bars))
	barW := max(slot*0.7, 1)
	scale := (height - top - bottom) / float64(peak)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="trend-bars" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, width, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="12" class="axis">highest: %s</text>`, left, html.EscapeString(human.Duration(peak)))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="base"/>`, left, height-bottom, width, height-bottom)
	for i, bar := range bars {
		x := left + float64(i)*slot + (slot-barW)/2
		if bar.N > 0 {
			hp, hm := float64(bar.P90)*scale, float64(bar.Median)*scale
			label := html.EscapeString(fmt.Sprintf("week of %s: median %s, 90th percentile %s (%d)", bar.Week, human.Duration(bar.Median), human.Duration(bar.P90), bar.N))
			fmt.Fprintf(&b, `<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="p90"/>`, label, x, height-bottom-hp, barW, hp)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="median"/></g>`, x+barW*0.2, height-bottom-hm, barW*0.6, hm)
		}
		if len(bars) <= 13 || i%4 == 0 || i == len(bars)-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="axis" text-anchor="middle">%s</text>`, x+barW/2, height-4, html.EscapeString(shortWeek(bar.Week)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and escaped text only
}

// shortWeek drops the year from "2 Nov 2026".
func shortWeek(week string) string {
	if i := strings.LastIndexByte(week, ' '); i > 0 {
		return week[:i]
	}
	return week
}
