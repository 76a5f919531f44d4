package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// killPoint holds the answer to the n-th Slack call of a flow; await kills
// sitrep (-9) once that call has taken effect, and starts it again.
type killPoint struct {
	n      int
	hold   *slacksim.Hold
	killed bool
	// call is the held call.
	call slacksim.Call
	// restarted is when the new life was up.
	restarted time.Time
}

// armKill holds the answer to the n-th call from now; 0 holds nothing.
func (w *world) armKill(n int) *killPoint {
	kp := &killPoint{n: n}
	if n > 0 {
		kp.hold = w.sim.HoldAnswer(n, "")
	}
	return kp
}

// disarm lets a hold that was never reached go.
func (kp *killPoint) disarm() {
	if kp.hold != nil {
		kp.hold.Release()
	}
}

// label names the kill point in findings: "kill at call 5 (chat.postMessage)".
func (kp *killPoint) label() string {
	if kp.n == 0 {
		return "clean run"
	}
	if !kp.killed {
		return fmt.Sprintf("call %d (never reached)", kp.n)
	}
	return fmt.Sprintf("kill at call %d (%s)", kp.n, kp.call.Method)
}

// await polls cond until it holds, and kills and restarts sitrep as soon
// as kp's hold is reached meanwhile. It gives up within after it starts,
// or after the restart if there was one, and reports whether cond held.
func (w *world) await(kp *killPoint, within time.Duration, cond func(ctx context.Context) bool) bool {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var reached <-chan struct{}
		if kp != nil && kp.hold != nil && !kp.killed {
			reached = kp.hold.Reached()
		}
		select {
		case <-reached:
			kp.killed = true
			kp.call = kp.hold.Call()
			w.kill()
			if err := w.launch(); err != nil {
				w.t.Fatal(err)
			}
			kp.restarted = time.Now()
			deadline = time.Now().Add(within)
			continue
		case <-tick.C:
		}
		if cond(ctx) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// maxJobID is the highest job ID so far, so an audit can look at the jobs
// of one flow only.
func (w *world) maxJobID(ctx context.Context) int64 {
	var id *int64
	_ = w.db.GetContext(ctx, &id, `SELECT MAX(id) FROM jobs`)
	if id == nil {
		return 0
	}
	return *id
}

// flowCalls returns the Slack calls since mark (a length of the call log),
// without Socket Mode's apps.connections.open.
func (w *world) flowCalls(mark int) []slacksim.Call {
	var out []slacksim.Call
	for _, c := range w.sim.CallLog()[mark:] {
		if c.Method != "apps.connections.open" {
			out = append(out, c)
		}
	}
	return out
}

// methods lists the methods of calls, numbered from 1.
func methods(calls []slacksim.Call) string {
	var b strings.Builder
	for i, c := range calls {
		fmt.Fprintf(&b, " %d:%s", i+1, c.Method)
	}
	return b.String()
}

// killPoints returns the calls to kill at among 1..total: every one, or
// in a short run the first two, the middle one and the last two.
func killPoints(total int, every bool) []int {
	if every || total <= 5 {
		out := make([]int, total)
		for i := range out {
			out[i] = i + 1
		}
		return out
	}
	return []int{1, 2, (total + 1) / 2, total - 1, total}
}

// flowResult is what one run of a flow with a kill point found.
type flowResult struct {
	point    string
	findings findings
	// finished is how long the flow took to finish after the restart.
	finished time.Duration
}

// report fails t with every lost or doubled effect of the results, and
// logs one line per kill point.
func report(t *testing.T, flow string, results []flowResult) {
	t.Helper()
	var bad []string
	var lines []string
	for _, r := range results {
		status := "ok"
		if !r.findings.empty() {
			status = fmt.Sprintf("%d lost, %d doubled", len(r.findings.lost), len(r.findings.doubled))
			bad = append(bad, r.point+":"+r.findings.String())
		}
		line := fmt.Sprintf("%-40s %s", r.point, status)
		if r.finished > 0 {
			line += fmt.Sprintf(" (finished %v after the restart)", r.finished.Round(100*time.Millisecond))
		}
		lines = append(lines, line)
	}
	t.Logf("%s, %d kill points:\n  %s", flow, len(results), strings.Join(lines, "\n  "))
	if len(bad) > 0 {
		t.Errorf("%s: %d of %d kill points lost or doubled effects:\n%s", flow, len(bad), len(results), strings.Join(bad, "\n"))
	}
}

// TestCrashOpenAtEveryCall kills sitrep at every Slack call of opening an
// incident (channel, invite, topic, header, pin, what changed, plan,
// announcement, the reporter's answer): the call takes effect in Slack,
// sitrep dies before it hears the answer, and a new life must finish the
// room with nothing lost and nothing doubled.
func TestCrashOpenAtEveryCall(t *testing.T) {
	t.Parallel()
	dialects(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, worldOptions{exactCalls: true})
		w.start()
		settle := settleTime(t)

		run := func(n int) (flowResult, []slacksim.Call) {
			ctx := context.Background()
			w.stop()
			w.start()
			title := fmt.Sprintf("crash open %d", n)
			mark, jobMark := len(w.sim.CallLog()), w.maxJobID(ctx)
			kp := w.armKill(n)
			defer kp.disarm()
			var f findings
			acked := map[string]bool{}
			if _, err := w.slash(alice, w.general, "/incident", "open "+title+" sev2 systems:db", 20*time.Second); err != nil {
				f.lostf("the open was not acknowledged: %v", err)
			} else {
				acked[title] = true
			}
			done := w.await(kp, settle, func(ctx context.Context) bool { return w.opensComplete(ctx, []string{title}, jobMark) })
			res := flowResult{point: kp.label()}
			if kp.killed && done {
				res.finished = time.Since(kp.restarted)
			}
			w.quiet(time.Second)
			calls := w.flowCalls(mark)
			if !done {
				f.lostf("%q not finished within %v of the restart", title, settle)
			}
			f.add("", w.auditOpens(ctx, []string{title}, acked))
			f.add("", w.auditJobsSince(ctx, jobMark))
			res.findings = f
			return res, calls
		}

		clean, calls := run(0)
		if !clean.findings.empty() {
			t.Fatalf("opening an incident without a crash already loses or doubles effects:%s", clean.findings)
		}
		t.Logf("opening an incident makes %d Slack calls:%s", len(calls), methods(calls))
		results := []flowResult{clean}
		for _, n := range killPoints(len(calls), true) {
			r, _ := run(n)
			results = append(results, r)
		}
		report(t, "opening an incident", results)
	})
}

// TestCrashChecklistAtEveryCall kills sitrep at the Slack calls of starting
// a checklist and ticking every step (the checklist message, each update,
// the summary): every tick the user saw acknowledged is kept, and there is
// one message, one summary and one change logged. The short run kills at a
// few calls, the long one at every call.
func TestCrashChecklistAtEveryCall(t *testing.T) {
	t.Parallel()
	const steps = 10 // web-release
	dialects(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, worldOptions{exactCalls: true})
		w.start()
		settle := settleTime(t)

		run := func(n int) (flowResult, []slacksim.Call) {
			ctx := context.Background()
			w.stop()
			w.start()
			label := fmt.Sprintf("crash-%d", n)
			mark, jobMark := len(w.sim.CallLog()), w.maxJobID(ctx)
			kp := w.armKill(n)
			defer kp.disarm()
			res := flowResult{}
			f := &res.findings
			defer func() { res.point = kp.label() }()
			if _, err := w.slash(alice, w.general, "/checklist", "start web-release "+label, 20*time.Second); err != nil {
				f.lostf("/checklist start was not acknowledged: %v", err)
			}
			posted := w.await(kp, settle, func(ctx context.Context) bool {
				runs := w.runsLabelled(ctx)[label]
				return len(runs) > 0 && runs[0].MessageTS != "" && w.sim.Message(runs[0].ChannelID, runs[0].MessageTS) != nil
			})
			if !posted {
				f.lostf("checklist %q never posted within %v", label, settle)
				res.point = kp.label()
				return res, w.flowCalls(mark)
			}
			for step := range steps {
				shown := func(ctx context.Context) bool { return w.tickShown(ctx, label, step, step+1, steps) }
				for try := 1; ; try++ {
					if err := w.clickStep(label, step); err != nil {
						f.lostf("clicking step %d: %v", step+1, err)
						break
					}
					if w.await(kp, settle, shown) {
						break
					}
					if w.ticked(ctx, label, step) {
						f.lostf("step %d: ticked, but the message never showed it", step+1)
						break
					}
					f.lostf("step %d: the acknowledged click was never applied", step+1)
					if try == 2 {
						break
					}
					// As a person would: click again.
				}
			}
			done := w.await(kp, settle, func(ctx context.Context) bool { return w.checklistDone(ctx, label, jobMark) })
			if !done {
				f.lostf("checklist %q not finished within %v", label, settle)
			}
			if kp.killed && done {
				res.finished = time.Since(kp.restarted)
			}
			w.quiet(time.Second)
			res.point = kp.label()
			f.add("", w.auditChecklist(ctx, label, steps))
			f.add("", w.auditJobsSince(ctx, jobMark))
			return res, w.flowCalls(mark)
		}

		clean, calls := run(0)
		if !clean.findings.empty() {
			t.Fatalf("a checklist run without a crash already loses or doubles effects:%s", clean.findings)
		}
		t.Logf("starting and completing a checklist makes %d Slack calls:%s", len(calls), methods(calls))
		results := []flowResult{clean}
		for _, n := range killPoints(len(calls), long()) {
			r, _ := run(n)
			results = append(results, r)
		}
		report(t, "starting and completing a checklist", results)
	})
}

// tickShown reports whether step of the run labelled label is ticked in
// the store and its message shows done of total.
func (w *world) tickShown(ctx context.Context, label string, step, done, total int) bool {
	runs := w.runsLabelled(ctx)[label]
	if len(runs) == 0 || !w.ticked(ctx, label, step) {
		return false
	}
	m := w.sim.Message(runs[0].ChannelID, runs[0].MessageTS)
	return m != nil && strings.Contains(m.Text, fmt.Sprintf(": %d of %d", done, total))
}

// ticked reports whether step of the run labelled label is done in the store.
func (w *world) ticked(ctx context.Context, label string, step int) bool {
	runs := w.runsLabelled(ctx)[label]
	if len(runs) == 0 {
		return false
	}
	_, events, err := w.checklistRun(ctx, runs[0].ID)
	if err != nil {
		return false
	}
	for _, e := range events {
		if e.Step == step && e.Action == "tick" {
			return true
		}
	}
	return false
}

// clickStep has alice tick step on the run's message as Slack shows it
// now. A click sitrep does not acknowledge (it was dying) is clicked again,
// as a person would, up to three times.
func (w *world) clickStep(label string, step int) error {
	ctx := context.Background()
	var err error
	for range 3 {
		runs := w.runsLabelled(ctx)[label]
		if len(runs) == 0 {
			return fmt.Errorf("no run labelled %q", label)
		}
		run := runs[0]
		m := w.sim.Message(run.ChannelID, run.MessageTS)
		if m == nil {
			return fmt.Errorf("%s has no message in Slack", run.Ref())
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var d *slacksim.Delivery
		d, err = w.sim.Click(cctx, alice, run.ChannelID, run.MessageTS, "checklist_steps_0", selectedWith(m.Blocks, step))
		cancel()
		if err == nil && d.Acked {
			return nil
		}
	}
	return err
}

// selectedWith returns the boxes of the first checkbox group as blocks
// show them ticked, with step ticked too, as Slack sends a click.
func selectedWith(blocks json.RawMessage, step int) string {
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Initial  []struct {
				Value string `json:"value"`
			} `json:"initial_options"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(blocks, &bs)
	values := []string{}
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID != "checklist_steps_0" {
				continue
			}
			for _, o := range e.Initial {
				if o.Value != strconv.Itoa(step) {
					values = append(values, o.Value)
				}
			}
		}
	}
	return strings.Join(append(values, strconv.Itoa(step)), ",")
}
