package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/bot"
	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/blockkit"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
)

// Seeded workspace: two people and a #general channel.
const (
	alice = "U0ALICE"
	bob   = "U0BOB"
)

// epoch is the fake clock's start, so headers render the same every run.
var epoch = time.Date(2026, 11, 24, 3, 4, 5, 0, time.UTC)

// harness is sitrep running against the Slack simulator, over a real
// WebSocket, with a real store.
type harness struct {
	t       testing.TB
	sim     *slacksim.Sim
	store   *storage.Store
	bot     *bot.Bot
	alerts  *alert.Service // nil unless withAlerts
	runner  *jobs.Runner
	clock   *clock.Fake
	general string
	ctx     context.Context
	cfg     harnessConfig
	log     *slog.Logger
	stop    func()
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	bot        bot.Config
	rotations  []incident.Rotation
	plans      *incident.Plans
	cadence    incident.Cadence
	checklists checklist.Templates
	dbURL      string
	simOpts    slacksim.Options
	seedChan   []string
	clock      *clock.Fake
	// domainStore, if set, is the store of the domain services (incidents,
	// changes, checklists, problems, postmortems); rooms, the inbox
	// and jobs stay on the harness's store. A test breaks it on purpose.
	domainStore *storage.Store
	// httpClient, if set, makes the bot's Slack Web API calls.
	httpClient *http.Client
	// rooms, if set, wraps the room store the bot is given.
	rooms func(bot.Rooms) bot.Rooms
	// alerts, if set, turns alert intake on with these settings.
	alerts *alert.Settings
}

// withRoomStore gives the bot the harness's room store as wrap returns it
// (to count or refuse saves); wrap is called at each boot.
func withRoomStore(wrap func(bot.Rooms) bot.Rooms) harnessOption {
	return func(h *harnessConfig) { h.rooms = wrap }
}

// withSlackHTTPClient makes the bot call the Web API with c.
func withSlackHTTPClient(c *http.Client) harnessOption {
	return func(h *harnessConfig) { h.httpClient = c }
}

// withDatabase runs the harness on this database URL instead of a fresh
// SQLite file.
func withDatabase(url string) harnessOption { return func(c *harnessConfig) { c.dbURL = url } }

// withBotConfig sets the bot's settings (the sweeper schedule is the
// harness's own).
func withBotConfig(c bot.Config) harnessOption { return func(h *harnessConfig) { h.bot = c } }

// withRotations gives the incident service on-call rotations.
func withRotations(r ...incident.Rotation) harnessOption {
	return func(c *harnessConfig) { c.rotations = r }
}

// withTemplates adds checklist templates to the shipped examples.
func withTemplates(ts ...checklist.Template) harnessOption {
	return func(c *harnessConfig) {
		c.checklists = checklist.Examples()
		for _, t := range ts {
			c.checklists[t.Name] = t
		}
	}
}

// templates returns the checklist templates: the shipped examples unless
// withTemplates added more.
func (c harnessConfig) templates() checklist.Templates {
	if c.checklists == nil {
		return checklist.Examples()
	}
	return c.checklists
}

// withPlans gives the incident service plans of attack (warning at 80%).
func withPlans(p incident.Plans) harnessOption { return func(c *harnessConfig) { c.plans = &p } }

// withCadence sets the status update cadence (none by default).
func withCadence(cd incident.Cadence) harnessOption { return func(c *harnessConfig) { c.cadence = cd } }

// withSimOptions configures the simulated Slack (its log is the harness's).
func withSimOptions(o slacksim.Options) harnessOption {
	return func(c *harnessConfig) { c.simOpts = o }
}

// withClock runs the bot on this fake clock instead of a new one at epoch.
func withClock(c *clock.Fake) harnessOption { return func(h *harnessConfig) { h.clock = c } }

// withChannel seeds an extra channel of this name.
func withChannel(name string) harnessOption {
	return func(c *harnessConfig) { c.seedChan = append(c.seedChan, name) }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	cfg := harnessConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dbURL == "" {
		cfg.dbURL = "sqlite:" + filepath.Join(t.TempDir(), "sitrep.db")
	}
	log := testLogger()
	cfg.simOpts.Log = log
	sim := slacksim.New(cfg.simOpts)
	if err := sim.Start(); err != nil {
		t.Fatalf("starting the simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: alice, Name: "alice", RealName: "Alice Liddell", TZ: "Europe/London"})
	sim.AddUser(slacksim.User{ID: bob, Name: "bob", RealName: "Bob Dobbs", TZ: "America/New_York"})
	general := sim.AddChannel("general", alice, bob)
	for _, name := range cfg.seedChan {
		sim.AddChannel(name, alice)
	}

	store, err := storage.Open(context.Background(), cfg.dbURL)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating store: %v", err)
	}
	fake := cfg.clock
	if fake == nil {
		fake = clock.NewFake(epoch)
	}
	h := &harness{t: t, sim: sim, store: store, clock: fake, general: general, ctx: context.Background(), cfg: cfg, log: log}
	h.boot()
	t.Cleanup(h.checkBlockKit)
	return h
}

// boot starts a bot process: a job runner, the incident service and the
// bot, connected to the simulator. The clock, store and Slack persist.
func (h *harness) boot() {
	t := h.t
	t.Helper()
	runner := jobs.NewRunner(h.store, h.clock, h.log)
	apiOpts := []slack.Option{slack.OptionAPIURL(h.sim.APIURL()), slack.OptionAppLevelToken(h.sim.AppToken())}
	if h.cfg.httpClient != nil {
		apiOpts = append(apiOpts, slack.OptionHTTPClient(h.cfg.httpClient))
	}
	api := slack.New(h.sim.BotToken(), apiOpts...)
	domain := h.store
	if h.cfg.domainStore != nil {
		domain = h.cfg.domainStore
	}
	incidents := incident.NewService(domain, h.clock)
	incidents.SetRotations(h.cfg.rotations)
	if h.cfg.plans != nil {
		incidents.SetPlans(*h.cfg.plans, incident.DefaultWarnAt)
	}
	incidents.SetCadence(h.cfg.cadence)
	changes := incident.NewChangeLog(domain, h.clock)
	problems := incident.NewProblems(domain, incidents, h.clock)
	reviews := incident.NewReviews(domain, problems, changes)
	reviews.Actions = domain
	var rooms bot.Rooms = h.store
	if h.cfg.rooms != nil {
		rooms = h.cfg.rooms(rooms)
	}
	var alerts *alert.Service
	if h.cfg.alerts != nil {
		alerts = alert.NewService(domain, h.clock, *h.cfg.alerts)
	}
	botCfg := h.cfg.bot
	botCfg.SweepSpec = "@every 1h"
	b := bot.New(botCfg, bot.Deps{
		API:           api,
		Incidents:     incidents,
		Changes:       changes,
		Checklists:    checklist.NewService(domain, h.clock, h.cfg.templates(), 15*time.Minute),
		Problems:      problems,
		Reviews:       reviews,
		Postmortems:   incident.NewPostmortems(domain, incidents, changes, h.clock),
		Alerts:        alerts,
		Rooms:         rooms,
		Pins:          h.store,
		Inbox:         h.store,
		Jobs:          runner,
		Clock:         h.clock,
		Log:           h.log,
		SocketOptions: []socketmode.Option{socketmode.OptionPingInterval(30 * time.Second)},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("bot.Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("bot.Run did not return after cancel")
			}
		})
	}
	t.Cleanup(h.stop)
	select {
	case <-b.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("bot did not connect to the simulator")
	}
	h.bot, h.runner, h.alerts = b, runner, alerts
}

// restart stops the bot process and starts another on the same store,
// Slack and clock: what survives is what was stored.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.boot()
}

// checkBlockKit fails the test if any message or view the bot sent broke
// Slack's Block Kit limits.
func (h *harness) checkBlockKit() {
	for _, err := range h.sim.BlockKitErrors() {
		h.t.Errorf("Block Kit rejected by the simulator: %v", err)
	}
	for _, ch := range h.sim.Channels() {
		for _, m := range h.sim.Messages(ch.ID) {
			if len(m.Blocks) == 0 {
				continue
			}
			if err := blockkit.CheckMessage(m.Blocks); err != nil {
				h.t.Errorf("message %s in #%s breaks Block Kit limits: %v", m.TS, ch.Name, err)
			}
		}
	}
}

// slash types a slash command as user in channel and waits until the bot
// has finished with it.
func (h *harness) slash(user, channel, command, text string) *slacksim.Delivery {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	d, err := h.sim.SlashCommand(ctx, user, channel, command, text)
	if err != nil {
		h.t.Fatalf("%s %s: %v", command, text, err)
	}
	if !d.Acked {
		h.t.Fatalf("%s %s was not acked", command, text)
	}
	h.idle()
	return d
}

// idle waits until the bot has no work in flight.
func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	if err := h.bot.WaitIdle(ctx); err != nil {
		h.t.Fatalf("bot did not go idle: %v", err)
	}
}

// wait waits until cond holds.
func (h *harness) wait(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	if err := h.sim.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// ephemeralTexts returns the text of every ephemeral message user got.
func (h *harness) ephemeralTexts(user string) []string {
	var out []string
	for _, e := range h.sim.Ephemerals(user) {
		out = append(out, e.Text)
	}
	return out
}

// lastEphemeral returns the latest ephemeral text user got, failing if none.
func (h *harness) lastEphemeral(user string) string {
	h.t.Helper()
	all := h.ephemeralTexts(user)
	if len(all) == 0 {
		h.t.Fatalf("%s got no ephemeral message", user)
	}
	return all[len(all)-1]
}

// incidentCount counts the incidents in the store.
func (h *harness) incidentCount() int {
	h.t.Helper()
	list, err := h.store.ListIncidents(h.ctx, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(list)
}

// room returns the room of INC-number from the store.
func (h *harness) room(number int64) *incident.Room {
	h.t.Helper()
	inc, err := h.store.IncidentByNumber(h.ctx, number)
	if err != nil {
		h.t.Fatalf("INC-%d: %v", number, err)
	}
	r, err := h.store.Room(h.ctx, inc.ID)
	if errors.Is(err, incident.ErrNotFound) {
		return &incident.Room{IncidentID: inc.ID}
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// allText is every message text and block of every channel, for checks
// that must hold everywhere (no unescaped <!channel>).
func (h *harness) allText() string {
	var b strings.Builder
	for _, ch := range h.sim.Channels() {
		for _, m := range h.sim.Messages(ch.ID) {
			b.WriteString(m.Text)
			b.WriteString(plainJSON(h.t, m.Blocks))
			b.WriteString("\n")
		}
	}
	for _, u := range []string{alice, bob} {
		for _, e := range h.sim.Ephemerals(u) {
			b.WriteString(e.Text)
			b.WriteString(plainJSON(h.t, e.Blocks))
			b.WriteString("\n")
		}
	}
	return b.String()
}

// plainJSON decodes raw JSON and writes it again without HTML escaping, so
// the strings Slack would show can be searched ("<" and not "\u003c").
func plainJSON(t testing.TB, raw []byte) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// withoutKeys drops the named top-level keys of a JSON object: what the
// simulator assigns (IDs, hashes) is not the bot's output.
func withoutKeys(t testing.TB, raw []byte, keys ...string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testLogger discards logs unless SITREP_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SITREP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// indentJSON pretty-prints raw JSON for golden files.
func indentJSON(t testing.TB, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
