package slacksim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// bigWorkspace is a demo after a long session: 50 incident channels of 40
// messages with blocks (header, fields, buttons) each, and a 34 KB chart
// in every fifth.
func bigWorkspace(b *testing.B) *slacksim.Sim {
	b.Helper()
	sim := slacksim.New(slacksim.Options{CreateLag: -1})
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: alice, Name: "alice"})
	api := apiFor(sim)
	blocks := slack.MsgOptionBlocks(
		slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "INC-1: db is down", false, false)),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			slack.NewTextBlockObject("mrkdwn", "*Severity*\nSEV1", false, false),
			slack.NewTextBlockObject("mrkdwn", "*Status*\nInvestigating", false, false),
			slack.NewTextBlockObject("mrkdwn", "*Technical duty officer*\n<@U0ALICE>", false, false)}, nil),
		slack.NewActionBlock("act", slack.NewButtonBlockElement("take", "1", slack.NewTextBlockObject("plain_text", "Take command", false, false))))
	chart := make([]byte, 34<<10)
	for i := range 50 {
		ch := sim.AddChannel(fmt.Sprintf("inc-%d-db-is-down", i+1), alice)
		for range 40 {
			if _, _, err := api.PostMessage(ch, slack.MsgOptionText("INC-1: db is down", false), blocks); err != nil {
				b.Fatal(err)
			}
		}
		if i%5 == 0 {
			if _, err := api.UploadFile(slack.UploadFileParameters{Content: string(chart), Filename: "pareto.png", FileSize: len(chart), Channel: ch}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return sim
}

// BenchmarkSave measures one save of a big workspace: what the automatic
// save costs after a change, with the workspace locked while it is
// rendered.
func BenchmarkSave(b *testing.B) {
	sim := bigWorkspace(b)
	path := filepath.Join(b.TempDir(), "ws.json")
	b.ResetTimer()
	for b.Loop() {
		if err := sim.Save(path); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
	}
}

// BenchmarkLoad measures loading the same workspace at start.
func BenchmarkLoad(b *testing.B) {
	sim := bigWorkspace(b)
	path := filepath.Join(b.TempDir(), "ws.json")
	if err := sim.Save(path); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		loaded, err := slacksim.Load(slacksim.Options{StatePath: path})
		if err != nil {
			b.Fatal(err)
		}
		loaded.Close()
	}
}
