package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// BenchmarkOpenIncident opens incidents through the simulator with the
// shipped default configuration (config.Default: its plan of attack, four
// changes in "what changed?"), on SQLite and PostgreSQL, and the bot
// calling Slack through a client tuned like cmd/sitrep's (64 idle
// connections). Allocations count the simulator's too.
//
// one-by-one: each op is a full /incident open, from the slash command to
// the room being ready, one after another: opens/s and Slack calls per
// open.
//
// burst200: each op is 200 /incident open fired at once, waited for until
// every room is set up: opens/s over the burst, Slack calls per open, new
// TCP connections the simulator accepted per burst, and the time from each
// command to its room being ready (channel, header, invitation and
// announcement: the last of those calls to arrive), p50 and p99. The
// simulator holds a new channel invisible for 300 ms (its default
// CreateLag, Slack's eventual consistency), which no room beats: the
// nolag variants turn that off.
//
//	go test -run '^$' -bench OpenIncident -benchtime 3x ./bot
func BenchmarkOpenIncident(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run("one-by-one/"+dialect, func(b *testing.B) { benchOpen(b, openBenchHarness(b, dialect, 0)) })
		b.Run("burst200/"+dialect, func(b *testing.B) { benchOpenBurst(b, openBenchHarness(b, dialect, 0), 200) })
		b.Run("burst200-nolag/"+dialect, func(b *testing.B) { benchOpenBurst(b, openBenchHarness(b, dialect, -1), 200) })
	}
}

// openBenchHarness is a harness on dialect with the shipped default plans,
// a tuned Slack HTTP client, and the simulator's create lag (0: its
// default; negative: none).
func openBenchHarness(b *testing.B, dialect string, lag time.Duration) *harness {
	cfg := config.Default()
	plans, err := cfg.Plans()
	if err != nil {
		b.Fatal(err)
	}
	opts := []harnessOption{withPlans(plans), withSlackHTTPClient(tunedSlackClient()), withSimOptions(slacksim.Options{CreateLag: lag})}
	if dialect == "postgres" {
		url := os.Getenv("SITREP_TEST_DATABASE_URL")
		if url == "" {
			b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
		}
		opts = append(opts, withDatabase(pgtest.SchemaURL(b, url)))
	}
	h := newHarness(b, opts...)
	// Warm caches (the incidents channel, user names) outside the timing.
	h.slash(alice, h.general, "/incident", "open warm up")
	return h
}

// tunedSlackClient is an HTTP client set up as cmd/sitrep's
// newSlackHTTPClient sets up sitrep's (slackhttp.go): idle connections
// kept for the whole worker pool.
func tunedSlackClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 64
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func benchOpen(b *testing.B, h *harness) {
	callsBefore := h.sim.TotalCalls()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.slash(alice, h.general, "/incident", fmt.Sprintf("open bench incident %d sev2 systems:web", i))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(h.sim.TotalCalls()-callsBefore)/float64(b.N), "slack-calls/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "opens/s")
}

func benchOpenBurst(b *testing.B, h *harness, burst int) {
	incidents := h.sim.ChannelByName("incidents").ID
	var ready []time.Duration
	var elapsed time.Duration
	calls, conns, opens := 0, int64(0), 0
	b.ReportAllocs()
	b.ResetTimer()
	for round := range b.N {
		h.sim.ResetCallLog()
		callsBefore, connsBefore := h.sim.TotalCalls(), h.sim.AcceptedConnections()
		sent := make([]time.Time, burst)
		start := time.Now()
		var wg sync.WaitGroup
		for j := range burst {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				sent[j] = time.Now()
				if d, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", fmt.Sprintf("open burst %d-%d", round, j)); err != nil || !d.Acked {
					b.Errorf("command %d-%d: %v", round, j, err)
				}
			})
		}
		wg.Wait()
		h.idle()
		elapsed += time.Since(start)
		b.StopTimer()
		calls += h.sim.TotalCalls() - callsBefore
		conns += h.sim.AcceptedConnections() - connsBefore
		opens += burst
		ready = append(ready, roomReadyTimes(b, h, incidents, round, sent)...)
		b.StartTimer()
	}
	b.StopTimer()
	if len(ready) != opens {
		b.Fatalf("%d rooms ready, want %d", len(ready), opens)
	}
	slices.Sort(ready)
	pct := func(p float64) float64 {
		return float64(ready[min(len(ready)-1, int(float64(len(ready))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(opens)/elapsed.Seconds(), "opens/s")
	b.ReportMetric(pct(0.50), "ready-p50-ms")
	b.ReportMetric(pct(0.99), "ready-p99-ms")
	b.ReportMetric(float64(calls)/float64(opens), "slack-calls/open")
	b.ReportMetric(float64(conns)/float64(b.N), "new-conns/burst")
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// roomReadyTimes returns, for each incident opened by command "open burst
// <round>-<j>" (sent at sent[j]), how long its room took to be ready: until
// the last of its invitation, its header and its announcement arrived at
// the simulator (the call log; the channel was created before all three).
// The announcements are matched to rooms in the order they were posted.
func roomReadyTimes(b *testing.B, h *harness, incidents string, round int, sent []time.Time) []time.Duration {
	var announced []time.Time
	last := map[string]time.Time{} // channel ID → last of its invite and first post
	posted := map[string]bool{}
	for _, c := range h.sim.CallLog() {
		switch {
		case c.Method == "chat.postMessage" && c.Channel == incidents:
			announced = append(announced, c.At)
		case c.Method == "conversations.invite" || (c.Method == "chat.postMessage" && !posted[c.Channel]):
			if c.Method == "chat.postMessage" {
				posted[c.Channel] = true
			}
			if c.At.After(last[c.Channel]) {
				last[c.Channel] = c.At
			}
		}
	}
	anns := h.sim.Messages(incidents)
	anns = anns[len(anns)-len(announced):]
	var out []time.Duration
	for i, m := range anns {
		blocks := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(m.Blocks))
		_, rest, ok := strings.Cut(blocks, "Join <#")
		ch, _, _ := strings.Cut(rest, ">")
		t, known := last[ch]
		if !ok || !known || h.sim.Channel(ch) == nil {
			b.Fatalf("announcement %q names no room of the burst", m.Text)
		}
		t = later(t, announced[i])
		name := h.sim.Channel(ch).Name // inc-<n>-burst-<round>-<j>
		var r, j int
		_, tail, _ := strings.Cut(name, "-burst-")
		if _, err := fmt.Sscanf(tail, "%d-%d", &r, &j); err != nil || r != round {
			b.Fatalf("room %s is not of round %d", name, round)
		}
		out = append(out, t.Sub(sent[j]))
	}
	return out
}

// BenchmarkAckLatency fires 200 /incident open commands at once, on
// SQLite and PostgreSQL, with one and with two Socket Mode connections
// open, and reports the time from each envelope leaving the simulator to
// its ack arriving (the simulator's AckLatencies): p50 and p99 in
// milliseconds over all ops. Each envelope is recorded in the inbox
// before its ack.
func BenchmarkAckLatency(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, conns := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/conns=%d", dialect, conns), func(b *testing.B) {
				opts := []harnessOption{withBotConfig(bot.Config{Connections: conns})}
				if dialect == "postgres" {
					url := os.Getenv("SITREP_TEST_DATABASE_URL")
					if url == "" {
						b.Skip("SITREP_TEST_DATABASE_URL not set: skipping the PostgreSQL benchmark")
					}
					opts = append(opts, withDatabase(pgtest.SchemaURL(b, url)))
				}
				benchAcks(b, newHarness(b, opts...), conns)
			})
		}
	}
}

func benchAcks(b *testing.B, h *harness, conns int) {
	h.wait("the connections", func() bool { return h.sim.Connections() == conns })
	const burst = 200
	before := len(h.sim.AckLatencies())
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		for j := range burst {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				d, err := h.sim.SlashCommand(ctx, alice, h.general, "/incident", fmt.Sprintf("open burst %d-%d", i, j))
				if err != nil || !d.Acked {
					b.Errorf("command %d-%d: %v", i, j, err)
				} else if d.AckPayload != nil {
					b.Errorf("command %d-%d was refused: %s", i, j, d.AckPayload)
				}
			})
		}
		wg.Wait()
		h.idle()
	}
	b.StopTimer()
	lat := h.sim.AckLatencies()[before:]
	if len(lat) == 0 {
		b.Fatal("no acks measured")
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkStatusChange changes an incident's status through the simulator:
// store update, timeline entry, header re-rendered from the store
// (chat.update), topic, a line in the room, an update in #incidents.
func BenchmarkStatusChange(b *testing.B) {
	h := newHarness(b)
	h.slash(alice, h.general, "/incident", "open bench status sev2")
	ch := h.room(1).ChannelID
	states := []string{"identified", "monitoring", "restored", "investigating"}
	callsBefore := h.sim.TotalCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.slash(alice, ch, "/incident", "status "+states[i%len(states)])
	}
	b.StopTimer()
	b.ReportMetric(float64(h.sim.TotalCalls()-callsBefore)/float64(b.N), "slack-calls/op")
}

// BenchmarkChecklistClick ticks and unticks steps of a 40-step checklist
// through the simulator, one click after another: each op is a checkbox
// click acked, recorded and the message re-rendered with chat.update. It
// reports clicks per second and chat.update calls per click.
func BenchmarkChecklistClick(b *testing.B) {
	h := newHarness(b, withTemplates(bigTemplate(40)))
	h.slash(alice, h.general, "/checklist", "start big-40 bench")
	updates := h.sim.Calls("chat.update")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		h.tickBoxes(bob, 1, (i/2)%40) // tick, then untick, so it never completes
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "clicks/s")
	b.ReportMetric(float64(h.sim.Calls("chat.update")-updates)/float64(b.N), "updates/click")
}
