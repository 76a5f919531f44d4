package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sitrep/sitrep/internal/slacktext"
)

// escape makes sitrep text (see internal/mrkdwn) safe to place in mrkdwn or
// a message's text: '&', '<' and '>' escaped exactly once, so it can never
// ping @channel or forge a link; mentions, channel links and links kept.
func escape(s string) string { return slacktext.Escape(s) }

// truncate shortens s to at most n runes, ending it with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escapeFit escapes sitrep text s and cuts it so that the escaped text is
// at most n runes, never splitting an entity or a mention.
func escapeFit(s string, n int) string { return slacktext.EscapeFit(s, n) }

// plainFit is sitrep text s for a plain_text object (a header, a button, an
// option), where Slack shows no mentions or links: they read as "@bob",
// "#ops" and the link's label; escaped and cut to at most n runes.
func plainFit(s string, n int) string { return slacktext.EscapeFit(slacktext.Plain(s), n) }

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
	slug := slugify(slacktext.Plain(title))
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
