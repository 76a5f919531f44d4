package crashtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/internal/slacksim"
	"github.com/sitrep/sitrep/storage"
)

// The people of the simulated workspace.
const (
	alice = "U0ALICE"
	bob   = "U0BOB"
)

// instanceID is SITREP_INSTANCE for every life of the process: a restarted
// sitrep is the same instance, and reclaims the jobs it held at once.
const instanceID = "crash-1"

// config is the sitrep.yaml of every world: a plan of attack for db, so an
// incident on db gets one.
const config = `channels:
  incidents: incidents
plans:
  systems:
    db:
      diagnostics: ["copy the slow-query log", "heap dump of one api pod"]
      diagnose_minutes: {sev1: 10, sev2: 20, sev3: 30, sev4: 60}
      restore: ["fail over to the replica"]
      runbook: https://wiki.example/runbooks/db
`

// The dialects a world runs on.
const (
	sqliteDialect   = "sqlite"
	postgresDialect = "postgres"
)

// dialects runs f for SQLite and PostgreSQL as parallel subtests. The
// PostgreSQL one skips, saying why, without SITREP_TEST_DATABASE_URL.
func dialects(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range []string{sqliteDialect, postgresDialect} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// worldOptions shape a world.
type worldOptions struct {
	// exactCalls makes every run of a flow make the same Slack calls:
	// conversations.create's moment of channel_not_found is off.
	exactCalls bool
	// proxied, when set, turns the test's database URL into the one the
	// binary uses (through a proxy in front of the database); the test
	// itself reads the database directly.
	proxied func(testURL string) string
}

// world is one simulated workspace and one database, and the lives of
// `sitrep run` against them.
type world struct {
	t       *testing.T
	dialect string
	sim     *slacksim.Sim
	general string
	// incidents is the configured announcement channel.
	incidents string
	dir       string
	env       []string
	// store and db read the database from the test.
	store *storage.Store
	db    *sqlx.DB

	mu    sync.Mutex
	cur   *life
	lives []*life
	kills int
}

// life is one run of the sitrep process.
type life struct {
	n       int
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error
}

// newWorld starts a simulator, prepares a database of dialect (skipping
// the test for PostgreSQL without SITREP_TEST_DATABASE_URL) with a few
// changes logged for db, and writes sitrep.yaml. No process runs yet.
func newWorld(t *testing.T, dialect string, opts worldOptions) *world {
	t.Helper()
	skipShort(t)
	lag := time.Duration(0)
	if opts.exactCalls {
		lag = -1
	}
	sim := slacksim.New(slacksim.Options{CreateLag: lag})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser(slacksim.User{ID: alice, Name: "alice", RealName: "Alice Liddell"})
	sim.AddUser(slacksim.User{ID: bob, Name: "bob", RealName: "Bob Dobbs"})
	w := &world{t: t, dialect: dialect, sim: sim, dir: t.TempDir()}
	w.general = sim.AddChannel("general", alice, bob)
	// The announcement channel exists and sitrep is in it, so every open
	// makes the same calls whatever came before.
	w.incidents = sim.AddChannel("incidents", alice)

	var testURL string
	switch dialect {
	case sqliteDialect:
		testURL = "sqlite:" + filepath.Join(w.dir, "sitrep.db")
	case postgresDialect:
		testURL = pgtest.URL(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	binURL := testURL
	if opts.proxied != nil {
		binURL = opts.proxied(testURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := storage.Open(ctx, testURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w.store = store
	w.db = openRaw(t, testURL)

	// Changes to db in the day before, so "what changed" lists them. They
	// are stored without the job that posts a change in the rooms of
	// incidents open on its systems: they happened before any incident.
	now := time.Now().UTC()
	if _, err := store.LogChanges(ctx, []incident.Change{
		{OccurredAt: now.Add(-3 * time.Hour), Systems: []string{"db"}, Person: "ci", Summary: "raised max_connections to 400",
			Kind: incident.KindConfig, Source: incident.SourceAPI, LoggedAt: now},
		{OccurredAt: now.Add(-time.Hour), Systems: []string{"db"}, Person: "ci", Summary: "deployed schema v42",
			Kind: incident.KindDeploy, Source: incident.SourceAPI, LoggedAt: now},
	}, nil); err != nil {
		t.Fatalf("logging changes: %v", err)
	}

	cfgPath := filepath.Join(w.dir, "sitrep.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.dir,
		"TMPDIR=" + os.TempDir(),
		"SLACK_BOT_TOKEN=" + sim.BotToken(),
		"SLACK_APP_TOKEN=" + sim.AppToken(),
		"SLACK_API_URL=" + sim.APIURL(),
		"SITREP_DATABASE_URL=" + binURL,
		"SITREP_HTTP_ADDR=127.0.0.1:0",
		"SITREP_CONFIG=" + cfgPath,
		"SITREP_INSTANCE=" + instanceID,
		"SITREP_LOG_LEVEL=debug",
	}
	t.Cleanup(w.shutdown)
	return w
}

// openRaw opens the database for the test's own queries of the job table.
func openRaw(t *testing.T, dbURL string) *sqlx.DB {
	t.Helper()
	var db *sqlx.DB
	var err error
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		db, err = sqlx.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_time_format=sqlite")
	} else {
		db, err = sqlx.Open("postgres", dbURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	t.Cleanup(func() { db.Close() })
	return db
}

// start runs a new life of `sitrep run` and waits until it holds its
// Socket Mode connections and its start-up calls are over.
func (w *world) start() {
	w.t.Helper()
	if err := w.launch(); err != nil {
		w.t.Fatal(err)
	}
	w.quiet(300 * time.Millisecond)
}

// launch is start for any goroutine, without waiting for quiet: it
// returns what went wrong.
func (w *world) launch() error {
	w.mu.Lock()
	l := &life{n: len(w.lives) + 1, exited: make(chan struct{})}
	l.logPath = filepath.Join(w.dir, fmt.Sprintf("life-%02d.log", l.n))
	f, err := os.Create(l.logPath)
	if err != nil {
		w.mu.Unlock()
		return err
	}
	l.cmd = exec.Command(sitrepBin, "run")
	l.cmd.Dir = w.dir
	l.cmd.Env = w.env
	l.cmd.Stdout, l.cmd.Stderr = f, f
	if err := l.cmd.Start(); err != nil {
		w.mu.Unlock()
		f.Close()
		return fmt.Errorf("starting sitrep: %w", err)
	}
	w.lives = append(w.lives, l)
	w.cur = l
	w.mu.Unlock()
	go func() {
		l.err = l.cmd.Wait()
		f.Close()
		close(l.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = w.sim.Wait(ctx, func() bool {
		select {
		case <-l.exited:
			return true
		default:
		}
		return w.sim.Connections() >= 2
	})
	select {
	case <-l.exited:
		return fmt.Errorf("sitrep (life %d) exited at start: %v\n%s", l.n, l.err, tail(l.logPath, 40))
	default:
	}
	if err != nil {
		return fmt.Errorf("sitrep (life %d) did not connect: %w\n%s", l.n, err, tail(l.logPath, 40))
	}
	return nil
}

// kill ends the running life with SIGKILL, as a crash does, and waits
// until the simulator has seen its connections close.
func (w *world) kill() {
	w.mu.Lock()
	l := w.cur
	w.cur = nil
	w.kills++
	w.mu.Unlock()
	if l == nil {
		return
	}
	_ = l.cmd.Process.Kill()
	<-l.exited
	w.waitNoConnections()
}

// stop ends the running life with SIGTERM (it drains and exits), or
// SIGKILL after 20 s.
func (w *world) stop() {
	w.t.Helper()
	w.mu.Lock()
	l := w.cur
	w.cur = nil
	w.mu.Unlock()
	if l == nil {
		return
	}
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.exited:
	case <-time.After(20 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.exited
		w.t.Errorf("sitrep (life %d) did not stop within 20 s of SIGTERM", l.n)
	}
	w.waitNoConnections()
}

// restart kills the running life, if any, and starts the next.
func (w *world) restart() {
	w.t.Helper()
	w.kill()
	w.start()
}

func (w *world) waitNoConnections() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := w.sim.Wait(ctx, func() bool { return w.sim.Connections() == 0 }); err != nil {
		w.t.Errorf("the simulator still holds connections of a dead sitrep: %v", err)
	}
}

// shutdown stops the last life; if the test failed it keeps the logs of
// every life and says where, with the end of the last one.
func (w *world) shutdown() {
	w.mu.Lock()
	l := w.cur
	w.cur = nil
	lives := w.lives
	w.mu.Unlock()
	if l != nil {
		_ = l.cmd.Process.Kill()
		<-l.exited
	}
	if !w.t.Failed() || len(lives) == 0 {
		return
	}
	keep, err := os.MkdirTemp("", "sitrep-crash-logs-")
	if err != nil {
		return
	}
	for _, l := range lives {
		if data, err := os.ReadFile(l.logPath); err == nil {
			_ = os.WriteFile(filepath.Join(keep, filepath.Base(l.logPath)), data, 0o600)
		}
	}
	last := lives[len(lives)-1]
	w.t.Logf("logs of %d lives of sitrep kept in %s; the last one ends:\n%s", len(lives), keep, tail(last.logPath, 30))
}

// quiet waits until no Slack call is in flight and none arrived for d.
func (w *world) quiet(d time.Duration) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		log := w.sim.CallLog()
		busy := false
		var last time.Time
		for _, c := range log {
			if c.Method == "apps.connections.open" {
				continue
			}
			if c.Status == 0 && !c.Dropped {
				busy = true
			}
			if c.At.After(last) {
				last = c.At
			}
		}
		if !busy && time.Since(last) >= d {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slash types command text as user in channel and reports whether sitrep
// acknowledged it. It gives up after ctxTimeout, as Slack does when no app
// connection takes the command.
func (w *world) slash(user, channel, command, text string, ctxTimeout time.Duration) (*slacksim.Delivery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctxTimeout)
	defer cancel()
	d, err := w.sim.SlashCommand(ctx, user, channel, command, text)
	if err == nil && (d == nil || !d.Acked) {
		err = errors.New("not acknowledged")
	}
	return d, err
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// withHost returns dbURL with its host and port replaced by hostport.
func withHost(dbURL, hostport string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	u.Host = hostport
	return u.String()
}

// eventually polls cond every 50 ms until it is true or within passes.
func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
