package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The repository's documentation must hold together in a clone: every
// Markdown link in README.md and docs/*.md points at a file of the
// repository that exists (and, with an anchor into a Markdown file, at one
// of its headings), or at one of a few documentation sites. The tests read
// files only; nothing here touches the network.

// allowedHosts are the sites the documentation may link to (a leading
// "www." is ignored).
var allowedHosts = []string{
	"slack.com", "api.slack.com", "docs.slack.dev", "github.com",
	"pkg.go.dev", "postgresql.org", "sqlite.org", "prometheus.io",
}

// TestDocLinks checks the links of README.md and docs/*.md.
func TestDocLinks(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root should be two levels above cmd/sitrep: %v", err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, filepath.ToSlash(rel))
	}
	for _, want := range []string{"docs/architecture.md", "docs/operations.md", "docs/slack.md"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is missing", want)
		}
	}
	var problems []string
	for _, f := range files {
		p, err := checkDocLinks(root, f)
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, p...)
	}
	if len(problems) > 0 {
		t.Errorf("broken links in the documentation:\n%s\n(link inside the repository with a path relative to the file, "+
			"or to one of %s)", strings.Join(problems, "\n"), strings.Join(allowedHosts, ", "))
	}

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, l := range markdownLinks(string(readme)) {
		linked = append(linked, l.target)
	}
	for _, want := range []string{"docs/architecture.md", "docs/operations.md", "docs/slack.md"} {
		if !slices.Contains(linked, want) {
			t.Errorf("README.md does not link %s; its Documentation list should", want)
		}
	}
}

// TestDocLinkChecker shows that the checker finds each kind of broken
// link, and leaves good links and code alone.
func TestDocLinkChecker(t *testing.T) {
	tests := []struct {
		name string
		doc  string // docs/guide.md in a repository holding README.md and docs/other.md
		want string // a part of the one problem expected; "" for none
	}{
		{"relative link to a file", "See [other](other.md).", ""},
		{"link up to the root", "See [readme](../README.md).", ""},
		{"link to a directory", "See [docs](../docs).", ""},
		{"anchor in another file", "See [x](other.md#second-part-v2).", ""},
		{"anchor in the same file", "# Top\n\nSee [top](#top).", ""},
		{"heading with code and punctuation", "## Try it: `sitrep demo`\n\n[t](#try-it-sitrep-demo)", ""},
		{"second heading of one name", "# A\n\n# A\n\n[second](#a-1)", ""},
		{"allowed site", "[s](https://docs.slack.dev/reference/scopes) and <https://api.slack.com/apps>", ""},
		{"allowed site with www", "[pg](https://www.postgresql.org/docs/current/app-pgdump.html)", ""},
		{"image that exists", "![logo](other.md)", ""},
		{"link in a fenced block", "```\n[x](../../outside.md)\n```", ""},
		{"link in an indented block", "Text.\n\n    [x](../../outside.md)", ""},
		{"link in a code span", "Write `[x](../../outside.md)` like this.", ""},
		{"link in a code span across lines", "Write `[x](../../outside.md)\nlike` this.", ""},
		{"title after the target", `See [other](other.md "the other").`, ""},

		{"outside the repository", "See [design](../../shared/DESIGN.md).", "outside the repository"},
		{"missing file", "See [gone](gone.md).", "no such file"},
		{"missing image", "![chart](chart.png)", "no such file"},
		{"absolute path", "See [readme](/README.md).", "absolute path"},
		{"missing heading elsewhere", "See [x](other.md#nowhere).", `no heading "nowhere"`},
		{"missing heading here", "# Top\n\n[x](#bottom)", `no heading "bottom"`},
		{"site not allowed", "See [blog](https://blog.example.com/post).", "blog.example.com is not one of"},
		{"autolink not allowed", "See <https://example.org/x>.", "example.org is not one of"},
		{"bare URL not allowed", "See https://example.net/x for more.", "example.net is not one of"},
		{"other scheme", "Mail [us](mailto:ops@example.com).", "not an http(s) link"},
		{"reference definition", "See [design][d].\n\n[d]: ../../shared/DESIGN.md", "outside the repository"},
		{"link after a code span", "Run `go test` then see [gone](gone.md).", "no such file"},
		{"empty target", "See [nothing]().", "empty link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write := func(name, text string) {
				path := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("README.md", "# Readme\n")
			write("docs/other.md", "# Other\n\n## Second part (v2)\n\n```\n# not a heading\n```\n")
			write("docs/guide.md", tc.doc)
			problems, err := checkDocLinks(root, "docs/guide.md")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(problems) > 0:
				t.Errorf("problems in a good document: %q", problems)
			case tc.want != "" && len(problems) != 1:
				t.Errorf("got %d problems %q, want one with %q", len(problems), problems, tc.want)
			case tc.want != "" && !strings.Contains(problems[0], tc.want):
				t.Errorf("problem %q, want it to say %q", problems[0], tc.want)
			}
		})
	}
}

// mdLink is a link found in a Markdown document.
type mdLink struct {
	line   int
	target string
}

// checkDocLinks returns what is wrong with each link of the Markdown file
// at rel (slash-separated, relative to root), one "file:line: target: why"
// each.
func checkDocLinks(root, rel string) ([]string, error) {
	text, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, l := range markdownLinks(string(text)) {
		if why := linkProblem(root, rel, l.target); why != "" {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", rel, l.line, l.target, why))
		}
	}
	return problems, nil
}

// linkProblem says what is wrong with target, a link in the Markdown file
// rel, or returns "".
func linkProblem(root, rel, target string) string {
	if target == "" {
		return "empty link"
	}
	if scheme := regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`).FindStringSubmatch(target); scheme != nil {
		if s := strings.ToLower(scheme[1]); s != "http" && s != "https" {
			return "not an http(s) link"
		}
		u, err := url.Parse(target)
		if err != nil {
			return "not a URL: " + err.Error()
		}
		host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		if !slices.Contains(allowedHosts, host) {
			return fmt.Sprintf("%s is not one of the sites the documentation links to (%s)", u.Hostname(), strings.Join(allowedHosts, ", "))
		}
		return ""
	}
	path, anchor, _ := strings.Cut(target, "#")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	if strings.HasPrefix(path, "/") {
		return "absolute path: write a path relative to " + rel
	}
	file := rel
	if path != "" {
		file = filepath.ToSlash(filepath.Join(filepath.Dir(filepath.FromSlash(rel)), filepath.FromSlash(path)))
		if file == ".." || strings.HasPrefix(file, "../") {
			return "points outside the repository"
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			return "no such file in the repository"
		}
	}
	if anchor == "" || !strings.HasSuffix(strings.ToLower(file), ".md") {
		return ""
	}
	text, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return "cannot read " + file + ": " + err.Error()
	}
	if !slices.Contains(headingAnchors(string(text)), strings.ToLower(anchor)) {
		return fmt.Sprintf("no heading %q in %s", anchor, file)
	}
	return ""
}

var (
	fence       = regexp.MustCompile("^ {0,3}(```|~~~)")
	atxHeading  = regexp.MustCompile(`^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	inlineLink  = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	autolink    = regexp.MustCompile(`<([A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*)>`)
	bareURL     = regexp.MustCompile(`(?:^|[\s(])(https?://[^\s<>)]+[^\s<>).,;:!?'"*_])`)
	refDef      = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?`)
	markupInRef = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
)

// prose returns text with its code blocks and code spans blanked out,
// lines kept in place, so that what looks like a link in code is not
// taken for one.
func prose(text string) string { return blankCodeSpans(withoutCodeBlocks(text)) }

// withoutCodeBlocks returns text with its code blocks (fenced, and
// indented after a blank line) blanked out, lines kept in place.
func withoutCodeBlocks(text string) string {
	lines := strings.Split(text, "\n")
	inFence, inIndented, prevBlank := "", false, true
	for i, line := range lines {
		blank := strings.TrimSpace(line) == ""
		switch {
		case inFence != "":
			if m := fence.FindStringSubmatch(line); m != nil && m[1] == inFence {
				inFence = ""
			}
			lines[i] = ""
		case fence.MatchString(line):
			inFence = fence.FindStringSubmatch(line)[1]
			lines[i] = ""
		case !blank && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")) && (prevBlank || inIndented):
			inIndented = true
			lines[i] = ""
		case !blank:
			inIndented = false
		}
		prevBlank = blank
	}
	return strings.Join(lines, "\n")
}

// blankCodeSpans replaces the inside of each code span (a run of
// backticks up to the next run of the same length, within a paragraph)
// with spaces, keeping newlines. A run with no partner is literal.
func blankCodeSpans(text string) string {
	b := []byte(text)
	run := func(at int) int {
		n := 0
		for at+n < len(b) && b[at+n] == '`' {
			n++
		}
		return n
	}
	// paragraphEnds reports whether the newline at j starts a blank line.
	paragraphEnds := func(j int) bool {
		k := j + 1
		for k < len(b) && (b[k] == ' ' || b[k] == '\t') {
			k++
		}
		return k == len(b) || b[k] == '\n'
	}
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n, end := run(i), -1
		for j := i + n; j < len(b); {
			if b[j] == '\n' && paragraphEnds(j) {
				break
			}
			if b[j] != '`' {
				j++
				continue
			}
			if m := run(j); m != n {
				j += m
				continue
			}
			end = j
			break
		}
		if end < 0 {
			i += n
			continue
		}
		for k := i + n; k < end; k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
		i = end + n
	}
	return string(b)
}

// markdownLinks returns the links of a Markdown document outside code:
// inline links and images [text](target), autolinks <https://…>, bare
// http(s) URLs (which GitHub links) and reference definitions [x]: target.
func markdownLinks(text string) []mdLink {
	p := prose(text)
	var links []mdLink
	add := func(re *regexp.Regexp, s string) {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			links = append(links, mdLink{line: 1 + strings.Count(p[:m[2]], "\n"), target: p[m[2]:m[3]]})
		}
	}
	add(inlineLink, p)
	add(autolink, p)
	add(refDef, p)
	// A URL already inside a link's parentheses or angle brackets is not
	// a bare URL: blank the links found so far before looking for those.
	rest := []byte(p)
	for _, re := range []*regexp.Regexp{inlineLink, autolink, refDef} {
		for _, m := range re.FindAllStringIndex(p, -1) {
			for k := m[0]; k < m[1]; k++ {
				if rest[k] != '\n' {
					rest[k] = ' '
				}
			}
		}
	}
	add(bareURL, string(rest))
	slices.SortStableFunc(links, func(a, b mdLink) int { return a.line - b.line })
	return links
}

// headingAnchors returns the anchors GitHub gives the ATX headings of a
// Markdown document: the heading's text, lower-cased, without punctuation
// but '-' and '_', spaces made '-', and "-1", "-2" … after repeats.
func headingAnchors(text string) []string {
	seen := map[string]int{}
	var out []string
	for _, line := range strings.Split(withoutCodeBlocks(text), "\n") {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// GitHub slugs the heading as shown: link text, no code marks.
		h := strings.ReplaceAll(markupInRef.ReplaceAllString(m[1], "$1"), "`", "")
		var sb strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				sb.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				sb.WriteRune(r)
			}
		}
		slug := sb.String()
		if n := seen[slug]; n > 0 {
			out = append(out, fmt.Sprintf("%s-%d", slug, n))
		} else {
			out = append(out, slug)
		}
		seen[slug]++
	}
	return out
}
