package charts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func TestTimeline(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name  string
		data  TimelineData
		wants []string
	}{{
		name: "spans and markers",
		data: sampleTimeline(),
		wants: []string{"INC-42 Checkout errors", "open → restored", "diagnosis timebox", "mitigation",
			"follow-up (running)", "opened 14:02", "acknowledged 14:05", "restored 15:39", "resolved 16:12",
			"1h37m", "30m", "14:15", "(UTC)"},
	}, {
		name:  "markers only, in another zone",
		data:  TimelineData{Title: "Pages", Location: cet, Markers: []Marker{{"opened", t0}, {"resolved", t0.Add(5 * time.Minute)}}},
		wants: []string{"Pages", "opened 15:02", "resolved 15:07", "15:10", "(CET)"},
	}, {
		name:  "one span over midnight",
		data:  TimelineData{Spans: []Span{{"outage", t0.Add(9 * time.Hour), t0.Add(11 * time.Hour)}}},
		wants: []string{"outage", "2h00m", "Tue 3 Mar 2026 23:02 – Wed 4 Mar 2026 01:02 (UTC)", "Mar 04", "01:00"},
	}, {
		name: "crowded markers",
		data: TimelineData{Markers: []Marker{
			{"opened", t0}, {"acknowledged", t0}, {"escalated", t0.Add(time.Minute)}, {"restored", t0.Add(2 * time.Minute)},
		}},
		wants: []string{"opened 14:02", "acknowledged 14:02", "escalated 14:03", "restored 14:04"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := Timeline(tt.data, PNG)
			if err != nil {
				t.Fatalf("png: %v", err)
			}
			checkPNG(t, b)
			b, err = Timeline(tt.data, SVG)
			if err != nil {
				t.Fatalf("svg: %v", err)
			}
			checkSVG(t, b, tt.wants, nil)
		})
	}
}

func TestTimelineErrors(t *testing.T) {
	tests := []struct {
		name string
		data TimelineData
		want string
	}{
		{"no data", TimelineData{Title: "empty"}, "no spans and no markers"},
		{"span ends before it starts", TimelineData{Spans: []Span{{"ok", t0, t0}, {"backwards", t0, t0.Add(-time.Minute)}}},
			`span 1 ("backwards") ends at 2026-03-03T14:01:00Z, before it starts at 2026-03-03T14:02:00Z`},
		{"span without start", TimelineData{Spans: []Span{{Label: "x", End: t0}}}, `span 0 ("x") has no start`},
		{"marker without time", TimelineData{Markers: []Marker{{Label: "opened"}}}, `marker 0 ("opened") has no time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Timeline(tt.data, SVG)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "render timeline chart: " + tt.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

func TestTimeTicks(t *testing.T) {
	origin := t0 // 14:02 UTC
	tests := []struct {
		name     string
		loc      *time.Location
		from, to time.Duration // after origin
		want     []string
	}{
		{"15 minute steps", time.UTC, 0, 130 * time.Minute,
			[]string{"14:15", "14:30", "14:45", "15:00", "15:15", "15:30", "15:45", "16:00"}},
		{"5 minute steps in another zone", time.FixedZone("X", 30*60), -2 * time.Minute, 20 * time.Minute,
			[]string{"14:30", "14:35", "14:40", "14:45", "14:50"}},
		{"days", time.UTC, 0, 15 * 24 * time.Hour,
			[]string{"Mar 05", "Mar 07", "Mar 09", "Mar 11", "Mar 13", "Mar 15", "Mar 17"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range (timeTicks{origin: origin, loc: tt.loc}).Ticks(tt.from.Seconds(), tt.to.Seconds()) {
				got = append(got, tick.Label)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ticks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                      "45s",
		42*time.Minute + 20*time.Second:       "42m",
		65 * time.Minute:                      "1h05m",
		51 * time.Hour:                        "2d03h",
		59*time.Minute + 59*time.Second:       "59m",
		23*time.Hour + 59*time.Minute:         "23h59m",
		time.Duration(0):                      "0s",
		90*time.Minute + 500*time.Millisecond: "1h30m",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPlaceLabels(t *testing.T) {
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: 500, Y: 100}}}
	sty := markerTextStyle()
	w := sty.Width("opened 14:02")
	placed, rows := placeLabels(c, []vg.Length{100, 100 + w/2, 300, 490}, []string{
		"opened 14:02", "opened 14:02", "opened 14:02", "opened 14:02",
	})
	if rows != 2 {
		t.Errorf("rows = %d, want 2", rows)
	}
	if got := []int{placed[0].row, placed[1].row, placed[2].row, placed[3].row}; !slices.Equal(got, []int{0, 1, 0, 0}) {
		t.Errorf("label rows = %v, want [0 1 0 0]", got)
	}
	if right := placed[3].left + w; right > 500 {
		t.Errorf("label at the right edge ends at %v, beyond the canvas (500)", right)
	}
}
