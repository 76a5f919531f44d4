package bot

import (
	"github.com/slack-go/slack"
)

// The header message of a room can carry, below the header, the "what
// changed?" list and the plan of attack: one message instead of three, so
// setting up a room takes two Slack calls fewer. A part goes into the
// header only if the message stays within Slack's 50 blocks however the
// header grows later (fields, description, suspects); a part that does not
// fit is posted as a message of its own, as before.

// maxMessageBlocks is Slack's limit of blocks in one message.
const maxMessageBlocks = 50

// headerMaxBlocks is the most blocks headerView renders: the header, two
// sections of fields, the description, the suspects, the buttons and the
// context line.
const headerMaxBlocks = 7

// planGrowth is how many blocks a plan of attack may gain after it is
// posted: the Restore now / Extend buttons appear while a clock runs.
const planGrowth = 1

// headerParts says which parts a header message carries besides the header.
type headerParts struct{ changes, plan bool }

// fitParts chooses the parts that go into the header message: both if they
// fit, else the plan of attack alone, else "what changed?" alone, else
// none. changes and plan are the parts' blocks (nil: no such part).
func fitParts(changes, plan []slack.Block) headerParts {
	size := func(blocks []slack.Block, growth int) int { return 1 + len(blocks) + growth } // a divider above each
	c, p := size(changes, 0), size(plan, planGrowth)
	switch {
	case changes != nil && plan != nil && headerMaxBlocks+c+p <= maxMessageBlocks:
		return headerParts{changes: true, plan: true}
	case plan != nil && headerMaxBlocks+p <= maxMessageBlocks:
		return headerParts{plan: true}
	case changes != nil && headerMaxBlocks+c <= maxMessageBlocks:
		return headerParts{changes: true}
	}
	return headerParts{}
}

// headerMessageView appends to the header's blocks the parts it carries,
// each below a divider: "what changed?" first, then the plan of attack.
func headerMessageView(header []slack.Block, parts headerParts, changes, plan []slack.Block) []slack.Block {
	blocks := append([]slack.Block(nil), header...)
	if parts.changes {
		blocks = append(blocks, slack.NewDividerBlock())
		blocks = append(blocks, changes...)
	}
	if parts.plan {
		blocks = append(blocks, slack.NewDividerBlock())
		blocks = append(blocks, plan...)
	}
	return blocks
}
