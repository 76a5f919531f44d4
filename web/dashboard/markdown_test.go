package dashboard

import (
	"regexp"
	"strings"
	"testing"
)

func TestMarkdownHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, md, want string
	}{
		{"heading one level down", "# Postmortem: INC-1 db", "<h2>Postmortem: INC-1 db</h2>\n"},
		{"not a heading without a space", "#hashtag", "<p>#hashtag</p>\n"},
		{"paragraph lines joined", "one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n"},
		{"entities decoded once and escaped again", "a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b", "<p>a &lt;script&gt;alert(1)&lt;/script&gt; &amp; b</p>\n"},
		{"raw HTML is text", `<img src=x onerror="alert(1)"> <b>bold</b>`, "<p>&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &lt;b&gt;bold&lt;/b&gt;</p>\n"},
		{"emphasis and strong", "**3 of 7** drive *most*", "<p><strong>3 of 7</strong> drive <em>most</em></p>\n"},
		{"unmatched stars are text", "a * b ** c", "<p>a * b ** c</p>\n"},
		{"escaped characters", `a \* b \| c \\ d`, `<p>a * b | c \ d</p>` + "\n"},
		{"bulleted list", "- one\n- two &amp; three", "<ul>\n<li>one</li>\n<li>two &amp; three</li>\n</ul>\n"},
		{"numbered list keeps its numbers", "3. third\n4. fourth", "<ol>\n<li value=\"3\">third</li>\n<li value=\"4\">fourth</li>\n</ol>\n"},
		{"a list then a paragraph", "- one\nafter", "<ul>\n<li>one</li>\n</ul>\n<p>after</p>\n"},
		{"table with header", "| Time | What |\n|---|---|\n| 03:00 | a \\| b |",
			"<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Time</th><th scope=\"col\">What</th></tr></thead>\n<tbody>\n<tr><td>03:00</td><td>a | b</td></tr>\n</tbody></table></div>\n"},
		{"table with a blank header", "| | |\n|---|---|\n| Severity | SEV1 |",
			"<div class=\"table-wrap\"><table>\n<tbody>\n<tr><td>Severity</td><td>SEV1</td></tr>\n</tbody></table></div>\n"},
		{"table without header", "| a | b |", "<div class=\"table-wrap\"><table>\n<tbody>\n<tr><td>a</td><td>b</td></tr>\n</tbody></table></div>\n"},
		{"https link", "[runbook](https://example.com/r?a=1&amp;b=2)", `<p><a href="https://example.com/r?a=1&amp;b=2">runbook</a></p>` + "\n"},
		{"path link", "[INC-1](/incidents/INC-1)", `<p><a href="/incidents/INC-1">INC-1</a></p>` + "\n"},
		{"javascript link is text", "[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"},
		{"protocol-relative link is text", "[x](//evil.example)", "<p>[x](//evil.example)</p>\n"},
		{"link with a quote is text", `[x](https://a.example/"onmouseover=alert(1))`, "<p>[x](https://a.example/&#34;onmouseover=alert(1))</p>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(markdownHTML(tc.md)); got != tc.want {
				t.Errorf("markdownHTML(%q)\n got %q\nwant %q", tc.md, got, tc.want)
			}
		})
	}
}

// mdAllowedTag is every tag markdownHTML writes, with the attributes it
// writes.
var mdAllowedTag = regexp.MustCompile(`^</?(h[2-6]|p|ul|ol|li|table|thead|tbody|tr|td|strong|em|a|div|th)( (href="(https?://|/)[^"<>]*"|value="[0-9]+"|scope="col"|class="table-wrap"))?>$`)

var mdAnyTag = regexp.MustCompile(`<[^>]*>?`)

// FuzzMarkdownHTML checks that whatever the text, the output holds only
// the tags and attributes the renderer writes: a person's text never
// becomes markup.
func FuzzMarkdownHTML(f *testing.F) {
	for _, s := range []string{"# t", "| a | b |\n|---|---|\n| c | d |", "- x\n1. y", "**a** *b* [c](https://d)", "<script>x</script>",
		"&lt;b&gt;", `[a](javascript:x)`, `\*`, "[*x*](/y)", "a<b>c", "[a](https://x\">)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := string(markdownHTML(md))
		for _, tag := range mdAnyTag.FindAllString(out, -1) {
			if !mdAllowedTag.MatchString(tag) {
				t.Fatalf("markdownHTML(%q) writes tag %q:\n%s", md, tag, out)
			}
		}
		if strings.Contains(strings.ToLower(out), "javascript:") && strings.Contains(out, `href="javascript`) {
			t.Fatalf("a javascript link: %s", out)
		}
	})
}
