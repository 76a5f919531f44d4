package slacksim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSnapshotState measures how long a save holds the workspace
// lock (every other call waits meanwhile): the copy of 50 channels of 40
// messages with 1 KB of blocks each.
func BenchmarkSnapshotState(b *testing.B) {
	s := New(Options{})
	s.AddUser(User{ID: "U0ALICE", Name: "alice"})
	blocks := json.RawMessage(`[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("x", 1000) + `"}}]`)
	for i := range 50 {
		ch := s.AddChannel(fmt.Sprintf("inc-%d", i), "U0ALICE")
		for range 40 {
			ts := s.Say("U0ALICE", ch, "INC-1: db is down")
			s.ws.channels[ch].byTS[ts].Blocks = blocks
		}
	}
	for b.Loop() {
		_ = s.snapshotState()
	}
}
