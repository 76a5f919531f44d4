package incident

import (
	"fmt"
	"slices"
	"time"
)

// Schedule gives the hand-off instants of a rotation: Next returns the first
// one after t. robfig/cron's schedules satisfy it.
type Schedule interface {
	Next(t time.Time) time.Time
}

// Rotation is an on-call rotation: its members take turns as the technical
// duty officer, handing over at each instant of Schedule.
type Rotation struct {
	Name    string
	Members []string
	// Schedule gives the hand-off instants, in the rotation's time zone.
	Schedule Schedule
	// Start is when Members[0] went on duty; hand-offs since then move
	// duty down the list, wrapping round.
	Start time.Time
	// Systems are the systems whose incidents this rotation leads.
	Systems []string
	// Default marks the rotation that leads incidents no rotation's
	// systems cover.
	Default bool
}

// maxHandOffs bounds the hand-offs OnCall counts (about 11 years of hourly
// hand-offs), so a mistaken schedule cannot hang it.
const maxHandOffs = 100_000

// Duty is who is on call in a rotation, since when, and who is next.
type Duty struct {
	Rotation string
	Member   string
	Since    time.Time
	Next     string
	NextAt   time.Time
}

// OnCall returns who is on duty at t. Before Start, Members[0] is.
func (r *Rotation) OnCall(t time.Time) Duty {
	i, since := 0, r.Start
	if t.After(r.Start) {
		for at := r.Schedule.Next(r.Start); !at.After(t) && i < maxHandOffs; at = r.Schedule.Next(at) {
			i, since = i+1, at
		}
	}
	n := len(r.Members)
	return Duty{
		Rotation: r.Name,
		Member:   r.Members[i%n],
		Since:    since,
		Next:     r.Members[(i+1)%n],
		NextAt:   r.Schedule.Next(maxTime(t, since)),
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Covers reports whether the rotation leads incidents of system.
func (r *Rotation) Covers(system string) bool { return slices.Contains(r.Systems, system) }

// Validate checks a rotation, naming the field that is wrong.
func (r *Rotation) Validate() error {
	switch {
	case r.Name == "":
		return &FieldError{"name", "every rotation needs a name"}
	case len(r.Members) == 0:
		return &FieldError{"members", fmt.Sprintf("rotation %q has no members: list Slack user IDs (U…)", r.Name)}
	case r.Schedule == nil:
		return &FieldError{"handoff", fmt.Sprintf("rotation %q has no hand-off schedule", r.Name)}
	}
	return nil
}

// tdoFor picks the TDO of a new incident: the on-call of the first rotation
// covering one of its systems, else of the default rotation, else nobody.
func tdoFor(rotations []Rotation, systems []string, t time.Time) string {
	tdo, _ := onCallFor(rotations, systems, t)
	return tdo
}

// onCallFor is tdoFor that also names the rotation that chose the TDO.
func onCallFor(rotations []Rotation, systems []string, t time.Time) (tdo, rotation string) {
	for _, sys := range systems {
		for i := range rotations {
			if rotations[i].Covers(sys) {
				return rotations[i].OnCall(t).Member, rotations[i].Name
			}
		}
	}
	for i := range rotations {
		if rotations[i].Default {
			return rotations[i].OnCall(t).Member, rotations[i].Name
		}
	}
	return "", ""
}
