package incident

import (
	"strings"
	"unicode/utf8"
)

// zwj is the zero-width joiner, kept only inside emoji sequences such as
// 👩‍💻, where it is what joins them.
const zwj = '\u200D'

// banned reports whether r is a character CleanText removes wherever it
// stands: a control character other than tab, newline and carriage return
// (which CleanText rewrites), an invisible formatting character that can
// hide or reorder text (zero-width space, joiner and non-joiner, the
// left-to-right and right-to-left marks, the bidi embeddings, overrides
// and isolates, the word joiner and invisible operators, the byte order
// mark).
func banned(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r >= 0x7F && r <= 0x9F: // DEL and the C1 controls
		return true
	case r >= 0x200B && r <= 0x200F: // zero-width space … right-to-left mark
		return r != zwj
	case r >= 0x202A && r <= 0x202E: // bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x2064: // word joiner, invisible operators
		return true
	case r >= 0x2066 && r <= 0x2069: // bidi isolates
		return true
	case r == 0xFEFF, r == 0x061C: // byte order mark, Arabic letter mark
		return true
	}
	return false
}

// emoji reports whether r can stand on either side of a zero-width joiner
// in an emoji sequence: a pictograph, a dingbat or symbol with an emoji
// form, a skin tone, or (before the joiner) the emoji variation selector.
func emoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, // pictographs, skin tones, flags
		r >= 0x2600 && r <= 0x27BF,   // symbols (♀ ♂ ⚕ ❤) and dingbats
		r >= 0x2300 && r <= 0x23FF,   // technical symbols (⌚ ⏰)
		r >= 0x2B00 && r <= 0x2BFF,   // arrows and squares (⬛ ⭐)
		r == 0xFE0F,                  // emoji presentation selector
		r >= 0xE0020 && r <= 0xE007F, // tags ending subdivision flags
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122:
		return true
	}
	return false
}

// CleanText removes from user text what can hide or disguise it, for text
// that may span lines (notes, descriptions): control characters, bidi
// overrides and zero-width characters. It turns tabs into spaces and every
// line break (CR LF, CR, U+2028, U+2029) into "\n", keeps a zero-width
// joiner only between two emoji (👩‍💻 stays one picture), writes each byte
// of invalid UTF-8 as U+FFFD, and trims the ends. It is idempotent.
func CleanText(s string) string { return clean(s, true) }

// CleanLine is CleanText for one-line text (titles, reasons, summaries):
// line breaks become spaces as well.
func CleanLine(s string) string { return clean(s, false) }

// clean is CleanText, keeping line breaks if lines.
func clean(s string, lines bool) string {
	if plain(s, lines) {
		return strings.TrimSpace(s)
	}
	// First everything but the joiners, then each joiner judged by what
	// stands on either side of it once the rest is gone: so a joiner a
	// banned character hid is judged the same in a second pass.
	rs := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // the \n that follows stands for both
			}
			r = '\n'
		case r == '\u2028', r == '\u2029':
			r = '\n'
		case r == '\t':
			r = ' '
		case banned(r):
			continue
		}
		if r == '\n' && !lines {
			r = ' '
		}
		rs = append(rs, r)
	}
	var b strings.Builder
	b.Grow(len(s))
	var last rune
	for i, r := range rs {
		if r == zwj && !(emoji(last) && i+1 < len(rs) && emoji(rs[i+1])) {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	return strings.TrimSpace(b.String())
}

// plain reports whether s is printable ASCII only (or newlines, if lines),
// which clean leaves as it is but for trimming.
func plain(s string, lines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && (c != '\n' || !lines)) || c >= 0x7F {
			return false
		}
	}
	return true
}
