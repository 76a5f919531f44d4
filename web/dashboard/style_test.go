package dashboard

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestStyleContrast reads static/style.css and checks, in the light and
// the dark scheme, that every colour text is drawn in has a contrast of
// at least 4.5:1 (WCAG 2 AA for body text) against the page, and against
// the tinted rows (suspect changes, vital problems) it may sit on; and
// the same for the Sign in with Slack button.
func TestStyleContrast(t *testing.T) {
	t.Parallel()
	css, err := staticFiles.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	text := string(css)
	dark := strings.Index(text, "prefers-color-scheme: dark")
	if dark < 0 {
		t.Fatal("style.css has no dark scheme")
	}
	schemes := map[string]map[string]rgb{
		"light": cssVars(t, text[:dark]),
		"dark":  cssVars(t, text[dark:dark+strings.Index(text[dark:], "}\n}")+1]),
	}
	for name, v := range schemes {
		bg := v["bg"]
		backgrounds := map[string]rgb{
			"the page":            bg,
			"a suspect change":    mix(v["bad"], bg, 0.10),
			"a vital problem row": mix(v["accent"], bg, 0.10),
		}
		for _, fg := range []string{"fg", "muted", "accent", "bad", "warn", "ok"} {
			for on, back := range backgrounds {
				if c := contrast(v[fg], back); c < 4.5 {
					t.Errorf("%s scheme: --%s on %s has contrast %.2f:1, under 4.5:1", name, fg, on, c)
				}
			}
		}
	}
	button := regexp.MustCompile(`a\.button \{[^}]*background: (#[0-9a-fA-F]{6});[^}]*color: (#[0-9a-fA-F]{6})`).FindStringSubmatch(text)
	hover := regexp.MustCompile(`a\.button:hover \{[^}]*background: (#[0-9a-fA-F]{6})`).FindStringSubmatch(text)
	if button == nil || hover == nil {
		t.Fatal("style.css has no a.button colours")
	}
	for _, back := range []string{button[1], hover[1]} {
		if c := contrast(hexRGB(t, button[2]), hexRGB(t, back)); c < 4.5 {
			t.Errorf("the sign-in button's text %s on %s has contrast %.2f:1", button[2], back, c)
		}
	}
	// Inline charts drawn in the page's colours must not sit on a fixed
	// white background (their text would vanish in the dark scheme).
	if !regexp.MustCompile(`svg\.trend-bars \{[^}]*background: transparent`).MatchString(text) {
		t.Error("the weekly duration charts (svg.trend-bars) use the theme's colours but not its background")
	}
}

type rgb [3]float64

var cssVarPattern = regexp.MustCompile(`--([a-z]+):\s*(#[0-9a-fA-F]{6})`)

// cssVars reads the custom properties of the first :root rule in css.
func cssVars(t *testing.T, css string) map[string]rgb {
	t.Helper()
	i := strings.Index(css, ":root {")
	if i < 0 {
		t.Fatalf("no :root rule in %q", css)
	}
	rule := css[i : i+strings.Index(css[i:], "}")]
	out := map[string]rgb{}
	for _, m := range cssVarPattern.FindAllStringSubmatch(rule, -1) {
		out[m[1]] = hexRGB(t, m[2])
	}
	for _, want := range []string{"fg", "muted", "bg", "accent", "bad", "warn", "ok"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("no --%s in %q", want, rule)
		}
	}
	return out
}

func hexRGB(t *testing.T, hex string) rgb {
	t.Helper()
	var c rgb
	for i := range c {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c[i] = float64(v) / 255
	}
	return c
}

// mix is color-mix(in srgb, a share, b).
func mix(a, b rgb, share float64) rgb {
	var c rgb
	for i := range c {
		c[i] = a[i]*share + b[i]*(1-share)
	}
	return c
}

// contrast is WCAG 2's contrast ratio of two colours.
func contrast(a, b rgb) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c rgb) float64 {
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}

func TestContrastFormula(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#767676", "#ffffff", 4.54}} {
		if got := contrast(hexRGB(t, tc.a), hexRGB(t, tc.b)); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}
