package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// escaper turns the three characters Slack's mrkdwn treats as control into
// entities, so user text can never ping @channel or forge a link.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes user text safe to place in mrkdwn or a message's text.
func escape(s string) string { return escaper.Replace(s) }

// truncate shortens s to at most n runes, ending it with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escapeFit escapes s and cuts it so that the escaped text is at most n
// runes, never splitting an entity.
func escapeFit(s string, n int) string {
	if e := escape(s); utf8.RuneCountInString(e) <= n {
		return e
	}
	// The longest prefix whose escaped form fits with the "…".
	var b strings.Builder
	used := 0
	for _, r := range s {
		e := ""
		switch r {
		case '&':
			e = "&amp;"
		case '<':
			e = "&lt;"
		case '>':
			e = "&gt;"
		}
		w := max(len(e), 1)
		if used+w > n-1 {
			break
		}
		if e != "" {
			b.WriteString(e)
		} else {
			b.WriteRune(r)
		}
		used += w
	}
	return b.String() + "…"
}

// maxChannelName is Slack's limit on a channel name.
const maxChannelName = 80

// channelName returns the incident channel's name, "inc-<number>-<slug>",
// lowercase a-z, 0-9 and '-', at most 80 characters. Accents are folded
// (é → e); a title with no Latin letters or digits gives "inc-<number>".
// suffix > 1 appends "-<suffix>" for a taken name, still within 80.
func channelName(number int64, title string, suffix int) string {
	base := "inc-" + strconv.FormatInt(number, 10)
	tail := ""
	if suffix > 1 {
		tail = "-" + strconv.Itoa(suffix)
	}
	slug := slugify(title)
	room := maxChannelName - len(base) - len(tail) - 1
	if len(slug) > room {
		slug = slug[:room]
		if i := strings.LastIndexByte(slug, '-'); i > room/2 {
			slug = slug[:i]
		}
		slug = strings.TrimRight(slug, "-")
	}
	if slug == "" || room <= 0 {
		return base + tail
	}
	return base + "-" + slug + tail
}

// slugify folds s to lowercase ASCII letters and digits joined by single
// dashes.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent: drop it, keep the letter
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// slackDate formats t with Slack's date token, which each reader sees in
// their own time zone; fallback is shown where the token is not supported.
func slackDate(t time.Time) string {
	fallback := t.UTC().Format("2006-01-02 15:04 UTC")
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} at {time}|" + fallback + ">"
}
