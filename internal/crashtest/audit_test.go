package crashtest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// findings are the lost and doubled effects an audit found.
type findings struct {
	lost, doubled []string
	// unsent are effects sitrep may lose by design: an ephemeral answer
	// cannot be read back from Slack, so its step is recorded before it is
	// sent (at most once) and a kill between the two loses it. They are
	// reported, not failures; an answer missing without its step recorded
	// is lost.
	unsent []string
}

func (f *findings) lostf(format string, args ...any) {
	f.lost = append(f.lost, fmt.Sprintf(format, args...))
}

func (f *findings) doubledf(format string, args ...any) {
	f.doubled = append(f.doubled, fmt.Sprintf(format, args...))
}

// add appends g's findings, each prefixed with where.
func (f *findings) add(where string, g findings) {
	for _, s := range g.lost {
		f.lost = append(f.lost, where+s)
	}
	for _, s := range g.doubled {
		f.doubled = append(f.doubled, where+s)
	}
	for _, s := range g.unsent {
		f.unsent = append(f.unsent, where+s)
	}
}

func (f findings) empty() bool { return len(f.lost)+len(f.doubled) == 0 }

// tally counts the findings by what was lost or doubled: "header",
// "channel", "room set-up unfinished", ...
func (f findings) tally() string {
	kind := regexp.MustCompile(`^(?:INC-\d+: |CL-\d+: |"[^"]*": )?([^:(]*)`)
	var parts []string
	for _, side := range []struct {
		name  string
		lines []string
	}{{"lost", f.lost}, {"doubled", f.doubled}, {"unsent by design (killed between recording and sending an ephemeral)", f.unsent}} {
		if side.name != "lost" && side.name != "doubled" && len(side.lines) == 0 {
			continue
		}
		counts := map[string]int{}
		var order []string
		for _, l := range side.lines {
			k := strings.TrimSpace(kind.FindStringSubmatch(l)[1])
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		}
		var items []string
		for _, k := range order {
			items = append(items, fmt.Sprintf("%s ×%d", k, counts[k]))
		}
		if len(items) == 0 {
			items = []string{"nothing"}
		}
		parts = append(parts, side.name+": "+strings.Join(items, ", "))
	}
	return strings.Join(parts, "; ")
}

// String lists every finding, LOST first.
func (f findings) String() string {
	var b strings.Builder
	for _, s := range f.lost {
		b.WriteString("\n  LOST    " + s)
	}
	for _, s := range f.doubled {
		b.WriteString("\n  DOUBLED " + s)
	}
	return b.String()
}

// jobRow is a row of the job table as the audit reads it.
type jobRow struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	Key       *string   `db:"key"`
	State     string    `db:"state"`
	Attempts  int       `db:"attempts"`
	LastError string    `db:"last_error"`
	DueAt     time.Time `db:"due_at"`
}

func (j jobRow) String() string {
	key := j.Kind
	if j.Key != nil {
		key = *j.Key
	}
	s := fmt.Sprintf("job %s is %s after %d attempts", key, j.State, j.Attempts)
	if j.LastError != "" {
		s += " (" + j.LastError + ")"
	}
	return s
}

// jobs reads the whole job table.
func (w *world) jobs(ctx context.Context) ([]jobRow, error) {
	var rows []jobRow
	err := w.db.SelectContext(ctx, &rows, `SELECT id, kind, key, state, attempts, last_error, due_at FROM jobs ORDER BY id`)
	return rows, err
}

// unfinishedJobs returns the jobs that are running, failed, or pending and
// due: work that is not done and not merely scheduled for later.
func (w *world) unfinishedJobs(ctx context.Context) ([]jobRow, error) {
	rows, err := w.jobs(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []jobRow
	for _, j := range rows {
		switch jobs.State(j.State) {
		case jobs.StateRunning, jobs.StateFailed:
			out = append(out, j)
		case jobs.StatePending:
			if !j.DueAt.After(now) {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

// drained reports whether no job after the job ID since is running or due.
func (w *world) drained(ctx context.Context, since int64) bool {
	rows, err := w.unfinishedJobs(ctx)
	if err != nil {
		return false
	}
	for _, j := range rows {
		if j.ID > since && j.State != string(jobs.StateFailed) {
			return false
		}
	}
	return true
}

// incidentsTitled returns the incidents recorded with title.
func (w *world) incidentsTitled(ctx context.Context) (map[string][]incident.Incident, error) {
	all, err := w.store.ListIncidents(ctx, 1_000_000)
	if err != nil {
		return nil, err
	}
	out := map[string][]incident.Incident{}
	for _, inc := range all {
		out[inc.Title] = append(out[inc.Title], inc)
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b incident.Incident) int { return int(a.Number - b.Number) })
	}
	return out, nil
}

// roomReady reports whether the incident's room is set up and its
// provisioning job done.
func (w *world) roomReady(ctx context.Context, inc incident.Incident) bool {
	room, err := w.store.Room(ctx, inc.ID)
	if err != nil || !room.Ready {
		return false
	}
	j, err := w.store.JobByKey(ctx, provisionKey(inc))
	return err == nil && j.State == jobs.StateDone
}

// provisionKey is the key of the job that sets up inc's room.
func provisionKey(inc incident.Incident) string {
	return incident.JobProvision + ":" + strconv.FormatInt(inc.ID, 10)
}

// opensComplete reports whether every title has an incident whose room is
// ready, and no job after the job ID since is running or due.
func (w *world) opensComplete(ctx context.Context, titles []string, since int64) bool {
	byTitle, err := w.incidentsTitled(ctx)
	if err != nil {
		return false
	}
	for _, title := range titles {
		list := byTitle[title]
		if len(list) == 0 {
			return false
		}
		for _, inc := range list {
			if !w.roomReady(ctx, inc) {
				return false
			}
		}
	}
	return w.drained(ctx, since)
}

// waitFor polls cond until it holds or within passes; it reports whether
// it held.
func waitFor(within time.Duration, cond func(ctx context.Context) bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), within+10*time.Second)
	defer cancel()
	return eventually(within, func() bool { return cond(ctx) })
}

// slugOf is the channel slug of the suite's titles (lowercase words).
func slugOf(title string) string { return strings.ReplaceAll(strings.ToLower(title), " ", "-") }

// auditOpens counts the lost and doubled effects of the opens of these
// titles. acked says which opens sitrep acknowledged: an acknowledged open
// must be exactly one incident; one not acknowledged may be one or none.
func (w *world) auditOpens(ctx context.Context, titles []string, acked map[string]bool) findings {
	var f findings
	byTitle, err := w.incidentsTitled(ctx)
	if err != nil {
		f.lostf("reading incidents: %v", err)
		return f
	}
	ws := w.snapshot()
	for _, title := range titles {
		list := byTitle[title]
		switch {
		case len(list) == 0 && acked[title]:
			f.lostf("%q: acknowledged /incident open never became an incident", title)
		case len(list) > 1:
			var refs []string
			for _, inc := range list {
				refs = append(refs, inc.Ref())
			}
			f.doubledf("%q: recorded %d times (%s)", title, len(list), strings.Join(refs, ", "))
		}
		for _, inc := range list {
			f.add(inc.Ref()+": ", w.auditIncident(ctx, inc, ws))
		}
	}
	return f
}

// The texts that identify an announcement and a reporter's answer.
var (
	announcement   = regexp.MustCompile(`^(INC-\d+) SEV\d opened: `)
	reporterAnswer = regexp.MustCompile(`^(INC-\d+) is open: `)
)

// workspace is what the audit reads from the simulator once.
type workspace struct {
	channels []slacksim.Channel
	// announced and answered count the announcements in #incidents and
	// the answers to reporters by incident reference ("INC-7").
	announced, answered map[string]int
}

// snapshot reads the channels, the announcements and the answers.
func (w *world) snapshot() workspace {
	ws := workspace{channels: w.sim.Channels(), announced: map[string]int{}, answered: map[string]int{}}
	for _, m := range w.sim.Messages(w.incidents) {
		if m := announcement.FindStringSubmatch(m.Text); m != nil {
			ws.announced[m[1]]++
		}
	}
	for _, u := range w.sim.Users() {
		for _, e := range w.sim.Ephemerals(u.ID) {
			if m := reporterAnswer.FindStringSubmatch(e.Text); m != nil {
				ws.answered[m[1]]++
			}
		}
	}
	return ws
}

// auditIncident checks one incident's effects in the store and in Slack.
func (w *world) auditIncident(ctx context.Context, inc incident.Incident, ws workspace) findings {
	var f findings
	room, err := w.store.Room(ctx, inc.ID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		f.lostf("no room recorded")
	case err != nil:
		f.lostf("reading its room: %v", err)
	case !room.Ready:
		f.lostf("room set-up unfinished (steps done: %s)", strings.Join(room.Done, ","))
	}
	if j, err := w.store.JobByKey(ctx, provisionKey(inc)); err != nil {
		f.lostf("no provisioning job: %v", err)
	} else if j.State != jobs.StateDone {
		f.lostf("provisioning job is %s after %d attempts (%s)", j.State, j.Attempts, j.LastError)
	}

	// Channels: exactly one, the room's, with the incident's own name.
	want := fmt.Sprintf("inc-%d-%s", inc.Number, slugOf(inc.Title))
	prefix := fmt.Sprintf("inc-%d-", inc.Number)
	var mine []slacksim.Channel
	for _, ch := range ws.channels {
		if strings.HasPrefix(ch.Name, prefix) {
			mine = append(mine, ch)
		}
	}
	var names []string
	for _, ch := range mine {
		names = append(names, "#"+ch.Name)
	}
	switch {
	case len(mine) == 0:
		f.lostf("no channel")
	case len(mine) > 1:
		f.doubledf("channel: %d channels (%s), orphans beside the room", len(mine), strings.Join(names, ", "))
	}
	if room == nil || room.ChannelID == "" {
		return f
	}
	ch := w.sim.Channel(room.ChannelID)
	if ch == nil {
		f.lostf("its room channel %s does not exist in Slack", room.ChannelID)
		return f
	}
	if ch.Name != want {
		f.doubledf("channel: the room is #%s, not #%s: an earlier create took the name", ch.Name, want)
	}
	if !slices.Contains(ch.Members, inc.ReporterID) {
		f.lostf("invite: the reporter is not in #%s", ch.Name)
	}
	if ch.Topic == "" {
		f.lostf("topic: #%s has none", ch.Name)
	}

	// Messages in the room.
	header := regexp.MustCompile(fmt.Sprintf(`^INC-%d SEV\d [A-Za-z]+: `, inc.Number))
	var headers []string
	changes, plans := 0, 0
	for _, m := range w.sim.Messages(ch.ID) {
		if m.User != w.sim.BotUserID() || m.ThreadTS != "" {
			continue
		}
		switch {
		case header.MatchString(m.Text):
			headers = append(headers, m.TS)
			// The header carries "what changed?" and the plan of attack
			// when they fit in it.
			if strings.Contains(string(m.Blocks), "What changed before "+inc.Ref()+"?") {
				changes++
			}
			if strings.Contains(string(m.Blocks), "Plan of attack for "+inc.Ref()+":") {
				plans++
			}
		case strings.HasPrefix(m.Text, "What changed before "+inc.Ref()+"?"):
			changes++
		case strings.HasPrefix(m.Text, "Plan of attack for "+inc.Ref()+":"):
			plans++
		}
	}
	count(&f, "header", len(headers))
	count(&f, `"what changed"`, changes)
	count(&f, "plan of attack", plans)
	pins := w.sim.Pins(ch.ID)
	count(&f, "pin", len(pins))
	for _, ts := range pins {
		if !slices.Contains(headers, ts) {
			f.lostf("pin: the pinned message %s is not a header", ts)
		}
	}

	// The announcement and the reporter's answer.
	count(&f, "announcement in #incidents", ws.announced[inc.Ref()])
	if ws.answered[inc.Ref()] == 0 && room != nil && room.Did("notify") {
		f.unsent = append(f.unsent, "reporter told the room is open")
	} else {
		count(&f, "reporter told the room is open", ws.answered[inc.Ref()])
	}
	return f
}

// count records a lost (n == 0) or doubled (n > 1) effect.
func count(f *findings, what string, n int) {
	switch {
	case n == 0:
		f.lostf("%s: none", what)
	case n > 1:
		f.doubledf("%s: %d", what, n)
	}
}

// auditJobsSince reports every job after the job ID since that failed, or
// is still running or due.
func (w *world) auditJobsSince(ctx context.Context, since int64) findings {
	var f findings
	rows, err := w.unfinishedJobs(ctx)
	if err != nil {
		f.lostf("reading jobs: %v", err)
	}
	for _, j := range rows {
		if j.ID > since {
			f.lostf("%s", j)
		}
	}
	return f
}

// checklistRun returns a run and its events.
func (w *world) checklistRun(ctx context.Context, id int64) (*checklist.Run, []checklist.Event, error) {
	run, err := w.store.Run(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	events, err := w.store.Events(ctx, id)
	return run, events, err
}

// runsLabelled returns the checklist runs by label.
// IDs may have gaps: on PostgreSQL a start refused as a repeat (a replayed
// command) still takes a number from the sequence.
func (w *world) runsLabelled(ctx context.Context) map[string][]*checklist.Run {
	out := map[string][]*checklist.Run{}
	var ids []int64
	if err := w.db.SelectContext(ctx, &ids, `SELECT id FROM checklist_runs ORDER BY id`); err != nil {
		return out
	}
	for _, id := range ids {
		run, err := w.store.Run(ctx, id)
		if err != nil {
			return out
		}
		out[run.Label] = append(out[run.Label], run)
	}
	return out
}

// checklistDone reports whether the run labelled label completed, its
// message shows it and its summary is posted, with no job left to run.
func (w *world) checklistDone(ctx context.Context, label string, since int64) bool {
	runs := w.runsLabelled(ctx)[label]
	if len(runs) == 0 || runs[0].State != checklist.StateCompleted {
		return false
	}
	j, err := w.store.JobByKey(ctx, checklist.RunJob(checklist.JobFinished, runs[0], 0, time.Time{}).Key)
	return err == nil && j.State == jobs.StateDone && w.drained(ctx, since)
}

// auditChecklist checks the run labelled label: one run, completed with
// every step ticked, one message showing it, one summary, one change.
func (w *world) auditChecklist(ctx context.Context, label string, steps int) findings {
	var f findings
	runs := w.runsLabelled(ctx)[label]
	switch {
	case len(runs) == 0:
		f.lostf("checklist %q: acknowledged /checklist start never became a run", label)
		return f
	case len(runs) > 1:
		f.doubledf("checklist %q: %d runs", label, len(runs))
	}
	run := runs[0]
	ref := run.Ref()
	if run.State != checklist.StateCompleted {
		f.lostf("%s: %s, not completed", ref, run.State)
	}
	if events, err := w.store.Events(ctx, run.ID); err != nil {
		f.lostf("%s: reading its events: %v", ref, err)
	} else {
		states := checklist.States(run.Steps, events)
		for i, s := range states {
			if !s.Done {
				f.lostf("%s: step %d not ticked", ref, i+1)
			}
		}
	}
	var messages, summaries []slacksim.Message
	for _, m := range w.sim.Messages(run.ChannelID) {
		if m.User != w.sim.BotUserID() {
			continue
		}
		switch {
		case strings.HasPrefix(m.Text, ref+" completed"):
			summaries = append(summaries, m)
		case strings.HasPrefix(m.Text, ref+" ") && m.ThreadTS == "":
			messages = append(messages, m)
		}
	}
	count(&f, ref+": checklist message", len(messages))
	if len(messages) > 1 {
		f.doubledf("%s: the orphan checklist message still has working checkboxes", ref)
	}
	for _, m := range messages {
		if m.TS == run.MessageTS && !strings.Contains(m.Text, fmt.Sprintf("%d of %d", steps, steps)) {
			f.lostf("%s: its message still shows %q", ref, m.Text)
		}
	}
	if run.MessageTS != "" && !slices.ContainsFunc(messages, func(m slacksim.Message) bool { return m.TS == run.MessageTS }) {
		f.lostf("%s: the message recorded (%s) is not in Slack", ref, run.MessageTS)
	}
	count(&f, ref+": summary", len(summaries))
	changes, err := w.store.Changes(ctx, incident.ChangeQuery{Limit: 1000})
	if err != nil {
		f.lostf("%s: reading the change log: %v", ref, err)
	}
	logged := 0
	for _, c := range changes {
		if c.Source == incident.SourceChecklist && strings.Contains(c.Summary, label) {
			logged++
		}
	}
	count(&f, ref+": change logged", logged)
	return f
}

// leaks are texts that must never reach a person in Slack: driver errors,
// internal addresses.
var leaks = []string{"dial tcp", "127.0.0.1", "connection refused", "pq: ", "driver: bad connection", "sql: ", "EOF",
	"postgres://", "search_path", "sqlite", "i/o timeout", "context deadline exceeded", "context canceled"}

// leaked returns the first internal text in s, or "".
func leaked(s string) string {
	for _, l := range leaks {
		if strings.Contains(s, l) {
			return l
		}
	}
	return ""
}

// auditLeaks checks every message and ephemeral in the workspace, and the
// ack payloads of deliveries, for internal text.
func (w *world) auditLeaks(users []string, deliveries []*slacksim.Delivery) []string {
	var out []string
	for _, ch := range w.sim.Channels() {
		for _, m := range w.sim.Messages(ch.ID) {
			if l := leaked(m.Text + string(m.Blocks)); l != "" {
				out = append(out, fmt.Sprintf("message in #%s shows %q: %.300s", ch.Name, l, m.Text))
			}
		}
	}
	for _, u := range users {
		for _, e := range w.sim.Ephemerals(u) {
			if l := leaked(e.Text + string(e.Blocks)); l != "" {
				out = append(out, fmt.Sprintf("ephemeral to %s shows %q: %.300s", u, l, e.Text))
			}
		}
	}
	for _, d := range deliveries {
		if d != nil {
			if l := leaked(string(d.AckPayload)); l != "" {
				out = append(out, fmt.Sprintf("ack of %s shows %q: %.300s", d.EnvelopeID, l, d.AckPayload))
			}
		}
	}
	return out
}
