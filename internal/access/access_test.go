package access_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sitrep/sitrep/internal/access"
)

// directory is a fixed workspace: channel → members, group → members.
type directory struct {
	channels map[string][]string
	groups   map[string][]string
	asked    int
	fail     error
}

func (d *directory) IsMember(_ context.Context, channel, user string) (bool, error) {
	d.asked++
	return slices.Contains(d.channels[channel], user), d.fail
}

func (d *directory) GroupMembers(_ context.Context, group string) ([]string, error) {
	if d.fail != nil {
		return nil, d.fail
	}
	return d.groups[group], nil
}

const (
	room    = "CROOM"
	random  = "CRANDOM"
	tdo     = "UTDO"
	member  = "UMEMBER"
	outside = "UOUT"
	boss    = "UBOSS"  // a commander by name
	oncall  = "UONCAL" // a commander through the group
	facil   = "UFACIL"
	owner   = "UOWNER"
	starter = "USTART"
)

func workspace() *directory {
	return &directory{
		channels: map[string][]string{room: {tdo, member, facil}, random: {tdo, member, outside, boss, oncall}},
		groups:   map[string][]string{"SCMD": {oncall}},
	}
}

var (
	inc      = access.Target{Ref: "INC-1", Room: room, TDO: tdo}
	noRoom   = access.Target{Ref: "INC-2", TDO: tdo}
	private  = access.Target{Ref: "INC-3", Room: room, TDO: tdo, Private: true}
	pm       = access.Target{Ref: "INC-1", Room: room, TDO: tdo, Facilitator: facil}
	pmAction = access.Target{Ref: "ACT-1", Room: room, TDO: tdo, Facilitator: facil, Owner: owner}
	run      = access.Target{Ref: "CL-1", Room: room, Starter: starter}
)

func TestCheck(t *testing.T) {
	t.Parallel()
	commanders := access.Settings{Commanders: []string{boss}, CommanderGroups: []string{"SCMD"}}
	cases := []struct {
		name     string
		set      access.Settings
		actor    string
		where    string
		action   access.Action
		target   access.Target
		rule     string // "" allowed
		mentions string // in the refusal
	}{
		{"member changes from the room", commanders, member, room, access.ChangeIncident, inc, "", ""},
		{"member changes from elsewhere", commanders, member, random, access.ChangeIncident, inc, "", ""},
		{"outsider changes", commanders, outside, random, access.ChangeIncident, inc, "room", "<#CROOM>"},
		{"outsider changes, changes: anyone", access.Settings{Changes: access.ChangesAnyone}, outside, random, access.ChangeIncident, inc, "", ""},
		{"outsider changes a private one, changes: anyone", access.Settings{Changes: access.ChangesAnyone}, outside, random, access.ChangeIncident, private, "room", "<#CROOM>"},
		{"TDO changes an incident with no room", commanders, tdo, random, access.ChangeIncident, noRoom, "", ""},
		{"member changes an incident with no room", commanders, member, random, access.ChangeIncident, noRoom, "room", "has no room yet"},
		{"commander changes from anywhere", commanders, boss, random, access.ChangeIncident, inc, "", ""},
		{"group commander changes", commanders, oncall, random, access.ChangeIncident, inc, "", ""},
		{"group commander closes", commanders, oncall, random, access.CloseIncident, inc, "", ""},
		{"TDO closes", commanders, tdo, room, access.CloseIncident, inc, "", ""},
		{"member closes", commanders, member, room, access.CloseIncident, inc, "tdo", "<@UTDO>"},
		{"TDO lowers severity", commanders, tdo, random, access.LowerSeverity, inc, "", ""},
		{"member lowers severity", commanders, member, room, access.LowerSeverity, inc, "tdo", "lower the severity of INC-1"},
		{"member hands over (channel)", commanders, member, room, access.HandOver, inc, "", ""},
		{"outsider hands over (channel)", commanders, outside, random, access.HandOver, inc, "room", "hand INC-1 over"},
		{"outsider gives a role (channel)", commanders, outside, random, access.GiveRole, inc, "room", "give roles in INC-1"},
		{"member hands over (tdo)", access.Settings{Handover: access.HandoverTDO}, member, room, access.HandOver, inc, "tdo", "<@UTDO>"},
		{"member gives a role (tdo)", access.Settings{Handover: access.HandoverTDO}, member, room, access.GiveRole, inc, "tdo", "give roles in INC-1"},
		{"TDO hands over (tdo)", access.Settings{Handover: access.HandoverTDO}, tdo, random, access.HandOver, inc, "", ""},
		{"commander hands over (tdo)", access.Settings{Handover: access.HandoverTDO, Commanders: []string{boss}}, boss, random, access.HandOver, inc, "", ""},
		{"outsider hands over (anyone)", access.Settings{Handover: access.HandoverAnyone}, outside, random, access.HandOver, inc, "", ""},
		{"outsider gives a role in a private one (anyone)", access.Settings{Handover: access.HandoverAnyone}, outside, random, access.GiveRole, private, "room", ""},
		{"TDO makes private", commanders, tdo, room, access.MakePrivate, inc, "", ""},
		{"member makes private", commanders, member, room, access.MakePrivate, inc, "tdo", "make INC-1 private"},
		{"member sees", commanders, member, random, access.SeeIncident, private, "", ""},
		{"outsider sees", commanders, outside, random, access.SeeIncident, private, "room", "see INC-3"},
		{"member starts the postmortem", commanders, member, room, access.StartPostmortem, pm, "", ""},
		{"member adds an entry", commanders, member, random, access.AddPostmortemEntry, pm, "", ""},
		{"outsider adds an entry", commanders, outside, random, access.AddPostmortemEntry, pm, "room", ""},
		{"facilitator moves the phase", commanders, facil, room, access.MovePostmortem, pm, "", ""},
		{"TDO moves the phase", commanders, tdo, room, access.MovePostmortem, pm, "", ""},
		{"member moves the phase", commanders, member, room, access.MovePostmortem, pm, "facilitator", "<@UFACIL>"},
		{"member takes facilitation", commanders, member, room, access.HandFacilitation, pm, "facilitator", "hand facilitation"},
		{"commander takes facilitation", commanders, boss, random, access.HandFacilitation, pm, "", ""},
		{"owner completes", commanders, owner, random, access.CompleteAction, pmAction, "", ""},
		{"facilitator completes", commanders, facil, room, access.CompleteAction, pmAction, "", ""},
		{"member completes", commanders, member, room, access.CompleteAction, pmAction, "owner", "<@UOWNER>"},
		{"tick in the run's channel", commanders, outside, room, access.TickChecklist, run, "", ""},
		{"tick from another channel", commanders, member, random, access.TickChecklist, run, "channel", "<#CROOM>"},
		{"commander ticks from another channel", commanders, boss, random, access.TickChecklist, run, "channel", ""},
		{"starter aborts", commanders, starter, random, access.AbortChecklist, run, "", ""},
		{"member of the channel aborts", commanders, member, random, access.AbortChecklist, run, "", ""},
		{"outsider aborts", commanders, outside, random, access.AbortChecklist, run, "starter", "<@USTART>"},
		{"commander aborts", commanders, boss, random, access.AbortChecklist, run, "", ""},
		{"unknown action", commanders, member, room, access.Action("incident.explode"), inc, "unknown", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := access.New(tc.set, workspace())
			err := p.Check(context.Background(), access.Request{Actor: tc.actor, Channel: tc.where, Action: tc.action, Target: tc.target})
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var r *access.Refusal
			if !errors.As(err, &r) {
				t.Fatalf("err = %v, want a refusal by %q", err, tc.rule)
			}
			if r.Rule != tc.rule || r.Action != tc.action || !strings.Contains(r.Text, tc.mentions) {
				t.Errorf("refusal = %+v, want rule %q mentioning %q", r, tc.rule, tc.mentions)
			}
			if !strings.Contains(r.Text, "commander") && tc.action != access.TickChecklist && tc.rule != "unknown" {
				t.Errorf("refusal %q does not say a commander may", r.Text)
			}
		})
	}
}

// TestTypingInTheRoomShowsMembership: Slack only lets members type in a
// channel, so the directory is not asked then.
func TestTypingInTheRoomShowsMembership(t *testing.T) {
	t.Parallel()
	d := workspace()
	p := access.New(access.Settings{}, d)
	if err := p.Check(context.Background(), access.Request{Actor: member, Channel: room, Action: access.ChangeIncident, Target: inc}); err != nil || d.asked != 0 {
		t.Errorf("err %v, directory asked %d times", err, d.asked)
	}
}

// TestDirectoryFailureRefusesNothingSilently: when Slack cannot be asked,
// the check fails with an error that is not a refusal, and nothing is
// allowed.
func TestDirectoryFailureRefusesNothingSilently(t *testing.T) {
	t.Parallel()
	d := workspace()
	d.fail = errors.New("slack is down")
	p := access.New(access.Settings{CommanderGroups: []string{"SCMD"}}, d)
	err := p.Check(context.Background(), access.Request{Actor: member, Channel: random, Action: access.ChangeIncident, Target: inc})
	var r *access.Refusal
	if err == nil || errors.As(err, &r) || !errors.Is(err, d.fail) {
		t.Errorf("err = %v, want the directory's error, wrapped", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := access.New(access.Settings{}, workspace()).Settings()
	if s.Changes != access.ChangesRoom || s.Handover != access.HandoverChannel {
		t.Errorf("defaults = %+v", s)
	}
}
