package slacktext

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeTests are slash-command texts in the shapes Slack sends them.
var decodeTests = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"ampersand", "db &amp; cache down", "db & cache down"},
	{"angle brackets", "latency &gt; 5s &lt;3", "latency > 5s <3"},
	{"decoded once", "&amp;amp;", "&amp;"},
	{"escaped mention markup is a mention", "&lt;@U0BOB&gt;", "<@U0BOB>"},
	{"escaped special markup stays literal", "&lt;!channel&gt;", "<!channel>"},
	{"escaped lt decoded once", "&amp;lt;!channel&amp;gt;", "&lt;!channel&gt;"},
	{"other entities kept", "&quot;x&quot; &AMP; &amp", `&quot;x&quot; &AMP; &amp`},
	{"user mention", "talked to <@U0CAROL|carol> about it", "talked to <@U0CAROL|carol> about it"},
	{"user mention without label", "ping <@U0BOB>", "ping <@U0BOB>"},
	{"enterprise user", "<@W0ENT|ent.user>", "<@W0ENT|ent.user>"},
	{"user label with space dropped", "<@U0BOB|bob smith>", "<@U0BOB>"},
	{"user label with pipe dropped", "<@U0BOB|bob|x>", "<@U0BOB>"},
	{"user label decoding to bracket dropped", "<@U0BOB|b&lt;b>", "<@U0BOB>"},
	{"user label entity decoded", "<@U0BOB|b&amp;b>", "<@U0BOB|b&b>"},
	{"empty user label dropped", "<@U0BOB|>", "<@U0BOB>"},
	{"lowercase user ID is literal", "<@u0bob|bob>", "<@u0bob|bob>"},
	{"short user ID is literal", "<@U0>", "<@U0>"},
	{"channel", "<#C0GEN|general>", "<#C0GEN|general>"},
	{"private channel without label", "<#G0PRIV>", "<#G0PRIV>"},
	{"channel", "in <#C0GEN|general> now", "in <#C0GEN|general> now"},
	{"at channel", "<!channel> db down", "@channel db down"},
	{"at here", "<!here>", "@here"},
	{"at everyone", "<!everyone>", "@everyone"},
	{"at here with label", "<!here|here>", "@here"},
	{"user group", "<!subteam^S0ABC|@oncall>", "@oncall"},
	{"user group label without at", "<!subteam^S0ABC|oncall>", "@oncall"},
	{"user group without label", "<!subteam^S0ABC>", "@group"},
	{"link", "<https://ex.com/a?b=1&amp;c=2>", "<https://ex.com/a?b=1&c=2>"},
	{"link with label", "<https://ex.com|the doc &amp; more>", "<https://ex.com|the doc & more>"},
	{"http link", "see <http://ex.com>", "see <http://ex.com>"},
	{"mailto", "<mailto:a@b.c|mail>", "<mailto:a@b.c|mail>"},
	{"link label with pipe", "<https://ex.com|a|b>", "<https://ex.com|a|b>"},
	{"link label decoding to bracket dropped", "<https://ex.com|a &gt; b>", "<https://ex.com>"},
	{"link URL decoding to bracket", "<https://ex.com/&lt;x&gt;>", "<https://ex.com/%3Cx%3E>"},
	{"link without host is literal", "<https://>", "<https://>"},
	{"unknown scheme is literal", "<ftp://ex.com|x &amp; y>", "<ftp://ex.com|x & y>"},
	{"date", "<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"},
	{"date without fallback", "<!date^1392734382^{date_short}>", "2014-02-18 14:39 UTC"},
	{"date with bad time", "<!date^soon^{date_short}>", "@date"},
	{"other special with label", "<!foo^bar|the &amp; label>", "the & label"},
	{"other special without label", "<!foo^bar>", "@foo"},
	{"empty special is literal", "<!>", "<!>"},
	{"unterminated mention", "<@U0BOB", "<@U0BOB"},
	{"unterminated then mention", "<@U0BOB <@U0AL>", "<@U0BOB <@U0AL>"},
	{"raw bracket", "a < b > c", "a < b > c"},
	{"nested bracket", "<<@U0BOB>>", "<<@U0BOB>>"},
	{"emoji", "on :fire: :rotating_light:", "on :fire: :rotating_light:"},
	{"unicode", "数据库宕机 café 🔥 — ok", "数据库宕机 café 🔥 — ok"},
	{"invalid UTF-8", "a\xffb\xe2\x82", "a\uFFFDb\uFFFD\uFFFD"},
	{"invalid UTF-8 in label", "<@U0BOB|b\xff>", "<@U0BOB|b\uFFFD>"},
}

func TestDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range decodeTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Decode(tc.in); got != tc.want {
				t.Errorf("Decode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var escapeTests = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"literal", "a & b < c > d", "a &amp; b &lt; c &gt; d"},
	{"entity-like text", "&amp;", "&amp;amp;"},
	{"user label dropped", "<@U0BOB|bob> is on it", "<@U0BOB> is on it"},
	{"user", "<@U0BOB>", "<@U0BOB>"},
	{"channel label dropped", "<#C0GEN|general>", "<#C0GEN>"},
	{"link", "<https://ex.com/a?b=1&c=2>", "<https://ex.com/a?b=1&amp;c=2>"},
	{"link label", "<https://ex.com|the doc & <more>", "&lt;https://ex.com|the doc &amp; &lt;more&gt;"},
	{"link label with ampersand", "<https://ex.com|Q&A>", "<https://ex.com|Q&amp;A>"},
	{"mailto", "<mailto:a@b.c|mail>", "<mailto:a@b.c|mail>"},
	{"raw at channel", "<!channel> wake up", "&lt;!channel&gt; wake up"},
	{"raw here and everyone", "<!here><!everyone>", "&lt;!here&gt;&lt;!everyone&gt;"},
	{"raw user group", "<!subteam^S0ABC|@oncall>", "&lt;!subteam^S0ABC|@oncall&gt;"},
	{"URL with space", "<https://a b>", "&lt;https://a b&gt;"},
	{"lowercase ID", "<@u0bob>", "&lt;@u0bob&gt;"},
	{"bracket before mention", "<<@U0BOB>>", "&lt;<@U0BOB>&gt;"},
	{"unterminated", "<@U0BOB", "&lt;@U0BOB"},
	{"unicode", "宕机 🔥", "宕机 🔥"},
	{"invalid UTF-8", "\xff<", "\uFFFD&lt;"},
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range escapeTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Escape(tc.in)
			if got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkEscaped(t, got)
		})
	}
}

// TestDecodeEscape follows slash-command text from Slack to a message.
func TestDecodeEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"ampersand escaped once", "db &amp; cache", "db &amp; cache"},
		{"at channel neutralised", "<!channel> db down", "@channel db down"},
		{"typed mention markup stays literal", "&lt;!channel&gt;", "&lt;!channel&gt;"},
		{"mention", "<@U0CAROL|carol> on it", "<@U0CAROL> on it"},
		{"link", "<https://ex.com/a?b=1&amp;c=2|doc>", "<https://ex.com/a?b=1&amp;c=2|doc>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Escape(Decode(tc.in)); got != tc.want {
				t.Errorf("Escape(Decode(%q)) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// checkEscaped fails t unless e is safe mrkdwn: every '<' starts a
// canonical reference (never <!), every '>' ends one, and every '&'
// starts &amp;, &lt; or &gt;.
func checkEscaped(t *testing.T, e string) {
	t.Helper()
	if !utf8.ValidString(e) {
		t.Errorf("escaped %q: not valid UTF-8", e)
	}
	for i := 0; i < len(e); i++ {
		switch e[i] {
		case '&':
			rest := e[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("escaped %q: bare & at %d", e, i)
			}
		case '<':
			rest := e[i:]
			if !strings.HasPrefix(rest, "<@") && !strings.HasPrefix(rest, "<#") &&
				!strings.HasPrefix(rest, "<http") && !strings.HasPrefix(rest, "<mailto:") {
				t.Fatalf("escaped %q: < at %d starts no reference", e, i)
			}
			_, n, ok := parseRef(rest)
			if !ok {
				t.Fatalf("escaped %q: < at %d starts no well-formed reference", e, i)
			}
			if canon := Escape(Decode(rest[:n])); rest[:n] != canon {
				t.Fatalf("escaped %q: reference %q is not canonical (%q)", e, rest[:n], canon)
			}
			// The reference's own '&'s are checked by this loop too;
			// only its closing '>' is skipped.
			if j := strings.IndexByte(rest, '>'); j >= 0 {
				for k := i + 1; k < i+j; k++ {
					if e[k] == '&' {
						rest := e[k:]
						if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
							t.Fatalf("escaped %q: bare & at %d", e, k)
						}
					}
				}
				i += j
			}
		case '>':
			t.Fatalf("escaped %q: > at %d ends no reference", e, i)
		}
	}
	if strings.Contains(e, "<!") {
		t.Fatalf("escaped %q contains <!", e)
	}
}

// checkRoundTrip fails t unless Escape(Decode(Escape(Decode(x)))) ==
// Escape(Decode(x)).
func checkRoundTrip(t *testing.T, x string) {
	t.Helper()
	once := Escape(Decode(x))
	if twice := Escape(Decode(once)); twice != once {
		t.Fatalf("round trip of %q: Escape(Decode(x)) = %q, and again %q", x, once, twice)
	}
}

// roundTripPieces are what random texts for the round trip are made of.
var roundTripPieces = []string{
	"<", ">", "&", "amp;", "lt;", "gt;", "&amp;", "&lt;", "&gt;", "|", "!", "^",
	"@", "#", "@U0BOB", "#C0GEN", "U0AL", "https://", "http://ex.com", "mailto:", "ftp://",
	"channel", "here", "subteam^S0ABC", "date^1392734382^{date}", " ", "\t", "a", "é", "🔥", "\xff", "\xe2\x82",
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range decodeTests {
		t.Run("decode "+tc.name, func(t *testing.T) {
			t.Parallel()
			checkRoundTrip(t, tc.in)
		})
	}
	for _, tc := range escapeTests {
		t.Run("escape "+tc.name, func(t *testing.T) {
			t.Parallel()
			checkRoundTrip(t, tc.in)
			checkRoundTrip(t, Escape(tc.in))
		})
	}
	t.Run("random", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteString(roundTripPieces[rng.IntN(len(roundTripPieces))])
			}
			x := b.String()
			checkRoundTrip(t, x)
			checkEscaped(t, Escape(x))
			checkEscaped(t, Escape(Decode(x)))
		}
	})
}

func TestEscapeFit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		// The cases of bot's escapeFit, which this replaces.
		{"fits", "a<b", 10, "a&lt;b"},
		{"entities", "<<<<", 9, "&lt;&lt;…"},
		{"cut before an entity", "ab&", 5, "ab…"},
		{"entity fits exactly", "ab&", 7, "ab&amp;"},
		{"cut after an entity", "a&b&c", 8, "a&amp;b…"},
		{"long", strings.Repeat("<é&", 400), 10, "&lt;é…"},
		// References.
		{"exact fit", "see <@U0BOB|bob> now", 16, "see <@U0BOB> now"},
		{"cut after a reference", "see <@U0BOB|bob> now", 13, "see <@U0BOB>…"},
		{"cut before a reference", "see <@U0BOB|bob> now", 12, "see …"},
		{"reference that does not fit dropped whole", "<https://ex.com/a?b&c|the doc> more", 20, "…"},
		{"link fits", "<https://ex.com|doc> and more", 23, "<https://ex.com|doc> a…"},
		{"cut inside link label", "x <https://ex.com|a&b> y", 26, "x …"},
		{"raw special escaped then cut", "<!channel>", 6, "&lt;!…"},
		{"unicode", "宕机宕机宕机", 4, "宕机宕…"},
		// Small n.
		{"n is one", "abc", 1, "…"},
		{"n smaller than the ellipsis", "abc", 0, ""},
		{"negative n", "abc", -3, ""},
		{"empty fits", "", 0, ""},
		{"one rune fits one", "a", 1, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := EscapeFit(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("EscapeFit(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if tc.n >= 0 && utf8.RuneCountInString(got) > tc.n {
				t.Errorf("EscapeFit(%q, %d) = %q: %d runes", tc.in, tc.n, got, utf8.RuneCountInString(got))
			}
		})
	}
}

// checkFit fails t unless EscapeFit(s, n) is Escape(s) when that fits,
// and otherwise a prefix of it ending at a unit boundary, followed by "…",
// in at most n runes.
func checkFit(t *testing.T, s string, n int) {
	t.Helper()
	got, e := EscapeFit(s, n), Escape(s)
	if utf8.RuneCountInString(got) > max(n, 0) {
		t.Fatalf("EscapeFit(%q, %d) = %q: %d runes", s, n, got, utf8.RuneCountInString(got))
	}
	if got == e {
		return
	}
	if n >= 1 && utf8.RuneCountInString(e) <= n {
		t.Fatalf("EscapeFit(%q, %d) = %q, want all of %q", s, n, got, e)
	}
	if n < 1 {
		if got != "" {
			t.Fatalf("EscapeFit(%q, %d) = %q, want empty", s, n, got)
		}
		return
	}
	prefix, ok := strings.CutSuffix(got, "…")
	if !ok || !strings.HasPrefix(e, prefix) {
		t.Fatalf("EscapeFit(%q, %d) = %q: not a prefix of %q with …", s, n, got, e)
	}
	checkEscaped(t, prefix)
}

func TestPlain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"literal, no escaping", "a & b < c", "a & b < c"},
		{"user with label", "ask <@U0BOB|bob>", "ask @bob"},
		{"user without label", "ask <@U0BOB>", "ask @U0BOB"},
		{"channel with label", "<#C0GEN|general>", "#general"},
		{"channel without label", "<#C0GEN>", "#C0GEN"},
		{"link", "<https://ex.com/a?b=1&c=2>", "https://ex.com/a?b=1&c=2"},
		{"link with label", "<https://ex.com|the doc>", "the doc (https://ex.com)"},
		{"link labelled with its host", "<http://ex.com|ex.com>", "ex.com"},
		{"mail labelled with its address", "<mailto:a@b.c|a@b.c>", "a@b.c"},
		{"raw special is literal", "<!channel>", "<!channel>"},
		{"decoded at channel", Decode("<!channel> db &amp; cache"), "@channel db & cache"},
		{"invalid UTF-8", "a\xff", "a\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Plain(tc.in); got != tc.want {
				t.Errorf("Plain(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPlainNames(t *testing.T) {
	t.Parallel()
	names := func(id string) string {
		return map[string]string{"U0BOB": "Bob Jones"}[id]
	}
	for _, tc := range []struct {
		name, in, want string
		names          func(string) string
	}{
		{"named", "ask <@U0BOB|bob>", "ask @Bob Jones", names},
		{"unknown falls back to label", "ask <@U0AL|al>", "ask @al", names},
		{"unknown without label falls back to ID", "ask <@U0AL>", "ask @U0AL", names},
		{"channel as Plain", "<#C0GEN|general>", "#general", names},
		{"nil name is Plain", "ask <@U0BOB|bob>", "ask @bob", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := PlainNames(tc.in, tc.names); got != tc.want {
				t.Errorf("PlainNames(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string // as Slack sends it
		want int
	}{
		{"empty", "", 0},
		{"entity counts once", "db &amp; cache", 10},
		{"mention counts as its name", "<@U0BOB|bob>", 4},
		{"unicode", "宕机 🔥", 4},
		{"at channel", "<!channel>", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Len(Decode(tc.in)); got != tc.want {
				t.Errorf("Len(Decode(%q)) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestUserMention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, word, id string
		ok             bool
	}{
		{"bare", "<@U0BOB>", "U0BOB", true},
		{"labelled", "<@U0BOB|bob>", "U0BOB", true},
		{"enterprise", "<@W0ENT|ent.user>", "W0ENT", true},
		{"label with space still a mention", "<@U0BOB|bob smith>", "U0BOB", true},
		{"trailing text", "<@U0BOB>,", "", false},
		{"leading text", "x<@U0BOB>", "", false},
		{"two mentions", "<@U0BOB><@U0AL>", "", false},
		{"channel", "<#C0GEN>", "", false},
		{"link", "<https://ex.com>", "", false},
		{"lowercase", "<@u0bob>", "", false},
		{"plain name", "@bob", "", false},
		{"empty", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, ok := UserMention(tc.word)
			if id != tc.id || ok != tc.ok {
				t.Errorf("UserMention(%q) = %q, %v, want %q, %v", tc.word, id, ok, tc.id, tc.ok)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"none", "no one <#C0GEN> <!here>", nil},
		{"in order without repeats", "<@U0BOB|bob> and <@U0AL> then <@U0BOB> and <@W0ENT|e>", []string{"U0BOB", "U0AL", "W0ENT"}},
		{"not in a broken token", "<@U0BOB <@u0al>", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Users(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Users(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// seeds adds every table case's input to f's corpus.
func seeds(add func(string)) {
	for _, tc := range decodeTests {
		add(tc.in)
	}
	for _, tc := range escapeTests {
		add(tc.in)
	}
}

func FuzzDecode(f *testing.F) {
	seeds(func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, s string) {
		d := Decode(s)
		if !utf8.ValidString(d) {
			t.Fatalf("Decode(%q) = %q: not valid UTF-8", s, d)
		}
		checkEscaped(t, Escape(d))
		checkRoundTrip(t, s)
		for _, n := range []int{1, 2, 5, 13, len(s) / 2} {
			checkFit(t, d, n)
		}
		_ = PlainNames(d, func(id string) string { return id })
		if Len(d) != utf8.RuneCountInString(Plain(d)) {
			t.Fatalf("Len(%q) disagrees with Plain", d)
		}
	})
}

func FuzzEscape(f *testing.F) {
	seeds(func(s string) { f.Add(s, 10) })
	f.Fuzz(func(t *testing.T, s string, n int) {
		e := Escape(s)
		checkEscaped(t, e)
		if again := Escape(Decode(e)); again != e {
			t.Fatalf("Escape(Decode(Escape(%q))) = %q, want %q", s, again, e)
		}
		checkRoundTrip(t, s)
		checkFit(t, s, n%500)
		for _, id := range Users(s) {
			if !strings.Contains(e, "<@"+id+">") {
				t.Fatalf("Users(%q) has %s, which Escape does not mention", s, id)
			}
		}
	})
}

// longText is about 100 KB of slash-command text in Slack's shapes.
var longText = strings.Repeat("db &amp; cache &lt;down&gt; for <@U0BOB|bob>, see <https://ex.com/a?b=1&amp;c=2|the doc> in <#C0GEN|general> <!here> ", 1000)

func BenchmarkDecode(b *testing.B) {
	b.SetBytes(int64(len(longText)))
	for b.Loop() {
		Decode(longText)
	}
}

func BenchmarkEscapeFit(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"entities", strings.Repeat("&<", 50000)},
		{"brackets", strings.Repeat("<", 100000)},
		{"unterminated", strings.Repeat("<@U0BOB ", 12500)},
		{"references", Decode(longText)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			for b.Loop() {
				EscapeFit(bc.s, 3000)
			}
		})
	}
}
