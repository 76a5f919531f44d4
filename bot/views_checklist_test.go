package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/internal/blockkit"
)

// fortySteps is a 40-step run with half its steps ticked and some skipped.
func fortySteps() (*checklist.Run, []checklist.StepState) {
	at := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	run := &checklist.Run{ID: 7, Title: "Big release", Label: "v9", StartedBy: "U0ALICE", StartedAt: at, State: checklist.StateActive, Version: 30}
	states := make([]checklist.StepState, 40)
	for i := range 40 {
		run.Steps = append(run.Steps, checklist.Step{Text: fmt.Sprintf("Step %d: a step of exactly the longest text allowed %s", i+1, strings.Repeat("x", 30))[:70], Critical: i%3 != 2, Help: "https://wiki.example/step"})
		switch {
		case i%2 == 0:
			states[i] = checklist.StepState{Done: true, By: "U0BOB", At: at.Add(time.Duration(i) * time.Minute)}
		case i%3 == 2:
			states[i] = checklist.StepState{Skipped: true, By: "U0BOB", At: at, Reason: "a long reason that will not fit in a checkbox description at all, not even close"}
		}
	}
	return run, states
}

func TestFortyStepChecklistFitsBlockKit(t *testing.T) {
	run, states := fortySteps()
	for _, state := range []checklist.State{checklist.StateActive, checklist.StateCompleted} {
		run.State = state
		run.EndedAt = run.StartedAt.Add(time.Hour)
		_, blocks := checklistView(run, states)
		raw := mustJSON(t, blocks)
		if err := blockkit.CheckMessage(raw); err != nil {
			t.Errorf("%s 40-step checklist breaks Block Kit: %v", state, err)
		}
		if len(blocks) > 10 {
			t.Errorf("%s 40-step checklist takes %d blocks", state, len(blocks))
		}
	}
}

// BenchmarkChecklistRender renders a 40-step checklist to Block Kit JSON.
func BenchmarkChecklistRender(b *testing.B) {
	run, states := fortySteps()
	b.ReportAllocs()
	for b.Loop() {
		_, blocks := checklistView(run, states)
		mustJSON(b, blocks)
	}
}

func mustJSON(t testing.TB, blocks []slack.Block) []byte {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
