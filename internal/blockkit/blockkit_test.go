package blockkit_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/internal/blockkit"
)

func section(text string) string {
	return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
}

func button(text, value, actionID string) string {
	return fmt.Sprintf(`{"type":"button","text":{"type":"plain_text","text":%q},"value":%q,"action_id":%q}`, text, value, actionID)
}

func option(text string) string {
	return fmt.Sprintf(`{"text":{"type":"plain_text","text":%q},"value":%q}`, text, text)
}

func repeat(item string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = item
	}
	return strings.Join(parts, ",")
}

func TestCheckMessage(t *testing.T) {
	t.Parallel()
	x := strings.Repeat
	for _, tc := range []struct {
		name, blocks string
		want         []string // substrings of the error, in order; none = valid
	}{
		{"valid", `[` + section("hi") + `,{"type":"divider"},{"type":"actions","elements":[` + button("Ack", "v", "ack") + `]}]`, nil},
		{"empty", `[]`, nil},
		{"message object", `{"text":"hi","blocks":[` + section("hi") + `]}`, nil},
		{"message text", `{"text":"` + x("a", 40001) + `"}`, []string{"text: 40001 characters, limit 40000"}},
		{"too many blocks", `[` + repeat(`{"type":"divider"}`, 51) + `]`, []string{"blocks: 51 blocks, limit 50"}},
		{"section text", `[{"type":"divider"},{"type":"divider"},{"type":"divider"},` + section(x("é", 3012)) + `]`,
			[]string{"blocks[3].text.text: 3012 characters, limit 3000"}},
		{"section empty", `[{"type":"section"}]`, []string{"blocks[0]: section needs text or fields"}},
		{"fields", `[{"type":"section","fields":[` + repeat(`{"type":"mrkdwn","text":"`+x("f", 2001)+`"}`, 11) + `]}]`,
			[]string{"blocks[0].fields: 11 items, limit 10", "blocks[0].fields[0].text: 2001 characters, limit 2000"}},
		{"header", `[{"type":"header","text":{"type":"plain_text","text":"` + x("h", 151) + `"}}]`, []string{"blocks[0].text.text: 151 characters, limit 150"}},
		{"header mrkdwn", `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`, []string{"blocks[0].text.type: must be plain_text"}},
		{"button", `[{"type":"actions","elements":[` + button(x("b", 76), x("v", 2001), x("a", 256)) + `]}]`,
			[]string{"elements[0].action_id: 256 characters, limit 255", "elements[0].text.text: 76 characters, limit 75", "elements[0].value: 2001 characters, limit 2000"}},
		{"block_id", `[{"type":"divider","block_id":"` + x("i", 256) + `"}]`, []string{"blocks[0].block_id: 256 characters, limit 255"}},
		{"duplicate block_id", `[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]`, []string{`blocks[1].block_id: "a" already used by blocks[0]`}},
		{"actions", `[{"type":"actions","elements":[` + repeat(button("b", "v", "a"), 26) + `]}]`, []string{"blocks[0].elements: 26 elements, limit 25"}},
		{"actions empty", `[{"type":"actions","elements":[]}]`, []string{"blocks[0].elements: must not be empty"}},
		{"context", `[{"type":"context","elements":[` + repeat(`{"type":"mrkdwn","text":"c"}`, 11) + `]}]`, []string{"blocks[0].elements: 11 elements, limit 10"}},
		{"checkboxes", `[{"type":"actions","elements":[{"type":"checkboxes","action_id":"c","options":[` + repeat(option("o"), 11) + `]}]}]`,
			[]string{"options: 11 options, limit 10"}},
		{"select", `[{"type":"actions","elements":[{"type":"static_select","action_id":"s","options":[` + repeat(option("o"), 101) + `]}]}]`,
			[]string{"options: 101 options, limit 100"}},
		{"option text", `[{"type":"actions","elements":[{"type":"static_select","action_id":"s","options":[` + option(x("o", 76)) + `]}]}]`,
			[]string{"options[0].text.text: 76 characters, limit 75"}},
		{"unknown block", `[{"type":"sparkle"}]`, []string{`blocks[0].type: unknown block type "sparkle"`}},
		{"unknown element", `[{"type":"actions","elements":[{"type":"slider","action_id":"s"}]}]`, []string{`unknown element type "slider"`}},
		{"not json", `[{`, []string{"must be an array of blocks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := blockkit.CheckMessage([]byte(tc.blocks))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var bk *blockkit.Error
			if !errors.As(err, &bk) && tc.name != "not json" {
				t.Errorf("error is %T, not *blockkit.Error", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q lacks %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
		})
	}
}

func TestCheckModal(t *testing.T) {
	t.Parallel()
	input := `{"type":"input","block_id":"title","label":{"type":"plain_text","text":"Title"},"element":{"type":"plain_text_input","action_id":"title"}}`
	modal := func(fields string) string { return `{"type":"modal",` + fields + `}` }
	title := `"title":{"type":"plain_text","text":"Open"}`
	submit := `"submit":{"type":"plain_text","text":"Open"}`
	x := strings.Repeat
	for _, tc := range []struct {
		name, view string
		want       string
	}{
		{"valid", modal(title + `,` + submit + `,"blocks":[` + input + `]`), ""},
		{"no title", modal(`"blocks":[]`), "title: required"},
		{"long title", modal(`"title":{"type":"plain_text","text":"` + x("t", 25) + `"},"blocks":[]`), "title.text: 25 characters, limit 24"},
		{"long submit", modal(title + `,"submit":{"type":"plain_text","text":"` + x("s", 25) + `"},"blocks":[]`), "submit.text: 25 characters, limit 24"},
		{"long close", modal(title + `,"close":{"type":"plain_text","text":"` + x("c", 25) + `"},"blocks":[]`), "close.text: 25 characters, limit 24"},
		{"metadata", modal(title + `,"private_metadata":"` + x("m", 3001) + `","blocks":[]`), "private_metadata: 3001 characters, limit 3000"},
		{"callback", modal(title + `,"callback_id":"` + x("c", 256) + `","blocks":[]`), "callback_id: 256 characters, limit 255"},
		{"blocks", modal(title + `,"blocks":[` + repeat(`{"type":"divider"}`, 101) + `]`), "blocks: 101 blocks, limit 100"},
		{"input needs submit", modal(title + `,"blocks":[` + input + `]`), "submit: required when the view has input blocks"},
		{"not modal", `{"type":"home","title":{"type":"plain_text","text":"x"},"blocks":[]}`, `type: must be "modal"`},
		{"block rules apply", modal(title + `,"blocks":[` + section(x("s", 3001)) + `]`), "blocks[0].text.text: 3001 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := blockkit.CheckModal([]byte(tc.view))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEveryViolationListed(t *testing.T) {
	t.Parallel()
	err := blockkit.CheckMessage([]byte(`[` + section(strings.Repeat("a", 3001)) + `,{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`))
	var bk *blockkit.Error
	if !errors.As(err, &bk) || len(bk.Violations) != 2 {
		t.Fatalf("err = %v", err)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte(`[` + section("hi") + `]`))
	f.Add([]byte(`{"type":"modal","title":{"type":"plain_text","text":"x"},"blocks":[{"type":"input","element":{"type":"static_select","option_groups":[{"label":1}]}}]}`))
	f.Add([]byte(`[{"type":"actions","elements":[null,1,"x",{"type":"overflow","options":{}}]}]`))
	f.Add([]byte(`[{"type":"section","fields":null,"accessory":[]},{"type":"context","elements":[{"type":"image"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		errM := blockkit.CheckMessage(data)
		errV := blockkit.CheckModal(data)
		if !json.Valid(data) && errV == nil {
			t.Errorf("invalid JSON accepted as a modal: %q", data)
		}
		_ = errM
	})
}
