package dashboard

import (
	"html"
	"html/template"
	"strconv"
	"strings"
)

// markdownHTML renders the Markdown that sitrep's exports write
// (internal/report) as safe HTML: headings (one level down, as the page
// has its own h1), pipe tables, bulleted and numbered lists, paragraphs,
// **strong** and *emphasis*, and links to http, https or a path on this
// site. Everything else is text: the export writes <, > and & as entities,
// and every text is decoded once and escaped again, so no tag written by a
// person ever reaches the page as markup.
func markdownHTML(md string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	var para []string
	list := "" // "ul" or "ol" while a list is open
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			mdInline(&b, strings.Join(para, " "))
			b.WriteString("</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	openList := func(kind string) {
		if list != kind {
			closeList()
			b.WriteString("<" + kind + ">\n")
			list = kind
		}
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		switch {
		case line == "":
			flushPara()
			closeList()
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			if level > 6 || !strings.HasPrefix(line[level:], " ") {
				para = append(para, line)
				continue
			}
			flushPara()
			closeList()
			h := "h" + strconv.Itoa(min(level+1, 6))
			b.WriteString("<" + h + ">")
			mdInline(&b, strings.TrimSpace(line[level:]))
			b.WriteString("</" + h + ">\n")
		case strings.HasPrefix(line, "|"):
			flushPara()
			closeList()
			j := i
			for j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|") {
				j++
			}
			mdTable(&b, lines[i:j])
			i = j - 1
		case strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* "):
			flushPara()
			openList("ul")
			b.WriteString("<li>")
			mdInline(&b, line[2:])
			b.WriteString("</li>\n")
		case orderedItem(line) > 0:
			flushPara()
			n := orderedItem(line)
			openList("ol")
			b.WriteString(`<li value="` + line[:n-2] + `">`)
			mdInline(&b, line[n:])
			b.WriteString("</li>\n")
		default:
			closeList()
			para = append(para, strings.TrimSpace(line))
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String()) //nolint:gosec // built from escaped text and fixed tags only
}

// orderedItem returns the length of a numbered item's marker ("12. "),
// or 0 if line is not one.
func orderedItem(line string) int {
	n := 0
	for n < len(line) && n < 9 && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	if n == 0 || !strings.HasPrefix(line[n:], ". ") {
		return 0
	}
	return n + 2
}

// mdTable writes a pipe table; a second row of dashes makes the first the
// header.
func mdTable(b *strings.Builder, rows []string) {
	var cells [][]string
	for _, r := range rows {
		cells = append(cells, splitRow(strings.TrimSpace(r)))
	}
	header := len(cells) > 1 && isDelimiterRow(cells[1])
	if header && allEmpty(cells[0]) {
		// A table with a blank header ("| | |") is a list of facts:
		// no header cells that say nothing.
		cells, header = cells[2:], false
	}
	if len(cells) == 0 {
		return
	}
	b.WriteString("<div class=\"table-wrap\"><table>\n")
	for i, row := range cells {
		if header && i == 1 {
			continue
		}
		if header && i == 0 {
			b.WriteString("<thead>")
		}
		if (header && i == 2) || (!header && i == 0) {
			b.WriteString("<tbody>\n")
		}
		b.WriteString("<tr>")
		for _, c := range row {
			tag := "td"
			if header && i == 0 {
				tag = `th scope="col"`
			}
			b.WriteString("<" + tag + ">")
			mdInline(b, strings.TrimSpace(c))
			b.WriteString("</" + strings.Fields(tag)[0] + ">")
		}
		b.WriteString("</tr>")
		if header && i == 0 {
			b.WriteString("</thead>\n")
		} else {
			b.WriteString("\n")
		}
	}
	if !header || len(cells) > 2 {
		b.WriteString("</tbody>")
	}
	b.WriteString("</table></div>\n")
}

// splitRow splits "| a | b \| c |" into its cells, an escaped pipe kept in
// its cell.
func splitRow(r string) []string {
	r = strings.TrimPrefix(r, "|")
	if strings.HasSuffix(r, "|") && !strings.HasSuffix(r, `\|`) {
		r = r[:len(r)-1]
	}
	var out []string
	var cell strings.Builder
	for i := 0; i < len(r); i++ {
		switch {
		case r[i] == '\\' && i+1 < len(r) && r[i+1] == '|':
			cell.WriteString(`\|`)
			i++
		case r[i] == '|':
			out = append(out, cell.String())
			cell.Reset()
		default:
			cell.WriteByte(r[i])
		}
	}
	return append(out, cell.String())
}

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func isDelimiterRow(cells []string) bool {
	for _, c := range cells {
		c = strings.Trim(strings.TrimSpace(c), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// mdText writes Markdown text: entities decoded once, then escaped.
func mdText(b *strings.Builder, s string) {
	b.WriteString(html.EscapeString(html.UnescapeString(s)))
}

// mdInline writes a line's inline Markdown: backslash escapes, **strong**,
// *emphasis* and [links](url); anything unmatched is text.
func mdInline(b *strings.Builder, s string) {
	for s != "" {
		switch {
		case s[0] == '\\' && len(s) > 1 && strings.IndexByte("\\|*_[]()#-`!>", s[1]) >= 0:
			mdText(b, s[1:2])
			s = s[2:]
		case strings.HasPrefix(s, "**"):
			if j := strings.Index(s[2:], "**"); j > 0 && flanks(s[2:2+j]) {
				b.WriteString("<strong>")
				mdInline(b, s[2:2+j])
				b.WriteString("</strong>")
				s = s[4+j:]
				continue
			}
			mdText(b, "**")
			s = s[2:]
		case s[0] == '*':
			if j := strings.IndexByte(s[1:], '*'); j > 0 && flanks(s[1:1+j]) {
				b.WriteString("<em>")
				mdInline(b, s[1:1+j])
				b.WriteString("</em>")
				s = s[2+j:]
				continue
			}
			mdText(b, "*")
			s = s[1:]
		case s[0] == '[':
			if text, url, n, ok := mdLink(s); ok {
				b.WriteString(`<a href="` + html.EscapeString(url) + `">`)
				mdInline(b, text)
				b.WriteString("</a>")
				s = s[n:]
				continue
			}
			mdText(b, "[")
			s = s[1:]
		default:
			i := strings.IndexAny(s, "\\*[")
			if i < 0 {
				i = len(s)
			} else if i == 0 {
				i = 1
			}
			mdText(b, s[:i])
			s = s[i:]
		}
	}
}

// flanks reports whether emphasis may wrap inner: it neither starts nor
// ends with a space ("a * b * c" is not emphasis).
func flanks(inner string) bool {
	return strings.TrimSpace(inner) == inner
}

// mdLink reads "[text](url)" at the start of s; ok only for a URL that is
// http, https or a path on this site.
func mdLink(s string) (text, url string, n int, ok bool) {
	k := strings.Index(s, "](")
	if k < 1 {
		return "", "", 0, false
	}
	end := strings.IndexByte(s[k+2:], ')')
	if end < 0 {
		return "", "", 0, false
	}
	text, url = s[1:k], html.UnescapeString(s[k+2:k+2+end])
	lower := strings.ToLower(url)
	safe := strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") ||
		(strings.HasPrefix(url, "/") && !strings.HasPrefix(url, "//"))
	if !safe || strings.ContainsAny(url, " \t\"'<>") {
		return "", "", 0, false
	}
	return text, url, k + 3 + end, true
}
