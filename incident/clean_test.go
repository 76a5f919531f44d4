package incident

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, text, line string
	}{
		{"plain", "db is down", "db is down", "db is down"},
		{"trimmed", "  db is down \n", "db is down", "db is down"},
		{"NUL and ESC", "db\x00 is\x1b[31m down", "db is[31m down", "db is[31m down"},
		{"DEL and C1", "a\x7fb\u0085c\u009bd", "abcd", "abcd"},
		{"tab", "a\tb", "a b", "a b"},
		{"lines", "first\r\nsecond\rthird\u2028fourth", "first\nsecond\nthird\nfourth", "first second third fourth"},
		{"right-to-left override", "invoice\u202Egpj.exe", "invoicegpj.exe", "invoicegpj.exe"},
		{"bidi isolates and embeddings", "\u2066a\u2069\u202Ab\u202C\u2067c\u2068", "abc", "abc"},
		{"zero-width", "ad\u200Bmin\u200C\u200E\u200F\u2060\uFEFF\u061C!", "admin!", "admin!"},
		{"invisible operators", "a\u2061b\u2062c\u2063d\u2064", "abcd", "abcd"},
		{"emoji ZWJ kept", "👩\u200D💻 on it", "👩\u200D💻 on it", "👩\u200D💻 on it"},
		{"emoji ZWJ with selector kept", "🏳\uFE0F\u200D🌈 and ❤\uFE0F\u200D🔥", "🏳\uFE0F\u200D🌈 and ❤\uFE0F\u200D🔥", "🏳\uFE0F\u200D🌈 and ❤\uFE0F\u200D🔥"},
		{"skin tone ZWJ kept", "👩🏽\u200D🚀", "👩🏽\u200D🚀", "👩🏽\u200D🚀"},
		{"ZWJ between letters dropped", "ad\u200Dmin", "admin", "admin"},
		{"ZWJ at the ends dropped", "\u200D👍\u200D", "👍", "👍"},
		{"doubled ZWJ kept once", "👩\u200D\u200D💻", "👩\u200D💻", "👩\u200D💻"},
		{"ZWJ hidden by a zero-width space", "👩\u200B\u200D💻", "👩\u200D💻", "👩\u200D💻"},
		{"CJK and accents kept", "決済が失敗 café", "決済が失敗 café", "決済が失敗 café"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb", "a\uFFFDb"},
		{"only invisible", "\u200B\u202E\x00", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := CleanText(tc.in); got != tc.text {
				t.Errorf("CleanText(%+q) = %+q, want %+q", tc.in, got, tc.text)
			}
			if got := CleanLine(tc.in); got != tc.line {
				t.Errorf("CleanLine(%+q) = %+q, want %+q", tc.in, got, tc.line)
			}
		})
	}
}

func TestNormalizeTitleCleans(t *testing.T) {
	t.Parallel()
	if got, want := NormalizeTitle(" checkout\u202E  fails\x1b\n for\u200B cards "), "checkout fails for cards"; got != want {
		t.Errorf("NormalizeTitle = %+q, want %+q", got, want)
	}
}

// checkClean fails t if out, what clean(in, lines) returned, holds a banned
// character, a joiner outside an emoji sequence, a line break it should
// not, or invalid UTF-8, or if cleaning it again changes it.
func checkClean(t *testing.T, in, out string, lines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("clean(%+q) = %+q: not valid UTF-8", in, out)
	}
	rs := []rune(out)
	for i, r := range rs {
		switch {
		case banned(r):
			t.Fatalf("clean(%+q) = %+q keeps %U", in, out, r)
		case r == '\t' || r == '\r' || r == '\u2028' || r == '\u2029':
			t.Fatalf("clean(%+q) = %+q keeps %U", in, out, r)
		case r == '\n' && !lines:
			t.Fatalf("CleanLine(%+q) = %+q keeps a line break", in, out)
		case r == zwj && (i == 0 || i == len(rs)-1 || !emoji(rs[i-1]) || !emoji(rs[i+1])):
			t.Fatalf("clean(%+q) = %+q keeps a joiner outside an emoji sequence", in, out)
		}
	}
	if out != strings.TrimSpace(out) {
		t.Fatalf("clean(%+q) = %+q is not trimmed", in, out)
	}
	if again := clean(out, lines); again != out {
		t.Fatalf("not idempotent: clean(%+q) = %+q, then %+q", in, out, again)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "db is down", "a\x00b\x1b[0m", "\u202Egpj.exe", "👩\u200D💻", "👩\u200B\u200D\u200D💻",
		"a\r\nb\rc", "\u200D👍\u200D", "\xff\xfe", "決済\u2066が\u2069失敗", "\t \u2028 \u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkClean(t, s, CleanText(s), true)
		checkClean(t, s, CleanLine(s), false)
		if n := NormalizeTitle(s); n != NormalizeTitle(n) {
			t.Fatalf("NormalizeTitle not idempotent on %+q", s)
		}
	})
}
