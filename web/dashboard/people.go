package dashboard

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/sitrep/sitrep/internal/slacktext"
)

// The change log's person search. A change names its person as it was
// logged: a Slack user ID when it came from Slack ("U0ALICE"), a name or
// handle when it came from CI or the command line ("alice", "Bob Smith").
// People search by the name they know, so a search matches both: the
// person as logged, and the name sitrep knows for a user ID (their Slack
// real or display name, from Deps.Names: the names cache).

// maxChangePeople bounds the people a name is matched against.
const maxChangePeople = 5000

// nameBudget bounds how long one search waits, in all, for names sitrep
// has not learned yet (Deps.Names may ask Slack, once per person); the
// people not reached are matched by what was logged alone, and the page
// says so. A name once learned is cached, so the next search goes further.
const nameBudget = 2 * time.Second

// personSearch is what a person search typed means.
type personSearch struct {
	// ID is the user a mention (<@U0ALICE>) or a user ID named; "" for a
	// name.
	ID string
	// Text is the name or handle typed, without a leading @.
	Text string
}

// readPerson reads what was typed in the person box: a mention as Slack
// writes it (<@U0ALICE> or <@U0ALICE|alice>), a user ID, or a name or
// handle with or without a leading @.
func readPerson(typed string) personSearch {
	t := strings.TrimSpace(typed)
	if id, ok := slacktext.UserMention(t); ok {
		return personSearch{ID: id}
	}
	t = strings.TrimSpace(strings.TrimPrefix(t, "@"))
	if isUserID(t) {
		return personSearch{ID: t}
	}
	return personSearch{Text: t}
}

// isUserID reports whether s looks like a Slack user ID: U or W, then at
// least two of A-Z and 0-9.
func isUserID(s string) bool {
	if len(s) < 3 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// people returns who a person search matches, as changes log them: the
// user a mention or ID names; else what was typed, every person logged
// under a name that matches it, and every user whose name as sitrep knows
// it matches it (see nameMatches). partial is true when the names of some
// users were not looked up within nameBudget.
func (db *Dashboard) people(ctx context.Context, s personSearch) (people []string, partial bool, err error) {
	if s.ID != "" {
		return []string{s.ID}, false, nil
	}
	if s.Text == "" {
		return nil, false, nil
	}
	people = []string{s.Text}
	words := nameWords(s.Text)
	if len(words) == 0 {
		return people, false, nil // "...": as logged, or no one
	}
	logged, err := db.d.Changes.ChangePeople(ctx, maxChangePeople)
	if err != nil {
		return nil, false, err
	}
	start := db.d.Now()
	for _, p := range logged {
		name := p
		if isUserID(p) {
			if db.d.Now().Sub(start) > nameBudget {
				partial = true
				continue
			}
			name = db.whoIs(p)
		}
		if nameMatches(name, words) {
			people = append(people, p)
		}
	}
	return people, partial, nil
}

// nameWords splits a name into its words, in lower case: at spaces and
// at the punctuation handles use (. _ -).
func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-' || r == '@'
	})
}

// nameMatches reports whether every word searched for begins a word of
// name, ignoring case: "alice", "ali lid" and "Alice Liddell" all match
// "Alice Liddell"; "lice" does not.
func nameMatches(name string, words []string) bool {
	have := nameWords(name)
	for _, w := range words {
		found := false
		for _, h := range have {
			if strings.HasPrefix(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(words) > 0
}
