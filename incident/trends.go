package incident

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// TrendIncident is what the trends read of one incident: its times, its
// severity, its cost class and its diagnosis clock. Nothing that names it:
// a private incident counts in every trend like any other.
type TrendIncident struct {
	OpenedAt       time.Time
	AcknowledgedAt time.Time
	RestoredAt     time.Time
	ResolvedAt     time.Time
	// ClosedAt ends a diagnosis clock that was never stopped.
	ClosedAt time.Time
	Severity Severity
	// Class is the cost class entered; 0 when no cost was.
	Class CostClass
	// Timebox is the diagnosis clock; nil if it never started.
	Timebox *Timebox
}

// TrendAction is what the trends read of one postmortem action.
type TrendAction struct {
	// Due is the day it is due (its start); DoneAt zero while it is open.
	Due    time.Time
	DoneAt time.Time
}

// OnTime reports whether the action was done by the end of its due day.
func (a TrendAction) OnTime() bool {
	return !a.DoneAt.IsZero() && a.DoneAt.Before(a.Due.AddDate(0, 0, 1))
}

// TrendStore is what the trends need from storage.
type TrendStore interface {
	// TrendIncidents returns the incidents opened at or after from and
	// before to, in any order.
	TrendIncidents(ctx context.Context, from, to time.Time) ([]TrendIncident, error)
	// TrendActions returns the postmortem actions due at or after from
	// and before to, in any order.
	TrendActions(ctx context.Context, from, to time.Time) ([]TrendAction, error)
}

// Limits on the weeks a trend covers.
const (
	DefaultTrendWeeks = 12
	MaxTrendWeeks     = 52
)

// Spread is how long something took across a set of incidents.
type Spread struct {
	// N counts the incidents measured; Median and P90 are zero when N is.
	N           int
	Median, P90 time.Duration
}

// TrendTimes are the times of one group of incidents: from opening to
// acknowledgement, to restoration and to resolution.
type TrendTimes struct {
	Acknowledge, Restore, Resolve Spread
}

// TrendWeek is one week of trends.
type TrendWeek struct {
	// Start is the week's Monday, 00:00 in the trends' zone.
	Start time.Time
	// Incidents counts those opened in the week; Classes the same by cost
	// class, aligned with ClassNames.
	Incidents int
	Classes   [5]int
	// BySeverity holds sev1..sev4 at 0..3; All every severity.
	BySeverity [4]TrendTimes
	All        TrendTimes
	// Timeboxes counts the week's incidents whose diagnosis clock has
	// come to a verdict (stopped, or run past its deadline); Kept those
	// of them whose every box stopped within its deadline.
	Timeboxes, Kept int
	// ActionsDue counts the actions due in the week that are done or past
	// due; OnTime those done by the end of their due day.
	ActionsDue, OnTime int
}

// TimeboxShare is the share of timeboxes kept, and false when none came
// to a verdict.
func (w TrendWeek) TimeboxShare() (float64, bool) { return share(w.Kept, w.Timeboxes) }

// OnTimeShare is the share of actions closed on time, and false when no
// action was due.
func (w TrendWeek) OnTimeShare() (float64, bool) { return share(w.OnTime, w.ActionsDue) }

func share(n, of int) (float64, bool) {
	if of == 0 {
		return 0, false
	}
	return float64(n) / float64(of), true
}

// Trends are the weekly numbers that show whether a team is getting
// better, oldest week first.
type Trends struct {
	Weeks    []TrendWeek
	Location *time.Location
	// From and To bound the weeks: From is the first Monday, To the end
	// of the last week.
	From, To time.Time
}

// TrendWindow returns the weeks (Monday to Sunday, in loc) ending with the
// one holding now: where the first starts and where the last ends.
func TrendWindow(now time.Time, weeks int, loc *time.Location) (from, to time.Time) {
	t := now.In(loc)
	monday := time.Date(t.Year(), t.Month(), t.Day()-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
	return monday.AddDate(0, 0, -7*(weeks-1)), monday.AddDate(0, 0, 7)
}

// ComputeTrends sorts incidents and actions into the weeks (in loc) ending
// with the one holding now, and measures each week. Incidents and actions
// outside the weeks are ignored; a clock still running is judged at now.
func ComputeTrends(incs []TrendIncident, actions []TrendAction, now time.Time, weeks int, loc *time.Location) Trends {
	if loc == nil {
		loc = time.UTC
	}
	from, to := TrendWindow(now, weeks, loc)
	out := Trends{Weeks: make([]TrendWeek, weeks), Location: loc, From: from, To: to}
	for i := range out.Weeks {
		out.Weeks[i].Start = from.AddDate(0, 0, 7*i)
	}
	week := func(t time.Time) int {
		if t.Before(from) || !t.Before(to) {
			return -1
		}
		i := int(t.Sub(from) / (7 * 24 * time.Hour))
		// A week across a change of clocks is an hour longer or shorter.
		for i > 0 && t.Before(out.Weeks[min(i, weeks-1)].Start) {
			i--
		}
		for i < weeks-1 && !t.Before(out.Weeks[i+1].Start) {
			i++
		}
		return min(i, weeks-1)
	}

	type samples struct{ ack, restore, resolve []time.Duration }
	bySev := make([][4]samples, weeks)
	all := make([]samples, weeks)
	for _, inc := range incs {
		i := week(inc.OpenedAt)
		if i < 0 {
			continue
		}
		w := &out.Weeks[i]
		w.Incidents++
		if inc.Class >= C1 && inc.Class <= C4 {
			w.Classes[inc.Class-1]++
		} else {
			w.Classes[4]++
		}
		add := func(list *[]time.Duration, other *[]time.Duration, at time.Time) {
			if at.IsZero() || at.Before(inc.OpenedAt) {
				return
			}
			d := at.Sub(inc.OpenedAt)
			*list = append(*list, d)
			*other = append(*other, d)
		}
		if inc.Severity.Valid() {
			s := &bySev[i][inc.Severity-1]
			add(&s.ack, &all[i].ack, inc.AcknowledgedAt)
			add(&s.restore, &all[i].restore, inc.RestoredAt)
			add(&s.resolve, &all[i].resolve, inc.ResolvedAt)
		}
		if kept, judged := timeboxVerdict(inc, now); judged {
			w.Timeboxes++
			if kept {
				w.Kept++
			}
		}
	}
	for i := range out.Weeks {
		w := &out.Weeks[i]
		for s := range w.BySeverity {
			w.BySeverity[s] = times(bySev[i][s].ack, bySev[i][s].restore, bySev[i][s].resolve)
		}
		w.All = times(all[i].ack, all[i].restore, all[i].resolve)
	}
	for _, a := range actions {
		i := week(a.Due)
		if i < 0 {
			continue
		}
		if a.DoneAt.IsZero() && now.Before(a.Due.AddDate(0, 0, 1)) {
			continue // open, and not yet late: no verdict
		}
		out.Weeks[i].ActionsDue++
		if a.OnTime() {
			out.Weeks[i].OnTime++
		}
	}
	return out
}

// timeboxVerdict tells whether the incident kept its diagnosis timeboxes;
// judged is false when none started, or when the clock still runs inside
// its deadline.
func timeboxVerdict(inc TrendIncident, now time.Time) (kept, judged bool) {
	if inc.Timebox == nil {
		return false, false
	}
	end := now
	if inc.Timebox.EndedAt.IsZero() {
		// A clock never stopped ends with the incident.
		for _, t := range []time.Time{inc.ClosedAt, inc.ResolvedAt} {
			if !t.IsZero() {
				end = t
				break
			}
		}
	}
	a, ok := inc.Timebox.Adherence(end)
	if !ok {
		return false, false
	}
	if a.Running && a.Over == 0 && end.Equal(now) {
		return false, false
	}
	return a.Over == 0, true
}

func times(ack, restore, resolve []time.Duration) TrendTimes {
	return TrendTimes{Acknowledge: Spreads(ack), Restore: Spreads(restore), Resolve: Spreads(resolve)}
}

// Spreads measures ds (which it sorts): the median and the 90th
// percentile, each interpolated linearly between the two nearest ranks,
// so the median of an even count is the mean of the middle two.
func Spreads(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	slices.Sort(ds)
	return Spread{N: len(ds), Median: Quantile(ds, 0.5), P90: Quantile(ds, 0.9)}
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted ds, interpolated
// linearly between the nearest ranks, rounded to the second; 0 for none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	frac := pos - float64(lo)
	d := float64(sorted[lo]) + frac*float64(sorted[hi]-sorted[lo])
	return time.Duration(d).Round(time.Second)
}

// TrendReader reads the trends of the weeks ending now.
type TrendReader struct {
	Store TrendStore
	// Location is where weeks begin (Monday 00:00); nil is UTC.
	Location *time.Location
}

// Trends reads and measures the weeks (1 to MaxTrendWeeks) ending with the
// one holding now.
func (r TrendReader) Trends(ctx context.Context, now time.Time, weeks int) (Trends, error) {
	if weeks < 1 || weeks > MaxTrendWeeks {
		return Trends{}, &FieldError{"weeks", fmt.Sprintf("%d weeks is not between 1 and %d", weeks, MaxTrendWeeks)}
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	from, to := TrendWindow(now, weeks, loc)
	incs, err := r.Store.TrendIncidents(ctx, from, to)
	if err != nil {
		return Trends{}, fmt.Errorf("reading the incidents of the last %d weeks: %w", weeks, err)
	}
	actions, err := r.Store.TrendActions(ctx, from, to)
	if err != nil {
		return Trends{}, fmt.Errorf("reading the actions due in the last %d weeks: %w", weeks, err)
	}
	return ComputeTrends(incs, actions, now, weeks, loc), nil
}
