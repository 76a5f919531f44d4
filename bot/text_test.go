package bot

import (
	"regexp"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"<!channel> db down":         "&lt;!channel&gt; db down",
		"a & b":                      "a &amp; b",
		"<@U123> <#C0GEN|x> <!here>": "<@U123> <#C0GEN> &lt;!here&gt;",
		"&amp;":                      "&amp;amp;",
		"x <@U0BOB|bob> y":           "x <@U0BOB> y",
		"plain":                      "plain",
	}
	for in, want := range tests {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

var validChannel = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func TestChannelName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("database connection pool exhausted ", 6)
	tests := []struct {
		name   string
		number int64
		title  string
		suffix int
		want   string
	}{
		{"simple", 1, "db is down", 1, "inc-1-db-is-down"},
		{"punctuation folded", 12, "API: 5xx errors (EU)!", 1, "inc-12-api-5xx-errors-eu"},
		{"accents folded", 3, "Café crème débâcle", 1, "inc-3-cafe-creme-debacle"},
		{"non-Latin title", 4, "数据库宕机", 1, "inc-4"},
		{"cyrillic title", 5, "База данных недоступна", 1, "inc-5"},
		{"mixed", 6, "数据库 db 宕机", 1, "inc-6-db"},
		{"injection", 7, "<!channel> wake up", 1, "inc-7-channel-wake-up"},
		{"suffix", 8, "db is down", 2, "inc-8-db-is-down-2"},
		{"non-Latin with suffix", 9, "宕机", 3, "inc-9-3"},
		{"emoji only", 10, "🔥🔥🔥", 1, "inc-10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := channelName(tc.number, tc.title, tc.suffix)
			if got != tc.want {
				t.Errorf("channelName(%d, %q, %d) = %q, want %q", tc.number, tc.title, tc.suffix, got, tc.want)
			}
		})
	}
	t.Run("long titles fit 80 characters with any suffix", func(t *testing.T) {
		t.Parallel()
		for _, n := range []int64{1, 99999, 1234567890} {
			for _, suffix := range []int{1, 2, 20} {
				got := channelName(n, long, suffix)
				if len(got) > 80 || !validChannel.MatchString(got) || strings.HasSuffix(got, "-") || strings.Contains(got, "--") {
					t.Errorf("channelName(%d, long, %d) = %q (%d chars): not a valid Slack channel name", n, suffix, got, len(got))
				}
			}
		}
	})
}

func FuzzChannelName(f *testing.F) {
	f.Add(int64(1), "db is down", 1)
	f.Add(int64(42), "数据库 <!channel> Café", 3)
	f.Fuzz(func(t *testing.T, n int64, title string, suffix int) {
		if n < 1 || suffix < 1 || suffix > maxNameSuffix {
			return
		}
		got := channelName(n, title, suffix)
		if len(got) > 80 || !validChannel.MatchString(got) || strings.HasSuffix(got, "-") || strings.Contains(got, "--") {
			t.Fatalf("channelName(%d, %q, %d) = %q: not a valid Slack channel name", n, title, suffix, got)
		}
	})
}

func TestEscapeFit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a<b", 10, "a&lt;b"},
		{"<<<<", 9, "&lt;&lt;…"},
		{"ab&", 5, "ab…"}, // the longest prefix that fits with its "…"
		{"ab&", 7, "ab&amp;"},
		{"a&b&c", 8, "a&amp;b…"},
		{strings.Repeat("<é&", 400), 10, "&lt;é…"},
	} {
		if got := escapeFit(tc.in, tc.n); got != tc.want {
			t.Errorf("escapeFit(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("héllo wörld", 5); got != "héll…" {
		t.Errorf("truncate = %q, want %q", got, "héll…")
	}
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate = %q, want unchanged", got)
	}
}
