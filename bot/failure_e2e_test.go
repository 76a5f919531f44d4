package bot_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
)

// faultProxy forwards TCP connections to a database until it is cut: then
// it refuses new connections and drops the open ones, as a database that
// went away does.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(p.cut)
	return p
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut stops forwarding: connections are refused from now on.
func (p *faultProxy) cut() {
	p.ln.Close()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// brokenSQLite is a migrated SQLite store, closed.
func brokenSQLite(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return s
}

// brokenPostgres is a migrated PostgreSQL store reached through a proxy
// that is then cut: its queries fail with connection refused.
func brokenPostgres(t *testing.T) *storage.Store {
	t.Helper()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	s, err := storage.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.cut()
	if _, err := s.ListIncidents(context.Background(), 1); err == nil {
		t.Fatal("the store answers through a cut proxy")
	}
	return s
}

// internalText matches what must never reach Slack: drivers' and Go's
// words, addresses.
var internalText = regexp.MustCompile(`(?i)dial tcp|sql:|database is closed|pq:|sqlite|connection refused|bad connection|unexpected eof|\d+\.\d+\.\d+\.\d+:\d+|context deadline|\(\*`)

// TestNoInternalErrorReachesSlack breaks the database under the domain
// services (the inbox and rooms stay up, so commands get past their
// recording) and checks what people are told: that sitrep's database is
// unavailable, never the driver's words.
func TestNoInternalErrorReachesSlack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		broken func(*testing.T) *storage.Store
	}{
		{"sqlite closed", brokenSQLite},
		{"postgres refused", brokenPostgres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broken := tc.broken(t)
			h := newHarness(t)
			h.slash(alice, h.general, "/incident", "open Checkout fails sev2")
			room := h.room(1).ChannelID
			header := h.sim.Messages(room)[0]
			h.cfg.domainStore = broken
			h.restart()

			for _, a := range []struct {
				name string
				do   func()
			}{
				{"/incident status in the room", func() { h.slash(alice, room, "/incident", "status identified found it") }},
				{"/incident timeline", func() { h.slash(alice, room, "/incident", "timeline") }},
				{"/incident list", func() { h.slash(alice, h.general, "/incident", "list") }},
				{"/incident open", func() { h.slash(alice, h.general, "/incident", "open Payments down sev1") }},
				{"/change", func() { h.slash(alice, h.general, "/change", "web: deployed v2") }},
				{"/change list", func() { h.slash(alice, h.general, "/change", "list") }},
				{"/checklist status", func() { h.slash(alice, h.general, "/checklist", "status") }},
				{"/postmortem actions", func() { h.slash(alice, h.general, "/postmortem", "actions") }},
				{"header button", func() {
					if _, err := h.sim.Click(h.ctx, alice, room, header.TS, "incident_update_status", ""); err != nil {
						t.Fatal(err)
					}
					h.idle()
				}},
			} {
				before := len(h.ephemeralTexts(alice))
				a.do()
				told := h.ephemeralTexts(alice)[before:]
				if len(told) == 0 {
					t.Errorf("%s: alice was told nothing", a.name)
					continue
				}
				for _, text := range told {
					if bad := internalText.FindString(text); bad != "" {
						t.Errorf("%s: alice was told %q, which shows %q", a.name, text, bad)
					}
					if !strings.Contains(text, "sitrep could not") || !strings.Contains(text, "its database is unavailable") {
						t.Errorf("%s: alice was told %q, want that sitrep's database is unavailable", a.name, text)
					}
				}
			}
			if n := h.incidentCount(); n != 1 {
				t.Errorf("%d incidents in the store, want the one opened before the outage", n)
			}
			if bad := internalText.FindString(h.allText()); bad != "" {
				t.Errorf("the workspace shows %q", bad)
			}
		})
	}
}
