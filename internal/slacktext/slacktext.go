// Package slacktext is sitrep's one reader and writer of Slack-formatted text.
//
// Domain code and the database hold "sitrep text": plain text exactly as the
// user meant it, with no HTML-like entities, in which only three kinds of
// reference exist, written in Slack's own bracket syntax:
//
//   - a user mention, <@U0BOB> or <@U0BOB|bob>: the ID matches
//     [UW][A-Z0-9]{2,}; the label is kept only if it is non-empty and has no
//     whitespace, '<', '>' or '|' (otherwise the mention stands without it);
//   - a channel link, <#C0GEN> or <#C0GEN|general>: the ID matches
//     [CGD][A-Z0-9]{2,}, with the same label rule;
//   - a link, <https://…>, <http://…> or <mailto:…>, optionally followed by
//     |label; the URL has no whitespace, '<', '>' or '|', and the label may
//     hold anything but '<' and '>'.
//
// Everything else is literal: a '<', '>' or '&' in sitrep text is just that
// character, and text such as <!channel> is never a reference. Text that
// spells a reference is that reference, wherever it came from.
//
// Decode turns slash-command text as Slack sends it into sitrep text; Escape
// and EscapeFit turn sitrep text into mrkdwn; Plain and PlainNames turn it
// into text for readers outside Slack. Every function returns valid UTF-8:
// each byte of an invalid sequence becomes U+FFFD.
package slacktext

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// kind tells which of the three references a ref is.
type kind uint8

const (
	userRef kind = iota + 1
	channelRef
	linkRef
)

// ref is one reference in sitrep text.
type ref struct {
	kind  kind
	id    string // the user or channel ID, or the link's URL
	label string // "" when there is none (or it broke the label rule)
}

// schemes are the URL prefixes that make a link.
var schemes = [...]string{"https://", "http://", "mailto:"}

// token returns the text between the '<' that starts s and the next '>',
// and the token's length in bytes including both brackets. It fails when
// another '<' comes first or no '>' follows. It reads s only up to that
// '<' or '>', which keeps every scan over a text linear.
func token(s string) (body string, n int, ok bool) {
	j := strings.IndexAny(s[1:], "<>")
	if j < 0 || s[1+j] != '>' {
		return "", 0, false
	}
	return s[1 : 1+j], j + 2, true
}

// isID reports whether s is a Slack ID whose first letter is one of first,
// followed by at least two of A-Z and 0-9.
func isID(s, first string) bool {
	if len(s) < 3 || strings.IndexByte(first, s[0]) < 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// isURL reports whether u can be a link's URL: a known scheme, something
// after it, and no whitespace. The caller has already excluded '<', '>'
// and '|'.
func isURL(u string) bool {
	ok := false
	for _, p := range schemes {
		if len(u) > len(p) && strings.HasPrefix(u, p) {
			ok = true
			break
		}
	}
	return ok && strings.IndexFunc(u, unicode.IsSpace) < 0
}

// validName reports whether a user or channel label may be kept.
func validName(l string) bool {
	return l != "" && strings.IndexFunc(l, func(r rune) bool {
		return r == '<' || r == '>' || r == '|' || unicode.IsSpace(r)
	}) < 0
}

// parseRef reads the reference at the start of s, which begins with '<',
// and returns it with its length in bytes.
func parseRef(s string) (r ref, n int, ok bool) {
	body, n, ok := token(s)
	if !ok {
		return ref{}, 0, false
	}
	target, label, _ := strings.Cut(body, "|")
	switch {
	case strings.HasPrefix(target, "@") && isID(target[1:], "UW"):
		r = ref{kind: userRef, id: target[1:]}
	case strings.HasPrefix(target, "#") && isID(target[1:], "CGD"):
		r = ref{kind: channelRef, id: target[1:]}
	case isURL(target):
		return ref{kind: linkRef, id: target, label: label}, n, true
	default:
		return ref{}, 0, false
	}
	if validName(label) {
		r.label = label
	}
	return r, n, true
}

// walk calls text with each run of literal text in the sitrep text s and
// ref with each reference, in order, in linear time.
func walk(s string, text func(string), ref func(ref)) {
	start := 0
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '<')
		if k < 0 {
			break
		}
		i += k
		r, n, ok := parseRef(s[i:])
		if !ok {
			i++
			continue
		}
		if start < i {
			text(s[start:i])
		}
		ref(r)
		i += n
		start = i
	}
	if start < len(s) {
		text(s[start:])
	}
}

// mode tells writeText what to do with '&', '<' and '>'.
type mode uint8

const (
	keep      mode = iota // write them as they are
	decode                // decode &amp; &lt; &gt; once
	escapeAll             // escape all three
	escapeAmp             // escape '&' only (a URL)
)

// writeText writes s to b, transformed as m says, with each byte of an
// invalid UTF-8 sequence written as U+FFFD.
func writeText(b *strings.Builder, s string, m mode) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteRune(utf8.RuneError)
				start = i + 1
			}
			i += size
			continue
		}
		rep, n := "", 1
		switch m {
		case decode:
			if c == '&' {
				switch {
				case strings.HasPrefix(s[i:], "&amp;"):
					rep, n = "&", 5
				case strings.HasPrefix(s[i:], "&lt;"):
					rep, n = "<", 4
				case strings.HasPrefix(s[i:], "&gt;"):
					rep, n = ">", 4
				}
			}
		case escapeAll:
			switch c {
			case '&':
				rep = "&amp;"
			case '<':
				rep = "&lt;"
			case '>':
				rep = "&gt;"
			}
		case escapeAmp:
			if c == '&' {
				rep = "&amp;"
			}
		}
		if rep != "" {
			b.WriteString(s[start:i])
			b.WriteString(rep)
			start = i + n
		}
		i += n
	}
	b.WriteString(s[start:])
}

// text returns s transformed as writeText does.
func text(s string, m mode) string {
	var b strings.Builder
	b.Grow(len(s))
	writeText(&b, s, m)
	return b.String()
}

// Decode turns slash-command text as Slack sends it into sitrep text. It
// decodes the entities &amp;, &lt; and &gt; exactly once (so &amp;lt;
// becomes the literal text &lt;) and keeps user mentions, channel links and
// links as references, with their labels decoded; a label that breaks the
// label rule is dropped, as is a link label that decodes to '<' or '>'.
// Special mentions become plain words that ping no one: <!channel>,
// <!here> and <!everyone> become @channel, @here and @everyone; a user
// group <!subteam^S0ABC|@oncall> becomes @oncall (@group without a label);
// a date <!date^…|fallback> becomes its fallback (its time in UTC without
// one); any other <!…|label> becomes its label, and <!word^…> becomes
// @word. A '<' that does not start a well-formed token is kept as a literal
// '<'. Escaped text that spells a reference, such as &lt;@U0BOB&gt;,
// decodes to that reference: sitrep text cannot hold it literally (a
// special mention cannot be spelt this way). Decode never panics, whatever
// s holds.
func Decode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := 0
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '<')
		if k < 0 {
			break
		}
		i += k
		body, n, ok := token(s[i:])
		if !ok {
			i++
			continue
		}
		out, ok := decodeToken(body)
		if !ok {
			i++
			continue
		}
		writeText(&b, s[start:i], decode)
		b.WriteString(out)
		i += n
		start = i
	}
	writeText(&b, s[start:], decode)
	return b.String()
}

// urlBrackets percent-encodes the '<' and '>' a URL Slack sent may decode
// to: either would end the reference in sitrep text.
var urlBrackets = strings.NewReplacer("<", "%3C", ">", "%3E")

// decodeToken returns the sitrep text for the body of a token Slack sent
// between '<' and '>', or false when it is no token Decode knows.
func decodeToken(body string) (string, bool) {
	target, rawLabel, _ := strings.Cut(body, "|")
	label := text(rawLabel, decode)
	switch {
	case strings.HasPrefix(target, "@") && isID(target[1:], "UW"),
		strings.HasPrefix(target, "#") && isID(target[1:], "CGD"):
		if validName(label) {
			return "<" + target + "|" + label + ">", true
		}
		return "<" + target + ">", true
	case strings.HasPrefix(target, "!"):
		return decodeSpecial(target[1:], label)
	case isURL(target):
		url := urlBrackets.Replace(text(target, decode))
		if label == "" || strings.ContainsAny(label, "<>") {
			return "<" + url + ">", true
		}
		return "<" + url + "|" + label + ">", true
	}
	return "", false
}

// decodeSpecial returns the plain words for a special mention <!rest|label>,
// the label already decoded.
func decodeSpecial(rest, label string) (string, bool) {
	word, args, _ := strings.Cut(rest, "^")
	word = text(word, decode)
	switch {
	case word == "channel" || word == "here" || word == "everyone":
		return "@" + word, true
	case word == "subteam":
		if label == "" {
			return "@group", true
		}
		if !strings.HasPrefix(label, "@") {
			label = "@" + label
		}
		return label, true
	case label != "":
		return label, true
	case word == "date":
		ts, _, _ := strings.Cut(args, "^")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && sec > -1e11 && sec < 1e11 {
			return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04 UTC"), true
		}
	}
	if word == "" {
		return "", false
	}
	return "@" + word, true
}

// writeEscaped writes the mrkdwn form of a reference.
func writeEscaped(b *strings.Builder, r ref) {
	switch r.kind {
	case userRef:
		b.WriteString("<@")
		b.WriteString(r.id)
	case channelRef:
		b.WriteString("<#")
		b.WriteString(r.id)
	case linkRef:
		b.WriteByte('<')
		writeText(b, r.id, escapeAmp)
		if r.label != "" {
			b.WriteByte('|')
			writeText(b, r.label, escapeAll)
		}
	}
	b.WriteByte('>')
}

// Escape turns sitrep text into mrkdwn for a message's text or a section.
// It escapes '&', '<' and '>' as &amp;, &lt; and &gt; exactly once, except
// in references, which it writes canonically: a user mention as <@U0BOB>
// and a channel link as <#C0GEN> (without their labels: Slack shows the
// current name), a link as <url> or <url|label>, with '&' in the URL and
// '&', '<' and '>' in the label escaped. Text that looks like a special
// mention, such as <!channel>, is not a reference and comes out as
// &lt;!channel&gt;, so it can never ping.
func Escape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	walk(s, func(t string) { writeText(&b, t, escapeAll) }, func(r ref) { writeEscaped(&b, r) })
	return b.String()
}

// EscapeFit returns Escape(s) cut so that it is at most n runes, ending in
// "…" when cut. It keeps the longest prefix that fits with the "…" and
// never splits an entity or a reference: a reference that does not fit is
// dropped whole, and the text after it with it. For n < 1 it returns "".
// It runs in time linear in len(s).
func EscapeFit(s string, n int) string {
	if n < 1 {
		return ""
	}
	e := Escape(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	// Every '&' in e starts an entity ending in ';', and every '<' a
	// reference ending in '>' (Escape escapes every other one), so e
	// splits into units that can be kept or dropped whole.
	budget, used, cut := n-1, 0, 0
	for i := 0; i < len(e); {
		end, w := i+1, 1
		switch e[i] {
		case '&':
			if j := strings.IndexByte(e[i:], ';'); j >= 0 {
				end, w = i+j+1, j+1
			}
		case '<':
			if j := strings.IndexByte(e[i:], '>'); j >= 0 {
				end = i + j + 1
				w = utf8.RuneCountInString(e[i:end])
			}
		default:
			_, size := utf8.DecodeRuneInString(e[i:])
			end = i + size
		}
		if used+w > budget {
			break
		}
		used += w
		i, cut = end, end
	}
	return e[:cut] + "…"
}

// Plain turns sitrep text into text for readers outside Slack (channel
// topics, exports, charts, channel-name slugs), without escaping: a user
// mention as @label (@U0BOB without a label), a channel link as #label
// (#C0GEN without one), and a link as "label (url)", or as its URL alone
// when it has no label. A link whose label is its URL, with or without the
// scheme, shows only the label, as the user typed it.
func Plain(s string) string {
	return PlainNames(s, nil)
}

// PlainNames is like Plain but writes a user mention as @ followed by
// name(id) when name is not nil and returns a non-empty name.
func PlainNames(s string, name func(userID string) string) string {
	var b strings.Builder
	b.Grow(len(s))
	walk(s, func(t string) { writeText(&b, t, keep) }, func(r ref) {
		switch r.kind {
		case userRef:
			b.WriteByte('@')
			n := ""
			if name != nil {
				n = name(r.id)
			}
			switch {
			case n != "":
				writeText(&b, n, keep)
			case r.label != "":
				writeText(&b, r.label, keep)
			default:
				b.WriteString(r.id)
			}
		case channelRef:
			b.WriteByte('#')
			if r.label != "" {
				writeText(&b, r.label, keep)
			} else {
				b.WriteString(r.id)
			}
		case linkRef:
			switch {
			case r.label == "":
				writeText(&b, r.id, keep)
			case labelIsURL(r.label, r.id):
				writeText(&b, r.label, keep)
			default:
				writeText(&b, r.label, keep)
				b.WriteString(" (")
				writeText(&b, r.id, keep)
				b.WriteByte(')')
			}
		}
	})
	return b.String()
}

// labelIsURL reports whether a link's label is its URL, with or without
// the scheme, as when Slack links text the user typed.
func labelIsURL(label, url string) bool {
	if label == url {
		return true
	}
	for _, p := range schemes {
		if strings.HasPrefix(url, p) && url[len(p):] == label {
			return true
		}
	}
	return false
}

// Len returns the length in runes of what the user typed: the rune count
// of Plain(s).
func Len(s string) int {
	return utf8.RuneCountInString(Plain(s))
}

// UserMention reports whether word is exactly one user mention reference,
// <@U0BOB> or <@U0BOB|bob>, and returns the user's ID.
func UserMention(word string) (id string, ok bool) {
	if !strings.HasPrefix(word, "<") {
		return "", false
	}
	r, n, ok := parseRef(word)
	if !ok || n != len(word) || r.kind != userRef {
		return "", false
	}
	return r.id, true
}

// Users returns the IDs of the users mentioned in the sitrep text s, in
// the order of their first mention, each once.
func Users(s string) []string {
	var ids []string
	seen := map[string]bool{}
	walk(s, func(string) {}, func(r ref) {
		if r.kind == userRef && !seen[r.id] {
			seen[r.id] = true
			ids = append(ids, r.id)
		}
	})
	return ids
}
