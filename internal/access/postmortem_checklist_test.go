package access_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sitrep/sitrep/internal/access"
)

// members is a Directory of channels and their members, and no groups.
type members map[string][]string

func (m members) IsMember(_ context.Context, channel, user string) (bool, error) {
	return slices.Contains(m[channel], user), nil
}

func (members) GroupMembers(context.Context, string) ([]string, error) { return nil, nil }

// TestPostmortemAndChecklistRules decides the postmortem and checklist
// actions: who, from where, on what.
func TestPostmortemAndChecklistRules(t *testing.T) {
	t.Parallel()
	dir := members{"CROOM": {"UTDO", "UMEMBER"}, "CGENERAL": {"USTARTER", "UMEMBER"}}
	p := access.New(access.Settings{Commanders: []string{"UCMD"}}, dir)
	pm := access.Target{Ref: "INC-1", Room: "CROOM", TDO: "UTDO", Facilitator: "UFAC"}
	action := access.Target{Ref: "action 1 of the INC-1 postmortem", Room: "CROOM", TDO: "UTDO", Facilitator: "UFAC", Owner: "UOWNER"}
	run := access.Target{Ref: "CL-1", Room: "CGENERAL", Message: "1.000100", Starter: "USTARTER"}
	for _, tc := range []struct {
		name string
		req  access.Request
		rule string // "": allowed
	}{
		{"start/member", access.Request{Actor: "UMEMBER", Channel: "CRANDOM", Action: access.StartPostmortem, Target: pm}, ""},
		{"start/outsider", access.Request{Actor: "UOUT", Channel: "CRANDOM", Action: access.StartPostmortem, Target: pm}, "room"},
		{"move/facilitator", access.Request{Actor: "UFAC", Channel: "CRANDOM", Action: access.MovePostmortem, Target: pm}, ""},
		{"move/TDO", access.Request{Actor: "UTDO", Channel: "CROOM", Action: access.MovePostmortem, Target: pm}, ""},
		{"move/member", access.Request{Actor: "UMEMBER", Channel: "CROOM", Action: access.MovePostmortem, Target: pm}, "facilitator"},
		{"move/commander", access.Request{Actor: "UCMD", Channel: "CRANDOM", Action: access.MovePostmortem, Target: pm}, ""},
		{"facilitation/member", access.Request{Actor: "UMEMBER", Channel: "CROOM", Action: access.HandFacilitation, Target: pm}, "facilitator"},
		{"facilitation/TDO", access.Request{Actor: "UTDO", Channel: "CROOM", Action: access.HandFacilitation, Target: pm}, ""},
		{"entry/member elsewhere", access.Request{Actor: "UMEMBER", Channel: "CRANDOM", Action: access.AddPostmortemEntry, Target: pm}, ""},
		{"entry/facilitator outside the room", access.Request{Actor: "UFAC", Channel: "CRANDOM", Action: access.AddPostmortemEntry, Target: pm}, ""},
		{"entry/outsider", access.Request{Actor: "UOUT", Channel: "CRANDOM", Action: access.AddPostmortemEntry, Target: pm}, "room"},
		{"entry/form, from no channel", access.Request{Actor: "UOUT", Action: access.AddPostmortemEntry, Target: pm}, "room"},
		{"done/owner", access.Request{Actor: "UOWNER", Channel: "DOWNER", Action: access.CompleteAction, Target: action}, ""},
		{"done/facilitator", access.Request{Actor: "UFAC", Channel: "DFAC", Action: access.CompleteAction, Target: action}, ""},
		{"done/TDO", access.Request{Actor: "UTDO", Channel: "CROOM", Action: access.CompleteAction, Target: action}, "owner"},
		{"done/commander", access.Request{Actor: "UCMD", Channel: "DCMD", Action: access.CompleteAction, Target: action}, ""},
		{"tick/its message", access.Request{Actor: "UOUT", Channel: "CGENERAL", Message: "1.000100", Action: access.TickChecklist, Target: run}, ""},
		{"tick/another channel", access.Request{Actor: "UMEMBER", Channel: "CRANDOM", Message: "1.000100", Action: access.TickChecklist, Target: run}, "channel"},
		{"tick/another message", access.Request{Actor: "UMEMBER", Channel: "CGENERAL", Message: "2.000200", Action: access.TickChecklist, Target: run}, "channel"},
		{"tick/commander elsewhere", access.Request{Actor: "UCMD", Channel: "CRANDOM", Message: "3.000300", Action: access.TickChecklist, Target: run}, "channel"},
		{"tick/before the message is known", access.Request{Actor: "UOUT", Channel: "CGENERAL", Message: "2.000200", Action: access.TickChecklist,
			Target: access.Target{Ref: "CL-1", Room: "CGENERAL", Starter: "USTARTER"}}, ""},
		{"abort/starter elsewhere", access.Request{Actor: "USTARTER", Channel: "CRANDOM", Action: access.AbortChecklist, Target: run}, ""},
		{"abort/member elsewhere", access.Request{Actor: "UMEMBER", Channel: "CRANDOM", Action: access.AbortChecklist, Target: run}, ""},
		{"abort/in its channel", access.Request{Actor: "UOUT", Channel: "CGENERAL", Action: access.AbortChecklist, Target: run}, ""},
		{"abort/outsider elsewhere", access.Request{Actor: "UOUT", Channel: "CRANDOM", Action: access.AbortChecklist, Target: run}, "starter"},
		{"abort/commander elsewhere", access.Request{Actor: "UCMD", Channel: "CRANDOM", Action: access.AbortChecklist, Target: run}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := p.Check(context.Background(), tc.req)
			var refusal *access.Refusal
			switch {
			case tc.rule == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.rule != "" && !errors.As(err, &refusal):
				t.Errorf("allowed (%v), want refused by %q", err, tc.rule)
			case tc.rule != "" && refusal.Rule != tc.rule:
				t.Errorf("refused by %q (%s), want %q", refusal.Rule, refusal.Text, tc.rule)
			}
		})
	}
}
