package bot_test

// join puts user in channel, as a person joining it in Slack would, and
// waits until the bot has handled what Slack told it (with
// slacksim.Options.MemberEvents, the member_joined_channel event).
func (h *harness) join(channel, user string) {
	h.t.Helper()
	h.sim.Join(channel, user)
	h.idle()
}

// leave takes user out of channel and waits until the bot has handled it.
func (h *harness) leave(channel, user string) {
	h.t.Helper()
	h.sim.RemoveMember(channel, user)
	h.idle()
}
