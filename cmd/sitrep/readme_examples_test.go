package main

// TestREADMEExamples runs the README's command-line examples exactly as
// written. The convention, also stated in the README's "The command line":
//
//   - An example is a line of a code block (indented by four or more
//     spaces, or inside a ``` fence) whose command is sitrep: it starts
//     with "sitrep " or "$ sitrep ", or with VAR=value assignments and then
//     sitrep. "go run ./cmd/sitrep …" and "go test …" lines are not
//     examples; table rows and prose never are.
//   - A line ending in \ continues on the next. Words are split as a
//     POSIX shell splits them: '…' and "…" quoting, \ escapes, and $VAR or
//     ${VAR} expanded from the test's environment (exampleEnv), where an
//     unknown variable fails the test rather than becoming "". A # at the
//     start of a word begins a comment.
//   - An example whose comment starts with "needs Slack" is not run (it
//     is sitrep run); there may be at most maxSkipped of them.
//   - The examples run in order, in one empty directory holding one
//     SQLite database, ./sitrep.db, which has INC-1 and INC-2 (whose
//     postmortem is complete) in it; SITREP_DATABASE_URL is not set. An
//     example that sets SITREP_URL talks to a change API the test serves
//     (web.NewHandler over a second SQLite database) whatever address it
//     writes, with the token SITREP_TOKEN_CI holds.
//   - Each must exit 0.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
)

// maxSkipped is how many README examples may be marked "needs Slack".
const maxSkipped = 2

// exampleEnv is the environment the README's examples run in: a shell of
// alice's inside a GitHub Actions job.
var exampleEnv = map[string]string{
	"USER":              "alice",
	"GITHUB_ACTOR":      "octocat",
	"GITHUB_RUN_ID":     "9182736455",
	"GITHUB_SHA":        "3f2c1e0a",
	"GITHUB_REF_NAME":   "v2.14.0",
	"GITHUB_SERVER_URL": "https://github.com",
	"GITHUB_REPOSITORY": "acme/web",
	"SITREP_TOKEN_CI":   testAPIToken,
}

// example is one command line of the README.
type example struct {
	line    int    // where it starts in the file
	text    string // as written, continuations joined
	env     map[string]string
	args    []string // after "sitrep"
	skipped string   // the "needs Slack" comment, when it is not run
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// readmeExamples extracts the examples of a Markdown file, as the file
// comment says.
func readmeExamples(markdown string, getenv func(string) (string, bool)) ([]example, error) {
	var out []example
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(markdown))
	inFence := false
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inFence = !inFence
			continue
		}
		indented := strings.HasPrefix(strings.ReplaceAll(line, "\t", "    "), "    ")
		if !inFence && !indented {
			continue
		}
		start := n
		for strings.HasSuffix(trimmed, `\`) && sc.Scan() {
			n++
			trimmed = strings.TrimSuffix(trimmed, `\`) + " " + strings.TrimSpace(sc.Text())
		}
		trimmed = strings.TrimPrefix(trimmed, "$ ")
		words, comment, err := shellWords(trimmed, getenv)
		if err != nil {
			if isSitrepLine(trimmed) {
				errs = append(errs, fmt.Errorf("README.md:%d: %s: %w", start, trimmed, err))
			}
			continue
		}
		ex := example{line: start, text: trimmed, env: map[string]string{}}
		i := 0
		for ; i < len(words) && assignment.MatchString(words[i]); i++ {
			k, v, _ := strings.Cut(words[i], "=")
			ex.env[k] = v
		}
		if i == len(words) || words[i] != "sitrep" {
			continue
		}
		ex.args = words[i+1:]
		if c := strings.TrimSpace(comment); strings.HasPrefix(c, "needs Slack") {
			ex.skipped = c
		}
		out = append(out, ex)
	}
	return out, errors.Join(errs...)
}

// isSitrepLine says whether a line that could not be split looks like an
// example, so that its error is reported instead of the line ignored.
func isSitrepLine(s string) bool {
	for _, w := range strings.Fields(s) {
		if !assignment.MatchString(w) {
			return w == "sitrep"
		}
	}
	return false
}

// shellWords splits a command line as a POSIX shell does, for the forms
// the README uses: '…', "…" (with $VAR and \ escapes), \ outside quotes,
// $VAR and ${VAR}, and a # comment at the start of a word. getenv answers
// whether a variable is known: an unknown one is an error.
func shellWords(s string, getenv func(string) (string, bool)) (words []string, comment string, err error) {
	var cur strings.Builder
	inWord := false
	expand := func(i int) (int, error) { // s[i] == '$'
		j := i + 1
		braced := j < len(s) && s[j] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || k > j && s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j {
			if braced {
				return 0, fmt.Errorf("${ without a variable name at column %d", i+1)
			}
			cur.WriteByte('$')
			return i + 1, nil
		}
		name := s[j:k]
		if braced {
			if k >= len(s) || s[k] != '}' {
				return 0, fmt.Errorf("${%s without its }", name)
			}
			k++
		}
		v, ok := getenv(name)
		if !ok {
			return 0, fmt.Errorf("$%s is not set in the test's environment (exampleEnv)", name)
		}
		cur.WriteString(v)
		return k, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '#' && !inWord:
			return words, s[i+1:], nil
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, "", errors.New("a ' is not closed")
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, "", errors.New(`a " is not closed`)
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
					cur.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '$' {
					if i, err = expand(i); err != nil {
						return nil, "", err
					}
					continue
				}
				if s[i] == '`' {
					return nil, "", errors.New("command substitution (`…`) is not run by the test")
				}
				cur.WriteByte(s[i])
				i++
			}
		case c == '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
			}
			inWord = true
			i += 2
		case c == '$':
			inWord = true
			if i+1 < len(s) && s[i+1] == '(' {
				return nil, "", errors.New("command substitution ($(…)) is not run by the test")
			}
			if i, err = expand(i); err != nil {
				return nil, "", err
			}
		case strings.IndexByte("|&;<>()`", c) >= 0:
			return nil, "", fmt.Errorf("%q: pipes, redirections and other shell syntax are not run by the test", c)
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, "", nil
}

func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) { v, ok := exampleEnv[k]; return v, ok }
	examples, err := readmeExamples(string(readme), getenv)
	if err != nil {
		t.Fatal(err)
	}
	apiURL, apiStore := startChangeAPI(t)
	dir := emptyDir(t)
	end := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	seedReview(t, "sqlite:"+filepath.Join(dir, "sitrep.db"), end)
	seedPostmortem(t, "sqlite:"+filepath.Join(dir, "sitrep.db"), end)

	ran, skipped, viaAPI := map[string]bool{}, 0, 0
	for _, ex := range examples {
		if ex.skipped != "" {
			skipped++
			t.Logf("README.md:%d: not run (%s): %s", ex.line, ex.skipped, ex.text)
			continue
		}
		env := map[string]string{}
		for k, v := range exampleEnv {
			env[k] = v
		}
		for k, v := range ex.env {
			env[k] = v
		}
		if _, ok := ex.env["SITREP_URL"]; ok {
			env["SITREP_URL"] = apiURL
			viaAPI++
		}
		out, stderr, err := runCLI(t, env, ex.args...)
		if err != nil {
			t.Errorf("README.md:%d: %s\nfailed: %v\nstdout:\n%s\nstderr:\n%s", ex.line, ex.text, err, out, stderr)
			continue
		}
		if len(ex.args) > 0 {
			key := ex.args[0] + " "
			if (ex.args[0] == "change" || ex.args[0] == "postmortem") && len(ex.args) > 1 {
				key += ex.args[1]
			}
			ran[key] = true
		}
	}
	if skipped > maxSkipped {
		t.Errorf("%d examples are marked \"needs Slack\"; keep it to %d", skipped, maxSkipped)
	}
	// The README shows every command that works on an existing database
	// or through the API, and the test finds them.
	for _, want := range []string{"change add", "change list", "report ", "postmortem export", "migrate "} {
		if !ran[want] {
			t.Errorf("no README example of sitrep %s was found and run (found %d examples)", strings.TrimSpace(want), len(examples))
		}
	}
	if viaAPI == 0 {
		t.Error("no README example logs a change through SITREP_URL")
	}
	changes, err := incident.NewChangeLog(apiStore, clock.Real{}).Recent(context.Background(), incident.ChangeQuery{})
	if err != nil || (viaAPI > 0 && len(changes) == 0) {
		t.Errorf("the API examples logged %d changes (%v)", len(changes), err)
	}
}

func TestReadmeExamplesConvention(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"RUN": "42", "EMPTY": ""}[k]
		return v, ok
	}
	md := "intro\n" +
		"    go run ./cmd/sitrep demo     # not an example: go runs it\n" +
		"    go test -race ./...\n" +
		"| `sitrep change add --system web \"what\"` | a table row |\n" +
		"sitrep report in prose\n" +
		"    sitrep migrate\n" +
		"    $ sitrep change list --since 2d   # a comment\n" +
		"    SITREP_URL=https://x.example SITREP_API_TOKEN=\"$RUN\" \\\n" +
		"      sitrep change add --id \"gh-$RUN\" --by 'o c' ${RUN}x \"a \\\"b\\\" c\" d\\ e '$RUN'\n" +
		"    sitrep run                   # needs Slack: see above\n" +
		"```sh\n" +
		"sitrep report --since 7d\n" +
		"```\n" +
		"    sitrep report # a#b\n" +
		"    SITREP_TEST_DATABASE_URL=postgres://x go test ./...\n"
	got, err := readmeExamples(md, env)
	if err != nil {
		t.Fatal(err)
	}
	want := []example{
		{line: 6, args: []string{"migrate"}},
		{line: 7, args: []string{"change", "list", "--since", "2d"}},
		{line: 8, env: map[string]string{"SITREP_URL": "https://x.example", "SITREP_API_TOKEN": "42"},
			args: []string{"change", "add", "--id", "gh-42", "--by", "o c", "42x", `a "b" c`, "d e", "$RUN"}},
		{line: 10, args: []string{"run"}, skipped: "needs Slack: see above"},
		{line: 12, args: []string{"report", "--since", "7d"}},
		{line: 14, args: []string{"report"}},
	}
	if len(got) != len(want) {
		t.Fatalf("found %d examples, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.line != w.line || strings.Join(g.args, "|") != strings.Join(w.args, "|") || g.skipped != w.skipped ||
			fmt.Sprint(g.env) != fmt.Sprint(orEmpty(w.env)) {
			t.Errorf("example %d: %+v\nwant %+v", i, g, w)
		}
	}
	for _, bad := range []string{
		"    sitrep change add --by $NOPE x",
		"    sitrep change add \"open",
		"    sitrep change list | head",
		"    sitrep report --out $(mktemp -d)",
	} {
		if _, err := readmeExamples(bad+"\n", env); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// FuzzShellWords checks that splitting never panics, and that a line
// split into words and written back quoted splits into the same words.
func FuzzShellWords(f *testing.F) {
	for _, s := range []string{`sitrep change add --id "gh-$RUN" 'a b' c\ d # x`, `"a \"b\" c"`, `${RUN}x`, `$`, `'`, `\`} {
		f.Add(s)
	}
	env := func(k string) (string, bool) { return "v", k == "RUN" }
	f.Fuzz(func(t *testing.T, s string) {
		words, _, err := shellWords(s, env)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		again, _, err := shellWords(strings.Join(quoted, " "), env)
		if err != nil || strings.Join(again, "\x00") != strings.Join(words, "\x00") {
			t.Errorf("%q → %q → %q (%v)", s, words, again, err)
		}
	})
}
