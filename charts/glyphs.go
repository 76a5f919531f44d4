package charts

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot/font"
)

// missingGlyph stands in for a character Liberation Sans cannot draw (CJK,
// emoji): visible, so a reader sees that something is there, and the same
// width in PNG and SVG, so the layout holds. The full text is in the
// message the chart comes with.
const missingGlyph = '□'

// coverage tells which runes Liberation Sans (regular and bold share their
// character set) has a glyph for, and remembers each answer.
var coverage struct {
	once sync.Once
	font *sfnt.Font
	mu   sync.Mutex
	buf  sfnt.Buffer
	has  map[rune]bool
}

// hasGlyph reports whether Liberation Sans can draw r.
func hasGlyph(r rune) bool {
	if r < 0x7F && r >= 0x20 {
		return true
	}
	coverage.once.Do(func() {
		coverage.font = font.DefaultCache.Lookup(sans, 10).Face
		coverage.has = map[rune]bool{}
	})
	if coverage.font == nil {
		return true
	}
	coverage.mu.Lock()
	defer coverage.mu.Unlock()
	has, ok := coverage.has[r]
	if !ok {
		i, err := coverage.font.GlyphIndex(&coverage.buf, r)
		has = err == nil && i != 0
		coverage.has[r] = has
	}
	return has
}

// joins reports whether r only modifies or joins the character before it
// in an emoji sequence (a joiner, a variation selector, a skin tone, a
// tag): it adds no placeholder of its own after one.
func joins(r rune) bool {
	return r == '\u200D' || r >= 0xFE00 && r <= 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF ||
		r >= 0xE0020 && r <= 0xE007F || r == '\u20E3'
}

// drawable returns s with each character Liberation Sans cannot draw
// replaced by missingGlyph, an emoji sequence by one, so no character is
// dropped silently: "決済 👩‍💻 down" becomes "□□ □ down".
func drawable(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	placeholder := false // the last rune written is a placeholder
	joined := false      // a joiner followed that placeholder
	for _, r := range s {
		switch {
		case placeholder && joins(r):
			joined = joined || r == '\u200D'
		case placeholder && joined && !hasGlyph(r):
			joined = false // joined to the placeholder before
		case hasGlyph(r) || unicode.IsSpace(r):
			b.WriteRune(r)
			placeholder, joined = false, false
		case joins(r):
			// Invisible anyway after a drawable rune.
		default:
			b.WriteRune(missingGlyph)
			placeholder, joined = true, false
		}
	}
	return b.String()
}
