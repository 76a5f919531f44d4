package bot

import "github.com/slack-go/slack"

// Readers of interaction payloads. Slack's payloads are the outside world:
// a field may be missing or null, and slack-go leaves a missing object as a
// nil pointer. Handlers read form state only through these, so a payload
// without state reads as a form left empty (which the form's checks
// answer), never as a nil dereference.

// formValues returns a submitted form's values by block ID and action ID:
// empty, never nil, when the payload carries no state.
func formValues(cb slack.InteractionCallback) map[string]map[string]slack.BlockAction {
	if cb.View.State == nil || cb.View.State.Values == nil {
		return map[string]map[string]slack.BlockAction{}
	}
	return cb.View.State.Values
}

// formField returns the value of the input in block: sitrep's forms give
// each input the action ID of its block. A missing input reads as empty.
func formField(cb slack.InteractionCallback, block string) slack.BlockAction {
	return formValues(cb)[block][block]
}
