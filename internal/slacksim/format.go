package slacksim

import (
	"regexp"
	"strings"
)

// Slack's client formats what a person types before a slash command's text
// leaves it. For a command registered with should_escape (sitrep registers
// every command so) it:
//   - escapes '&', '<' and '>' as "&amp;", "&lt;" and "&gt;";
//   - sends "@bob" as "<@U0BOB|bob>" when bob is a member of the workspace;
//   - sends "#general" as "<#C0GEN|general>" when the channel exists;
//   - sends "@channel", "@here" and "@everyone" as "<!channel>", "<!here>"
//     and "<!everyone>", and a user group's handle as "<!subteam^S…|@handle>";
//   - sends a link as "<https://…>" (its '&' escaped too).
//
// Nothing else is touched: emoji stay ":fire:", quotes and accents stay as
// typed.

// typedToken finds the words the client may turn into markup: an @ or #
// word at the start or after a character that is not part of a word, or a
// web link.
var typedToken = regexp.MustCompile(`(^|[^A-Za-z0-9_.@#/-])([@#][A-Za-z0-9][A-Za-z0-9._-]*)|https?://[^\s<>]+`)

// escapeTyped escapes the three characters Slack escapes in any text it
// sends.
var escapeTyped = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// formatTypedLocked returns text as Slack sends the text of a slash command
// with should_escape on. Call with s.mu held.
func (s *Sim) formatTypedLocked(text string) string { return s.formatLocked(text, true) }

// formatMessageLocked returns text as Slack stores a message a person
// typed: escaped the same way, but user mentions without their name
// ("<@U0BOB>"), as conversations.history returns them.
func (s *Sim) formatMessageLocked(text string) string { return s.formatLocked(text, false) }

func (s *Sim) formatLocked(text string, labels bool) string {
	var b strings.Builder
	last := 0
	for _, m := range typedToken.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[0], m[1]
		if m[4] >= 0 { // an @ or # word, after its leading boundary
			start = m[4]
		}
		word := text[start:end]
		if word[0] == 'h' {
			// A link ends before trailing punctuation, as in "see https://x.io."
			word = strings.TrimRight(word, ".,;:!?)'\"")
			end = start + len(word)
		}
		markup, ok := s.markupLocked(word, labels)
		for !ok && len(word) > 2 && strings.ContainsAny(word[len(word)-1:], ".-_") {
			// "@alice." names alice: a name does not end in punctuation.
			word = word[:len(word)-1]
			end--
			markup, ok = s.markupLocked(word, labels)
		}
		if !ok {
			continue
		}
		b.WriteString(escapeTyped.Replace(text[last:start]))
		b.WriteString(markup)
		last = end
	}
	b.WriteString(escapeTyped.Replace(text[last:]))
	return b.String()
}

// markupLocked returns the markup Slack's client sends for word, if it
// turns it into any. A trailing '.', ',' or similar is not part of a name.
func (s *Sim) markupLocked(word string, labels bool) (string, bool) {
	switch word[0] {
	case 'h':
		if !strings.Contains(word, "://") || strings.HasSuffix(word, "://") {
			return "", false
		}
		return "<" + escapeTyped.Replace(word) + ">", true
	case '@':
		name := strings.ToLower(word[1:])
		switch name {
		case "channel", "here", "everyone":
			return "<!" + name + ">", true
		}
		for _, id := range s.ws.userOrder {
			u := s.ws.users[id]
			if strings.EqualFold(u.Name, name) || u.DisplayName != "" && strings.EqualFold(u.DisplayName, name) {
				if !labels {
					return "<@" + u.ID + ">", true
				}
				return "<@" + u.ID + "|" + u.Name + ">", true
			}
		}
		if g := s.ws.groupsByHandle[name]; g != nil {
			return "<!subteam^" + g.ID + "|@" + g.Handle + ">", true
		}
	case '#':
		if ch := s.ws.channels[s.ws.byName[strings.ToLower(word[1:])]]; ch != nil && !ch.IsIM {
			return "<#" + ch.ID + "|" + ch.Name + ">", true
		}
	}
	return "", false
}
