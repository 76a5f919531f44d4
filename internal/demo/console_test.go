package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

func TestShowFiles(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: "U0ALICE", Name: "alice"})
	general := sim.AddChannel("general", "U0ALICE")
	var out bytes.Buffer
	c := New(sim, func(context.Context) error { return nil }, &out, "U0ALICE", general)

	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chart := strings.Repeat("p", 34*1024)
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: chart, Filename: "pareto.png",
		FileSize: len(chart), Channel: general, InitialComment: "Causes by count"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "12:01 paged\n",
		Filename: "timeline.txt", FileSize: 12, Channel: general}); err != nil {
		t.Fatal(err)
	}
	c.Show()
	got := out.String()
	for _, want := range []string{
		"  Causes by count\n  📎 pareto.png (image/png, 34 KB)\n",
		"sitrep · msg 2\n  📎 timeline.txt (text/plain, 12 B)\n", // no empty comment line
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int]string{0: "0 B", 1023: "1023 B", 1024: "1 KB", 34 * 1024: "34 KB", 1536: "2 KB", 3 << 19: "1.5 MB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
